"""`grade batch --scheduler`: grade on a Dask distributed cluster, with WorkerPool's interface.

Imported only when --scheduler is given, so neither `grade check` nor a one-machine
batch loads Dask. Submissions travel as bytes, in chunks (one Dask task each,
grade_chunk), to job.grade_bytes, which forks its sandboxed child inside the Dask
worker process exactly as `grade check` does; rows come back as plain dicts and are
handed to on_done as each chunk completes, so batch.run stores them at once (resume
and Ctrl-C as on one machine).

Forking from a Dask worker is safe although the worker has threads (its event
loop, the nanny watchers): the fork happens in the task's own thread, and the
child never touches what those threads hold; it only resets signals and
descriptors, then runs the learner's code and numpy (see child.py). Run workers
with --nthreads 1: each grading already uses a process of its own, and the
sandbox makes its worker process a subreaper that kills orphans it adopts, which
is harmless only when the worker runs nothing but grading.

A worker that dies (killed, out of memory, a submission that kills its grader) is
Dask's to handle: the scheduler gives its chunk to another worker, which grades it
whole again, and a task on which `distributed.scheduler.allowed-failures` + 1
workers died (3 + 1 by default) ends with KilledWorker; such a chunk is split into
single submissions, and a single one that ends so is reported here as "died": a
crashed row, regraded next run.
"""

import itertools
import logging
import time

from ..reading.submission import UsageError
from .results_store import ctrl_c_held

WORKERS_TIMEOUT = 60  # seconds to wait for a worker to join a cluster that has none
ROOM_CHECK = 5  # seconds between two readings of the cluster's size
LOST_RESULTS = 3  # times a chunk lost with its worker, after grading, is graded again
CHUNK_SECONDS = 0.5  # a chunk's grading time: Dask advises tasks of 100 ms or more; a killed worker loses one
CHUNK_MOST = 200  # submissions in a chunk, at most (rows come back as one message: ~2 MB)
CHUNK_BYTES = 8 << 20  # of files in a chunk, at most (one notebook may be more: it goes alone)
# Dask keeps the last distributed.admin.low-level-log-length (1,000) messages of each batched stream
# (client to scheduler, scheduler to each worker) under 1 MB for debugging, and as many scheduler
# transitions and events: with a chunk's files inside its task, that was the whole class of 100,000
# twice over (pickled, and unpickled in the scheduler's messages to workers). A few recent ones only;
# and as few of the samples of CPU and memory each server keeps for its dashboard (7,200 by default:
# an hour's, growing all through a long run).
LOG_LENGTH = 10
_runs = itertools.count()
_NOTHING = object()


