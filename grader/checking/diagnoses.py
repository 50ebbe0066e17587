"""The named mistakes the grader can diagnose, each with a hint tied to the math.

Exercises may override a hint per task (Task.hints) to speak of that task's formula.
"""

HINTS = {
    # Named mistakes, found by comparing the result with transformations of the right one.
    "missing_keepdims": "sum with keepdims=True so the summed axis stays as length 1 and the result broadcasts "
    "like b (1,k)",
    "wrong_axis": "reduce over the right axis: axis 0 runs over the m examples, axis 1 over the k classes",
    "transposed": "the result is the transpose of the right one: check the order of the operands in the product",
    "not_averaged": "J is the mean over m examples, so its gradient carries a factor 1/m: divide by m",
    "double_averaged": "the 1/m is applied twice: divide by m exactly once (it already sits in dZ = (P - Y)/m)",
    "whole_columns": "G[:, y] -= 1 subtracts 1 from every row of each label's column; subtract it from one "
    "entry per row, the true class: G[np.arange(m), y] -= 1",
    "off_by_one_class": "labels are class indices from 0 to k-1, the column numbers of P as they are: subtract 1 "
    "at G[np.arange(m), y], with no shift of y",
    "missing_subtract_one": "d(-log p_y)/dz_j = p_j - [j = y]: subtract 1 at the true class, then divide by m",
    "sign_flipped": "the result has the wrong sign: a gradient points uphill, dJ/dZ = (P - Y)/m, not (Y - P)/m",
    "unstable_softmax": "exp(1000) overflows to inf: subtract each row's maximum from Z before exp "
    "(softmax(z) = softmax(z - c) for any constant c)",
    "not_normalized": "probabilities are exp(Z) divided by each row's sum: every entry >= 0 and every row sums to 1",
    "input_mutated": "the function changed an input array in place: work on a copy (e.g. G = P.copy())",
    "wrong_mask": "relu passes gradient where its input was positive: dZ = dA * (Z > 0), with Z the "
    "pre-activation the forward pass fed to that same ReLU (not dA, not another layer's Z)",
    "wrong_layer_order": "go back through the layers last to first, and at each one use what that layer "
    "cached in the forward pass: layer l needs A_{l-1} and, for the ReLU below it, Z_{l-1}",
    "missing_regularization": "the loss has the penalty 0.5 * reg * sum(W**2) over every W, so each "
    "dW gets + reg * W (and the loss gets the penalty)",
    "double_regularization": "add the penalty once: 0.5 * reg * sum(W**2) in the loss, + reg * W in each dW "
    "(the 0.5 cancels the 2 of the derivative)",
    "half_penalty": "courses write the L2 penalty two ways: 0.5 * reg * sum(W**2) with gradient reg * W, or "
    "reg * sum(W**2) with gradient 2 * reg * W; the loss and its gradients must use the same one, and here it is "
    "the first: 0.5 * reg * sum(W**2) in the loss, + reg * W in each dW",
    "regularized_bias": "only the weights are penalised: no reg * b in db, no b**2 in the loss",
    "low_accuracy": "train longer or with a larger learning rate, and check the initialisation "
    "(W ~ standard_normal * sqrt(2 / n_in), biases 0); loss_and_grads must pass first",
    "wrong_keys": "use exactly the keys W1, b1, ..., WL, bL, one pair per layer",
    # The signature, read from the source: the arguments are passed by position, in the task's order.
    "swapped_parameters": "the grader passes the arguments by position, in the order of the task's signature: "
    "write your parameters in that order",
    "renamed_parameters": "a name the body uses but the function does not take is looked up outside it (here "
    "another of your functions or variables): name the parameters as the task's signature does",
    "missing_parameters": "take every parameter of the task's signature, in its order",
    "extra_parameters": "the grader passes exactly the task's arguments: remove the other parameters, or give "
    "them a default",
    # Generic codes, when no named mistake fits.
    "shape_mismatch": "compare the shape with the docstring; read sizes from the inputs' .shape instead of "
    "hard-coding them",
    "nan_or_inf": "the result holds NaN or inf: look for exp of a large number, log(0) or a division by zero",
    "wrong_value": "no common mistake matches: compare your formula with the docstring term by term, "
    "starting at the worst entry shown",
    "wrong_type": "return a numpy array (np.ndarray): did you forget `return`, or return a list?",
    "exception": "read the error and the line it points to",
    "not_implemented": "replace the `raise NotImplementedError` line with your code",
    "missing_function": "define a function with exactly this name and these parameters",
    "timeout": "the function did not return in time: look for a loop that never ends",
    "crashed": "the process running your code died: remove sys.exit/os._exit calls and huge allocations",
    "out_of_memory": "the process passed its memory limit (--memory): look for an array far larger than the "
    "inputs, such as an (m, m) matrix, a copy in a loop, or a huge broadcast view returned",
    "killed": "this is not a mistake in your code: grade it again (grade batch does so on its next run)",
    "autodiff_used": "backpropagation is the exercise: write each gradient with numpy, applying the chain rule "
    "step by step as the docstrings say, and remove the import (an autodiff library computes them for you)",
    "import_error": "the file must run from top to bottom without error before any function can be graded",
    "refused": "the file was not read: a submission must be a regular file in the class directory, not a link",
}

# While the file itself runs (before any function is called), a timeout means the top-level code.
AT_LOAD = {
    "timeout": "the code outside your functions (a training run, a loop) must finish before any function can be graded",
}


# A .py file that stops at its top level on what only the learner's own machine has (by the error's type):
# where such code goes so that the file still runs alone. The grader never runs a main guard.
_ONLY_YOURS = 'under `if __name__ == "__main__":` at the end of the file, which the grader never runs'
LOAD_ERRORS = {
    "FileNotFoundError": "the grader runs the file alone, without your data files: load data only " + _ONLY_YOURS,
    "EOFError": "the grader runs the file with no keyboard, so input() gets nothing: ask for input only " + _ONLY_YOURS,
    "ModuleNotFoundError": "the grader runs the file with Python's standard library, numpy and matplotlib only: "
    "compute with numpy, and import other modules only " + _ONLY_YOURS,
}


def hint(code, task=None, at_load=False):
    """The hint for `code`, preferring the task's own wording."""
    if at_load and code in AT_LOAD:
        return AT_LOAD[code]
    if task is not None and code in task.hints:
        return task.hints[code]
    return HINTS.get(code, "")
