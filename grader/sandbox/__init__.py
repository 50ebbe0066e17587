"""Run untrusted learner code and call its functions, handing back plain data only."""
from .forked import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, OUTPUT_LIMIT, Outcome, Sandbox, forget_in_child

__all__ = ["DEFAULT_MEMORY_MB", "DEFAULT_TIMEOUT", "OUTPUT_LIMIT", "Outcome", "Sandbox", "forget_in_child"]
