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
from array import array
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

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
    except Exception:  # noqa: BLE001 (the tokenizer's error, whatever it is: Python 3.12.1's raised SystemError
        pass  # on a NUL after a dedent, and `grade batch` exited 3 on a student's file)
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
    shared: frozenset = field(default=frozenset(), repr=False)  # the shared fingerprints (Comparison.with_shared)


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
    stubbed: set = field(default_factory=set, repr=False)  # the stub's fingerprints

    def with_shared(self, pair, first, second):
        """`pair` with its shared fingerprints, from its two Sources read again: a listed Pair does not
        keep them (a class's pairs would hold thousands of sets), only the few a page shows need them."""
        both = (set(fingerprints(first).positions) - self.stubbed) & (
            set(fingerprints(second).positions) - self.stubbed
        )
        return replace(pair, shared=frozenset(both))


def compare(sources, known=(), stub=None, threshold=THRESHOLD, min_tokens=MIN_MATCHED_TOKENS):
    """Listed Pairs among `sources` (an iterable of Sources, one per student, each looked at once) and
    between each of them and each of `known` (Sources named by path); `stub`: the exercise's template,
    or None. Memory: the class's fingerprints in flat arrays (ClassPrints), a few KB a student."""
    stubbed = set(fingerprints(stub).positions) if stub is not None else set()
    prints = ClassPrints.of(sources, stubbed)
    limit = common_limit(prints.count)
    common = prints.count_common(limit)
    # Only the pairs that share a fingerprint that is not common are scored, so the work grows with the
    # class times the limit, not with its number of pairs.
    pairs = []
    for a, b, rare in prints.candidates(limit):
        shared = rare + prints.common_shared(a, b)
        # The share test on every candidate at once (float64 division, as Python's of two ints); the
        # token runs only for those that pass it.
        shares = np.maximum(shared / prints.own_counts(a), shared / prints.own_counts(b))
        passed = np.flatnonzero((shared > 0) & (shares >= threshold))
        for i in passed.tolist():
            pair = prints.pair(int(a[i]), int(b[i]), threshold, min_tokens)
            if pair:
                pairs.append(pair)
    known_count = 0
    for source in known:  # every fingerprint nominates here, commons too: a public file many copied
        known_count += 1
        fp = fingerprints(source)
        k_own = set(fp.positions) - stubbed
        for student, count in prints.hits(k_own):  # how many of the file's fingerprints each student has
            if count < threshold * min(prints.own_count(student), len(k_own)):
                continue
            pair = prints.known_pair(student, source.name, k_own, fp, threshold, min_tokens)
            if pair:
                pairs.append(pair)
    pairs.sort(key=lambda p: (-max(p.first_share, p.second_share), -p.matched_tokens, p.first, p.second))
    return Comparison(pairs, prints.count, known_count, common, limit, stub is not None, prints.notes, stubbed=stubbed)


