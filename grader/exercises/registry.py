"""Where exercises come from: the built-in specs, a course directory, installed packages.

- built-in: grader/exercises/<name>.py (listed in BUILTIN);
- a course directory: COURSE/specs/<name>.py, one spec per file defining EXERCISE (files
  starting with _ are helpers the specs may import: `from . import _common`); the course's
  solutions/ and exercises/ (stubs) sit beside specs/. The directory is given (--course) or
  found upward from the current directory: a grade.toml, or a pyproject.toml with a
  [tool.grade] table (key `specs`: the spec folder, default "specs");
- installed packages: entry points of the group `grade.exercises`, `name = "pkg.module"`
  (a module defining EXERCISE) or `name = "pkg.module:OBJECT"` (an Exercise).

A name defined twice (a course or a package reusing a built-in's name, or each other's),
a spec that does not import and a spec without EXERCISE are one-line UsageErrors naming
the file. Specs are imported only when asked for, as the built-ins are.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from ..reading.submission import UsageError

BUILTIN = ("softmax", "two_layer", "n_layer", "normalization", "conv", "rnn")
ENTRY_POINTS = "grade.exercises"
CONFIG_FILE = "grade.toml"
CONFIG_KEYS = {"specs": "the folder of spec files, relative to the config file (default: specs)"}


@dataclass(frozen=True)
class Course:
    root: Path  # solutions/ and exercises/ (the stubs) are here
    specs: Path  # the spec files
    config: Path | None = None  # the file that named it, if one did

    @classmethod
    def at(cls, directory):
        """The course in DIRECTORY (its grade.toml or pyproject.toml's [tool.grade] if it has one)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise UsageError(f"no such course directory: {directory}")
        return _course_from_config(directory) or cls(directory, directory / "specs")


def find_course(start=None):
    """The course whose config file is in START (default: the current directory) or above it, or None."""
    here = Path(start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        course = _course_from_config(directory)
        if course:
            return course
    return None


def _course_from_config(directory):
    """A Course from DIRECTORY's grade.toml, else from its pyproject.toml's [tool.grade], else None."""
    path = directory / CONFIG_FILE
    if path.is_file():
        return _course(path, _read_toml(path))
    path = directory / "pyproject.toml"
    # Most projects have no grade table: look for its name before paying for a TOML parser.
    if path.is_file() and "tool.grade" in path.read_text(encoding="utf-8", errors="replace"):
        table = _read_toml(path).get("tool", {}).get("grade")
        if table is not None:
            return _course(path, table)
    return None


def _read_toml(path):
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: tomli, the same parser, is a dependency there
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"{path}: cannot read it as TOML: {error}") from None


def _course(path, table):
    where = f"{path} [tool.grade]" if path.name == "pyproject.toml" else str(path)
    if not isinstance(table, dict):
        raise UsageError(f"{where}: expected a table of settings")
    unknown = sorted(set(table) - set(CONFIG_KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(CONFIG_KEYS)}")
    specs = table.get("specs", "specs")
    if not isinstance(specs, str):
        raise UsageError(f"{where}: specs must be a folder name (a string)")
    if "specs" in table and not (path.parent / specs).is_dir():  # the default may be absent: no exercises
        raise UsageError(f"{where}: specs = {specs!r}, but {path.parent / specs} is not a folder")
    return Course(path.parent, path.parent / specs, path)


@dataclass(frozen=True)
class Shipped:
    """A course exercise as it travels to a grading worker that may not share this machine's files
    (a Dask worker): its name and the course's spec files, (file name, source) pairs."""

    name: str
    files: tuple[tuple[str, str], ...]

    @property
    def digest(self):
        import hashlib

        text = "\0".join(f"{name}\0{source}" for name, source in self.files)
        return hashlib.sha256(text.encode()).hexdigest()


class Registry:
    """The exercises one command can grade: built-in, the course's and the installed packages'."""

    def __init__(self, course=None, entry_points=True):
        self.course = course
        self._loaded = {}
        self._origins = {name: ("built-in", None) for name in BUILTIN}
        for path in course_spec_files(course):
            self._add(path.stem, ("course", path), str(path))
        # The installed packages' exercises are looked up only when a name is not found here, or every
        # exercise is asked for: reading every package's metadata costs more than grading a file.
        self._scan_pending = entry_points

    def _scan_entry_points(self):
        if not self._scan_pending:
            return
        self._scan_pending = False
        import importlib.metadata

        for point in importlib.metadata.entry_points(group=ENTRY_POINTS):
            where = f"entry point {point.name} = {point.value} ({_distribution(point)})"
            self._add(point.name, ("package", point), where)

    def _add(self, name, origin, where):
        if name in self._origins:
            kind, other = self._origins[name]
            said = "the built-in exercise" if kind == "built-in" else str(other)
            raise UsageError(f"{where}: exercise {name!r} is already defined by {said}: rename it")
        if not name.isidentifier():
            raise UsageError(f"{where}: {name!r} is not a valid exercise name (letters, digits and _)")
        self._origins[name] = origin

    def names(self):
        self._scan_entry_points()
        return list(self._origins)

    def close_to(self, name):
        """The known exercise NAME is most likely a typo of, or None."""
        return close_match(name, self.names())

    def origin(self, name):
        """("built-in", None), ("course", spec path) or ("package", entry point)."""
        return self._origins[name]

    def load(self, name):
        """The Exercise called NAME, or a UsageError that lists the known ones."""
        if name not in self._origins:
            self._scan_entry_points()
        if name not in self._origins:
            close = self.close_to(name)
            said = f" (did you mean {close}?)" if close else ""
            raise UsageError(f"unknown exercise {name!r}{said}; known exercises: {', '.join(self._origins)}")
        if name not in self._loaded:
            self._loaded[name] = self._import(name)
        return self._loaded[name]

    def _import(self, name):
        kind, where = self._origins[name]
        if kind == "built-in":
            return importlib.import_module(f"grader.exercises.{name}").EXERCISE
        if kind == "package":
            label = f"entry point {where.name} = {where.value}"
            found = _guarded(label, where.load)
            exercise = found if _is_exercise(found) else getattr(found, "EXERCISE", None)
        else:
            label = str(where)
            module = _guarded(label, lambda: importlib.import_module(f"{_package(self.course.specs)}.{name}"))
            exercise = getattr(module, "EXERCISE", None)
        if exercise is None:
            raise UsageError(f"{label}: defines no EXERCISE = Exercise(...)")
        if not _is_exercise(exercise):
            raise UsageError(f"{label}: EXERCISE is {type(exercise).__name__}, not an Exercise")
        if exercise.name != name:
            raise UsageError(f"{label}: EXERCISE.name is {exercise.name!r}, expected {name!r}")
        return exercise

    def all(self):
        return [self.load(name) for name in self.names()]

    def shippable(self, name):
        """What a grading worker needs to load NAME: the name itself, or the course's spec files."""
        self.load(name)  # fails here, in one line, rather than on every worker
        if self._origins[name][0] != "course":
            return name
        files = tuple((path.name, path.read_text(encoding="utf-8")) for path in course_python_files(self.course))
        shipped = Shipped(name, files)
        _RECEIVED.setdefault(shipped.digest, self)  # a forked local worker finds it already loaded
        return shipped


def close_match(name, known):
    """The one of KNOWN closest to NAME when it is close enough to be a typo of it (difflib), else None."""
    import difflib

    lowered = {str(item).lower(): item for item in known}  # DW for dW: case is the likeliest slip
    found = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def course_spec_files(course):
    """The exercise specs of COURSE: specs/<name>.py, not the helpers (_*.py)."""
    return [path for path in course_python_files(course) if not path.name.startswith("_")]


def course_python_files(course):
    if course is None or not course.specs.is_dir():
        return []
    return sorted(path for path in course.specs.glob("*.py") if path.is_file())


def _distribution(point):
    dist = getattr(point, "dist", None)
    return f"package {dist.name}" if dist is not None else "an installed package"


def _is_exercise(value):
    from ..checking.spec import Exercise

    return isinstance(value, Exercise)


def _guarded(label, load):
    try:
        return load()
    except UsageError:
        raise
    except BaseException as error:  # a SyntaxError, an ImportError, SystemExit...: the instructor's to fix
        if isinstance(error, KeyboardInterrupt):
            raise
        message = str(error).strip().splitlines()
        detail = f"{type(error).__name__}: {message[0]}" if message else type(error).__name__
        raise UsageError(f"{label}: does not import: {detail}") from None


def _package(specs):
    """A package for the course's spec folder, so specs import each other (from . import _common)."""
    import hashlib

    name = "grader_course_" + hashlib.sha256(str(specs.resolve()).encode()).hexdigest()[:12]
    if name not in sys.modules:
        package = types.ModuleType(name)
        package.__path__ = [str(specs)]
        package.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        package.__spec__.submodule_search_locations = package.__path__
        sys.modules[name] = package
    return name


# Shipped course specs this process has received (or sent), by digest: each written out once.
_RECEIVED = {}


def resolve(ref, default):
    """The Exercise for a name (looked up in DEFAULT, a Registry) or a Shipped course exercise."""
    if isinstance(ref, str):
        return default.load(ref)
    registry = _RECEIVED.get(ref.digest)
    if registry is None:
        import tempfile

        where = Path(tempfile.mkdtemp(prefix="grade-course-")) / "specs"
        where.mkdir()
        for name, source in ref.files:
            (where / name).write_text(source, encoding="utf-8")
        registry = _RECEIVED[ref.digest] = Registry(Course(where.parent, where), entry_points=False)
    return registry.load(ref.name)
