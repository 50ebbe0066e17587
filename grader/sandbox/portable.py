"""The portable backend: a fresh interpreter per submission, for systems without the Linux jail.

On macOS and Windows (and on Linux when forced: GRADE_SANDBOX=portable) a student's
own `grade check` runs the submission in a new `python -I -S` process that imports
only numpy and the child side of the sandbox (child.py). It speaks the same wire
protocol over its stdin and stdout, so verdicts and messages are the same as in the
jail; its prints go to a file. What it enforces:

- time: each call has a deadline, after which the process tree is killed (psutil
  finds the children on every system; on POSIX the process group is killed too);
- memory: RLIMIT_AS where the system honours it (Linux), and everywhere a watcher
  that polls the tree's resident memory (psutil) and kills it past the cap;
- nothing of the grader: a fresh interpreter, a minimal environment, a scratch
  directory as its cwd, HOME and TMPDIR.

It is not a jail: the code can read and write what the student's account can, and
reach the network. That is fine for a student grading their own code; grading
others' code needs the Linux jail (`grade batch` and Gradescope grading refuse
without it unless told to trust the submissions).
"""

import json
import mmap
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from . import base, wire
from .server import _ENV_KEPT, SANDBOX_DIR

_BOOT = (
    "import json,sys,types;sys.path[:0]=json.loads(sys.argv[1]);p=types.ModuleType('_gradebox');"
    "p.__path__=[sys.argv[2]];sys.modules['_gradebox']=p;from _gradebox import spawned;"
    "spawned.main(json.loads(sys.argv[3]))"
)


class _Pipe:
    """The child's stdout read by a thread, so that reads can wait with a deadline on any system
    (select works on pipes only on POSIX)."""

    def __init__(self, stream):
        self._chunks = queue.Queue()
        self._buffer = b""
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream):
        try:
            while True:
                chunk = stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16)
                if not chunk:
                    break
                self._chunks.put(chunk)
        except (OSError, ValueError):
            pass
        self._chunks.put(b"")  # end of file

    def read_exact(self, n, deadline):
        while len(self._buffer) < n:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                chunk = self._chunks.get(timeout=wait)
            except queue.Empty:
                raise wire.ChannelTimeout() from None
            if not chunk:
                self._chunks.put(b"")  # stays at end of file
                raise wire.ChannelClosed()
            self._buffer += chunk
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data


class PortableSandbox(base.Sandbox):
    backend = "portable"

    def __init__(self, *args, disable=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._scratch = tempfile.mkdtemp(prefix="grade-")
        inputs = os.path.join(self._scratch, "inputs.bin")
        with open(inputs, "wb") as handle:
            handle.truncate(self.shared_bytes)
        self._inputs = open(inputs, "r+b")  # noqa: SIM115 (closed in _release)
        self._shared = mmap.mmap(self._inputs.fileno(), self.shared_bytes)
        self._output_path = os.path.join(self._scratch, "output.txt")
        self._process = None

    def _start(self):
        config = {
            "inputs": os.path.join(self._scratch, "inputs.bin"),
            "shared_bytes": self.shared_bytes,
            "memory": self.memory_mb << 20,
        }
        path = [entry for entry in sys.path if entry and os.path.isdir(entry)]
        env = {
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "HOME": self._scratch,
            "TMPDIR": self._scratch,
            "TEMP": self._scratch,
            "TMP": self._scratch,
            "USERPROFILE": self._scratch,
            "MPLCONFIGDIR": os.path.join(self._scratch, ".matplotlib"),
            "PATH": os.defpath,
        }
        if sys.platform == "win32":  # Windows needs these to start a process at all
            env.update({k: v for k, v in os.environ.items() if k.upper() in ("SYSTEMROOT", "WINDIR", "COMSPEC")})
        env.update({k: v for k, v in os.environ.items() if k.startswith(_ENV_KEPT)})
        kwargs = (
            {"start_new_session": True}
            if os.name == "posix"
            else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
        )
        with open(self._output_path, "ab") as output:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _BOOT, json.dumps(path), SANDBOX_DIR, json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=output,
                cwd=self._scratch,
                env=env,
                close_fds=True,
                **kwargs,
            )
        self._stdin = self._process.stdin
        self._req = self._stdin.fileno()
        self._resp = _Pipe(self._process.stdout)
        self.layers = {"backend": "portable"}

    def _memory_in_use(self):
        """The resident memory of the process and its descendants (psutil: every system)."""
        import psutil

        process = self._process
        if process is None or process.poll() is not None:
            return None
        try:
            root = psutil.Process(process.pid)
            return sum(member.memory_info().rss for member in [root, *root.children(recursive=True)])
        except psutil.Error:
            return None

    def _kill_now(self):
        process = self._process
        if process is not None:
            _kill_tree(process)

    def _end(self, killing):
        process, self._process = self._process, None
        if process is None:
            return base.Ending()
        if killing or process.poll() is None:
            _kill_tree(process)
        try:
            status = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            status = None
        # subprocess says -N for a signal; the wait status base.describe_ending reads is POSIX's.
        wait_status = None if status is None else (-status if status < 0 else status << 8)
        return base.Ending(wait_status, by_grader=killing)

    def _close_channel(self):
        try:
            self._stdin.close()  # the file object owns the descriptor: closing it by number would close twice
        except (OSError, AttributeError):
            pass

    def _read_output(self):
        try:
            with open(self._output_path, "rb") as handle:
                return handle.read(base.OUTPUT_LIMIT)
        except OSError:
            return b""

    def _release(self):
        self._shared.close()
        self._inputs.close()
        shutil.rmtree(self._scratch, ignore_errors=True)


def _kill_tree(process):
    """Kill the process and every descendant psutil can see (and, on POSIX, its process group)."""
    import psutil

    try:
        members = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        members = []
    if os.name == "posix":
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
    for member in [*members]:
        try:
            member.kill()
        except psutil.Error:
            pass
    try:
        process.kill()
    except OSError:
        pass
    psutil.wait_procs(members, timeout=5)
