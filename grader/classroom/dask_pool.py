"""`grade batch --scheduler`: grade on a Dask distributed cluster, with WorkerPool's interface.

Imported only when --scheduler is given, so neither `grade check` nor a one-machine
batch loads Dask. Each submission travels as bytes to job.grade_bytes, which forks
its sandboxed child inside the Dask worker process exactly as `grade check` does;
rows come back as plain dicts and are handed to on_done as they complete, so
batch.run stores each one at once (resume and Ctrl-C as on one machine).

Forking from a Dask worker is safe although the worker has threads (its event
loop, the nanny watchers): the fork happens in the task's own thread, and the
child never touches what those threads hold; it only resets signals and
descriptors, then runs the learner's code and numpy (see child.py). Run workers
with --nthreads 1: each grading already uses a process of its own, and the
sandbox makes its worker process a subreaper that kills orphans it adopts, which
is harmless only when the worker runs nothing but grading.

A worker that dies (killed, out of memory, a submission that kills its grader) is
Dask's to handle: the scheduler gives its tasks to other workers, and a task on
which `distributed.scheduler.allowed-failures` + 1 workers died (3 + 1 by default)
ends with KilledWorker, reported here as "died": a crashed row, regraded next run.
"""

import itertools
import logging

from ..reading.submission import UsageError

WORKERS_TIMEOUT = 60  # seconds to wait for a first worker to join an empty cluster
LOST_RESULTS = 3  # times a row lost with its worker, after grading, is graded again
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
        self.cluster = self.client = None

    def __enter__(self):
        try:
            import distributed
        except ImportError:
            raise UsageError(
                '--scheduler needs Dask: install this project with its dask extra, pip install -e ".[dask]"'
            ) from None
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

    def run(self, jobs, on_done):
        from distributed import as_completed

        jobs = list(jobs)
        if not jobs:
            return
        run = next(_runs)
        keys = [f"grade-{run}-{index}" for index in range(len(jobs))]
        waiting = dict(zip(keys, jobs))  # key -> (tag, args), until its row is handed over
        # One map call sends every task in one message; pure=False as each key is unique anyway.
        futures = self.client.map(self.function, *zip(*(args for _, args in jobs)), key=keys, pure=False, retries=0)
        finished = as_completed(futures)
        del futures, jobs  # as_completed drops each future it yields, so the cluster can free its result
        lost = {}
        for future, fetched in self._fetched(finished):
            tag, args = waiting.pop(future.key)
            status, value = ("ok", fetched) if fetched is not _NOTHING else self._outcome(future)
            future.release()
            if status == "lost" and lost.get(tag, 0) < LOST_RESULTS:
                # Graded, but its worker died before the row was fetched: grade it again.
                lost[tag] = lost.get(tag, 0) + 1
                key = f"{future.key}-again{lost[tag]}"
                waiting[key] = tag, args
                finished.add(self.client.submit(self.function, *args, key=key, pure=False, retries=0))
                continue
            on_done(tag, "died" if status == "lost" else status, value)

    def _fetched(self, finished):
        """(future, row or _NOTHING) as they complete; the rows of a batch fetched in one gather.

        One result() per future would cost a round trip to a worker each, in turn.
        """
        for batch in finished.batches():
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
