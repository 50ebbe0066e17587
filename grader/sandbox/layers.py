"""Which layers of the jail are active on this machine, from what a jail reported about itself.

Kernels differ (Landlock's ABI, restricted user namespaces, seccomp's architectures),
so nothing is assumed: each jail's worker reports what took effect (jail.lock_down),
and this module turns that into the layers people ask about. `grade doctor` prints
them; grading others' code (grade batch, nbgrader's GradeTasks, Gradescope) refuses
to start when the file, network or process layer is missing, unless told to trust
the submissions.
"""

import os
import platform
from dataclasses import dataclass

REQUIRED_FOR_OTHERS = ("files", "network", "processes")
TRUST_FLAG = "--trust-submissions"


@dataclass(frozen=True)
class Layer:
    name: str
    active: bool
    how: str  # what does the work, or what is missing


def describe(report, backend="linux"):
    """The layers, from a jail's report (jail.lock_down's dict plus its namespaces)."""
    if backend != "linux":
        why = "the portable backend has no jail: the code runs with your account's rights"
        return [Layer(name, False, why) for name in ("files", "network", "processes", "identity")] + [
            Layer("inherited", True, "a fresh interpreter per submission; a minimal environment"),
            Layer(
                "limits",
                True,
                "time per call, memory (RLIMIT_AS on Linux, else resident memory watched), "
                "1 MiB of prints, its process tree killed at the end",
            ),
        ]
    if report is None:
        return [
            Layer(name, False, "no jail has reported yet")
            for name in ("files", "network", "processes", "identity", "inherited", "limits")
        ]
    abi = report.get("landlock") or 0
    seccomp = bool(report.get("seccomp"))
    spaces = set(report.get("namespaces") or ())
    own_uid = report.get("uid") is not None
    private_tmp = "mount" in spaces
    reachable = report.get("reachable", True)
    files_how = (
        (
            f"Landlock ABI {abi}: reads only Python, numpy and the allowed packages; writes only "
            + ("its private /tmp" if private_tmp else "its scratch directory")
        )
        if abi
        else "Landlock unavailable"
    )
    if not reachable:
        files_how = (
            "the jail's own uid cannot read Python's standard library here (it lives under a "
            "directory only root may enter, and without a mount namespace it cannot be bound in)"
        )
    network_parts = (
        (["seccomp (an allowlist): no socket of any kind can be made"] if seccomp else [])
        + (["network namespace: no interface"] if "network" in spaces else [])
        + (["Landlock: no TCP"] if abi >= 4 else [])
    )
    signals = ["its own pid namespace"] if "pid" in spaces else []
    signals += ["Landlock signal scoping"] if abi >= 6 else []
    signals += ["a uid of its own"] if own_uid else []
    tracing = ["Landlock"] if abi >= 1 else []
    tracing += ["seccomp"] if seccomp else []
    processes_how = (
        f"signals: {', '.join(signals) or 'nothing stops them'}; ptrace and memory: "
        f"{', '.join(tracing + (['a uid of its own'] if own_uid else [])) or 'nothing stops them'}"
    )
    caps = report.get("capabilities")
    if own_uid:
        identity = Layer(
            "identity", caps == 0, f"a uid of its own (one per live jail), {caps} capabilities, no_new_privs"
        )
    else:
        identity = Layer(
            "identity",
            caps == 0 and bool(report.get("no_new_privs")),
            f"runs as you{' in a user namespace' if 'user' in spaces else ''}, {caps} capabilities, no_new_privs",
        )
    cap = report.get("processes_cap")
    limits = (
        memory_how(report)
        + ", time per call, 1 MiB of prints, "
        + (f"{cap} processes" if cap else "no process cap (it would count your own processes)")
        + (", /tmp of 64 MiB" if private_tmp else "")
    )
    return [
        Layer("files", abi >= 1 and reachable, files_how),
        Layer("network", seccomp, "; ".join(network_parts) if network_parts else "nothing stops it"),
        Layer("processes", bool(signals) and bool(tracing or own_uid), processes_how),
        identity,
        Layer("inherited", True, "a fresh interpreter that imported only numpy; a fixed minimal environment"),
        Layer("limits", bool(cap), limits),
    ]


def memory_how(report):
    """Whether the kernel enforces the memory cap for the whole jail (a cgroup), or the grader samples it."""
    if report.get("cgroup"):
        return (
            f"memory enforced by the kernel for the whole jail (cgroup v2: memory.max "
            f"{report.get('cgroup_memory', 0) >> 20} MiB with its /tmp, pids.max {report.get('cgroup_processes')})"
        )
    return (
        "memory by RLIMIT_AS per process and by sampling the jail's resident memory "
        f"(no cgroup v2 per jail: {report.get('cgroup_why') or 'not reported'})"
    )


def missing_for_others(layers):
    return [layer.name for layer in layers if layer.name in REQUIRED_FOR_OTHERS and not layer.active]


def probe():
    """The layers a jail on this machine gets: one tiny submission is run to see. Returns (layers, report)."""
    from ..reading.submission import submission_from_bytes
    from . import Sandbox

    submission = submission_from_bytes("probe.py", b"def probe(x):\n    return x\n")
    import numpy as np

    with Sandbox(submission, timeout=30) as box:
        box.call("probe", (np.zeros(1),))
        report, backend = box.layers, box.backend
    return describe(report, backend), report


_probed = {}


def probe_once():
    """The layers, probed once per process (nbgrader grades many notebooks in one)."""
    key = os.getpid()
    if key not in _probed:
        _probed[key] = probe()[0]
    return _probed[key]


def refusal(layers):
    """The one-line reason to refuse grading others' code, or None when the jail is complete."""
    missing = missing_for_others(layers)
    if not missing:
        return None
    said = "; ".join(f"{layer.name}: {layer.how}" for layer in layers if layer.name in missing)
    return (
        f"refusing to grade others' code: the sandbox's {', '.join(missing)} layer"
        f"{'s are' if len(missing) > 1 else ' is'} missing on this machine ({said}); "
        f"see `grade doctor`, or pass {TRUST_FLAG} to grade anyway"
    )


def machine():
    return f"{platform.system()} {platform.release()}, {platform.machine()}, running as " + (
        "root" if os.getuid() == 0 else f"uid {os.getuid()}"
    )
