"""Is the benchmark any good? The seed notebook's benchmark statistics (notebook/benchmark_statistics.ipynb
of the seed repository) as pure functions of one benchmark's per-model numbers and a reference ranking's
(e.g. Chatbot Arena), the models aligned by position: separability at 95% (the intervals) and at 80% (10th
to 90th percentile of the bootstrap scores), agreement with confidence and its signed form, strict
agreement, Spearman and Kendall rank correlations, and the Brier score and log loss of the benchmark's
forecast of each pair's reference order.

Where the notebook's code leaves a case open, the choice is this (none arises in its own data): two
intervals with the same lower bound are taken in order of their upper bound, so the overlap test does not
depend on the file's order; a pair the benchmark places on identical intervals counts as overlapping for
agreement, and a pair the reference places on identical intervals is not a confident pair; two forecasts
without any spread give P(a < b) = 1, 0 or 0.5 by their means.

Reads and writes nothing; imports numpy, and scipy when a report is computed."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

EPSILON = float(np.finfo(np.float64).eps)  # the log-loss clip, as scikit-learn 1.3 (the notebook's) clips
Z_95 = 1.96  # an interval without bootstrap scores is taken as mean +- 1.96 sigma
PERCENTILES_80 = (10, 90)


@dataclass(frozen=True)
class Numbers:
    """One side's numbers for the compared models, aligned by position."""

    score: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    results: tuple[np.ndarray | None, ...]  # each model's bootstrap scores, None where there are none
    variance: np.ndarray  # each model's variance where given, else NaN


@dataclass(frozen=True)
class Report:
    models: int
    separability_95: float
    separability_80: float | None
    agreement: float | None
    agreement_signed: float | None
    confident_reference_pairs: int
    strict_agreement: float
    spearman: float | None
    kendall: float | None
    brier: float
    log_loss: float
    reference_separability_95: float


def numbers(score: Sequence[float], lower: Sequence[float], upper: Sequence[float],
            results: Sequence[Sequence[float] | None] | None = None,
            variance: Sequence[float | None] | None = None) -> Numbers:
    """Numbers from plain sequences (None for a model without results or variance)."""
    n = len(score)
    results = results if results is not None else [None] * n
    variance = variance if variance is not None else [None] * n
    return Numbers(np.asarray(score, dtype=float), np.asarray(lower, dtype=float), np.asarray(upper, dtype=float),
                   tuple(None if r is None else np.asarray(r, dtype=float) for r in results),
                   np.array([np.nan if v is None else v for v in variance], dtype=float))


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, 1)


