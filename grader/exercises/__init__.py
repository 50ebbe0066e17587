"""The registry of exercises: one module per exercise, each defining EXERCISE.

Modules are imported by name only when asked for, so grading one exercise never
pays for building another's inputs.
"""

import importlib

from ..submission import UsageError

NAMES = ("softmax", "two_layer", "n_layer")


def load(name):
    """The Exercise called `name`, or a UsageError that lists the known ones."""
    if name not in NAMES:
        raise UsageError(f"unknown exercise {name!r}; known exercises: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}").EXERCISE


def all_exercises():
    return [load(name) for name in NAMES]
