"""The similarity pass of report.html on generated softmax classes: time, and how it grows with the class.

    python benchmarks/similarity.py [--sizes 125 250 500 1000] [--copies 0.05] [--copydetect]

Each class is written to disk and compared the way `grade batch` does it
(class_report.compare_class: read every file again, tokenize, winnow, index, list pairs),
against the stub and the known solutions of tests/similarity_class/known. An honest
student picks, for each step of each function, one of the idioms students use for it (STEPS),
with names of their own, the functions in any order, comments and blank lines at random; a
share of the students (--copies) hand in a classmate's file with its names renamed and
comments added. Printed: the time, the pairs listed and how many planted copies are among them. Target:
500 students in under 30 s on this 2-core machine (the pass runs on one core).

--copydetect also times the copydetect package (pip install copydetect) on the same files,
if it is installed: all pairs, its own tokenizer (pygments), the stub as boilerplate.
"""

import argparse
import io
import keyword
import random
import tempfile
import time
import tokenize
from pathlib import Path

from grader.classroom import batch, class_report

ROOT = Path(__file__).resolve().parent.parent
CLASS = ROOT / "tests" / "similarity_class"
KEEP = {"np", "numpy", "X", "W", "b", "P", "y", "dZ", "range", "len", "float", "int", "forward", "dW", "db"}


# Each function is a sequence of steps; each step has several idioms students use for it. An honest
# student picks one idiom per step and names of their own: two honest students share idioms (short
# runs of tokens), rarely a whole function.
STEPS = {
    "forward": [
        [
            "{Z} = X @ W + b",
            "{Z} = np.dot(X, W) + b",
            "{Z} = X.dot(W) + b",
            "{Z} = np.matmul(X, W) + b",
            '{Z} = np.einsum("ij,jk->ik", X, W) + b',
        ],
        [
            "{Z} = {Z} - {Z}.max(axis=1, keepdims=True)",
            "{Z} -= np.max({Z}, axis=1, keepdims=True)",
            "{Z} = {Z} - np.amax({Z}, axis=1)[:, None]",
            "{M} = {Z}.max(1).reshape(-1, 1)\n    {Z} = {Z} - {M}",
        ],
        ["{E} = np.exp({Z})", "{E} = np.exp({Z}).astype(np.float64)", "{E} = np.power(np.e, {Z})"],
        [
            "return {E} / {E}.sum(axis=1, keepdims=True)",
            "{S} = np.sum({E}, axis=1, keepdims=True)\n    return {E} / {S}",
            "return {E} / {E}.sum(1)[:, None]",
            "{P} = {E} / np.sum({E}, axis=1).reshape(-1, 1)\n    return {P}",
        ],
    ],
    "dZ": [
        ["{m} = P.shape[0]", "{m} = len(y)", "{m}, {k} = P.shape", "{m} = y.shape[0]"],
        [
            "{G} = P.copy()\n    {G}[np.arange({m}), y] -= 1",
            "{G} = P - np.eye(P.shape[1])[y]",
            "{Y} = np.zeros_like(P)\n    {Y}[range({m}), y] = 1\n    {G} = P - {Y}",
            "{G} = P - (y[:, None] == np.arange(P.shape[1]))",
        ],
        ["return {G} / {m}", "return {G} * (1.0 / {m})", "return np.divide({G}, {m})", "{G} /= {m}\n    return {G}"],
    ],
    "dW": [
        [
            "return X.T @ dZ",
            "return np.dot(X.T, dZ)",
            "return X.T.dot(dZ)",
            "return np.matmul(X.T, dZ)",
            '{G} = np.einsum("mi,mk->ik", X, dZ)\n    return {G}',
            "return (dZ.T @ X).T",
        ],
    ],
    "db": [
        [
            "return np.sum(dZ, axis=0, keepdims=True)",
            "return dZ.sum(axis=0, keepdims=True)",
            "return dZ.sum(0)[None, :]",
            "return np.sum(dZ, axis=0).reshape(1, -1)",
            "{G} = dZ.sum(axis=0, keepdims=True)\n    return {G}",
            "return np.ones((1, dZ.shape[0])) @ dZ",
        ],
    ],
}
# Statements some students add: checks, conversions, names they do not need.
EXTRAS = {
    "forward": [
        "X = np.asarray(X, dtype=float)",
        "assert X.shape[1] == W.shape[0]",
        "{k} = W.shape[1]",
        "b = b.reshape(1, -1)",
        "{m} = X.shape[0]",
    ],
    "dZ": ["P = np.asarray(P)", "assert P.shape[0] == y.shape[0]", "y = y.astype(int)", "{k} = P.shape[1]"],
    "dW": ["assert X.shape[0] == dZ.shape[0]", "X = np.asarray(X)", "{m} = X.shape[0]"],
    "db": ["assert dZ.ndim == 2", "dZ = np.asarray(dZ)", "{k} = dZ.shape[1]"],
}
PARAMS = {"forward": "X, W, b", "dZ": "P, y", "dW": "X, dZ", "db": "dZ"}
# What a student checks or prints on the way: a line of their own (with own_lines), made of terms like these
# joined by operators, so that in a large class each student still has some code nobody else wrote.
TERMS = [
    ".shape[0]",
    ".shape[1]",
    ".T.sum()",
    ".max()",
    ".min()",
    ".mean(axis=0).sum()",
    ".ndim",
    ".size",
    ".std()",
    ".sum(axis=1).max()",
    "[0].sum()",
    ".ravel()[0]",
    ".any()",
    ".all()",
    ".var()",
    ".argmax()",
    "[:, 0].sum()",
    ".cumsum()[-1]",
    ".round(3).sum()",
    ".clip(0, 1).mean()",
]
WORDS = "z s scores logits a e ex exps p probs g grad grads d delta m n count num y1 onehot t tot total mx peak".split()


