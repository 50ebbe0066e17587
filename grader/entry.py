"""The `grade` command's entry point: start the sandbox's fork server first, then run the command.

The fork server imports numpy in a process of its own; started before this process
imports click and numpy, both imports run at once on two cores. `grade check` then
leaves without the interpreter's teardown (_leave).
"""

import atexit
import os
import sys

_SANDBOXED = ("check", "batch", "doctor")


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    # Started with a standard stream closed (`grade check f.py >&-`), Python has None there: what
    # would be written to it goes nowhere, as it would to a closed descriptor.
    sys.stdout = sys.stdout or open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
    sys.stderr = sys.stderr or open(os.devnull, "w")  # noqa: SIM115
    if args[:1] and args[0] in _SANDBOXED and sys.platform.startswith("linux"):
        try:
            from .sandbox import prestart

            prestart()
        except Exception:  # noqa: BLE001 (the command says what is wrong when it needs the sandbox)
            pass
    from .cli import main as run

    if args[:1] != ["check"]:
        run(argv)
        return
    try:
        run(argv)  # ends in sys.exit with the command's code
    except SystemExit as done:
        _leave(done.code)
    _leave(0)


def _leave(code):
    """End `grade check` without the interpreter's teardown: freeing numpy and every module costs
    about 30 ms, an eighth of the command. What that teardown would still do is done here: flush
    what was written, run the atexit handlers (the fork server's stop). Every thread left is a
    daemon (the memory watcher), which the teardown would not wait for either."""
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a reader that went away (grade check ... | head)
            code = code or 1
    atexit._run_exitfuncs()
    os._exit(code)
