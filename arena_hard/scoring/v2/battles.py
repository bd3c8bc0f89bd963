"""Upstream v2.0's "battles": the score rows that judgment records become, as pure functions.

A v2.0 game is read into verdict_labels' codes (verdict_labels.v2_code: v2.0's ten labels are synonyms of
v0.1's five). One judgment record becomes the model's scores, game 2 (model as A) first, then game 1
(baseline as A): a win 1, a tie 0.5, a loss 0, a strong verdict `weight` identical rows. Scores are kept in
halves (0, 1, 2) so that every sum is an exact integer. A game's identical rows are held as one row of
that many copies (scoring/weighted_rows.py: a weight costs no memory). A category's rows (`ScoreRows`) are
what its win-rate bootstrap (fit) and style control resample. Reads and writes nothing; imports only
shared scoring modules."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.verdict_labels import (BASELINE_WINS, DEFAULT_WEIGHT, GAME_WINNER, LABELS, MODEL_WINS, STRONG,
                                               TIE, UNKNOWN, v2_code)

_HALVES = {MODEL_WINS: 2, TIE: 1, BASELINE_WINS: 0}


def _game_tables(game: int, weight: int) -> tuple[np.ndarray, np.ndarray]:
    """Per label code: the model's score in halves and the number of rows it makes (0 for no verdict)."""
    halves = np.zeros(UNKNOWN + 1, dtype=np.int8)
    copies = np.zeros(UNKNOWN + 1, dtype=np.int64)
    for code in range(len(LABELS)):
        halves[code] = _HALVES[GAME_WINNER[game][code]]
        copies[code] = weight if STRONG[code] else 1
    return halves, copies


def label_rows(label: str, game: int, weight: int = DEFAULT_WEIGHT) -> list[float]:
    """The scores one label gives the model in game 1 (baseline as A) or 2: upstream's table, e.g.
    label_rows("A>>B", 2) == [1, 1, 1] and label_rows("A>>B", 1) == [0, 0, 0]."""
    halves, copies = _game_tables(game - 1, weight)
    code = v2_code(label)
    return [halves[code] / 2] * int(copies[code])


def rows_of_games(game1: np.ndarray, game2: np.ndarray,
                  weight: int = DEFAULT_WEIGHT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For records whose two games both hold a label: per game, (record index, score in halves, number of
    identical rows), in upstream's order: record by record, game 2's rows then game 1's."""
    halves1, copies1 = _game_tables(0, weight)
    halves2, copies2 = _game_tables(1, weight)
    count = len(game1)
    copies = np.empty(2 * count, dtype=np.int64)
    halves = np.empty(2 * count, dtype=np.int8)
    copies[0::2], copies[1::2] = copies2[game2], copies1[game1]
    halves[0::2], halves[1::2] = halves2[game2], halves1[game1]
    played = np.flatnonzero(copies)
    return played // 2, halves[played], copies[played]


@dataclass
class ScoreRows:
    """A category's score rows: row i belongs to records[record[i]], model models[model[i]], and stands for
    copies[i] identical rows of upstream's list."""

    records: Records
    models: list[str]  # sorted names of the judged models
    record: np.ndarray
    model: np.ndarray
    halves: np.ndarray
    copies: np.ndarray


def score_rows(records: Records, weight: int) -> ScoreRows:
    models = sorted(set(records.models))
    position = {name: i for i, name in enumerate(models)}
    record_model = np.array([position[m] for m in records.models], dtype=np.int64)
    record, halves, copies = rows_of_games(records.game1, records.game2, weight)
    return ScoreRows(records, models, record, record_model[record], halves, copies)
