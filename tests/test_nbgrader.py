"""The nbgrader integration, end to end with the real nbgrader.

A course in a temp dir: `grade nbgrader-source`, `nbgrader generate_assignment`,
submissions from several students, `nbgrader autograde` with grader.integrations.nbgrader.GradeTasks
configured; the gradebook must hold the scores `grade check --json` gives for the same
notebooks, and a student who patches numpy and the grader gains nothing. A second
course runs nbgrader's own Execute on the same test cells, where the tamperer wins
(the two preprocessors' timings: benchmarks/nbgrader_execute.py).
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
from browser import BROWSER_WIDTH  # a small laptop's window; nbgrader's page is Bootstrap's 970 px container there
from browser import browse as _browse
from browser import chromium as _chromium
from conftest import ROOT, run_json

pytestmark = pytest.mark.slow  # a real nbgrader course: about a minute
pytest.importorskip("nbgrader")
pytest.importorskip("ipykernel")

from grader.stubs import strip_markers  # noqa: E402

TASK_TIMEOUT = 1.0  # seconds per task, for the student who loops forever (GradeTasks and grade check alike)
TASKS = ("forward", "dZ", "dW", "db")

TAMPER = """\
import sys, types
import numpy as np
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
fake = types.ModuleType("grader.notebook")
fake.feedback = lambda *a, **k: 1.0
sys.modules["grader.notebook"] = fake
try:
    import grader.checking.grading
    grader.checking.grading.grade_task = lambda *a, **k: None
except Exception:
    pass
sys.modules["grader"] = types.ModuleType("grader")
sys.modules["grader"].notebook = fake
sys.modules["grader"].feedback = fake.feedback

def dZ(P, y):
    return np.zeros_like(P)
