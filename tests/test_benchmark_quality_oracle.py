"""arena_hard/scoring/quality.py against an independent, slow implementation written here the way the seed
notebook computes each statistic (pair loops, Spearman as pandas' Pearson on ranks, Kendall's tau-b from its definition, scipy's
normal distribution, scikit-learn's Brier score and log loss), on small generated benchmarks full of ties,
touching ends, zero-width intervals and models with and without bootstrap scores."""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from sklearn.metrics import brier_score_loss, log_loss

from arena_hard.scoring.quality import numbers, quality_report

NAMES = "kiwi apple mango fig banana cherry grape lemon".split()


def overlapping_pairs(intervals):
    ordered = sorted(intervals)  # by lower bound, equal lower bounds by upper bound
    return sum(ordered[j][0] < ordered[i][1] for i, j in combinations(range(len(ordered)), 2))


def separability(intervals):
    return 1 - overlapping_pairs(intervals) / math.comb(len(intervals), 2)


def gap(a, b):
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def intervals_by_model(frame):
    return {model: (lower, upper) for model, lower, upper in zip(frame.index, frame.lower, frame.upper)}


def agreement(bench, reference):
    total = credit = signed = 0
    bench_intervals, reference_intervals = intervals_by_model(bench), intervals_by_model(reference)
    for a, b in combinations(bench.index, 2):
        ref_a, ref_b = reference_intervals[a], reference_intervals[b]
        if gap(ref_a, ref_b) > 0 or ref_a == ref_b:
            continue
        total += 1
        bench_a, bench_b = bench_intervals[a], bench_intervals[b]
        if gap(bench_a, bench_b) > 0 or bench_a == bench_b:
            credit += 0.5
        elif (bench_a < bench_b) == (ref_a < ref_b):
            credit, signed = credit + 1, signed + 1
        else:
            signed -= 1
    return (credit / total, signed / total, total) if total else (None, None, 0)


def strict(bench, reference):
    score, reference_score = dict(bench.score), dict(reference.score)
    agree = sum((score[a] - score[b]) * (reference_score[a] - reference_score[b]) > 0
                for a, b in combinations(bench.index, 2))
    return agree / math.comb(len(bench), 2)


def kendall_tau_b(x, y):
    pairs = list(combinations(range(len(x)), 2))
    concordant = sum((x[i] - x[j]) * (y[i] - y[j]) > 0 for i, j in pairs)
    discordant = sum((x[i] - x[j]) * (y[i] - y[j]) < 0 for i, j in pairs)
    tied_x, tied_y = sum(x[i] == x[j] for i, j in pairs), sum(y[i] == y[j] for i, j in pairs)
    denominator = math.sqrt((len(pairs) - tied_x) * (len(pairs) - tied_y))
    return (concordant - discordant) / denominator if denominator else None


def forecast(bench, reference):
    moments = {}
    for model, row in bench.iterrows():
        if row.results is not None:
            moments[model] = (np.mean(row.results), np.var(row.results))
        elif not pd.isna(row["var"]):  # pandas holds a missing variance as NaN
            moments[model] = (row.score, row["var"])
        else:
            moments[model] = (row.score, ((row.upper - row.lower) / (2 * 1.96)) ** 2)
    p, label = [], []
    for a, b in combinations(sorted(bench.index), 2):
        (mean_a, var_a), (mean_b, var_b) = moments[a], moments[b]
        scale = math.sqrt(var_a + var_b)
        p.append(norm.cdf(0, loc=mean_a - mean_b, scale=scale) if scale > 0 else
                 1.0 if mean_a < mean_b else 0.0 if mean_a > mean_b else 0.5)
        label.append(int(reference.score[a] < reference.score[b]))
    return (brier_score_loss(label, p, pos_label=1),
            log_loss(label, np.clip(p, np.finfo(float).eps, 1 - np.finfo(float).eps), labels=[0, 1]))


def oracle(bench, reference):
    agree, signed, confident = agreement(bench, reference)
    with_results = bench.results.map(lambda r: r is not None).all()
    spearman = bench.score.rank().corr(reference.score.rank())  # Pearson on average ranks
    brier, loss = forecast(bench, reference)
    return {"models": len(bench), "separability_95": separability(list(zip(bench.lower, bench.upper))),
            "separability_80": separability([tuple(np.percentile(r, [10, 90])) for r in bench.results])
            if with_results else None,
            "agreement": agree, "agreement_signed": signed, "confident_reference_pairs": confident,
            "strict_agreement": strict(bench, reference), "spearman": None if np.isnan(spearman) else spearman,
            "kendall": kendall_tau_b(list(bench.score), list(reference.score)), "brier": brier, "log_loss": loss,
            "reference_separability_95": separability(list(zip(reference.lower, reference.upper)))}


@st.composite
def sides(draw):
    """A benchmark and a reference on the same models, values on a coarse grid so that ties abound."""
    n = draw(st.integers(3, 7))
    names = draw(st.permutations(NAMES))[:n]

    def side(with_extras):
        rows = []
        for name in names:
            lower = draw(st.integers(0, 8)) / 2
            upper = lower + draw(st.integers(0, 4)) / 2
            results = draw(st.one_of(st.none(), st.lists(st.integers(0, 12), min_size=1, max_size=6))) \
                if with_extras else None
            var = draw(st.one_of(st.none(), st.integers(0, 3).map(float))) if with_extras else None
            rows.append({"model": name, "score": draw(st.integers(0, 6)), "lower": lower, "upper": upper,
                         "results": results, "var": var})
        return pd.DataFrame(rows).set_index("model")

    return side(True), side(False)


def as_numbers(frame):
    return numbers(list(frame.score), list(frame.lower), list(frame.upper), list(frame.results),
                   [None if pd.isna(v) else v for v in frame["var"]])


def same(got, expected):
    if expected is None or got is None:
        return got is expected
    return got == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(sides())
def test_quality_matches_the_slow_oracle(pair):
    bench, reference = pair
    got = quality_report(as_numbers(bench), as_numbers(reference), list(bench.index)).__dict__
    expected = oracle(bench, reference)
    assert got.keys() == expected.keys()
    assert {key: same(got[key], expected[key]) for key in got} == dict.fromkeys(got, True), (got, expected)
