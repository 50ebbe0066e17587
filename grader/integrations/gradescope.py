"""`grade gradescope`: a Gradescope autograder zip for one exercise.

The zip holds, at its top level, what Gradescope asks for and what they need:

- setup.sh: run once when Gradescope builds the image; installs the wheel below and numpy into
  a virtual environment (gradescope_files/setup.sh);
- run_autograder: run for each submission; always writes results/results.json
  (gradescope_files/run_autograder, which calls grader.integrations.gradescope_run);
- the grader's wheel, built from this checkout or given (--wheel): no git host, no PyPI
  release of the grader needed; it carries no solutions;
- grade.json: the exercise and the grading settings, the private seed and the course secret
  among them;
- course/specs/*.py, for an exercise from a course directory: the course's spec files.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import DISTRIBUTION
from ..reading.submission import UsageError
from .gradescope_run import SETTINGS

FILES = Path(__file__).with_name("gradescope_files")
SCRIPTS = ("setup.sh", "run_autograder")
_WHEEL_NAME = re.compile(rf"{DISTRIBUTION.replace('-', '_')}-[^-]+-py3-none-any\.whl")


@dataclass(frozen=True)
class Settings:
    """What grade.json holds: run_autograder grades with these."""

    exercise: str
    timeout: float
    memory_mb: int
    seed: int
    time_limit: float  # seconds for the whole `grade check` before results.json says it failed
    visibility: str = "visible"
    stdout_visibility: str = "hidden"
    trust_submissions: bool = False  # grade even where the container's kernel lacks a layer of the jail
    course: str | None = None  # the folder in the zip holding the course's specs/, for a course exercise
    secret: str | None = None  # the course secret: each student graded on their own inputs (variants.py)


COURSE = "course"  # where a course exercise's spec files go in the zip: course/specs/

# A submission can print its inputs into its own feedback and search for the seed that made them offline:
# 32 bits take a laptop minutes, 128 bits are out of anyone's reach.
SEED_BITS = 128


def private_seed():
    """A new private seed for a zip's grade.json, when the instructor gives none."""
    import secrets

    return secrets.randbits(SEED_BITS)


def write_zip(out, settings, wheel=None, course_files=()):
    """Write the autograder zip to OUT; return the wheel's file name. WHEEL: a built wheel of this
    distribution, or None to build one from the checkout the running grader comes from. COURSE_FILES:
    (file name, source) of the course's spec files, for an exercise from a course (settings.course)."""
    with tempfile.TemporaryDirectory(prefix="grade-gradescope-") as scratch:
        wheel = check_wheel(Path(wheel)) if wheel is not None else build_wheel(Path(scratch))
        partial = Path(f"{out}.partial")
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for name in SCRIPTS:
                    _add(archive, name, (FILES / name).read_bytes(), executable=True)
                _add(archive, wheel.name, wheel.read_bytes())
                _add(archive, SETTINGS, (json.dumps(asdict(settings), indent=2) + "\n").encode())
                for name, source in course_files:
                    _add(archive, f"{settings.course}/specs/{name}", source.encode("utf-8"))
            os.replace(partial, out)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    return wheel.name


def _add(archive, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same wheel and settings, the same zip
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    archive.writestr(info, data)


def checkout_root():
    """The project checkout the running grader is imported from, or None (installed from a wheel)."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and f'name = "{DISTRIBUTION}"' in pyproject.read_text():
        return root
    return None


def build_wheel(into):
    """The wheel of this checkout, built by pip into INTO.

    From a copy of what the wheel is made of: pip builds in the source tree, and a stale
    build/ left in a checkout can carry deleted modules into the wheel.
    """
    root = checkout_root()
    if root is None:
        raise UsageError(
            "this grade is installed from a wheel, not a checkout, so it cannot build one: "
            f"pass --wheel PATH ({DISTRIBUTION.replace('-', '_')}-*.whl)"
        )
    source = into / "source"
    shutil.copytree(root / "grader", source / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(root / name, source / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(into), str(source)],
        capture_output=True,
        text=True,
    )
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        last = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise UsageError(f"building the grader's wheel from {root} failed: {last[0]} (or pass --wheel PATH)")
    return wheels[0]


def check_wheel(path):
    """PATH if it is a wheel of this distribution that can run the zip; else UsageError."""
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if not _WHEEL_NAME.fullmatch(path.name):
        raise UsageError(
            f"{path.name}: expected a wheel of {DISTRIBUTION}, "
            f"{DISTRIBUTION.replace('-', '_')}-VERSION-py3-none-any.whl"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile) as error:
        raise UsageError(f"{path}: not a readable wheel ({error})") from None
    if "grader/integrations/gradescope_run.py" not in names:
        raise UsageError(f"{path.name} is a grader too old for Gradescope zips: build a newer wheel")
    return path
