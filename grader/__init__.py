"""grade: a gradient-checking autograder for backpropagation exercises in numpy.

Public API for instructors writing exercises:

    from grader import check_gradient, numerical_gradient, relative_error
    from grader import check_directional   # sampled, for any number of parameters
"""
import os

# One BLAS thread per grading process: the inputs are small, and `grade batch`
# runs one process per core, where threaded BLAS only adds contention.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

__version__ = "0.1.0"

from .directional import check_directional  # noqa: E402
from .gradcheck import check_gradient, numerical_gradient, relative_error  # noqa: E402

__all__ = ["check_directional", "check_gradient", "numerical_gradient", "relative_error", "__version__"]
