"""A submission cut down to what defines things, for when its top-level code runs too long.

Learners leave experiments at the top of a file or notebook: a sweep of learning
rates, a training run, plots. When loading the file does not finish in time, it is
loaded again with only the statements that define things, and graded on that:

- imports, `def` and `class` statements (their bodies do not run when defined);
- assignments whose value is built from literals, names already defined, operators,
  subscripts, attributes, lambdas and calls of imported functions (`np.zeros(3)`,
  `np.random.default_rng(0)`) or of a few builtins that call nothing of the
  learner's (`range`, `len`, `float`...), never of a function the learner defined and
  never handing one over (`np.apply_along_axis(train, ...)` is an experiment);
- docstrings and bare names, and `if`/`try` statements holding only the above.

Everything else at the top level (loops, calls, `with` blocks, prints, plots) is
replaced by `pass`, keeping every line where it was, and listed as skipped. In a .py
file an `if __name__ == "__main__":` block never runs (the grader does not run the file
as __main__), so it is neither run nor listed.
"""

import ast
import builtins
from dataclasses import replace

from .parsing import parsed
from .source_edits import replace_nodes

# Builtins that build or inspect values without calling anything the learner wrote.
_SAFE_BUILTINS = frozenset(
    "abs bool complex dict divmod enumerate float frozenset int isinstance len list print range repr round "
    "set slice str tuple zip".split()
)
_MAX_LISTED = 50  # skipped statements listed in a report; the rest are counted


class _Scope:
    """The names bound so far by kept statements: by imports, by the learner's code, by values."""

    def __init__(self):
        self.imported, self.learner, self.values = set(), set(), set()

    def bound(self, name):
        return name in self.imported or name in self.learner or name in self.values

    def defined(self, name):
        return self.bound(name) or hasattr(builtins, name)

    def copy(self):
        saved = _Scope()
        saved.imported, saved.learner, saved.values = set(self.imported), set(self.learner), set(self.values)
        return saved

    def bind(self, target, kind):
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                getattr(self, kind).add(node.id)
                for other in ("imported", "learner", "values"):
                    if other != kind:
                        getattr(self, other).discard(node.id)


def _root(node):
    """The name an attribute chain starts from: np for np.random.default_rng(0).standard_normal."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _mentions_learner(nodes, scope):
    """Whether any of `nodes` names something the learner defined (a function handed over, or aliased)."""
    return any(isinstance(sub, ast.Name) and sub.id in scope.learner for node in nodes for sub in ast.walk(node))


def _kind(value, scope):
    """What a name bound to `value` holds: the learner's code (a lambda, an alias of a function) or a value."""
    return "learner" if isinstance(value, ast.Lambda) or _mentions_learner([value], scope) else "values"


