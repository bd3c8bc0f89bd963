"""Upstream v2.0's verdict labels and the score rows they become, as pure functions.

v2.0 accepts ten labels; each is a synonym of one of v0.1's five (`B<A` is `A>B`, `A<<B` is `B>>A`,
`B=A` is `A=B`, ...), so a v2 game is read into verdict_labels' codes and everything that works on those
codes (who won, strong or not, judge consistency) serves v2.0 unchanged. A label outside the table is
UNKNOWN (upstream stops with a KeyError; here the record is left out and counted).

Rows: one judgment record becomes the model's scores, game 2 (model as A) first, then game 1 (baseline
as A): a win 1, a tie 0.5, a loss 0, a strong verdict `weight` identical rows. Scores are kept in
halves (0, 1, 2) so that every sum is an exact integer. Reads and writes nothing."""
from __future__ import annotations

from typing import Any

import numpy as np

from arena_hard.scoring.verdict_labels import (BASELINE_WINS, DEFAULT_WEIGHT, GAME_WINNER, LABELS, MODEL_WINS,
                                               NO_VERDICT, NOT_PLAYED, STRONG, TIE)

UNKNOWN = NOT_PLAYED + 1  # a label v2.0 does not know
_SYNONYMS = {"B<<A": "A>>B", "B<A": "A>B", "B=A": "A=B", "A<B": "B>A", "A<<B": "B>>A"}
V2_CODES = {**{label: code for code, label in enumerate(LABELS)},
            **{label: LABELS.index(same) for label, same in _SYNONYMS.items()}}
_HALVES = {MODEL_WINS: 2, TIE: 1, BASELINE_WINS: 0}


def v2_code(score: Any) -> int:
    """The code of a game's score: a label, NO_VERDICT for null (or no score), UNKNOWN for anything else."""
    if score is None:
        return NO_VERDICT
    return V2_CODES.get(score, UNKNOWN) if isinstance(score, str) else UNKNOWN


def v2_verdict_code(score: Any) -> int:
    """v2_code with UNKNOWN folded into NO_VERDICT, for code that indexes verdict_labels' tables."""
    code = v2_code(score)
    return NO_VERDICT if code == UNKNOWN else code


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


def score_rows(game1: np.ndarray, game2: np.ndarray, weight: int = DEFAULT_WEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """For records whose two games both hold a label: (record index of each row, score in halves), in
    upstream's order: record by record, game 2's rows then game 1's."""
    halves1, copies1 = _game_tables(0, weight)
    halves2, copies2 = _game_tables(1, weight)
    count = len(game1)
    copies = np.empty(2 * count, dtype=np.int64)
    halves = np.empty(2 * count, dtype=np.int8)
    copies[0::2], copies[1::2] = copies2[game2], copies1[game1]
    halves[0::2], halves[1::2] = halves2[game2], halves1[game1]
    record = np.repeat(np.arange(2 * count) // 2, copies)
    return record, np.repeat(halves, copies)
