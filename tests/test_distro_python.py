"""The grader on the distribution's own python3 (Debian's and Ubuntu's /usr/bin/python3, as Gradescope's
image has it), for real: the Gradescope zip's setup.sh run with PATH=/usr/bin:/bin makes its virtual
environment from it; run_autograder grades there; and the jail's attacks (read, write, network,
signals, importing the grader) run in that environment, as root and as an ordinary user.

Skipped where /usr/bin/python3 is not a distribution's Python (its standard library not in
/usr/lib/python3.X or /usr/lib64/python3.X), or lacks venv (Debian's python3-venv; .ci/run installs
it, and sets GRADE_REQUIRE_DISTRO_PYTHON=1 so that a missing one fails rather than skips).
Other layouts (Fedora's lib64, conda, Docker's /usr/local, uv) are simulated in test_python_layouts.py.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, SUBMISSIONS, offline_env, run_grade, solution_text
from test_gradescope import SEED, submit
from test_jail import findings, listeners, open_dir, owner_of_grader, run_probe, runner, victim  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow  # a virtual environment and an install, then jails in it

DISTRO_PYTHON = "/usr/bin/python3"
_LAYOUT = (
    "import json, sys, sysconfig; print(json.dumps({'stdlib': sysconfig.get_paths()['stdlib'], "
    "'version': '%d.%d' % sys.version_info[:2], 'venv': __import__('importlib.util').util.find_spec('ensurepip') "
    "is not None}))"
)


def distribution_python():
    """/usr/bin/python3's layout if it is a distribution's Python the grader supports, else skip saying why."""
    if not os.path.exists(DISTRO_PYTHON):
        pytest.skip(f"no {DISTRO_PYTHON}")
    done = subprocess.run([DISTRO_PYTHON, "-I", "-c", _LAYOUT], capture_output=True, text=True, timeout=60)
    layout = json.loads(done.stdout)
    version = layout["version"]
    if layout["stdlib"] not in (f"/usr/lib/python{version}", f"/usr/lib64/python{version}"):
        pytest.skip(f"{DISTRO_PYTHON} is not a distribution's Python (its standard library: {layout['stdlib']})")
    if tuple(map(int, version.split("."))) < (3, 10):
        pytest.skip(f"{DISTRO_PYTHON} is Python {version}; the grader needs 3.10 or newer")
    if not layout["venv"]:
        message = f"{DISTRO_PYTHON} has no ensurepip: install python3-venv (.ci/run does, as root)"
        if os.environ.get("GRADE_REQUIRE_DISTRO_PYTHON"):
            pytest.fail(message)
        pytest.skip(message)
    return layout


@pytest.fixture(scope="module")
def autograder(tmp_path_factory, dists, wheelhouse):
    """A Gradescope root whose source/venv setup.sh made with the distribution's python3, as Gradescope's
    Ubuntu image runs it (PATH=/usr/bin:/bin), from the session's wheel; pip held to the wheelhouse when
    it was fetched for this Python's version, else as this machine has pip (its index, its cache)."""
    layout = distribution_python()
    root = tmp_path_factory.mktemp("distro-autograder")
    root.chmod(0o755)
    zipped = root / "autograder.zip"
    made = run_grade("gradescope", "-e", "softmax", "-o", zipped, "--seed", SEED, "--wheel", dists[1], timeout=600)
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(zipped) as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):
        (root / "source" / name).chmod(0o755)
    same_version = layout["version"] == "{}.{}".format(*sys.version_info[:2])
    env = offline_env(wheelhouse) if same_version else dict(os.environ)
    env = {key: value for key, value in env.items() if key.startswith("PIP_") or key in ("HOME", "LANG")}
    env.update(PATH="/usr/bin:/bin", GRADESCOPE_ROOT=str(root))
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        capture_output=True,
        text=True,
        env=env,
        cwd=root / "source",
        timeout=900,
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    return root, env


@pytest.fixture(scope="module")
def python(autograder):
    """The virtual environment's interpreter, with the grader installed (from the zip's wheel)."""
    return autograder[0] / "source" / "venv" / "bin" / "python"


