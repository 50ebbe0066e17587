"""The fork server: a fresh interpreter that imported only numpy, forking one jail per submission.

It is started by the grader (linux.py) as `python -I -S` with a minimal environment,
so a submission's process holds nothing of the grader: no grader module, no answer,
no Dask client or worker, no token from the environment. It never sees a
submission either: the grader hands each jail its submission over the jail's own
pipe, so nothing of one student can reach the next.

Per submission, two processes (forking from this warm interpreter costs about a
millisecond each):

    keeper  (in the server's pid namespace) unshares the namespaces, mounts the private
            /tmp, forks the worker, waits for it and writes its wait status to the grader
    worker  (pid 1 of the new pid namespace) locks itself down (jail.lock_down) and runs
            the learner's code (child.py); when it exits, the kernel kills every process
            left in its namespace, so nothing it started outlives it

Requests arrive on a unix socket (SOCK_SEQPACKET) with the jail's descriptors attached:
    {"op": "spawn", ...} + [request pipe, reply pipe, inputs memfd, output file, status pipe]
    {"op": "kill", "pid": keeper}   -> the whole jail is dead when the answer comes
Child-side module: standard library and numpy only.
"""

import json
import os
import select
import signal
import socket
import stat
import struct
import sys
import tempfile

from . import cgroup, jail, landlock, process_tree, readable

_SPAWN_FDS = 5


def main(sock_fd, config_text):
    config = json.loads(config_text)
    jail.die_with_parent()
    if os.getppid() != config["parent"]:  # the grader died before prctl took effect
        os._exit(0)
    os.setsid()  # Ctrl-C in the grader's terminal is the grader's to handle
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    startup = sys.path[len(config["path"]) :]  # the interpreter's own entries: the boot put the grader's first
    import numpy  # noqa: F401  (the one import every jail inherits warm)

    from . import child, wire  # noqa: F401  (imported here: a jail cannot read them any more)

    try:
        Server(socket.socket(fileno=sock_fd), config, startup).serve()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the grader went away: with this process, its jails go too (their keepers die with it)
    os._exit(0)


