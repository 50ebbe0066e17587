"""What grading produced, as data: a Report of TaskResults, their parts, and the notebook cells that raised.

A failure keeps its pieces apart: the fact (what was observed), the hint (the math
that fixes it), the diagnosis codes, the details (where, which entries) and the case
(the input it failed on). Renderers (grader/report.py) lay them out; nothing here
formats text for people.

`to_dict`/`from_dict` are the one plain-data form (JSON types only): what `grade
check --json` prints, the rows `grade batch` sends between processes and Dask
workers, and the stored results. `Report.from_dict(report.to_dict()) == report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CellError:
    """A notebook cell that raised while the submission was loading (the other cells still ran)."""

    cell: int | None  # the cell's number among all the notebook's cells, 1-based; None for a .py file
    where: str  # e.g. "softmax.ipynb, cell 2"
    type: str  # the exception's class name
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"cell": self.cell, "where": self.where, "type": self.type, "message": self.message}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellError:
        return cls(data["cell"], data["where"], data["type"], data["message"])


@dataclass(frozen=True)
class CutShort:
    """Loading the file did not finish in time, so it was loaded again with only its definitions
    (grader/reading/definitions.py) and graded on that."""

    reason: str  # e.g. "the file did not finish running within 60 s"
    skipped: tuple[str, ...]  # each top-level statement not run: "two_layer.ipynb, cell 9, lines 1-6: for lr in ..."

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "skipped": list(self.skipped)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CutShort:
        return cls(data["reason"], tuple(data["skipped"]))


@dataclass(frozen=True)
class PartResult:
    """One named share of a task's points, graded on its own (spec.Part)."""

    name: str
    score: float
    max_score: float
    passed: bool
    fact: str = ""
    hint: str = ""
    diagnoses: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    case: str = ""  # the label of the input it failed on; "" when it passed or failed before any input

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
            "diagnoses": list(self.diagnoses),
            "fact": self.fact,
            "hint": self.hint,
            "details": list(self.details),
            "case": self.case,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PartResult:
        return cls(
            data["name"],
            data["score"],
            data["max_score"],
            data["passed"],
            data["fact"],
            data["hint"],
            tuple(data["diagnoses"]),
            tuple(data["details"]),
            data["case"],
        )


@dataclass(frozen=True)
class TaskResult:
    """One task's score and, when it failed, why.

    A task without parts carries its failure in its own fields. A task with parts
    carries each part's in the part; its own fact, hint, details and case are set only
    when one failure took every part at once (the function raised, or returned the
    wrong type), and its diagnoses are those of all its failed parts.
    """

    name: str
    score: float
    max_score: float
    passed: bool
    fact: str = ""
    hint: str = ""
    diagnoses: tuple[str, ...] = ()
    details: tuple[str, ...] = ()
    case: str = ""
    parts: tuple[PartResult, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
            "diagnoses": list(self.diagnoses),
            "fact": self.fact,
            "hint": self.hint,
            "details": list(self.details),
            "case": self.case,
            "parts": [part.to_dict() for part in self.parts],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskResult:
        return cls(
            data["name"],
            data["score"],
            data["max_score"],
            data["passed"],
            data["fact"],
            data["hint"],
            tuple(data["diagnoses"]),
            tuple(data["details"]),
            data["case"],
            tuple(PartResult.from_dict(part) for part in data["parts"]),
        )


@dataclass(frozen=True)
class Report:
    """One submission graded against one exercise."""

    exercise: str
    title: str
    path: str
    score: float
    max_score: float
    tasks: tuple[TaskResult, ...]
    output: str = ""  # what the submission printed, bounded by the sandbox
    cell_errors: tuple[CellError, ...] = ()
    seconds: float = 0.0
    unreadable: str | None = None  # why the file could not be read as a submission (then every task is 0)
    grader_failure: bool = False  # `grade batch`: the grading process failed, not the code (regraded next run)
    # The sandbox it ran in: {"backend": name, "layers": [{"name", "active", "how"}, ...]} (sandbox.layers).
    sandbox: Mapping[str, Any] = field(default_factory=dict)
    cut_short: CutShort | None = None  # the top-level code ran too long and only the definitions were run
    # Things the grader made while checking (Task.artifacts), e.g. "boundary": in memory only, never in to_dict.
    artifacts: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def full_marks(self) -> bool:
        return self.score >= self.max_score

    def task(self, name: str) -> TaskResult:
        return next(task for task in self.tasks if task.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercise": self.exercise,
            "title": self.title,
            "path": self.path,
            "score": self.score,
            "max_score": self.max_score,
            "tasks": [task.to_dict() for task in self.tasks],
            "output": self.output,
            "cell_errors": [error.to_dict() for error in self.cell_errors],
            "seconds": self.seconds,
            "unreadable": self.unreadable,
            "grader_failure": self.grader_failure,
            "sandbox": dict(self.sandbox),
            "cut_short": self.cut_short.to_dict() if self.cut_short else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """The Report `to_dict` gave; KeyError or TypeError when `data` is not such a dict."""
        return cls(
            data["exercise"],
            data["title"],
            data["path"],
            data["score"],
            data["max_score"],
            tuple(TaskResult.from_dict(task) for task in data["tasks"]),
            data["output"],
            tuple(CellError.from_dict(error) for error in data["cell_errors"]),
            data["seconds"],
            data["unreadable"],
            data["grader_failure"],
            dict(data.get("sandbox") or {}),
            CutShort.from_dict(data["cut_short"]) if data.get("cut_short") else None,
        )