"""

# student -> {task: (text in the correct solution, its replacement)}, applied to the solution cells.
BUGS = {
    "correct": {},
    "bug_forward": {"forward": ("    Z = Z - Z.max(axis=1, keepdims=True)\n", "")},
    "bug_dZ": {"dZ": ("return G / m", "return G")},
    "bug_dW": {"dW": ("return X.T @ dZ", "return (X.T @ dZ).T")},
    "bug_db": {"db": ("keepdims=True", "keepdims=False")},
    "loops": {"dW": ("return X.T @ dZ", "while True:\n        pass")},
    "killer": {
        "db": ("return np.sum", "import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n    return np.sum")
    },
}
# What each student must score per task (forward, dZ, dW, db), whatever else agrees.
EXPECTED = {
    "correct": (1, 1, 1, 1),
    "bug_forward": (0, 1, 1, 1),
    "bug_dZ": (1, 0, 1, 1),
    "bug_dW": (1, 1, 0, 1),
    "bug_db": (1, 1, 1, 0),
    "loops": (1, 1, 0, 1),
    "killer": (1, 1, 1, 0),
    "blank": (0, 0, 0, 0),
    "not_json": (0, 0, 0, 0),
    "tamperer": (1, 0, 0, 0),
    "deleted_test_cell": (1, 1, 1, 1),
    "experiment": (1, 1, 1, 1),
}
# The experiment a student left in a last cell: it outlasts the load limit, and is not run.
EXPERIMENT = "import time\n\nfor lr in (0.01, 0.1, 1.0):\n    time.sleep(3600)\n"


def _env(base):
    """Jupyter's config, data (kernelspecs) and runtime dirs inside the test's temp dir."""
    env = dict(os.environ)
    for name in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR"):
        env[name] = str(base / name.lower())
    env.pop("JUPYTER_PATH", None)
    return env


def _run(args, cwd, env, ok=True):
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=150)
    if ok:
        assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


def _nbgrader(*args, cwd, env, ok=True):
    return _run([sys.executable, "-m", "nbgrader", *args], cwd, env, ok)


def _cells(notebook):
    return {cell["metadata"].get("nbgrader", {}).get("grade_id"): cell for cell in notebook["cells"]}


def _student_notebooks(course):
    """name -> notebook text, made from the released notebook as each student would edit it."""
    source = json.loads((course / "source" / "softmax" / "softmax.ipynb").read_text())
    released = (course / "release" / "softmax" / "softmax.ipynb").read_text()
    answers = {task: strip_markers("".join(_cells(source)[f"solution_{task}"]["source"])) for task in TASKS}
    notebooks = {"blank": released, "not_json": '{"cells": [\n'}
    for student, bugs in BUGS.items():
        notebook = json.loads(released)
        for task in TASKS:
            code = answers[task]
            if task in bugs:
                old, new = bugs[task]
                assert old in code, f"{student}: the solution of {task} changed, update BUGS"
                code = code.replace(old, new)
            _cells(notebook)[f"solution_{task}"]["source"] = code
        notebooks[student] = json.dumps(notebook)
    tamperer = json.loads(released)
    _cells(tamperer)["solution_forward"]["source"] = answers["forward"]
    _cells(tamperer)["solution_dZ"]["source"] = TAMPER
    _cells(tamperer)["solution_dW"]["source"] = "def dW(X, dZ):\n    return np.zeros((X.shape[1], dZ.shape[1]))"
    _cells(tamperer)["solution_db"]["source"] = "def db(dZ):\n    return np.zeros((1, dZ.shape[1]))"
    notebooks["tamperer"] = json.dumps(tamperer)
    deleted = json.loads(notebooks["correct"])
    deleted["cells"] = [cell for cell in deleted["cells"] if cell is not _cells(deleted)["test_db"]]
    notebooks["deleted_test_cell"] = json.dumps(deleted)
    experiment = json.loads(notebooks["correct"])
    experiment["cells"].append(
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "experiment",
            "metadata": {},
            "outputs": [],
            "source": EXPERIMENT,
        }
    )
    notebooks["experiment"] = json.dumps(experiment)
    return notebooks


def _submit(course, notebooks):
    for student, text in notebooks.items():
        folder = course / "submitted" / student / "softmax"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "softmax.ipynb").write_text(text)


def _gradebook_scores(course, students):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {}
        for student in students:
            notebook = gradebook.find_submission_notebook("softmax", "softmax", student)
            scores[student] = {grade.name.removeprefix("test_"): grade.score for grade in notebook.grades}
        return scores


def _autograde(course, env):
    return _nbgrader("autograde", "softmax", "--force", cwd=course, env=env, ok=False)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course after generate_assignment and one autograde with GradeTasks: (dir, env, result, pristine copy)."""
    base = tmp_path_factory.mktemp("nbgrader")
    env = _env(base)
    course = base / "course"
    made = _run(
        [sys.executable, "-m", "grader", "nbgrader-source", course, "--exercise", "softmax", "--root", ROOT], base, env
    )
    assert "softmax.ipynb" in made.stdout
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"c.GradeTasks.timeout = {TASK_TIMEOUT}\n")
    _nbgrader("generate_assignment", "softmax", cwd=course, env=env)
    pristine = base / "pristine"
    shutil.copytree(course, pristine)
    notebooks = _student_notebooks(course)
    _submit(course, notebooks)
    result = _autograde(course, env)
    return {"dir": course, "env": env, "result": result, "pristine": pristine, "notebooks": notebooks}


def test_source_notebook_has_valid_cells(course):
    from nbgrader.nbgraderformat import MetadataValidator

    source = json.loads((course["pristine"] / "source" / "softmax" / "softmax.ipynb").read_text())
    MetadataValidator().validate_nb(__import__("nbformat").from_dict(source))
    cells = _cells(source)
    assert cells["setup"]["metadata"]["nbgrader"]["locked"]
    for task in TASKS:
        answer = "".join(cells[f"solution_{task}"]["source"])
        assert "### BEGIN SOLUTION" in answer and "### END SOLUTION" in answer
        test = cells[f"test_{task}"]["metadata"]["nbgrader"]
        assert test == {
            "grade": True,
            "grade_id": f"test_{task}",
            "locked": True,
            "points": 1,
            "schema_version": 3,
            "solution": False,
            "task": False,
        }
    released = json.loads((course["pristine"] / "release" / "softmax" / "softmax.ipynb").read_text())
    assert "NotImplementedError" in "".join(_cells(released)["solution_db"]["source"])


