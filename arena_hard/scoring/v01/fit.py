"""Bradley-Terry ratings of battles as upstream's logistic regression computes them (base 10,
scale 400, initial rating 1000, each battle counted twice, a tie as one win for each side), anchored
so the chosen baseline is 1000, and their bootstrap over battles with upstream's random stream.

Fast paths use sufficient statistics: when every battle is the anchor (model_a) against another model
(a star), the maximum-likelihood rating is closed form, 1000 + 400 log10((2 wins + ties) /
(2 losses + ties)); otherwise Newton's method (newton.minimize) on counts per (model_a, model_b, outcome),
each battle row counted with its copies. Bootstrap rounds draw `RandomState(42).randint(0, n, n)` over
the n battles after the --weight expansion, round after round, which is exactly what upstream's
`battles.sample(frac=1.0, replace=True)` draws after `np.random.seed(42)`; the draws are counted back
onto the battle rows (weighted_rows) and the counts summed with bincount.

A model that won (or lost) every battle has no finite maximum-likelihood rating; its rating is
capped at RATING_CAP from the anchor. A model absent from a bootstrap round gets NaN for that round,
as upstream. Pure functions; reads and writes nothing."""
from __future__ import annotations

import math
import warnings
from typing import Iterator

import numpy as np

from arena_hard.core.errors import UserError
from arena_hard.scoring import newton, weighted_rows
from arena_hard.scoring.v01.battles import A_WINS, B_WINS, TIE, Battles

SCALE, BASE, INIT_RATING = 400.0, 10.0, 1000.0
RATING_CAP = 4000.0  # Elo points either side of the anchor: a win rate within about 1e-10 of 0 or 1
SEED = 42
DRAWS_PER_CHUNK = 1 << 19  # bootstrap indices drawn at once (4 MB), in whole rounds, at least one
_NEWTON_TOLERANCE = 1e-11  # largest change of a natural-log rating in the last step
_LN_BASE = math.log(BASE)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def is_star(battles: Battles, anchor: int) -> bool:
    return bool(np.all(battles.model_a == anchor) and np.all(battles.model_b != anchor))


def anchor_and_cap(ratings: np.ndarray, anchor: int, present: np.ndarray) -> np.ndarray:
    """Anchor at INIT_RATING, cap unbounded ratings, NaN for models without battles."""
    ratings = ratings - ratings[..., anchor, None] + INIT_RATING
    ratings = np.clip(ratings, INIT_RATING - RATING_CAP, INIT_RATING + RATING_CAP)
    return np.where(present, ratings, np.nan)


def star_ratings(counts: np.ndarray, anchor: int) -> np.ndarray:
    """Ratings from counts[..., model, outcome] of the model (as model_b) against the anchor."""
    won = 2.0 * counts[..., B_WINS] + counts[..., TIE]  # logistic-regression rows each side wins
    lost = 2.0 * counts[..., A_WINS] + counts[..., TIE]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratings = INIT_RATING + SCALE * (np.log10(won) - np.log10(lost))
    ratings[..., anchor] = INIT_RATING
    present = (won + lost) > 0
    present[..., anchor] = True
    return anchor_and_cap(np.nan_to_num(ratings, nan=INIT_RATING), anchor, present)


def _log_likelihood(s: np.ndarray, pa: np.ndarray, pb: np.ndarray, won: np.ndarray, lost: np.ndarray) -> float:
    d = s[pa] - s[pb]
    return float(-(won @ np.logaddexp(0.0, -d)) - lost @ np.logaddexp(0.0, d))


