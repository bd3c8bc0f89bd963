"""Style control when the rows do not pin every coefficient down: a feature collinear with the model
columns (the same within each model's rows, as when every answer of each model has one length), two
features that duplicate each other, a feature that is 0 on every row drawn. Many coefficient vectors then
fit the rows equally well, and the fit's Hessian is singular.

Upstream fits with LBFGS from 0.5 in every coefficient (the baseline's included: its column is -1 on
every row). Each LBFGS step is a combination of gradients, which lie in the span of the design's rows, so
upstream converges to the best fit nearest that start; where the best fit is unique that is all there is
to it. Here, the fit holds the redundant columns at 0 (`dependent_columns`), which leaves the fitted
logits as they are, and `nearest_to_start` then moves the coefficients along the directions the rows do
not see, to upstream's point: the coefficients the rows do identify keep their values exactly. A light
ridge penalty would instead approach the best fit nearest 0, which differs from upstream's in the win
rates of the models involved.

Every function takes Gram matrices X^T X of the design over a fit's units (those with weight), columns as
in style_control: one per model (the baseline's all 0), then the features. Rank is judged on the Gram
scaled to a unit diagonal. Pure functions; reads and writes nothing."""
from __future__ import annotations

import numpy as np

START = 0.5  # upstream's initial value of every coefficient
RANK_TOLERANCE = 1e-10  # an eigenvalue of the scaled Gram below this share of the largest counts as 0
_SEEN = 1e-6  # a coefficient whose direction has less than this in the null space is identified


def _scaled(gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Gram with a unit diagonal (a zero column stays 0), and each column's norm."""
    norm = np.sqrt(np.diagonal(gram, axis1=-2, axis2=-1))
    safe = np.where(norm > 0, norm, 1.0)
    return gram / safe[..., :, None] / safe[..., None, :], norm


def _full_rank(gram: np.ndarray) -> bool:
    values = np.linalg.eigvalsh(gram)
    return bool(values[0] > RANK_TOLERANCE * values[-1])


def dependent_columns(gram: np.ndarray, held: np.ndarray) -> np.ndarray:
    """(fits x columns) the columns, beyond the `held` ones, that are 0 on every unit of the fit or a
    linear combination of earlier columns: holding them at 0 loses nothing of the fit."""
    scaled, norm = _scaled(gram)
    free = ~held & (norm > 0)
    dependent = ~held & (norm == 0)
    probe = np.where(free[:, :, None] & free[:, None, :], scaled, 0.0)
    rows, columns = np.nonzero(~free)
    probe[rows, columns, columns] = 1.0
    values = np.linalg.eigvalsh(probe)
    for fit in np.flatnonzero(values[:, 0] <= RANK_TOLERANCE * values[:, -1]):
        kept: list[int] = []
        for column in np.flatnonzero(free[fit]).tolist():
            trial = kept + [column]
            if _full_rank(scaled[fit][np.ix_(trial, trial)]):
                kept.append(column)
            else:
                dependent[fit, column] = True
    return dependent


def _with_baseline_column(gram: np.ndarray, baseline: int, n_models: int) -> np.ndarray:
    """The Gram of upstream's design, whose baseline column is -1 on every row: the baseline's row and
    column become minus the column sums (each unit has one model, so the model rows add up to them)."""
    sums = gram[:n_models].sum(axis=0)
    full = gram.copy()
    full[baseline, :], full[:, baseline] = -sums, -sums
    full[baseline, baseline] = sums[:n_models].sum()
    return full


def _null_basis(gram: np.ndarray) -> np.ndarray:
    """Orthonormal columns spanning the vectors v with X v = 0."""
    scaled, norm = _scaled(gram)
    values, vectors = np.linalg.eigh(scaled)
    null = vectors[:, values <= RANK_TOLERANCE * values[-1]] / np.where(norm > 0, norm, 1.0)[:, None]
    return np.linalg.qr(null)[0] if null.shape[1] else null


def loose_coefficients(gram: np.ndarray, baseline: int, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """The coefficients (models' c_m - c_baseline, features' beta) the rows leave free, as a mask, and
    the orthonormal null space of upstream's design they are free along."""
    null = _null_basis(_with_baseline_column(gram, baseline, n_models))
    reduced = np.concatenate([null[:n_models] - null[baseline], null[n_models:]])
    return np.linalg.norm(reduced, axis=1) > _SEEN, null


def nearest_to_start(theta: np.ndarray, gram: np.ndarray, baseline: int, n_models: int) -> np.ndarray:
    """A best fit `theta` (c_baseline = 0) moved to the best fit nearest START in upstream's coordinates;
    only the loose coefficients change."""
    loose, null = loose_coefficients(gram, baseline, n_models)
    shift = null @ (null.T @ (START - theta))
    reduced = np.concatenate([shift[:n_models] - shift[baseline], shift[n_models:]])
    moved = theta.copy()
    moved[loose] += reduced[loose]
    return moved
