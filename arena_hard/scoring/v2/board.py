"""One category's v2.0 leaderboard from its judgment records, and this project's overall line: records ->
score rows -> bootstrap (plain win rate, or style-controlled Bradley-Terry) -> the table rows upstream
prints, plus each model's bootstrap rounds for the overall score. Pure functions over the score rows
(v2/battles.py) and the answers' style counts; reads and writes nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.v2 import fit, style_control
from arena_hard.scoring.v2.battles import ScoreRows
from arena_hard.scoring.verdict_labels import V2_CODES
from arena_hard.scoring.v2.table import TableRow, baseline_row, sort_rows, table_rows


@dataclass
class Board:
    """A printed leaderboard: its rows (sorted) and each model's bootstrap rounds."""

    title: str
    baseline: str | None
    rows: list[TableRow]
    rounds: dict[str, np.ndarray]
    center: str  # "mean" (win-rate bootstrap) or "median" (style control)
    coefficients: dict[str, float] | None = None
    dropped_features: list[str] = field(default_factory=list)
    # the models and the features whose coefficients the rows leave free (style_identify)
    loose_models: list[str] = field(default_factory=list)
    loose_features: list[str] = field(default_factory=list)


def winrate_board(rows: ScoreRows, baseline: str, title: str, rounds: int, seed: int) -> Board:
    """Upstream's default leaderboard: mean of the bootstrap round means, 5% / 95% quantiles, the baseline
    appended at 50."""
    rng = np.random.RandomState(seed)
    means = fit.bootstrap_means(rows.model, rows.halves, len(rows.models), rng, rounds, rows.copies)
    score, lower, upper = fit.summarize(means, "mean")
    table = table_rows(rows.models, score, lower, upper) + [baseline_row(baseline)]
    per_model = {name: means[:, m] for m, name in enumerate(rows.models)}
    per_model[baseline] = np.full(rounds, 0.5)
    return Board(title, baseline, sort_rows(table), per_model, "mean")


def style_board(rows: ScoreRows, baseline: str, title: str, rounds: int, seed: int, groups: Sequence[str],
                counts_of: Callable[[str], dict[str, list[int]]]) -> Board:
    """Upstream's style-controlled leaderboard. `counts_of(model)` gives {question id: [token_len,
    headers, lists, bold]} of the model's answers; `groups` names the features ("length", "markdown")."""
    names = sorted(set(rows.models) | {baseline})
    position = {name: i for i, name in enumerate(names)}
    records = rows.records
    unit_key = {}
    record_unit = np.empty(len(records), dtype=np.int64)
    for i, key in enumerate(zip(records.models, records.question_ids)):
        record_unit[i] = unit_key.setdefault(key, len(unit_key))
    units = list(unit_key)
    baseline_counts = counts_of(baseline)
    model_counts = np.array([counts_of(model).get(question, [0, 0, 0, 0]) for model, question in units], dtype=float)
    base_counts = np.array([baseline_counts.get(question, [0, 0, 0, 0]) for _, question in units], dtype=float)
    unit_raw = style_control.raw_features(model_counts.reshape(-1, 4), base_counts.reshape(-1, 4))
    unit_of_row = record_unit[rows.record]
    columns = tuple(sorted(c for group in groups for c in style_control.FEATURE_GROUPS[group]))
    kept, mean, std = style_control.zscore_params(unit_raw[unit_of_row], columns, rows.copies)
    unit_z = (unit_raw[:, kept] - mean) / std
    unit_model = np.array([position[model] for model, _ in units], dtype=np.int64)
    loose = style_control.loose_coefficients(unit_of_row, unit_model, unit_z, len(names), position[baseline])
    rng = np.random.RandomState(seed)
    coefficients = style_control.bootstrap_style(unit_of_row, unit_model, unit_z, rows.halves / 2.0, len(names),
                                                 position[baseline], rng, rounds, rows.copies)
    rates = style_control.win_rates(coefficients, len(names), position[baseline])
    score, lower, upper = fit.summarize(rates, "median")
    medians = np.percentile(coefficients[:, len(names):], 50.0, axis=0) if kept else []
    return Board(title, baseline, sort_rows(table_rows(names, score, lower, upper)),
                 {name: rates[:, m] for m, name in enumerate(names)}, "median",
                 {style_control.FEATURES[c]: float(v) for c, v in zip(kept, medians)},
                 [style_control.FEATURES[c] for c in columns if c not in kept],
                 [name for name, free in zip(names, loose) if free],
                 [style_control.FEATURES[c] for c, free in zip(kept, loose[len(names):]) if free])


def overall_board(boards: Sequence[Board], weights: Sequence[float], title: str) -> Board:
    """This project's overall line: per model scored in every board, the question-weighted mean of its
    category scores round by round; summarized as the boards are (mean or median, 5% / 95%)."""
    combined = fit.overall_rounds([board.rounds for board in boards], weights)
    center = boards[0].center
    names = list(combined)
    if not names:
        return Board(title, None, [], {}, center)
    matrix = np.column_stack([combined[name] for name in names])
    score, lower, upper = fit.summarize(matrix, center)
    return Board(title, None, sort_rows(table_rows(names, score, lower, upper)), combined, center)


def missing_as_loss(records: Records, missing: dict[str, list[str]], category: str) -> Records:
    """The records plus, for each (model, question) in `missing`, a record lost strongly in both games."""
    added = [(model, question) for model, questions in missing.items() for question in questions]
    if not added:
        return records
    loss1, loss2 = V2_CODES["A>>B"], V2_CODES["B>>A"]
    return Records(records.question_ids + [q for _, q in added], records.models + [m for m, _ in added],
                   records.baselines + [None] * len(added), records.categories + [category] * len(added),
                   np.concatenate([records.game1, np.full(len(added), loss1, dtype=records.game1.dtype)]),
                   np.concatenate([records.game2, np.full(len(added), loss2, dtype=records.game2.dtype)]))
