"""`grade batch` on a class of any size: submissions read as workers take them, Dask chunks sized
to the time per submission, rows read back from the store, identical files named from hashes.

Grading is stubbed (a ready row) except where a real row is needed; sizes are small.
"""

import gc
import itertools
import json
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, InlinePool

from grader import exercises, report
from grader.checking.results import Report
from grader.classroom import batch
from grader.classroom.batch import Item, Submissions, discover, run
from grader.classroom.dask_pool import CHUNK_BYTES, CHUNK_MOST, ChunkSizer, grade_chunk
from grader.classroom.job import Rendered, grade_bytes
from grader.reading.submission import UsageError

EXERCISE = exercises.load("softmax")
OPTIONS = {"timeout": 5.0, "seed": 0, "memory_mb": 1024}
SOLUTION = (ROOT / "solutions" / "softmax.py").read_text()
ROW = grade_bytes("x.py", SOLUTION.encode(), "softmax", OPTIONS)


def ready_row(name, data, exercise, options):
    return {**ROW, "path": name}


def write_class(directory, count):
    directory.mkdir()
    for index in range(count):
        unique = index - 1 if index % 10 == 9 else index  # every tenth a copy of the one before
        (directory / f"s{index:03}.py").write_text(f"# {unique}\n{SOLUTION}")


@dataclass(frozen=True)
class CountedItem(Item):
    reads: list | None = None

    def read(self):
        self.reads.append(self.student)
        return super().read()


class InFlight:
    """A progress object: at each finished row, how many files were read and not yet finished."""

    def __init__(self, reads):
        self.reads, self.done, self.most = reads, 0, 0

    def start(self, total):
        pass

    def advance(self, count=1, graded=True):
        self.done += count
        self.most = max(self.most, len(self.reads) - self.done)


def test_a_submission_is_read_only_when_a_worker_takes_it(tmp_path):
    write_class(tmp_path / "class", 40)
    reads = []
    items = [CountedItem(item.student, item.path, item.root, reads) for item in discover(tmp_path / "class", "x")]
    progress = InFlight(reads)
    outcome = run(items, EXERCISE, tmp_path / "out", OPTIONS, 2, progress=progress, work=ready_row)
    assert len(outcome.graded) == 40 and len(reads) == 40
    # Two workers, each with one submission, and the one read to find the next: never the class.
    assert progress.most <= 3, progress.most
    assert outcome.identical == [[f"s{index - 1:03}", f"s{index:03}"] for index in range(9, 40, 10)]
    # The Reports are read back from the store, the same as its rows.
    first = json.loads((tmp_path / "out" / "results" / "s000.json").read_text())["row"]
    assert outcome.reports["s000"].to_dict() == first
    assert list(outcome.reports) == [f"s{index:03}" for index in range(40)]
    assert "s999" not in outcome.reports and outcome.missing == []


def test_a_rerun_reuses_rows_without_grading_and_names_identical_files_again(tmp_path):
    write_class(tmp_path / "class", 12)
    run(discover(tmp_path / "class", "x"), EXERCISE, tmp_path / "out", OPTIONS, 2, work=ready_row)
    (tmp_path / "class" / "s004.py").write_text(f"# changed\n{SOLUTION}")

    def must_not_grade(name, data, exercise, options):
        assert name.endswith("s004.py"), name
        return ready_row(name, data, exercise, options)

    again = run(discover(tmp_path / "class", "x"), EXERCISE, tmp_path / "out", OPTIONS, 2, work=must_not_grade)
    assert again.graded == ["s004"] and len(again.reused) == 11
    assert again.identical == [["s008", "s009"]]
    grades = (tmp_path / "out" / "grades.csv").read_text().splitlines()
    assert len(grades) == 13 and grades[5].startswith("s004,1,1,1,1,4")


def test_discover_keeps_one_string_per_student_and_makes_items_when_asked(tmp_path):
    write_class(tmp_path / "class", 3)
    (tmp_path / "class" / "notes.txt").write_text("not a submission")
    found = discover(tmp_path / "class", "x")
    assert isinstance(found, Submissions) and len(found) == 3
    assert [item.student for item in found] == ["s000", "s001", "s002"]
    assert found[1] == Item("s001", tmp_path / "class" / "s001.py", tmp_path / "class")
    assert found.position("s002") == 2 and found.position("s0015") == 2


def held(*roots, leave=()):
    """Bytes of the objects reachable from ROOTS, each counted once (sys.getsizeof: a numpy array
    with its data), without classes, modules, functions or the objects in LEAVE."""
    seen, total, stack = {id(thing) for thing in leave}, 0, list(roots)
    while stack:
        thing = stack.pop()
        if id(thing) in seen or isinstance(thing, (type, types.ModuleType, types.FunctionType)):
            continue
        seen.add(id(thing))
        total += sys.getsizeof(thing)
        stack.extend(gc.get_referents(thing))
    return total


