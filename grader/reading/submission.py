"""Read a learner's file (.py or .ipynb) into the code chunks the sandbox runs.

A .py file is one chunk; a notebook is one chunk per code cell, run in order as
Jupyter would. Notebooks are parsed with the json module rather than nbformat:
importing nbformat costs over a second (schema validation), more than grading.
"""

import ast
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .parsing import parsed
from .source_edits import replace_nodes

# Cell magics whose body is still Python: drop the magic line, keep the code.
# Code a submission may hold, measured as the sandbox receives it (its chunks as JSON): well under the
# largest submission the sandbox reads (sandbox/child.py SUBMISSION_BYTES), so a larger file is
# refused here with its size rather than lost on the way to the sandbox.
MAX_CODE_BYTES = 32 << 20
# A notebook also holds its outputs (plots): read whole and parsed, so bounded too, and before reading.
MAX_NOTEBOOK_BYTES = 64 << 20
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}


class UsageError(Exception):
    """The command was called wrongly (no such file, unknown exercise): exit 2."""


class SubmissionError(Exception):
    """The file exists but cannot be graded (not JSON, not text): score 0, exit 1."""


@dataclass(frozen=True)
class Chunk:
    filename: str  # what tracebacks and messages call it: "softmax.ipynb, cell 3"
    code: str
    cell: int = None  # the notebook cell's number (1-based, among all cells); None for a .py file


@dataclass(frozen=True)
class Submission:
    path: str
    kind: str  # "py" or "ipynb"
    chunks: tuple

    @property
    def is_notebook(self):
        return self.kind == "ipynb"


