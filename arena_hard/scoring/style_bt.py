"""Upstream v2.0's style-controlled leaderboard, as pure functions in numpy: the style features of each
score row, and a Bradley-Terry model with fractional outcomes fitted to convergence on bootstrap
resamples of the rows.

Features (per row, from the model's and the baseline's answer to the row's question): length
(t_m - t_b) / (t_m + t_b) of token_len; for headers, lists and bold the densities d = count /
(token_len + 1), then (d_m - d_b) / (d_m + d_b + 1); each column z-scored over the rows with the
sample standard deviation. Model: logit = c_model - c_baseline + beta . features, binary
cross-entropy summed over rows, no intercept; c_baseline is fixed at 0 (only differences are
identified). Upstream fits the same loss with torch's LBFGS stopped after 50 iterations; Newton's
method here (scoring/newton.py) stops at convergence. Bootstrap: `randint(0, rows, (rounds, rows))` from a numpy
RandomState, upstream's draw. Rows sharing a (model, features) unit are pooled exactly (the loss is
linear in the outcome), which keeps a round's fit small. Reads and writes nothing."""
from __future__ import annotations

import numpy as np

from arena_hard.scoring import newton

FEATURES = ("length", "headers", "lists", "bold")
FEATURE_GROUPS = {"length": (0,), "markdown": (1, 2, 3)}
_TOLERANCE = 1e-9


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


def fit_bt(model: np.ndarray, features: np.ndarray, outcome: np.ndarray, weight: np.ndarray, n_models: int,
           baseline: int, start: np.ndarray | None = None) -> np.ndarray:
    """Coefficients [c_0..c_{n-1}, beta...] minimising sum(weight * BCE(outcome, c_model + beta . x)) with
    c_baseline = 0 (newton.minimize); a model without weight gets NaN."""
    n_features = features.shape[1]
    total = np.bincount(model, weights=weight, minlength=n_models)
    free = np.concatenate([total > 0, np.ones(n_features, dtype=bool)])
    free[baseline] = False
    x0 = np.zeros(n_models + n_features) if start is None else np.nan_to_num(start)
    x0[:n_models][~free[:n_models]] = 0.0

    def eta_of(x: np.ndarray) -> np.ndarray:
        return x[model] + features @ x[n_models:]

    def objective(x: np.ndarray) -> float:
        eta = eta_of(x)
        return float(np.sum(weight * (np.logaddexp(0.0, eta) - outcome * eta)))

    def derivatives(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = 1.0 / (1.0 + np.exp(-eta_of(x)))
        residual, curvature = weight * (p - outcome), weight * p * (1 - p)
        gradient = np.concatenate([np.bincount(model, residual, n_models), features.T @ residual])
        hessian = np.zeros((n_models + n_features, n_models + n_features))
        hessian[np.arange(n_models), np.arange(n_models)] = np.bincount(model, curvature, n_models)
        for f in range(n_features):
            hessian[:n_models, n_models + f] = hessian[n_models + f, :n_models] = \
                np.bincount(model, curvature * features[:, f], n_models)
        hessian[n_models:, n_models:] = features.T @ (curvature[:, None] * features)
        return gradient, hessian

    x = newton.minimize(objective, derivatives, x0, _TOLERANCE, free)
    x[:n_models][(total == 0) & (np.arange(n_models) != baseline)] = np.nan
    return x


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
    result = np.empty((rounds, n_models + unit_features.shape[1]))
    for r in range(rounds):
        weight, mean = pool_units(unit_of_row, outcome, np.bincount(picks[r], minlength=n_rows).astype(float),
                                  n_units)
        result[r] = fit_bt(unit_model, unit_features, mean, weight, n_models, baseline, start)
    return result


def win_rates(coefficients: np.ndarray, n_models: int, baseline: int) -> np.ndarray:
    """(rounds, n_models) win rate of each model against the baseline: exp(c_m) / (exp(c_m) + exp(c_b))."""
    c = coefficients[:, :n_models]
    return 1.0 / (1.0 + np.exp(c[:, [baseline]] - c))
