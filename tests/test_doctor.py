"""`grade doctor`, and refusing to grade others' code in an incomplete jail.

GRADE_JAIL_DISABLE turns layers off, as a kernel without them would; what the grader
then does is what these tests check. A student's own `grade check` still runs.
"""

import json
import os
import subprocess
import sys

import pytest
from conftest import SUBMISSIONS, run_grade

pytestmark = pytest.mark.slow  # many jails and subprocesses: the full suite runs them

CORRECT = SUBMISSIONS / "softmax" / "correct_vectorized.py"


def without(*layers):
    return {**os.environ, "GRADE_JAIL_DISABLE": ",".join(layers)}


def grade(*args, env=None):
    from conftest import grade_command

    return subprocess.run(
        grade_command() + [str(a) for a in args], capture_output=True, text=True, timeout=120, env=env
    )


def test_doctor_shows_every_layer_active_on_the_test_machines():
    result = run_grade("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[2:8]}
    assert list(lines) == ["files", "network", "processes", "identity", "inherited", "limits"]
    assert all(" active " in line for line in lines.values()), result.stdout
    assert "Landlock ABI" in lines["files"] and "seccomp" in lines["network"]
    assert "every layer needed to grade others' code is active" in result.stdout


@pytest.mark.parametrize(
    "layers, missing",
    [
        (("seccomp",), "network"),
        (("landlock",), "files"),
        # As root a jail keeps a uid of its own, which alone stops signals and ptrace.
        (("landlock", "namespaces", "seccomp"), "files, network" if os.getuid() == 0 else "files, network, processes"),
    ],
)
def test_doctor_names_what_a_kernel_without_a_layer_would_lack(layers, missing):
    result = grade("doctor", env=without(*layers))
    assert result.returncode == 1
    assert f"refused here (missing: {missing})" in result.stdout


def test_batch_refuses_an_incomplete_jail_in_one_line_and_grades_when_trusted(tmp_path):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "alice.py").write_text(CORRECT.read_text())
    args = ["batch", tmp_path / "class", "-e", "softmax", "--out", tmp_path / "out"]
    refused = grade(*args, env=without("seccomp"))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "refusing to grade others' code" in refused.stderr
    assert "network layer is missing" in refused.stderr and "--trust-submissions" in refused.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()
    trusted = grade(*args, "--trust-submissions", env=without("seccomp"))
    assert trusted.returncode == 0, trusted.stderr
    assert "alice,1,1,1,1,4" in (tmp_path / "out" / "grades.csv").read_text()


def test_gradescope_grading_refuses_too_but_a_students_own_check_runs_and_says_what_is_missing():
    refused = grade("check", CORRECT, "-e", "softmax", "--format", "gradescope", env=without("landlock"))
    assert refused.returncode == 2 and "files layer is missing" in refused.stderr
    trusted = grade(
        "check", CORRECT, "-e", "softmax", "--format", "gradescope", "--trust-submissions", env=without("landlock")
    )
    assert trusted.returncode == 0 and json.loads(trusted.stdout)["score"] == 4
    own = grade("check", CORRECT, "-e", "softmax", "-v", env=without("landlock"))
    assert own.returncode == 0 and "softmax: 4/4 points" in own.stdout
    assert any(line.split()[:2] == ["files", "MISSING"] for line in own.stdout.splitlines())


def test_gradetasks_refuses_an_incomplete_jail(tmp_path):
    pytest.importorskip("nbgrader")
    code = (
        "from grader.integrations.nbgrader import GradeTasks\n"
        "import nbformat\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')])\n"
        "try:\n"
        "    GradeTasks().preprocess(nb, {'nbgrader': {'notebook': 'softmax'}})\n"
        "except RuntimeError as error:\n"
        "    print('REFUSED', error)\n"
        "else:\n"
        "    print('GRADED')\n"
    )
    refused = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=without("seccomp"))
    assert "REFUSED GradeTasks: refusing to grade others' code" in refused.stdout, refused.stderr
    assert "trust_submissions" in refused.stdout
    complete = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "GRADED" in complete.stdout, complete.stderr


@pytest.mark.parametrize("command", ["doctor", "check"])
def test_a_jail_that_cannot_start_is_exit_2_with_one_line_saying_why_and_what_to_do(monkeypatch, capsys, command):
    """As on a Python whose standard library the jail could not read: never an internal error (exit 3)."""
    from grader import cli
    from grader.sandbox import layers, linux
    from grader.sandbox.errors import JailError

    def cannot(*args, **kwargs):
        raise JailError("the sandbox could not lock itself down: ModuleNotFoundError: No module named 'mmap'")

    monkeypatch.setattr(layers, "probe", cannot)
    monkeypatch.setattr(linux.LinuxSandbox, "_start", cannot)
    with pytest.raises(SystemExit) as exited:
        cli.main([command] + ([str(CORRECT), "-e", "softmax"] if command == "check" else []))
    err = capsys.readouterr().err
    assert exited.value.code == 2, err
    assert err.count("\n") == 1 and err.startswith("grade: the sandbox cannot start with this Python (")
    assert "No module named 'mmap'" in err and sys.executable in err
    assert "Run `grade doctor`" in err and "Supported Pythons" in err and "GRADE_SANDBOX=portable" in err