def _order(lower: np.ndarray, upper: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """-1 where interval i sorts before interval j by (lower, upper), +1 after, 0 where they are equal."""
    before = (lower[i] < lower[j]) | ((lower[i] == lower[j]) & (upper[i] < upper[j]))
    after = (lower[i] > lower[j]) | ((lower[i] == lower[j]) & (upper[i] > upper[j]))
    return after.astype(int) - before.astype(int)


def overlapping_pairs(lower: np.ndarray, upper: np.ndarray) -> int:
    """Pairs whose intervals overlap: sorted by lower bound, the later one starts strictly before the
    earlier one ends (so a point inside an interval overlaps it, touching ends do not)."""
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    i, j = _pairs(len(lower))
    i_first = _order(lower, upper, i, j) <= 0
    first_upper = np.where(i_first, upper[i], upper[j])
    later_lower = np.where(i_first, lower[j], lower[i])
    return int(np.sum(later_lower < first_upper))


def separability(lower: np.ndarray, upper: np.ndarray) -> float:
    """The share of model pairs whose intervals do not overlap."""
    n = len(lower)
    return 1 - overlapping_pairs(lower, upper) / (n * (n - 1) // 2)


def percentile_bounds(results: Sequence[np.ndarray], percentiles: tuple[float, float] = PERCENTILES_80
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Each model's interval from its bootstrap scores (numpy's default, linear, percentiles)."""
    bounds = np.array([np.percentile(r, percentiles) for r in results], dtype=float).reshape(-1, 2)
    return bounds[:, 0], bounds[:, 1]


def _gap_overlaps(lower: np.ndarray, upper: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The notebook's overlap for agreement: the intervals share a stretch of positive length."""
    return np.maximum(0, np.minimum(upper[i], upper[j]) - np.maximum(lower[i], lower[j])) > 0


def agreement_with_confidence(bench: Numbers, reference: Numbers) -> tuple[float | None, float | None, int]:
    """(agreement, signed agreement, confident reference pairs) over the pairs whose reference intervals do
    not overlap: same order +1 / +1, overlapping benchmark intervals +0.5 / 0, opposite order 0 / -1.
    The order of two disjoint intervals is their (lower, upper) order."""
    i, j = _pairs(len(bench.score))
    reference_order = _order(reference.lower, reference.upper, i, j)
    confident = ~_gap_overlaps(reference.lower, reference.upper, i, j) & (reference_order != 0)
    bench_order = _order(bench.lower, bench.upper, i, j)
    overlap = _gap_overlaps(bench.lower, bench.upper, i, j) | (bench_order == 0)
    same = confident & ~overlap & (bench_order == reference_order)
    opposite = confident & ~overlap & (bench_order == -reference_order)
    total = int(confident.sum())
    if not total:
        return None, None, 0
    return (float((same.sum() + 0.5 * (confident & overlap).sum()) / total),
            float((same.sum() - opposite.sum()) / total), total)


def strict_agreement(score: np.ndarray, rating: np.ndarray) -> float:
    """The share of all pairs ordered the same way by score and by rating; a tie on either side disagrees."""
    i, j = _pairs(len(score))
    same = np.sign(score[i] - score[j]) * np.sign(rating[i] - rating[j]) > 0
    return float(same.mean())


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def rank_correlations(score: np.ndarray, rating: np.ndarray) -> tuple[float | None, float | None]:
    """scipy's Spearman rho and Kendall tau-b; None where undefined (a side with one value only)."""
    from scipy import stats  # a second or two to import: only once a report is computed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: scipy warns and returns NaN
        spearman = stats.spearmanr(score, rating).statistic
        kendall = stats.kendalltau(score, rating).statistic
    return _finite_or_none(spearman), _finite_or_none(kendall)


def moments(side: Numbers) -> tuple[np.ndarray, np.ndarray]:
    """Each model's forecast mean and variance: of its bootstrap scores (population variance); without
    them its score and given variance, else the variance its interval implies as a 95% normal interval."""
    mean, variance = side.score.copy(), side.variance.copy()
    implied = ((side.upper - side.lower) / (2 * Z_95)) ** 2
    variance = np.where(np.isnan(variance), implied, variance)
    for m, results in enumerate(side.results):
        if results is not None:
            mean[m], variance[m] = np.mean(results), np.var(results)
    return mean, variance


def forecast_losses(bench: Numbers, rating: np.ndarray, names: Sequence[str]) -> tuple[float, float]:
    """(Brier score, log loss) of P(a < b) = Phi(0; mean_a - mean_b, sqrt(var_a + var_b)) against the label
    rating_a < rating_b, for every pair (a, b) with a before b in sorted `names`."""
    from scipy import special

    mean, variance = moments(bench)
    ranked = np.array(sorted(range(len(names)), key=lambda m: names[m]), dtype=int)
    i, j = _pairs(len(names))
    a, b = ranked[i], ranked[j]
    spread = np.sqrt(variance[a] + variance[b])
    difference = mean[b] - mean[a]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(spread > 0, special.ndtr(difference / spread), (np.sign(difference) + 1) / 2)
    label = (rating[a] < rating[b]).astype(float)
    clipped = np.clip(p, EPSILON, 1 - EPSILON)
    log_loss = -(label * np.log(clipped) + (1 - label) * np.log(1 - clipped))
    return float(np.mean((p - label) ** 2)), float(np.mean(log_loss))


def quality_report(bench: Numbers, reference: Numbers, names: Sequence[str]) -> Report:
    """Every statistic of `bench` against `reference` (at least 3 models); `names` (the reference's names
    of the models) order the pairs of the forecast."""
    if len(bench.score) < 3:
        raise ValueError("at least 3 models are needed")
    with_results = [r for r in bench.results if r is not None]
    separability_80 = (separability(*percentile_bounds(with_results))
                       if len(with_results) == len(bench.results) else None)
    agreement, signed, confident = agreement_with_confidence(bench, reference)
    spearman, kendall = rank_correlations(bench.score, reference.score)
    brier, log_loss = forecast_losses(bench, reference.score, names)
    return Report(len(bench.score), separability(bench.lower, bench.upper), separability_80, agreement, signed,
                  confident, strict_agreement(bench.score, reference.score), spearman, kendall, brier, log_loss,
                  separability(reference.lower, reference.upper))
