"""What `grade batch` tells the instructor: the progress bar (rate, time left) and the final rate line.

The bar's numbers are checked on a controlled clock; one real run under a pseudo-terminal
checks that the bar is drawn and the rate line agrees with the class it graded.
"""

import fcntl
import io
import math
import os
import pty
import re
import shutil
import struct
import subprocess
import termios

import pytest
from conftest import SUBMISSIONS, InlinePool, grade_command
from rich.console import Console

from grader import cli, exercises
from grader.checking.grading import zero_report
from grader.classroom.batch import Item, Outcome, run

SOFTMAX = exercises.load("softmax")
RATE_LINE = re.compile(
    r"rate: (?P<rate>[0-9.]+) submissions/s on (?P<workers>\d+) workers? \((?P<count>\d+) graded in "
    r"(?P<seconds>[0-9.]+) s\); 100,000 in 10 minutes at that rate would need about (?P<needed>\d+) "
    r"single-thread workers, (?P<spare>\d+) with 25% for stragglers and restarts"
)


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def bar(monkeypatch):
    """bar(total, now) -> (a started _BatchProgress, the Clock it reads); stopped after the test."""
    clock, started = Clock(), []
    monkeypatch.setattr(cli.time, "monotonic", clock)

    def _bar(total, now):
        clock.now = now
        started.append(cli._BatchProgress())
        started[-1].start(total)
        return started[-1], clock

    yield _bar
    for progress in started:
        progress.stop()


def shown(progress):
    """The bar's line as rich draws it, and its rate and time-left fields."""
    out = io.StringIO()
    Console(file=out, width=160, color_system=None).print(progress._bar.get_renderable())
    fields = progress._bar.tasks[0].fields
    return out.getvalue().strip(), fields["rate"], fields["left"]


def test_the_bar_shows_the_rate_of_this_runs_gradings_and_the_time_left(bar):
    progress, clock = bar(10, now=1000.0)
    progress.advance(4, graded=False)  # reused rows: counted on the bar, not in the rate
    line, rate, left = shown(progress)
    assert (rate, left) == ("", "") and "4/10" in line
    clock.now = 1002.0
    progress.advance()  # 1 graded in 2 s; 5 left at 0.5/s
    line, rate, left = shown(progress)
    assert (rate, left) == ("0.5 submissions/s", "0:00:10 left")
    assert "5/10" in line and "0.5 submissions/s" in line and "0:00:10 left" in line
    clock.now = 1002.05  # redrawn at most ten times a second: counted, not yet shown
    progress.advance()
    assert shown(progress)[1:] == ("0.5 submissions/s", "0:00:10 left") and "6/10" in shown(progress)[0]
    clock.now = 1004.0
    progress.advance()  # 3 graded in 4 s: 0.75/s, 3 left
    assert shown(progress)[1:] == ("0.8 submissions/s", "0:00:04 left")
    clock.now = 1005.0
    progress.advance(2, graded=False)  # a reused row mid-run: fewer left, the rate unchanged in count
    assert shown(progress)[1:] == ("0.6 submissions/s", "0:00:02 left")


def test_the_time_left_reads_in_hours_minutes_seconds(bar):
    progress, clock = bar(100_001, now=50.0)
    clock.now = 60.0
    progress.advance(10)  # 1/s, 99,991 left: 27 h 46 min 31 s
    assert shown(progress)[1:] == ("1.0 submissions/s", "27:46:31 left")


class Recorder:
    def __init__(self):
        self.calls = []

    def start(self, total):
        self.calls.append(("start", total))

    def advance(self, count=1, graded=True):
        self.calls.append(("advance", count, graded))


def stub_grading(name, data, exercise, options):
    return zero_report(SOFTMAX, name, "stub", "wrong_value").to_dict()


def test_the_bar_starts_with_the_reused_rows_counted_and_not_in_the_rate(tmp_path):
    for student in ("alice", "bob", "zoe"):
        (tmp_path / f"{student}.py").write_text(f"# {student}\n")
    items = [Item(student, tmp_path / f"{student}.py") for student in ("alice", "bob", "zoe")]
    options = {"timeout": 1.0, "seed": 0, "memory_mb": 256}
    run(items, SOFTMAX, tmp_path / "out", options, 1, work=stub_grading, pool=InlinePool)
    (tmp_path / "zoe.py").write_text("# zoe, changed\n")  # the last one: alice's and bob's rows come first
    progress = Recorder()
    outcome = run(items, SOFTMAX, tmp_path / "out", options, 1, progress=progress, work=stub_grading, pool=InlinePool)
    assert outcome.graded == ["zoe"] and outcome.reused == ["alice", "bob"]
    assert progress.calls == [("start", 3), ("advance", 2, False), ("advance", 1, True)]
    nothing = Recorder()
    run(items, SOFTMAX, tmp_path / "out", options, 1, progress=nothing, work=stub_grading, pool=InlinePool)
    assert nothing.calls == []  # nothing to grade: no worker, no bar


