"""Two jails graded together share no counter of the kernel that one can move and the other read.

Pipes' inode numbers come from one counter for the whole machine (get_next_ino: per CPU,
in batches of 1024), whatever namespace or uid a jail has. A donor pinned to CPU 0 makes
a few hundred pipes in the time slots of its secret's 1 bits (slots taken from the wall
clock, which both jails read); a freeloader pinned to the same CPU reads the inode number
of a pipe of its own at both ends of each slot. Before the filter refused pipe and pipe2,
the freeloader read the 16-bit secret, as root and as an ordinary user. Same harness as
tests/test_jail_shared.py.
"""

import json
import os
import random
import subprocess

import pytest
from test_jail import PRELUDE, _runners, command, environment
from test_jail_shared import PAIR

pytestmark = pytest.mark.slow  # two graders, two jails each

COMMON = """
import os, threading, time
BITS, SLOT, CYCLE = 16, 0.1, 20  # a cycle: 16 slots of data and 4 of silence
def inode():
    r, w = os.pipe()
    number = os.fstat(r).st_ino
    os.close(r)
    os.close(w)
    return number
def sleep_until(moment):
    time.sleep(max(0.0, moment - time.time()))
"""

DONOR = """
def send(secret):
    while True:
        now = time.time()
        slot = int(now / SLOT)
        bit = slot % CYCLE
        if bit < BITS and secret >> bit & 1:
            sleep_until((slot + 0.3) * SLOT)
            for _ in range(300):
                inode()
        sleep_until((slot + 1) * SLOT)
def start(secret):
    os.sched_setaffinity(0, {0})
    inode()  # refused here, so nothing is left running
    threading.Thread(target=send, args=(secret,), daemon=True).start()
    return "sending"
def give(X):
    attempt("give_pipe_inodes", lambda: start(int(X[0])))
    return X
"""

FREELOADER = """
def read_cycle():
    slot = int(time.time() / SLOT) + 1
    start = slot + (-slot) % CYCLE  # the next cycle's first slot
    value = 0
    for bit in range(BITS):
        sleep_until((start + bit + 0.1) * SLOT)
        before = inode()
        sleep_until((start + bit + 0.9) * SLOT)
        if inode() - before > 150:
            value |= 1 << bit
    return value
def pipe_inodes():
    os.sched_setaffinity(0, {0})
    reads = [read_cycle() for _ in range(3)]
    return sum(1 << i for i in range(BITS) if sum(r >> i & 1 for r in reads) >= 2)  # each bit by majority
def take(X):
    try:
        print("READ pipe_inodes", pipe_inodes(), flush=True)
    except Exception as error:
        print("TRIED pipe_inodes", type(error).__name__, error, flush=True)
    return X
"""


@pytest.mark.parametrize("runner", _runners())
def test_the_inode_numbers_of_pipes_carry_no_secret_between_jails_graded_together(runner, tmp_path):
    secret = random.Random().randrange(1, 1 << 16) | 1 | 1 << 15
    os.chmod(tmp_path, 0o777)
    script = tmp_path / "pair.py"
    script.write_text(PAIR)
    donor, freeloader = PRELUDE + COMMON + DONOR, PRELUDE + COMMON + FREELOADER
    done = subprocess.run(
        command(runner, script, donor, freeloader, secret, "together"),
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["given"] == "ok" and report["taken"] == "ok", report
    lines = report["output"].splitlines()
    read = [int(line.split()[2]) for line in lines if line.startswith("READ ")]
    tried = [line for line in lines if line.startswith("TRIED ")]
    assert len(read) + len(tried) == 1, report  # the channel was tried
    assert read != [secret], f"secret {secret} read through pipes' inode numbers\n{report}"
