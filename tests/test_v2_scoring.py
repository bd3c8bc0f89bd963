"""The v2.0 scoring pieces against hand-computed values: upstream's label table, the score rows of a
record, the style features of a few rows, the Bradley-Terry fit on data with a known answer, and the
printed table against pandas' own to_string / sort_values."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arena_hard.scoring import verdict_labels
from arena_hard.scoring.v2 import battles as v2_battles
from arena_hard.scoring.v2 import style_control as v2_style
from arena_hard.scoring.verdict_labels import NO_VERDICT
from arena_hard.scoring.v2.table import format_table, sort_rows, table_rows
from arena_hard.scoring.v2.fit import group_quantile, kahan_mean

# upstream v2.0's table as the issue states it, for game 2 (the model as A); game 1 gives 1 - s
HAND_TABLE = {"A>B": [1], "A>>B": [1, 1, 1], "A=B": [0.5], "B=A": [0.5], "A<B": [0], "B>A": [0],
              "A<<B": [0, 0, 0], "B>>A": [0, 0, 0], "B<A": [1], "B<<A": [1, 1, 1]}


@pytest.mark.parametrize("label", sorted(HAND_TABLE))
def test_label_table(label):
    assert v2_battles.label_rows(label, 2) == HAND_TABLE[label]
    assert v2_battles.label_rows(label, 1) == [1 - s for s in HAND_TABLE[label]]
    assert len(v2_battles.label_rows(label, 2, weight=5)) == (5 if len(HAND_TABLE[label]) == 3 else 1)


def test_unknown_and_null_labels():
    assert verdict_labels.v2_code(None) == NO_VERDICT
    assert verdict_labels.v2_code("A>B>A") == verdict_labels.UNKNOWN
    assert verdict_labels.v2_code(3) == verdict_labels.UNKNOWN


def test_records_become_rows_game_2_first():
    codes = lambda *labels: np.array([verdict_labels.v2_code(label) for label in labels], dtype=np.int8)  # noqa: E731
    record, halves, copies = v2_battles.rows_of_games(codes("A>>B", "B<A"), codes("B<A", "A=B"))
    record, halves = np.repeat(record, copies), np.repeat(halves, copies)  # upstream's rows: a row x its copies
    # record 0: game 2 B<A -> [1]; game 1 A>>B -> 1 - [1, 1, 1]; record 1: game 2 A=B -> [0.5]; game 1 B<A -> [0]
    assert record.tolist() == [0, 0, 0, 0, 1, 1]
    assert (halves / 2).tolist() == [1, 0, 0, 0, 0.5, 0]


def test_style_features_by_hand():
    model = np.array([[100, 2, 3, 4], [50, 0, 0, 0], [10, 1, 0, 2]])
    baseline = np.array([[300, 0, 1, 0], [50, 0, 0, 0], [30, 1, 4, 0]])
    features = v2_style.raw_features(model, baseline)
    expected = [
        [-0.5, (2 / 101) / (2 / 101 + 1), (3 / 101 - 1 / 301) / (3 / 101 + 1 / 301 + 1), (4 / 101) / (4 / 101 + 1)],
        [0.0, 0.0, 0.0, 0.0],
        [-0.5, (1 / 11 - 1 / 31) / (1 / 11 + 1 / 31 + 1), -(4 / 31) / (4 / 31 + 1), (2 / 11) / (2 / 11 + 1)],
    ]
    assert np.allclose(features, expected, rtol=0, atol=1e-15)
    kept, mean, std = v2_style.zscore_params(features, (0, 1, 2, 3))
    assert kept == [0, 1, 2, 3]
    assert np.allclose(std, np.std(features, axis=0, ddof=1)) and np.allclose(mean, features.mean(axis=0))
    assert v2_style.zscore_params(np.ones((4, 4)), (0,))[0] == []


def test_bt_fit_recovers_the_win_rate_without_features():
    # one model, 10 rows: 7 wins, 1 tie, 2 losses -> win rate 7.5 / 10 exactly at the optimum
    outcome = np.array([1] * 7 + [0.5] + [0] * 2, dtype=float)
    theta = v2_style.fit_bt(np.zeros(10, dtype=int), np.zeros((10, 0)), outcome, np.ones(10), 2, 1)
    assert v2_style.win_rates(theta[None, :], 2, 1)[0].tolist() == pytest.approx([0.75, 0.5], abs=1e-12)


def test_bt_fit_matches_a_generic_optimizer():
    from scipy.optimize import minimize
    rng = np.random.default_rng(3)
    model = rng.integers(0, 3, 400)
    x = rng.normal(size=(400, 2))
    outcome = (rng.random(400) < 1 / (1 + np.exp(-(np.array([0.5, -1.0, 0])[model] + x @ [0.8, -0.3])))) * 1.0
    theta = v2_style.fit_bt(model, x, outcome, np.ones(400), 3, 2)
    design = np.column_stack([model == 0, model == 1, x]).astype(float)

    def loss(t):
        eta = design @ t
        return np.sum(np.logaddexp(0, eta) - outcome * eta), design.T @ (1 / (1 + np.exp(-eta)) - outcome)
    reference = minimize(loss, np.zeros(4), jac=True, method="BFGS", options={"gtol": 1e-10}).x
    assert np.allclose(np.concatenate([theta[:2], theta[3:]]), reference, atol=1e-6)


def test_bootstrap_blocks_on_threads_equal_one_fit_per_resample_of_upstreams_draw():
    rng = np.random.default_rng(5)
    rows, units = 300, 60
    unit_of_row = rng.integers(0, units, rows)
    unit_model = np.arange(units) % 4  # model 3 is the baseline
    features = rng.normal(size=(units, 2))
    outcome = rng.integers(0, 3, rows) / 2.0
    rounds = 2 * v2_style.FITS_AT_ONCE + 7  # three blocks, the last one short
    coefficients = v2_style.bootstrap_style(unit_of_row, unit_model, features, outcome, 4, 3,
                                            np.random.RandomState(42), rounds)
    picks = np.random.RandomState(42).randint(0, rows, (rounds, rows))  # upstream's draw, all at once
    for r in (0, v2_style.FITS_AT_ONCE, rounds - 1):
        drawn = np.bincount(picks[r], minlength=rows).astype(float)
        weight = np.bincount(unit_of_row, weights=drawn, minlength=units)
        wins = np.bincount(unit_of_row, weights=drawn * outcome, minlength=units)
        mean = np.divide(wins, weight, out=np.zeros(units), where=weight > 0)
        alone = v2_style.fit_bt(unit_model, features, mean, weight, 4, 3)
        assert np.allclose(coefficients[r], alone, atol=1e-9, equal_nan=True)


def test_pandas_summaries():
    rounds = np.random.default_rng(0).random((100, 3))
    frame = pd.DataFrame({"model": np.tile(["a", "b", "c"], 100), "scores": rounds.ravel()})
    assert kahan_mean(rounds).tolist() == frame.groupby("model").mean()["scores"].tolist()
    for q in (0.05, 0.5, 0.95):
        assert group_quantile(rounds, q).tolist() == frame.groupby("model").quantile(q)["scores"].tolist()


@pytest.mark.parametrize("seed", range(5))
def test_table_prints_and_sorts_as_pandas(seed):
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 40))
    names = [f"model-{'x' * int(rng.integers(0, 30))}{i}" for i in range(count)]
    scores = rng.choice([0.1, 0.25, 0.5, 0.5004, 0.9, 1.0, 0.0], count)  # many ties after rounding
    lower, upper = scores - rng.random(count) * 0.1, scores + rng.random(count) * 0.1
    rows = table_rows(names, scores, lower, upper)
    frame = pd.DataFrame({"Model": names, "Scores (%)": [r.score for r in rows], "CI (%)": [r.interval for r in rows]})
    expected = frame.sort_values(by="Scores (%)", ascending=False).reset_index(drop=True).to_string()
    assert "\n".join(format_table(sort_rows(rows))) == expected
