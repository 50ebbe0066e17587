"""A cgroup v2 per jail, where the machine delegates one: memory.max and pids.max enforced by the kernel.

RLIMIT_AS caps each process's address space; what lives outside it (pipe buffers, the
private /tmp, page tables, kernel objects) the grader can only sample. A cgroup counts
all of it, for the whole jail. The jails' parent must be a cgroup v2 directory this
process may write, with the memory and pids controllers available and no process of
its own (cgroup v2's rule: only a cgroup without processes hands controllers down):

- $GRADE_CGROUP, when set: made for the grader, e.g. by an administrator or a systemd
  unit with Delegate=yes (`systemd-run -p Delegate=yes ...` and a sub-cgroup of it);
- else, as root, `grade-jails` under the root of the cgroup v2 hierarchy, when the
  root hands memory and pids down (a systemd host booted with the unified hierarchy).

Anywhere else (cgroup v1 or a hybrid hierarchy without the memory controller in v2, a
container's read-only /sys/fs/cgroup, an ordinary user without delegation) `parent`
says why not, and the memory cap is RLIMIT_AS per process plus sampling.
Child-side module: standard library only.
"""

import os

CONTROLLERS = ("memory", "pids")


def _mount_point(mountinfo="/proc/self/mountinfo"):
    try:
        with open(mountinfo) as lines:
            for line in lines:
                fields = line.split(" - ")
                if len(fields) == 2 and fields[1].split()[0] == "cgroup2":
                    return fields[0].split()[4]
    except OSError:
        pass
    return None


def _read(path):
    with open(path) as handle:
        return handle.read()


def parent(chosen=None, mountinfo="/proc/self/mountinfo", as_root=None):
    """(directory under which each jail gets its cgroup, None) or (None, why there is none).
    chosen: the grader's $GRADE_CGROUP, if any."""
    as_root = os.getuid() == 0 if as_root is None else as_root
    if not chosen:
        mount = _mount_point(mountinfo)
        if mount is None:
            return None, "no cgroup v2 hierarchy is mounted"
        if not as_root:
            return None, "not root, and no delegated cgroup given ($GRADE_CGROUP)"
        try:
            handed_down = _read(os.path.join(mount, "cgroup.subtree_control")).split()
        except OSError as error:
            return None, f"cgroup v2 at {mount} cannot be read ({error.strerror})"
        missing = [name for name in CONTROLLERS if name not in handed_down]
        if missing:
            return None, f"the cgroup v2 root ({mount}) does not hand down {', '.join(missing)}"
        chosen = os.path.join(mount, "grade-jails")
        try:
            os.makedirs(chosen, exist_ok=True)
        except OSError as error:
            return None, f"cannot make {chosen} ({error.strerror})"
    try:
        available = _read(os.path.join(chosen, "cgroup.controllers")).split()
        missing = [name for name in CONTROLLERS if name not in available]
        if missing:
            return None, f"{chosen} lacks the {', '.join(missing)} controller"
        enabled = _read(os.path.join(chosen, "cgroup.subtree_control")).split()
        wanted = " ".join(f"+{name}" for name in CONTROLLERS if name not in enabled)
        if wanted:
            _write(os.path.join(chosen, "cgroup.subtree_control"), wanted)
    except OSError as error:
        return None, f"{chosen} cannot be used ({error.strerror})"
    return chosen, None


def enter(parent_dir, name, memory_bytes, processes):
    """Make `parent_dir/name` with the caps, move this process into it; returns its path."""
    path = os.path.join(parent_dir, name)
    os.mkdir(path)
    try:
        _write(os.path.join(path, "memory.max"), str(memory_bytes))
        for optional, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
            try:  # no swap to spill into; one process out of memory ends the whole jail
                _write(os.path.join(path, optional), value)
            except OSError:
                pass
        _write(os.path.join(path, "pids.max"), str(processes))
        _write(os.path.join(path, "cgroup.procs"), "0")
    except OSError:
        remove(path)
        raise
    return path


def remove(path):
    """Remove a jail's cgroup once none of its processes is left (False if one still is)."""
    try:
        os.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def _write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
