"""The jail, attacked as a hostile student would: each property by code that tries to break it.

Every attack runs twice: with the grader as root (an autograder container) and as an
ordinary user (an instructor's own account; tests/as_user.py). The hostile code
prints "TRIED <attack>" after each attempt and "FOUND <attack>" when one succeeds, so
a test fails on a success, and also on an attack that never ran. Targets are made
readable or writable by everyone, so that only the jail (not file permissions) can
stop the attack; side effects are checked from outside as well.
Network attacks only ever target 127.0.0.1 or sockets this test made.
"""

import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow  # many jails and subprocesses: the full suite runs them

PROBE = ROOT / "tests" / "jail_probe.py"
AS_USER = ROOT / "tests" / "as_user.py"
USER = "gradetest"

PRELUDE = """
import os, sys, json
def attempt(name, action):
    try:
        result = action()
    except BaseException as error:
        print(f"TRIED {name}: {type(error).__name__}", flush=True)
    else:
        print(f"FOUND {name}: {str(result)[:80]}", flush=True)
"""


def _ensure_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True, capture_output=True)
        return pwd.getpwnam(USER)


def _runners():
    if os.getuid() != 0:
        return ["user"]  # not root: the suite itself is the ordinary user
    return ["root", "user"]


@pytest.fixture(params=_runners())
def runner(request):
    return request.param


def command(runner, *args, python=sys.executable):
    """ARGS run by PYTHON (the test's own, or another interpreter with the grader installed) as RUNNER."""
    base = [str(python), *map(str, args)]
    if runner == "user" and os.getuid() == 0:
        _ensure_user()
        return [str(python), str(AS_USER), USER, *base]
    return base


def environment(extra=None, open_dirs=()):
    """The test's environment, plus `extra`, with `open_dirs` reachable by the ordinary user."""
    return {**os.environ, **(extra or {}), "GRADE_TEST_OPEN": ":".join(str(d) for d in open_dirs)}


def run_probe(runner, code, call=None, env=None, open_dirs=(), preexec_fn=None, python=sys.executable, **options):
    """The probe's JSON result; fails, saying how, if the grader itself did not exit normally."""
    spec = {"code": PRELUDE + code, "call": call, **options}
    result = subprocess.run(
        command(runner, PROBE, json.dumps(spec), python=python),
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(env, open_dirs),
        preexec_fn=preexec_fn,
    )
    died = f"killed by {signal.Signals(-result.returncode).name}" if result.returncode < 0 else result.returncode
    assert result.returncode == 0, f"the grader ended ({died}): {result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def findings(result, attacks):
    """The attacks that succeeded; fails if one of `attacks` never ran."""
    lines = result["output"].splitlines()
    tried = {line.split(":")[0][6:] for line in lines if line.startswith("TRIED ")}
    found = [line for line in lines if line.startswith("FOUND ")]
    ran = tried | {line.split(":")[0][6:] for line in found}
    assert set(attacks) <= ran, f"attacks that did not run: {set(attacks) - ran}\n{result}"
    return found


def owner_of_grader(runner):
    return pwd.getpwnam(USER) if runner == "user" and os.getuid() == 0 else pwd.getpwuid(os.getuid())


@pytest.fixture
def open_dir():
    """A class directory anyone may read and write: only the jail protects it. Not under /tmp, which a
    jail with a root of its own would hide anyway: with GRADE_JAIL_DISABLE=mount, Landlock alone must."""
    import shutil
    import tempfile
    from pathlib import Path

    top = Path(tempfile.mkdtemp(prefix="grade-test-", dir="/var/tmp"))
    directory = top / "class"
    directory.mkdir()
    os.chmod(top, 0o755)
    os.chmod(directory, 0o777)
    secret = directory / "classmate.py"
    secret.write_text("ANSWER = 42\n")
    os.chmod(secret, 0o666)
    yield directory
    shutil.rmtree(top, ignore_errors=True)