def honest(rng, own_lines=0):
    """One honest student's file: an idiom per step, their own names, functions in their own order;
    own_lines: that many lines of their own, each in a function picked at random."""
    functions = []
    owners = [rng.choice(list(STEPS)) for _ in range(own_lines)]
    for name, steps in STEPS.items():
        names = {key: rng.choice(WORDS) + rng.choice(["", "_", "2", "_mat"]) for key in "ZMESPmkGY"}
        lines = [rng.choice(options) for options in steps]
        for extra in rng.sample(EXTRAS[name], rng.randrange(3)):  # before the step that returns
            lines.insert(rng.randrange(len(lines)), extra)
        for _ in range(owners.count(name)):
            lines.insert(rng.randrange(len(lines)), own_line(rng, PARAMS[name].split(", ")))
        body = "\n    ".join(line.format(**names) for line in lines)
        functions.append(f"def {name}({PARAMS[name]}):\n    {body}\n")
    rng.shuffle(functions)
    return decorated("import numpy as np\n\n\n" + "\n\n".join(functions), rng)


def own_line(rng, params):
    """A line nobody else is likely to write: five terms on the function's parameters, random operators."""
    terms = [rng.choice(params) + rng.choice(TERMS) for _ in range(5)]
    expression = terms[0] + "".join(f" {rng.choice('+-*/')} {term}" for term in terms[1:])
    return f"{rng.choice(WORDS)}_check = {expression}"


def renamed(code, rng):
    """`code` with every local name (not a keyword, a module, a builtin or a task's name) renamed."""
    names = {}
    out, previous = [], None
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        string = token.string
        if token.type == tokenize.NAME and not keyword.iskeyword(string) and string not in KEEP and previous != ".":
            if string not in names:
                names[string] = f"{rng.choice(WORDS)}{len(names)}"
            string = names[string]
        out.append((token.type, string))
        previous = token.string
    return tokenize.untokenize(out)


def decorated(code, rng):
    """Comments and blank lines added at random, as students write them."""
    lines = []
    for line in code.split("\n"):
        if line.strip() and rng.random() < 0.2:
            lines.append(line[: len(line) - len(line.lstrip())] + f"# step {rng.randrange(100)}")
        lines.append(line)
        if rng.random() < 0.05:
            lines.append("")
    return "\n".join(lines)


def make_class(directory, size, copies, seed=0, own_lines=0):
    """`size` files in `directory`; returns the planted pairs {(copy, original)}. own_lines: lines of
    their own each honest student writes (honest)."""
    rng = random.Random(seed)
    planted = set()
    for number in range(size):
        path = directory / f"s{number:05}.py"
        if number and rng.random() < copies:
            original = rng.randrange(number)
            planted.add((f"s{original:05}", path.stem))
            code = decorated(renamed((directory / f"s{original:05}.py").read_text(), rng), rng)
        else:
            code = honest(rng, own_lines)
        path.write_text(code)
    return planted


def clusters(planted):
    """{student: the original of their cluster}: copies of one file, and copies of copies, are all copies."""
    root = {}

    def find(name):
        while root.get(name, name) != name:
            name = root[name]
        return name

    for original, copy in sorted(planted):
        root[find(copy)] = find(original)
    return {name: find(name) for pair in planted for name in pair}


def time_pass(directory):
    items = batch.discover(directory, "softmax")
    start = time.perf_counter()
    comparison, _ = class_report.compare_class(items, CLASS / "known", ROOT / "exercises" / "softmax.py")
    return time.perf_counter() - start, comparison


def time_copydetect(directory):
    try:
        from copydetect import CopyDetector
    except ImportError:
        return None
    start = time.perf_counter()
    detector = CopyDetector(
        test_dirs=[str(directory)],
        ref_dirs=[str(directory), str(CLASS / "known")],
        boilerplate_dirs=[str(ROOT / "exercises")],
        extensions=["py"],
        display_t=0.5,
        silent=True,
        autoopen=False,
    )
    detector.run()
    return time.perf_counter() - start, len(detector.get_copied_code_list())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[125, 250, 500, 1000])
    parser.add_argument("--copies", type=float, default=0.05, help="share of students who copy a classmate")
    parser.add_argument("--copydetect", action="store_true", help="also time copydetect, if installed")
    args = parser.parse_args()
    previous = None
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as temporary:
            directory = Path(temporary)
            planted = make_class(directory, size, args.copies)
            seconds, comparison = time_pass(directory)
            listed = {(pair.first, pair.second) for pair in comparison.pairs if not pair.known}
            found = sum(1 for pair in planted if pair in listed)
            cluster = clusters(planted)
            honest = sum(1 for a, b in listed if cluster.get(a, a) != cluster.get(b, b))
            growth = f", x{seconds / previous[1]:.2f} for x{size / previous[0]:.1f} students" if previous else ""
            print(
                f"{size} students: {seconds:.2f} s ({1000 * seconds / size:.1f} ms each){growth}; "
                f"{len(comparison.pairs)} pairs listed: {found} of the {len(planted)} planted copies, "
                f"{honest} pairs not copied from each other; "
                f"{comparison.common} common fingerprints (in more than {comparison.limit} files)"
            )
            previous = (size, seconds)
            if args.copydetect:
                found = time_copydetect(directory)
                print(f"  copydetect: {'not installed' if found is None else f'{found[0]:.2f} s, {found[1]} pairs'}")


if __name__ == "__main__":
    main()
