"""Find and kill every process a submission started, however it tried to escape.

Only needed where a jail has no pid namespace of its own (with one, the kernel kills
the whole namespace when its init exits). The fork server and each jail's init are
"child subreapers" (prctl): a process whose parent dies is re-parented to the nearest
living subreaper above it instead of the system's init, so a double fork followed by
setsid still lands under the jail's init or, if it died first, under the fork server,
where the scan below finds it. Child-side module: standard library only.
"""

import os
import signal
import time

_forked = set()  # sandbox children this process started; any other child is an adopted orphan


def started(pid):
    _forked.add(pid)


def forget(pid):
    _forked.discard(pid)


def kill_descendants():
    """SIGKILL every descendant of this process (stopped first, so none can fork meanwhile)."""
    me = os.getpid()
    stopped = _stop_all(lambda: _with_descendants({me}, _processes()) - {me})
    _kill_all(stopped)
    for victim in stopped:
        _reap(victim)


def reap_orphans():
    """Collect dead orphans adopted by this process (it is a subreaper), never its own jails."""
    me = os.getpid()
    for pid, (ppid, _) in _processes(include_zombies=True).items():
        if ppid == me and pid not in _forked:
            _reap(pid)


def kill_tree(pid):
    """SIGKILL the child, its session, its descendants and the orphans they left."""
    _forked.discard(pid)
    stopped = _stop_all(lambda: _tree_members(pid) | _adopted_orphans())
    _kill_all(stopped, group=pid)
    for victim in stopped - {pid}:
        _reap(victim)


def _stop_all(scan):
    """SIGSTOP what `scan()` finds, again until it finds nothing new (a stopped process cannot fork)."""
    stopped = set()
    for _ in range(50):
        found = scan() - stopped
        if not found:
            break
        for victim in found:
            _signal(victim, signal.SIGSTOP)
        stopped |= found
    return stopped


def _kill_all(stopped, group=None):
    for victim in stopped:
        _signal(victim, signal.SIGKILL)
    if group is not None:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _wait_gone(stopped)


def _wait_gone(pids, seconds=2.0):
    # SIGKILL is delivered asynchronously: return only once the processes are dead,
    # so "no process outlives grading" holds the moment grading returns.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        table = _processes()
        if not any(pid in table for pid in pids):
            return
        time.sleep(0.001)


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(pid):
    # Orphans adopted by the grader are its children now: collect them, no zombies.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _processes(include_zombies=False):
    """{pid: (ppid, session)} of live (non-zombie) processes."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] in (b"Z", b"X") and not include_zombies:
            continue
        table[int(entry)] = (int(fields[1]), int(fields[3]))
    return table


def _tree_members(root):
    """Live processes in root's session or below root in the process tree."""
    table = _processes()
    members = {pid for pid, (_, sid) in table.items() if sid == root}
    if root in table:
        members.add(root)
    return _with_descendants(members, table)


def _adopted_orphans():
    """Children of the grader it did not fork itself: orphans re-parented to it."""
    me = os.getpid()
    table = _processes()
    orphans = {pid for pid, (ppid, _) in table.items() if ppid == me and pid not in _forked}
    return _with_descendants(orphans, table) if orphans else set()


def _with_descendants(members, table):
    members = set(members)
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _) in table.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    return members
