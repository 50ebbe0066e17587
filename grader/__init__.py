"""grade: a gradient-checking autograder for backpropagation exercises in numpy.

Public API for instructors writing exercises:

    from grader import check_gradient, numerical_gradient, relative_error
    from grader import check_directional   # sampled, for any number of parameters

and for a notebook's test cells:

    from grader import feedback
    feedback("softmax", "db", globals())

Names are imported on first use, so `import grader` (and the `grade` command's
start-up) does not pay for numpy before it needs it.
"""

import os

# One BLAS thread per grading process: the inputs are small, and `grade batch`
# runs one process per core, where threaded BLAS only adds contention.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

__version__ = "0.2.0"  # the only place: pyproject.toml reads it; stored batch results are keyed by it
DISTRIBUTION = "backprop-grade"  # what pip installs; "grade" on PyPI is another project

_PUBLIC = {
    "check_directional": "grader.checking.directional",
    "check_gradient": "grader.checking.gradcheck",
    "numerical_gradient": "grader.checking.gradcheck",
    "relative_error": "grader.checking.gradcheck",
    "feedback": "grader.integrations.notebook",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
