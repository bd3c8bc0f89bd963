"""Upstream v2.0's style-controlled leaderboard, as pure functions in numpy: the style features of each
score row, and a Bradley-Terry model with fractional outcomes fitted to convergence on bootstrap
resamples of the rows.

Features (per row, from the model's and the baseline's answer to the row's question): length
(t_m - t_b) / (t_m + t_b) of token_len; for headers, lists and bold the densities d = count /
(token_len + 1), then (d_m - d_b) / (d_m + d_b + 1); each column z-scored over the rows with the
sample standard deviation. Model: logit = c_model - c_baseline + beta . features, binary
cross-entropy summed over rows, no intercept; c_baseline is fixed at 0 (only differences are
identified). Upstream fits the same loss with torch's LBFGS stopped after 50 iterations; Newton's
method here stops at convergence, all bootstrap fits solved together. Bootstrap: `randint(0, rows,
(rounds, rows))` from a numpy RandomState, upstream's draw. Rows sharing a (model, features) unit are pooled exactly (the loss is
linear in the outcome), which keeps a round's fit small. Reads and writes nothing."""
from __future__ import annotations

import numpy as np

from arena_hard.scoring import newton

FEATURES = ("length", "headers", "lists", "bold")
FEATURE_GROUPS = {"length": (0,), "markdown": (1, 2, 3)}
_TOLERANCE = 1e-8  # in the logits: far below what a printed win rate shows


def raw_features(model_counts: np.ndarray, baseline_counts: np.ndarray) -> np.ndarray:
    """(rows, 4) differences from [token_len, headers, lists, bold] counts of each side; a row where
    both answers are empty has length difference 0 (upstream divides by zero there)."""
    m, b = model_counts.astype(float), baseline_counts.astype(float)
    features = np.empty_like(m)
    total = m[:, 0] + b[:, 0]
    features[:, 0] = np.divide(m[:, 0] - b[:, 0], total, out=np.zeros_like(total), where=total != 0)
    dm, db = m[:, 1:] / (m[:, :1] + 1), b[:, 1:] / (b[:, :1] + 1)
    features[:, 1:] = (dm - db) / (dm + db + 1)
    return features


