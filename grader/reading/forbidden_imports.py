"""Which forbidden modules (Task.forbidden_imports) a submission imports, read from its source.

The grader reads the code itself, never asks the learner's process: `import torch`,
`from jax import grad`, `import torch.nn as nn`, `__import__("torch")` and
`importlib.import_module("jax")` (with a literal name) anywhere in the file, in any
function, count. Such a library cannot be imported inside the sandbox anyway (it
reaches only numpy, scipy and matplotlib), so an import at the top would stop the
whole file from loading; `without_imports` removes those imports, so that the tasks
that may use anything are still graded while the others get autodiff_used.
"""

import ast
from dataclasses import replace

from .parsing import parsed
from .source_edits import replace_nodes


def _top(name):
    return name.split(".")[0] if isinstance(name, str) else None


def _imports(tree, modules):
    """[(node, module, "statement" or "expression")] for every import of one of `modules` in `tree`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node, _top(alias.name), "statement") for alias in node.names if _top(alias.name) in modules]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and _top(node.module) in modules:
                found.append((node, _top(node.module), "statement"))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("__import__", "import_module") and _top(node.args[0].value) in modules:
                found.append((node, _top(node.args[0].value), "expression"))
    return found


def _parsed(chunk):
    return parsed(chunk.code, chunk.filename)  # None: a chunk that does not compile never runs, imports nothing


def find(submission, modules):
    """{module: [where it is imported, e.g. "softmax.py, line 3"]} for the `modules` the submission imports."""
    modules = set(modules)
    found = {}
    if not modules:
        return found
    for chunk in submission.chunks:
        if not any(module in chunk.code for module in modules):  # the name is not in the text: nothing to parse
            continue
        tree = _parsed(chunk)
        for node, module, _ in sorted(_imports(tree, modules), key=lambda found: found[0].lineno) if tree else ():
            found.setdefault(module, []).append(f"{chunk.filename}, line {node.lineno}")
    return found


def without_imports(submission, modules):
    """The submission with its imports of `modules` replaced by `pass` (an __import__ call by None);
    `import numpy as np, torch` keeps `import numpy as np`."""
    modules = set(modules)
    chunks = []
    for chunk in submission.chunks:
        tree = _parsed(chunk)
        found = _imports(tree, modules) if tree is not None else []
        if not found:
            chunks.append(chunk)
            continue
        edits = {}
        for node, _, kind in found:
            kept = [alias for alias in getattr(node, "names", ()) if _top(alias.name) not in modules]
            if isinstance(node, ast.Import) and kept:
                edits[id(node)] = (node, ast.unparse(ast.Import(names=kept)))
            else:
                edits[id(node)] = (node, "pass" if kind == "statement" else "None")
        chunks.append(replace(chunk, code=replace_nodes(chunk.code, list(edits.values()))))
    return replace(submission, chunks=tuple(chunks))