class Server:
    def __init__(self, sock, config, startup=()):
        self.sock = sock
        self.config = config
        self.disabled = set(config.get("disable", ()))
        self.pid = os.getpid()
        self.as_root = os.getuid() == 0
        self.abi = 0 if "landlock" in self.disabled else landlock.abi()
        self.allowed = readable.derive(config, startup)
        self.rules = _opened(readable.rules(**self.allowed))
        # What each jail's own root holds; and what a root grader's jail could not reach without one.
        self.root_plan = readable.root_plan(**self.allowed)
        self.unreachable = (
            readable.unreachable([*self.allowed["python_dirs"], *self.allowed["packages"]]) if self.as_root else []
        )
        # Where the kernel can cap a whole jail's memory and processes: a cgroup v2 per jail (cgroup.py).
        self.cgroups, self.cgroup_why = (
            (None, "turned off") if "cgroup" in self.disabled else cgroup.parent(config.get("cgroup"))
        )
        self.stale_cgroups = set()  # a jail's cgroup, still busy when its keeper was reaped
        self.live = {}  # keeper pid -> (worker pid, pidfd or None, has its own pid namespace)
        self.ended = {}  # keeper pid -> its wait status: reaped here before the grader asked
        # Where a jail has no pid namespace (a restricted kernel), an orphan whose keeper died comes
        # here rather than to the system's init, so that killing its jail finds it.
        jail.set_subreaper()

    def kept_fds(self):
        return [fd for fd, _, _ in self.rules]

    def serve(self):
        self.send(
            {
                "ready": True,
                "landlock": self.abi,
                "root": self.as_root,
                "rules": len(self.rules),
                "allowed": self.allowed,
            }
        )
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, _SPAWN_FDS + 1)
            except OSError:
                break
            if not data:
                break  # the grader is gone: so are its jails
            try:
                request = json.loads(data)
                if request["op"] == "spawn" and len(fds) == _SPAWN_FDS:
                    reply = self.spawn(request, fds)
                elif request["op"] == "kill":
                    reply = self.kill(int(request["pid"]))
                else:
                    reply = {"error": "bad request"}
            except Exception as error:  # noqa: BLE001 (the server must outlive one bad request)
                reply = {"error": f"{type(error).__name__}: {error}"}
            finally:
                for fd in fds:
                    _close(fd)
            self.send(reply)
            self.reap()
        for pid in list(self.live):
            self.kill(pid)

    def send(self, message):
        self.sock.send(json.dumps(message).encode())

    # -- one jail --------------------------------------------------------------------------
    def spawn(self, request, fds):
        info_r, info_w = os.pipe()
        ack_r, ack_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(info_r)
                os.close(ack_w)
                self.keeper(request, fds, info_w, ack_r)
            except BaseException as error:  # say why the jail could not be built, then go
                _tell(info_w, {"error": f"{type(error).__name__}: {error}"})
            finally:
                os._exit(71)
        os.close(info_w)
        os.close(ack_r)
        try:
            info = _read_all(info_r)
        finally:
            os.close(info_r)
        info = json.loads(info) if info else {"error": "the keeper died"}
        if "error" in info:
            os.close(ack_w)
            _wait_for(pid)
            return {"error": f"the jail could not be built: {info['error']}"}
        worker = info["worker"]
        try:
            pidfd = os.pidfd_open(worker)  # race-free: the keeper reaps the worker only after our ack
        except (AttributeError, OSError):
            pidfd = None
        os.write(ack_w, b"!")
        os.close(ack_w)
        self.live[pid] = (worker, pidfd, "pid" in info["namespaces"])
        process_tree.started(pid)
        return {"pid": pid, "namespaces": info["namespaces"], "scratch": info["scratch"]}

    def keeper(self, request, fds, info_w, ack_r):
        """Build the jail's namespaces, fork the worker into them, tell the grader how it ended."""
        os.setsid()
        _close_all_but({*fds, info_w, ack_r, *self.kept_fds()})
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        jail.die_with_parent()
        if os.getppid() != self.pid:
            os._exit(0)
        capped = self.enter_cgroup(request)
        made = [] if "namespaces" in self.disabled else jail.enter_namespaces(self.as_root)
        made = [name for name in made if name not in self.disabled]
        owner = request["uid"] if request.get("uid") is not None else os.getuid()
        baseline = jail.virtual_memory()  # the worker's, as forked from here: its memory cap counts from it
        if "mount" in made:
            scratch = jail.build_root(owner, **self.root_plan)
        else:  # no root of its own: a scratch directory on the host, removed by the grader
            scratch = tempfile.mkdtemp(prefix="grade-")
            os.chown(scratch, owner, owner)
        own_namespace = "pid" in made
        if not own_namespace:
            jail.set_subreaper()  # orphans of the learner's processes come here, to be killed
            # Without a pid namespace nothing kills them with the server: a server that dies (the
            # grader killed with SIGKILL) sends this keeper SIGTERM, and it kills them first.
            signal.signal(signal.SIGTERM, lambda *_: (process_tree.kill_descendants(), os._exit(0)))
            jail.die_with_parent(signal.SIGTERM)
        lifeline_r, lifeline_w = os.pipe()
        status_w = fds[4]
        worker = os.fork()  # pid 1 of the new pid namespace: when it exits, all it started dies with it
        if worker == 0:
            try:
                for fd in (lifeline_w, info_w, ack_r, status_w):
                    _close(fd)
                jail.die_with_parent()
                if _readable(lifeline_r):  # the keeper died before prctl took effect
                    os._exit(0)
                _close(lifeline_r)
                self.worker(request, fds[:4], made, scratch, baseline, capped)
            except BaseException as error:  # the jail could not be locked: the grader must not go on
                _frame(fds[1], {"status": "jail_failed", "detail": f"{type(error).__name__}: {error}"[:300]})
            finally:
                os._exit(70)
        os.close(lifeline_r)
        for fd in [*fds[:4], *self.kept_fds()]:
            _close(fd)
        _tell(info_w, {"worker": worker, "namespaces": made, "scratch": scratch})
        os.close(info_w)
        os.read(ack_r, 1)
        os.close(ack_r)
        jail.not_dumpable()
        status = _wait_for(worker, reap_others=not own_namespace)
        if not own_namespace:
            process_tree.kill_descendants()
        try:
            os.write(status_w, struct.pack("<i", status))
        except OSError:
            pass
        os._exit(0)

    def enter_cgroup(self, request):
        """Move this keeper (and so the jail it forks) into a cgroup of its own; what it says of the cap."""
        if self.cgroups is None:
            return {"cgroup": False, "cgroup_why": self.cgroup_why}
        # The memory cap, plus what the jail may hold in its private /tmp and /dev/shm and the kernel's own.
        memory = int(request["memory"]) + ((jail.TMP_MB + jail.SHM_MB + 64) << 20)
        processes = int(request["processes"]) + 1  # and the keeper
        try:
            cgroup.enter(self.cgroups, f"jail-{os.getpid()}", memory, processes)
        except OSError as error:
            return {"cgroup": False, "cgroup_why": f"{self.cgroups}: {error.strerror or error}"}
        return {"cgroup": True, "cgroup_memory": memory, "cgroup_processes": processes}

    def forget_cgroup(self, keeper):
        if self.cgroups is not None:
            self.stale_cgroups.add(os.path.join(self.cgroups, f"jail-{keeper}"))
            self.stale_cgroups = {path for path in self.stale_cgroups if not cgroup.remove(path)}

    def worker(self, request, fds, made, scratch, baseline, capped):
        req_r, resp_w, shm_fd, out_fd = fds
        os.setsid()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGQUIT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the file size limit fails, quietly
        import mmap

        shared = mmap.mmap(shm_fd, int(request["shared_bytes"]))  # (it keeps a descriptor of its own)
        _close(shm_fd)
        # Descriptors 0, 1 and 2 by dup2 only: a freed low number must not be taken by anything else.
        null = os.open(os.devnull, os.O_RDONLY)
        for target, source in ((0, null), (1, out_fd), (2, out_fd)):
            if source != target:
                os.dup2(source, target)
        for fd in {null, out_fd} - {0, 1, 2}:
            _close(fd)
        os.chdir(scratch)
        uid = request.get("uid")
        separate_count = uid is not None or "user" in made  # else RLIMIT_NPROC would count the instructor's processes
        rules = [] if "landlock" in self.disabled else list(self.rules)
        if rules and "mount" in made:
            # Its own root shows only the allowed packages in a site-packages (a mask): Python may list
            # it, as it must to import one of them that the fork server did not.
            rules += [
                (os.open(mask, os.O_PATH | os.O_CLOEXEC), landlock.READ_DIR, True) for mask in self.root_plan["masks"]
            ]
        _close_all_but({0, 1, 2, req_r, resp_w, *(fd for fd, _, _ in rules)})
        layers = jail.lock_down(
            baseline,
            uid,
            int(request["memory"]),
            request["processes"] if separate_count else None,
            scratch,
            rules,
            self.abi if rules else 0,
            "seccomp" not in self.disabled,
        )
        layers["namespaces"] = made
        layers.update(capped)
        layers["reachable"] = "mount" in made or not self.unreachable  # can its uid read Python at all?
        for fd, _, _ in rules or [(fd, 0, 0) for fd in self.kept_fds()]:
            _close(fd)
        # What the jail is, said before any of the learner's code runs: nothing it does later can change it.
        _frame(resp_w, {"status": "locked", "jail": layers})
        os.environ.clear()
        os.environ.update(self.config["env"])
        os.environ.update(HOME=scratch, TMPDIR=scratch, PWD=scratch, MPLCONFIGDIR=os.path.join(scratch, ".matplotlib"))
        from . import child

        child.run(req_r, resp_w, shared)

    def kill(self, pid):
        """Kill the jail whose keeper is `pid`; return once none of its processes is left.

        The answer says how the keeper had ended if it ended before this request ("keeper": its
        wait status): a keeper killed by a signal was killed from outside, and its jail with it.
        """
        if pid in self.ended:
            return {"killed": pid, "keeper": self.ended.pop(pid)}
        entry = self.live.pop(pid, None)
        if entry is None:
            return {"killed": pid, "keeper": None}
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, None
        ended = status if done else None
        worker, pidfd, own_namespace = entry
        if own_namespace and pidfd is not None:
            try:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except OSError:
                pass
            poller = select.poll()  # readable once the worker is gone, after its namespace's processes
            poller.register(pidfd, select.POLLIN)
            poller.poll(10_000)
        else:
            process_tree.kill_tree(worker)
        if pidfd is not None:
            os.close(pidfd)
        process_tree.forget(pid)
        if not done:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            _wait_for(pid)
        self.forget_cgroup(pid)
        return {"killed": pid, "keeper": ended}

    def reap(self):
        """Collect keepers that ended on their own (the learner's process exited or crashed)."""
        for pid in list(self.live):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, None
            if done:
                _, pidfd, _ = self.live.pop(pid)
                if pidfd is not None:
                    os.close(pidfd)
                process_tree.forget(pid)
                self.forget_cgroup(pid)
                self.ended[pid] = status  # until the grader's kill request asks how it ended
        process_tree.reap_orphans()