class ClassPrints:
    """Every class submission's fingerprints (minus the stub's) in flat numpy arrays, students in name
    order: where each k-gram of a fingerprint starts (`hashes`, `starts`, sorted by hash then start;
    student i's are [entry[i], entry[i + 1])), how many distinct ones each has (own_at), and the
    inverted index: each distinct fingerprint (`group_hash`) and its students (`index_student`,
    [group_at[g], group_at[g + 1])). About 2 KB a student kept, more while the index is built;
    Python sets and dicts took about 20 KB."""

    BITS_BYTES = 64 << 20  # the most the common fingerprints' rows of bits may take; past it, sorted keys
    PAIR_WORDS = 1 << 18  # candidate pairs scored at once: as many as have this many words of bits
    RAW_PAIRS = 1 << 20  # pairs enumerated from the index at once, duplicates included

    @classmethod
    def of(cls, sources, stubbed):
        names, notes, tokens = [], {}, array("q")
        hashes, starts, sizes = array("q"), array("i"), array("q")
        for source in sources:
            fp = fingerprints(source)
            names.append(source.name)
            tokens.append(fp.tokens)
            if source.note:
                notes[source.name] = source.note
            size = 0
            for h in sorted(fp.positions):
                if h not in stubbed:
                    positions = fp.positions[h]
                    hashes.extend([h] * len(positions))
                    starts.extend(positions)
                    size += len(positions)
            sizes.append(size)
        return cls(names, notes, tokens, hashes, starts, sizes)

    def __init__(self, names, notes, tokens, hashes, starts, sizes):
        self.notes = notes
        order = sorted(range(len(names)), key=names.__getitem__)  # name order: a pair's first side is the same
        self.names = [names[i] for i in order]  # whatever order the files came in
        self.count = len(names)
        sizes = np.frombuffer(sizes, dtype=np.int64) if sizes else np.zeros(0, np.int64)
        self.hashes = np.frombuffer(hashes, dtype=np.int64) if hashes else np.zeros(0, np.int64)
        self.starts = np.frombuffer(starts, dtype=np.int32) if starts else np.zeros(0, np.int32)
        self.tokens = np.frombuffer(tokens, dtype=np.int64) if tokens else np.zeros(0, np.int64)
        if order != list(range(self.count)):  # (grade batch's come in name order already)
            # The students' entries in name order: the ranges [old_at[i], old_at[i + 1]), i in `order`.
            take = _ragged(np.concatenate(([0], np.cumsum(sizes)))[order], sizes[order])
            self.hashes, self.starts, self.tokens = self.hashes[take], self.starts[take], self.tokens[order]
            del take
        self.entry = np.concatenate(([0], np.cumsum(sizes[order])))
        student = np.repeat(np.arange(self.count, dtype=np.int32), sizes[order])
        first = np.ones(len(self.hashes), dtype=bool)  # the first entry of each (student, fingerprint)
        first[1:] = (self.hashes[1:] != self.hashes[:-1]) | (student[1:] != student[:-1])
        own, self.own_student = self.hashes[first], student[first]
        del student, first
        self.own_at = np.searchsorted(self.own_student, np.arange(self.count + 1), side="left")
        # The inverted index: every (fingerprint, student), by fingerprint then student (own is in
        # student order: a stable sort keeps it).
        by_hash = np.argsort(own, kind="stable")
        self.index_student = self.own_student[by_hash]
        index_hash = own[by_hash]
        del own
        change = np.ones(len(index_hash), dtype=bool)  # where each fingerprint's students start
        change[1:] = index_hash[1:] != index_hash[:-1]
        self.group_hash = index_hash[change]  # each fingerprint once, in order
        del index_hash
        self.group_at = np.concatenate((np.flatnonzero(change), [len(change)]))
        self.group_size = np.diff(self.group_at)
        self.group_of = np.empty(len(change), dtype=np.int32)  # each own fingerprint's number in group_hash
        self.group_of[by_hash] = np.cumsum(change, dtype=np.int32) - 1
        del by_hash, change

    def own_count(self, student):
        return int(self.own_at[student + 1] - self.own_at[student])

    def own_counts(self, students):
        return self.own_at[students + 1] - self.own_at[students]

    def count_common(self, limit):
        """Fingerprints in more than `limit` students; each student's of them as a row of bits (`bits`),
        or, when those rows would be too large, as sorted (student, fingerprint) numbers (`common_keys`)."""
        common = self.group_size > limit
        number = np.full(len(common), -1, dtype=np.int64)
        number[common] = np.arange(np.count_nonzero(common))
        ids = number[self.group_of]
        mine = ids >= 0
        students, ids = self.own_student[mine], ids[mine]
        del self.own_student, self.group_of, number, mine  # needed no more
        words = (int(np.count_nonzero(common)) + 63) // 64
        self.common_keys = None
        if self.count * words * 8 > self.BITS_BYTES:  # too many common fingerprints for rows of bits
            self.bits = np.zeros((self.count, 0), dtype=np.uint64)
            self.common_total = max(len(common), 1)
            # (student, fingerprint) as one number, in order (own is sorted by student, then fingerprint)
            self.common_keys = students.astype(np.int64) * self.common_total + ids
            self.common_at = np.searchsorted(students, np.arange(self.count + 1))
        else:
            self.bits = np.zeros((self.count, words), dtype=np.uint64)
            np.bitwise_or.at(
                self.bits, (students, ids // 64), np.left_shift(np.uint64(1), (ids % 64).astype(np.uint64))
            )
        return int(np.count_nonzero(common))

    def candidates(self, limit):
        """Arrays (a, b, shared) of the student pairs, a < b, that share a fingerprint found in 2 to `limit`
        students, each pair once, with how many such fingerprints they share."""
        nominating = (self.group_size > 1) & (self.group_size <= limit)
        sizes = np.unique(self.group_size[nominating])
        raw = int(sum(np.count_nonzero(self.group_size == g) * g * (g - 1) // 2 for g in sizes.tolist()))
        blocks = max(1, -(-raw // self.RAW_PAIRS))  # by first student, so that each block's pairs fit in memory
        bounds = np.linspace(0, self.count, blocks + 1).astype(np.int64)
        members = {}
        for g in sizes.tolist():
            at = self.group_at[:-1][self.group_size == g]
            members[g] = self.index_student[at[:, None] + np.arange(g)]  # each row in student order
        # Pairs scored at once: their rows of bits, or their (about 60) looked-up keys, within PAIR_WORDS
        chunk = max(1024, self.PAIR_WORDS // (max(1, self.bits.shape[1]) if self.common_keys is None else 64))
        for low, high in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            keys = []
            for g, rows in members.items():
                for i in range(g - 1):  # the pairs whose first student is in column i and in the block
                    chosen = rows[(rows[:, i] >= low) & (rows[:, i] < high)]
                    if len(chosen):
                        a = np.repeat(chosen[:, i].astype(np.int64), g - 1 - i)
                        keys.append(a * self.count + chosen[:, i + 1 :].ravel())
            if not keys:
                continue
            # A pair appears once for each rare fingerprint it shares.
            keys, shared = np.unique(np.concatenate(keys), return_counts=True)
            for at in range(0, len(keys), chunk):
                part = keys[at : at + chunk]
                yield part // self.count, part % self.count, shared[at : at + chunk]

    def common_shared(self, a, b):
        """How many common fingerprints students a[i] and b[i] share, for each i (arrays)."""
        if self.common_keys is not None:  # each of a[i]'s looked up as (b[i], fingerprint)
            lengths = self.common_at[a + 1] - self.common_at[a]
            ids = self.common_keys[_ragged(self.common_at[a], lengths)] % self.common_total
            queries = np.repeat(b.astype(np.int64) * self.common_total, lengths) + ids
            found = np.minimum(np.searchsorted(self.common_keys, queries), max(len(self.common_keys) - 1, 0))
            hit = self.common_keys[found] == queries if len(self.common_keys) else np.zeros(len(queries), bool)
            return np.bincount(np.repeat(np.arange(len(a)), lengths)[hit], minlength=len(a))
        both = self.bits[a] & self.bits[b]
        if hasattr(np, "bitwise_count"):  # numpy 2
            return np.bitwise_count(both).sum(axis=1, dtype=np.int64)
        return _BITS[both.view(np.uint8)].sum(axis=1, dtype=np.int64)

    def pair(self, a, b, threshold, min_tokens):
        """The Pair of students a and b (a before b) if one shares `threshold` of its fingerprints with the
        other and the shared code holds a run of at least `min_tokens` tokens on both sides, else None."""
        a_own, b_own = self._own(a), self._own(b)
        both = np.intersect1d(a_own, b_own, assume_unique=True)
        if not len(both):
            return None
        first, second = len(both) / len(a_own), len(both) / len(b_own)
        if max(first, second) < threshold:
            return None
        a_runs, b_runs = self.runs(a, both), self.runs(b, both)
        if min(max(end - start for start, end in runs) for runs in (a_runs, b_runs)) < min_tokens:
            return None
        return Pair(self.names[a], self.names[b], False, first, second, sum(end - start for start, end in a_runs))

    def known_pair(self, a, name, k_own, k_print, threshold, min_tokens):
        """The Pair of student a and the known file `name` (its own fingerprints and Fingerprints), or None."""
        a_own = self._own(a)
        both = np.intersect1d(a_own, np.fromiter(k_own, dtype=np.int64, count=len(k_own)), assume_unique=True)
        if not len(both):
            return None
        first, second = len(both) / len(a_own), len(both) / len(k_own)
        if max(first, second) < threshold:
            return None
        a_runs, b_runs = self.runs(a, both), token_runs(k_print, both.tolist())
        if min(max(end - start for start, end in runs) for runs in (a_runs, b_runs)) < min_tokens:
            return None
        return Pair(self.names[a], name, True, first, second, sum(end - start for start, end in a_runs))

    def hits(self, hashes):
        """(student, how many of `hashes` the student has) for each student with any."""
        wanted = np.fromiter(hashes, dtype=np.int64, count=len(hashes))
        groups = np.minimum(np.searchsorted(self.group_hash, wanted), max(len(self.group_hash) - 1, 0))
        groups = groups[self.group_hash[groups] == wanted] if len(self.group_hash) else groups[:0]
        counts = np.bincount(
            self.index_student[_ragged(self.group_at[groups], self.group_size[groups])], minlength=self.count
        )
        found = np.flatnonzero(counts)
        return zip(found.tolist(), counts[found].tolist())

    def _own(self, student):
        return np.unique(self.hashes[self.entry[student] : self.entry[student + 1]])

    def runs(self, student, hashes):
        """As token_runs: the runs of the student's tokens covered by the k-grams of `hashes` (sorted)."""
        low, high = self.entry[student], self.entry[student + 1]
        mine = self.hashes[low:high]
        starts = np.sort(self.starts[low:high][np.isin(mine, hashes, assume_unique=False)]).tolist()
        return _merged(starts, int(self.tokens[student]))


_BITS = np.array([bin(byte).count("1") for byte in range(256)], dtype=np.uint8)


def _ragged(starts, lengths):
    """The indices of the ranges [starts[i], starts[i] + lengths[i]), one after another."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return shift + np.arange(total)


def token_runs(prints, hashes, k=K):
    """The runs of tokens [start, end) covered by the k-grams of `hashes`, merged, in order."""
    return _merged(sorted(p for h in hashes for p in prints.positions.get(h, ())), prints.tokens, k)


def _merged(starts, tokens, k=K):
    runs = []
    for p in starts:
        if runs and p <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], p + k)
        else:
            runs.append([p, p + k])
    return [(start, min(end, tokens)) for start, end in runs]


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
