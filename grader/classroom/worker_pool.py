"""Worker processes for `grade batch`, one job at a time each, surviving their own death.

Not concurrent.futures: when one of its workers dies every pending future fails
and nobody knows which job killed it. Here each worker has its own pipe and runs
one job at a time, so a worker that dies (SIGKILL, OOM killer, a hostile
submission) costs exactly its job, which is retried once on a fresh worker and
then reported as crashed; the other jobs go on.

Workers are forked from the grading command itself, with the grader and the
exercise already imported (`preload`): no interpreter start-up, and nothing of
__main__ to import again (a 'forkserver' or 'spawn' worker re-runs the main script,
which fails for `python -` and costs time for any other). Forking is safe because
the command has no other thread: its progress bar refreshes from the main thread
(cli._BatchProgress), so no fork, not even a replacement's mid-run, can copy a lock
another thread holds. Each worker forks its own sandboxed child per submission,
as `grade check` does.
"""

import ctypes
import importlib
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from multiprocessing.connection import wait

PRELOAD = ["grader.classroom.job"]  # imported before forking, inherited by every worker
_PR_SET_PDEATHSIG = 1


def _serve(conn, function, parent, inherited):
    """Worker main loop: receive (tag, args), send (tag, ("ok", value) | ("error", text)).

    The worker dies with the command that forked it, however that one ends (SIGKILL,
    the OOM killer): on Linux the kernel sends it SIGTERM when the parent dies; on any
    system, the parent's ends of every worker's pipe are closed here, so an idle
    worker reads EOF once the parent is gone.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # SIGTERM from the parent unwinds the sandbox's `with`, which kills the learner's process tree.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    _term_on_parent_death()
    for end in inherited:  # copies forked along; while one is open here, the pipe never reports EOF
        end.close()
    while os.getppid() == parent:  # also catches a parent that died before prctl took effect
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        tag, args = message
        try:
            result = ("ok", function(*args))
        except Exception as error:  # a grader bug on one submission costs that row only
            result = ("error", f"{type(error).__name__}: {error}")
        try:
            conn.send((tag, result))
        except OSError:  # the parent is gone
            return


def _term_on_parent_death():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the EOF on the pipe and the loop's check remain
        pass


class _Worker:
    def __init__(self, context, function, siblings=()):
        self.conn, child_end = context.Pipe()
        inherited = [self.conn, *(sibling.conn for sibling in siblings)]
        self.process = context.Process(target=_serve, args=(child_end, function, os.getpid(), inherited), daemon=True)
        self.process.start()
        child_end.close()
        self.job = None
        self.started = None

    def give(self, job):
        self.job, self.started = job, time.monotonic()
        try:
            self.conn.send(job)
        except OSError:
            pass  # the worker is dead: run() sees its sentinel and retries the job elsewhere

    def stop(self, force=False):
        if force:
            self.process.terminate()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class WorkerPool:
    """`with WorkerPool(fn, jobs=2) as pool: pool.run(jobs, on_done)` where jobs are (tag, args).

    on_done(tag, status, value): status "ok" (value = fn's result), "error" (fn raised:
    value is its text), "died" (the worker died twice on it) or "hung" (it outran
    `deadline` seconds).
    """

    def __init__(self, function, jobs, deadline=None, retries=1, preload=()):
        self.function = function
        self.size = max(1, int(jobs))
        self.deadline = deadline
        self.retries = retries
        # Fork where there is one (Linux, macOS); Windows has only spawn, which imports the grader anew.
        self.context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        self.preload = PRELOAD + list(preload)
        self.workers = []
        self._next = lambda: None

    def __enter__(self):
        for name in self.preload:
            importlib.import_module(name)
        self.workers = []
        for _ in range(self.size):
            self.workers.append(_Worker(self.context, self.function, self.workers))
        return self

    def __exit__(self, kind, *exc):
        # On an error or Ctrl-C, terminate: each worker's SIGTERM handler closes its sandbox.
        for worker in self.workers:
            worker.stop(force=kind is not None)
        self.workers = []

    @property
    def capacity(self):
        return self.size

    def run(self, jobs, on_done):
        """Run every job of the iterable `jobs`, taking the next one only when a worker is free
        (so a generator that reads submissions holds only those in flight)."""
        source, retried, failures = iter(jobs), deque(), {}

        def next_job():
            return retried.popleft() if retried else next(source, None)

        self._next = next_job
        while True:
            for worker in self.workers:
                if worker.job is None:
                    job = next_job()
                    if job is not None:
                        worker.give(job)
            busy = [worker for worker in self.workers if worker.job]
            if not busy:
                return
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=1.0))
            for worker in busy:
                if worker.conn in ready and self._receive(worker, on_done):
                    continue
                if worker.process.sentinel in ready or not worker.process.is_alive():
                    # Its pipe closes a moment before the kernel lets us reap it: wait for the exit code.
                    worker.process.join(5)
                    tag, args = worker.job
                    failures[tag] = failures.get(tag, 0) + 1
                    if failures[tag] <= self.retries:
                        retried.append(worker.job)
                    else:
                        on_done(tag, "died", _exit_text(worker.process.exitcode))
                    self._replace(worker)
                elif self.deadline and time.monotonic() - worker.started > self.deadline:
                    on_done(worker.job[0], "hung", f"grading took longer than {self.deadline:g} s")
                    self._replace(worker)

    def _receive(self, worker, on_done):
        try:
            tag, (status, value) = worker.conn.recv()
        except (EOFError, OSError):
            return False  # the worker died: its sentinel says so
        worker.job = None
        job = self._next()
        if job is not None:  # next job first, so the worker grades while on_done writes files
            worker.give(job)
        on_done(tag, status, value)
        return True

    def _replace(self, worker):
        worker.stop(force=True)
        index = self.workers.index(worker)
        self.workers[index] = _Worker(self.context, self.function, [w for w in self.workers if w is not worker])


def _exit_text(code):
    if code is not None and code < 0:
        try:
            return f"the grading process was killed by {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"the grading process exited with code {code}"