def test_what_a_run_keeps_of_each_student_is_a_few_dozen_bytes(tmp_path):
    """What discover and run hand back holds of each student its name (in one bytes object, with
    where it ends and its place in the order) and a mark: under 40 bytes. A list of the names costs
    65 bytes a student, and one of those graded as much again. Measured as the slope between two
    class sizes, so that what any class costs cancels out."""
    kept = {}
    for count in (100, 600):
        (tmp_path / f"class{count}").mkdir()
        for index in range(count):  # every file its own: identical groups would be kept too
            (tmp_path / f"class{count}" / f"student{index:05}.py").write_text(f"# {index}\n")
        items = discover(tmp_path / f"class{count}", "x")
        outcome = run(items, EXERCISE, tmp_path / f"out{count}", OPTIONS, 1, work=ready_row, pool=InlinePool)
        assert len(outcome.graded) == count and list(outcome.graded)[-1] == f"student{count - 1:05}"
        kept[count] = held(items, outcome, leave=[EXERCISE])
    per_student = (kept[600] - kept[100]) / 500
    assert per_student < 40, f"{per_student:.0f} bytes kept per student"


def test_items_leave_no_kept_file_name_in_the_interned_strings(tmp_path):
    """pathlib interns the parts of a path: made from a kept name itself, each Item interned that
    name for as long as the class lived (about 5 MB for 100,000 students)."""
    (tmp_path / "class").mkdir()
    for student in ("a-name-of-its-own", "another-name-of-its-own"):
        (tmp_path / "class" / f"{student}.py").write_text("")
    found = discover(tmp_path / "class", "x")
    assert [item.path.name for item in found] == ["a-name-of-its-own.py", "another-name-of-its-own.py"]
    for name in ("a-name-of-its-own.py", "another-name-of-its-own.py"):
        copy = "".join(["", name[:1], name[1:]])  # a new string: interned as itself unless the name is
        assert sys.intern(copy) is copy


def test_a_student_with_two_files_is_a_usage_error_naming_both(tmp_path):
    (tmp_path / "class").mkdir()
    for name in ("alice.py", "alice-b.py", "alice.j.py", "alice.ipynb", "alice0.py"):
        (tmp_path / "class" / name).write_text("")
    with pytest.raises(UsageError, match=r"^two submissions for alice: alice.ipynb and alice.py$"):
        discover(tmp_path / "class", "x")


def test_identical_groups_come_from_the_hashes_and_skip_unread_files():
    items = [Item(name, None) for name in "abcdef"]
    hashes = [b"1" * 16, b"2" * 16, bytes(16), b"1" * 16, bytes(16), b"2" * 16]  # zeros: not read
    assert batch._identical(items, bytearray(b"".join(hashes))) == [["a", "d"], ["b", "f"]]
    assert batch._identical(items[:2], bytearray(b"1" * 32)) == [["a", "b"]]
    assert batch._identical([], bytearray()) == []