@pytest.mark.parametrize(
    "graded, unread, seconds, workers, expected",
    [
        # 50/s on 4 workers: 166.7/s needs 4 * 166.7 / 50 = 13.3 workers
        (
            100,
            0,
            2.0,
            4,
            "rate: 50.0 submissions/s on 4 workers (100 graded in 2.0 s); "
            "100,000 in 10 minutes at that rate would need about 14 single-thread workers, 18 with 25% for "
            "stragglers and restarts",
        ),
        # unreadable files are not gradings: 10 in 5 s on 1 worker, 83.3 workers
        (
            12,
            2,
            5.0,
            1,
            "rate: 2.0 submissions/s on 1 worker (10 graded in 5.0 s); "
            "100,000 in 10 minutes at that rate would need about 84 single-thread workers, 105 with 25% for "
            "stragglers and restarts",
        ),
        # a little over 10 workers' worth (10.03): 11, not 10
        (
            500,
            0,
            30.1,
            1,
            "rate: 16.6 submissions/s on 1 worker (500 graded in 30.1 s); "
            "100,000 in 10 minutes at that rate would need about 11 single-thread workers, 14 with 25% for "
            "stragglers and restarts",
        ),
    ],
)
def test_the_rate_line_gives_the_cluster_size_for_100000_in_10_minutes(graded, unread, seconds, workers, expected):
    outcome = Outcome(
        graded=[f"s{i}" for i in range(graded)],
        unread=[f"s{i}" for i in range(unread)],
        seconds=seconds,
        workers=workers,
    )
    assert cli._rate_line(outcome) == expected


@pytest.mark.parametrize("graded, unread, seconds", [(0, 0, 0.0), (3, 3, 1.0), (2, 0, 0.0)])
def test_no_rate_line_without_a_grading(graded, unread, seconds):
    outcome = Outcome(
        graded=[f"s{i}" for i in range(graded)], unread=[f"s{i}" for i in range(unread)], seconds=seconds, workers=2
    )
    assert cli._rate_line(outcome) is None


ANSI = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07|[()][A-Z0-9])")


def run_in_a_terminal(*args):
    """`grade ARGS` with a pseudo-terminal (160 columns) as stdin, stdout and stderr: what it wrote, escapes removed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    env = {key: value for key, value in os.environ.items() if key not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    process = subprocess.Popen(
        grade_command() + [str(arg) for arg in args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**env, "TERM": "xterm-256color"},
        close_fds=True,
    )
    os.close(follower)
    written = bytearray()
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not data:
            break
        written += data
    os.close(leader)
    assert process.wait(timeout=120) == 0, written.decode(errors="replace")
    return ANSI.sub("", written.decode(errors="replace").replace("\r", "\n"))


@pytest.mark.slow  # two real runs of grade batch
def test_a_terminal_sees_the_bar_and_the_rate_line_that_matches_the_class(tmp_path):
    (tmp_path / "class").mkdir()
    for student in ("alice", "bob", "zoe"):
        shutil.copy(SUBMISSIONS / "softmax" / "correct_vectorized.py", tmp_path / "class" / f"{student}.py")
    args = ("batch", tmp_path / "class", "-e", "softmax", "--out", tmp_path / "out", "-j", "2", "--no-similarity")
    text = run_in_a_terminal(*args)
    bars = re.findall(r"grading .*?(\d)/3 +([0-9.]+) submissions/s +(\d+:\d\d:\d\d) left", text)
    assert bars, text
    assert "graded 3, reused 0 unchanged since the last run (-j 2)" in text
    said = [match.groupdict() for match in RATE_LINE.finditer(text)]
    assert len(said) == 1, text
    rate, seconds = float(said[0]["rate"]), float(said[0]["seconds"])
    count, workers, needed = int(said[0]["count"]), int(said[0]["workers"]), int(said[0]["needed"])
    assert (count, workers) == (3, 2)
    # Shown rounded to 0.1: the rate and the estimate agree with count / seconds within that rounding.
    assert count / (seconds + 0.05) - 0.05 <= rate <= count / max(seconds - 0.05, 1e-9) + 0.05
    assert (
        math.ceil(100_000 / 600 * workers / (rate + 0.05))
        <= needed
        <= math.ceil(100_000 / 600 * workers / (rate - 0.05))
    )
    assert int(said[0]["spare"]) == math.ceil(needed * 1.25)
    # The time left is what the rest takes at the rate shown (rounded). Not in the last frame: stop() draws
    # the count once more, beside the fields of the draw before (throttled to ten a second), then erases it.
    for done, shown_rate, left in bars[:-1]:
        hours, minutes, secs = map(int, left.split(":"))
        rest, rate = 3 - int(done), float(shown_rate)
        assert rest / (rate + 0.05) - 0.5 <= hours * 3600 + minutes * 60 + secs <= rest / max(rate - 0.05, 1e-9) + 0.5
    again = run_in_a_terminal(*args)  # every row reused: no grading, no bar, no rate
    assert "graded 0, reused 3 unchanged since the last run (-j 2)" in again
    assert "submissions/s" not in again and "rate:" not in again