# -- files --------------------------------------------------------------------------------
def test_files_outside_the_sandbox_cannot_be_read(runner, open_dir):
    import grader

    home = owner_of_grader(runner).pw_dir
    targets = {
        "classmate": open_dir / "classmate.py",
        "class_listing": open_dir,
        "grader_source": os.path.join(os.path.dirname(grader.__file__), "checking", "gradcheck.py"),
        "site_packages": os.path.dirname(os.path.dirname(pytest.__file__)),
        "home": home,
        "shadow": "/etc/shadow",
        "passwd": "/etc/passwd",
        "grader_environ": f"/proc/{os.getpid()}/environ",
    }
    # A listing counts when it shows what is there on the machine: a jail's own root may show the
    # directories that lead to Python (/root holding .pyenv) and, in site-packages, the allowed packages.
    shown = {
        "home": ".pyenv",
        "site_packages": "numpy scipy matplotlib mpl_toolkits contourpy cycler fontTools "
        "kiwisolver packaging PIL pyparsing dateutil six.py",
    }
    code = f"ALLOWED = {{name: set(names.split()) for name, names in {shown!r}.items()}}\n"
    code += (
        "def listing(name, path):\n    return [n for n in os.listdir(path) if n not in ALLOWED.get(name, ()) "
        "and not n.endswith('.libs')] or 1/0\n"
    )
    code += "".join(
        f"attempt({name!r}, lambda: listing({name!r}, {str(path)!r}) if os.path.isdir({str(path)!r}) "
        f"else open({str(path)!r}, 'rb').read(64))\n"
        for name, path in targets.items()
    )
    assert findings(run_probe(runner, code, open_dirs=[open_dir]), targets) == []


def test_files_outside_the_sandbox_cannot_be_written(runner, open_dir):
    token = uuid.uuid4().hex
    victim = open_dir / "classmate.py"
    site = os.path.dirname(os.path.dirname(pytest.__file__))
    home = owner_of_grader(runner).pw_dir
    attacks = {
        "overwrite_classmate": f"open({str(victim)!r}, 'a').write('ANSWER = 0')",
        "new_file_in_class_dir": f"open({str(open_dir / token)!r}, 'w').write('x')",
        "pth_in_site_packages": f"open({os.path.join(site, token + '.pth')!r}, 'w').write('import os')",
        "bashrc": f"open({os.path.join(home, '.bashrc')!r}, 'a').write('echo owned')",
        "remove_classmate": f"os.unlink({str(victim)!r})",
    }
    code = "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    # Its own /tmp and /dev/shm: writable, and private (checked below from outside).
    code += (
        f"open('/tmp/{token}', 'w').write('left for a classmate')\n"
        f"try:\n    open('/dev/shm/{token}', 'w').write('left for a classmate')\nexcept OSError:\n    pass\n"
    )
    result = run_probe(runner, code, open_dirs=[open_dir])
    assert findings(result, attacks) == []
    assert victim.read_text() == "ANSWER = 42\n"
    assert sorted(os.listdir(open_dir)) == ["classmate.py"]
    assert not os.path.exists(os.path.join(site, token + ".pth"))
    assert not os.path.exists(f"/tmp/{token}") and not os.path.exists(f"/dev/shm/{token}")


def test_what_one_sandbox_leaves_in_tmp_or_dev_shm_is_gone_for_the_next(runner):
    token = uuid.uuid4().hex
    leave = (
        f"open('/tmp/{token}', 'w').write('answers')\n"
        f"attempt('write_shm', lambda: open('/dev/shm/{token}', 'w').write('answers'))\n"
    )
    run_probe(runner, leave)
    # A Python installed under /tmp (a virtual environment made there) is bound into the jail's own /tmp,
    # read-only: the directories leading to it are the only entries a fresh /tmp may show.
    import numpy

    leading = {p.split("/")[2] for p in (sys.prefix, sys.base_prefix, numpy.__file__) if p.startswith("/tmp/")}
    take = (
        f"attempt('read_tmp', lambda: open('/tmp/{token}').read())\n"
        f"attempt('read_shm', lambda: open('/dev/shm/{token}').read())\n"
        f"attempt('list_tmp', lambda: [n for n in os.listdir('/tmp') if n not in {sorted(leading)!r} + "
        f"['.matplotlib']] or 1/0)\n"
    )
    assert findings(run_probe(runner, take), ["read_tmp", "read_shm", "list_tmp"]) == []


