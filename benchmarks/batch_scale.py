"""`grade batch` on large classes: rows stored per second and the client's peak memory, grading stubbed.

    python benchmarks/batch_scale.py [--sizes 1000,10000,100000] [--pools local,dask]
                                     [--code DIR ...] [--repeat 1]
    python benchmarks/batch_scale.py --overhead 100   # Dask's own cost per submission, alone and in chunks
    python benchmarks/batch_scale.py --end [--sizes ...] [--code DIR ...]   # what runs after batch.run

A class of N small generated .py submissions (the reference solution with a comment
that makes each file unique; one in 50 is a copy of another student's, so identical
files are named) is graded by batch.run with a work function that returns a ready
row, as dask_throughput.py's "pipeline without grading" does: what is measured is
everything but the grading (reading, hashing, dispatch, the store, feedback files,
grades.csv), timed from run()'s call to its return, without the pool's start-up.
Pools: "local" (-j 2 worker processes on this machine) and "dask" (--scheduler
local: a LocalCluster of 2 workers; its scheduler runs in the client's process, so
its memory is counted too).

Each measurement runs in a fresh process (peak RSS = its ru_maxrss), importing the
grader from a --code directory: give two (e.g. an export of main and this checkout)
to compare them; their runs are interleaved, size by size, so that other load on the
machine falls on both alike. The summary (summary.txt/json/png) is not part of the
run (the command draws it afterwards, reading the stored rows back once more).

Peak RSS at 1,000 / 10,000 / 100,000, last measured: -j 2, 38 / 39 / 44 MB; dask,
81 / 89 / 98 MB (57 and 109 MB at 100,000 before the client kept names in one bytes
object and marks instead of lists of names; 668 MB before the pool bounded Dask's
debugging logs of recent messages, which held every chunk's files). Each run's output is
kept until the benchmark ends (deleting 100,000 students' files slows an ext4 disk for
minutes, which would fall on the next run); TMPDIR=/dev/shm puts it all in memory.

--end measures what `grade batch` does after batch.run instead: write_summary, then
class_report.write_report with similarity (against the stub, as grade batch finds it).
The class is realistic for similarity (benchmarks/similarity.py's make_class: each
student's own idioms, names, order, comments and two lines nobody else wrote; 5% copy
a classmate, renamed and commented); its rows are stored once per size by the stubbed run (local pool), then
each --code reads them back (batch.StoredReports, as the command does) in a fresh
process: peak RSS after the imports and the store's set-up, after the summary and
after the report, and the seconds of each step.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
from functools import partial
from pathlib import Path
code, classroom, out, pool_kind, row_file = sys.argv[1:6]
sys.path.insert(0, code)
import grader
assert grader.__file__.startswith(code), grader.__file__
from grader import exercises
from grader.classroom import batch

row = json.loads(Path(row_file).read_text())

def ready_row(row):
    # A closure (sent by value to Dask workers): a graded row without grading.
    def work(name, data, exercise, options=None):
        return {**row, "path": name}
    return work

if pool_kind == "dask":
    from grader.classroom.dask_pool import DaskPool as Pool
    Pool = partial(Pool, scheduler="local")
else:
    from grader.classroom.worker_pool import WorkerPool as Pool
startup = []

class Timed:
    def __init__(self, made):
        self.made = made
    def __enter__(self):
        start = time.perf_counter()
        entered = self.made.__enter__()
        startup.append(time.perf_counter() - start)
        return entered
    def __exit__(self, *exc):
        return self.made.__exit__(*exc)

items = batch.discover(classroom, "softmax")
exercise = exercises.load("softmax")
options = {"timeout": 10.0, "seed": 0, "memory_mb": 1024}
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start, cpu_start = time.perf_counter(), cpu()
outcome = batch.run(items, exercise, out, options, 2, work=ready_row(row), pool=lambda *a, **k: Timed(Pool(*a, **k)))
seconds = time.perf_counter() - start - sum(startup)
cpu_seconds = cpu() - cpu_start  # the client's own CPU (and, --scheduler local, the scheduler's), start-up included
assert len(outcome.graded) == len(items), (len(outcome.graded), len(items))
identical = len(outcome.identical)
print(json.dumps({"seconds": seconds, "rows": len(items), "identical": identical, "cpu": cpu_seconds,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_class(directory, count, realistic=False):
    """COUNT small submissions: the solution, made unique by a comment; every 50th a copy of the one before.
    realistic: each student's own code instead, 5% copying a classmate (benchmarks/similarity.py)."""
    directory.mkdir(parents=True)
    if realistic:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from similarity import make_class

        make_class(directory, count, 0.05, own_lines=2)
        return
    solution = (ROOT / "solutions" / "softmax.py").read_text()
    for index in range(count):
        unique = index - 1 if index % 50 == 49 else index
        (directory / f"student{index:06}.py").write_text(f"# submission {unique}\n{solution}")


def ready_row_file(path):
    from grader.classroom.job import grade_bytes

    row = grade_bytes("x.py", (ROOT / "solutions" / "softmax.py").read_bytes(), "softmax", {"timeout": 10.0})
    path.write_text(json.dumps(row))


def settle(seconds=5.0):
    """Let the disk finish writing back what earlier runs wrote: on this project's machine (ext4,
    online discard) creating a file costs 35-80 us of CPU when the disk is quiet and 450 us, in
    the kernel, for seconds to minutes after tens of thousands of files were written or deleted
    (so nothing is deleted until the benchmark ends)."""
    os.sync()
    time.sleep(seconds)