def pair_ratings(pa: np.ndarray, pb: np.ndarray, counts: np.ndarray, n_models: int, anchor: int,
                 start: np.ndarray | None = None) -> np.ndarray:
    """Maximum-likelihood ratings from counts[pair, outcome] of pairs (models pa[pair], pb[pair]),
    by Newton's method on natural-log ratings, the anchor held at 0."""
    won = 2.0 * counts[:, A_WINS] + counts[:, TIE]  # rows model_a wins
    lost = 2.0 * counts[:, B_WINS] + counts[:, TIE]
    total = won + lost
    present = (np.bincount(pa, total, n_models) + np.bincount(pb, total, n_models)) > 0
    present[anchor] = True
    free = present.copy()
    free[anchor] = False
    s = np.zeros(n_models) if start is None else np.where(np.isfinite(start), start, 0.0)
    s[anchor] = 0.0

    def derivatives(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # of the negative log-likelihood
        p = sigmoid(s[pa] - s[pb])
        return (newton.pair_gradient(pa, pb, total * p - won, n_models),
                newton.pair_hessian(pa, pb, total * p * (1.0 - p), n_models))

    s = newton.minimize(lambda s: -_log_likelihood(s, pa, pb, won, lost), derivatives, s, _NEWTON_TOLERANCE, free)
    return anchor_and_cap(INIT_RATING + SCALE * s / _LN_BASE, anchor, present)


class _Pairs:
    """Battles coded as pair * 3 + outcome, the pairs being the distinct (model_a, model_b)."""

    def __init__(self, battles: Battles):
        n_models = len(battles.models)
        keys, pair = np.unique(battles.model_a.astype(np.int64) * n_models + battles.model_b, return_inverse=True)
        self.pa, self.pb = (keys // n_models).astype(np.intp), (keys % n_models).astype(np.intp)
        self.code = pair.astype(np.int64) * 3 + battles.outcome
        self.n_pairs = len(keys)

    def counts(self, weights: np.ndarray) -> np.ndarray:
        """counts[pair, outcome], each battle row counted `weights[row]` times."""
        return np.bincount(self.code, weights, minlength=3 * self.n_pairs).reshape(self.n_pairs, 3)


def unconnected_models(battles: Battles, anchor: int) -> list[str]:
    """Models that play battles but are not linked to the anchor by any chain of battles."""
    parent = list(range(len(battles.models)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in set(zip(battles.model_a.tolist(), battles.model_b.tolist())):
        parent[root(a)] = root(b)
    return [battles.models[m] for m in battles.present_models() if root(m) != root(anchor)]


def fit_ratings(battles: Battles, anchor: int) -> np.ndarray:
    """Each model's rating (NaN for a model without battles)."""
    n_models = len(battles.models)
    if is_star(battles, anchor):
        return star_ratings(_star_counts(battles, battles.copies), anchor)
    unconnected = unconnected_models(battles, anchor)
    if unconnected:
        raise UserError(f"no chain of battles links {', '.join(unconnected)} to the baseline "
                        f"{battles.models[anchor]}; their ratings are undefined (choose another --baseline)")
    pairs = _Pairs(battles)
    return pair_ratings(pairs.pa, pairs.pb, pairs.counts(battles.copies), n_models, anchor)


def _star_counts(battles: Battles, weights: np.ndarray) -> np.ndarray:
    """counts[model, outcome] of each model (as model_b) against the anchor, row i counted weights[i] times."""
    n_models = len(battles.models)
    return np.bincount(battles.model_b.astype(np.int64) * 3 + battles.outcome, weights,
                       minlength=3 * n_models).reshape(n_models, 3)


def resample_indices(n: int, rounds: int, seed: int = SEED) -> Iterator[np.ndarray]:
    """Each round's battle indices, upstream's stream: RandomState(seed).randint(0, n, n) per round
    (identical to choice(n, n, replace=True)); yielded as (rounds in chunk, n) arrays, as many rounds
    at once as DRAWS_PER_CHUNK holds (at least one): the stream is the same however it is cut."""
    state = np.random.RandomState(seed)
    per_chunk = max(1, DRAWS_PER_CHUNK // max(n, 1))
    done = 0
    while done < rounds:
        chunk = min(per_chunk, rounds - done)
        yield state.randint(0, n, size=(chunk, n))
        done += chunk


def resample_counts(copies: np.ndarray, rounds: int, seed: int = SEED) -> Iterator[np.ndarray]:
    """Per round, how many times each battle row was drawn: resample_indices over the expanded
    battles, a draw of any of row i's copies counting for row i."""
    n, starts = int(copies.sum()), weighted_rows.first_copies(copies)
    for indices in resample_indices(n, rounds, seed):
        for row in indices:
            yield weighted_rows.drawn_counts(row, starts, n)


def bootstrap_ratings(battles: Battles, anchor: int, rounds: int, seed: int = SEED) -> np.ndarray:
    """Ratings refitted on each of `rounds` resamples of the battles, shape (rounds, models)."""
    n_models = len(battles.models)
    if is_star(battles, anchor):
        return np.array([star_ratings(_star_counts(battles, drawn), anchor)
                         for drawn in resample_counts(battles.copies, rounds, seed)]).reshape(-1, n_models)
    pairs = _Pairs(battles)
    start = (fit_ratings(battles, anchor) - INIT_RATING) * _LN_BASE / SCALE
    return np.array([pair_ratings(pairs.pa, pairs.pb, pairs.counts(drawn), n_models, anchor, start)
                     for drawn in resample_counts(battles.copies, rounds, seed)]).reshape(-1, n_models)


def rating_bounds(bootstrap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2.5th and 97.5th percentiles of each model's bootstrap ratings (numpy's linear interpolation),
    over the rounds whose resample held the model (upstream's NaN here printed a meaningless 50.0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a model absent from every round stays NaN
        return np.nanpercentile(bootstrap, 2.5, axis=0), np.nanpercentile(bootstrap, 97.5, axis=0)
