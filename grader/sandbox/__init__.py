"""Run untrusted learner code and call its functions, handing back plain data only.

Two backends behind one interface (base.Sandbox): `linux`, a jail per submission
forked by a clean fork server (linux.py, jail.py, forkserver.py), and `portable`, a
fresh interpreter per submission for systems without the jail's kernel features.
Importing this package costs nothing: numpy and the backends load when first used.
"""

import os
import sys

from .errors import JailError, SettingError

BACKENDS = ("linux", "portable")


def backend():
    """The backend to use: GRADE_SANDBOX if set (linux or portable), else the Linux jail on Linux."""
    value = os.environ.get("GRADE_SANDBOX", "")
    chosen = value.strip().lower()
    if chosen:
        if chosen not in BACKENDS:
            raise SettingError(
                f"GRADE_SANDBOX={value!r} is not a sandbox backend: accepted values are "
                f"{' and '.join(BACKENDS)} (or leave it unset)"
            )
        return chosen
    linux = sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(os, "memfd_create")
    return "linux" if linux else "portable"


def Sandbox(*args, **kwargs):  # noqa: N802 (a factory standing in for the chosen backend's class)
    """A sandbox of the chosen backend for one submission (see base.Sandbox for its interface)."""
    if backend() == "portable":
        from .portable import PortableSandbox

        return PortableSandbox(*args, **kwargs)
    from .linux import LinuxSandbox

    return LinuxSandbox(*args, **kwargs)


def prestart():
    """Start what the backend needs before the first submission (the fork server), in the background."""
    if backend() == "linux":
        from .server import server

        server()


def __getattr__(name):
    if name in ("Outcome", "OUTPUT_LIMIT"):
        from . import base

        return getattr(base, name)
    raise AttributeError(name)


__all__ = ["JailError", "Sandbox", "SettingError", "prestart"]