def _safe_value(node, scope):
    """Whether evaluating `node` only builds values: no call of the learner's code, no loop."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return scope.defined(node.id)
    if isinstance(node, ast.Lambda):
        defaults = node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
        return all(_safe_value(d, scope) for d in defaults)  # the body runs only when called
    if isinstance(node, ast.Call):
        # A library's function, a method of a value built from one (rng.standard_normal, np.zeros(3).reshape),
        # or a plain builtin; never with the learner's code among its arguments.
        func, library = node.func, False
        if isinstance(func, ast.Name):
            library = func.id in scope.imported or func.id in scope.values
            library |= func.id in _SAFE_BUILTINS and not scope.bound(func.id)
        elif isinstance(func, ast.Attribute):
            library = _root(func) in (scope.imported | scope.values) and _safe_value(func.value, scope)
        arguments = node.args + [keyword.value for keyword in node.keywords]
        return library and not _mentions_learner(arguments, scope) and all(_safe_value(arg, scope) for arg in arguments)
    if isinstance(node, (ast.Attribute, ast.Starred)):
        return _safe_value(node.value, scope)
    if isinstance(node, ast.Subscript):
        return _safe_value(node.value, scope) and _safe_value(node.slice, scope)
    if isinstance(node, ast.Slice):
        return all(_safe_value(part, scope) for part in (node.lower, node.upper, node.step) if part is not None)
    if isinstance(node, ast.BinOp):
        return _safe_value(node.left, scope) and _safe_value(node.right, scope)
    if isinstance(node, ast.UnaryOp):
        return _safe_value(node.operand, scope)
    if isinstance(node, ast.BoolOp):
        return all(_safe_value(value, scope) for value in node.values)
    if isinstance(node, ast.Compare):
        return all(_safe_value(value, scope) for value in [node.left, *node.comparators])
    if isinstance(node, ast.IfExp):
        return all(_safe_value(value, scope) for value in (node.test, node.body, node.orelse))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_safe_value(value, scope) for value in node.elts)
    if isinstance(node, ast.Dict):
        return all(_safe_value(value, scope) for value in node.keys + node.values if value is not None)
    if isinstance(node, ast.JoinedStr):
        return all(_safe_value(value, scope) for value in node.values)
    if isinstance(node, ast.FormattedValue):
        return _safe_value(node.value, scope) and (node.format_spec is None or _safe_value(node.format_spec, scope))
    return False  # comprehensions, await, yield, walrus...


def _target_ok(target, scope):
    """A plain name (or tuple of them) is bound; `d[k] = v` and `obj.x = v` need obj defined already."""
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, (ast.Tuple, ast.List)):
        return all(_target_ok(item, scope) for item in target.elts)
    if isinstance(target, ast.Starred):
        return _target_ok(target.value, scope)
    if isinstance(target, (ast.Attribute, ast.Subscript)):
        return _safe_value(target, scope)
    return False


def is_main_guard(node):
    """`if __name__ == "__main__":`, which never runs in a graded .py file."""
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _keeps(node, scope):
    """Whether the top-level statement `node` only defines things; binds what it defines in `scope`."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            if alias.name != "*":
                scope.bind(ast.Name(alias.asname or alias.name.split(".")[0]), "imported")
        return True
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        scope.bind(ast.Name(node.name), "learner")
        return True
    if isinstance(node, (ast.Pass, ast.Global)):
        return True
    if isinstance(node, ast.Expr):
        return isinstance(node.value, (ast.Constant, ast.Name)) and _safe_value(node.value, scope)
    if isinstance(node, ast.Assign):
        if not (_safe_value(node.value, scope) and all(_target_ok(target, scope) for target in node.targets)):
            return False
        kind = _kind(node.value, scope)
        for target in node.targets:
            scope.bind(target, kind)
        return True
    if isinstance(node, ast.AnnAssign):
        if node.value is not None and not _safe_value(node.value, scope) or not _target_ok(node.target, scope):
            return False
        if node.value is not None:
            scope.bind(node.target, _kind(node.value, scope))
        return True
    if isinstance(node, ast.AugAssign):
        return _safe_value(node.target, scope) and _safe_value(node.value, scope)
    if isinstance(node, ast.If):
        return _safe_value(node.test, scope) and all(_keeps(child, scope) for child in node.body + node.orelse)
    if isinstance(node, ast.Try):
        handlers = [child for handler in node.handlers for child in handler.body]
        return all(_keeps(child, scope) for child in node.body + handlers + node.orelse + node.finalbody)
    return False


def _keeps_within_stack(node, scope):
    """_keeps, where a statement nested deeper than the stack allows (`x = 1 + 1 + ...` of thousands
    of terms recurses once per term) is not kept: what it binds is not bound either."""
    saved = scope.copy() if isinstance(node, (ast.If, ast.Try)) else None  # the only ones that bind part-way
    try:
        return _keeps(node, scope)
    except RecursionError:
        if saved is not None:
            scope.imported, scope.learner, scope.values = saved.imported, saved.learner, saved.values
        return False


def _where(chunk, node, lines):
    span = f"line {node.lineno}" if node.end_lineno == node.lineno else f"lines {node.lineno}-{node.end_lineno}"
    first = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
    first = first if len(first) <= 60 else first[:57] + "..."
    return f"{chunk.filename}, {span}: {first}"


def definitions_only(submission):
    """(the submission with only its defining top-level statements, [each skipped one: where and its first line])."""
    scope = _Scope()
    chunks, skipped = [], []
    for chunk in submission.chunks:
        tree = parsed(chunk.code, chunk.filename)
        if tree is None:
            chunks.append(chunk)  # it does not compile, so it runs nothing: it raises as it did
            continue
        lines = chunk.code.split("\n")
        cut = []
        for node in tree.body:
            if not submission.is_notebook and is_main_guard(node):
                continue
            if not _keeps_within_stack(node, scope):
                cut.append(node)
                skipped.append(_where(chunk, node, lines))
        chunks.append(
            replace(chunk, code=replace_nodes(chunk.code, [(node, "pass") for node in cut])) if cut else chunk
        )
    if len(skipped) > _MAX_LISTED:
        skipped = skipped[:_MAX_LISTED] + [f"... and {len(skipped) - _MAX_LISTED} more statements"]
    return replace(submission, chunks=tuple(chunks)), skipped


def defined_functions(submission):
    """The names the submission's top-level code binds to functions (`def`, or a lambda), in any chunk."""
    names = set()
    for chunk in submission.chunks:
        tree = parsed(chunk.code, chunk.filename)
        if tree is None:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
                names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names
