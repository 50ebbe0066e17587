"""Checks the layer exercises share (normalization, conv, rnn): a backward's gradients, one part each.

A backward task returns a tuple of gradients, each graded as a part of its own. The
expected gradients are centred finite differences of s = sum(G * f(inputs)), f the
grader's own float64 forward and G the upstream gradient the learner is given, so
they never depend on the learner's forward. On a small case every entry is
differenced and the named mistakes come from comparing with the grader's own wrong
variants; on a large case each gradient is checked by sampled directional
derivatives (checking.directional), two evaluations of f per probe whatever its size.
"""

import numpy as np

from ..checking.checks import has_shape, is_array, is_close_array, is_finite, is_tuple
from ..checking.directional import check_directional
from ..checking.gradcheck import numerical_gradient
from ..checking.spec import Verdict

SHOWN_ENTRIES = 3  # wrong entries named in a large case's details


def fd_gradients(s, inputs, names):
    """{name: centred differences of the scalar s(**inputs) with respect to inputs[name]} for each of NAMES."""
    return {name: numerical_gradient(lambda x, name=name: s(**{**inputs, name: x}), inputs[name]) for name in names}


def upstream_score(forward, G):
    """s(**inputs) = sum(G * forward(**inputs)): its gradients are the backward pass of forward at upstream G."""
    return lambda **inputs: float(np.sum(G * forward(**inputs)))


def gradients_tuple(value, task, parts):
    """None when VALUE is a tuple of one entry per part, else the Verdict that fails every part."""
    return is_tuple(value, task, len(parts), "(" + ", ".join(parts) + ")")


def small_case(value, task, parts, expected, alternatives, what):
    """{part: None or Verdict}: each returned gradient against its expected array, mistakes named.

    alternatives: {part: {code: candidates}}, or a function making it, called only when a part fails
    (the grader's wrong variants cost more than the right answer)."""
    wrong = gradients_tuple(value, task, parts)
    if wrong:
        return wrong
    verdicts = {part: is_close_array(got, expected[part], part, what=what) for part, got in zip(parts, value)}
    if any(verdicts.values()):
        made = alternatives() if callable(alternatives) else alternatives
        for part, got in zip(parts, value):
            if verdicts[part]:
                verdicts[part] = is_close_array(got, expected[part], part, made.get(part), what=what)
    return verdicts


def close_or_named(got, expected, name, alternatives, what, says):
    """is_close_array, the alternatives (a function making {code: candidates}) made only when it fails."""
    verdicts = small_case((got,), name, (name,), {name: expected}, lambda: {name: alternatives()}, what)
    return said(verdicts[name], name, says)


def large_case(value, task, parts, s, inputs, of, seed, what):
    """{part: None or Verdict}: each gradient against directional differences of s in its input OF[part]."""
    wrong = gradients_tuple(value, task, parts)
    if wrong:
        return wrong
    verdicts = {}
    for number, (part, got) in enumerate(zip(parts, value)):
        point = inputs[of[part]]
        verdicts[part] = (
            is_array(got, part, point.shape)
            or has_shape(got, point.shape, part)
            or is_finite(got, part)
            or directional(lambda x, name=of[part]: s(**{**inputs, name: x}), point, got, seed + number, part, what)
        )
    return verdicts


def directional(f, point, got, seed, name, what):
    """None when GOT passes sampled directional checks of the scalar f at POINT, else a Verdict."""
    result = check_directional(f, point, np.asarray(got, dtype=np.float64), seed=seed)
    if result.passed:
        return None
    details = [
        f"{result.failures} of {result.probes} random directional derivatives disagree "
        f"(worst relative error {result.worst_error:.2e})"
    ]
    for block in result.blocks:
        if block.status == "wrong" and block.entries:
            shown = ", ".join(
                f"({','.join(map(str, index))}) expected {want:.6g} got {have:.6g}"
                for index, want, have in block.entries[:SHOWN_ENTRIES]
            )
            details.append(f"{name} wrong at {shown} ({len(block.entries)} of {block.sampled} sampled entries wrong)")
    return Verdict(f"{name} does not match {what}", ("wrong_value",), tuple(details))


def without_nones(alternatives):
    """The alternatives with the candidates a case cannot produce (None) left out."""
    return {code: [c for c in candidates if c is not None] for code, candidates in alternatives.items()}


def said(verdict, name, says):
    """VERDICT with its fact in words when it names one of this exercise's mistakes (SAYS: code -> words
    completing "<name> ..."); checks.matches only knows the shared mistakes' words."""
    if isinstance(verdict, Verdict) and verdict.diagnoses and verdict.diagnoses[0] in says:
        if verdict.fact == f"{name} is wrong":
            return Verdict(f"{name} {says[verdict.diagnoses[0]]}", verdict.diagnoses, verdict.details, verdict.hint)
    return verdict


def said_parts(verdicts, says):
    if isinstance(verdicts, dict):
        return {part: said(verdict, part, says) for part, verdict in verdicts.items()}
    return verdicts
