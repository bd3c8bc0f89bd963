"""Upstream v2.0's style-controlled leaderboard, as pure functions in numpy: the style features of each
score row, and a Bradley-Terry model with fractional outcomes fitted to convergence on bootstrap
resamples of the rows.

Features (per row, from the model's and the baseline's answer to the row's question): length
(t_m - t_b) / (t_m + t_b) of token_len; for headers, lists and bold the densities d = count /
(token_len + 1), then (d_m - d_b) / (d_m + d_b + 1); each column z-scored over the rows with the
sample standard deviation. Model: logit = c_model - c_baseline + beta . features, binary
cross-entropy summed over rows, no intercept; c_baseline is fixed at 0 (only differences are
identified). Upstream fits the same loss with torch's LBFGS stopped after 50 iterations; Newton's
method here stops at convergence, the bootstrap fits solved together in blocks; where the rows leave
coefficients free (a feature collinear with the models), the fit upstream's converges to (style_identify).
Bootstrap: `randint(0, rows, (rounds, rows))` from a numpy RandomState, upstream's draw. Rows sharing a
(model, features) unit are pooled exactly (the loss is linear in the outcome), which keeps a round's fit
small. Reads and writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from arena_hard.core.parallel import thread_map
from arena_hard.scoring import newton, weighted_rows
from arena_hard.scoring.v2 import style_identify

FEATURES = ("length", "headers", "lists", "bold")
FEATURE_GROUPS = {"length": (0,), "markdown": (1, 2, 3)}
_TOLERANCE = 1e-8  # in the logits: far below what a printed win rate shows
UNCHECKED_STEP = 1e-3  # a Newton step this small is taken without evaluating the loss (fit_bt_batch)
FITS_AT_ONCE = 25  # bootstrap fits solved together (bootstrap_style)


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


def zscore_params(row_features: np.ndarray, columns: tuple[int, ...],
                  copies: np.ndarray | None = None) -> tuple[list[int], np.ndarray, np.ndarray]:
    """The chosen columns that vary over the rows, with their mean and sample std over the rows, row i
    counted copies[i] times (a constant column is left out: upstream divides by a zero std there, or by
    the rounding error of its mean, which numpy's std returns for most constants). With all copies 1,
    these are np.mean's and np.std's very digits."""
    chosen = row_features[:, list(columns)]
    weights = np.ones(len(chosen)) if copies is None else copies.astype(float)
    n = weights.sum()
    if n > 1:
        deviation = chosen - np.average(chosen, axis=0, weights=weights)
        std = np.sqrt(np.sum(weights[:, None] * deviation ** 2, axis=0) / (n - 1))
    else:
        std = np.zeros(len(columns))
    varies = np.ptp(chosen, axis=0) > 0 if len(chosen) else np.zeros(len(columns), dtype=bool)
    keep = [i for i, s in enumerate(std) if varies[i] and np.isfinite(s)]
    mean = np.average(chosen[:, keep], axis=0, weights=weights) if len(chosen) else np.zeros(len(keep))
    return [columns[i] for i in keep], mean, std[keep]


def _loss(eta: np.ndarray, outcome: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per fit: sum(weight * BCE(outcome, sigmoid(eta))) over the units (fits x units in)."""
    return np.sum(weight * (np.logaddexp(0.0, eta) - outcome * eta), axis=1)


def _newton_system(eta: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                   tables: UnitTables) -> tuple[np.ndarray, np.ndarray]:
    """Per fit: the loss's gradient and Hessian at the logits `eta`."""
    p = np.negative(eta)
    with np.errstate(over="ignore"):  # exp(-eta) = inf where eta < -709: p is 0 there, as it should be
        np.exp(p, out=p)
    p += 1.0
    np.reciprocal(p, out=p)
    residual = p - outcome
    residual *= weight
    curvature = 1.0 - p
    curvature *= p
    curvature *= weight
    return residual @ tables.design, _weighted_gram(curvature, tables)


def _weighted_gram(unit_weight: np.ndarray, tables: UnitTables) -> np.ndarray:
    """Per fit (a row of unit_weight): sum over units of weight * design row (x) design row."""
    n_models, size = tables.n_models, tables.design.shape[1]
    fits, n_features = len(unit_weight), size - n_models
    sums, cross_end = unit_weight @ tables.products, n_models * (1 + n_features)
    gram = np.zeros((fits, size, size))
    diagonal = np.arange(n_models)
    gram[:, diagonal, diagonal] = sums[:, :n_models]
    cross = sums[:, n_models:cross_end].reshape(fits, n_models, n_features)
    gram[:, :n_models, n_models:] = cross
    gram[:, n_models:, :n_models] = cross.transpose(0, 2, 1)
    gram[:, n_models:, n_models:] = sums[:, cross_end:].reshape(fits, n_features, n_features)
    return gram


@dataclass(frozen=True)
class UnitTables:
    """What every fit over the same units shares: per unit its design row (one-hot model, then the
    features) and the products of its entries the Hessian sums (model x model on the diagonal, model x
    feature, feature x feature)."""

    design: np.ndarray
    products: np.ndarray
    n_models: int


def unit_tables(model: np.ndarray, features: np.ndarray, n_models: int) -> UnitTables:
    units = len(model)
    onehot = np.zeros((units, n_models))
    onehot[np.arange(units), model] = 1.0
    products = np.concatenate([onehot, (onehot[:, :, None] * features[:, None, :]).reshape(units, -1),
                               (features[:, :, None] * features[:, None, :]).reshape(units, -1)], axis=1)
    return UnitTables(np.concatenate([onehot, features], axis=1), products, n_models)


def fit_bt_batch(tables: UnitTables, outcome: np.ndarray, weight: np.ndarray, baseline: int,
                 start: np.ndarray | None = None) -> np.ndarray:
    """Coefficients [c_0..c_{n-1}, beta...] of independent fits, one per row of `outcome` / `weight`
    (fits x units), each minimising sum(weight * BCE(outcome, c_model + beta . x)) with c_baseline = 0;
    a model without weight in a fit gets NaN there. Newton's method as scoring/newton.py takes it (a
    step halved while the loss rises, stopping once no coordinate moves by more than the tolerance),
    run on all fits at once: one resample's fit alone is too small to pay numpy's per-call cost. Every
    sum over units is a matrix product of the fits' per-unit weights with one of `tables`, so each step
    is a few BLAS calls. A step moving no logit by more than UNCHECKED_STEP is taken without evaluating
    the loss, the costliest part: there the quadratic model the step minimises is exact far beyond the
    loss's rounding. A step still raising the loss once halved below newton.SMALLEST_STEP is not taken,
    and the fit ends there. A model that won (lost) every game of a fit gets +inf (-inf), the limit its
    logit runs to, and the other coefficients are fitted without its units, which is their limit too.
    Where the fit's units leave coefficients free (style_identify), the redundant columns are held at 0
    and the fit is then moved to the best fit upstream's LBFGS converges to."""
    design, n_models = tables.design, tables.n_models
    fits, size = outcome.shape[0], design.shape[1]
    n_features = size - n_models
    separated = _separated(tables, outcome, weight)
    weight = np.where((separated != 0).astype(float) @ design[:, :n_models].T > 0, 0.0, weight)
    fixed = np.concatenate([weight @ design[:, :n_models] == 0, np.zeros((fits, n_features), dtype=bool)], axis=1)
    fixed[:, baseline] = True
    gram = _weighted_gram((weight > 0).astype(float), tables)
    dependent = style_identify.dependent_columns(gram, fixed)
    theta = np.zeros((fits, size)) if start is None else np.tile(np.where(np.isfinite(start), start, 0.0), (fits, 1))
    theta[fixed | dependent] = 0.0
    eta = theta @ design.T
    loss = np.full(fits, np.nan)  # at theta; NaN where not evaluated
    active = np.arange(fits)
    for _ in range(newton.MAX_STEPS):
        gradient, hessian = _newton_system(eta[active], outcome[active], weight[active], tables)
        held = fixed[active] | dependent[active]
        gradient[held] = 0.0
        hessian[held] = 0.0
        hessian.transpose(0, 2, 1)[held] = 0.0
        rows, columns = np.nonzero(held)
        hessian[rows, columns, columns] = 1.0
        step = _newton_steps(hessian, gradient)
        largest = np.max(np.abs(step), axis=1)
        trial = np.flatnonzero(largest > UNCHECKED_STEP)  # positions in `active` whose step is checked
        unknown = active[trial][np.isnan(loss[active[trial]])]
        loss[unknown] = _loss(eta[unknown], outcome[unknown], weight[unknown])
        scale = np.ones(len(active))
        candidate = theta[active] - step
        new_eta = candidate @ design.T
        new_loss = np.full(len(active), np.nan)
        checked = trial
        while len(trial):
            fit = active[trial]
            new_loss[trial] = _loss(new_eta[trial], outcome[fit], weight[fit])
            rising = trial[(new_loss[trial] > loss[fit] + 1e-12 * np.abs(loss[fit]))
                           & (scale[trial] >= newton.SMALLEST_STEP)]
            scale[rising] /= 2
            candidate[rising] = theta[active[rising]] - scale[rising, None] * step[rising]
            new_eta[rising] = candidate[rising] @ design.T
            trial = rising
        stuck = checked[new_loss[checked] > loss[active[checked]] + 1e-12 * np.abs(loss[active[checked]])]
        candidate[stuck], new_eta[stuck], new_loss[stuck] = theta[active[stuck]], eta[active[stuck]], loss[active[stuck]]
        scale[stuck] = 0.0
        theta[active], eta[active], loss[active] = candidate, new_eta, new_loss
        active = active[largest * scale >= _TOLERANCE]
        if not len(active):
            break
    for fit in np.flatnonzero(dependent.any(axis=1)):
        theta[fit] = style_identify.nearest_to_start(theta[fit], gram[fit], baseline, n_models)
    theta[:, :n_models][fixed[:, :n_models] & (np.arange(n_models) != baseline)] = np.nan
    theta[:, :n_models][separated != 0] = np.inf * separated[separated != 0]
    return theta


def _separated(tables: UnitTables, outcome: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """(fits x models) 1 for a model that won every game of the fit, -1 for one that lost every game, else 0."""
    onehot = tables.design[:, :tables.n_models]
    games, wins = weight @ onehot, (weight * outcome) @ onehot
    return np.where(games == 0, 0, np.where(wins == games, 1, np.where(wins == 0, -1, 0)))


def _newton_steps(hessian: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """H^-1 g per fit; the least-squares step where H is singular (a unit's curvature underflowed to 0,
    its logit past about 37 either way)."""
    try:
        return np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        steps = np.empty_like(gradient)
        for fit, (matrix, vector) in enumerate(zip(hessian, gradient)):
            try:
                steps[fit] = np.linalg.solve(matrix[None], vector[None, :, None])[0, :, 0]
            except np.linalg.LinAlgError:
                steps[fit] = np.linalg.lstsq(matrix, vector, rcond=None)[0]
        return steps


def fit_bt(model: np.ndarray, features: np.ndarray, outcome: np.ndarray, weight: np.ndarray, n_models: int,
           baseline: int, start: np.ndarray | None = None) -> np.ndarray:
    """One fit of fit_bt_batch, over units of the given models and features."""
    return fit_bt_batch(unit_tables(model, features, n_models), outcome[None], weight[None], baseline, start)[0]


def pool_units(unit_of_row: np.ndarray, outcome: np.ndarray, drawn: np.ndarray,
               n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """For each resample (a row of `drawn`: how many times each row was drawn), per unit: the number of
    draws and their mean outcome (0 for a unit not drawn); (resamples x units) each."""
    resamples = len(drawn)
    unit = (unit_of_row[None, :] + n_units * np.arange(resamples)[:, None]).ravel()
    weight = np.bincount(unit, weights=drawn.ravel().astype(float), minlength=resamples * n_units)
    wins = np.bincount(unit, weights=(drawn * outcome).ravel(), minlength=resamples * n_units)
    mean = np.divide(wins, weight, out=np.zeros_like(wins), where=weight > 0)
    return weight.reshape(resamples, n_units), mean.reshape(resamples, n_units)


def bootstrap_style(unit_of_row: np.ndarray, unit_model: np.ndarray, unit_features: np.ndarray,
                    outcome: np.ndarray, n_models: int, baseline: int, rng: np.random.RandomState,
                    rounds: int, copies: np.ndarray | None = None) -> np.ndarray:
    """(rounds, n_models + n_features) coefficients, one fit per bootstrap resample of the rows, row i
    standing for copies[i] identical rows (1 each when not given). The resamples are drawn round by
    round, in order (the stream `randint(0, rows, (rounds, rows))` draws over the rows after the
    expansion), and fitted FITS_AT_ONCE at a time, each block on its own thread (parallel.thread_map).
    Blocks also keep the arrays at a few MB, which the allocator reuses: with all rounds at once, arrays
    of over 10 MB had the kernel map and zero fresh pages at every step."""
    copies = np.ones(len(unit_of_row), dtype=np.int64) if copies is None else copies
    n_rows, n_units, starts = int(copies.sum()), len(unit_model), weighted_rows.first_copies(copies)
    weight, mean = pool_units(unit_of_row, outcome, copies[None, :], n_units)
    tables = unit_tables(unit_model, unit_features, n_models)
    start = fit_bt_batch(tables, mean, weight, baseline)[0]

    def resamples() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for first in range(0, rounds, FITS_AT_ONCE):
            drawn = np.array([weighted_rows.drawn_counts(rng.randint(low=0, high=n_rows, size=n_rows), starts, n_rows)
                              for _ in range(min(FITS_AT_ONCE, rounds - first))])
            yield pool_units(unit_of_row, outcome, drawn, n_units)

    def fit(resample: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        weights, means = resample
        return fit_bt_batch(tables, means, weights, baseline, start)

    blocks = thread_map(fit, resamples())
    return np.concatenate(blocks) if blocks else np.empty((0, n_models + unit_features.shape[1]))


def loose_coefficients(unit_of_row: np.ndarray, unit_model: np.ndarray, unit_features: np.ndarray, n_models: int,
                       baseline: int) -> np.ndarray:
    """The coefficients (models, then features) that all the rows leave free (style_identify)."""
    drawn = np.zeros((1, len(unit_model)))
    drawn[0, unit_of_row] = 1.0
    gram = _weighted_gram(drawn, unit_tables(unit_model, unit_features, n_models))[0]
    return style_identify.loose_coefficients(gram, baseline, n_models)[0]


def win_rates(coefficients: np.ndarray, n_models: int, baseline: int) -> np.ndarray:
    """(rounds, n_models) win rate of each model against the baseline: exp(c_m) / (exp(c_m) + exp(c_b))."""
    c = coefficients[:, :n_models]
    with np.errstate(over="ignore"):  # a model that lost every game drawn: 0
        return 1.0 / (1.0 + np.exp(c[:, [baseline]] - c))