END = r"""
import json, resource, sys, time
from pathlib import Path
code, classroom, out, stub = sys.argv[1:5]
sys.path.insert(0, code)
import grader
assert grader.__file__.startswith(code), grader.__file__
from grader import exercises
from grader.classroom import batch, class_report
from grader.classroom.results_store import ResultStore

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

items = batch.discover(classroom, "softmax")
exercise = exercises.load("softmax")
reports = batch.StoredReports(items, ResultStore(out), exercise)
for index in range(len(items)):
    reports.add(index)
import matplotlib.figure  # the summary's chart library: its import is not the class's cost
result = {"rows": len(items), "setup_mb": peak()}
start = time.perf_counter()
batch.write_summary(out, reports, exercise, [], [], "public seed 0")
result.update(summary_s=time.perf_counter() - start, summary_mb=peak())
start = time.perf_counter()
data = class_report.write_report(out, reports, exercise, items, stub=Path(stub))
result.update(report_s=time.perf_counter() - start, report_mb=peak(), pairs=len(data["similarity"]["pairs"]))
print(json.dumps(result))
"""


def measure_end(code, classroom, out):
    """The end steps of grade batch on OUT's stored rows, in a fresh process importing from CODE."""
    settle(2.0)
    done = subprocess.run(
        [sys.executable, "-c", END, str(code), str(classroom), str(out), str(ROOT / "exercises" / "softmax.py")],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        env={**os.environ, "PYTHONPATH": str(code)},
    )
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}) with {code}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def end_steps(codes, sizes, repeat, work, row_file):
    for size in sizes:
        classroom, out = work / f"class-{size}", work / "out"
        write_class(classroom, size, realistic=True)
        measure(codes[0], classroom, out, "local", row_file, keep=True)
        for _ in range(repeat):
            for code in codes:
                r = measure_end(code, classroom, out)
                print(
                    f"{size:>7} submissions, {code.name:>14}: summary {r['summary_s']:7.1f} s, "
                    f"report with similarity {r['report_s']:7.1f} s ({r['pairs']} pairs); peak RSS "
                    f"{r['setup_mb']:5.0f} MB set up, {r['summary_mb']:5.0f} MB after the summary, "
                    f"{r['report_mb']:6.0f} MB after the report",
                    flush=True,
                )
        shutil.rmtree(out)
        shutil.rmtree(classroom)


def measure(code, classroom, out, pool, row_file, keep=False):
    settle()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(code), str(classroom), str(out), pool, str(row_file)],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        env={**os.environ, "PYTHONPATH": str(code)},
    )
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}) with {code}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def dask_overhead(count, chunk):
    """Seconds per submission of Dask's own handling (scheduler, worker, client; no grading, no files):
    COUNT stub submissions as one task each, then in chunks of CHUNK (grade_chunk), on a LocalCluster
    of one single-thread worker."""
    import logging

    from distributed import Client, LocalCluster, as_completed

    from grader.classroom.dask_pool import grade_chunk

    def stub(name, data, exercise, options):
        return {"path": name}

    jobs = [(f"s{index}.py", b"x" * 2000, "softmax", {}) for index in range(count)]
    times = {}
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=logging.CRITICAL
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(1)
        client.gather(client.map(stub, *zip(*jobs[:10]), pure=False))  # warm-up
        start = time.perf_counter()
        for batch in as_completed(client.map(stub, *zip(*jobs), pure=False)).batches():
            client.gather(batch)
        times["one task per submission"] = (time.perf_counter() - start) / count
        chunks = [jobs[index : index + chunk] for index in range(0, count, chunk)]
        start = time.perf_counter()
        futures = [client.submit(grade_chunk, stub, part, pure=False) for part in chunks]
        for batch in as_completed(futures).batches():
            client.gather(batch)
        times[f"chunks of {chunk}"] = (time.perf_counter() - start) / count
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--pools", default="local,dask")
    parser.add_argument("--code", action="append", type=Path, help="a checkout to import the grader from (repeatable)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--overhead", type=int, metavar="CHUNK", help="only measure Dask's cost per submission, alone and in chunks"
    )
    parser.add_argument("--end", action="store_true", help="measure the summary and the class report instead")
    args = parser.parse_args()
    if args.overhead:
        for how, seconds in dask_overhead(2000, args.overhead).items():
            print(f"Dask's handling, {how}: {seconds * 1000:.2f} ms per submission")
        return
    codes = [code.resolve() for code in (args.code or [ROOT])]
    work = Path(tempfile.mkdtemp(prefix="grade-scale-bench-"))
    try:
        row_file = work / "row.json"
        ready_row_file(row_file)
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
        if args.end:
            end_steps(codes, list(map(int, args.sizes.split(","))), args.repeat, work, row_file)
            print(f"machine: load average {os.getloadavg()[0]:.1f} at the end")
            return
        for size in map(int, args.sizes.split(",")):
            classroom = work / f"class-{size}"
            write_class(classroom, size)
            for pool in args.pools.split(","):
                for repeat in range(args.repeat):
                    for code in codes:
                        # Each run's output is kept until the end: deleting tens of thousands of files
                        # slows this disk for minutes, which would fall on the next run.
                        out = work / f"out-{size}-{pool}-{repeat}-{codes.index(code)}"
                        result = measure(code, classroom, out, pool, row_file, keep=True)
                        print(
                            f"{size:>7} submissions, {pool:5} pool, {code.name:>14}: "
                            f"{result['rows'] / result['seconds']:6.0f} rows/s stored "
                            f"({result['seconds']:7.1f} s, "
                            f"client CPU {result['cpu'] * 1000 / result['rows']:.2f} ms/row), "
                            f"peak RSS {result['rss_mb']:6.0f} MB, "
                            f"{result['identical']} identical groups",
                            flush=True,
                        )
        print(f"machine: load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