def _jail_cannot_start(monkeypatch):
    """Every jail of this process fails to start, as on a Python whose standard library it cannot read;
    returns the list of start attempts."""
    from grader.sandbox import linux
    from grader.sandbox.errors import JailError

    attempts = []

    def cannot(*args, **kwargs):
        attempts.append(1)
        raise JailError("the sandbox could not lock itself down: ModuleNotFoundError: No module named 'mmap'")

    monkeypatch.setattr(linux.LinuxSandbox, "_start", cannot)
    return attempts


def _assert_one_cannot_start_line(err):
    assert err.count("\n") == 1 and err.startswith("grade: the sandbox cannot start with this Python ("), err
    assert "No module named 'mmap'" in err and "Run `grade doctor`" in err


@pytest.mark.parametrize("trust", [False, True])
def test_batch_stops_before_grading_when_the_jail_cannot_start(monkeypatch, capsys, tmp_path, trust):
    """Trusted or not: exit 2 and one line, not a row per student that says the jail failed."""
    from grader import cli

    _jail_cannot_start(monkeypatch)
    (tmp_path / "class").mkdir()
    for student in ("alice", "bob"):
        (tmp_path / "class" / f"{student}.py").write_text(CORRECT.read_text())
    args = ["batch", str(tmp_path / "class"), "-e", "softmax", "--out", str(tmp_path / "out"), "-j", "1"]
    with pytest.raises(SystemExit) as exited:
        cli.main(args + (["--trust-submissions"] if trust else []))
    captured = capsys.readouterr()
    assert exited.value.code == 2, captured.err
    _assert_one_cannot_start_line(captured.err)
    assert captured.out == "" and not (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.parametrize(
    "variable, value, said",
    [
        (
            "GRADE_SANDBOX",
            "jail",
            "GRADE_SANDBOX='jail' is not a sandbox backend: accepted values are linux and portable (or leave it unset)",
        ),
        (
            "GRADE_JAIL_DISABLE",
            "seccomp,landlok",
            "GRADE_JAIL_DISABLE='seccomp,landlok': 'landlok' is not a layer "
            "of the jail; accepted values are a comma-separated list of LAYERS (or leave it unset)",
        ),
    ],
)
@pytest.mark.parametrize("command", ["check", "doctor", "batch"])
def test_a_bad_sandbox_setting_is_exit_2_naming_the_variable_its_value_and_the_accepted_ones(
    monkeypatch, capsys, tmp_path, command, variable, value, said
):
    from grader import cli

    monkeypatch.setenv(variable, value)
    args = {
        "check": ["check", str(CORRECT), "-e", "softmax"],
        "doctor": ["doctor"],
        "batch": ["batch", str(CORRECT.parent), "-e", "softmax", "--out", str(tmp_path / "out")],
    }[command]
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    from grader.sandbox.server import LAYERS

    err = capsys.readouterr().err
    assert exited.value.code == 2, err
    assert LAYERS[:3] == ("landlock", "seccomp", "namespaces")
    assert err == f"grade: {said.replace('LAYERS', ', '.join(LAYERS))}\n"


def test_gradetasks_fails_each_notebook_with_the_one_line_and_starts_no_jail_after_the_first_failure(monkeypatch):
    """Whether trusted or not: no notebook is scored (nbgrader then lists every student as failed and
    exits non-zero), each says why in the grade command's one line, and only the first tries a jail."""
    pytest.importorskip("nbgrader")
    import nbformat

    from grader.integrations.nbgrader import GradeTasks
    from grader.sandbox import layers

    attempts = _jail_cannot_start(monkeypatch)
    monkeypatch.setattr(layers, "_probed", {})
    # The failure is remembered for this process: a fresh memory here, given back after the test, so that
    # later GradeTasks tests in the same pytest worker start their jails.
    monkeypatch.setattr(GradeTasks, "_cannot_start", {})
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    for trust in (False, True, False):
        with pytest.raises(RuntimeError) as failed:
            GradeTasks(trust_submissions=trust).preprocess(notebook, {"nbgrader": {"notebook": "softmax"}})
        said = str(failed.value)
        assert "\n" not in said and said.startswith("GradeTasks: the sandbox cannot start with this Python (")
        assert "No module named 'mmap'" in said and "Run `grade doctor`" in said
        assert "no notebook is graded" in said
    assert len(attempts) == 1
