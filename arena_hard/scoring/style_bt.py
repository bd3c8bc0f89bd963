"""Upstream v2.0's style-controlled leaderboard, as pure functions in numpy: the style features of each
score row, and a Bradley-Terry model with fractional outcomes fitted to convergence on bootstrap
resamples of the rows.

Features (per row, from the model's and the baseline's answer to the row's question): length
(t_m - t_b) / (t_m + t_b) of token_len; for headers, lists and bold the densities d = count /
(token_len + 1), then (d_m - d_b) / (d_m + d_b + 1); each column z-scored over the rows with the
sample standard deviation. Model: logit = c_model - c_baseline + beta . features, binary
cross-entropy summed over rows, no intercept; c_baseline is fixed at 0 (only differences are
identified). Upstream fits the same loss with torch's LBFGS stopped after 50 iterations; Newton's
method here stops at convergence. Bootstrap: `randint(0, rows, (rounds, rows))` from a numpy
RandomState, upstream's draw. Rows sharing a (model, features) unit are pooled exactly (the loss is
linear in the outcome), which keeps a round's fit small. Reads and writes nothing."""
from __future__ import annotations

import numpy as np

FEATURES = ("length", "headers", "lists", "bold")
FEATURE_GROUPS = {"length": (0,), "markdown": (1, 2, 3)}
_MAX_ITERATIONS = 60


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


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def fit_bt(model: np.ndarray, features: np.ndarray, outcome: np.ndarray, weight: np.ndarray, n_models: int,
           baseline: int, start: np.ndarray | None = None) -> np.ndarray:
    """Coefficients [c_0..c_{n-1}, beta...] minimising sum(weight * BCE(outcome, c_model + beta . x)) with
    c_baseline = 0; a model without weight gets NaN. Newton steps, halved while the loss rises."""
    n_features = features.shape[1]
    total = np.bincount(model, weights=weight, minlength=n_models)
    free = [m for m in range(n_models) if m != baseline and total[m] > 0]
    position = np.full(n_models, -1)
    position[free] = np.arange(len(free))
    theta = np.zeros(n_models + n_features) if start is None else np.nan_to_num(start.copy())
    theta[baseline] = 0.0
    theta[[m for m in range(n_models) if m not in free and m != baseline]] = 0.0

    def loss_of(t: np.ndarray) -> tuple[float, np.ndarray]:
        eta = t[model] + features @ t[n_models:]
        return float(np.sum(weight * (_softplus(eta) - outcome * eta))), eta

    loss, eta = loss_of(theta)
    for _ in range(_MAX_ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-eta))
        residual = weight * (p - outcome)
        curvature = weight * p * (1 - p)
        k = len(free)
        gradient = np.concatenate([np.bincount(model, residual, n_models)[free], features.T @ residual])
        hessian = np.zeros((k + n_features, k + n_features))
        hessian[np.arange(k), np.arange(k)] = np.bincount(model, curvature, n_models)[free]
        for f in range(n_features):
            cross = np.bincount(model, curvature * features[:, f], n_models)[free]
            hessian[:k, k + f] = hessian[k + f, :k] = cross
        hessian[k:, k:] = features.T @ (curvature[:, None] * features)
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        full = np.zeros_like(theta)
        full[free] = step[:k]
        full[n_models:] = step[k:]
        scale = 1.0
        while True:
            candidate = theta - scale * full
            new_loss, new_eta = loss_of(candidate)
            if new_loss <= loss + 1e-12 * abs(loss) or scale < 1e-6:
                break
            scale /= 2
        theta, eta, previous, loss = candidate, new_eta, loss, new_loss
        if np.max(np.abs(scale * full)) < 1e-9 or previous - loss < 1e-13 * max(1.0, abs(loss)):
            break
    absent = [m for m in range(n_models) if m != baseline and total[m] == 0]
    theta[absent] = np.nan
    return theta


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
