"""The grader's side of the fork server (forkserver.py): start it, ask it for jails, stop it.

The fork server is a fresh `python -I -S` that imported only numpy, started once per
grading process, lazily or early (`prestart`, before the grader imports numpy itself,
so that both import it at once on two cores). A forked grading process (a batch
worker) starts its own: a socket is never shared. This module imports no numpy.
"""

import atexit
import json
import os
import socket
import subprocess
import sys
import sysconfig
import threading

from .errors import JailError, SettingError

SANDBOX_DIR = os.path.dirname(os.path.abspath(__file__))
# Packages a submission may import, besides the standard library: numpy, and matplotlib and
# scipy (with what they import) when installed. Never the grader, never the rest of site-packages.
ALLOWED_PACKAGES = (
    "numpy",
    "scipy",
    "matplotlib",
    "mpl_toolkits",
    "contourpy",
    "cycler",
    "fontTools",
    "kiwisolver",
    "packaging",
    "PIL",
    "pyparsing",
    "dateutil",
    "six",
)
# The environment the fork server (and every jail) gets: nothing of the grader's but how numpy's
# BLAS must run on this machine.
_ENV_KEPT = ("OPENBLAS_", "OMP_", "MKL_", "GOTO_", "NUMEXPR_", "GRADE_DEBUG")
READY_SECONDS = 60.0
_BOOT = (
    "import json,sys,types;sys.path[:0]=json.loads(sys.argv[1]);p=types.ModuleType('_gradebox');"
    "p.__path__=[sys.argv[2]];sys.modules['_gradebox']=p;from _gradebox import forkserver;"
    "forkserver.main(int(sys.argv[3]),sys.argv[4])"
)


class ForkServer:
    def __init__(self, disable=()):
        self.owner = os.getpid()
        self.disable = tuple(disable)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        config = _config(self.disable)
        command = [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _BOOT,
            json.dumps(config["path"]),
            SANDBOX_DIR,
            str(theirs.fileno()),
            json.dumps(config),
        ]
        # Its stderr is the user's terminal only when debugging the sandbox itself (GRADE_DEBUG=1).
        stderr = None if os.environ.get("GRADE_DEBUG") else subprocess.DEVNULL
        self.process = subprocess.Popen(
            command,
            pass_fds=(theirs.fileno(),),
            env=config["env"],
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            close_fds=True,
        )
        theirs.close()
        self.sock = ours
        self.lock = threading.Lock()
        self.info = None

    def ready(self):
        """Wait for the server's first message (what it could set up); raise JailError if it died."""
        if self.info is None:
            self.info = self._receive(READY_SECONDS)
        return self.info

    def _receive(self, seconds):
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(1 << 16)
        except (TimeoutError, OSError) as error:
            raise JailError(f"the sandbox's fork server did not answer ({error})") from None
        if not data:
            code = self.process.poll()
            raise JailError(f"the sandbox's fork server exited (code {code})")
        return json.loads(data)

    def request(self, message, fds=()):
        with self.lock:
            self.ready()
            try:
                socket.send_fds(self.sock, [json.dumps(message).encode()], list(fds))
            except OSError as error:
                raise JailError(f"the sandbox's fork server is gone ({error})") from None
            return self._receive(READY_SECONDS)

    def close(self):
        try:
            self.sock.close()  # EOF: the server kills its jails and exits
        finally:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_server = None
_server_lock = threading.Lock()


LAYERS = ("landlock", "seccomp", "namespaces", "user", "pid", "network", "ipc", "mount", "cgroup")


def disabled_layers():
    """Layers turned off by GRADE_JAIL_DISABLE (comma-separated names of LAYERS): to see, and test,
    what the grader does on a kernel that lacks them. Unknown names are a usage error."""
    value = os.environ.get("GRADE_JAIL_DISABLE", "")
    names = tuple(sorted(filter(None, (n.strip() for n in value.split(",")))))
    unknown = [name for name in names if name not in LAYERS]
    if unknown:
        raise SettingError(
            f"GRADE_JAIL_DISABLE={value!r}: {unknown[0]!r} is not a layer of the jail; accepted values are "
            f"a comma-separated list of {', '.join(LAYERS)} (or leave it unset)"
        )
    return names


def server(disable=None):
    """This process's fork server (a forked process starts its own: a socket is not shared)."""
    global _server
    disable = disabled_layers() if disable is None else tuple(disable)
    with _server_lock:
        if _server is not None and (
            _server.owner != os.getpid() or _server.disable != tuple(disable) or _server.process.poll() is not None
        ):
            if _server.owner == os.getpid():
                _server.close()
            else:
                _server.sock.close()  # the parent's: never speak on it
            _server = None
        if _server is None:
            _server = ForkServer(disable)
            atexit.register(_stop, _server)
        return _server


def _stop(forked):
    """At exit: the server sees the end of its socket, kills what it holds and exits; reap it (no zombie)."""
    if forked.owner == os.getpid() and forked.process.poll() is None:
        forked.close()


def prestart(disable=None):
    """Start the fork server now, so it imports numpy while the grader does."""
    server(disable)


def _config(disable):
    """What the fork server needs to know of this installation: where Python and the packages live."""
    stdlib = sorted({sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib")})
    path = [entry for entry in sys.path if entry and entry not in stdlib and os.path.isdir(entry)]
    hidden = {os.path.dirname(os.path.dirname(SANDBOX_DIR)), os.path.expanduser("~")}
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith(_ENV_KEPT)})
    return {
        "parent": os.getpid(),
        "path": path,
        "python_dirs": stdlib,
        "site_dirs": site_dirs(),
        "packages": list(ALLOWED_PACKAGES),
        "hidden": sorted(hidden),
        "env": env,
        "disable": list(disable),
        "cgroup": os.environ.get("GRADE_CGROUP", ""),  # a delegated cgroup v2 for the jails (cgroup.py)
    }


def site_dirs():
    """Every package directory this interpreter knows of, whether or not it exists yet: site's
    (a venv's, the system's with --system-site-packages, the user's) and each sysconfig scheme's
    purelib and platlib (Debian's /usr/lib/python3/dist-packages and /usr/local/lib/python3.X/dist-packages,
    Fedora's lib and lib64). The jail shows none of them, but for the allowed packages."""
    import site

    found = set()
    for getter in ("getsitepackages", "getusersitepackages"):
        try:  # absent from the site of some old virtualenvs
            value = getattr(site, getter)()
        except (AttributeError, OSError):
            continue
        found.update([value] if isinstance(value, str) else value)
    bases = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    for scheme in sysconfig.get_scheme_names():
        for where in (None, bases):  # this environment's, and its base interpreter's
            try:
                paths = sysconfig.get_paths(scheme, vars=where)
            except (KeyError, ValueError):
                continue
            found.update(paths[key] for key in ("purelib", "platlib") if key in paths)
    return sorted(path for path in found if path)
