"""DaskPool.run's handling of chunks whose worker died, without a cluster: a stand-in client decides each
chunk's fate (graded, its result lost with its worker, dropped by the scheduler, or KilledWorker).

A chunk lost with its results is graded again whole, LOST_RESULTS times; past that, or on KilledWorker,
it is split so that only the submission to blame ends "died". The same split on a real cluster, with
workers really killed, is tests/test_dask_batch.py's.
"""

import distributed
import pytest
from distributed import KilledWorker

from grader.classroom import dask_pool
from grader.classroom.dask_pool import LOST_RESULTS, DaskPool
from grader.reading.submission import UsageError


class Future:
    def __init__(self, key, status, value=None, error=None):
        self.key, self.status, self._value, self._error = key, status, value, error

    def result(self):
        if self._error is not None:
            raise self._error
        return self._value

    def exception(self):
        return self._error

    def release(self):
        pass


class Client:
    """What DaskPool.run asks of a distributed.Client; `fate(names, attempt)` says how each chunk ends:
    "ok", "lost" (graded, but its worker died before its result was fetched), "dropped" (the scheduler
    let go of it) or "killed" (KilledWorker)."""

    def __init__(self, fate):
        self.fate, self.submitted, self.status = fate, [], "running"

    def submit(self, task, function, arguments, key, pure, retries):
        names = tuple(args[0] for args in arguments)
        self.submitted.append(names)
        fate = self.fate(names, self.submitted.count(names))
        if fate == "ok":
            return Future(key, "finished", task(function, arguments))
        if fate == "lost":
            return Future(key, "finished", error=OSError("its worker left"))
        if fate == "dropped":
            return Future(key, "lost")
        assert fate == "killed"
        return Future(key, "error", error=KilledWorker(key, None, 3))

    def gather(self, futures):
        return [future.result() for future in futures]

    def nthreads(self):
        return {"tcp://127.0.0.1:1": 1}


class AsCompleted:
    """distributed.as_completed: every pending future in one batch, in the order submitted."""

    def __init__(self):
        self.pending = []

    def add(self, future):
        self.pending.append(future)

    def is_empty(self):
        return not self.pending

    def next_batch(self, block=True):
        batch, self.pending = self.pending, []
        return batch


class ChunksOfThree(dask_pool.ChunkSizer):
    def size(self):
        return 3


@pytest.fixture
def grade(monkeypatch):
    """grade(fate, names) -> ({name: (status, value)} handed to on_done, the chunks submitted)."""
    monkeypatch.setattr(distributed, "as_completed", AsCompleted)
    monkeypatch.setattr(dask_pool, "ChunkSizer", ChunksOfThree)

    def _grade(fate, names, client=None):
        pool = DaskPool(lambda name: f"row of {name}", 1, scheduler="tcp://127.0.0.1:1")
        pool.client = client or Client(fate)
        done = {}

        def on_done(tag, status, value):
            assert tag not in done, f"{tag} handed over twice"
            done[tag] = (status, value)

        pool.run([(name, (name,)) for name in names], on_done)
        return done, pool.client.submitted

    return _grade


def test_a_chunk_whose_results_were_lost_is_graded_again_whole(grade):
    def fate(names, attempt):
        return "lost" if attempt == 1 else "ok"

    done, submitted = grade(fate, ["alice", "bob", "zoe"])
    assert done == {name: ("ok", f"row of {name}") for name in ("alice", "bob", "zoe")}
    assert submitted == [("alice", "bob", "zoe")] * 2


def test_a_chunk_lost_again_and_again_is_split_and_only_the_one_always_lost_ends_died(grade):
    def fate(names, attempt):
        return "lost" if "bob" in names else "ok"

    done, submitted = grade(fate, ["alice", "bob", "zoe"])
    assert done["alice"] == ("ok", "row of alice") and done["zoe"] == ("ok", "row of zoe")
    assert done["bob"] == ("died", "its result was lost (its worker left)")
    chunk, alone = [("alice", "bob", "zoe")] * (LOST_RESULTS + 1), [("bob",)] * (LOST_RESULTS + 1)
    assert submitted == chunk + [("alice",), ("bob",), ("zoe",)] + alone[1:]


def test_a_chunk_the_scheduler_dropped_is_graded_again(grade):
    def fate(names, attempt):
        return "dropped" if attempt == 1 else "ok"

    done, submitted = grade(fate, ["alice", "bob"])
    assert done == {"alice": ("ok", "row of alice"), "bob": ("ok", "row of bob")}
    assert submitted == [("alice", "bob")] * 2


def test_a_dropped_chunk_with_the_scheduler_gone_is_one_usage_error(grade):
    client = Client(lambda names, attempt: "dropped")
    client.status = "closed"
    with pytest.raises(UsageError, match="lost the Dask scheduler at tcp://127.0.0.1:1"):
        grade(None, ["alice", "bob"], client=client)


def test_a_chunk_that_keeps_killing_workers_is_split_and_only_the_killer_ends_died(grade):
    def fate(names, attempt):
        if "mallory" in names:
            return "killed"
        if names == ("alice",) and attempt == 1:  # blamed for dying beside mallory: tried again, alone
            return "killed"
        return "ok"

    done, submitted = grade(fate, ["alice", "mallory", "zoe"])
    assert done["alice"] == ("ok", "row of alice") and done["zoe"] == ("ok", "row of zoe")
    assert done["mallory"] == ("died", "4 Dask workers died while grading it")
    assert submitted[:4] == [("alice", "mallory", "zoe"), ("alice",), ("mallory",), ("zoe",)]
    # Suspects are tried again one at a time: alice (graded) and mallory (dies again), in either order.
    assert sorted(submitted[4:]) == [("alice",), ("mallory",)]
