"""The class summary: honest shares, mistakes in the math apart from code that did not run, a labelled chart."""

import pytest

from grader import exercises
from grader.checking.results import CellError, CutShort, Report, TaskResult
from grader.classroom import summary

SOFTMAX = exercises.load("softmax")


@pytest.mark.parametrize(
    "count, total, shown",
    [
        (1, 40, "2.5%"),
        (3, 8, "37.5%"),
        (1, 8, "12.5%"),
        (1, 3, "33.3%"),
        (2, 3, "66.7%"),
        (1, 16, "6.3%"),
        (20, 40, "50%"),
        (40, 40, "100%"),
        (0, 40, "0%"),
        (1, 3000, "<0.1%"),
        (2999, 3000, ">99.9%"),
        (0, 0, "0%"),
    ],
)
def test_a_share_is_rounded_honestly(count, total, shown):
    assert summary.percent(count, total) == shown


def row(**failed):
    """A softmax Report where each named task failed with the given codes, the others passed."""
    tasks = tuple(
        TaskResult(task.name, 0, 1, False, "f", "", failed[task.name])
        if task.name in failed
        else TaskResult(task.name, 1, 1, True)
        for task in SOFTMAX.tasks
    )
    return Report("softmax", "", "", sum(task.score for task in tasks), 4, tasks)


def class_of_40():
    reports = {f"s{i:02}": row() for i in range(40)}
    reports["s00"] = row(db=("missing_keepdims",))
    reports["s01"] = row(db=("timeout",))
    reports["s02"] = row(db=("wrong_axis",), dW=("import_error",))
    reports["s03"] = row(db=("missing_keepdims",))
    return reports


def test_code_failures_are_listed_after_the_mistakes_in_the_math():
    text = summary.render(summary.summarize(class_of_40(), SOFTMAX))
    db = next(line for line in text.splitlines() if line.startswith("  db:"))
    assert db == "  db: passed 90%; missing_keepdims 5%, wrong_axis 2.5%; did not run: timeout 2.5%"
    dw = next(line for line in text.splitlines() if line.startswith("  dW:"))
    assert dw == "  dW: passed 97.5%; did not run: import_error 2.5%"
    assert "2%" not in text.replace("2.5%", "")


def test_the_chart_labels_its_bars_and_draws_code_failures_apart(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    labelled = []
    original = Axes.bar_label

    def spy(self, container, labels=None, **kwargs):
        labelled.append((self.get_title(), list(labels)))
        return original(self, container, labels=labels, **kwargs)

    monkeypatch.setattr(Axes, "bar_label", spy)
    path = tmp_path / "summary.png"
    summary.plot(summary.summarize(class_of_40(), SOFTMAX), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    charts = dict(labelled)
    assert charts["softmax: scores of 40 submissions"] == ["", "", "1", "3", "36"]  # 0/4 .. 4/4, empty bars unlabelled
    # barh draws bottom-up: the most frequent mistake on top
    assert charts["mistakes in the math"] == ["1 (2.5%)", "2 (5%)"]
    assert charts["code that did not run (or was not graded)"] == ["1 (2.5%)", "1 (2.5%)"]


def test_students_whose_top_level_code_was_cut_short_are_named():
    reports = class_of_40()
    reports["s05"] = Report(
        **{**reports["s05"].__dict__, "cut_short": CutShort("the file did not finish running within 60 s", ("x",))}
    )
    text = summary.render(summary.summarize(reports, SOFTMAX))
    lines = text.splitlines()
    at = lines.index("top-level code cut short, graded on the definitions: 1")
    assert lines[at + 1] == "  s05: the file did not finish running within 60 s"


def test_students_whose_notebook_cells_raised_are_named():
    reports = class_of_40()
    errors = (
        CellError(1, "s07.ipynb, cell 1", "NameError", "name 'np' is not defined"),
        CellError(4, "s07.ipynb, cell 4", "ValueError", "\x1b[2Jbad"),
    )
    reports["s07"] = Report(**{**reports["s07"].__dict__, "cell_errors": errors})
    data = summary.summarize(reports, SOFTMAX)
    lines = summary.render(data).splitlines()
    at = lines.index("notebook cells that raised (the other cells still ran): 1")
    assert lines[at + 1 : at + 3] == [
        "  s07: s07.ipynb, cell 1: NameError: name 'np' is not defined",
        "  s07: s07.ipynb, cell 4: ValueError: \\x1b[2Jbad",
    ]
    # summary.json keeps the text as it was (JSON escapes it).
    assert data["cell_errors"] == [
        ["s07", ["s07.ipynb, cell 1: NameError: name 'np' is not defined", "s07.ipynb, cell 4: ValueError: \x1b[2Jbad"]]
    ]


def test_the_chart_counts_a_file_that_failed_as_a_whole_once(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    drawn = {}
    original = Axes.barh

    def spy(self, labels, counts, **kwargs):
        drawn[self.get_title()] = dict(zip(labels, counts))
        return original(self, labels, counts, **kwargs)

    monkeypatch.setattr(Axes, "barh", spy)
    reports = class_of_40()
    reports["s10"] = row(**dict.fromkeys(("forward", "dZ", "dW", "db"), ("import_error",)))  # did not run
    reports["s11"] = Report(
        **{
            **row().__dict__,
            "tasks": tuple(  # defines none of the functions
                TaskResult(task.name, 0, 1, False, f"no function {task.name}", "", ("missing_function",))
                for task in SOFTMAX.tasks
            ),
            "score": 0,
        }
    )
    summary.plot(summary.summarize(reports, SOFTMAX), tmp_path / "summary.png")
    assert drawn["code that did not run (or was not graded)"] == {
        "whole file: import_error": 1,
        "whole file: missing_function": 1,
        "dW: import_error": 1,  # s02's dW alone: a task, not the file
        "db: timeout": 1,
    }
    # The text still gives each task's share of the class.
    text = summary.render(summary.summarize(reports, SOFTMAX))
    assert "  dW: passed 92.5%; did not run: import_error 5%, missing_function 2.5%" in text.splitlines()
