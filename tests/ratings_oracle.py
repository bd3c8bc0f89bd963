"""The slow, straightforward reference for the scores: upstream's per-battle logistic regression,
written out (one design row per battle copy, Newton's method on the full matrix), and upstream's
bootstrap (a fresh fit on each `choice(n, n)` resample of the battle rows). Used by the tests and
the benchmark to check the fast paths in arena_hard.scoring.ratings and arena_hard.scoring.style_control."""
from __future__ import annotations

import math

import numpy as np

LN10 = math.log(10.0)


def design(model_a, model_b, winner, n_models, features=None):
    """Upstream's matrices: each battle twice; +ln10 for model_a, -ln10 for model_b; Y = 1 when
    model_a won (both copies), a tie is 1 in the first copy and 0 in the second."""
    n = len(winner)
    rows = np.arange(2 * n)
    a = np.concatenate([model_a, model_a])
    b = np.concatenate([model_b, model_b])
    x = np.zeros((2 * n, n_models))
    x[rows, a] = LN10
    x[rows, b] = -LN10
    w = np.concatenate([winner, winner])
    y = (w == "model_a").astype(float)
    y[:n][winner == "tie"] = 1.0
    if features is not None:
        x = np.concatenate([x, np.concatenate([features, features])], axis=1)
    return x, y


def logistic_newton(x, y, penalty=0.0, tolerance=1e-12, max_steps=200):
    """Coefficients maximising sum(y log p + (1 - y) log(1 - p)) - penalty/2 |w|^2, p = sigmoid(x w).
    Without a penalty the solution is unique up to a common shift of the model columns; pinv picks one."""
    w = np.zeros(x.shape[1])
    for _ in range(max_steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (y - p) - penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty * np.eye(x.shape[1])
        step = np.linalg.pinv(hessian) @ gradient
        w = w + step
        if np.max(np.abs(step)) < tolerance:
            break
    return w


def oracle_ratings(model_a, model_b, winner, n_models, anchor):
    """Ratings (anchor = 1000) by the per-battle regression; NaN for models without battles."""
    x, y = design(model_a, model_b, winner, n_models)
    ratings = 400 * logistic_newton(x, y) + 1000
    ratings += 1000 - ratings[anchor]
    present = np.zeros(n_models, dtype=bool)
    present[model_a] = present[model_b] = True
    return np.where(present, ratings, np.nan)


def oracle_style(model_a, model_b, winner, n_models, anchor, features):
    """(ratings, feature coefficients) of the L2 (C = 1) style-controlled regression."""
    x, y = design(model_a, model_b, winner, n_models, features)
    w = logistic_newton(x, y, penalty=1.0)
    ratings = 400 * w[:n_models] + 1000
    return ratings + 1000 - ratings[anchor], w[n_models:]


def oracle_bootstrap(model_a, model_b, winner, n_models, anchor, rounds, fit=oracle_ratings, seed=42):
    """Upstream's bootstrap: np.random.seed(42), then per round the battle rows at choice(n, n)."""
    state = np.random.RandomState(seed)
    n = len(winner)
    results = []
    for _ in range(rounds):
        rows = state.choice(n, size=n, replace=True)
        results.append(fit(model_a[rows], model_b[rows], winner[rows], n_models, anchor))
    return np.array(results)


def win_rate(rating, baseline_rating):
    return 1.0 / (1.0 + 10.0 ** ((baseline_rating - rating) / 400.0))