def test_setup_made_its_environment_from_the_distributions_python(autograder, python):
    config = (python.parent.parent / "pyvenv.cfg").read_text()
    assert "home = /usr/bin" in config.splitlines(), config
    doctor = subprocess.run([python.parent / "grade", "doctor"], capture_output=True, text=True, timeout=120)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    stdlib = distribution_python()["stdlib"]
    assert f"stdlib     {stdlib}" in doctor.stdout and f"stdlib     {stdlib}/lib-dynload" in doctor.stdout


def test_run_autograder_grades_with_the_distributions_python(autograder):
    results, log = submit(autograder, {"softmax.py": solution_text()})
    assert results["score"] == 4, log
    buggy, _ = submit(autograder, {"hw.py": (SUBMISSIONS / "softmax" / "db_missing_keepdims.py").read_text()})
    assert buggy["score"] == 3 and buggy["tests"][3]["tags"] == ["missing_keepdims"]


def test_the_jail_holds_in_the_distributions_python(runner, python, open_dir, listeners, victim):  # noqa: F811
    """The attacks of test_jail.py that matter most, at once, and honest code that needs the standard library."""
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    pid, hit = victim
    targets = {
        "classmate": open_dir / "classmate.py",
        "class_listing": open_dir,
        "grader_source": site / "grader" / "checking" / "gradcheck.py",
        "venv_site_packages": site,
        "distribution_packages": "/usr/lib/python3/dist-packages",
        "checkout": ROOT / "pyproject.toml",
        "home": owner_of_grader(runner).pw_dir,
        "shadow": "/etc/shadow",
    }
    allowed = "numpy scipy matplotlib mpl_toolkits contourpy cycler fontTools kiwisolver packaging PIL pyparsing"
    code = (
        f"ALLOWED = set({allowed!r}.split()) | {{'dateutil', 'six.py'}}\n"
        "def listing(path):\n"
        "    return [n for n in os.listdir(path) if n not in ALLOWED and not n.endswith('.libs')] or 1/0\n"
        "def read(path):\n"
        "    return listing(path) if os.path.isdir(path) else open(path, 'rb').read(64)\n"
    )
    code += "".join(f"attempt({name!r}, lambda: read({str(path)!r}))\n" for name, path in targets.items())
    attacks = {
        "overwrite_classmate": f"open({str(open_dir / 'classmate.py')!r}, 'a').write('ANSWER = 0')",
        "pth_in_site_packages": f"open({str(site / 'x.pth')!r}, 'w').write('import os')",
        "tcp_localhost": f"__import__('socket').create_connection(('127.0.0.1', {listeners['tcp']}), timeout=1)",
        "unix_socket": f"__import__('socket').socket(1, 1).connect({listeners['unix']!r})",
        "any_socket": "__import__('socket').socket()",
        "sigkill_grader": f"os.kill({pid}, 9)",
        "sigusr1_grader": f"os.kill({pid}, 10)",
        "ptrace_grader": f"__import__('ctypes').CDLL(None, use_errno=True).ptrace(16, {pid}, 0, 0) == 0 or 1/0",
        "import_grader": "__import__('grader')",
    }
    code += "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    code += """
def forward(X, W, b):
    import decimal, json, lzma, mmap, zoneinfo, numpy.linalg
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.figure().savefig("/tmp/plot.png")
    assert os.path.getsize("/tmp/plot.png") > 1000
    return X @ W + b
"""

    result = run_probe(
        runner,
        code,
        call="forward",
        timeout=60,
        python=python,
        open_dirs=[open_dir, os.path.dirname(listeners["unix"])],
    )
    assert result["call"]["status"] == "ok", result
    assert findings(result, [*targets, *attacks]) == []
    assert (open_dir / "classmate.py").read_text() == "ANSWER = 42\n" and not (site / "x.pth").exists()
    assert not hit.exists()
    os.kill(pid, 0)  # the grader's stand-in is alive


def test_setup_fails_the_build_when_the_jail_cannot_run(autograder):
    """Last in this module (it runs setup.sh again on the same root): `grade doctor` failing (exit 2 or
    3) fails the image's build, so no student's submission meets a grader that cannot start."""
    root, env = autograder
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        capture_output=True,
        text=True,
        env={**env, "GRADE_SANDBOX": "no-such-backend"},
        cwd=root / "source",
        timeout=900,
    )
    assert setup.returncode == 1, setup.stdout[-2000:] + setup.stderr[-2000:]
    assert "setup.sh: grade doctor exited with 2: the grader's sandbox cannot start in this image" in setup.stderr
