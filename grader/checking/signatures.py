"""The learner's parameters against the task's, read from the source (never by calling).

The grader passes a task's arguments by position, in the order of its signature. A function
whose parameters are swapped (`def dW(dZ, X)` for dW(X, dZ)) computes with each argument in
the other's place, and one whose parameter was renamed while the body kept the task's name
(`def db(dz)` returning np.sum(dZ, ...)) reads whatever that name is outside the function.
The value checks would then name a mistake in the math (`transposed`, `wrong_type`) that is
not there; so a failing task whose signature does not match gets the parameter mistake,
with both signatures. A task that passes is never touched: the names are the learner's.
"""

import ast

from ..reading.definitions import is_main_guard
from ..reading.parsing import parsed
from .spec import Verdict

# The task failed before its value could say anything about the parameters: the code did not run,
# was not written, or was not graded.
_NOT_ABOUT_PARAMETERS = {
    "not_implemented",
    "missing_function",
    "import_error",
    "killed",
    "autodiff_used",
    "refused",
    "crashed",
    "out_of_memory",
    "timeout",
}


def defined_functions(submission):
    """{name: ast.FunctionDef} of the top-level functions, the last definition of each name in the order
    the chunks run (a notebook's cells, in order); chunks that do not parse are left out."""
    found = {}
    for chunk in submission.chunks:
        tree = parsed(chunk.code)
        if tree is None:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = node
    return found


_SHOWN = 200  # characters of a signature shown: its defaults are the learner's text, of any size


def _shown(node):
    try:
        text = f"def {node.name}({ast.unparse(node.args)})"
    except RecursionError:  # a default nested deeper than the stack (`b=1+1+...`, thousands of terms)
        text = f"def {node.name}({', '.join(arg.arg for arg in ast.walk(node.args) if isinstance(arg, ast.arg))})"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 4] + "...)"


def parameter_verdict(task, node):
    """A Verdict naming the parameter mistake of the learner's `def` NODE for TASK, or None."""
    arguments = node.args
    positional = [arg.arg for arg in [*arguments.posonlyargs, *arguments.args]]
    required = len(positional) - len(arguments.defaults)
    wanted = list(task.params)
    yours, theirs = _shown(node), f"the task calls {task.name}({', '.join(wanted)})"
    if len(positional) < len(wanted) and arguments.vararg is None:
        missing = [name for name in wanted if name not in positional] or wanted[len(positional) :]
        return Verdict(
            f"{yours} takes {len(positional)} of the task's {len(wanted)} parameters: "
            f"{theirs}; {', '.join(missing)} missing",
            ("missing_parameters",),
        )
    if required > len(wanted):
        return Verdict(f"{yours} needs {required} arguments: {theirs}", ("extra_parameters",))
    given = positional[: len(wanted)]
    if given != wanted and sorted(given) == sorted(wanted):
        return Verdict(f"{yours} has the task's parameters in another order: {theirs}", ("swapped_parameters",))
    outside = [name for name in wanted if name not in given and name in _free_names(node)]
    if outside:
        said = ", ".join(outside)
        return Verdict(
            f"{yours}: its body uses {said}, which is not one of its parameters, so it reads {said} from "
            f"outside the function: {theirs}",
            ("renamed_parameters",),
        )
    return None


def _free_names(node):
    """Names the function's body reads without binding them itself (so from outside it)."""
    loaded, bound = set(), set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            (loaded if isinstance(inner.ctx, ast.Load) else bound).add(inner.id)
        elif isinstance(inner, ast.arg):
            bound.add(inner.arg)
    return loaded - bound


def with_parameter_mistake(result, task, node, result_for):
    """RESULT, or when it failed (wholly, after running) and NODE's parameters do not match the task's,
    the parameter mistake in its place; RESULT_FOR(verdict) makes that TaskResult."""
    if node is None or result.passed or result.score or _NOT_ABOUT_PARAMETERS & set(result.diagnoses):
        return result
    verdict = parameter_verdict(task, node)
    if verdict is None:
        return result
    seen = result.fact or next((part.fact for part in result.parts if part.fact), "")
    details = (f"with these parameters, {seen}",) if seen else ()
    return result_for(Verdict(verdict.fact, verdict.diagnoses, details))


def nested_definitions(submission):
    """{name: what it is defined inside, and where} for functions defined below the top level only
    (under `if __name__ == "__main__":`, in another function, a class): found by walking each chunk."""
    found = {}
    for chunk in submission.chunks:
        tree = parsed(chunk.code, chunk.filename)
        if tree is None:
            continue
        for outer in tree.body:
            for inner in ast.walk(outer):
                if inner is not outer and isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found.setdefault(inner.name, (_container(outer), f"{chunk.filename}, line {inner.lineno}"))
    return found


def _container(node):
    if is_main_guard(node):
        return '`if __name__ == "__main__":`'
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"`def {node.name}()`"
    if isinstance(node, ast.ClassDef):
        return f"`class {node.name}`"
    return f"a `{type(node).__name__.lower()}` block"


def with_misplaced_definition(result, task, nested, result_for):
    """RESULT, or when no top-level function had the task's name but one is defined deeper (NESTED, from
    nested_definitions), a missing_function that says where it is and how to reach the top level."""
    if "missing_function" not in result.diagnoses or task.name not in nested:
        return result
    inside, where = nested[task.name]
    if inside.startswith("`if __name__"):
        why = "which runs only when the file is run as a script: the grader imports the file, so it is never defined"
    else:
        why = "so it exists only inside it: the grader calls the file's top-level functions"
    hint = f"define {task.name} at the top level (no indentation), outside {inside}; experiments can stay inside it"
    fact = f"{task.name} is defined inside {inside} ({where}), {why}"
    return result_for(Verdict(fact, ("missing_function",), hint=hint))
