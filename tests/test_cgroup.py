"""Where the jails' cgroup comes from (grader/sandbox/cgroup.py), and that `grade doctor` says which cap holds.

The choice is tested on cgroup trees made of plain files; the kernel's own cgroup v2 only
where this machine delegates one (the end-to-end test says why it skipped otherwise).
"""

import os

import pytest

from grader.sandbox import cgroup
from grader.sandbox.layers import describe, memory_how


def _tree(path, controllers="cpu memory pids", enabled=""):
    path.mkdir(parents=True, exist_ok=True)
    (path / "cgroup.controllers").write_text(controllers + "\n")
    (path / "cgroup.subtree_control").write_text(enabled)
    return path


def _mountinfo(tmp_path, mount):
    info = tmp_path / "mountinfo"
    info.write_text(
        "25 30 0:22 / /proc rw,nosuid - proc proc rw\n"
        f"31 25 0:26 / {mount} rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw,nsdelegate\n"
    )
    return str(info)


def test_a_delegated_cgroup_hands_memory_and_pids_down_to_the_jails(tmp_path):
    chosen = _tree(tmp_path / "grade")
    assert cgroup.parent(str(chosen), mountinfo="/nonexistent") == (str(chosen), None)
    assert (chosen / "cgroup.subtree_control").read_text().split() == ["+memory", "+pids"]


def test_a_delegated_cgroup_without_the_memory_controller_is_refused_with_the_reason(tmp_path):
    chosen = _tree(tmp_path / "grade", controllers="cpu pids")
    where, why = cgroup.parent(str(chosen))
    assert where is None and "lacks the memory controller" in why


def test_as_root_the_jails_go_under_the_hierarchys_root_when_it_hands_memory_and_pids_down(tmp_path):
    root = _tree(tmp_path / "cgroup", enabled="cpu memory pids\n")
    _tree(root / "grade-jails")  # as the kernel makes it, with its files, on mkdir
    info = _mountinfo(tmp_path, root)
    assert cgroup.parent(None, mountinfo=info, as_root=True) == (str(root / "grade-jails"), None)
    where, why = cgroup.parent(None, mountinfo=info, as_root=False)
    assert where is None and "not root" in why


def test_a_hybrid_hierarchy_without_memory_in_v2_says_so(tmp_path):
    root = _tree(tmp_path / "unified", controllers="hugetlb", enabled="")
    where, why = cgroup.parent(None, mountinfo=_mountinfo(tmp_path, root), as_root=True)
    assert where is None and "does not hand down memory, pids" in why
    where, why = cgroup.parent(None, mountinfo="/nonexistent", as_root=True)
    assert where is None and "no cgroup v2" in why


def test_doctor_says_whether_the_kernel_or_sampling_enforces_the_memory_cap():
    kernel = {"cgroup": True, "cgroup_memory": 1200 << 20, "cgroup_processes": 65}
    sampled = {"cgroup": False, "cgroup_why": "no cgroup v2 hierarchy is mounted"}
    assert "enforced by the kernel" in memory_how(kernel) and "1200 MiB" in memory_how(kernel)
    assert "sampling" in memory_how(sampled) and "no cgroup v2 hierarchy is mounted" in memory_how(sampled)
    limits = next(layer for layer in describe(sampled) if layer.name == "limits")
    assert "sampling" in limits.how


def test_where_the_machine_delegates_a_cgroup_each_jail_gets_one_and_it_is_removed_after():
    where, why = cgroup.parent(os.environ.get("GRADE_CGROUP"))
    if where is None:
        pytest.skip(f"no cgroup v2 for the jails on this machine: {why}")
    import numpy as np

    from grader.reading.submission import submission_from_bytes
    from grader.sandbox import Sandbox

    before = {name for name in os.listdir(where) if name.startswith("jail-")}
    with Sandbox(submission_from_bytes("ok.py", b"def f(x):\n    return x\n"), timeout=30) as box:
        assert box.call("f", (np.zeros(1),)).status == "ok"
        assert box.layers["cgroup"] is True, box.layers
        assert {name for name in os.listdir(where) if name.startswith("jail-")} - before
    assert {name for name in os.listdir(where) if name.startswith("jail-")} <= before