def zscore_params(row_features: np.ndarray, columns: tuple[int, ...]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The chosen columns that vary over the rows, with their mean and sample std over the rows (a
    constant column is left out: upstream divides by a zero std there)."""
    chosen = row_features[:, list(columns)]
    std = chosen.std(axis=0, ddof=1) if len(chosen) > 1 else np.zeros(len(columns))
    keep = [i for i, s in enumerate(std) if s > 0 and np.isfinite(s)]
    return [columns[i] for i in keep], chosen[:, keep].mean(axis=0), std[keep]


def _losses(theta: np.ndarray, model: np.ndarray, features: np.ndarray, outcome: np.ndarray,
            weight: np.ndarray, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """Per fit: the loss and the logits (fits x units)."""
    eta = theta[:, model] + theta[:, n_models:] @ features.T
    return np.sum(weight * (np.logaddexp(0.0, eta) - outcome * eta), axis=1), eta


def fit_bt_batch(model: np.ndarray, features: np.ndarray, outcome: np.ndarray, weight: np.ndarray, n_models: int,
                 baseline: int, start: np.ndarray | None = None) -> np.ndarray:
    """Coefficients [c_0..c_{n-1}, beta...] of independent fits, one per row of `outcome` / `weight`
    (fits x units), each minimising sum(weight * BCE(outcome, c_model + beta . x)) with c_baseline = 0;
    a model without weight in a fit gets NaN there. Newton's method as scoring/newton.py takes it (a
    step halved while the loss rises, stopping once no coordinate moves by more than the tolerance),
    run on all fits at once: one resample's fit alone is too small to pay numpy's per-call cost."""
    order = np.argsort(model, kind="stable")  # units grouped by model: per-model sums are reduceat's
    model, features, outcome, weight = model[order], features[order], outcome[:, order], weight[:, order]
    groups, starts = np.unique(model, return_index=True)

    def by_model(values: np.ndarray) -> np.ndarray:  # fits x units [x ...] -> fits x models [x ...]
        summed = np.zeros((values.shape[0], n_models) + values.shape[2:])
        summed[:, groups] = np.add.reduceat(values, starts, axis=1)
        return summed

    fits, n_features = outcome.shape[0], features.shape[1]
    size = n_models + n_features
    fixed = np.concatenate([by_model(weight) == 0, np.zeros((fits, n_features), dtype=bool)], axis=1)
    fixed[:, baseline] = True
    theta = np.zeros((fits, size)) if start is None else np.tile(np.nan_to_num(start), (fits, 1))
    theta[fixed] = 0.0
    loss, eta = _losses(theta, model, features, outcome, weight, n_models)
    active = np.arange(fits)
    diagonal = np.arange(n_models)
    for _ in range(newton.MAX_STEPS):
        p = 1.0 / (1.0 + np.exp(-eta[active]))
        w = weight[active]
        residual, curvature = w * (p - outcome[active]), w * p * (1 - p)
        weighted = curvature[:, :, None] * features[None]  # fits x units x features
        hessian = np.zeros((len(active), size, size))
        hessian[:, diagonal, diagonal] = by_model(curvature)
        cross = by_model(weighted)
        hessian[:, :n_models, n_models:] = cross
        hessian[:, n_models:, :n_models] = cross.transpose(0, 2, 1)
        hessian[:, n_models:, n_models:] = weighted.transpose(0, 2, 1) @ features
        gradient = np.concatenate([by_model(residual), residual @ features], axis=1)
        held = fixed[active]
        gradient[held] = 0.0
        hessian[held] = 0.0
        hessian.transpose(0, 2, 1)[held] = 0.0
        rows, columns = np.nonzero(held)
        hessian[rows, columns, columns] = 1.0
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        scale = np.ones(len(active))
        while True:
            candidate = theta[active] - scale[:, None] * step
            new_loss, new_eta = _losses(candidate, model, features, outcome[active], w, n_models)
            rising = (new_loss > loss[active] + 1e-12 * np.abs(loss[active])) & (scale >= newton.SMALLEST_STEP)
            if not rising.any():
                break
            scale[rising] /= 2
        theta[active], loss[active], eta[active] = candidate, new_loss, new_eta
        active = active[np.max(np.abs(scale[:, None] * step), axis=1) >= _TOLERANCE]
        if not len(active):
            break
    theta[:, :n_models][fixed[:, :n_models] & (np.arange(n_models) != baseline)] = np.nan
    return theta


def fit_bt(model: np.ndarray, features: np.ndarray, outcome: np.ndarray, weight: np.ndarray, n_models: int,
           baseline: int, start: np.ndarray | None = None) -> np.ndarray:
    """One fit of fit_bt_batch."""
    return fit_bt_batch(model, features, outcome[None], weight[None], n_models, baseline, start)[0]


def pool_units(unit_of_row: np.ndarray, outcome: np.ndarray, row_weight: np.ndarray,
               n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: total weight and weighted mean outcome (0 where the unit has no weight)."""
    weight = np.bincount(unit_of_row, weights=row_weight, minlength=n_units)
    wins = np.bincount(unit_of_row, weights=row_weight * outcome, minlength=n_units)
    return weight, np.divide(wins, weight, out=np.zeros_like(wins), where=weight > 0)


def bootstrap_style(unit_of_row: np.ndarray, unit_model: np.ndarray, unit_features: np.ndarray,
                    outcome: np.ndarray, n_models: int, baseline: int, rng: np.random.RandomState,
                    rounds: int) -> np.ndarray:
    """(rounds, n_models + n_features) coefficients, one fit per bootstrap resample of the rows."""
    n_rows, n_units = len(unit_of_row), len(unit_model)
    weight, mean = pool_units(unit_of_row, outcome, np.ones(n_rows), n_units)
    start = fit_bt(unit_model, unit_features, mean, weight, n_models, baseline)
    picks = rng.randint(low=0, high=n_rows, size=(rounds, n_rows))
    weights = np.empty((rounds, n_units))
    means = np.empty((rounds, n_units))
    for r in range(rounds):
        weights[r], means[r] = pool_units(unit_of_row, outcome, np.bincount(picks[r], minlength=n_rows).astype(float),
                                          n_units)
    return fit_bt_batch(unit_model, unit_features, means, weights, n_models, baseline, start)


def win_rates(coefficients: np.ndarray, n_models: int, baseline: int) -> np.ndarray:
    """(rounds, n_models) win rate of each model against the baseline: exp(c_m) / (exp(c_m) + exp(c_b))."""
    c = coefficients[:, :n_models]
    return 1.0 / (1.0 + np.exp(c[:, [baseline]] - c))
