"""Throughput of `grade batch` on one machine against a Dask cluster of 1 and 2 workers.

    python benchmarks/dask_throughput.py [--count 200] [--timeout 10]

COUNT .py submissions (the reference solution and the mutants of
tests/submissions/softmax, mixed as in batch_throughput.py, the one that hangs left
out) are graded by `grade batch -j 2` and by `grade batch --scheduler local` with
-j 1 and -j 2 workers (wall clock of the command, start-up included). Then, on one
LocalCluster started here:
- start-up: LocalCluster + Client, ready to take tasks;
- per-submission cost: a worker's wall time per submission (grading, sandbox
  fork, Dask's task handling on the worker), and the grading alone (rows' seconds);
- overhead: the same batch.run pipeline with a work function that returns a
  ready row (no grading): scheduler, transfer and the client's writing per row;
  and bare Dask tasks (no writing) for the scheduler alone.
From these it estimates the cluster needed for 100,000 submissions in 10 minutes.
On a 2-core machine the client, the scheduler and 2 workers share the cores, so
the 2-worker numbers are an upper bound on the overhead.
"""

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_throughput import choose_sources  # noqa: E402  (the same mix of correct and buggy code)

from grader import defaults  # noqa: E402

TARGET_COUNT, TARGET_SECONDS = 100_000, 600


def write_class(directory, count):
    directory.mkdir(parents=True)
    for index, (_, code) in enumerate(choose_sources(count)):
        (directory / f"student{index:05}.py").write_text(code)


def timed_batch(directory, out, *options):
    command = ["grade", "batch", str(directory), "-e", "softmax", "--out", str(out), *map(str, options)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-2000:]}")
    return seconds


def stored_seconds(out):
    return [json.loads(path.read_text())["row"]["seconds"] for path in (out / "results").glob("*.json")]


def ready_row(row):
    # A closure (sent by value to the workers): returns a graded row without grading.
    def work(name, data, exercise_name, options):
        return {**row, "path": name}

    return work


def echo(name, data, exercise_name, options):
    return len(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument(
        "--timeout", type=float, default=defaults.TIMEOUT, help="grade batch --timeout (same for every run)"
    )
    args = parser.parse_args()
    shutil.which("grade") or sys.exit("install the project first: pip install -e '.[dask]'")

    import logging

    from distributed import Client, LocalCluster, as_completed

    from grader import exercises
    from grader.classroom.batch import Item, run
    from grader.classroom.dask_pool import DaskPool
    from grader.classroom.job import grade_bytes

    work = Path(tempfile.mkdtemp(prefix="grade-dask-bench-"))
    try:
        classroom = work / "class"
        write_class(classroom, args.count)
        n = args.count
        print(
            f"{n} submissions (.py): the solution and the softmax mutants, none that hangs; --timeout {args.timeout:g}"
        )

        rates = {}
        for label, options in (
            ("one machine, grade batch -j 2", ["-j", 2]),
            ("Dask LocalCluster, 1 worker", ["--scheduler", "local", "-j", 1]),
            ("Dask LocalCluster, 2 workers", ["--scheduler", "local", "-j", 2]),
        ):
            seconds = timed_batch(classroom, work / f"out-{len(rates)}", "--timeout", args.timeout, *options)
            rates[label] = n / seconds
            print(f"  {label:32} {seconds:6.2f} s  {n / seconds:6.1f} submissions/s  (start-up included)")

        items = [Item(path.stem, path) for path in sorted(classroom.glob("*.py"))]
        exercise = exercises.load("softmax")
        options = {"timeout": args.timeout, "seed": defaults.SEED, "memory_mb": defaults.MEMORY_MB}
        row = grade_bytes("x.py", items[0].path.read_bytes(), "softmax", options)
        per_worker = {}
        for workers in (1, 2):
            start = time.perf_counter()
            with (
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=logging.CRITICAL,
                ) as cluster,
                Client(cluster) as client,
            ):
                client.wait_for_workers(workers)
                startup = time.perf_counter() - start
                pool = partial(DaskPool, scheduler=cluster.scheduler_address)
                # warm-up: the first tasks import the grader on each worker
                run(items[:4], exercise, work / f"warm-{workers}", options, workers, pool=pool)
                start = time.perf_counter()
                run(items, exercise, work / f"real-{workers}", options, workers, pool=pool)
                real = time.perf_counter() - start
                start = time.perf_counter()
                run(items, exercise, work / f"fake-{workers}", options, workers, work=ready_row(row), pool=pool)
                fake = time.perf_counter() - start
                start = time.perf_counter()
                datas = [item.path.read_bytes() for item in items]
                for batch in as_completed(
                    client.map(
                        echo, [str(item.path) for item in items], datas, ["softmax"] * n, [options] * n, pure=False
                    )
                ).batches():
                    client.gather(batch)
                bare = time.perf_counter() - start
            per_worker[workers] = real * workers / n
            print(
                f"  LocalCluster({workers}): start-up {startup:.2f} s; batch.run {n / real:.1f} submissions/s "
                f"= {real * workers / n * 1000:.1f} ms per submission per worker; pipeline without grading "
                f"{fake / n * 1000:.2f} ms per submission; bare Dask tasks {bare / n * 1000:.2f} ms each"
            )
            overhead, bare_task = fake / n, bare / n

        cost = per_worker[1]  # one worker alone: no core shared with a second worker
        grading = statistics.mean(stored_seconds(work / "real-1"))
        needed = TARGET_COUNT / TARGET_SECONDS
        workers = math.ceil(needed * cost)
        print(
            f"\nper-submission cost on a worker: {cost * 1000:.1f} ms ({grading * 1000:.1f} ms of it grading in the "
            f"sandbox); client+scheduler overhead {overhead * 1000:.2f} ms per submission "
            f"(bare scheduler {bare_task * 1000:.2f} ms per task)"
        )
        print(
            f"estimate: {TARGET_COUNT:,} submissions in {TARGET_SECONDS // 60} minutes = {needed:.0f} submissions/s "
            f"-> {needed:.0f} x {cost:.3f} s = {needed * cost:.1f} worker cores, i.e. about {workers} single-thread "
            f"workers, plus ~25% for stragglers and worker restarts: {math.ceil(workers * 1.25)} "
            f"(`dask worker tcp://host:8786 --nthreads 1 --nworkers N` on machines with N cores)."
        )
        print(
            f"the client must store {needed:.0f} rows/s; without grading it stored {1 / overhead:.0f}/s here "
            f"({'enough' if 1 / overhead > needed else 'NOT enough: the client is the bottleneck'}); the scheduler "
            f"alone ran {1 / bare_task:.0f} tasks/s."
        )
        print(
            f"hanging submissions are not in this mix: each costs about one --timeout ({args.timeout:g} s) per task "
            f"that hangs, e.g. 1% of submissions hanging on one task adds {args.timeout / 100:.2f} s to the "
            f"mean cost."
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