def _opened(rules):
    """[(O_PATH descriptor, rights, is a directory)] for [(path, rights)]: each opened from its
    parent's descriptor, so a path is walked once per directory rather than once per entry."""
    parents, opened = {}, []
    try:
        for path, rights in rules:
            parent, name = os.path.split(path)
            if parent not in parents:
                try:
                    parents[parent] = os.open(parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
                except OSError:
                    parents[parent] = None
            try:
                if parents[parent] is None or not name:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                else:
                    fd = os.open(name, os.O_PATH | os.O_CLOEXEC | os.O_NOFOLLOW, dir_fd=parents[parent])
            except OSError:
                continue
            opened.append((fd, rights, stat.S_ISDIR(os.fstat(fd).st_mode)))
    finally:
        for fd in parents.values():
            if fd is not None:
                os.close(fd)
    return opened


def _wait_for(pid, reap_others=False):
    """Wait for `pid` (retrying on EINTR); as a reaper, collect every other child meanwhile."""
    while True:
        try:
            done, status = os.waitpid(-1 if reap_others else pid, 0)
        except ChildProcessError:
            return 0
        if done == pid:
            return status


def _readable(fd):
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    return bool(poller.poll(0))


def _frame(fd, message):
    from . import wire

    try:
        wire.write_frame(fd, wire.dumps(message))
    except OSError:
        pass


def _tell(fd, message):
    try:
        os.write(fd, json.dumps(message).encode())
    except OSError:
        pass


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def _close_all_but(keep):
    low = 0
    for fd in sorted(keep):
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, _max_fd())


def _max_fd():
    try:
        return max(int(name) for name in os.listdir("/proc/self/fd")) + 1
    except (OSError, ValueError):
        return os.sysconf("SC_OPEN_MAX")


if __name__ == "__main__":  # pragma: no cover (started by linux.py through its bootstrap)
    main(int(sys.argv[1]), sys.argv[2])
