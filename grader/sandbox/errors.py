"""The one error a sandbox raises to the grader (every fault of a submission is an Outcome instead)."""


class JailError(Exception):
    """The jail could not be built: a fault of the grader or of this machine, never of a submission."""
