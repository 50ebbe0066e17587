"""Backprop by hand: a task forbidding autodiff scores 0 when the file imports one, found in its source."""

import dataclasses
import types

import pytest
from conftest import SUBMISSIONS, run_json

from grader import exercises
from grader.checking.grading import grade_file
from grader.checking.spec import AUTODIFF
from grader.integrations.notebook import grade_one
from grader.reading.forbidden_imports import find, without_imports
from grader.reading.submission import Chunk, Submission

SOFTMAX = exercises.load("softmax")


def py(code):
    return Submission("s.py", "py", (Chunk("s.py", code),))


@pytest.mark.parametrize(
    "code, module, line",
    [
        ("import torch", "torch", 1),
        ("import torch.nn as nn", "torch", 1),
        ("import numpy as np, jax.numpy as jnp", "jax", 1),
        ("from jax import grad", "jax", 1),
        ("from autograd import numpy as anp", "autograd", 1),
        ("def f():\n    import tensorflow as tf\n    return tf", "tensorflow", 2),
        ("t = __import__('torch')", "torch", 1),
        ("import importlib\njnp = importlib.import_module('jax.numpy')", "jax", 2),
        ("from importlib import import_module\nt = import_module('torch')", "torch", 2),
    ],
)
def test_every_way_of_importing_is_found_with_its_line(code, module, line):
    assert find(py(code), AUTODIFF) == {module: [f"s.py, line {line}"]}


@pytest.mark.parametrize(
    "code",
    [
        "import numpy as np\n# import torch\ntext = 'import torch'",
        "from . import torch",  # a relative import is the learner's own module
        "import torchvision_like_name",
        "name = 'torch'\nt = __import__(name)",  # not a literal: nothing to read (and the jail has no torch)
    ],
)
def test_mentions_that_are_not_imports_of_an_autodiff_library_are_not_found(code):
    assert find(py(code), AUTODIFF) == {}


def test_removing_the_imports_keeps_the_other_names_and_every_line_number():
    code = "import numpy as np, torch\nfrom jax import (\n    grad,\n)\nx = __import__(\n    'torch')\ny = np.ones(2)"
    stripped = without_imports(py(code), {"torch", "jax"}).chunks[0].code
    assert stripped.split("\n") == ["import numpy as np", "pass", "", "", "x = (None", ")", "y = np.ones(2)"]
    compile(stripped, "s.py", "exec")


def test_a_torch_file_still_gets_its_forward_graded_and_says_why_the_rest_is_zero():
    report = grade_file(SUBMISSIONS / "softmax" / "autodiff_torch.py", SOFTMAX, timeout=2.0)
    assert report.task("forward").passed
    for name in ("dZ", "dW", "db"):
        task = report.task(name)
        assert (task.score, task.diagnoses) == (0, ("autodiff_used",))
        assert task.fact.startswith("the file imports torch (autodiff_torch.py, line 7)")
        assert "chain rule" in task.hint
    # `torch.manual_seed(0)` at the top needs the removed import: only the definitions ran, and it says so.
    assert report.cut_short.reason.startswith("the file does not run without its import of torch (NameError")
    assert report.cut_short.skipped == ("autodiff_torch.py, line 9: torch.manual_seed(0)",)


def test_an_exercise_without_forbidden_imports_grades_such_a_file_as_before(tmp_path):
    # The guard is the spec's: a task that lists no module is graded whatever the file imports.
    code = (SUBMISSIONS / "softmax" / "correct_vectorized.py").read_text() + "\ndef helper():\n    import jax\n"
    path = tmp_path / "softmax.py"
    path.write_text(code)
    report = grade_file(path, SOFTMAX, timeout=2.0)
    assert [task.diagnoses for task in report.tasks] == [(), ("autodiff_used",), ("autodiff_used",), ("autodiff_used",)]
    lenient = dataclasses.replace(
        SOFTMAX, tasks=tuple(dataclasses.replace(task, forbidden_imports=()) for task in SOFTMAX.tasks)
    )
    assert grade_file(path, lenient, timeout=2.0).score == 4


def test_grade_check_json_names_the_code():
    _, report = run_json("check", SUBMISSIONS / "softmax" / "autodiff_torch.py", "-e", "softmax", "--timeout", 2)
    assert [task["diagnoses"] for task in report["tasks"]] == [[], ["autodiff_used"]] + [["autodiff_used"]] * 2
    assert report["cut_short"]["skipped"] == ["autodiff_torch.py, line 9: torch.manual_seed(0)"]


def test_a_notebooks_feedback_cell_says_autodiff_used_too():
    namespace = {}
    exec((SUBMISSIONS / "softmax" / "correct_vectorized.py").read_text(), namespace)
    namespace["torch"] = types.ModuleType("torch")  # what `import torch` leaves in the kernel
    result = grade_one("softmax", "dZ", namespace)
    assert (result.score, result.diagnoses) == (0, ("autodiff_used",))
    assert grade_one("softmax", "forward", namespace).passed