# -- network ------------------------------------------------------------------------------
@pytest.fixture
def listeners(tmp_path):
    """A TCP, a UDP, a unix and an abstract unix socket on this machine, listening for the jail."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    path = tmp_path / "jupyter.sock"
    os.chmod(tmp_path, 0o777)
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(path))
    os.chmod(path, 0o777)
    unix.listen(8)
    name = f"grade-test-{uuid.uuid4().hex}"
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0" + name)
    abstract.listen(8)
    for sock in (tcp, udp, unix, abstract):
        sock.setblocking(False)
    yield {
        "tcp": tcp.getsockname()[1],
        "udp": udp.getsockname()[1],
        "unix": str(path),
        "abstract": name,
        "sockets": (tcp, udp, unix, abstract),
    }
    for sock in (tcp, udp, unix, abstract):
        sock.close()


def test_no_connection_of_any_kind_leaves_the_sandbox(runner, listeners):
    attacks = {
        "tcp_localhost": f"__import__('socket').create_connection(('127.0.0.1', {listeners['tcp']}), timeout=1)",
        "udp_localhost": f"__import__('socket').socket(2, 2).sendto(b'grades', ('127.0.0.1', {listeners['udp']}))",
        "unix_socket": f"__import__('socket').socket(1, 1).connect({listeners['unix']!r})",
        "abstract_socket": f"__import__('socket').socket(1, 1).connect('\\0' + {listeners['abstract']!r})",
        "netlink": "__import__('socket').socket(16, 3, 0)",
        "any_socket": "__import__('socket').socket()",
    }
    code = "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    result = run_probe(runner, code, open_dirs=[os.path.dirname(listeners["unix"])])
    assert findings(result, attacks) == []
    tcp, udp, unix, abstract = listeners["sockets"]
    for listening in (tcp, unix, abstract):
        with pytest.raises(BlockingIOError):
            listening.accept()
    with pytest.raises(BlockingIOError):
        udp.recv(100)


# -- processes ----------------------------------------------------------------------------
@pytest.fixture
def victim(runner, tmp_path):
    """A process of the grader's own user, standing for the grader, `grade batch` or the user's shell."""
    os.chmod(tmp_path, 0o777)
    hit = tmp_path / "hit"
    code = (
        f"import signal, time\n"
        f"signal.signal(signal.SIGUSR1, lambda *a: open({str(hit)!r}, 'w').write('signalled'))\n"
        f"print('ready', flush=True)\ntime.sleep(60)\n"
    )
    process = subprocess.Popen(
        command(runner, "-c", code), stdout=subprocess.PIPE, text=True, env=environment(open_dirs=[tmp_path])
    )
    assert process.stdout.readline().strip() == "ready"
    yield process.pid, hit  # as_user.py becomes the user in place: the same pid
    process.kill()
    process.wait()


def test_no_process_outside_its_own_tree_can_be_signalled_traced_or_read(runner, victim):
    pid, hit = victim
    attacks = {
        "sigusr1": f"os.kill({pid}, 10)",
        "sigkill": f"os.kill({pid}, 9)",
        "sigterm_everyone": "os.kill(-1, 15)",
        "sigusr1_everyone": "os.kill(-1, 10) or os.kill(-1, 10)",
        "ptrace": f"__import__('ctypes').CDLL(None, use_errno=True).ptrace(16, {pid}, 0, 0) == 0 or 1/0",
        "proc_mem": f"open('/proc/{pid}/mem', 'rb').read(1)",
        "proc_stdout": f"open('/proc/{pid}/fd/1', 'w').write('4/4')",
        "grader_stdout": f"open('/proc/{os.getpid()}/fd/1', 'w').write('4/4')",
    }
    code = "".join(f"attempt({name!r}, lambda: {action})\n" for name, action in attacks.items())
    result = run_probe(runner, code)
    # kill(-1, sig) returns 0 even when every process refused it: the victim itself says whether it was hit.
    found = [line for line in findings(result, attacks) if "_everyone" not in line]
    assert found == []
    time.sleep(0.2)
    assert not hit.exists()
    os.kill(pid, 0)  # still alive


def test_sandboxes_graded_together_cannot_reach_each_other(runner, tmp_path):
    """A submission signals every pid it can name; a classmate graded at once goes on unharmed."""
    os.chmod(tmp_path, 0o777)
    script = tmp_path / "pair.py"
    script.write_text(PAIR)
    result = subprocess.run(command(runner, script), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["classmate_after"] == "ok", report
    assert report["classmate_uid"] != report["attacker_uid"] or runner == "user"
    assert "FOUND" not in report["attacker_output"], report


PAIR = '''
import json, sys
import numpy as np
from grader.sandbox import Sandbox
from grader.reading.submission import submission_from_bytes

classmate = submission_from_bytes("classmate.py", b"""
import os, time
if os.fork() == 0:
    time.sleep(60)