def test_gradebook_equals_grade_check(course):
    # nbgrader itself cannot read the student whose file is not JSON: it logs an error
    # (exit 1) and leaves that submission's grades empty, which the gradebook counts as 0.
    assert "not_json" in course["result"].stdout + course["result"].stderr
    students = list(course["notebooks"])
    scores = _gradebook_scores(course["dir"], students)
    for student in students:
        path = course["dir"] / "submitted" / student / "softmax" / "softmax.ipynb"
        result, report = run_json("check", path, "--timeout", TASK_TIMEOUT)
        checked = {task["name"]: task["score"] for task in report["tasks"]}
        assert result.returncode == (0 if sum(EXPECTED[student]) == len(TASKS) else 1)
        assert checked == {task: score for task, score in zip(TASKS, EXPECTED[student])}, student
        assert {task: scores[student][task] or 0 for task in TASKS} == checked, student


def test_tamperer_gains_nothing(course):
    scores = _gradebook_scores(course["dir"], ["tamperer"])["tamperer"]
    assert scores == {"forward": 1.0, "dZ": 0.0, "dW": 0.0, "db": 0.0}


def test_test_cells_hold_feedback_and_points(course):
    graded = json.loads((course["dir"] / "autograded" / "bug_db" / "softmax" / "softmax.ipynb").read_text())
    cells = _cells(graded)
    db_outputs = cells["test_db"]["outputs"]
    assert [o["output_type"] for o in db_outputs] == ["stream", "execute_result"]
    assert db_outputs[0]["name"] == "stdout" and "missing_keepdims" in "".join(db_outputs[0]["text"])
    assert "".join(db_outputs[1]["data"]["text/plain"]) == "0.0"
    assert "".join(cells["test_dW"]["outputs"][1]["data"]["text/plain"]) == "1.0"
    loops = json.loads((course["dir"] / "autograded" / "loops" / "softmax" / "softmax.ipynb").read_text())
    assert "did not return within 1 s" in "".join(_cells(loops)["test_dW"]["outputs"][0]["text"])


@pytest.fixture(scope="module")
def feedback(course):
    """nbgrader generate_feedback run once: the course's feedback/ directory."""
    _nbgrader("generate_feedback", "softmax", "--force", cwd=course["dir"], env=course["env"])
    return course["dir"] / "feedback"


def test_a_cell_the_grader_did_not_run_says_so_in_the_graded_notebook(course):
    graded = json.loads((course["dir"] / "autograded" / "experiment" / "softmax" / "softmax.ipynb").read_text())
    last = graded["cells"][-1]
    assert "".join(last["source"]) == EXPERIMENT
    said = "".join("".join(output.get("text", "")) for output in last["outputs"])
    assert said.startswith(
        f"The grader did not run lines 3-4 of this cell: the file did not finish running within {TASK_TIMEOUT:g} s"
    )


def test_feedback_files_and_export(course, feedback):
    course_dir, env = course["dir"], course["env"]
    html = (feedback / "bug_db" / "softmax" / "softmax.html").read_text()
    assert "missing_keepdims" in html and "np.sum(dZ, axis=0, keepdims=True)" in html
    _nbgrader("export", cwd=course_dir, env=env)
    rows = (course_dir / "grades.csv").read_text().splitlines()
    header = rows[0].split(",")
    by_student = {row.split(",")[header.index("student_id")]: row.split(",") for row in rows[1:]}
    assert float(by_student["correct"][header.index("score")]) == 4.0
    assert float(by_student["tamperer"][header.index("score")]) == 1.0


def test_under_execute_honest_students_score_alike_but_a_tamperer_gets_full_marks(course):
    """nbgrader's own Execute on the generated test cells, in a kernel (timings: benchmarks/nbgrader_execute.py)."""
    base = course["pristine"].parent
    plain = base / "plain"
    shutil.copytree(course["pristine"], plain)
    env = course["env"]
    _run([sys.executable, "-m", "ipykernel", "install", "--user", "--name", "python3"], base, env)
    students = {name: course["notebooks"][name] for name in ("correct", "bug_db", "tamperer")}
    _submit(plain, students)
    (plain / "nbgrader_config.py").write_text("c = get_config()\n")
    result = _autograde(plain, env)
    assert result.returncode == 0, result.stderr[-4000:]
    executed = _gradebook_scores(plain, students)
    # The test cells work in the student's kernel: the honest students get the same scores...
    assert executed["correct"] == {"forward": 1.0, "dZ": 1.0, "dW": 1.0, "db": 1.0}
    assert executed["bug_db"] == {"forward": 1.0, "dZ": 1.0, "dW": 1.0, "db": 0.0}
    # ... and a solution cell can patch them: three wrong tasks, full marks (1/4 with GradeTasks).
    assert executed["tamperer"] == {"forward": 1.0, "dZ": 1.0, "dW": 1.0, "db": 1.0}


