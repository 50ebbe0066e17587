"""Shared helpers: run the installed `grade` command, write submissions to disk."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# One BLAS thread, as grader/__init__.py sets it, even when a test module imports numpy
# before grader: threaded BLAS on small matrices only contends on a two-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "tests" / "submissions"


def grade_command():
    # The console script as installed by `pip install -e .`; `python -m grader` if not on PATH.
    found = shutil.which("grade")
    return [found] if found else [sys.executable, "-m", "grader"]


def run_grade(*args, cwd=None, timeout=120):
    return subprocess.run(
        grade_command() + [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


_SCORE_LINE = re.compile(r"\S+: [0-9.]+/[0-9.]+ points")


def score_line(output):
    """The one score line of `grade check`'s text output ("softmax: 4/4 points"), found by its content:
    notes may follow it (the sandbox layers missing on this machine, e.g. on a Linux without Landlock)."""
    found = [line for line in output.splitlines() if _SCORE_LINE.fullmatch(line)]
    assert len(found) == 1, output
    return found[0]


def run_json(*args, **kwargs):
    result = run_grade(*args, "--json", **kwargs)
    return result, json.loads(result.stdout)


@pytest.fixture
def write(tmp_path):
    """write(name, code) -> path of a file holding the dedented code."""

    def _write(name, code):
        path = tmp_path / name
        path.write_text(textwrap.dedent(code))
        return path

    return _write


def solution_text(name="softmax"):
    from grader.stubs import strip_markers

    return strip_markers((ROOT / "solutions" / f"{name}.py").read_text())


_EXPECT = re.compile(r"# expect (\w+): (pass|fail)\s*([^;]*)(?:;\s*score\s+([0-9.]+))?\s*$")


def expectations(path):
    """A corpus file's header, `# expect <task>: pass` or `# expect <task>: fail <codes>[; score <points>]`,
    as {task: (passes, sorted codes, score or None)}; a failing task with parts names its score.
    A notebook's header is the top of its first cell."""
    found = {}
    text = path.read_text()
    if path.suffix == ".ipynb":
        text = "".join(json.loads(text)["cells"][0]["source"])
    for line in text.splitlines()[:10]:
        match = _EXPECT.match(line)
        if match:
            score = float(match.group(4)) if match.group(4) else None
            found[match.group(1)] = (match.group(2) == "pass", sorted(match.group(3).split()), score)
    return found


def reasons(task):
    """A task's facts, its own or its failed parts', for assertion messages."""
    return "; ".join([task.fact] * bool(task.fact) + [f"{p.name}: {p.fact}" for p in task.parts if not p.passed])


def assert_verdicts(report, expected):
    """Each task passes with full marks and no diagnosis, or fails below full marks, says why, and has
    exactly its codes (a task with parts: the codes of its failed parts)."""
    for task in report.tasks:
        passed, codes, score = expected[task.name]
        assert task.passed == passed, f"{task.name}: {reasons(task)}"
        if passed:
            assert task.diagnoses == () and task.score == task.max_score
        else:
            assert task.score == (0 if score is None else score), f"{task.name}: {reasons(task)}"
            assert sorted(task.diagnoses) == codes, f"{task.name}: {reasons(task)}"
            assert task.fact or task.parts  # every failure says why
            assert all(part.fact for part in task.parts if not part.passed)


# The distribution, for the slow tests: built once per session from this checkout, and
# installed into fresh virtual environments without an index, from a wheelhouse.


@pytest.fixture(scope="session")
def dists(tmp_path_factory):
    """(sdist, wheel) made by `python -m build` (the wheel is built from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,), (wheel,) = list(out.glob("*.tar.gz")), list(out.glob("*.whl"))
    return sdist, wheel


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory, dists):
    """Our wheel and a wheel of every dependency, fetched once by `pip download` (from the index,
    or pip's cache when it has them), so that every install a test makes runs with --no-index."""
    house = tmp_path_factory.mktemp("wheelhouse")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--only-binary", ":all:", "--dest", str(house), str(dists[1])],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return house


def offline_env(wheelhouse):
    """This environment, with pip unable to reach an index (only the wheelhouse) and without the
    virtual environment the tests run in (its bin/ off PATH), so nothing from it leaks in."""
    ours = str(Path(sys.executable).parent)
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep) if part != ours)
    env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse), PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


class InlinePool:
    """WorkerPool's interface, grading in this process: no worker to start."""

    def __init__(self, function, jobs, deadline=None, preload=()):
        self.function = function

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def run(self, jobs, on_done):
        for tag, args in jobs:
            on_done(tag, "ok", self.function(*args))