def test_a_chunk_holds_about_half_a_second_of_grading():
    sizer = ChunkSizer()
    jobs = (((index, "key"), ("x.py", b"x" * 100, "softmax", {})) for index in itertools.count())
    assert len(sizer.take(jobs)) == 1  # nothing measured yet
    sizer.learn(seconds=1.0, count=1)  # a second per submission: one at a time
    assert sizer.size() == 1
    for _ in range(30):
        sizer.learn(seconds=0.1, count=10)  # 10 ms each
    assert 45 <= sizer.size() <= 55 and len(sizer.take(jobs)) == sizer.size()
    for _ in range(30):
        sizer.learn(seconds=0.001, count=1000)
    assert sizer.size() == CHUNK_MOST
    big = (((index, "key"), ("x.ipynb", b"x" * (CHUNK_BYTES // 3), "softmax", {})) for index in itertools.count())
    assert [tag for (tag, _), _ in sizer.take(big)] == [0, 1, 2]  # files of a chunk: a few MB at most
    assert [tag for (tag, _), _ in sizer.take(big)] == [3, 4, 5]  # the one that did not fit comes first
    assert ChunkSizer().take(iter(())) == []


def test_a_chunk_grades_each_submission_and_a_grader_error_costs_its_row_only():
    def work(name, data, exercise, options):
        if name == "bad.py":
            raise ValueError("a grader bug\non two lines")
        return {"path": name}

    rows, seconds = grade_chunk(
        work, [("a.py", b"", "softmax", {}), ("bad.py", b"", "softmax", {}), ("c.py", b"", "", {})]
    )
    assert rows == [("ok", {"path": "a.py"}), ("error", "ValueError: a grader bug"), ("ok", {"path": "c.py"})]
    assert seconds >= 0


def test_rows_come_back_from_the_worker_ready_to_write():
    ready = Rendered(ready_row)("s.py", b"", "softmax", OPTIONS)
    result = Report.from_dict(json.loads(ready["json"]))
    assert result.to_dict() == {**ROW, "path": "s.py"}
    assert ready["feedback"] == report.render_text(result)
    assert json.loads(ready["gradescope"]) == report.gradescope(result) and ready["gradescope"].endswith("}\n")
    assert ready["killed"] is False
    killed = {**ROW, "tasks": [{**ROW["tasks"][0], "diagnoses": ["killed"]}, *ROW["tasks"][1:]]}
    assert Rendered(lambda *args: killed)("s.py", b"", "softmax", OPTIONS)["killed"] is True


def _replaced(monkeypatch):
    """The paths os.replace renames over, from now on (in this process: the client's writes)."""
    replaced, real = [], os.replace

    def counting(source, target, *args, **kwargs):
        replaced.append(os.fspath(target))
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", counting)
    return replaced


def _student_files(out, student):
    return [out / "feedback" / f"{student}.txt", out / "gradescope" / student / "results.json"]


def test_a_first_run_creates_each_file_in_place_and_a_rerun_replaces_a_file_whole(tmp_path, monkeypatch):
    write_class(tmp_path / "class", 6)
    out = tmp_path / "out"
    replaced = _replaced(monkeypatch)
    run(discover(tmp_path / "class", "x"), EXERCISE, out, OPTIONS, 2, work=ready_row)
    assert [Path(path).name for path in replaced] == ["grades.csv"]  # no row's files: created in place
    assert not list(out.rglob(".grade-*"))  # and no temporary file left behind
    for student in ("s000", "s005"):
        stored = Report.from_dict(json.loads((out / "results" / f"{student}.json").read_text())["row"])
        feedback, gradescope = _student_files(out, student)
        assert feedback.read_text() == report.render_text(stored)
        assert json.loads(gradescope.read_text()) == report.gradescope(stored)
    (tmp_path / "class" / "s002.py").write_text(f"# changed\n{SOLUTION}")
    # Once rows are stored, even a missing file is written whole: a stored row may vouch for it later.
    (out / "feedback" / "s002.txt").unlink()
    replaced.clear()
    again = run(discover(tmp_path / "class", "x"), EXERCISE, out, OPTIONS, 2, work=ready_row)
    assert again.graded == ["s002"]
    # Files that exist are replaced whole, never rewritten in place: a kill leaves old or new.
    expected = [*_student_files(out, "s002"), out / "results" / "s002.json", out / "grades.csv"]
    assert sorted(map(Path, replaced)) == sorted(expected)


def test_what_a_kill_can_leave_of_a_first_run_is_written_again_by_the_next(tmp_path, monkeypatch):
    write_class(tmp_path / "class", 6)
    out = tmp_path / "out"
    real = batch.write_new

    def killed_at_s003s_gradescope_file(path, text):
        if path.endswith(os.path.join("s003", "results.json")):
            with open(path, "w") as half:
                half.write(text[: len(text) // 2])
            raise SystemExit("killed")  # as SIGKILL would stop the client here, half-way through the file
        return real(path, text)

    monkeypatch.setattr(batch, "write_new", killed_at_s003s_gradescope_file)
    with pytest.raises(SystemExit):
        run(discover(tmp_path / "class", "x"), EXERCISE, out, OPTIONS, 1, work=ready_row)
    monkeypatch.setattr(batch, "write_new", real)
    assert not (out / "results" / "s003.json").exists()  # a row is stored only after its files
    assert (out / "results" / "s002.json").exists()
    # Another row cut short as it was written: not JSON, so it reads as missing.
    stored = out / "results" / "s001.json"
    stored.write_text(stored.read_text()[:-20])
    again = run(discover(tmp_path / "class", "x"), EXERCISE, out, OPTIONS, 2, work=ready_row)
    assert sorted(again.graded) == ["s001", "s003", "s004", "s005"] and again.reused == ["s000", "s002"]
    for student in ("s001", "s003"):
        stored = Report.from_dict(json.loads((out / "results" / f"{student}.json").read_text())["row"])
        feedback, gradescope = _student_files(out, student)
        assert feedback.read_text() == report.render_text(stored)
        assert json.loads(gradescope.read_text()) == report.gradescope(stored)
