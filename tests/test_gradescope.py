"""Gradescope: results.json against a schema of Gradescope's spec, `grade gradescope`'s zip, and
the zip at work in a simulated Gradescope root (unzipped, setup.sh run without network, then
run_autograder on correct, buggy, notebook, oddly named, missing and doubled submissions)."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import asdict
from pathlib import Path

import jsonschema
import pytest
from conftest import SUBMISSIONS, offline_env, run_grade, solution_text
from hypothesis import given, settings
from hypothesis import strategies as st

import grader.integrations
from grader import __version__
from grader.integrations import gradescope_run
from grader.integrations.gradescope import Settings

CORPUS = SUBMISSIONS / "softmax"
SCHEMA = json.loads((Path(grader.integrations.__file__).parent / "gradescope_results.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())

# The example of Gradescope's "Autograder Specifications" page (Output format), comments removed.
SPEC_EXAMPLE = {
    "score": 44.0,
    "execution_time": 136,
    "output": "Text relevant to the entire submission",
    "output_format": "simple_format",
    "test_output_format": "text",
    "test_name_format": "text",
    "visibility": "after_due_date",
    "stdout_visibility": "visible",
    "extra_data": {},
    "tests": [
        {
            "score": 2.0,
            "max_score": 2.0,
            "status": "passed",
            "name": "Your name here",
            "name_format": "text",
            "number": "1.1",
            "output": "Giant multiline string",
            "output_format": "text",
            "tags": ["tag1", "tag2", "tag3"],
            "visibility": "visible",
            "extra_data": {},
        }
    ],
    "leaderboard": [
        {"name": "Accuracy", "value": 0.926},
        {"name": "Time", "value": 15.1, "order": "asc"},
        {"name": "Stars", "value": "*****"},
    ],
}


def assert_valid(results):
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in VALIDATOR.iter_errors(results)]
    assert not errors, errors


def notebook(code):
    cell = {"cell_type": "code", "source": code, "metadata": {}, "outputs": [], "execution_count": None}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


# --- the schema -------------------------------------------------------------------------------


def test_the_schema_is_a_valid_draft_2020_12_schema():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_spec_examples_are_valid():
    assert_valid(SPEC_EXAMPLE)
    # The spec's status example: informational tests without scores (then a top-level score is required).
    assert_valid(
        {
            "tests": [
                {"name": "Compilation check", "status": "passed"},
                {"name": "Style check", "status": "failed"},
                {"name": "Test 3", "score": 5, "max_score": 10, "status": "passed"},
            ],
            "score": 5,
        }
    )


@pytest.mark.parametrize(
    "broken, why",
    [
        ({"tests": [{"name": "a", "max_score": 1}]}, "no score at the top level nor on every test"),
        ({"scores": 1}, "a misspelt key"),
        ({"score": 1, "visibility": "after_deadline"}, "an unknown visibility"),
        ({"score": 1, "stdout_visibility": "shown"}, "an unknown stdout visibility"),
        ({"score": 1, "output_format": "markdown"}, "an unknown format"),
        ({"score": 1, "tests": [{"name": "a", "status": "ok"}]}, "an unknown status"),
        ({"score": 1, "tests": [{"name": "a", "tags": "wrong_axis"}]}, "tags not a list"),
        ({"score": 1, "tests": [{"name": "a", "number": 1}]}, "a number that is not a string"),
        ({"score": "3"}, "a score that is not a number"),
        ({"score": 1, "leaderboard": [{"name": "Time", "value": 1, "order": "up"}]}, "an unknown order"),
    ],
)
def test_the_schema_refuses(broken, why):
    assert list(VALIDATOR.iter_errors(broken)), why


def test_the_status_example_without_top_level_score_is_refused_only_when_a_test_lacks_a_score():
    # "tests: required if no top-level score" and "score (test): required if not on top level".
    assert not list(VALIDATOR.iter_errors({"tests": [{"name": "a", "score": 1}]}))
    assert list(VALIDATOR.iter_errors({"tests": [{"name": "a", "score": 1}, {"name": "b", "status": "passed"}]}))


# --- what the grader writes validates -----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["correct_vectorized.py", "db_missing_keepdims.py", "dz_raises_valueerror.py", "dw_not_implemented.py"]
)
def test_grade_check_format_gradescope_validates(name):
    result = run_grade("check", CORPUS / name, "-e", "softmax", "--format", "gradescope")
    assert result.returncode in (0, 1), result.stderr
    assert_valid(json.loads(result.stdout))


# Text of the learner's that CommonMark would read as HTML if a code span were kept where CommonMark sees none:
# runs of two and three backticks that never close, a span over lines (a line starting with <script> opens an
# HTML block), a carriage return (a line ending to CommonMark), and a comment on the line a traceback quotes.
MARKDOWN_ATTACK = """\
import numpy as np


