"""Exercises from a course directory: the logistic example of docs/writing-exercises.md, end to end.

A temp course holds the spec and the solution printed in docs/writing-exercises.md
(taken from the page as printed), a grade.toml, and submissions: `grade
list`, `grade stubs`, `grade check` of a correct and a buggy file, `grade batch` (local
and, slow, on a Dask cluster whose workers do not see the course), `grade
nbgrader-source` with a real nbgrader autograde (slow), an installed package's entry
point, and the errors a broken course gives.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, run_grade

from grader import report as report_text
from grader.checking.results import TaskResult
from grader.stubs import strip_markers

pytestmark = pytest.mark.slow  # many jails and subprocesses: the full suite runs them

PAGE = (ROOT / "docs" / "writing-exercises.md").read_text()


def readme_block(marker, language="python"):
    """The code block of docs/writing-exercises.md that holds MARKER."""
    blocks = [block.split("```", 1)[0] for block in PAGE.split(f"```{language}\n")[1:]]
    (found,) = [block for block in blocks if marker in block]
    return found


SPEC = readme_block("(specs/logistic.py in a course)")
SOLUTION = readme_block("(solutions/logistic.py in a course)")
CORRECT = strip_markers(SOLUTION)
BUGGY = CORRECT.replace(") / X.shape[0]", ")")  # the 1/m of the mean forgotten
assert BUGGY != CORRECT


def make_course(directory, config="pyproject"):
    """A course directory holding the docs' logistic exercise and two submissions."""
    (directory / "specs").mkdir(parents=True)
    (directory / "solutions").mkdir()
    (directory / "specs" / "logistic.py").write_text(SPEC)
    (directory / "solutions" / "logistic.py").write_text(SOLUTION)
    if config == "pyproject":
        (directory / "pyproject.toml").write_text('[project]\nname = "ml101"\n\n[tool.grade]\nspecs = "specs"\n')
    else:
        (directory / "grade.toml").write_text("# the course directory of ml101\n")
    (directory / "submissions").mkdir()
    (directory / "submissions" / "alice.py").write_text(CORRECT)
    (directory / "submissions" / "bob.py").write_text(BUGGY)
    return directory


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return make_course(tmp_path_factory.mktemp("courses") / "ml101")


