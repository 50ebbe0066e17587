"""Code similarity within a class, and against known solutions: evidence for a human, never a score.

Each submission's code (a notebook: its code cells, as graded) is cut into Python tokens
(`tokenize`) and normalized so that what a copier changes cheaply does not count:
comments, blank lines, docstrings and layout are dropped; every name becomes N, except
an attribute after a dot (`.sum`, `.T`: the library's API, which a renamer leaves alone);
every number becomes #, every string S. Fingerprints are winnowed hashes of K consecutive
tokens (Schleimer, Wilkerson and Aiken, SIGMOD 2003, as MOSS does): in every window of W
consecutive k-gram hashes the smallest is kept, so any run of W + K - 1 identical tokens
shares at least one fingerprint, wherever it sits in either file (moved functions too).

The stub's fingerprints (the exercise's template, which every student starts from) are
removed from every file. A pair's share of one side is the part of that side's remaining
fingerprints that the other side has too; it is listed when one side's share reaches
THRESHOLD and the shared code holds a run of MIN_MATCHED_TOKENS tokens on both sides (a
few shared idioms make short runs; a copied function makes a long one).

An inverted index (fingerprint -> submissions) nominates the pairs to score: those that
share a fingerprint found in at most common_limit(n) submissions. A fingerprint that many
students have is no evidence that two of them copied (MOSS's -m), and skipping it keeps
the work linear in the class size rather than in its number of pairs
(benchmarks/similarity.py). A file copied by more students than that limit shares no rare
fingerprint with its copies and is found only against a known solution (--known), where
every fingerprint nominates.
"""

import io
import json
import keyword
import tokenize
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from ..reading.submission import SubmissionError, parsed_notebook_chunks

K = 10  # tokens per k-gram
WINDOW = 5  # k-grams per winnowing window: any match of WINDOW + K - 1 = 14 tokens is seen
THRESHOLD = 0.7  # a pair is listed when either side shares at least this part of its fingerprints
MIN_MATCHED_TOKENS = 40  # ... and the shared code holds a run this long on both sides (about 4 lines)
MAX_CODE_CHARS = 200_000  # code compared per submission; past it, cut (a softmax solution is ~2,000)
SKIPPED_TOKENS = frozenset(
    {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER, tokenize.TYPE_COMMENT}
)


COMMON_MOST = 50  # the most submissions a fingerprint may be in and still nominate pairs


