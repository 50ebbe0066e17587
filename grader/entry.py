"""The `grade` command's entry point: start the sandbox's fork server first, then run the command.

The fork server imports numpy in a process of its own; started before this process
imports click and numpy, both imports run at once on two cores, and a `grade check`
costs little more than importing numpy once.
"""

import sys

_SANDBOXED = ("check", "batch", "doctor")


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] and args[0] in _SANDBOXED and sys.platform.startswith("linux"):
        try:
            from .sandbox import prestart

            prestart()
        except Exception:  # noqa: BLE001 (the command says what is wrong when it needs the sandbox)
            pass
    from .cli import main as run

    run(argv)