def test_list_shows_the_course_exercise_beside_the_built_in_ones(course):
    for where, args in ((course, ()), (course / "submissions", ()), (ROOT, ("--course", course))):
        result = run_grade("list", *args, cwd=where)
        assert result.returncode == 0, result.stderr
        names = [line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
        assert names == ["softmax", "two_layer", "n_layer", "normalization", "conv", "rnn", "logistic"], where
        title = "logistic: Logistic regression: the gradient of the log-loss (2 points)"
        assert f"{title}  [{course / 'specs' / 'logistic.py'}]" in result.stdout
        assert "  grads(X, y, params) -> grads (dict: w, b)  2 points" in result.stdout
    outside = run_grade("list", cwd=course.parent)
    assert "logistic" not in outside.stdout  # no config file here or above: the built-in ones only


def test_a_grade_toml_marks_a_course_too(tmp_path):
    made = make_course(tmp_path / "ml102", config="grade.toml")
    assert "logistic" in run_grade("list", cwd=made / "specs").stdout


def test_stubs_are_written_into_the_course(tmp_path):
    made = make_course(tmp_path / "ml101")
    result = run_grade("stubs", cwd=made)
    assert result.returncode == 0, result.stderr
    stub = (made / "exercises" / "logistic.py").read_text()
    assert 'raise NotImplementedError("grads: replace this line with your code")' in stub
    assert "dJ/dz = (sigmoid(z) - y) / m" in stub and "### BEGIN SOLUTION" not in stub
    assert run_grade("stubs", "--check", cwd=made / "submissions").returncode == 0
    (made / "exercises" / "logistic.py").write_text(stub + "# edited\n")
    assert run_grade("stubs", "--check", "--course", made, cwd=tmp_path).returncode == 1
    # The stub is what a learner starts from: it runs, and scores 0 with not_implemented.
    started = run_grade("check", made / "exercises" / "logistic.py", "--json", cwd=made)
    assert json.loads(started.stdout)["tasks"][0]["diagnoses"] == ["not_implemented"]


def test_check_grades_a_correct_and_a_buggy_submission(course):
    good = run_grade("check", course / "submissions" / "alice.py", "-e", "logistic", "--json", cwd=course)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["score"] == 2
    bad = run_grade("check", course / "submissions" / "bob.py", "-e", "logistic", "--json", cwd=course)
    assert bad.returncode == 1, bad.stderr
    (task,) = [TaskResult.from_dict(task) for task in json.loads(bad.stdout)["tasks"]]
    assert (task.score, task.diagnoses) == (0, ("wrong_value",))
    assert task.fact.startswith("grads['w'], grads['b'] are not the gradient of the loss")
    # The text docs/writing-exercises.md prints for this mistake.
    shown = PAGE.split("check above reports", 1)[1].split("```\n", 2)[1]
    assert report_text.render_task(task) == shown
    # The file name gives the exercise, as for the built-in ones; --course from elsewhere.
    (course / "logistic.py").write_text(CORRECT)
    assert run_grade("check", course / "logistic.py", cwd=course).returncode == 0
    assert run_grade("check", course / "logistic.py", "--course", course, cwd=ROOT).returncode == 0
    assert run_grade("check", course / "logistic.py", cwd=ROOT).returncode == 2  # unknown outside the course


def test_batch_grades_a_class_on_the_course_exercise(course, tmp_path):
    result = run_grade(
        "batch", course / "submissions", "-e", "logistic", "--out", tmp_path / "out", "-j", "2", cwd=course
    )
    assert result.returncode == 0, result.stderr
    rows = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert rows == ["student,grads,total,grads_codes", "alice,2,2,", "bob,0,0,wrong_value"]
    assert "[wrong_value]" in (tmp_path / "out" / "feedback" / "bob.txt").read_text()


def test_an_edited_spec_regrades_the_class(tmp_path):
    made = make_course(tmp_path / "ml101")
    args = ("batch", made / "submissions", "-e", "logistic", "--out", tmp_path / "out", "-j", "1")
    assert "graded 2, reused 0" in run_grade(*args, cwd=made).stdout
    assert "graded 0, reused 2" in run_grade(*args, cwd=made).stdout
    spec = made / "specs" / "logistic.py"
    spec.write_text(spec.read_text().replace('"Logistic regression: the', '"Logistic regression (v2): the'))
    assert "graded 2, reused 0" in run_grade(*args, cwd=made).stdout


def test_batch_on_a_dask_cluster_whose_workers_have_no_course(course, tmp_path):
    pytest.importorskip("distributed")
    # Run from a directory with no config above it, the course given by --course: the
    # workers (fresh interpreters, same directory) can only know the spec from what is sent.
    # With a course secret: the students' seeds travel with their submissions, never the secret.
    secret = tmp_path / "ml101.secret"
    secret.write_text("a course secret of 32 characters\n")
    args = ("-e", "logistic", "--course", course, "--secret-file", secret, "-j", "1")
    result = run_grade(
        "batch",
        course / "submissions",
        *args,
        "--out",
        tmp_path / "dask",
        "--scheduler",
        "local",
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dask" / "grades.csv").read_text().splitlines()[1:] == ["alice,2,2,", "bob,0,0,wrong_value"]
    local = run_grade("batch", course / "submissions", *args, "--out", tmp_path / "local", cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    for student in ("alice", "bob"):
        rows = [json.loads((tmp_path / out / "results" / f"{student}.json").read_text()) for out in ("dask", "local")]
        assert rows[0]["key"] == rows[1]["key"] and rows[0]["row"]["tasks"] == rows[1]["row"]["tasks"]


# -- errors ---------------------------------------------------------------------------------------
BROKEN = {
    "a name that is already an exercise": (
        "softmax.py",
        SPEC.replace('name="logistic"', 'name="softmax"'),
        "softmax.py: exercise 'softmax' is already defined by the built-in exercise: rename it",
    ),
    "a spec that does not import": (
        "logistic.py",
        SPEC.replace("Exercise, Size, Task", "Exercise, Task"),
        "logistic.py: does not import: NameError: name 'Size' is not defined",
    ),
    "a spec without EXERCISE": (
        "logistic.py",
        SPEC.replace("EXERCISE = Exercise(", "LOGISTIC = Exercise("),
        "logistic.py: defines no EXERCISE = Exercise(...)",
    ),
    "a name other than the file's": (
        "logistic.py",
        SPEC.replace('name="logistic"', 'name="logit"'),
        "logistic.py: EXERCISE.name is 'logit', expected 'logistic'",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_course_is_a_one_line_error_naming_the_file(tmp_path, case):
    name, text, message = BROKEN[case]
    made = make_course(tmp_path / "ml101")
    (made / "specs" / "logistic.py").unlink()
    (made / "specs" / name).write_text(text)
    for args in (("list",), ("check", made / "submissions" / "alice.py", "-e", name[:-3])):
        result = run_grade(*args, cwd=made)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr == f"grade: {made / 'specs' / message}\n", case


def test_a_bad_config_or_course_option_is_a_one_line_error(tmp_path):
    made = make_course(tmp_path / "ml101")
    (made / "pyproject.toml").write_text('[tool.grade]\nspec = "specs"\n')
    result = run_grade("list", cwd=made)
    assert (result.returncode, result.stderr) == (
        2,
        f"grade: {made / 'pyproject.toml'} [tool.grade]: unknown key 'spec'; known: specs\n",
    )
    (made / "pyproject.toml").write_text("[tool.grade\n")
    result = run_grade("list", cwd=made)
    assert result.returncode == 2 and result.stderr.startswith(
        f"grade: {made / 'pyproject.toml'}: cannot read it as TOML"
    )
    # A spec folder named in the config that is not there: said, not silently ignored.
    (made / "pyproject.toml").write_text('[tool.grade]\nspecs = "grading"\n')
    result = run_grade("list", cwd=made)
    assert (result.returncode, result.stderr) == (
        2,
        f"grade: {made / 'pyproject.toml'} [tool.grade]: specs = 'grading', but {made / 'grading'} is not a folder\n",
    )
    result = run_grade("list", "--course", tmp_path / "nowhere", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, f"grade: no such course directory: {tmp_path / 'nowhere'}\n")


# -- an installed package's entry point ---------------------------------------------------------
def install_fake_package(site, entry_points):
    """A package on PYTHONPATH with a dist-info that importlib.metadata reads, as pip would leave it."""
    (site / "ml101_exercises").mkdir(parents=True)
    (site / "ml101_exercises" / "__init__.py").write_text("")
    (site / "ml101_exercises" / "logistic.py").write_text(SPEC)
    info = site / "ml101_exercises-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ml101-exercises\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[grade.exercises]\n" + entry_points)
    return {**os.environ, "PYTHONPATH": str(site)}


def run_with(env, *args, cwd):
    command = [sys.executable, "-m", "grader", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_an_installed_package_registers_exercises_by_entry_point(tmp_path):
    env = install_fake_package(tmp_path / "site", "logistic = ml101_exercises.logistic\n")
    listed = run_with(env, "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert (
        "logistic: Logistic regression: the gradient of the log-loss (2 points)  [entry point ml101_exercises.logistic]"
        in listed.stdout
    )
    (tmp_path / "logistic.py").write_text(BUGGY)
    checked = run_with(env, "check", tmp_path / "logistic.py", "--json", cwd=tmp_path)
    assert checked.returncode == 1 and json.loads(checked.stdout)["tasks"][0]["diagnoses"] == ["wrong_value"]
    # A notebook's test cell finds it too: feedback() in the student's kernel.
    cell = f"{CORRECT}\nfrom grader import feedback\nprint('score', feedback('logistic', 'grads', globals()))\n"
    kernel = subprocess.run(
        [sys.executable, "-c", cell], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert kernel.returncode == 0 and kernel.stdout.splitlines()[-1] == "score 2.0", kernel.stdout + kernel.stderr
    # The object form, module:OBJECT, names the Exercise itself.
    env = install_fake_package(tmp_path / "site2", "logistic = ml101_exercises.logistic:EXERCISE\n")
    assert run_with(env, "check", tmp_path / "logistic.py", cwd=tmp_path).returncode == 1


def test_an_entry_point_reusing_a_name_is_a_one_line_error(tmp_path):
    env = install_fake_package(tmp_path / "site", "softmax = ml101_exercises.logistic\n")
    result = run_with(env, "list", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "grade: entry point softmax = ml101_exercises.logistic (package ml101-exercises): exercise 'softmax' "
        "is already defined by the built-in exercise: rename it\n"
    )


# -- nbgrader ---------------------------------------------------------------------------------------
def _nbgrader(*args, cwd, env):
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done


def test_nbgrader_source_and_a_real_autograde(tmp_path):
    pytest.importorskip("nbgrader")
    from nbgrader.api import Gradebook

    made = make_course(tmp_path / "ml101")
    env = dict(os.environ)
    for name in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR"):
        env[name] = str(tmp_path / name.lower())
    # The nbgrader course is the course directory itself: GradeTasks finds pyproject.toml's [tool.grade] there.
    source = run_grade("nbgrader-source", ".", cwd=made)
    assert source.returncode == 0, source.stderr
    assert source.stdout.splitlines() == [f"wrote {'source/logistic/logistic.ipynb'}", "wrote nbgrader_config.py"]
    done = _nbgrader("generate_assignment", "logistic", cwd=made, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    released = json.loads((made / "release" / "logistic" / "logistic.ipynb").read_text())
    cells = {cell["metadata"].get("nbgrader", {}).get("grade_id"): cell for cell in released["cells"]}
    assert "NotImplementedError" in "".join(cells["solution_grads"]["source"])
    answers = {"alice": CORRECT, "bob": BUGGY}
    for student, code in answers.items():
        notebook = json.loads(json.dumps(released))
        mine = {cell["metadata"].get("nbgrader", {}).get("grade_id"): cell for cell in notebook["cells"]}
        mine["solution_grads"]["source"] = code.split("\n\n\n", 1)[1]  # the function, below the imports
        folder = made / "submitted" / student / "logistic"
        folder.mkdir(parents=True)
        (folder / "logistic.ipynb").write_text(json.dumps(notebook))
    done = _nbgrader("autograde", "logistic", "--force", cwd=made, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    said = "GradeTasks: no course secret (c.GradeTasks.secret_file or $GRADE_SECRET): every student is graded "
    assert (done.stderr + done.stdout).count(said) == 1  # once for the run, not once per student
    # With a course secret, each student is graded on their own inputs, as grade check --student says.
    secret = tmp_path / "ml101.secret"
    secret.write_text("a course secret of 32 characters\n")
    with open(made / "nbgrader_config.py", "a") as config:
        config.write(f"c.GradeTasks.secret_file = {str(secret)!r}\n")
    done = _nbgrader("autograde", "logistic", "--force", cwd=made, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "no course secret" not in done.stderr + done.stdout
    with Gradebook(f"sqlite:///{made / 'gradebook.db'}") as gradebook:
        scores = {
            student: {
                g.name: g.score for g in gradebook.find_submission_notebook("logistic", "logistic", student).grades
            }
            for student in answers
        }
    assert scores == {"alice": {"test_grads": 2.0}, "bob": {"test_grads": 0.0}}
    graded = json.loads((made / "autograded" / "bob" / "logistic" / "logistic.ipynb").read_text())
    test = next(
        cell for cell in graded["cells"] if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_grads"
    )
    shown = "".join(test["outputs"][0]["text"])
    checked = run_grade(
        "check",
        made / "submissions" / "bob.py",
        "-e",
        "logistic",
        "--json",
        "--student",
        "bob",
        "--secret-file",
        secret,
        cwd=made,
    )
    (task,) = [TaskResult.from_dict(task) for task in json.loads(checked.stdout)["tasks"]]
    assert shown == report_text.render_task(task) and "[wrong_value]" in shown
    assert "input: random data (X 9x4)" not in shown  # not the public inputs


def test_nbgrader_source_takes_built_in_solutions_only_when_asked(course, tmp_path):
    pytest.importorskip("nbformat")
    result = run_grade("nbgrader-source", tmp_path / "nb", cwd=course)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "nb" / "source").iterdir()) == ["logistic"]
    result = run_grade(
        "nbgrader-source", tmp_path / "nb2", "-e", "softmax", "-e", "logistic", "--root", ROOT, cwd=course
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "nb2" / "source").iterdir()) == ["logistic", "softmax"]
    shutil.rmtree(tmp_path / "nb2")


# -- Gradescope: a course exercise and the course secret in the zip ---------------------------------
def test_a_gradescope_zip_carries_the_course_spec_and_grades_each_student_on_their_inputs(course, tmp_path):
    import zipfile

    from grader import __version__
    from grader.integrations import gradescope_run

    wheel = tmp_path / f"backprop_grade-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:  # what check_wheel needs; the runner uses this grader
        archive.writestr("grader/integrations/gradescope_run.py", "")
    secret = tmp_path / "ml101.secret"
    secret.write_text("a course secret of 32 characters\n")
    out = tmp_path / "autograder.zip"
    args = ("-e", "logistic", "-o", out, "--wheel", wheel, "--seed", "5", "--secret-file", secret)
    made = run_grade("gradescope", *args, cwd=course)
    assert made.returncode == 0, made.stderr
    assert "--student ID --secret-file SECRET` (ID: the Gradescope user id)" in made.stdout
    root = tmp_path / "autograder"
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist()[-1] == "course/specs/logistic.py"
        settings = json.loads(archive.read("grade.json"))
        assert (settings["course"], settings["secret"]) == ("course", "a course secret of 32 characters")
        archive.extractall(root / "source")
    results = {}
    for student, code in (("1234", CORRECT), ("5678", BUGGY)):
        shutil.rmtree(root / "submission", ignore_errors=True)
        (root / "submission").mkdir(parents=True)
        (root / "submission" / "hw (1).py").write_text(code)
        (root / "submission_metadata.json").write_text(json.dumps({"users": [{"id": int(student)}]}))
        gradescope_run.main([str(root)])
        results[student] = json.loads((root / "results" / "results.json").read_text())
        (tmp_path / "mine.py").write_text(code)
        check = ("check", tmp_path / "mine.py", "-e", "logistic", "--format", "gradescope", "--seed", "5")
        checked = run_grade(*check, "--student", student, "--secret-file", secret, "--course", course)
        expected = {**json.loads(checked.stdout), "visibility": "visible", "stdout_visibility": "hidden"}
        for timed in (expected, results[student]):  # the time taken differs between two gradings
            timed.pop("execution_time")
        assert results[student] == expected, student
    assert (results["1234"]["score"], results["5678"]["score"]) == (2, 0)
    # The student's inputs are their own: bob's grads case is not the one of the public seed 5.
    public = run_grade(*check, "--course", course)
    assert json.loads(public.stdout)["tests"][0]["output"] != results["5678"]["tests"][0]["output"]
    assert "a course secret" not in json.dumps(results)


def test_grade_tasks_takes_its_course_and_refuses_a_secret_under_submitted(tmp_path, course):
    pytest.importorskip("nbgrader")
    from traitlets.config import Config

    from grader.integrations.nbgrader import GradeTasks
    from grader.reading.submission import UsageError

    (tmp_path / "submitted").mkdir()
    secret = tmp_path / "submitted" / "ml101.secret"
    secret.write_text("a course secret of 32 characters\n")
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    config.GradeTasks.secret_file = str(secret)
    config.GradeTasks.course = str(course)
    tasks = GradeTasks(config=config)
    assert tasks._registry().load("logistic").name == "logistic"
    with pytest.raises(UsageError, match="is inside the class directory"):
        tasks._secret()
