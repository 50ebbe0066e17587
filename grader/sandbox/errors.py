"""The errors a sandbox raises to the grader (every fault of a submission is an Outcome instead)."""


class JailError(Exception):
    """The jail could not be built: a fault of the grader or of this machine, never of a submission."""


class SettingError(ValueError):
    """An environment variable of the sandbox's (GRADE_SANDBOX, GRADE_JAIL_DISABLE) holds a value it does
    not accept: the user's to fix (exit 2), its message one line naming the variable, the value and what
    it accepts."""
