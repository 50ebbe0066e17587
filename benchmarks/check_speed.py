"""How long `grade check` takes on the reference solution, against bare Python + numpy.

Target: a full softmax check costs at most about twice `python -c "import numpy"`,
i.e. grading itself is cheaper than starting the interpreter. Run by hand:

    python benchmarks/check_speed.py [runs]
"""

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(command, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    grade = shutil.which("grade") or sys.exit("install the project first: pip install -e .")
    numpy_start = median_seconds([sys.executable, "-c", "import numpy"], runs)
    check = median_seconds([grade, "check", str(ROOT / "solutions" / "softmax.py")], runs)
    stub = median_seconds([grade, "check", str(ROOT / "exercises" / "softmax.py")], runs)
    print(f"python -c 'import numpy'             {numpy_start * 1000:7.0f} ms (median of {runs})")
    print(f"grade check solutions/softmax.py     {check * 1000:7.0f} ms  ({check / numpy_start:.2f}x)")
    print(f"grade check exercises/softmax.py     {stub * 1000:7.0f} ms  ({stub / numpy_start:.2f}x)")


if __name__ == "__main__":
    main()