class DaskPool:
    """`with DaskPool(fn, jobs, scheduler="tcp://host:8786") as pool: pool.run(jobs, on_done)`.

    As worker_pool.WorkerPool: jobs are (tag, args), on_done(tag, status, value) with
    status "ok", "error" (fn raised) or "died" (workers kept dying on it). `jobs` is
    the number of workers of a "local" cluster; a remote cluster has the workers it
    has. `deadline` and `retries` are the scheduler's business here (allowed-failures),
    accepted so batch.run can make either pool the same way.
    """

    def __init__(self, function, jobs, deadline=None, retries=1, preload=(), scheduler="local"):
        self.function = function
        self.size = max(1, int(jobs))
        self.preload = ["grader.classroom.job", *preload]
        self.scheduler = scheduler
        self.cluster = self.client = self._settings = None

    def __enter__(self):
        try:
            import dask
            import distributed
        except ImportError:
            raise UsageError(
                '--scheduler needs Dask: install this project with its dask extra, pip install -e ".[dask]"'
            ) from None
        # For as long as the pool lives: the scheduler opens a stream to each worker that (re)joins.
        # A local cluster's scheduler and workers (spawned with this process's config) read them too.
        settings = {
            "distributed.admin.low-level-log-length": LOG_LENGTH,
            "distributed.admin.system-monitor.log-length": LOG_LENGTH,
        }
        if self.scheduler == "local":
            # A killed worker's nanny starts another; but with no worker of that name for
            # lost-worker-timeout (15 s), the cluster closes the nanny for good, and a class whose
            # submissions kill workers again and again would be left with none. This cluster is
            # this run's own: its nannies stay while it runs.
            settings["distributed.deploy.lost-worker-timeout"] = "1h"
        self._settings = dask.config.set(settings)
        # Dask's own log lines (reconnecting, rescheduling) would bury the command's one-line errors.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        try:
            if self.scheduler == "local":
                # Worker processes are spawned (fresh interpreters), not forked from this one. A free
                # port for its HTTP server: even without a dashboard it would take 8787, or warn.
                self.cluster = distributed.LocalCluster(
                    n_workers=self.size,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=logging.CRITICAL,
                )
            # Dask retries a refused connection for distributed.comm.timeouts.connect (30 s; its
            # environment variable DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT changes it).
            self.client = distributed.Client(self.cluster or self.scheduler)
            if self.cluster:
                # Its workers share our terminal: Ctrl-C is the client's to handle (it closes them).
                self.client.register_plugin(_interrupts_ignored(distributed.WorkerPlugin))
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            self._close()
            raise UsageError(f"cannot reach the Dask scheduler at {self.scheduler}: {_one_line(error)}") from None
        try:
            self._check_workers()
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, *exc):
        # Closing the client releases its futures: the scheduler drops the tasks still queued.
        self._close()

    def _close(self):
        for thing in (self.client, self.cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # already gone (e.g. the scheduler died): nothing left to release
                    pass
        self.client = self.cluster = None
        if self._settings is not None:
            self._settings.__exit__(None, None, None)
            self._settings = None

    def _check_workers(self):
        """Fail early, in one line, on an empty cluster or workers without this grader."""
        from .. import DISTRIBUTION, __version__

        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
        except TimeoutError:
            raise UsageError(
                f"no Dask worker joined the scheduler at {self.scheduler} within {WORKERS_TIMEOUT} s"
            ) from None
        threaded = sorted(address for address, count in self.client.nthreads().items() if count != 1)
        if threaded:
            # Two gradings in one process could race: each kills the orphans its process adopts.
            raise UsageError(
                f"Dask worker {threaded[0]} runs {self.client.nthreads()[threaded[0]]} threads; "
                f"start grading workers with --nthreads 1 (add --nworkers N for more)"
            )
        # Also imports the grader on every worker now, not in the first tasks.
        versions = self.client.run(_probe(self.preload), on_error="return")
        versions = {
            address: None if isinstance(version, BaseException) else version for address, version in versions.items()
        }
        wrong = {address: version for address, version in versions.items() if version != __version__}
        if wrong:
            address, version = sorted(wrong.items())[0]
            found = "no grader" if version is None else f"grade {version}"
            raise UsageError(
                f"Dask worker {address} has {found} ({len(wrong)} of {len(versions)} workers differ); "
                f"install {DISTRIBUTION} {__version__} with its dask extra on every worker"
            )

    @property
    def capacity(self):
        """The cluster's worker threads (one grading each)."""
        return sum(self.client.nthreads().values()) if self.client else self.size

    def run(self, jobs, on_done):
        """Grade the iterable `jobs` in chunks, a few per worker in flight, taking the next ones as chunks finish.

        A chunk is one Dask task (grade_chunk): Dask's per-task cost (about 4 ms of the
        scheduler's and the client's time on this project's 2-core machine) is paid once for
        CHUNK_SECONDS of grading. A chunk lost with its worker is regraded whole (by Dask,
        on another worker); one that keeps killing workers is split, so that only the
        submission that kills them ends as "died".
        """
        from distributed import as_completed

        source, sizer = iter(jobs), ChunkSizer()
        finished = as_completed()
        waiting = {}  # key -> the chunk's [(tag, args)], until its rows are handed over
        lost = {}
        keys = (f"grade-{next(_runs)}-{index}" for index in itertools.count())
        room = _Room(self.client)

        suspects, on_trial, tried = [], set(), set()

        def tags(chunk):
            return tuple(tag for tag, _ in chunk)

        def submit(chunk, key=None):
            key = key or next(keys)
            waiting[key] = chunk
            arguments = [args for _, args in chunk]
            finished.add(self.client.submit(grade_chunk, self.function, arguments, key=key, pure=False, retries=0))

        def refill():
            while len(waiting) < room.chunks():
                chunk = sizer.take(source)
                if not chunk:
                    return
                submit(chunk)

        def try_next_suspect():
            if suspects and not on_trial:
                key = next(keys)
                on_trial.add(key)
                submit(suspects.pop(0), key)

        refill()
        for future, fetched in self._fetched(finished, room):
            chunk = waiting.pop(future.key)
            was_on_trial = future.key in on_trial
            on_trial.discard(future.key)
            status, value = ("ok", fetched) if fetched is not _NOTHING else self._outcome(future)
            future.release()
            if status == "ok":
                rows, seconds = value
                sizer.learn(seconds, len(rows))
                with ctrl_c_held():  # the chunk's rows are written together
                    for (tag, _), (row_status, row) in zip(chunk, rows):
                        on_done(tag, row_status, row)
            elif status == "lost" and lost.get(tags(chunk), 0) < LOST_RESULTS:
                # Graded, but its worker died before the rows were fetched: grade them again. Counted by the
                # chunk's submissions, not its key, which changes with each try.
                lost[tags(chunk)] = lost.get(tags(chunk), 0) + 1
                key = next(keys)
                if was_on_trial:
                    on_trial.add(key)
                submit(chunk, key)
            elif status in ("died", "lost") and len(chunk) > 1:
                # Workers kept dying on this chunk (killed, or lost with its results again and again): grade
                # each submission alone, so that only the one that kills them ends as "died".
                for one in chunk:
                    submit([one])
            elif status == "died" and not was_on_trial and tags(chunk) not in tried:
                # Dask blames every task a dying worker held, queued ones too, so an innocent submission
                # queued beside the killer is called one. Suspects are tried again one at a time, while
                # no other suspect runs: a killer dies again, an innocent one is graded.
                tried.add(tags(chunk))
                suspects.append(chunk)
            else:
                with ctrl_c_held():
                    for tag, _ in chunk:
                        on_done(tag, "died" if status == "lost" else status, value)
            refill()
            try_next_suspect()

    def _fetched(self, finished, room):
        """(future, result or _NOTHING) as they complete; the results of a batch fetched in one gather.

        One result() per future would cost a round trip to a worker each, in turn. While none
        completes, the cluster must have a worker: one left without any for WORKERS_TIMEOUT
        would wait for ever (the rows graded so far are stored; a rerun grades the rest).
        """
        while not finished.is_empty():
            batch = finished.next_batch(block=False)
            if not batch:
                if room.workers_gone_for() > WORKERS_TIMEOUT:
                    raise UsageError(
                        f"every Dask worker left the scheduler at {self.scheduler} and none came back within "
                        f"{WORKERS_TIMEOUT} s; the rows graded so far are stored: rerun to grade the rest"
                    )
                time.sleep(0.02)
                continue
            done = [future for future in batch if future.status == "finished"]
            try:
                rows = self.client.gather(done) if done else []
            except Exception:  # one of them was lost: _outcome fetches each alone
                rows = [_NOTHING] * len(done)
            fetched = {future.key: row for future, row in zip(done, rows)}
            for future in batch:
                yield future, fetched.get(future.key, _NOTHING)

    def _outcome(self, future):
        from distributed import KilledWorker

        if future.status == "finished":
            try:
                return "ok", future.result()
            except Exception as error:
                return "lost", f"its result was lost ({_one_line(error)})"
        if future.status == "error":
            error = future.exception()
            if isinstance(error, KilledWorker):
                tries = getattr(error, "allowed_failures", None)  # not in every Dask version
                return "died", f"{tries + 1 if tries is not None else 'several'} Dask workers died while grading it"
            return "error", f"{type(error).__name__}: {_one_line(error)}"
        if self.client.status not in ("running", "connecting"):
            raise UsageError(f"lost the Dask scheduler at {self.scheduler}")
        # Reset for recomputing (its result was lost with a worker) or cancelled: submitted again.
        return "lost", f"the Dask scheduler dropped it ({future.status})"


def grade_chunk(function, chunk):
    """On a worker: ([(status, row)], seconds) for each submission's args in `chunk`, in order.

    One submission's grader error costs its row only ("error"), as in a local worker.
    """
    started = time.perf_counter()
    rows = []
    for args in chunk:
        try:
            rows.append(("ok", function(*args)))
        except Exception as error:
            rows.append(("error", f"{type(error).__name__}: {_one_line(error)}"))
    return rows, time.perf_counter() - started


class ChunkSizer:
    """How many submissions go in the next chunk: about CHUNK_SECONDS of a worker's time, at the
    time per submission measured so far (a moving average), never more than CHUNK_BYTES of files.

    The first chunks hold one submission each, so the first measures come quickly.
    """

    def __init__(self):
        self.per_submission = None
        self._held = None  # a job taken from the source that did not fit in the last chunk

    def learn(self, seconds, count):
        if count:
            measured = seconds / count
            self.per_submission = (
                measured if self.per_submission is None else 0.7 * self.per_submission + 0.3 * measured
            )

    def size(self):
        if self.per_submission is None:
            return 1
        return max(1, min(CHUNK_MOST, int(CHUNK_SECONDS / max(self.per_submission, 1e-6))))

    def take(self, source):
        """The next chunk of (tag, args) from `source`; a file that would take it past CHUNK_BYTES waits."""
        chunk, size, held = [], self.size(), 0
        while len(chunk) < size:
            job = self._held if self._held is not None else next(source, None)
            self._held = None
            if job is None:
                break
            bytes_ = len(job[1][1]) if len(job[1]) > 1 and isinstance(job[1][1], bytes) else 0
            if chunk and held + bytes_ > CHUNK_BYTES:
                self._held = job
                break
            chunk.append(job)
            held += bytes_
        return chunk


class _Room:
    """Chunks kept in flight: two per worker thread (one running, one ready), the count read again
    every ROOM_CHECK seconds as workers join or leave."""

    def __init__(self, client):
        self.client, self.checked, self.threads = client, 0.0, 1
        self.seen = time.monotonic()  # when the cluster last had a worker

    def _check(self):
        now = time.monotonic()
        if now - self.checked > ROOM_CHECK:
            self.checked, self.threads = now, sum(self.client.nthreads().values())
            if self.threads:
                self.seen = now

    def chunks(self):
        self._check()
        return 2 * max(1, self.threads)

    def workers_gone_for(self):
        """Seconds the cluster has had no worker (0 while it has one)."""
        self._check()
        return 0.0 if self.threads else time.monotonic() - self.seen


def _interrupts_ignored(base):
    # A class made here, so cloudpickle sends it by value; the nanny applies it to restarted workers too.
    class IgnoreInterrupts(base):
        name = "grade-ignore-sigint"
        idempotent = True

        def setup(self, worker):
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)

    return IgnoreInterrupts()


def _probe(modules):
    # A closure, so cloudpickle sends it by value: it runs even where the grader is missing.
    def probe():
        import importlib

        try:
            for name in modules:
                importlib.import_module(name)
            import grader
        except ImportError:
            return None
        return grader.__version__

    return probe


def _one_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
