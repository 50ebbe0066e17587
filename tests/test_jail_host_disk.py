"""What a jail writes on the host's disk may neither fill it nor stay there.

A jail's prints go to the grader's temporary file on the host's disk.

RLIMIT_FSIZE (16 MiB) bounds what a write, truncate or plain fallocate may make of a file,
but not fallocate with FALLOC_FL_KEEP_SIZE (or ZERO_RANGE with it), which allocates
blocks past the end without changing the size the limit is checked against. Before the
seccomp filter checked fallocate's mode, one call took 256 MiB of the grading host's disk
(any number of GiB: enough to stop every write of the class's grades), as root and as an
ordinary user.

Without a mount namespace (a container that refuses them), a jail's /tmp is a directory
on the host's /tmp, removed by the grader. A directory the jail could write but not list
(mkdir with mode 0o300; the jail may not chmod) stayed there with what it held, for good,
when the grader ran as an ordinary user; and a chain of directories deeper than the grader's
stack (the jail may mkdir and chdir without end) ended the grader with a RecursionError while
removing it (os.walk and shutil.rmtree both recurse).
"""

import os

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


def test_a_jails_scratch_directory_on_the_host_is_removed_whatever_it_holds(runner):  # noqa: F811
    code = """
os.mkdir("left", 0o300)  # write and search, no read
os.mkdir("left/deeper", 0o300)
for name in ("left/behind", "left/deeper/behind"):
    with open(name, "wb") as handle:
        handle.write(bytes(1 << 20))
print("SCRATCH", os.getcwd(), flush=True)
"""
    result = run_probe(runner, code, disable=["mount"])
    scratch = [line.split()[1] for line in result["output"].splitlines() if line.startswith("SCRATCH ")]
    assert scratch and scratch[0] != "/tmp", result  # a directory on the host, not a root of its own
    assert not os.path.exists(scratch[0]), f"{scratch[0]} left on the host: {result}"


def test_a_scratch_directory_nested_deeper_than_the_stack_is_removed_too():
    """The tree such a jail leaves, built here on a tmpfs (the host's disk takes 2 ms a directory to
    remove): the jail's own code cannot be run 1,500 levels down for less."""
    import tempfile

    from grader.sandbox.linux import _remove_scratch

    scratch = tempfile.mkdtemp(prefix="grade-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    here = os.open(scratch, os.O_PATH)
    for level in range(1500):
        os.mkdir("d", 0o300 if level % 2 else 0o700, dir_fd=here)
        below = os.open("d", os.O_PATH, dir_fd=here)
        os.close(here)
        here = below
    os.close(os.open("left", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=here))
    os.close(here)
    _remove_scratch(scratch)
    assert not os.path.exists(scratch)


@pytest.mark.xfail(
    strict=True,
    reason="without a mount namespace the jail's /tmp is a host directory: no tmpfs size caps it, only "
    "RLIMIT_FSIZE per file, and neither Landlock nor seccomp can bound the number of files",
)
def test_without_a_mount_namespace_the_scratch_is_capped_as_the_private_tmp_is(runner):  # noqa: F811
    code = """
def fill():
    written = 0
    for i in range(6):  # 96 MiB: past the private /tmp's 64 MiB
        with open(f"part{i}", "wb") as handle:
            handle.write(bytes(16 << 20))
        written += 16
    return f"{written} MiB on the host's disk"
attempt("fill", fill)
"""
    assert findings(run_probe(runner, code, disable=["mount"]), ["fill"]) == []
