"""Throughput of `grade batch` against `nbgrader autograde` on the same notebooks.

    python benchmarks/batch_throughput.py [--count 300] [--nbgrader-sample 30] [-j N]

Builds a minimal nbgrader course in a temporary directory: a source notebook for
the softmax exercise (a solution cell for the imports and one per function, then
one nbgrader test cell per task with simple asserts), released with
`nbgrader generate_assignment`. COUNT student notebooks are made from the released
one by filling its solution cells with the reference solution or one of the
mutants in tests/submissions/softmax (mixed, seeded), half with one cell per
function and half with the whole file in the first cell.

`grade batch` grades all COUNT (wall clock of the command, start-up included).
nbgrader takes about a second per notebook, so by default it autogrades an evenly
spaced sample of NBGRADER_SAMPLE of the same notebooks and its throughput is
extrapolated from that sample (said so in the output). The mutant that loops
forever (dw_timeout) is left out: it would measure the two tools' timeouts, not
their throughput.
"""

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "tests" / "submissions" / "softmax"
TASKS = ("forward", "dZ", "dW", "db")
HANGS = {"dw_timeout", "top_level_sweep"}  # they measure the timeouts, not throughput
ASSIGNMENT = "ps1"

TESTS = {
    "forward": "P = forward(np.ones((2, 3)), np.ones((3, 4)), np.zeros((1, 4)))\n"
    "assert P.shape == (2, 4) and np.allclose(P.sum(axis=1), 1)",
    "dZ": "G = dZ(np.full((2, 3), 1 / 3), np.array([0, 2]))\n"
    "assert G.shape == (2, 3) and np.allclose(G.sum(axis=1), 0)",
    "dW": "assert dW(np.ones((2, 3)), np.ones((2, 4))).shape == (3, 4)",
    "db": "assert db(np.ones((2, 4))).shape == (1, 4)",
}


def solution_code():
    lines = (ROOT / "solutions" / "softmax.py").read_text().split("\n")
    return "\n".join(line for line in lines if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def split_cells(code):
    """{"imports": ..., "forward": ..., ...}: each task function's source in its own cell.

    Other top-level statements stay with the cell they follow (the imports cell first).
    """
    lines = code.split("\n")
    cells = {name: [] for name in ("imports",) + TASKS}
    current = "imports"
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef) and node.name in TASKS:
            current = node.name
        start = (node.decorator_list[0].lineno if getattr(node, "decorator_list", None) else node.lineno) - 1
        cells[current].extend(lines[start : node.end_lineno])
    return {name: "\n".join(body) if body else f"# {name}: not written" for name, body in cells.items()}


def source_notebook():
    """The instructor's notebook, with nbgrader metadata on every solution and test cell."""
    solution = split_cells(solution_code())
    cells = [nbformat.v4.new_markdown_cell("# Softmax classifier\nWrite forward, dZ, dW and db.")]
    for name in ("imports",) + TASKS:
        body = solution[name]
        if name != "imports":  # keep the def line, hide the body
            head, _, rest = body.partition("\n")
            body = f"{head}\n    ### BEGIN SOLUTION\n{rest}\n    ### END SOLUTION"
        cells.append(_cell(body, f"solution_{name}", solution=True))
    for name in TASKS:
        cells.append(_cell("import numpy as np\n" + TESTS[name], f"test_{name}", grade=True, points=1))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _cell(source, grade_id, solution=False, grade=False, points=0):
    cell = nbformat.v4.new_code_cell(source)
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": not solution, "schema_version": 3}
    if grade:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    return cell


def student_notebook(released, code, one_cell):
    """The released notebook with its solution cells filled in by a student's code."""
    notebook = nbformat.from_dict(json.loads(json.dumps(released)))
    pieces = split_cells(code)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if not grade_id.startswith("solution_"):
            continue
        name = grade_id[len("solution_") :]
        if one_cell:
            cell.source = code if name == "imports" else f"# {name}: written in the first cell"
        else:
            cell.source = pieces[name]
    return notebook


def choose_sources(count, seed=0):
    """(label, code) per student: about a third correct, the rest spread over the mutants."""
    mutants = sorted(path for path in MUTANTS.glob("*.py") if path.stem not in HANGS)
    pool = [("solution", solution_code())] * (len(mutants) // 2) + [(path.stem, path.read_text()) for path in mutants]
    rng = random.Random(seed)
    return [rng.choice(pool) for _ in range(count)]


def run(command, cwd, quiet=True):
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=quiet, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, command))}\n{done.stderr[-2000:] if quiet else ''}")
    return seconds, done


def make_course(path):
    (path / "source" / ASSIGNMENT).mkdir(parents=True)
    (path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(path)!r}\n"
        "c.CourseDirectory.course_id = 'bench'\n"
        "c.ExecutePreprocessor.timeout = 30\n"
    )
    nbformat.write(source_notebook(), path / "source" / ASSIGNMENT / "softmax.ipynb")
    run(["nbgrader", "generate_assignment", ASSIGNMENT, "--force"], cwd=path)
    return nbformat.read(path / "release" / ASSIGNMENT / "softmax.ipynb", as_version=4)


def write_submissions(course, released, sources, indices):
    for index in indices:
        label, code = sources[index]
        folder = course / "submitted" / f"student{index:03}" / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(student_notebook(released, code, one_cell=index % 2 == 1), folder / "softmax.ipynb")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument(
        "--nbgrader-sample",
        type=int,
        default=30,
        help="notebooks nbgrader autogrades (its rate is extrapolated); 0 = all",
    )
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--keep", action="store_true", help="keep the temporary course directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="grade-bench-"))
    try:
        course = work / "nbgrader-course"
        released = make_course(course)
        sources = choose_sources(args.count)
        mix = {}
        for label, _ in sources:
            mix[label] = mix.get(label, 0) + 1
        print(
            f"{args.count} notebooks: {mix.get('solution', 0)} correct, {args.count - mix.get('solution', 0)} "
            f"from {len(mix) - 1} mutants; half one cell per function, half one cell in all"
        )

        batch_course = work / "batch-course"
        write_submissions(batch_course, released, sources, range(args.count))
        seconds, done = run(
            ["grade", "batch", batch_course, "-e", "softmax", "--out", work / "grades", "-j", str(args.jobs)], cwd=work
        )
        batch_rate = args.count / seconds
        print(f"grade batch -j {args.jobs}: {args.count} notebooks in {seconds:.2f} s = {batch_rate:.1f} notebooks/s")
        print("  " + done.stdout.strip().splitlines()[-1])

        sample = args.nbgrader_sample or args.count
        indices = sorted({round(i * args.count / sample) for i in range(sample)} - {args.count})
        write_submissions(course, released, sources, indices)
        seconds, _ = run(["nbgrader", "autograde", ASSIGNMENT, "--force"], cwd=course)
        nb_rate = len(indices) / seconds
        extrapolated = (
            ""
            if len(indices) == args.count
            else f" (a sample of {len(indices)}; {args.count} would take about {args.count / nb_rate:.0f} s)"
        )
        print(
            f"nbgrader autograde: {len(indices)} notebooks in {seconds:.2f} s = {nb_rate:.2f} notebooks/s{extrapolated}"
        )
        print(f"ratio: grade batch is {batch_rate / nb_rate:.0f}x nbgrader's throughput (target >= 50x)")
        # Other work on the machine slows both tools: say how busy it was.
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
