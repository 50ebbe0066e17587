"""The distribution, backprop-grade: `python -m build` makes an sdist and a wheel that carry no
solution, and the wheel, installed in a clean virtual environment, grades from outside the checkout."""

import json
import subprocess
import sys
import tarfile
import zipfile

import pytest
from conftest import ROOT, SUBMISSIONS, offline_env, run_json, score_line, solution_text

from grader import DISTRIBUTION, __version__
from grader.stubs import BEGIN, END

pytestmark = pytest.mark.slow


def archive_texts(path):
    """{member name: text} of a wheel or an sdist (directories left out)."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            return {
                name: archive.read(name).decode("utf-8", "replace")
                for name in archive.namelist()
                if not name.endswith("/")
            }
    with tarfile.open(path) as archive:
        return {
            member.name: archive.extractfile(member).read().decode("utf-8", "replace")
            for member in archive.getmembers()
            if member.isfile()
        }


def solution_regions():
    """The code between the solution markers of every reference solution: what no student may get."""
    regions = []
    for path in sorted((ROOT / "solutions").glob("*.py")):
        inside, lines = False, []
        for line in path.read_text().splitlines():
            if line.strip() == BEGIN:
                inside, lines = True, []
            elif line.strip() == END:
                inside = False
                regions.append((path.name, "\n".join(lines)))
            elif inside:
                lines.append(line)
    return regions


def test_build_makes_an_sdist_and_a_wheel_named_for_the_distribution(dists):
    sdist, wheel = dists
    stem = DISTRIBUTION.replace("-", "_")
    assert sdist.name == f"{stem}-{__version__}.tar.gz"
    assert wheel.name == f"{stem}-{__version__}-py3-none-any.whl"


@pytest.mark.parametrize("which", ["sdist", "wheel"])
def test_no_solution_is_shipped(dists, which):
    texts = archive_texts(dists[0] if which == "sdist" else dists[1])
    regions = solution_regions()
    assert len(regions) >= 10  # the three exercises' solutions were found
    for name, text in texts.items():
        stub = which == "sdist" and name.split("/")[1:2] == ["exercises"]  # the wheel's grader/stubs_data/
        assert "solutions/" not in name and "/tests/" not in name, name
        assert stub or "exercises/" not in name.replace("grader/exercises/", ""), name
        for solution, region in regions:
            assert region not in text, f"{name} holds a solution region of {solution}"


def test_the_wheel_carries_the_files_read_at_run_time(dists):
    texts = archive_texts(dists[1])
    names = set(texts)
    assert "grader/integrations/gradescope_results.schema.json" in names
    assert {
        "grader/integrations/gradescope_files/setup.sh",
        "grader/integrations/gradescope_files/run_autograder",
    } <= names
    # The learners' stubs, for grade init (test_no_solution_is_shipped: they hold no solution): exercises/,
    # their one copy in the checkout, mapped by setup.py, every file as it is there.
    stubs = {name: text for name, text in texts.items() if name.startswith("grader/stubs_data/")}
    assert stubs == {
        f"grader/stubs_data/{path.name}": path.read_text() for path in sorted((ROOT / "exercises").glob("*.py"))
    }
    assert len(stubs) >= 6
    top = {name.split("/")[0] for name in names}
    assert top == {"grader", f"{DISTRIBUTION.replace('-', '_')}-{__version__}.dist-info"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory, dists, wheelhouse):
    """bin/ of a clean virtual environment (no system site-packages) holding only the wheel and its
    dependencies, installed with --no-index from the wheelhouse."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    env = offline_env(wheelhouse)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=300)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", str(dists[1])],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return venv / "bin", env


def run_installed(installed, *args, cwd):
    bindir, env = installed
    return subprocess.run(
        [str(bindir / "grade"), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def test_the_installed_package_is_not_the_checkout(installed, tmp_path):
    bindir, env = installed
    where = subprocess.run(
        [str(bindir / "python"), "-c", "import grader; print(grader.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(bindir.parent)) and not where.startswith(str(ROOT))
    version = run_installed(installed, "--version", cwd=tmp_path)
    assert version.stdout.strip() == f"grade {__version__} ({DISTRIBUTION})"


@pytest.mark.parametrize(
    "name", ["softmax/correct_vectorized.py", "softmax/db_missing_keepdims.py", "two_layer/mask_from_dA.py"]
)
def test_the_installed_wheel_grades_as_the_checkout_does(installed, tmp_path, name):
    source = SUBMISSIONS / name
    exercise = source.parent.name
    submission = tmp_path / source.name
    submission.write_text(source.read_text())
    outside = run_installed(installed, "check", submission, "-e", exercise, "--json", cwd=tmp_path)
    _, inside = run_json("check", source, "-e", exercise)
    assert json.loads(outside.stdout)["tasks"] == inside["tasks"]
    assert outside.returncode == (0 if inside["score"] == inside["max_score"] else 1)


def test_the_installed_wheel_grades_a_correct_file_full_marks(installed, tmp_path):
    (tmp_path / "softmax.py").write_text(solution_text("softmax"))
    result = run_installed(installed, "check", "softmax.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert score_line(result.stdout) == "softmax: 4/4 points"


def test_a_student_with_only_the_wheel_starts_from_grade_init(installed, tmp_path):
    result = run_installed(installed, "init", "softmax", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "softmax.py").read_text() == (ROOT / "exercises" / "softmax.py").read_text()
    assert run_installed(installed, "init", "two_layer", "--notebook", cwd=tmp_path).returncode == 0
    assert (tmp_path / "two_layer.ipynb").is_file()


def test_generating_stubs_and_nbgrader_sources_needs_a_checkout(installed, tmp_path):
    stubs = run_installed(installed, "stubs", cwd=tmp_path)
    assert (stubs.returncode, stubs.stdout) == (2, "")
    assert stubs.stderr == "grade: no solutions/ directory under .\n"
    source = run_installed(installed, "nbgrader-source", "course", cwd=tmp_path)
    assert (source.returncode, source.stdout) == (2, "")
    assert "no solutions/ directory here: run from a checkout of the project or pass --root" in source.stderr
    # Given a checkout's root, the installed command generates the notebooks.
    source = run_installed(installed, "nbgrader-source", "course", "--root", ROOT, "-e", "softmax", cwd=tmp_path)
    assert source.returncode == 0, source.stderr
    assert (tmp_path / "course" / "source" / "softmax" / "softmax.ipynb").is_file()