def require_submission_path(path):
    """PATH as a Path if it can name a submission; else UsageError (the command was called wrongly)."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    if path.is_dir():
        raise UsageError(f"{path} is a directory, expected a .py or .ipynb file")
    if path.suffix not in (".py", ".ipynb"):
        raise UsageError(f"{path}: expected a .py or .ipynb file")
    return path


def read_submission(path):
    """Read PATH; raise UsageError if it cannot be a submission, SubmissionError if unreadable."""
    path = require_submission_path(path)
    limit = max_file_bytes(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:  # refused unread: a file of gigabytes must not take the grader's memory
                raise file_too_large(path.name, size)
            data = handle.read(limit + 1)  # at most: a file may grow, or not be a file
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    return submission_from_bytes(str(path), data)


def max_file_bytes(name):
    """The most bytes a submission's file may hold. A .py file is all code, and its code as the
    sandbox receives it (JSON) is never shorter than the file; a notebook also holds its outputs."""
    return MAX_NOTEBOOK_BYTES if Path(name).suffix == ".ipynb" else MAX_CODE_BYTES


def file_too_large(name, size=None):
    """SubmissionError for a file over max_file_bytes; size in bytes when known (a bounded read only
    knows that it is over)."""
    limit = max_file_bytes(name)
    measured = f"{size / 2**20:.0f} MiB, " if size is not None and size > limit else ""
    if Path(name).suffix == ".ipynb":
        return SubmissionError(
            f"{name} is {measured}more than the {limit >> 20} MiB a notebook may be: clear its outputs "
            "(Jupyter: Edit > Clear All Outputs) and save it again"
        )
    return SubmissionError(f"{name} is {measured}more than the {limit >> 20} MiB of code a submission may hold")


def submission_from_bytes(name, data):
    """A Submission from a file's name (.py or .ipynb) and content; SubmissionError if unreadable.

    The one place content becomes code, whether it came from a path or over the
    network (`grade batch` workers receive bytes, not paths).
    """
    short = Path(name).name
    kind = Path(name).suffix.lstrip(".")
    if kind not in ("py", "ipynb"):
        raise SubmissionError(f"{short}: expected a .py or .ipynb file")
    if len(data) > max_file_bytes(name):
        raise file_too_large(short)
    try:
        text = bytes(data).decode("utf-8-sig")  # a byte-order mark (Windows editors) is not code
    except UnicodeDecodeError as error:
        raise SubmissionError(f"{short} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    if kind == "py":
        return Submission(str(name), "py", _bounded((Chunk(short, without_feedback(_python_lines(text))),), short))
    return Submission(str(name), "ipynb", notebook_chunks(text, short))


def notebook_chunks(text, name):
    """The code cells of a notebook, magics and shell lines blanked, test cells left out."""
    try:
        notebook = json.loads(text)
    except ValueError as error:
        raise SubmissionError(f"{name} is not a valid notebook: not JSON ({error})") from None
    except RecursionError:  # json recurses once per bracket: thousands of them exhaust the stack
        raise SubmissionError(f"{name} is not a valid notebook: its JSON is nested too deeply") from None
    return parsed_notebook_chunks(notebook, name)


def notebook_submission(notebook, name, path=None):
    """A Submission from an already-parsed notebook (a dict, e.g. an nbformat node), same rules as a file."""
    return Submission(str(path or name), "ipynb", parsed_notebook_chunks(notebook, name))


def parsed_notebook_chunks(notebook, name):
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        if isinstance(notebook, dict) and "worksheets" in notebook:  # nbformat 3: cells under worksheets
            raise SubmissionError(
                f"{name} is an nbformat 3 notebook (Jupyter before 2015): open it in Jupyter and save it, "
                "which converts it to nbformat 4"
            )
        raise SubmissionError(f"{name} is not a valid notebook: no list of cells")
    chunks = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if _is_autograder_test(cell):
            continue  # nbgrader test cells call the grader; the grader runs them itself
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):  # nbformat: a string or a list of strings, nothing else
            raise SubmissionError(
                f"{name} is not a valid notebook: the source of cell {number} is not text (a {type(source).__name__})"
            )
        code = without_feedback(strip_magics(_python_lines(source)))
        if code.strip():
            chunks.append(Chunk(f"{name}, cell {number}", code, number))
    return _bounded(tuple(chunks), name)


def _python_lines(code):
    """CODE with its lines ended as Python ends them: at \\n, \\r\\n or a lone \\r, each made \\n. What reads
    the source here (ast's line numbers against code.split("\\n"), the lines messages quote) counts lines
    at \\n: a file ending its lines at \\r alone was one line to it, and many to ast (IndexError, exit 3)."""
    return code.replace("\r\n", "\n").replace("\r", "\n") if "\r" in code else code


def _bounded(chunks, name):
    """The chunks, or SubmissionError when they hold more code than a submission may (MAX_CODE_BYTES)."""
    size = len(json.dumps([[chunk.filename, chunk.code, chunk.cell] for chunk in chunks]))
    if size > MAX_CODE_BYTES:
        raise SubmissionError(
            f"{name} holds {size / 2**20:.0f} MiB of code, more than the {MAX_CODE_BYTES >> 20} MiB a submission "
            "may hold"
        )
    return chunks


def without_feedback(code):
    """CODE without what only asks the grader for feedback in the student's kernel (`from grader import
    feedback`, `feedback("softmax", "db", globals())`): the sandbox could not import the grader, and these
    are not the student's to grade. Each such top-level statement becomes `pass`, lines kept; the rest
    of its cell stays (`import numpy as np` beside it). "" when nothing else is left: the cell is not
    graded. Judged on the parsed code, statement by statement: anything that could define or change a
    name (`db = ...; feedback(x)`, a walrus in the arguments) is kept."""
    if "grader" not in code and "feedback" not in code:  # nothing to look for: no parsing
        return code
    tree = parsed(code)
    if tree is None:
        return code
    statements = tree.body
    edits = [(statement, _kept_of(statement)) for statement in statements]
    edits = [(statement, kept) for statement, kept in edits if kept is not None]
    if len(edits) == len(statements) and all(kept == "pass" for _, kept in edits):
        return ""
    return replace_nodes(code, edits) if edits else code


def _kept_of(statement):
    """What replaces a statement asking for feedback (`pass`; `import numpy as np, grader` keeps
    `import numpy as np`), or None for any other statement."""
    if _asks_feedback(statement):
        return "pass"
    if isinstance(statement, ast.Import) and any(_asks_feedback(ast.Import(names=[a])) for a in statement.names):
        return ast.unparse(ast.Import(names=[a for a in statement.names if not _asks_feedback(ast.Import(names=[a]))]))
    return None


def _asks_feedback(statement):
    if isinstance(statement, ast.Import):
        return all(alias.name == "grader" and alias.asname is None for alias in statement.names)
    if isinstance(statement, ast.ImportFrom):
        return statement.module == "grader" and all(
            alias.name == "feedback" and alias.asname is None for alias in statement.names
        )
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return False
    call = statement.value
    func = call.func
    named = (isinstance(func, ast.Name) and func.id == "feedback") or (
        isinstance(func, ast.Attribute)
        and func.attr == "feedback"
        and isinstance(func.value, ast.Name)
        and func.value.id == "grader"
    )
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    # Arguments are names and constants (globals(), an exercise's name): nothing in them runs code of the
    # learner's or binds a name, so skipping the cell changes nothing the grader would see.
    return named and not any(
        isinstance(node, (ast.NamedExpr, ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom))
        or (isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id == "globals"))
        for argument in arguments
        for node in ast.walk(argument)
    )


def _is_autograder_test(cell):
    meta = cell.get("metadata", {})
    nbgrader = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return isinstance(nbgrader, dict) and bool(nbgrader.get("grade")) and not nbgrader.get("solution")


def strip_magics(code):
    """Blank IPython magics (%, %%) and shell lines (!), keeping line numbers.

    A cell magic that wraps Python (%%time) keeps its body; any other (%%bash,
    %%writefile) blanks the whole cell, since its body is not Python.
    """
    lines = code.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return ""
        lines[0] = ""
    kept, state, previous = [], _TOP, None  # state: what is still open where the next line starts
    for line in lines:
        # A magic, shell or help line only where a statement starts, as in IPython.
        if state == _TOP and (line.lstrip().startswith(("%", "!")) or _MAGIC_VALUE.match(line) or _HELP.match(line)):
            line = _in_place_of_magic(line, previous)
            kept.append(line)
        else:
            kept.append(line)
            state = _after(line, state)
        if line.strip() and not line.lstrip().startswith("#"):
            previous = line
    return "\n".join(kept)


# `files = !ls`, `t = %timeit -o f()`: IPython assigns what the magic returns.
_MAGIC_VALUE = re.compile(r"^(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[%!]")
# `?forward`, `forward??`, `np.zeros?`: IPython's help.
_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")


def _in_place_of_magic(line, previous):
    """What a magic, shell or help line becomes: its assignment of None (`files = !ls`), `pass` where it is
    a statement of a block (`if IN_COLAB:` then `!pip install ...`: a blank would leave the block empty),
    else a blank line."""
    indent = line[: len(line) - len(line.lstrip())]
    value = _MAGIC_VALUE.match(line)
    if value:
        return f"{indent}{value.group(2)} = None"
    if indent and previous is not None:
        above = len(previous) - len(previous.lstrip())
        opens = previous.split("#")[0].rstrip().endswith(":")
        if (opens and above < len(indent)) or above == len(indent):
            return indent + "pass"
    return ""


_TOP = (0, None, False)  # no bracket open, no string open, no backslash continuation


def _after(line, state):
    """(open brackets, open string's quotes, continued) after one more line of code.

    One pass over each line, so that `% x` or `!= y` continuing an expression is not
    taken for a magic, at a cost linear in the cell's size (re-tokenizing the cell at
    every such line was quadratic: a few thousand of them took minutes). Code that is
    not Python at all may be misread here; the compiler will say what is wrong with it.
    """
    depth, quote, _ = state
    line = line[:-1] if line.endswith("\r") else line
    i, n, escaped_end = 0, len(line), False
    while i < n:
        char = line[i]
        if quote:
            if char == "\\":  # escapes the next character, in raw strings too (for where the string ends)
                escaped_end = i == n - 1
                i += 2
            elif line.startswith(quote, i):
                i, quote = i + len(quote), None
            else:
                i += 1
            continue
        if char == "#":
            break
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        elif char in "'\"":
            quote = char * 3 if line.startswith(char * 3, i) else char
            i += len(quote)
            continue
        elif char == "\\" and i == n - 1:
            return depth, None, True
        i += 1
    if quote and len(quote) == 1 and not escaped_end:
        quote = None  # an unterminated one-line string ends with its line (a syntax error, not ours to report)
    return depth, quote, False
