"""Style control on degenerate features, both bench versions (hypothesis, derandomized): a feature that is
constant, one that duplicates another, one collinear with a model (the same on all of its rows), an
all-zero one (all-zero markdown), and a model that wins every game. The fit never raises and returns finite
scores; the coefficients the rows identify equal those of the well-posed problem without the degenerate
feature; and where v2.0's rows leave a score free, it is the one upstream's fit converges to (its start
0.5 projected onto the best fits: tests/v2_oracle.py's converged L-BFGS from 0.5, on upstream's design).
v0.1's fit is L2-penalised, so it is well posed on every feature: it equals the per-battle oracle."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.v01 import style_control as v01_style
from arena_hard.scoring.v2 import style_control as v2_style
from arena_hard.scoring.v2.battles import score_rows
from arena_hard.scoring.v2.board import style_board
from arena_hard.scoring.verdict_labels import v2_code
from ratings_oracle import oracle_style
from test_ratings import random_battles, winners
from v2_oracle import _fit as upstream_fit

PROPERTIES = settings(max_examples=60, deadline=None, database=None, derandomize=True)
KINDS = ("constant", "duplicated", "collinear", "zero")


def degenerate_column(kind: str, features: np.ndarray, model: np.ndarray, chosen: int) -> np.ndarray:
    """A column of the kind, over rows whose models are `model`; `chosen` is the collinear model."""
    if kind == "constant":
        return np.full(len(model), 0.7)
    if kind == "duplicated":
        return features[:, 0].copy()
    if kind == "collinear":
        return np.where(model == chosen, 1.3, 0.0)
    return np.zeros(len(model))


# --- v2.0: the unpenalised fit ------------------------------------------------------------------------

def upstream_win_rates(model, features, outcome, weight, n_models, baseline):
    """Upstream's fit, converged: rows repeated by their weight, +1 for the model and -1 for the baseline."""
    rows = np.repeat(np.arange(len(model)), weight.astype(int))
    onehot = np.zeros((len(rows), n_models))
    onehot[np.arange(len(rows)), model[rows]] = 1.0
    onehot[:, baseline] = -1.0
    coefficients = upstream_fit(np.concatenate([onehot, features[rows]], axis=1), outcome[rows])
    c = coefficients[:n_models]
    return 1.0 / (1.0 + np.exp(c[baseline] - c)), coefficients[n_models:]


@PROPERTIES
@given(seed=st.integers(0, 2 ** 32 - 1), n_models=st.integers(2, 5), k=st.integers(0, 2),
       extra=st.integers(0, 4), kind=st.sampled_from(KINDS))
def test_v2_fit_with_a_degenerate_feature(seed, n_models, k, extra, kind):
    assume(kind != "duplicated" or k > 0)
    rng = np.random.default_rng(seed)
    baseline, judged = n_models - 1, n_models - 1
    model = np.repeat(np.arange(judged), k + 2 + extra)  # enough rows per model for k varying features
    features = rng.normal(size=(len(model), k))
    outcome, weight = rng.uniform(0.1, 0.9, len(model)), rng.integers(1, 4, len(model)).astype(float)
    chosen = int(rng.integers(judged))
    x = np.column_stack([features, degenerate_column(kind, features, model, chosen)])
    well_posed = v2_style.fit_bt(model, features, outcome, weight, n_models, baseline)
    theta = v2_style.fit_bt(model, x, outcome, weight, n_models, baseline)
    assert np.all(np.isfinite(theta))
    rates = v2_style.win_rates(theta[None], n_models, baseline)[0]
    expected, coefficients = upstream_win_rates(model, x, outcome, weight, n_models, baseline)
    np.testing.assert_allclose(rates, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(theta[n_models:], coefficients, rtol=0, atol=1e-5)
    identified = {"constant": [], "collinear": [m for m in range(judged) if m != chosen]}.get(kind, range(judged))
    for m in identified:
        assert theta[m] == pytest.approx(well_posed[m], abs=1e-8)
    if kind == "zero":
        assert theta[-1] == 0.5  # upstream's start: no gradient ever moves it
    if kind == "duplicated":
        assert theta[-1] == pytest.approx(theta[n_models], abs=1e-8)
        assert theta[-1] + theta[n_models] == pytest.approx(well_posed[n_models], abs=1e-8)


@PROPERTIES
@given(seed=st.integers(0, 2 ** 32 - 1), k=st.integers(0, 2))
def test_v2_fit_with_a_model_that_wins_every_game(seed, k):
    rng = np.random.default_rng(seed)
    model = np.repeat(np.arange(3), k + 4)  # models 0..2; 3 is the baseline
    features = rng.normal(size=(len(model), k))
    outcome = np.where(model == 0, 1.0, rng.uniform(0.1, 0.9, len(model)))
    weight = rng.integers(1, 4, len(model)).astype(float)
    theta = v2_style.fit_bt(model, features, outcome, weight, 4, 3)
    assert theta[0] == np.inf and np.all(np.isfinite(theta[1:]))  # the limit its logit runs to
    assert v2_style.win_rates(theta[None], 4, 3)[0].tolist()[0] == 1.0
    others = model != 0  # the others' limit: the fit without its rows
    rest = v2_style.fit_bt(model[others], features[others], outcome[others], weight[others], 4, 3)
    np.testing.assert_allclose(theta[1:], rest[1:], rtol=0, atol=1e-12)


# --- v2.0: the whole board from judgments and answer counts -----------------------------------------

def board_case(seed: int, n_models: int, questions: int):
    rng = np.random.default_rng(seed)
    models = [f"m{i}" for i in range(n_models)]
    labels = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]
    pairs = [(m, f"q{q}") for m in models for q in range(questions)]
    games = rng.integers(0, 5, (2, len(pairs)))
    records = Records([q for _, q in pairs], [m for m, _ in pairs], ["base"] * len(pairs), ["c"] * len(pairs),
                      np.array([v2_code(labels[g]) for g in games[0]], dtype=np.int8),
                      np.array([v2_code(labels[g]) for g in games[1]], dtype=np.int8))
    counts = {name: {f"q{q}": [int(v) for v in rng.integers(1, 900, 4)] for q in range(questions)}
              for name in models + ["base"]}
    return score_rows(records, 3), counts


