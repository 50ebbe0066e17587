"""Sampled directional gradient checks: any number of parameters, safe at ReLU kinks.

Public API for instructors (see also gradcheck.check_gradient for small arrays):

    from grader import check_directional
    result = check_directional(J, params, grads, seed=0)   # J: dict of arrays -> float
    assert result.passed, result.message

A full centred check costs 2P evaluations of J for P parameters. Here each probe
draws a random unit direction v over all parameters and compares

    (J(theta + h v) - J(theta - h v)) / 2h    with    <grads, v>,

two evaluations whatever P is. A wrong gradient g + e fails a probe unless v is
almost orthogonal to e, so a few probes catch it (the miss rate is about the
tolerance times |g| / |e| per probe). v gives every parameter block the same total
weight, so an error in a 3-entry bias is as visible as one in a 10,000-entry W.

When the check fails it localises: one probe per block says which blocks are wrong,
then centred differences on a few sampled entries of each wrong block say where.

Kinks. Where the segment theta +- h v crosses a point at which J is not
differentiable (a ReLU input at 0), the finite difference mixes two slopes and
means nothing. J may return (value, pre-activations): a probe crosses a kink when
some pre-activation Z is within the step of 0, |Z| < |Z(theta + hv) - Z(theta - hv)|,
i.e. |Z| < 2h |dZ/dv|; it is then retried with steps h/10 and h/100 (a ReLU input
a hair from 0 would otherwise spoil every direction) and redrawn if all cross.
Without pre-activations, a failing probe is re-measured with step h/10: a
difference that changes with the step straddles a kink (a wrong gradient is off by
the same amount at both steps), so it is redrawn. And a single failing probe is
confirmed by two more before the gradient is called wrong, so a kink no test saw
cannot fail correct code either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .gradcheck import STEP, TOLERANCE

Array = NDArray[np.float64]
Blocks = dict[str, Array]
# J(params) -> loss, or (loss, the pre-activations whose sign changes are kinks)
Loss = Callable[[Any], float | tuple[float, Sequence[ArrayLike]]]
Measured = Literal["kink"] | tuple[float, float, float]

PROBES = 4
ENTRIES = 6  # coordinates sampled in each wrong block
_REDRAWS = 10  # per wanted probe, before giving up on a direction (a function that is all kinks)
_SHOWN = 4  # wrong entries named per block


@dataclass(frozen=True)
class BlockReport:
    """One parameter block after localisation: wrong, fine, or undetermined (every probe hit a kink)."""

    name: str
    status: str  # "wrong", "fine" or "undetermined"
    entries: tuple[tuple[tuple[int, ...], float, float], ...] = ()  # (index, expected, got) of wrong entries
    sampled: int = 0


@dataclass(frozen=True)
class DirectionalResult:
    passed: bool
    probes: int  # usable probes (directions that crossed no kink)
    kinks: int  # finite differences that crossed a kink (each then retried shorter, or redrawn)
    failures: int
    evaluations: int  # calls of J, localisation included
    worst_error: float  # largest |fd - <g,v>| / scale over the usable probes
    tolerance: float
    blocks: tuple[BlockReport, ...] = ()  # only when the check failed
    label: str = "grads"
    inconclusive: bool = False  # fewer usable probes than asked for: nearly every direction crossed a kink

    @property
    def wrong_blocks(self) -> tuple[str, ...]:
        return tuple(block.name for block in self.blocks if block.status == "wrong")

    @property
    def message(self) -> str:
        if self.passed and self.inconclusive:
            return (
                f"only {self.probes} directions were usable ({self.kinks} finite differences crossed "
                "a kink): too few to call the gradient wrong"
            )
        if self.passed:
            return (
                f"{self.probes} directional derivatives agree with finite differences "
                f"(worst relative error {self.worst_error:.2e}, tolerance {self.tolerance:.0e})"
            )
        wrong = self.wrong_blocks
        where = ", ".join(f"{self.label}[{name!r}]" for name in wrong) if wrong else self.label
        return (
            f"{where} {'is' if len(wrong) <= 1 else 'are'} not the gradient of the loss: "
            f"{self.failures} of {self.probes} random directional derivatives disagree with "
            f"finite differences (worst relative error {self.worst_error:.2e})"
        )

    @property
    def details(self) -> tuple[str, ...]:
        """One line per wrong block with its wrong entries, then the blocks that are fine."""
        lines = []
        for block in self.blocks:
            if block.status != "wrong":
                continue
            if block.entries:
                shown = ", ".join(
                    f"{_index_text(index)} expected {want:.6g} got {got:.6g}"
                    for index, want, got in block.entries[:_SHOWN]
                )
                more = ", ..." if len(block.entries) > _SHOWN else ""
                lines.append(
                    f"{self.label}[{block.name!r}] wrong: entries {shown}{more} "
                    f"({len(block.entries)} of {block.sampled} sampled entries wrong)"
                )
            else:
                lines.append(
                    f"{self.label}[{block.name!r}] wrong: none of {block.sampled} sampled entries "
                    f"is wrong on its own, so the error is small and spread out, or in a few entries"
                )
        fine = [block.name for block in self.blocks if block.status == "fine"]
        unknown = [block.name for block in self.blocks if block.status == "undetermined"]
        if fine:
            lines.append(f"{', '.join(fine)} fine")
        if unknown:
            lines.append(f"{', '.join(unknown)} not determined (every probe crossed a ReLU kink)")
        return tuple(lines)


def _index_text(index: Sequence[int]) -> str:
    return "(" + ",".join(str(i) for i in index) + ")"


class _Probe:
    """Evaluates J around theta, counting evaluations and spotting kinks."""

    def __init__(self, J: Loss, theta: Blocks, grads: Blocks, h: float, tolerance: float, single: bool) -> None:
        self.J, self.theta, self.grads, self.h, self.tolerance = J, theta, grads, h, tolerance
        self.single = single  # J takes the one array, not a dict
        self.evaluations = 0
        self.kinks = 0
        self.value0, self.pre0 = self.evaluate(None, 0.0)
        # Rounding in J(theta +- h v), divided by 2h: the absolute floor of a difference.
        self.noise = 100 * np.finfo(np.float64).eps * max(1.0, abs(self.value0)) / h

    def evaluate(self, v: Mapping[str, Array] | None, t: float) -> tuple[float, list[Array] | None]:
        self.evaluations += 1
        point = (
            self.theta if v is None else {k: self.theta[k] + t * v[k] if k in v else self.theta[k] for k in self.theta}
        )
        out = self.J(point["x"] if self.single else point)
        if isinstance(out, tuple):
            value, pre = out
            return float(value), [np.asarray(z, dtype=np.float64) for z in pre]
        return float(out), None

    def difference(self, v: Mapping[str, Array], h: float) -> float | None:
        """Centred difference along v with step h, or None when it crosses a kink."""
        plus, pre_plus = self.evaluate(v, h)
        minus, pre_minus = self.evaluate(v, -h)
        if (
            self.pre0 is not None
            and pre_plus is not None
            and pre_minus is not None
            and any(np.any(np.abs(z0) < np.abs(zp - zm)) for z0, zp, zm in zip(self.pre0, pre_plus, pre_minus))
        ):
            self.kinks += 1
            return None
        return (plus - minus) / (2 * h)

    def measure(self, v: Mapping[str, Array], scale: float) -> Measured:
        """'kink', or (relative error, finite difference, <grads, v>) for direction v."""
        # A kink within the step may still lie outside a shorter one: a ReLU input a
        # hair from 0 would otherwise make every direction unusable.
        for h in (self.h, self.h / 10, self.h / 100):
            fd = self.difference(v, h)
            if fd is not None:
                break
        else:
            return "kink"
        analytic = sum(float(np.vdot(self.grads[k], v[k])) for k in v)
        if not np.isfinite(analytic):
            return np.inf, fd, analytic  # NaN or inf in the gradient: wrong at any step
        denominator = max(abs(fd), abs(analytic), scale, 1e-300)
        noise = self.noise * self.h / h
        # Within the rounding floor counts as agreement (reported at the tolerance at most).
        error = abs(fd - analytic) / denominator
        if abs(fd - analytic) <= self.tolerance * denominator + noise:
            return min(error, self.tolerance), fd, analytic
        # Step-dependence means a kink within the step; a wrong gradient is off at any step.
        fine = self.difference(v, h / 10)
        if fine is None:
            return "kink"
        if abs(fine - fd) > 0.5 * abs(fd - analytic) + 10 * noise:
            self.kinks += 1
            return "kink"
        return error, fd, analytic


def check_directional(
    J: Loss,
    params: Mapping[str, ArrayLike] | ArrayLike,
    grads: Mapping[str, ArrayLike] | ArrayLike,
    seed: int = 0,
    probes: int = PROBES,
    h: float = STEP,
    tolerance: float = TOLERANCE,
    entries: int = ENTRIES,
    label: str = "grads",
) -> DirectionalResult:
    """Check `grads` against directional finite differences of J at `params`.

    J: a function of a dict of arrays (same keys and shapes as params) returning
       the loss, or (loss, list of pre-activation arrays) to have kinks detected
       from the pre-activations.
    params, grads: dicts of arrays with the same keys and shapes (a single array is
       taken as the block "x").
    Returns a DirectionalResult: .passed, .message, .details (on failure, the wrong
    blocks and sampled wrong entries), .evaluations.
    """
    theta, g = _blocks(params), _blocks(grads)
    if theta.keys() != g.keys():
        raise ValueError(f"{label} has keys {sorted(g)}, expected {sorted(theta)}")
    for key in theta:
        if theta[key].shape != g[key].shape:
            raise ValueError(f"{label}[{key!r}] has shape {g[key].shape}, expected {theta[key].shape}")
    rng = np.random.default_rng(seed)
    probe = _Probe(J, theta, g, h, tolerance, single=isinstance(params, np.ndarray))
    names = list(theta)
    # |<g, v>| of a typical direction: the floor of the relative error's denominator, so
    # that a direction nearly orthogonal to g does not turn rounding noise into a failure.
    # Measured without squaring the entries: a finite gradient whose square overflows would make the floor
    # inf, and every probe would agree with it.
    scale = _rms(np.array([_rms(g[k]) for k in names]))

    usable, errors, failing = 0, [], 0
    wanted, tries = probes, 0
    while usable < wanted and tries < _REDRAWS * wanted:
        tries += 1
        outcome = probe.measure(_direction(rng, theta, names), scale)
        if isinstance(outcome, str):  # a kink
            continue
        usable += 1
        errors.append(outcome[0])
        if outcome[0] > tolerance:
            failing += 1
            if failing == 1 and wanted == probes:
                wanted += 2  # confirm a lone failure: two more probes must fail for a verdict
    # Two failing probes make a wrong gradient. Correct code must never fail on a kink,
    # so a lone failure that could not be confirmed passes, and too few usable probes
    # pass marked inconclusive, rather than guess.
    passed = failing < 2
    worst = max(errors, default=0.0)
    blocks = () if passed else _localise(probe, rng, theta, names, scale, entries)
    return DirectionalResult(
        passed,
        usable,
        probe.kinks,
        failing,
        probe.evaluations,
        worst,
        tolerance,
        blocks,
        label,
        inconclusive=usable < probes,
    )


def _rms(a: Array) -> float:
    """The root mean square of a's entries (0 when it has none), with no overflow for finite entries."""
    largest = float(np.max(np.abs(a), initial=0.0))
    if largest == 0.0 or not np.isfinite(largest):
        return largest
    return largest * float(np.sqrt(np.mean(np.square(a / largest))))


