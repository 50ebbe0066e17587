"""A jail's prints go to the grader's temporary file on the host's disk: they may not fill that disk.

RLIMIT_FSIZE (16 MiB) bounds what a write, truncate or plain fallocate may make of a file,
but not fallocate with FALLOC_FL_KEEP_SIZE (or ZERO_RANGE with it), which allocates
blocks past the end without changing the size the limit is checked against. Before the
seccomp filter checked fallocate's mode, one call took 256 MiB of the grading host's disk
(any number of GiB: enough to stop every write of the class's grades), as root and as an
ordinary user.
"""

import pytest
from test_jail import findings, run_probe, runner  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow  # a grader and a jail

GIB = 1 << 28  # a quarter of a GiB: sixteen times RLIMIT_FSIZE, and given back when the grader closes the file
ATTACKS = {
    "keep_size": f"libc.fallocate(1, 1, 1 << 20, {GIB})",  # FALLOC_FL_KEEP_SIZE, past the text printed
    "zero_range_keep_size": f"libc.fallocate(1, 0x11, 2 * {GIB}, {GIB})",  # FALLOC_FL_ZERO_RANGE | KEEP_SIZE
    "plain": f"libc.fallocate(1, 0, 1 << 20, {GIB})",
    "write_far": f"os.pwrite(1, b'x', {GIB})",
    "truncate": f"os.ftruncate(1, {GIB})",
}

CODE = """
import ctypes, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past RLIMIT_FSIZE: EFBIG rather than death
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
def took(name, call):
    def attack():
        before = os.fstat(1).st_blocks * 512
        if call() not in (None, 0):
            raise OSError(ctypes.get_errno(), name)
        held = os.fstat(1).st_blocks * 512 - before
        if held <= 16 << 20:
            raise OSError(f"{held >> 20} MiB only")
        return f"{held >> 20} MiB more of the host's disk"
    return attack
"""


def test_the_output_file_cannot_take_the_hosts_disk(runner):  # noqa: F811
    code = CODE + "".join(f"attempt({n!r}, took({n!r}, lambda: {a}))\n" for n, a in ATTACKS.items())
    assert findings(run_probe(runner, code), ATTACKS) == []