def degenerate_counts(counts: dict, kind: str) -> dict:
    """Answer counts made degenerate: every answer one length, each model's answers one length, no
    markdown anywhere, or as many list items as headers in every answer."""
    changed = {}
    for i, (name, answers) in enumerate(sorted(counts.items())):
        changed[name] = {}
        for question, (length, headers, lists, bold) in answers.items():
            changed[name][question] = {"constant": [500, headers, lists, bold],
                                       "collinear": [100 + 37 * i, headers, lists, bold],
                                       "zero": [length, 0, 0, 0],
                                       "duplicated": [length, headers, headers, bold]}[kind]
    return changed


@PROPERTIES
@given(seed=st.integers(0, 2 ** 32 - 1), n_models=st.integers(1, 4), questions=st.integers(2, 12),
       kind=st.sampled_from(KINDS), groups=st.sampled_from([["length"], ["markdown"], ["length", "markdown"]]))
def test_v2_board_on_degenerate_answers_never_raises(seed, n_models, questions, kind, groups):
    rows, counts = board_case(seed, n_models, questions)
    counts = degenerate_counts(counts, kind)
    board = style_board(rows, "base", "t", 10, 42, groups, counts.get)
    assert all(np.isfinite(row.mean) and np.isfinite(row.lower) and np.isfinite(row.upper) for row in board.rows)
    assert set(board.loose_features) <= set(board.coefficients or {})
    assert set(board.loose_models) <= set(rows.models)
    if kind == "zero" and "markdown" in groups:  # all three markdown columns are constant: left out
        assert board.dropped_features == ["headers", "lists", "bold"]
        if groups == ["length", "markdown"]:
            assert board.rows == style_board(rows, "base", "t", 10, 42, ["length"], counts.get).rows
    if kind == "constant" and "length" in groups:
        assert "length" in board.dropped_features


def test_v2_collinear_length_is_noted_by_model_and_feature():
    rows, counts = board_case(3, 2, 10)
    board = style_board(rows, "base", "t", 10, 42, ["length", "markdown"], degenerate_counts(counts, "collinear").get)
    assert board.loose_features == ["length"] and board.loose_models == ["m0", "m1"]
    plain = style_board(rows, "base", "t", 10, 42, ["length", "markdown"], counts.get)
    assert plain.loose_features == [] and plain.loose_models == []


# --- v0.1: the penalised fit --------------------------------------------------------------------------

@PROPERTIES
@given(seed=st.integers(0, 2 ** 32 - 1), n_models=st.integers(2, 5), star=st.booleans(),
       k=st.integers(1, 3), kind=st.sampled_from(KINDS))
def test_v01_fit_with_a_degenerate_feature(seed, n_models, star, k, kind):
    battles = random_battles(seed % 10_000, n=30 + seed % 50, n_models=n_models, star=star)
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(len(battles), k))
    chosen = int(rng.integers(1, n_models))
    z = np.column_stack([z, degenerate_column(kind, z, battles.model_b, chosen)])
    _, theta, fitted = v01_style.fit_style(battles, z, 0)
    assert np.all(np.isfinite(theta)) and np.all(np.isfinite(fitted[np.unique(battles.model_b)]))
    expected, coefficients = oracle_style(battles.model_a, battles.model_b, winners(battles), n_models, 0, z)
    present = np.isfinite(fitted)
    np.testing.assert_allclose(fitted[present], expected[present], rtol=0, atol=1e-6)
    np.testing.assert_allclose(theta[n_models:], coefficients, rtol=0, atol=1e-9)
    if kind == "zero":  # an all-zero column changes nothing
        _, _, without = v01_style.fit_style(battles, z[:, :-1], 0)
        np.testing.assert_allclose(fitted, without, rtol=0, atol=1e-6)


@PROPERTIES
@given(a=st.integers(0, 5000), b=st.integers(0, 5000), n=st.integers(2, 400))
def test_v01_a_constant_feature_is_left_out_whatever_its_value(a, b, n):
    # (a - b) / (a + b + 1) the same in every battle: numpy's std is the rounding error of the mean
    # (1e-17, not 0) for most values, and dividing by it made a column of +-1
    a_counts = np.tile([a, 0, 3, 0], (n, 1)).astype(float)
    b_counts = np.tile([b, 0, 3, 0], (n, 1)).astype(float)
    z, constant = v01_style.style_features(a_counts, b_counts, "style")
    assert constant == list(v01_style.COEFFICIENT_NAMES)
    assert np.all(z == 0)
