"""Generate learner stubs from reference solutions (one source of truth).

A solution marks each region the learner writes with nbgrader's markers:

        ### BEGIN SOLUTION
        G = P.copy()
        ...
        ### END SOLUTION

and the stub replaces the region, at its indentation, with

        # YOUR CODE HERE
        raise NotImplementedError("dZ: ...")

The docstrings above the markers stay: they are the learner's instructions.
"""

import re
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


class StubError(Exception):
    pass


def make_stub(source, filename="solution"):
    """The stub text for a solution's text."""
    out, inside, function = [], False, None
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        match = _DEF.match(line)
        if match and not inside:
            function = match.group(1)
        if stripped == BEGIN:
            if inside:
                raise StubError(f"{filename}, line {number}: {BEGIN} inside another solution region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            what = f"{function}: " if function else ""
            out.append(f'{indent}raise NotImplementedError("{what}replace this line with your code")')
        elif stripped == END:
            if not inside:
                raise StubError(f"{filename}, line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise StubError(f"{filename}: {BEGIN} is never closed")
    return "\n".join(out)


def strip_markers(source):
    """The solution without its marker lines (what a correct learner file looks like)."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in (BEGIN, END))


def stub_pairs(root):
    """(solution path, stub path) for every solution under root/solutions. The stubs have one copy,
    exercises/: the wheel ships it as grader/stubs_data/ (setup.py)."""
    root = Path(root)
    return [(path, root / "exercises" / path.name) for path in sorted((root / "solutions").glob("*.py"))]


def drifted(root):
    """Stub paths whose content differs from what their solution generates."""
    return [
        stub
        for solution, stub in stub_pairs(root)
        if not stub.exists() or stub.read_text() != make_stub(solution.read_text(), solution.name)
    ]


def write_stubs(root):
    written = []
    for solution, stub in stub_pairs(root):
        text = make_stub(solution.read_text(), solution.name)
        if not stub.exists() or stub.read_text() != text:
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text(text)
            written.append(stub)
    return written