# The jail of nbgrader's process cannot start, as on a Python whose standard library it cannot read.
JAIL_CANNOT_START = """
from grader.sandbox import linux
from grader.sandbox.errors import JailError


def _cannot_start(*args, **kwargs):
    raise JailError("the sandbox could not lock itself down: ModuleNotFoundError: No module named 'mmap'")


linux.LinuxSandbox._start = _cannot_start
"""


def test_a_jail_that_cannot_start_fails_the_autograde_run_with_the_one_line_and_scores_no_one(course):
    """Trusted submissions fail alike (test_doctor, in process): here nbgrader's own handling of the failure."""
    base = course["pristine"].parent
    broken = base / "broken_jail"
    shutil.copytree(course["pristine"], broken)
    students = {name: course["notebooks"][name] for name in ("correct", "bug_db")}
    _submit(broken, students)
    with open(broken / "nbgrader_config.py", "a") as config:
        config.write(JAIL_CANNOT_START)
    result = _autograde(broken, course["env"])
    log = result.stdout + result.stderr
    assert result.returncode != 0, log[-4000:]
    said = [line for line in log.splitlines() if "GradeTasks: the sandbox cannot start with this Python (" in line]
    assert said and "No module named 'mmap'" in said[0] and "Run `grade doctor`" in said[0], log[-4000:]
    for student in students:
        assert f"There was an error processing assignment 'softmax' for student '{student}'" in log
        assert not (broken / "autograded" / student / "softmax" / "softmax.ipynb").exists()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{broken / 'gradebook.db'}") as gradebook:
        for student in students:
            grades = gradebook.find_submission_notebook("softmax", "softmax", student).grades
            assert [grade.auto_score for grade in grades] == [None] * len(TASKS), student  # never scored 0
    assert log.count("No module named 'mmap'") == len(said)  # the one line only, no other trace of the cause


# -- the feedback HTML in a real browser ---------------------------------------------------
# Run in the page after it is laid out: every <pre> whose text is wider than its box (a line cut off at the
# right edge, behind a sideways scroll bar), and whether the page itself scrolls sideways.
MEASURE = """<script>
(() => {
  const root = document.documentElement;
  const pres = [...document.querySelectorAll("pre")];
  const wide = pres.filter(pre => pre.scrollWidth > pre.clientWidth)
    .map(pre => pre.textContent.trim().split("\\n")[0].slice(0, 60));
  document.body.setAttribute("data-measured", JSON.stringify(
    {pres: pres.length, wide: wide, page_fits: root.scrollWidth <= root.clientWidth}));
})();
</script>"""


def _measured(chromium, html, page):
    """What MEASURE found in `html`, opened from `page` in headless Chromium."""
    import html as markup
    import re

    page.write_text(html.replace("</body>", MEASURE + "</body>"))
    dom = _browse(chromium, page, "--dump-dom")
    found = re.search(r'data-measured="([^"]*)"', dom)
    assert found, dom[-2000:]
    return json.loads(markup.unescape(found.group(1)))


@pytest.mark.parametrize("student", ["bug_db", "loops", "tamperer"])
def test_no_feedback_line_is_wider_than_the_page_in_a_browser(feedback, student, tmp_path):
    chromium = _chromium()
    html = (feedback / student / "softmax" / "softmax.html").read_text()
    measured = _measured(chromium, html, tmp_path / "feedback.html")
    assert measured["pres"] >= 8  # the code cells and every test cell's output
    assert measured["wide"] == [] and measured["page_fits"], measured
    # The same check sees a line that is too wide: a feedback line of 140 columns, unwrapped.
    long_line = "        hint: " + "keepdims=True " * 9
    control = html.replace("<pre>", f"<pre>{long_line}\n", 1)
    assert _measured(chromium, control, tmp_path / "control.html")["wide"] == [long_line.strip()[:60]]


def test_a_screenshot_of_the_feedback_shows_the_whole_hint(feedback, tmp_path):
    chromium = _chromium()
    page = tmp_path / "feedback.html"
    shutil.copy(feedback / "bug_db" / "softmax" / "softmax.html", page)
    picture = tmp_path / "feedback.png"
    _browse(chromium, page, f"--screenshot={picture}")
    data = picture.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (BROWSER_WIDTH, 900)
