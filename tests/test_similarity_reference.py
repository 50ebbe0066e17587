"""similarity.compare (flat arrays, pairs scored in bulk) lists exactly the pairs of the straightforward
computation it replaced: a set of fingerprints per student, an inverted index of lists, every
candidate pair scored alone with set intersections. Checked on tests/similarity_class (planted
copies of every kind, a known file, the stub) and on a generated class where a quarter of the
students copy a classmate, on each of compare's paths (common fingerprints as rows of bits or as
sorted keys, the candidates in one block or in many).
"""

import importlib.util
from collections import Counter, defaultdict
from itertools import combinations

import pytest
from conftest import ROOT
from test_class_report import known_sources, make_class, sources, stub_source

from grader.classroom import similarity


def reference(class_sources, known, stub, threshold=similarity.THRESHOLD, min_tokens=similarity.MIN_MATCHED_TOKENS):
    """(pairs as tuples, compared, common, {(first, second): shared fingerprints as a frozenset})."""
    prints = {source.name: similarity.fingerprints(source) for source in class_sources}
    stubbed = set(similarity.fingerprints(stub).positions) if stub is not None else set()
    own = {name: set(prints[name].positions) - stubbed for name in sorted(prints)}
    counts = Counter(h for hashes in own.values() for h in hashes)
    limit = similarity.common_limit(len(own))
    index = defaultdict(list)
    for name, hashes in own.items():
        for h in hashes:
            index[h].append(name)
    candidates = {pair for names in index.values() if 1 < len(names) <= limit for pair in combinations(names, 2)}
    pairs, shared = [], {}

    def score(a, b, known, a_own, b_own, a_print, b_print):
        both = a_own & b_own
        if not both:
            return
        first, second = len(both) / len(a_own), len(both) / len(b_own)
        if max(first, second) < threshold:
            return
        a_runs, b_runs = similarity.token_runs(a_print, both), similarity.token_runs(b_print, both)
        if min(max(end - start for start, end in runs) for runs in (a_runs, b_runs)) < min_tokens:
            return
        pairs.append((a, b, known, first, second, sum(end - start for start, end in a_runs)))
        shared[a, b] = frozenset(both)

    for a, b in candidates:
        score(a, b, False, own[a], own[b], prints[a], prints[b])
    for source in known:
        fp = similarity.fingerprints(source)
        k_own = set(fp.positions) - stubbed
        hits = Counter(name for h in k_own for name in index.get(h, ()))
        for name, count in hits.items():
            if count >= threshold * min(len(own[name]), len(k_own)):
                score(name, source.name, True, own[name], k_own, prints[name], fp)
    pairs.sort(key=lambda p: (-max(p[3], p[4]), -p[5], p[0], p[1]))
    return pairs, len(own), sum(1 for count in counts.values() if count > limit), shared


def as_tuples(comparison):
    return [(p.first, p.second, p.known, p.first_share, p.second_share, p.matched_tokens) for p in comparison.pairs]


def check(class_sources, known, stub, **limits):
    comparison = similarity.compare(class_sources, known, stub, **limits)
    pairs, compared, common, shared = reference(class_sources, known, stub, **limits)
    assert as_tuples(comparison) == pairs  # the same floats, the same order
    assert (comparison.compared, comparison.common, comparison.known) == (compared, common, len(known))
    by_name = {source.name: source for source in [*class_sources, *known]}
    for pair in comparison.pairs[:20]:  # the page's colouring walks the shared set: the same set, in the same order
        again = comparison.with_shared(pair, by_name[pair.first], by_name[pair.second])
        assert list(again.shared) == list(shared[pair.first, pair.second])
    return comparison


@pytest.fixture(scope="module")
def class_dir(tmp_path_factory):
    return make_class(tmp_path_factory.mktemp("similarity") / "class")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """120 students of benchmarks/similarity.py, a quarter of them copying a classmate."""
    spec = importlib.util.spec_from_file_location("similarity_benchmark", ROOT / "benchmarks" / "similarity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    directory = tmp_path_factory.mktemp("generated")
    planted = module.make_class(directory, 120, 0.25, seed=1, own_lines=2)
    return sources(directory), planted


def test_the_test_class_gives_the_reference_pairs(class_dir):
    listed = check(sources(class_dir), known_sources(), stub_source())
    assert len(listed.pairs) >= 7  # the planted copies
    check(sources(class_dir), known_sources(), stub_source(), threshold=0, min_tokens=0)  # every candidate
    check(sources(class_dir), known_sources(), None)
    shuffled = check(sources(class_dir)[::-1], known_sources(), stub_source())  # not in name order: the same pairs
    assert as_tuples(shuffled) == as_tuples(listed)


@pytest.mark.parametrize("path", ["bits", "sorted keys", "blocks"])
def test_a_generated_class_gives_the_reference_pairs_on_every_path(generated, path, monkeypatch):
    if path == "sorted keys":
        monkeypatch.setattr(similarity.ClassPrints, "BITS_BYTES", 0)
    if path == "blocks":
        monkeypatch.setattr(similarity.ClassPrints, "RAW_PAIRS", 500)
        monkeypatch.setattr(similarity.ClassPrints, "PAIR_WORDS", 1)  # and scored 1,024 at a time
    class_sources, planted = generated
    listed = check(class_sources, known_sources(), stub_source())
    found = {(pair.first, pair.second) for pair in listed.pairs}
    assert len(planted) > 20 and sum(1 for pair in planted if pair in found) > 0.9 * len(planted)


@pytest.mark.parametrize("count", [2, 3, 12])
def test_small_classes_without_a_common_fingerprint_give_the_reference_pairs(class_dir, count):
    """A class too small for any fingerprint to be common (none in more than common_limit students):
    no common fingerprint to count, a copied pair still found."""
    class_sources = sources(class_dir)[:count]
    comparison = check(class_sources, known_sources(), stub_source())
    assert comparison.common == 0
    check(class_sources, [], None)
