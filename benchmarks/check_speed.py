"""How long `grade check` takes on the reference solution, against bare Python + numpy.

Target: a full softmax check costs at most 1.5 times `python -c "import numpy"`. Not met:
about 1.7 to 1.9 times with the jail (1.7 before it; 2.0 to 2.1 before `grade check`
skipped the interpreter's teardown). The grader's own imports (click, its modules,
numpy, the exercise; the third line below) already take about 1.45 times `import
numpy` before anything is graded; the fork server imports numpy on the other
core meanwhile, and the jail (about 10 ms) and the grading (15-20 ms) come after. Run by hand:

    python benchmarks/check_speed.py [runs]
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# As an installed wheel runs: with .pyc files. Under PYTHONDONTWRITEBYTECODE an editable install
# compiles every grader module on every run (about 30 ms), while numpy's wheel came compiled.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def median_seconds(commands, runs):
    """Median wall time of each command, run interleaved so that a busy moment hits all alike."""
    times = [[] for _ in commands]
    for command in commands:  # once first: writes the .pyc files
        subprocess.run(command, check=False, capture_output=True, env=ENV)
    for _ in range(runs):
        for command, taken in zip(commands, times):
            start = time.perf_counter()
            subprocess.run(command, check=False, capture_output=True, env=ENV)
            taken.append(time.perf_counter() - start)
    return [statistics.median(taken) for taken in times]


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    grade = shutil.which("grade") or sys.exit("install the project first: pip install -e .")
    imports = "import grader.cli, numpy; from grader.checking import grading; from grader import exercises;"
    numpy_start, check, stub, grader_imports = median_seconds(
        [
            [sys.executable, "-c", "import numpy"],
            [grade, "check", str(ROOT / "solutions" / "softmax.py")],
            [grade, "check", str(ROOT / "exercises" / "softmax.py")],
            [sys.executable, "-c", imports + "exercises.load('softmax')"],
        ],
        runs,
    )
    print(f"python -c 'import numpy'             {numpy_start * 1000:7.0f} ms (median of {runs})")
    print(f"grade check solutions/softmax.py     {check * 1000:7.0f} ms  ({check / numpy_start:.2f}x)")
    print(f"grade check exercises/softmax.py     {stub * 1000:7.0f} ms  ({stub / numpy_start:.2f}x)")
    ratio = grader_imports / numpy_start
    print(f"the grader's imports, nothing graded {grader_imports * 1000:7.0f} ms  ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
