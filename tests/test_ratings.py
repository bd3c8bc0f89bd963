"""The fast Bradley-Terry paths (closed form on a star, Newton on pair counts, style control) against
the slow per-battle oracle in ratings_oracle.py, on randomized battle sets.

Tolerances: point scores must equal the oracle's to 1e-6 in win rate (both are the exact maximum of the
same likelihood, solved to ~1e-11). The bootstrap uses the identical RandomState(42) index stream as the
oracle (upstream's `battles.sample(frac=1.0, replace=True)`), so every round refits the very same
resample: its ratings, and hence the 2.5/97.5 percentiles, must agree to fit tolerance (1e-6 Elo), not
merely within Monte-Carlo error."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from arena_hard.scoring.v01 import fit as ratings
from arena_hard.scoring.v01 import style_control
from arena_hard.scoring.v01.battles import WINNERS, Battles
from arena_hard.core.errors import UserError
from arena_hard.scoring.v01.table import win_rate_percent
from ratings_oracle import design, oracle_bootstrap, oracle_ratings, oracle_style, win_rate

TIGHT = 1e-6


def random_battles(seed: int, n: int, n_models: int, star: bool) -> Battles:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 0.6, n_models)
    a = np.zeros(n, dtype=np.int32) if star else rng.integers(0, n_models, n).astype(np.int32)
    b = rng.integers(1, n_models, n).astype(np.int32) if star else rng.integers(0, n_models, n).astype(np.int32)
    if not star:
        same = a == b
        b[same] = (b[same] + 1 + rng.integers(0, n_models - 1, same.sum())) % n_models
        a[:n_models - 1], b[:n_models - 1] = 0, np.arange(1, n_models)  # everyone meets the anchor once
    p_a = 1 / (1 + np.exp(strength[b] - strength[a]))
    u = rng.random(n)
    tie = rng.random(n) < 0.15
    outcome = np.where(tie, 2, np.where(u < p_a, 0, 1)).astype(np.int8)
    return Battles([f"m{i}" for i in range(n_models)], ["q"], np.zeros(n, dtype=np.int32), a, b, outcome)


def winners(battles: Battles) -> np.ndarray:
    return np.array(WINNERS)[battles.outcome]


@pytest.mark.parametrize("star", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_point_scores_equal_the_per_battle_regression(seed, star):
    battles = random_battles(seed, n=300 + 100 * seed, n_models=3 + 2 * seed, star=star)
    assert ratings.is_star(battles, 0) == star
    fast = ratings.fit_ratings(battles, 0)
    slow = oracle_ratings(battles.model_a, battles.model_b, winners(battles), len(battles.models), 0)
    assert fast[0] == 1000.0
    assert np.max(np.abs(win_rate(fast, 1000.0) - win_rate(slow, 1000.0))) < TIGHT


@pytest.mark.parametrize("star", [True, False])
def test_bootstrap_refits_the_same_resamples_as_the_oracle(star):
    battles = random_battles(7, n=240, n_models=5, star=star)
    rounds = 12
    fast = ratings.bootstrap_ratings(battles, 0, rounds)
    slow = oracle_bootstrap(battles.model_a, battles.model_b, winners(battles), 5, 0, rounds)
    assert fast.shape == (rounds, 5)
    np.testing.assert_allclose(fast, slow, atol=TIGHT, rtol=0)
    for fast_bound, slow_bound in zip(ratings.rating_bounds(fast), ratings.rating_bounds(slow)):
        np.testing.assert_allclose(fast_bound, slow_bound, atol=TIGHT, rtol=0)


def test_a_model_missing_from_a_resample_gets_nan_in_that_round_as_upstream():
    battles = random_battles(3, n=12, n_models=6, star=True)
    fast = ratings.bootstrap_ratings(battles, 0, 30)
    slow = oracle_bootstrap(battles.model_a, battles.model_b, winners(battles), 6, 0, 30)
    assert np.isnan(fast).any()
    np.testing.assert_array_equal(np.isnan(fast), np.isnan(slow))
    finite = np.isfinite(fast) & (np.abs(fast - 1000) < ratings.RATING_CAP)
    np.testing.assert_allclose(fast[finite], slow[finite], atol=TIGHT, rtol=0)


def test_the_resample_stream_is_pandas_sample_after_seed_42():
    n, rounds = 1000, 20
    np.random.seed(42)
    frame = pd.DataFrame({"row": np.arange(n)})
    expected = [frame.sample(frac=1.0, replace=True)["row"].to_numpy() for _ in range(rounds)]
    ours = np.concatenate(list(ratings.resample_indices(n, rounds)))
    np.testing.assert_array_equal(ours, np.array(expected))


def test_sklearn_logistic_regression_agrees():
    from sklearn.linear_model import LogisticRegression
    battles = random_battles(11, n=500, n_models=6, star=False)
    x, y = design(battles.model_a, battles.model_b, winners(battles), 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-10, max_iter=10000).fit(x, y)
    expected = 400 * model.coef_[0] + 1000
    expected += 1000 - expected[0]
    np.testing.assert_allclose(ratings.fit_ratings(battles, 0), expected, atol=1e-3)


def test_hand_computed_star_score():
    # 3 wins, 2 losses, 1 tie for m1 against the baseline: (3 + 0.5) / 6 = 58.33%.
    outcome = np.array([1, 1, 1, 0, 0, 2], dtype=np.int8)
    battles = Battles(["base", "m1"], ["q"], np.zeros(6, dtype=np.int32), np.zeros(6, dtype=np.int32),
                      np.ones(6, dtype=np.int32), outcome)
    fitted = ratings.fit_ratings(battles, 0)
    assert fitted[1] == pytest.approx(1000 + 400 * np.log10(7 / 5), abs=1e-9)
    assert win_rate_percent(fitted[1], fitted[0]) == 58.33


def test_an_unbeaten_model_is_capped_and_shows_100_percent():
    battles = Battles(["base", "m1", "m2"], ["q"], np.zeros(4, dtype=np.int32), np.zeros(4, dtype=np.int32),
                      np.array([1, 1, 2, 2], dtype=np.int32), np.array([1, 1, 0, 1], dtype=np.int8))
    fitted = ratings.fit_ratings(battles, 0)
    assert fitted[1] == 1000 + ratings.RATING_CAP
    assert win_rate_percent(fitted[1], fitted[0]) == 100.0
    general = ratings.pair_ratings(np.array([0, 0]), np.array([1, 2]), np.array([[0, 2, 0], [1, 1, 0]]), 3, 0)
    np.testing.assert_allclose(general, fitted, atol=1e-6)


def test_models_not_linked_to_the_baseline_are_refused():
    battles = Battles(["base", "m1", "m2", "m3"], ["q"], np.zeros(4, dtype=np.int32),
                      np.array([0, 0, 2, 2], dtype=np.int32), np.array([1, 1, 3, 3], dtype=np.int32),
                      np.array([0, 1, 0, 1], dtype=np.int8))
    with pytest.raises(UserError, match="m2, m3"):
        ratings.fit_ratings(battles, 0)


def style_case(seed: int, star: bool):
    battles = random_battles(seed, n=260, n_models=5, star=star)
    rng = np.random.default_rng(seed + 100)
    a_counts = rng.integers(0, 800, (len(battles), 4)).astype(float)
    b_counts = rng.integers(0, 800, (len(battles), 4)).astype(float)
    return battles, a_counts, b_counts


@pytest.mark.parametrize("mode", ["style", "length", "markdown"])
@pytest.mark.parametrize("star", [True, False])
def test_style_control_equals_the_penalised_per_battle_regression(mode, star):
    battles, a_counts, b_counts = style_case(5, star)
    z, constant = style_control.style_features(a_counts, b_counts, mode)
    assert z.shape == (len(battles), len(style_control.MODES[mode])) and not constant
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-12)
    _, theta, fitted = style_control.fit_style(battles, z, 0)
    slow_ratings, slow_coefficients = oracle_style(battles.model_a, battles.model_b, winners(battles), 5, 0, z)
    np.testing.assert_allclose(fitted, slow_ratings, atol=TIGHT, rtol=0)
    np.testing.assert_allclose(theta[5:], slow_coefficients, atol=1e-9, rtol=0)


def test_style_control_agrees_with_sklearn_default_penalty():
    from sklearn.linear_model import LogisticRegression
    battles, a_counts, b_counts = style_case(9, star=False)
    z, _ = style_control.style_features(a_counts, b_counts, "style")
    _, theta, _ = style_control.fit_style(battles, z, 0)
    x, y = design(battles.model_a, battles.model_b, winners(battles), 5, z)
    model = LogisticRegression(fit_intercept=False, C=1.0, tol=1e-12, max_iter=10000).fit(x, y)
    np.testing.assert_allclose(theta, model.coef_[0], atol=1e-6)


def test_style_bootstrap_refits_the_same_resamples_as_the_oracle():
    battles, a_counts, b_counts = style_case(13, star=True)
    z, _ = style_control.style_features(a_counts, b_counts, "style")
    problem, theta, _ = style_control.fit_style(battles, z, 0)
    fast = style_control.bootstrap_style(problem, battles, theta, 5)
    state = np.random.RandomState(42)
    for round_ratings in fast:
        rows = state.choice(len(battles), len(battles), replace=True)  # both copies of a battle move together
        expected, _ = oracle_style(battles.model_a[rows], battles.model_b[rows], winners(battles)[rows], 5, 0, z[rows])
        np.testing.assert_allclose(round_ratings, expected, atol=TIGHT, rtol=0)


def test_a_feature_equal_in_every_battle_is_left_out_not_divided_by_zero():
    a_counts = np.array([[100, 0, 3, 1], [50, 0, 2, 0], [70, 0, 0, 4]], dtype=float)
    b_counts = np.array([[90, 0, 1, 1], [60, 0, 5, 2], [20, 0, 1, 0]], dtype=float)
    z, constant = style_control.style_features(a_counts, b_counts, "markdown")
    assert constant == ["header_count_a"]
    assert np.all(z[:, 0] == 0) and np.all(np.isfinite(z))


def test_style_feature_is_the_normalised_difference():
    a_counts = np.array([[100, 1, 0, 0], [10, 0, 0, 0]], dtype=float)
    b_counts = np.array([[300, 0, 0, 0], [10, 0, 0, 0]], dtype=float)
    z, _ = style_control.style_features(a_counts, b_counts, "length")
    d = np.array([(100 - 300) / 401, 0.0])
    np.testing.assert_allclose(z[:, 0], (d - d.mean()) / d.std())