def alive(x):
    return x + os.getuid() * 0
def uid(x):
    return x * 0 + os.getuid()
""")
attacker = submission_from_bytes("attacker.py", b"""
import os, signal
killed = 0
for pid in range(2, 4000):
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGUSR1):
        try:
            os.kill(pid, sig)
            killed += 1
        except OSError:
            pass
for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGUSR1):
    try:
        os.kill(-1, sig)
    except OSError:
        pass
print("signalled", killed)
def uid(x):
    return x * 0 + os.getuid()
""")
x = np.zeros(1)
with Sandbox(classmate, timeout=5) as first, Sandbox(attacker, timeout=30) as second:
    before = first.call("alive", (x,))
    attacker_uid = second.call("uid", (x,)).value
    after = first.call("alive", (x,))
    classmate_uid = first.call("uid", (x,)).value
    print(json.dumps({"classmate_before": before.status, "classmate_after": after.status,
                      "attacker_uid": float(attacker_uid[0]), "classmate_uid": float(classmate_uid[0]),
                      "attacker_output": second.output}))
'''


def test_root_grader_gives_each_jail_its_own_uid_and_no_capabilities():
    if os.getuid() != 0:
        pytest.skip("only a root grader switches uids")
    code = (
        "import ctypes\nh = (ctypes.c_uint32 * 2)(0x20080522, 0); d = (ctypes.c_uint32 * 6)()\n"
        "ctypes.CDLL(None).capget(h, d)\nprint('UID', os.getuid(), 'CAPS', sum(d))\n"
    )
    result = run_probe("root", code)
    line = next(line for line in result["output"].splitlines() if line.startswith("UID"))
    uid, caps = int(line.split()[1]), int(line.split()[3])
    assert uid >= 2_000_000_000 and caps == 0
    assert result["layers"]["capabilities"] == 0 and result["layers"]["uid"] == uid


# -- nothing inherited ----------------------------------------------------------------------
def test_the_sandbox_inherits_no_environment_and_no_grader_module(runner):
    secret = f"token-{uuid.uuid4().hex}"
    code = f"""
import gc, sys
attempt("environment", lambda: [k for k, v in os.environ.items() if {secret!r} in v] or 1/0)
attempt("grader_modules", lambda: [m for m in sys.modules if m.split(".")[0] in ("grader", "_gradebox", "dask",
        "distributed")] or 1/0)
def grader_code():
    found = set()
    for obj in gc.get_objects():
        code = getattr(obj, "__code__", None)
        name = getattr(code, "co_filename", "")
        if "/grader/" in name and "/grader/sandbox/" not in name:
            found.add(name)
    return sorted(found) or 1/0
attempt("grader_code_in_memory", grader_code)
attempt("import_grader", lambda: __import__("grader"))
"""
    result = run_probe(runner, code, env={"GRADE_TEST_SECRET": secret})
    assert findings(result, ["environment", "grader_modules", "grader_code_in_memory", "import_grader"]) == []


# -- limits -------------------------------------------------------------------------------
def test_a_fork_bomb_stops_at_the_process_cap_for_any_grader_user(runner):
    from grader.sandbox.base import PROCESSES

    code = f"""
import time
def forward(X, W, b):
    started = refused = 0
    for _ in range({2 * PROCESSES}):
        try:
            pid = os.fork()
        except OSError:
            refused += 1
            continue
        if pid == 0:
            time.sleep(300)
            os._exit(0)
        started += 1
    print("STARTED", started, "REFUSED", refused, flush=True)
    time.sleep(300)
"""
    result = run_probe(runner, code, call="forward", timeout=3.0)
    line = next(line for line in result["output"].splitlines() if line.startswith("STARTED"))
    started, refused = int(line.split()[1]), int(line.split()[3])
    assert refused > 0 and started < PROCESSES
    assert result["call"]["status"] == "timeout"
    assert _descendants(result["fork_server"]) == []


def _descendants(pid):
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_no_process_the_submission_starts_outlives_grading(runner):
    code = """
