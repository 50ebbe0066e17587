"""The learner's code as the grader itself parses it: for its feedback calls, imports, definitions
and signatures (never to run it: that happens in the sandbox)."""

import ast
import warnings


def parsed(code, filename="<unknown>"):
    """ast.parse(code), or None when the code does not parse (or is nested deeper than the stack).

    Silent: Python's parser warns about what it reads (an invalid escape such as "\\d": a
    SyntaxWarning on Python 3.12, a DeprecationWarning shown for a file named __main__.py before),
    on the grader's stderr, with the learner's file name and text unescaped.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(code, filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