def forward(X, W, b):
    raise ValueError("``x```<img src=x onerror=alert(1)>`")


def dZ(P, y):
    raise ValueError("`a\\n<script>alert(2)</script>\\n`")


def dW(X, dZ):
    raise ValueError("`a\\r<script>alert(3)</script>\\r`")


def db(dZ):
    raise ValueError("db")  # ``x```<img src=x onerror=alert(4)>`
"""


def _html_in_markdown(text):
    """The raw HTML CommonMark finds in TEXT (markdown-it-py, the reference's behaviour)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    return [t.content for token in tokens for t in (token, *(token.children or ())) if t.type.startswith("html")]


def test_the_learners_text_never_becomes_html_in_gradescopes_markdown(write):
    path = write("softmax.py", MARKDOWN_ATTACK)
    result = run_grade("check", path, "-e", "softmax", "--format", "gradescope")
    results = json.loads(result.stdout)
    assert_valid(results)
    outputs = [test["output"] for test in results["tests"]]
    assert [("alert(" in output) for output in outputs] == [True] * 4  # the learner's text is shown...
    assert [_html_in_markdown(output) for output in outputs] == [[]] * 4  # ... as text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="`<>\\\r\n x*", max_size=24))
def test_escaped_text_holds_no_html_and_the_hints_code_spans_stay(text):
    from grader.integrations.gradescope_results import _escape

    text = text.replace("<", "<b ")  # every < starts a tag, if it is left as one
    assert _html_in_markdown(f"**{_escape(text)}**") == []
    hint = "sum with keepdims=True: `np.sum(dZ, axis=0, keepdims=True)` is (1,k)"
    assert _escape(hint) == hint  # the code span kept: Gradescope shows it as code


def test_grade_batch_gradescope_files_validate(tmp_path):
    (tmp_path / "class").mkdir()
    for name in ("correct_vectorized", "db_missing_keepdims", "forward_unstable"):
        shutil.copy(CORPUS / f"{name}.py", tmp_path / "class" / f"{name}.py")
    (tmp_path / "class" / "nb.ipynb").write_text(notebook((CORPUS / "dz_not_averaged.py").read_text()))
    (tmp_path / "class" / "broken.ipynb").write_text('{"cells": [')
    result = run_grade("batch", tmp_path / "class", "-e", "softmax", "--out", tmp_path / "out", "-j", "2")
    assert result.returncode == 0, result.stderr
    files = sorted((tmp_path / "out" / "gradescope").glob("*/results.json"))
    assert len(files) == 5
    for path in files:
        assert_valid(json.loads(path.read_text()))


# --- run_autograder's Python half, in this environment -------------------------------------------

SETTINGS = {
    "exercise": "softmax",
    "timeout": 10.0,
    "memory_mb": 1024,
    "seed": 2**127 + 1234567,  # 128 bits, as `grade gradescope` draws them
    "time_limit": 300.0,
    "visibility": "after_due_date",
    "stdout_visibility": "hidden",
}


@pytest.fixture
def gs_root(tmp_path):
    """A Gradescope root with grade.json in source/ and an empty submission/."""
    (tmp_path / "source").mkdir()
    (tmp_path / "submission").mkdir()
    (tmp_path / "source" / "grade.json").write_text(json.dumps(SETTINGS))
    return tmp_path


def run_in_process(root):
    gradescope_run.main([str(root)])
    results = json.loads((root / "results" / "results.json").read_text())
    assert_valid(results)
    return results


def checked(path, seed=SETTINGS["seed"]):
    """What `grade check --format gradescope` says of PATH (the reference for run_autograder)."""
    result = run_grade("check", path, "-e", "softmax", "--format", "gradescope", "--seed", seed)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def comparable(results):
    """results.json without what differs between two gradings of one file: the settings and the time taken."""
    return {
        key: value for key, value in results.items() if key not in ("visibility", "stdout_visibility", "execution_time")
    }


def test_a_submission_under_any_name_and_folder_is_graded_with_the_settings(gs_root, capsys):
    (gs_root / "submission" / "week 2").mkdir()
    path = gs_root / "submission" / "week 2" / "hw2 (1).py"
    shutil.copy(CORPUS / "db_missing_keepdims.py", path)
    (gs_root / "submission" / "notes.txt").write_text("my notes")
    (gs_root / "submission" / ".ipynb_checkpoints").mkdir()
    (gs_root / "submission" / ".ipynb_checkpoints" / "hw2-checkpoint.ipynb").write_text("{}")
    (gs_root / "submission" / "__MACOSX").mkdir()
    (gs_root / "submission" / "__MACOSX" / "._hw2 (1).py").write_bytes(b"\x00\x05\x16\x07")
    results = run_in_process(gs_root)
    assert comparable(results) == comparable(checked(path))
    assert results["score"] == 3
    assert (results["visibility"], results["stdout_visibility"]) == ("after_due_date", "hidden")
    log = capsys.readouterr().out
    assert "grading week 2/hw2 (1).py as softmax" in log
    assert str(SETTINGS["seed"]) not in log and str(SETTINGS["seed"]) not in json.dumps(results)


def test_a_notebook_importing_the_grader_beside_numpy_gets_full_marks(gs_root):
    shutil.copy(CORPUS / "correct_notebook_imports_first.ipynb", gs_root / "submission" / "hw2.ipynb")
    results = run_in_process(gs_root)
    assert results["score"] == 4, results


def test_a_secret_without_submission_metadata_says_the_public_inputs_are_used(gs_root, capsys):
    # The try-out of docs/gradescope.md has no submission_metadata.json: the log says what that means.
    (gs_root / "source" / "grade.json").write_text(json.dumps({**SETTINGS, "secret": "s" * 32}))
    shutil.copy(CORPUS / "correct_vectorized.py", gs_root / "submission" / "softmax.py")
    assert run_in_process(gs_root)["score"] == 4
    log = capsys.readouterr().out
    assert "submission_metadata.json is missing or holds no user id" in log and "s" * 32 not in log
    (gs_root / "submission_metadata.json").write_text(json.dumps({"users": [{"id": 1234}]}))
    run_in_process(gs_root)
    assert "submission_metadata.json" not in capsys.readouterr().out


def test_no_submission_scores_zero_and_says_so(gs_root):
    (gs_root / "submission" / "softmax.txt").write_text("def forward(X, W, b): ...")
    results = run_in_process(gs_root)
    assert results["score"] == 0
    assert results["output"].startswith("No .py or .ipynb file was found in your submission (it holds softmax.txt).")
    assert "Upload exactly one file, your softmax.py or softmax.ipynb (any name)" in results["output"]
    (test,) = results["tests"]
    assert (test["name"], test["status"], test["visibility"]) == ("Submission", "failed", "visible")


def test_an_empty_or_absent_submission_folder_scores_zero(gs_root):
    assert run_in_process(gs_root)["output"].startswith("No .py or .ipynb file was found in your submission. ")
    shutil.rmtree(gs_root / "submission")
    assert run_in_process(gs_root)["score"] == 0


def test_two_submissions_score_zero_and_are_named(gs_root):
    shutil.copy(CORPUS / "correct_vectorized.py", gs_root / "submission" / "softmax.py")
    (gs_root / "submission" / "softmax.ipynb").write_text(notebook(solution_text()))
    results = run_in_process(gs_root)
    assert results["score"] == 0
    assert results["output"] == (
        "Your submission holds 2 .py or .ipynb files (softmax.ipynb, softmax.py): the grader "
        "cannot tell which one to grade. Upload exactly one file, your softmax.py or "
        "softmax.ipynb (any name), and submit again."
    )


def test_a_symbolic_link_is_refused_and_its_target_never_read(gs_root, capsys):
    # grade check runs as root: a link named softmax.py would have it read the settings (seed, secret),
    # run them as the learner's code and quote the line that failed in results.json.
    # As the zip writes it, the first line that fails is '"trust_submissions": false,', quoted escaped.
    settings = Settings("softmax", 10.0, 1024, 1234567, 300.0, secret="s3cret-" * 4)
    (gs_root / "source" / "grade.json").write_text(json.dumps(asdict(settings), indent=2) + "\n")
    (gs_root / "submission" / "softmax.py").symlink_to("../source/grade.json")
    results = run_in_process(gs_root)
    assert results["score"] == 0
    (test,) = results["tests"]
    assert (test["name"], test["visibility"]) == ("Submission", "visible")
    assert test["output"].startswith("softmax.py is a symbolic link: upload the file itself")
    said = json.dumps(results) + capsys.readouterr().out
    assert not [word for word in ("trust", "1234567", "s3cret") if word in said]


def test_a_file_name_that_is_not_utf8_is_graded_and_shown_readably(gs_root, capsys):
    name = os.fsdecode(b"\xff\n-hw.py")  # bytes of another encoding, a newline, a leading dash
    shutil.copy(CORPUS / "correct_vectorized.py", gs_root / "submission" / name)
    results = run_in_process(gs_root)  # capsys's stdout is strict UTF-8, as a UTF-8 locale's is
    assert results["score"] == 4
    assert "grading \\xff\\x0a-hw.py as softmax" in capsys.readouterr().out  # its bytes, escaped
    (gs_root / "submission" / "two.py").write_text("")
    results = run_in_process(gs_root)
    assert results["score"] == 0 and "(two.py, \\xff\\x0a-hw.py)" in results["tests"][0]["output"]
    text = (gs_root / "results" / "results.json").read_text()
    json.loads(text, object_pairs_hook=lambda pairs: [str(v).encode() for _, v in pairs])  # no lone surrogate


def test_a_grader_failure_still_writes_results_saying_so(gs_root, capsys):
    shutil.copy(CORPUS / "correct_vectorized.py", gs_root / "submission" / "softmax.py")
    (gs_root / "source" / "grade.json").write_text(json.dumps({**SETTINGS, "exercise": "no_such_exercise"}))
    results = run_in_process(gs_root)
    assert results["score"] == 0
    assert results["output"].startswith("The autograder failed, so this submission has no grade yet.")
    (test,) = results["tests"]
    assert (test["name"], test["visibility"]) == ("Autograder", "visible")
    assert "The grader said: grade: unknown exercise" in test["output"]
    assert "grade check exited with 2" in capsys.readouterr().out


# `grade check` as run_autograder runs it, in a container where the jail cannot start although
# setup.sh's `grade doctor` passed (a kernel or a Python changed since the image was built).
JAIL_CANNOT_START = (
    "import sys\n"
    "from grader.sandbox import linux\n"
    "from grader.sandbox.errors import JailError\n"
    "def cannot(*args, **kwargs):\n"
    "    raise JailError(\"the sandbox could not lock itself down: ModuleNotFoundError: No module named 'mmap'\")\n"
    "linux.LinuxSandbox._start = cannot\n"
    "from grader.cli import main\n"
    "main(sys.argv[1:])\n"
)


def test_a_jail_that_cannot_start_says_so_for_the_instructor_with_the_one_line(gs_root, monkeypatch, capsys):
    real = gradescope_run.check_command
    monkeypatch.setattr(
        gradescope_run, "check_command", lambda *args: [sys.executable, "-c", JAIL_CANNOT_START, *real(*args)[3:]]
    )
    shutil.copy(CORPUS / "correct_vectorized.py", gs_root / "submission" / "softmax.py")
    results = run_in_process(gs_root)
    assert results["score"] == 0
    assert not results["output"].startswith("The autograder failed")
    assert (
        "could not start the grader's sandbox" in results["output"]
        and "not a problem with your file" in (results["output"])
    )
    (test,) = results["tests"]
    assert (test["name"], test["visibility"]) == ("Autograder", "visible")
    assert "For the instructor: the autograder's environment could not start the sandbox" in test["output"]
    said = test["output"].splitlines()[-1]
    assert said.startswith("The grader said: grade: the sandbox cannot start with this Python (")
    assert "No module named 'mmap'" in said and "Run `grade doctor`" in said
    assert "grade check exited with 2" in capsys.readouterr().out


def test_unreadable_settings_still_write_results(gs_root):
    (gs_root / "source" / "grade.json").write_text("{")
    results = run_in_process(gs_root)
    assert results["score"] == 0 and "JSONDecodeError" in results["tests"][0]["output"]
    (gs_root / "source" / "grade.json").write_text(json.dumps({"exercise": "softmax"}))
    results = run_in_process(gs_root)
    assert "grade.json lacks memory_mb, seed, time_limit, timeout" in results["tests"][0]["output"]


def test_student_id_from_submission_metadata(tmp_path):
    path = tmp_path / "submission_metadata.json"
    assert gradescope_run.student_id(path) is None
    path.write_text(
        json.dumps(
            {
                "id": 123456,
                "users": [
                    {"email": "a@example.com", "id": 1234, "name": "A"},
                    {"email": "b@example.com", "id": 99, "name": "B"},
                ],
            }
        )
    )
    assert gradescope_run.student_id(path) == "1234"
    for broken in ("{", "[]", '{"users": []}', '{"users": [{"name": "A"}]}', '{"users": "A"}'):
        path.write_text(broken)
        assert gradescope_run.student_id(path) is None


def test_the_student_id_is_passed_when_known():
    """The runner and `grade check` come from the same wheel: --student is always understood."""
    command = gradescope_run.check_command(Path("hw2 (1).py"), SETTINGS, "1234")
    assert command[:4] == [sys.executable, "-m", "grader", "check"]
    assert command[4:7] == ["hw2 (1).py", "--exercise", "softmax"]
    assert command[-2:] == ["--student", "1234"]
    assert "--student" not in gradescope_run.check_command(Path("a.py"), SETTINGS, None)


def test_the_runner_does_not_import_the_command():
    """No import cycle: cli imports the zip's writer, which imports the runner, which must not import cli."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from grader.integrations import gradescope_run\n"
        f"gradescope_run.check_command(Path('a.py'), {SETTINGS!r}, '1234')\n"
        "print('grader.cli' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout == "False\n", done.stderr


# --- grade gradescope: the zip -----------------------------------------------------------------


def fake_wheel(directory, name=f"backprop_grade-{__version__}-py3-none-any.whl"):
    path = directory / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("grader/integrations/gradescope_run.py", "")
    return path


def test_the_zip_holds_the_scripts_the_wheel_and_the_settings(tmp_path):
    wheel = fake_wheel(tmp_path)
    out = tmp_path / "autograder.zip"
    result = run_grade(
        "gradescope",
        "-e",
        "softmax",
        "-o",
        out,
        "--wheel",
        wheel,
        "--seed",
        "77",
        "--timeout",
        "5",
        "--memory",
        "512",
        "--time-limit",
        "300",
        "--visibility",
        "after_published",
        "--stdout-visibility",
        "visible",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("seed 77: `grade check FILE -e softmax --seed 77`")
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == ["setup.sh", "run_autograder", wheel.name, "grade.json"]
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        assert modes["setup.sh"] == modes["run_autograder"] == 0o100755
        assert archive.read(wheel.name) == wheel.read_bytes()
        assert json.loads(archive.read("grade.json")) == {
            "exercise": "softmax",
            "timeout": 5.0,
            "memory_mb": 512,
            "seed": 77,
            "time_limit": 300.0,
            "visibility": "after_published",
            "stdout_visibility": "visible",
            "trust_submissions": False,
            "course": None,  # a built-in exercise: no course's specs in the zip
            "secret": None,  # no course secret: every student gets the inputs of the seed
        }
        files = Path(grader.integrations.__file__).parent / "gradescope_files"
        for name in ("setup.sh", "run_autograder"):
            assert archive.read(name) == (files / name).read_bytes()


def test_without_a_seed_each_zip_gets_a_new_private_one(tmp_path):
    wheel = fake_wheel(tmp_path)
    seeds = []
    for name in ("a.zip", "b.zip"):
        result = run_grade("gradescope", "-e", "softmax", "-o", tmp_path / name, "--wheel", wheel)
        assert result.returncode == 0, result.stderr
        with zipfile.ZipFile(tmp_path / name) as archive:
            seeds.append(json.loads(archive.read("grade.json"))["seed"])
        assert f"a new private seed {seeds[-1]}: " in result.stdout
    assert seeds[0] != seeds[1]
    assert all(seed.bit_length() > 64 for seed in seeds)  # 128 bits: odds of 2**-64 that one has fewer than 65


@pytest.mark.parametrize(
    "args, message",
    [
        (["-e", "nope"], "grade: unknown exercise"),
        (["-e", "softmax", "--wheel", "missing.whl"], "grade: no such file: missing.whl"),
        (["-e", "softmax", "--wheel", "grade-3.0.1-py3-none-any.whl"], "expected a wheel of backprop-grade"),
        (["-e", "softmax", "--wheel", "backprop_grade-0.0.1-py3-none-any.whl"], "grader too old for Gradescope zips"),
        (["-e", "softmax", "--wheel", "backprop_grade-0.0.2-py3-none-any.whl"], "not a readable wheel"),
        (["-e", "softmax", "-o", "no/such/dir/a.zip"], "grade: cannot write no/such/dir/a.zip"),
        (["-e", "softmax", "--visibility", "sometimes"], "Invalid value for '--visibility'"),
    ],
)
def test_bad_options_are_one_line_usage_errors(tmp_path, args, message):
    fake_wheel(tmp_path)
    fake_wheel(tmp_path, "grade-3.0.1-py3-none-any.whl")
    with zipfile.ZipFile(tmp_path / "backprop_grade-0.0.1-py3-none-any.whl", "w") as archive:
        archive.writestr("grader/__init__.py", "")
    (tmp_path / "backprop_grade-0.0.2-py3-none-any.whl").write_text("not a zip")
    if "--wheel" not in args:
        args = [*args, "--wheel", f"backprop_grade-{__version__}-py3-none-any.whl"]
    result = run_grade("gradescope", *args, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not list(tmp_path.glob("*.zip")) and not list(tmp_path.glob("*.partial"))


# --- the zip at work, in a simulated Gradescope root (slow) ---------------------------------------

SEED = 424242


@pytest.fixture(scope="module")
def autograder(tmp_path_factory, wheelhouse):
    """A Gradescope root: the zip `grade gradescope` builds from this checkout, unzipped into
    source/, and source/setup.sh run with pip held to the wheelhouse (no index, no network)."""
    root = tmp_path_factory.mktemp("autograder")
    root.chmod(0o755)  # as /autograder: the submission runs as nobody, which must reach the environment
    made = run_grade(
        "gradescope",
        "-e",
        "softmax",
        "-o",
        root / "autograder.zip",
        "--seed",
        SEED,
        "--visibility",
        "after_due_date",
        timeout=600,
    )
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(root / "autograder.zip") as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):  # zipfile drops the modes; Gradescope's unzip keeps them
        (root / "source" / name).chmod(0o755)
    env = offline_env(wheelhouse)
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        capture_output=True,
        text=True,
        env=env,
        cwd=root / "source",
        timeout=900,
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # what Gradescope does
    return root, {**env, "GRADESCOPE_ROOT": str(root)}


def submit(autograder, files, metadata=None):
    """Run run_autograder on FILES ({name: text}) as Gradescope would; (results, its stdout)."""
    root, env = autograder
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
    (root / "submission").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    done = subprocess.run(
        [str(root / "run_autograder")], capture_output=True, text=True, cwd=root, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert_valid(results)
    assert str(SEED) not in json.dumps(results) and str(SEED) not in done.stdout  # the seed stays private
    return results, done.stdout


@pytest.mark.slow
class TestInGradescopesLayout:
    @pytest.mark.parametrize(
        "name, text",
        [
            ("softmax.py", solution_text()),
            ("softmax.py", (CORPUS / "dz_not_averaged.py").read_text()),
            ("hw2 (1).py", (CORPUS / "db_wrong_axis.py").read_text()),
            ("My Notebook.ipynb", notebook((CORPUS / "forward_unstable.py").read_text())),
            ("softmax.ipynb", notebook(solution_text())),
        ],
    )
    def test_scores_equal_grade_check(self, autograder, tmp_path, name, text):
        results, log = submit(
            autograder, {name: text}, metadata={"id": 1, "users": [{"id": 1234, "email": "a@example.com", "name": "A"}]}
        )
        (tmp_path / name).write_text(text)
        assert comparable(results) == comparable(checked(tmp_path / name, seed=SEED))
        assert (results["visibility"], results["stdout_visibility"]) == ("after_due_date", "hidden")
        assert f"grading {name} as softmax" in log

    def test_full_and_partial_marks(self, autograder):
        assert submit(autograder, {"a.py": solution_text()})[0]["score"] == 4
        buggy, _ = submit(autograder, {"a.py": (CORPUS / "db_missing_keepdims.py").read_text()})
        assert buggy["score"] == 3 and buggy["tests"][3]["tags"] == ["missing_keepdims"]

    def test_a_missing_submission_scores_zero(self, autograder):
        results, _ = submit(autograder, {"README.md": "hi"})
        assert results["score"] == 0 and results["output"].startswith("No .py or .ipynb file was found")

    def test_a_doubled_submission_scores_zero(self, autograder):
        results, _ = submit(autograder, {"softmax.py": solution_text(), "softmax (1).py": solution_text()})
        assert results["score"] == 0 and results["output"].startswith("Your submission holds 2 .py or .ipynb files")

    def test_the_settings_are_for_root_only(self, autograder):
        root, _ = autograder
        assert (root / "source" / "grade.json").stat().st_mode & 0o777 == 0o600

    def test_a_broken_environment_still_leaves_results(self, autograder):
        root, _ = autograder
        python = root / "source" / "venv" / "bin" / "python"
        python.rename(python.with_name("python.away"))
        try:
            results, log = submit(autograder, {"softmax.py": solution_text()})
        finally:
            python.with_name("python.away").rename(python)
        assert results["score"] == 0
        assert results["output"].startswith("The autograder failed, so this submission has no grade yet.")
        assert results["tests"][0]["output"].startswith("The grader could not start")
        assert "wrote no results.json" in log


def test_the_runner_passes_the_trust_setting_on_to_grade_check():
    trusting = {**SETTINGS, "trust_submissions": True}
    assert gradescope_run.check_command(Path("a.py"), trusting)[-1] == "--trust-submissions"
    assert "--trust-submissions" not in gradescope_run.check_command(Path("a.py"), SETTINGS)