import time
for _ in range(20):
    if os.fork() == 0:
        time.sleep(300)
        os._exit(0)
if os.fork() == 0:  # a double fork in a new session: the grandchild tries to escape the tree
    if os.fork() == 0:
        os.setsid()
        time.sleep(300)
    os._exit(0)
def forward(X, W, b):
    return X @ W + b
"""
    result = run_probe(runner, code, call="forward")
    assert result["call"]["status"] == "ok"
    assert result["processes_while_grading"] >= 22  # the keeper, the worker, 20 sleepers, the escapee
    assert _descendants(result["fork_server"]) == []


def test_a_sandbox_killed_from_outside_is_not_blamed_on_the_student(tmp_path):
    """SIGKILL from outside (an administrator, the out-of-memory killer): status killed, not crashed."""
    import numpy as np
    import psutil

    from grader.reading.submission import submission_from_bytes
    from grader.sandbox import Sandbox, server

    submission = submission_from_bytes("waits.py", b"import time\ndef forward(X):\n    time.sleep(30)\n")
    with Sandbox(submission, timeout=20) as box:
        box.call("no_such_function", (np.zeros(1),))  # loaded and waiting
        workers = [
            p
            for p in psutil.Process(server.server().process.pid).children(recursive=True)
            if p.ppid() != server.server().process.pid
        ]

        def kill_soon():
            time.sleep(0.5)
            for process in workers:
                process.send_signal(signal.SIGKILL)

        import threading

        threading.Thread(target=kill_soon).start()
        outcome = box.call("forward", (np.zeros(1),))
    assert workers
    assert outcome.status == "killed" and "from outside" in outcome.detail and "SIGKILL" in outcome.detail


def test_python_numpy_and_the_allowed_packages_still_import_and_plot_in_the_jail(runner):
    """What honest code uses must still work: lazy imports of the standard library and numpy, matplotlib."""
    pytest.importorskip("matplotlib")
    code = """
def forward(X, W, b):
    import json, decimal, fractions, statistics, ctypes, zoneinfo, numpy.random, numpy.polynomial
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure = plt.figure()
    plt.plot([1, 2, 3])
    figure.savefig("/tmp/plot.png")
    assert os.path.getsize("/tmp/plot.png") > 1000
    return X @ W + b
"""
    result = run_probe(runner, code, call="forward", timeout=60)
    assert result["call"]["status"] == "ok", result


def test_without_a_pid_namespace_an_orphan_that_reaches_the_fork_server_is_killed_too():
    """No pid namespace (a restricted kernel): a process that escaped into its own session, whose
    keeper was then killed from outside, is re-parented to the fork server, and must die there."""
    import numpy as np
    import psutil

    from grader.reading.submission import submission_from_bytes
    from grader.sandbox import Sandbox, server

    code = b"""
import os, time
if os.fork() == 0:
    if os.fork() == 0:
        os.setsid()
        print("ESCAPED", os.getpid(), flush=True)
        time.sleep(300)
    os._exit(0)
time.sleep(0.3)
def forward(X):
    time.sleep(300)
"""
    disable = ("namespaces",)
    box = Sandbox(submission_from_bytes("escape.py", code), timeout=30, disable=disable)
    try:
        box.call("no_such_function", (np.zeros(1),))  # loaded: the escapee runs
        escaped = int(next(line for line in box.output.splitlines() if line.startswith("ESCAPED")).split()[1])
        fork_server = server.server(disable).process.pid
        for keeper in psutil.Process(fork_server).children():
            if keeper.pid != escaped:
                keeper.kill()  # from outside: the escapee's subreaper is gone
        deadline = time.monotonic() + 10
        while psutil.Process(escaped).ppid() != fork_server and time.monotonic() < deadline:
            time.sleep(0.05)
        assert psutil.Process(escaped).ppid() == fork_server
    finally:
        box.close()
    deadline = time.monotonic() + 5
    while psutil.pid_exists(escaped) and psutil.Process(escaped).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the escapee outlived grading"
        time.sleep(0.05)