def common_limit(count):
    """Class submissions a fingerprint may be in and still nominate the pairs that share it: 10 (MOSS's
    default -m), a tenth of the class, at most COMMON_MOST (so that the work stays linear in the class)."""
    return min(max(10, count // 10), COMMON_MOST)


@dataclass(frozen=True)
class Source:
    """One file's code as compared and shown: `text` (a notebook's code cells, each under a comment
    line naming it), its normalized tokens and where each sits in `text`."""

    name: str
    text: str
    tokens: tuple = ()
    spans: tuple = ()  # (start, end) character offsets of each token in `text`
    note: str = ""  # why less than the whole file was compared ("" when all of it was)


def read_source(name, filename, data):
    """The Source of a file's bytes (.py or .ipynb). Total: bytes that are not UTF-8 are read with
    U+FFFD in their place, code that does not tokenize is compared up to where it stops, a notebook
    that is not one gives an empty Source with a note."""
    text = bytes(data).decode("utf-8-sig", errors="replace")
    note = ""
    if Path(filename).suffix == ".ipynb":
        try:
            chunks = parsed_notebook_chunks(json.loads(text), Path(filename).name)
        except (ValueError, RecursionError, SubmissionError, AttributeError, TypeError):
            return Source(name, "", note="not compared: not a notebook whose code cells could be read")
        parts = [(f"# cell {chunk.cell}\n", chunk.code) for chunk in chunks]
    else:
        parts = [("", text)]
    shown, tokens, spans, size = [], [], [], 0
    for header, code in parts:
        code = code.replace("\r\n", "\n")
        if size + len(header) + len(code) > MAX_CODE_CHARS:
            code = code[: max(0, MAX_CODE_CHARS - size - len(header))]
            note = f"compared only the first {MAX_CODE_CHARS:,} characters of code"
        start = size + len(header)
        for kind, (a, b) in _normalized(code):
            tokens.append(kind)
            spans.append((start + a, start + b))
        shown.append(header + code + ("" if code.endswith("\n") else "\n"))
        size += len(shown[-1])
        if note:
            break
    return Source(name, "".join(shown), tuple(tokens), tuple(spans), note)


def _normalized(code):
    """(token, (start, end)) pairs of `code`, normalized (module docstring). Never raises: code that
    stops tokenizing (a syntax error, an unclosed bracket) is taken up to there."""
    starts = [0, 0]  # starts[row]: where line `row` (1-based, as tokenize counts) starts in `code`
    for line in io.StringIO(code):
        starts.append(starts[-1] + len(line))
    starts.append(starts[-1])  # the DEDENTs and ENDMARKER after the last line

    def offset(position):
        return starts[position[0]] + position[1]

    raw = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            raw.append(token)
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    out, depth, line_start, previous = [], 0, True, ""
    pending = []  # a statement's leading strings: dropped if the statement is only strings (a docstring)
    for token in raw:
        kind, string = token.type, token.string
        if kind in SKIPPED_TOKENS:
            continue
        name = tokenize.tok_name.get(kind, "")
        if name == "FSTRING_START":  # Python 3.12: an f-string is many tokens; one S here
            depth += 1
            if depth == 1:
                f_start = token.start
            continue
        if depth:
            if name == "FSTRING_END":
                depth -= 1
                if not depth:
                    item = ("S", (offset(f_start), offset(token.end)))
                    (pending if line_start or pending else out).append(item)
                    previous = "S"
            continue
        span = (offset(token.start), offset(token.end))
        if kind == tokenize.STRING:
            (pending if line_start or pending else out).append(("S", span))
            previous = "S"
            continue
        if pending:
            strings, pending = pending, []
            if kind == tokenize.NEWLINE:  # a statement of strings only: dropped with its end, as a comment is
                continue
            out.extend(strings)
        if kind == tokenize.NAME:
            text = f".{string}" if previous == "." else string if keyword.iskeyword(string) else "N"
            if previous == ".":  # the dot and the attribute are one token
                span = (out.pop()[1][0], span[1])
        elif kind == tokenize.NUMBER:
            text = "#"
        elif kind == tokenize.NEWLINE:
            text = ";"
        elif kind == tokenize.INDENT:
            text = "{"
        elif kind == tokenize.DEDENT:
            text = "}"
        elif string.strip():
            text = string
        else:
            continue
        out.append((text, span))
        previous = text
        line_start = kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    return out


_IDS = {}


def _token_id(token):
    found = _IDS.get(token)
    if found is None:
        found = _IDS[token] = zlib.crc32(token.encode("utf-8", "surrogatepass"))
    return found


@dataclass(frozen=True)
class Fingerprints:
    positions: dict  # hash -> tuple of k-gram starts (token indices)
    tokens: int


def fingerprints(source, k=K, window=WINDOW):
    """The winnowed k-gram hashes of a Source's tokens, with where each k-gram starts (robust
    winnowing: the rightmost smallest hash of each window, recorded once per run of windows)."""
    ids = [_token_id(token) for token in source.tokens]  # hash() of a str changes from run to run
    grams = [hash(tuple(ids[i : i + k])) for i in range(len(ids) - k + 1)]
    positions = defaultdict(list)
    if grams and len(grams) < window:
        chosen = min(range(len(grams)), key=lambda i: (grams[i], -i))
        positions[grams[chosen]].append(chosen)
    last = -1
    for left in range(len(grams) - window + 1):
        best = left
        for i in range(left + 1, left + window):
            if grams[i] <= grams[best]:
                best = i
        if best != last:
            positions[grams[best]].append(best)
            last = best
    return Fingerprints({h: tuple(p) for h, p in positions.items()}, len(source.tokens))


@dataclass(frozen=True)
class Pair:
    first: str  # a student
    second: str  # a student, or a known file's path under --known
    known: bool
    first_share: float
    second_share: float
    matched_tokens: int  # tokens of the first side under shared k-grams
    shared: frozenset = field(default=frozenset(), repr=False)  # the shared fingerprints


@dataclass
class Comparison:
    pairs: list  # listed Pairs, most similar first
    compared: int  # class submissions compared
    known: int  # known files compared against
    common: int  # fingerprints left out as common code
    limit: int  # common_limit of this class
    stub: bool  # whether the stub's fingerprints were removed
    notes: dict  # name -> why less than its whole file was compared
    shown: list = field(default_factory=list)  # (Pair, Source, Source) a page shows side by side


def compare(sources, known=(), stub=None, threshold=THRESHOLD, min_tokens=MIN_MATCHED_TOKENS):
    """Listed Pairs among `sources` (an iterable of Sources, one per student) and between each of
    them and each of `known` (Sources named by path); `stub`: the exercise's template, or None."""
    prints, notes = {}, {}
    for source in sources:
        prints[source.name] = fingerprints(source)
        if source.note:
            notes[source.name] = source.note
    known_prints = {source.name: fingerprints(source) for source in known}
    stubbed = set(fingerprints(stub).positions) if stub is not None else set()
    # In name order, so that a pair's first side is the same whatever order the files came in.
    own = {name: set(prints[name].positions) - stubbed for name in sorted(prints)}
    counts = Counter(h for hashes in own.values() for h in hashes)
    limit = common_limit(len(own))
    common = {h for h, count in counts.items() if count > limit}

    # Candidates: pairs that share a fingerprint that is not common. Only those are scored, so the work
    # grows with the class times the limit, not with its number of pairs.
    candidates = set()
    index = defaultdict(list)  # fingerprint -> the class submissions that have it
    for name, hashes in own.items():
        for h in hashes:
            index[h].append(name)
    for names in index.values():
        if 1 < len(names) <= limit:
            candidates.update(combinations(names, 2))  # in name order
    pairs = [
        pair
        for a, b in candidates
        for pair in [_pair(a, b, False, own[a], own[b], prints[a], prints[b], threshold, min_tokens)]
        if pair
    ]
    for path, fp in known_prints.items():  # every fingerprint nominates here, commons too: a public file many copied
        k_own = set(fp.positions) - stubbed
        hits = Counter(name for h in k_own for name in index.get(h, ()))  # how many each student shares
        for name, count in hits.items():
            if count < threshold * min(len(own[name]), len(k_own)):
                continue
            pair = _pair(name, path, True, own[name], k_own, prints[name], fp, threshold, min_tokens)
            if pair:
                pairs.append(pair)
    pairs.sort(key=lambda p: (-max(p.first_share, p.second_share), -p.matched_tokens, p.first, p.second))
    return Comparison(pairs, len(own), len(known_prints), len(common), limit, stub is not None, notes)


def _pair(a, b, known, a_own, b_own, a_print, b_print, threshold, min_tokens):
    """The Pair of a and b if one shares `threshold` of its fingerprints with the other and the
    shared code holds a run of at least `min_tokens` tokens on both sides, else None."""
    both = a_own & b_own
    if not both:
        return None
    first, second = len(both) / len(a_own), len(both) / len(b_own)
    if max(first, second) < threshold:
        return None
    a_runs, b_runs = token_runs(a_print, both), token_runs(b_print, both)
    if min(max(end - start for start, end in runs) for runs in (a_runs, b_runs)) < min_tokens:
        return None
    return Pair(a, b, known, first, second, sum(end - start for start, end in a_runs), frozenset(both))


def token_runs(prints, hashes, k=K):
    """The runs of tokens [start, end) covered by the k-grams of `hashes`, merged, in order."""
    starts = sorted(p for h in hashes for p in prints.positions.get(h, ()))
    runs = []
    for p in starts:
        if runs and p <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], p + k)
        else:
            runs.append([p, p + k])
    return [(start, min(end, prints.tokens)) for start, end in runs]


def matched_regions(first, second, pair):
    """Character regions of the two Sources that the pair shares: ([(start, end, n)], [(start, end, n)]),
    n numbering the first side's regions, and each region of the second side numbered as the first
    side's region its first shared k-gram is in, so that a page can colour them alike."""
    a_print, b_print = fingerprints(first), fingerprints(second)
    a_runs = token_runs(a_print, pair.shared)
    b_runs = token_runs(b_print, pair.shared)

    def run_of(runs, position):
        return next((n for n, (start, end) in enumerate(runs) if start <= position < end), 0)

    a_regions = [(*_chars(first, start, end), n) for n, (start, end) in enumerate(a_runs)]
    b_regions = []
    for start, end in b_runs:
        at = next(
            (h for h in pair.shared for p in b_print.positions.get(h, ()) if start <= p < end),
            None,
        )
        n = run_of(a_runs, a_print.positions[at][0]) if at in a_print.positions else 0
        b_regions.append((*_chars(second, start, end), n))
    return a_regions, b_regions


def _chars(source, start, end):
    return source.spans[start][0], source.spans[end - 1][1]
