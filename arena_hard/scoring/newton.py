"""The one Newton solver of the Bradley-Terry fits (v01/fit.pair_ratings, v01/style_control's
penalised variant): `minimize` takes a smooth convex objective, its gradient and Hessian, and steps
x <- x - H^-1 g, halving a step until the objective does not rise, until the last step moved no
coordinate by more than `tolerance`. The Bradley-Terry parts both fits share: the gradient and
Hessian of a sum over comparisons of model a (index pa) with model b (index pb) of a function of
rating[a] - rating[b]. Pure functions; reads and writes nothing."""
from __future__ import annotations

from typing import Callable

import numpy as np

MAX_STEPS = 100
SMALLEST_STEP = 1e-6  # a step halved below this is taken anyway: the objective is flat there


def minimize(objective: Callable[[np.ndarray], float],
             derivatives: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
             start: np.ndarray, tolerance: float, free: np.ndarray | None = None) -> np.ndarray:
    """The minimiser, from `start`. With `free` (a boolean mask), the other coordinates stay as they
    start and the free block of the Hessian may be singular (a model without comparisons in a
    resample): its step is the least-squares one. Without `free`, the Hessian must be positive
    definite (style control's penalty makes it so) and is solved directly."""
    x = start.copy()
    value = objective(x)
    for _ in range(MAX_STEPS):
        gradient, hessian = derivatives(x)
        if free is None:
            step = np.linalg.solve(hessian, gradient)
        else:
            step = np.zeros_like(x)
            step[free] = np.linalg.lstsq(hessian[np.ix_(free, free)], gradient[free], rcond=None)[0]
        size = 1.0
        while True:
            candidate = x - size * step
            new_value = objective(candidate)
            if new_value <= value + 1e-12 * abs(value) or size < SMALLEST_STEP:
                break
            size /= 2
        x, value = candidate, new_value
        if np.max(np.abs(size * step), initial=0.0) < tolerance:
            break
    return x


def pair_gradient(pa: np.ndarray, pb: np.ndarray, residual: np.ndarray, n_models: int) -> np.ndarray:
    """d/d rating of sum_i f_i(rating[pa[i]] - rating[pb[i]]), with residual[i] = f_i'."""
    return np.bincount(pa, residual, n_models) - np.bincount(pb, residual, n_models)


def pair_hessian(pa: np.ndarray, pb: np.ndarray, weight: np.ndarray, n_models: int) -> np.ndarray:
    """The Hessian of the same sum in the ratings, with weight[i] = f_i'': a weighted graph Laplacian."""
    size = n_models * n_models
    return (np.bincount(pa * (n_models + 1), weight, size) + np.bincount(pb * (n_models + 1), weight, size)
            - np.bincount(pa * n_models + pb, weight, size)
            - np.bincount(pb * n_models + pa, weight, size)).reshape(n_models, n_models)
