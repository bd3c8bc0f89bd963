"""Upstream v2.0's leaderboard without style control, as pure functions: the bootstrap of each model's
mean score against the baseline, and the summaries of bootstrap rounds upstream prints (the mean of
the round means and the 5% / 95% quantiles of a group, or the median and quantiles of a table), with
pandas' arithmetic so the same rounds print the same digits. Also this project's overall score.

Bootstrap: in each round, every model's rows (in row order, models in sorted name order) are resampled
with replacement within the model, drawing `randint(0, n, n)` from a numpy RandomState: the stream
pandas' `groupby("model").sample(frac=1.0, replace=True)` draws, n counting a strong verdict's rows
`--weight` times; the draws are counted back onto the rows (weighted_rows). Reads and writes nothing."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from arena_hard.scoring import weighted_rows

ROUNDS = 100
SEED = 42
LOWER_Q, UPPER_Q = 0.05, 0.95


def bootstrap_means(model_of_row: np.ndarray, halves: np.ndarray, n_models: int, rng: np.random.RandomState,
                    rounds: int = ROUNDS, copies: np.ndarray | None = None) -> np.ndarray:
    """(rounds, n_models) round means of each model's scores (halves: 0, 1, 2 for 0, 0.5, 1), row i
    standing for copies[i] identical rows (1 each when not given); NaN for a model without rows. Model
    indices are positions in the sorted model names."""
    copies = np.ones(len(halves), dtype=np.int64) if copies is None else copies
    order = np.argsort(model_of_row, kind="stable")
    split = np.cumsum(np.bincount(model_of_row, minlength=n_models))[:-1]
    groups = np.split(halves[order].astype(np.int64), split)
    group_copies = np.split(copies[order], split)
    counts = np.array([int(c.sum()) for c in group_copies], dtype=np.int64)  # upstream's rows per model
    starts = [weighted_rows.first_copies(c) for c in group_copies]
    present = [m for m in range(n_models) if counts[m]]
    means = np.full((rounds, n_models), np.nan)
    sums = np.empty((rounds, len(present)))
    for r in range(rounds):
        for j, m in enumerate(present):  # the stream, model by model
            drawn = weighted_rows.drawn_counts(rng.randint(0, counts[m], size=counts[m]), starts[m], counts[m])
            sums[r, j] = drawn @ groups[m]
    means[:, present] = sums / 2 / counts[present]
    return means


def kahan_mean(rounds: np.ndarray) -> np.ndarray:
    """Column means summed in row order with Kahan compensation, as pandas' groupby mean."""
    total = np.zeros(rounds.shape[1])
    compensation = np.zeros(rounds.shape[1])
    for row in rounds:
        y = row - compensation
        t = total + y
        compensation = (t - total) - y
        total = t
    return total / rounds.shape[0]


def group_quantile(rounds: np.ndarray, q: float) -> np.ndarray:
    """Column quantiles with linear interpolation as pandas' groupby quantile computes them."""
    ordered = np.sort(rounds, axis=0)
    position = q * (ordered.shape[0] - 1)
    low = int(position)
    fraction = position - low
    if fraction == 0 or low + 1 >= ordered.shape[0]:
        return ordered[low]
    return ordered[low] + (ordered[low + 1] - ordered[low]) * fraction


def table_quantile(rounds: np.ndarray, q: float) -> np.ndarray:
    """Column quantiles as DataFrame.quantile computes them (numpy's percentile of q * 100)."""
    return np.percentile(rounds, q * 100.0, axis=0)


def summarize(rounds: np.ndarray, center: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, lower, upper) per column: center "mean" (the win-rate bootstrap's groupby summary) or
    "median" (style control's table summary)."""
    if center == "mean":
        return kahan_mean(rounds), group_quantile(rounds, LOWER_Q), group_quantile(rounds, UPPER_Q)
    return table_quantile(rounds, 0.5), table_quantile(rounds, LOWER_Q), table_quantile(rounds, UPPER_Q)


def overall_rounds(per_category: Sequence[Mapping[str, np.ndarray]], weights: Sequence[float]) -> dict[str, np.ndarray]:
    """This project's overall score: for each model scored in every category, round by round the mean of
    its category scores weighted by the categories' question counts. Each category's rounds were drawn
    within that category, so the combined rounds resample within each category."""
    common = set(per_category[0])
    for scores in per_category[1:]:
        common &= set(scores)
    total = float(sum(weights))
    return {model: sum(w * scores[model] for w, scores in zip(weights, per_category)) / total
            for model in sorted(common)}
