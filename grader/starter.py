"""`grade init EXERCISE [--notebook]`: the learner's starting file, written into the current folder.

A built-in exercise's stub is the checkout's exercises/<name>.py (generated from the solutions
by `grade stubs`; a stub holds no solution), its only copy: the wheel ships that folder as
grader/stubs_data/ (setup.py maps it), so a student with only the wheel has it, and a checkout
or an editable install reads exercises/ itself. A course exercise's stub is the course's
exercises/<name>.py. With --notebook the stub becomes a notebook: its docstring as the
introduction, its imports and the grader's in the first cell, then each function in a cell of
its own with a feedback cell under it.
"""

import json
from importlib import resources
from pathlib import Path

from .reading.submission import UsageError


def stub_text(spec, registry):
    """The stub of exercise SPEC, or UsageError when there is none."""
    kind, where = registry.origin(spec.name)
    if kind == "built-in":
        for shipped in (
            resources.files("grader") / "stubs_data" / f"{spec.name}.py",  # an installed wheel
            Path(__file__).resolve().parent.parent / "exercises" / f"{spec.name}.py",  # a checkout
        ):
            if shipped.is_file():
                return shipped.read_text(encoding="utf-8")
    elif kind == "course":
        path = registry.course.root / "exercises" / f"{spec.name}.py"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise UsageError(f"exercise {spec.name!r} has no stub to start from: ask your instructor for its file")


def notebook_of(spec, stub, filename):
    """The stub as a plain notebook's JSON (nbformat 4.5, no nbgrader metadata) with a feedback cell under
    each task's function. Written without nbformat: importing it and validating take seconds."""
    from .integrations.nbgrader_source import feedback_source, for_a_notebook, split_solution

    docstring, pieces = split_solution(stub, filename)
    tasks = {task.name: task for task in spec.tasks}
    cells = [_cell("markdown", f"# {spec.title}\n\n{for_a_notebook(docstring)}".rstrip())]
    asked = False
    for name, code in pieces:
        if name is None and not asked:  # the imports: the grader's beside them (grade check drops it)
            code, asked = f"{code}\nfrom grader import feedback", True
        cells.append(_cell("code", code))
        if name in tasks:
            cells.append(_cell("code", feedback_source(spec, tasks[name])))
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    notebook = {
        "cells": cells,
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _cell(kind, source):
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def write_start(spec, registry, notebook=False, folder=Path(".")):
    """Write SPEC's stub (or its notebook) into FOLDER; its path. Never overwrites: UsageError."""
    target = Path(folder) / f"{spec.name}.{'ipynb' if notebook else 'py'}"
    stub = stub_text(spec, registry)
    text = notebook_of(spec, stub, f"{spec.name}.py") if notebook else stub
    try:
        with open(target, "x", encoding="utf-8") as handle:  # "x": fails if it exists, even if made meanwhile
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"{target.name} already exists here: not overwritten (rename it to start again)") from None
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None
    return target
