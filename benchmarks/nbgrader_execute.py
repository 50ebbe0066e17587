"""Seconds per notebook of `nbgrader autograde` with nbgrader's Execute against grader's GradeTasks.

    python benchmarks/nbgrader_execute.py [--students 3]

Builds a course in a temporary directory (`grade nbgrader-source`, `nbgrader
generate_assignment`), submits the reference solution, the solution with db's
keepdims dropped, and a notebook that patches numpy and the grader (the tamperer of
tests/test_nbgrader.py), repeated up to STUDENTS notebooks. Then autogrades them
twice: with nbgrader's default preprocessors (Execute runs every cell in a python3
kernel), and with the config `grade nbgrader-source` writes (GradeTasks grades in
the sandbox). Prints seconds per notebook with nbgrader's start-up (about 2 s per
command) and without it (from the log's timestamps), and the tamperer's score under
each. Needs the nbgrader extra: pip install -e ".[nbgrader]".
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASKS = ("forward", "dZ", "dW", "db")
LOG_FORMAT = "%(created).3f %(message)s"  # a timestamp on each log line
TAMPER = """\
import sys, types
import numpy as np
fake = types.ModuleType("grader")
fake.feedback = lambda *a, **k: 1.0
sys.modules["grader"] = fake

def dZ(P, y):
    return np.zeros_like(P)
"""


def run(args, cwd, env):
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, args))}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


def cells_by_id(notebook):
    return {cell["metadata"].get("nbgrader", {}).get("grade_id"): cell for cell in notebook["cells"]}


def student_notebooks(course, count):
    from grader.stubs import strip_markers

    source = cells_by_id(json.loads((course / "source" / "softmax" / "softmax.ipynb").read_text()))
    released = (course / "release" / "softmax" / "softmax.ipynb").read_text()
    answers = {task: strip_markers("".join(source[f"solution_{task}"]["source"])) for task in TASKS}
    kinds = {
        "correct": answers,
        "bug_db": {**answers, "db": answers["db"].replace("keepdims=True", "keepdims=False")},
        "tamperer": {**answers, "dZ": TAMPER, "dW": "def dW(X, dZ):\n    return 0", "db": "def db(dZ):\n    return 0"},
    }
    notebooks = {}
    for index in range(count):
        kind = list(kinds)[index % len(kinds)]
        notebook = json.loads(released)
        for task, code in kinds[kind].items():
            cells_by_id(notebook)[f"solution_{task}"]["source"] = code
        notebooks[f"{kind}{index // len(kinds)}"] = json.dumps(notebook)
    return notebooks


def seconds_per_notebook(log):
    """From the autograde log: each student's span, "Creating/updating student" to its last
    "Setting destination file permissions", without the app's start-up."""
    spans, current = {}, None
    for line in log.splitlines():
        stamp, _, message = line.partition(" ")
        if not stamp.replace(".", "").isdigit():
            continue
        if message.startswith("Creating/updating student with ID"):
            current = message.split("'")[1]
            spans[current] = [float(stamp), None]
        elif current and message.startswith("Setting destination file permissions"):
            spans[current][1] = float(stamp)
    done = [end - begin for begin, end in spans.values() if end is not None]
    return sum(done) / len(done)


def autograde(course, env, students):
    start = time.perf_counter()
    done = run(
        [sys.executable, "-m", "nbgrader", "autograde", "softmax", "--force", f"--Application.log_format={LOG_FORMAT}"],
        course,
        env,
    )
    return (time.perf_counter() - start) / len(students), seconds_per_notebook(done.stdout + done.stderr)


def tamperer_score(course, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook("softmax", "softmax", student)
        return sum(grade.score or 0 for grade in notebook.grades)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=3)
    args = parser.parse_args()
    from grader.integrations.nbgrader_source import CONFIG_LINES

    base = Path(tempfile.mkdtemp(prefix="grade-nbgrader-bench-"))
    try:
        env = {
            **os.environ,
            **{
                name: str(base / name.lower())
                for name in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR")
            },
        }
        env.pop("JUPYTER_PATH", None)
        course = base / "course"
        run([sys.executable, "-m", "grader", "nbgrader-source", course, "-e", "softmax", "--root", ROOT], base, env)
        run([sys.executable, "-m", "nbgrader", "generate_assignment", "softmax"], course, env)
        run([sys.executable, "-m", "ipykernel", "install", "--user", "--name", "python3"], base, env)
        students = student_notebooks(course, args.students)
        for student, text in students.items():
            folder = course / "submitted" / student / "softmax"
            folder.mkdir(parents=True)
            (folder / "softmax.ipynb").write_text(text)
        print(
            f"nbgrader autograde of {len(students)} softmax notebooks, seconds per notebook "
            f"with nbgrader's start-up (and without it):"
        )
        for label, config in (("Execute (a kernel)", "c = get_config()\n"), ("GradeTasks (the sandbox)", CONFIG_LINES)):
            (course / "nbgrader_config.py").write_text(config)
            with_startup, inside = autograde(course, env, students)
            print(
                f"  {label:26} {with_startup:6.2f} ({inside:.2f});  the tamperer scored "
                f"{tamperer_score(course, 'tamperer0'):g}/4"
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
