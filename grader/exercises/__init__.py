"""The exercises this process grades: the built-in ones, a course's, installed packages' (registry.py).

Modules are imported by name only when asked for, so grading one exercise never
pays for building another's inputs. The course comes from `use(directory)` (the
commands' --course), else from a config file found upward from the current directory.
"""

from .registry import BUILTIN, Registry, find_course, resolve

NAMES = BUILTIN  # the built-in exercises

_active = None


def use(course=None):
    """Make the exercises of COURSE (a Course, or None to look upward from the current directory)
    and of installed packages the ones load() knows; return the Registry."""
    global _active
    _active = Registry(course if course is not None else find_course())
    return _active


def active():
    return _active if _active is not None else use()


def load(name):
    """The Exercise called `name`, or a UsageError that lists the known ones."""
    return active().load(name)


def all_exercises():
    return active().all()


def load_shipped(ref):
    """The Exercise for what Registry.shippable gave: a name, or a course exercise's spec files."""
    return resolve(ref, active())