def _blocks(value: Mapping[str, ArrayLike] | ArrayLike) -> Blocks:
    if not isinstance(value, Mapping):
        return {"x": np.asarray(value, dtype=np.float64)}
    return {key: np.asarray(item, dtype=np.float64) for key, item in value.items()}


def _direction(rng: np.random.Generator, theta: Blocks, names: Sequence[str]) -> Blocks:
    """A unit vector in which each block has the same expected weight."""
    v = {k: rng.standard_normal(theta[k].shape) / np.sqrt(max(theta[k].size, 1)) for k in names}
    norm = np.sqrt(sum(np.vdot(v[k], v[k]) for k in names))
    return {k: v[k] / norm for k in names}


def _localise(
    probe: _Probe, rng: np.random.Generator, theta: Blocks, names: Sequence[str], scale: float, entries: int
) -> tuple[BlockReport, ...]:
    reports = []
    for name in names:
        status = _block_status(probe, rng, theta, name, scale)
        if status != "wrong":
            reports.append(BlockReport(name, status))
            continue
        wrong, sampled = _sample_entries(probe, rng, theta[name], name, entries)
        reports.append(BlockReport(name, "wrong", wrong, sampled))
    return tuple(reports)


def _block_status(probe: _Probe, rng: np.random.Generator, theta: Blocks, name: str, scale: float) -> str:
    """Probe directions inside one block; wrong when two usable probes fail, fine when one passes."""
    failing = 0
    for _ in range(_REDRAWS):
        outcome = probe.measure(_direction(rng, theta, [name]), scale)
        if isinstance(outcome, str):  # a kink
            continue
        if outcome[0] <= probe.tolerance:
            return "fine"
        failing += 1
        if failing == 2:
            return "wrong"
    return "undetermined"


def _sample_entries(
    probe: _Probe, rng: np.random.Generator, block: Array, name: str, entries: int
) -> tuple[tuple[tuple[tuple[int, ...], float, float], ...], int]:
    """Centred differences on a few random entries of one block: (wrong entries, how many sampled)."""
    count = min(entries, block.size)
    flat = rng.choice(block.size, size=count, replace=False)
    got_block = probe.grads[name]
    typical = _rms(got_block)
    wrong, sampled = [], 0
    for i in sorted(flat):
        index = np.unravel_index(int(i), block.shape)
        e = np.zeros(block.shape)
        e[index] = 1.0
        fd = probe.difference({name: e}, probe.h)
        if fd is None:
            continue  # this entry sits on a kink: its derivative is not defined
        sampled += 1
        got = float(got_block[index])
        if not abs(fd - got) <= probe.tolerance * max(abs(fd), abs(got), typical) + probe.noise:
            wrong.append((tuple(int(j) for j in index), fd, got))
    return tuple(wrong), sampled
