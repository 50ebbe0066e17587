"""Stubs are generated from solutions and must not drift."""

import pytest
from conftest import ROOT, run_grade

from grader.stubs import StubError, drifted, make_stub


def test_no_stub_has_drifted_from_its_solution():
    assert drifted(ROOT) == [], "run `grade stubs` after editing solutions/"
    assert run_grade("stubs", "--check", "--root", ROOT).returncode == 0


def test_a_solution_region_becomes_a_raise_at_its_indentation():
    source = 'def db(dZ):\n    """Docs."""\n    ### BEGIN SOLUTION\n    return dZ.sum(0)\n    ### END SOLUTION\n'
    stub = make_stub(source)
    assert stub == (
        'def db(dZ):\n    """Docs."""\n    # YOUR CODE HERE\n'
        '    raise NotImplementedError("db: replace this line with your code")\n'
    )


def test_unbalanced_markers_are_an_error():
    with pytest.raises(StubError, match="never closed"):
        make_stub("def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(StubError, match="without"):
        make_stub("def f():\n    ### END SOLUTION\n")


def test_a_drifted_stub_is_reported(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "exercises").mkdir()
    (tmp_path / "solutions" / "toy.py").write_text(
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    )
    (tmp_path / "exercises" / "toy.py").write_text("def f():\n    return 1  # edited by hand\n")
    result = run_grade("stubs", "--check", "--root", tmp_path)
    assert result.returncode == 1 and "out of date" in result.stdout
    assert run_grade("stubs", "--root", tmp_path).returncode == 0
    assert drifted(tmp_path) == []


def test_stub_docstrings_teach_shapes_and_the_reason_for_subtracting_one():
    stub = (ROOT / "exercises" / "softmax.py").read_text()
    assert "(m, k)" in stub and "(1, k)" in stub
    assert "p_j - [j = y]" in stub and "keepdims=True" in stub
    assert "### BEGIN SOLUTION" not in stub and stub.count("raise NotImplementedError") == 4
