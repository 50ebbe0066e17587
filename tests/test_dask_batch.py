"""`grade batch --scheduler`: the same results on a Dask cluster, worker deaths, no Dask without it.

One real LocalCluster (a scheduler and 2 worker processes on loopback) serves the
module; the tests that kill workers run after the one that compares results, and
the nanny restarts a killed worker. Short --timeout values keep the hanging
submissions cheap; nothing here asserts on timing.
"""

import gc
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import suppress
from functools import partial
from pathlib import Path

import pytest
from conftest import ROOT, SUBMISSIONS, grade_command, run_grade
from dask import config as dask_config
from distributed import Client, LocalCluster
from test_batch import die_for_mallory, make_class

from grader import exercises
from grader.classroom import dask_pool
from grader.classroom.batch import Item, discover, run
from grader.classroom.dask_pool import LOG_LENGTH, DaskPool
from grader.classroom.job import grade_bytes

pytestmark = pytest.mark.slow  # a real Dask cluster

CORPUS = SUBMISSIONS / "softmax"
EXERCISE = exercises.load("softmax")


@pytest.fixture(scope="module")
def cluster():
    # LocalCluster closes a worker's nanny for good when no worker of that name is back 15 s after it died
    # (lost-worker-timeout); the tests here kill workers every few seconds, so one may be dead again at that
    # moment, and a cluster left without workers ends the run (DaskPool, after WORKERS_TIMEOUT).
    with dask_config.set({"distributed.deploy.lost-worker-timeout": "1h"}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
            with Client(local) as client:
                yield local.scheduler_address, client


def results(outdir):
    """{student: stored record} with the timing field left out."""
    records = {}
    for path in sorted((outdir / "results").glob("*.json")):
        record = json.loads(path.read_text())
        record["row"].pop("seconds")
        records[path.stem] = record
    return records


def files(directory):
    return {
        str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()
    }


def test_a_dask_cluster_grades_exactly_as_one_machine(tmp_path, cluster):
    """The same class graded on one machine, on --scheduler local and on an external scheduler with two
    workers (each in chunks of its own sizes): the same grades.csv, summary, rows and feedback, timings apart."""
    address, _ = cluster
    make_class(tmp_path / "class")  # correct, buggy, timeout, crash, invalid notebook, not UTF-8, hostile
    args = ("batch", tmp_path / "class", "-e", "softmax", "--timeout", "0.5")
    local = run_grade(*args, "--out", tmp_path / "local", "-j", "2")
    runs = {
        "dask": run_grade(*args, "--out", tmp_path / "dask", "--scheduler", address),
        "dask-local": run_grade(*args, "--out", tmp_path / "dask-local", "--scheduler", "local", "-j", "2"),
    }
    # A row the grading failed on (below) makes the exit status 3; the others are written all the same.
    failing = {record["row"].get("grader_failure", False) for record in results(tmp_path / "local").values()}
    count = len([path for path in (tmp_path / "class").iterdir() if path.suffix in (".py", ".ipynb")])
    where = {"dask": f"on Dask {address}", "dask-local": "on a local Dask cluster of 2 workers"}
    expected = results(tmp_path / "local")
    # Not root, the hostile file kills the process grading it: the row says the grading failed,
    # in words that name that process (a worker of either pool), so only its message may differ.
    failed = {student for student, record in expected.items() if record["row"].get("grader_failure")}
    assert failed <= {"hostile"}
    for name, dask in runs.items():
        assert local.returncode == dask.returncode == (3 if True in failing else 0), dask.stderr
        assert "Traceback" not in dask.stdout + dask.stderr
        assert f"graded {count}, reused 0 unchanged since the last run ({where[name]})" in dask.stdout
        assert f"submissions/s on 2 workers ({count} graded in" in dask.stdout
        assert (tmp_path / name / "grades.csv").read_bytes() == (tmp_path / "local" / "grades.csv").read_bytes()
        assert (tmp_path / name / "summary.txt").read_text() == (tmp_path / "local" / "summary.txt").read_text()
        got = results(tmp_path / name)
        assert got["dw_timeout"]["row"]["tasks"][2]["diagnoses"] == ["timeout"]
        assert got["db_crash"]["row"]["tasks"][3]["diagnoses"] == ["crashed"]
        assert got["broken"]["row"]["unreadable"].startswith("broken.ipynb is not a valid notebook")
        assert failed == {student for student, record in got.items() if record["row"].get("grader_failure")}
        for student in failed:
            for record in (expected[student], got[student]):
                for task in record["row"]["tasks"]:
                    task["fact"] = ""
        assert got == expected
        for folder in ("feedback", "gradescope"):
            for file, data in files(tmp_path / "local" / folder).items():
                if not any(student in file for student in failed):
                    theirs = (tmp_path / name / folder / file).read_bytes()
                    if folder == "gradescope":  # the time each grading took differs, the rest may not
                        data, theirs = (
                            {k: v for k, v in json.loads(d).items() if k != "execution_time"} for d in (data, theirs)
                        )
                    assert theirs == data, (name, file)


def test_a_killed_worker_costs_no_row(tmp_path, cluster):
    address, client = cluster
    (tmp_path / "class").mkdir()
    for i in range(10):  # each waits out a 0.5 s timeout on dW, so the run lasts a few seconds
        shutil.copy(CORPUS / "dw_timeout.py", tmp_path / "class" / f"slow{i}.py")
    for i in range(2):
        shutil.copy(CORPUS / "correct_vectorized.py", tmp_path / "class" / f"correct{i}.py")
    command = grade_command() + [
        "batch",
        str(tmp_path / "class"),
        "-e",
        "softmax",
        "--out",
        str(tmp_path / "out"),
        "--timeout",
        "0.5",
        "--scheduler",
        address,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stored = tmp_path / "out" / "results"
    while process.poll() is None and not (stored.is_dir() and any(stored.glob("*.json"))):
        time.sleep(0.05)
    busy = [worker for worker, keys in client.processing().items() if keys]
    assert process.poll() is None and busy, "the run ended before a worker could be killed"
    pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
    os.kill(pid, signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "graded 12, reused 0" in out
    rows = {student: record["row"] for student, record in results(tmp_path / "out").items()}
    assert sorted(rows) == [f"correct{i}" for i in range(2)] + [f"slow{i}" for i in range(10)]
    assert not [student for student, row in rows.items() if row.get("grader_failure")]
    assert {student: row["score"] for student, row in rows.items()} == {
        **{f"correct{i}": 4 for i in range(2)},
        **{f"slow{i}": 3 for i in range(10)},
    }
    assert pid not in client.run(os.getpid).values()  # it really died; the nanny started another


class ChunksOfThree(dask_pool.ChunkSizer):
    def size(self):
        return 3


def allowed_failures(count):
    """A function for run_on_scheduler: the scheduler's allowed-failures set to COUNT; returns the old one."""

    def change(dask_scheduler):
        before, dask_scheduler.allowed_failures = dask_scheduler.allowed_failures, count
        return before

    return change


def test_a_submission_that_keeps_killing_its_workers_is_a_crashed_row(tmp_path, cluster, monkeypatch):
    """Its chunk, shared with two others, is split: only the killer ends "died", the others are graded."""
    address, client = cluster
    for student in ("alice", "mallory", "zoe"):
        shutil.copy(CORPUS / "correct_vectorized.py", tmp_path / f"{student}.py")
    items = [Item(student, tmp_path / f"{student}.py") for student in ("alice", "mallory", "zoe")]
    options = {"timeout": 5.0, "seed": 0, "memory_mb": 1024}  # ample: a loaded machine must not time alice out
    monkeypatch.setattr(dask_pool, "ChunkSizer", ChunksOfThree)  # the three in one chunk from the start
    submitted = []

    class NotingPool(DaskPool):
        """DaskPool noting the students of each chunk it submits."""

        def __enter__(self):
            super().__enter__()
            submit = self.client.submit

            def noted(task, function, chunk, **options):
                submitted.append(tuple(Path(args[0]).stem for args in chunk))
                return submit(task, function, chunk, **options)

            self.client.submit = noted
            return self

    # A task is given up (KilledWorker) after 2 deaths, not Dask's 4: fewer workers to restart.
    before = client.run_on_scheduler(allowed_failures(1))
    try:
        outcome = run(
            items,
            EXERCISE,
            tmp_path / "out",
            options,
            jobs=2,
            work=die_for_mallory,
            pool=partial(NotingPool, scheduler=address),
        )
    finally:
        client.run_on_scheduler(allowed_failures(before))
    assert {student: result.score for student, result in outcome.reports.items()} == {
        "alice": 4,
        "mallory": 0,
        "zoe": 4,
    }
    assert submitted[0] == ("alice", "mallory", "zoe")
    assert {("alice",), ("mallory",), ("zoe",)} <= set(submitted[1:]) and {len(chunk) for chunk in submitted[1:]} == {1}
    mallory = outcome.reports["mallory"]
    assert mallory.grader_failure and mallory.tasks[0].diagnoses == ("crashed",)
    assert "2 Dask workers died while grading it" in mallory.tasks[0].fact
    stored = {
        item.student: json.loads((tmp_path / "out" / "results" / f"{item.student}.json").read_text()) for item in items
    }
    assert stored["mallory"]["key"] is None  # regraded next run
    assert stored["alice"]["key"] and stored["zoe"]["key"]  # final rows


def raise_for_bug(name, data, exercise_name, options):
    """A work function that meets a bug of the grader on one submission."""
    if os.path.basename(name) == "bug.py":
        raise ZeroDivisionError("a bug of the grader")
    return grade_bytes(name, data, exercise_name, options)


def test_a_hostile_class_on_dask_gets_every_row_safely_and_a_grader_bug_costs_one(tmp_path, cluster):
    from safe_text import assert_safe, assert_safe_bytes
    from test_hostile_learner import raising

    address, _ = cluster
    correct = (CORPUS / "correct_vectorized.py").read_bytes()
    files = {
        b"Jos\xe9.py": correct,
        b"a" * 252 + b".py": correct,
        b"--help.py": correct,
        b"surrogate.py": raising("\udce9\u202e\x1b]52;c;aGk=\x07").encode(),
        b"bug.py": correct + b"# differs\n",
    }
    (tmp_path / "class").mkdir()
    for name, content in files.items():
        with open(os.path.join(os.fsencode(tmp_path / "class"), name), "wb") as handle:
            handle.write(content)
    items = discover(tmp_path / "class", "softmax")
    pool = partial(DaskPool, scheduler=address)
    options = {"timeout": 1.0, "seed": 0, "memory_mb": 1024}
    outcome = run(items, EXERCISE, tmp_path / "out", options, jobs=2, work=raise_for_bug, pool=pool)
    scores = {student: (result.score, result.grader_failure) for student, result in outcome.reports.items()}
    assert scores == {
        "Jos\udce9": (4, False),
        "a" * 252: (4, False),
        "--help": (4, False),
        "surrogate": (3, False),
        "bug": (0, True),
    }
    assert "ZeroDivisionError: a bug of the grader" in outcome.reports["bug"].tasks[0].fact
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert_safe_bytes(path.read_bytes())
            if path.name == "results.json":
                assert_safe(json.loads(path.read_text()))
    again = run(items, EXERCISE, tmp_path / "out", options, jobs=2, work=grade_bytes, pool=pool)
    assert again.graded == ["bug"] and again.reports["bug"].score == 4  # only the failed row, regraded


def test_ctrl_c_on_a_local_cluster_keeps_finished_rows(tmp_path):
    (tmp_path / "class").mkdir()
    for i in range(24):  # each waits out a 0.5 s timeout: the run is still going when interrupted
        shutil.copy(CORPUS / "dw_timeout.py", tmp_path / "class" / f"student{i:02}.py")
    command = grade_command() + [
        "batch",
        str(tmp_path / "class"),
        "-e",
        "softmax",
        "--out",
        str(tmp_path / "out"),
        "--timeout",
        "0.5",
        "--scheduler",
        "local",
        "-j",
        "2",
    ]
    # Its own process group, signalled whole, as a terminal's Ctrl-C does: the Dask workers get it too.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    stored = tmp_path / "out" / "results"
    while process.poll() is None and not (stored.is_dir() and any(stored.glob("*.json"))):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    finished = sorted(stored.glob("*.json"))
    assert process.returncode == 130, out + err
    assert err.strip().splitlines() == [
        f"grade: interrupted; {24 - len(finished)} of 24 submissions not graded yet: {tmp_path / 'out'}/grades.csv "
        f"and the summary cover the {len(finished)} finished, rerun to grade the rest"
    ]
    assert "Traceback" not in out + err
    assert 0 < len(finished) < 24  # interrupted mid-run, not after it
    assert not [path for path in stored.iterdir() if not path.name.endswith(".json")]  # no half-written file
    for path in finished:
        assert json.loads(path.read_text())["row"]["score"] == 3
    resumed = run_grade(
        "batch",
        tmp_path / "class",
        "-e",
        "softmax",
        "--out",
        tmp_path / "out",
        "--timeout",
        "0.5",
        "--scheduler",
        "local",
        "-j",
        "2",
    )
    assert f"graded {24 - len(finished)}, reused {len(finished)}" in resumed.stdout
    assert len((tmp_path / "out" / "grades.csv").read_text().splitlines()) == 25


def echo_name(name, data, exercise_name, options):
    """A work function that grades nothing: the row is the submission's name."""
    return {"path": name}


def log_length():
    import dask

    return dask.config.get("distributed.admin.low-level-log-length")


def submissions_held():
    """The numbers of the marked submissions (b"# held-000042") whose bytes this process still holds."""
    gc.collect()
    found = set()
    for holder in gc.get_objects():
        for thing in gc.get_referents(holder):
            if isinstance(thing, (bytes, bytearray, memoryview)):
                with suppress(ValueError):  # a released memoryview
                    found.update(re.findall(rb"# held-(\d{6})", bytes(thing)))
    return found


def test_a_local_cluster_keeps_only_the_last_few_chunks_it_sent(monkeypatch):
    """Dask keeps each stream's recent messages for debugging (1,000 batches by default), and a chunk's
    files travel inside its task: the client, with its local cluster's scheduler, held every submission
    of the class, pickled and unpickled. The pool makes Dask keep LOG_LENGTH batches instead."""
    monkeypatch.setattr(dask_pool, "CHUNK_MOST", 1)  # one task, one message, per submission
    count = 120
    jobs = ((index, (f"s{index}.py", b"# held-%06d\n" % index, "softmax", {})) for index in range(count))
    statuses = []
    with DaskPool(echo_name, 1, scheduler="local") as pool:
        pool.run(jobs, lambda tag, status, value: statuses.append(status))
        scheduler = pool.cluster.scheduler
        logs = [pool.client.scheduler_comm, *scheduler.stream_comms.values(), *scheduler.client_comms.values()]
        assert {log.recent_message_log.maxlen for log in logs} == {LOG_LENGTH}
        assert scheduler.transition_log.maxlen == LOG_LENGTH
        assert scheduler.monitor.maxlen == LOG_LENGTH  # its samples of CPU and memory, in this process
        assert set(pool.client.run(log_length).values()) == {LOG_LENGTH}  # on its worker too
        held = submissions_held()
    assert statuses == ["ok"] * count
    # At most LOG_LENGTH batches in each of the two logs that carry files (client to scheduler, scheduler
    # to its worker), each batch at most the two chunks a worker is given at once; 120 before.
    assert len(held) <= 4 * LOG_LENGTH, len(held)


NO_DASK = """
import sys
from grader.cli import main
for argv in (["check", sys.argv[1]], ["batch", sys.argv[2], "-e", "softmax", "--out", sys.argv[3], "-j", "1",
                                      "--timeout", "0.5"]):
    try:
        main(argv)
    except SystemExit as done:
        assert done.code in (0, 1), (argv, done.code)
print(sorted(name for name in sys.modules if name.split(".")[0] in ("dask", "distributed")))
"""


def test_without_scheduler_nothing_from_dask_is_imported(tmp_path):
    (tmp_path / "class").mkdir()
    shutil.copy(CORPUS / "db_missing_keepdims.py", tmp_path / "class" / "bob.py")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            NO_DASK,
            str(ROOT / "solutions" / "softmax.py"),
            str(tmp_path / "class"),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "grades.csv").read_text().splitlines()[1] == "bob,1,1,1,0,3,,,,missing_keepdims"


@pytest.mark.parametrize(
    "address, message",
    [
        ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
        ("no port", "cannot reach the Dask scheduler at no port"),
    ],
)
def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, address, message):
    (tmp_path / "class").mkdir()
    shutil.copy(CORPUS / "correct_vectorized.py", tmp_path / "class" / "alice.py")
    command = grade_command() + [
        "batch",
        str(tmp_path / "class"),
        "-e",
        "softmax",
        "--out",
        str(tmp_path / "out"),
        "--scheduler",
        address,
    ]
    # Dask retries a refused connection for its connect timeout: a short one keeps the test short.
    env = {**os.environ, "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "results").exists()


def test_a_submission_graded_on_a_dask_worker_reaches_neither_the_scheduler_nor_the_worker(tmp_path):
    """The jail comes from a fresh fork server: nothing of the worker (its client, its modules) is in it,
    and no socket can be made, so the scheduler it knows the address of stays out of reach."""
    # A cluster of its own: the module's shared one has had workers killed by the tests above, and the
    # question here is whether this submission harms a cluster, not whether those came back in time.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        with Client(local) as client:
            client.wait_for_workers(2, timeout=120)
            _grade_on_a_worker_and_check_the_cluster(tmp_path, local.scheduler_address, client)


def _grade_on_a_worker_and_check_the_cluster(tmp_path, address, client):
    host, port = address.rsplit("/", 1)[1].rsplit(":", 1)
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "mallory.py").write_text(f"""
import sys, socket
found = []
try:
    socket.create_connection(({host!r}, {port}), timeout=2)
    found.append("reached the scheduler")
except OSError:
    pass
found += [m for m in sys.modules if m.split(".")[0] in ("distributed", "dask", "tornado", "grader", "_gradebox")]
def forward(X, W, b):
    raise RuntimeError("FOUND " + repr(found) if found else "nothing found")
""")
    items = [Item("mallory", tmp_path / "class" / "mallory.py")]
    outcome = run(
        items,
        EXERCISE,
        tmp_path / "out",
        {"timeout": 5.0, "seed": 0, "memory_mb": 1024},
        jobs=2,
        pool=partial(DaskPool, scheduler=address),
    )
    forward = outcome.reports["mallory"].tasks[0]
    assert "RuntimeError: nothing found" in forward.fact, forward
    # The cluster is intact: both workers still there (waited for, as a worker may still be registering on a
    # busy machine; one that died would never come back).
    client.wait_for_workers(2, timeout=60)
    assert len(client.nthreads()) == 2


def slow_ready_row(name, data, exercise_name, options):
    time.sleep(0.2)
    return {**grade_bytes("x.py", b"", exercise_name, options), "path": name}


def test_a_cluster_left_without_workers_ends_the_run_in_one_line_and_keeps_the_rows(tmp_path, monkeypatch):
    from grader.classroom import dask_pool
    from grader.reading.submission import UsageError

    monkeypatch.setattr(dask_pool, "WORKERS_TIMEOUT", 2)
    monkeypatch.setattr(dask_pool, "ROOM_CHECK", 0.2)
    (tmp_path / "class").mkdir()
    for index in range(30):
        (tmp_path / "class" / f"s{index:02}.py").write_text(f"# {index}\n")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as local:

        class LastWorkerLeaves:  # a progress object: after the third row, the cluster's only worker goes
            rows = 0

            def start(self, total):
                pass

            def advance(self, count=1, graded=True):
                self.rows += count
                if self.rows == 3:
                    local.scale(0)

        started = time.monotonic()
        with pytest.raises(UsageError, match=r"^every Dask worker left the scheduler at tcp://.* within 2 s; the rows"):
            run(
                discover(tmp_path / "class", "x"),
                EXERCISE,
                tmp_path / "out",
                {"timeout": 5.0, "seed": 0, "memory_mb": 1024},
                jobs=1,
                work=slow_ready_row,
                progress=LastWorkerLeaves(),
                pool=partial(DaskPool, scheduler=local.scheduler_address),
            )
        assert time.monotonic() - started < 60  # not for ever
    stored = sorted(path.stem for path in (tmp_path / "out" / "results").glob("*.json"))
    assert 3 <= len(stored) < 30 and stored == [f"s{index:02}" for index in range(len(stored))]


def test_a_local_cluster_keeps_its_nannies_while_it_runs():
    """A nanny is closed for good after distributed.deploy.lost-worker-timeout without its worker (15 s by
    default): a class that kills worker after worker would leave a local cluster with none. Not while it runs."""
    import dask

    default = dask.config.get("distributed.deploy.lost-worker-timeout")
    with DaskPool(grade_bytes, 1, scheduler="local") as pool:
        assert dask.config.get("distributed.deploy.lost-worker-timeout") == "1h"
        assert pool.capacity == 1
    assert dask.config.get("distributed.deploy.lost-worker-timeout") == default
