"""Upstream v2.0's printed leaderboard table, without pandas: the columns `Model`, `Scores (%)` (the score
times 100 rounded to one decimal) and `CI (%)` (`(-x / +y)`, each side rounded to one decimal), sorted
by score, best first, with ties placed as pandas' sort_values places them, and laid out character for
character as DataFrame.to_string prints it. Pure functions; reads and writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class TableRow:
    model: str
    score: float  # percent, one decimal
    interval: str  # "(-x.x / +y.y)"
    # unrounded fractions, for --output and --plot
    mean: float
    lower: float
    upper: float


def table_rows(models: Sequence[str], scores: Sequence[float], lower: Sequence[float],
               upper: Sequence[float]) -> list[TableRow]:
    """Rows in the given order (upstream's order before its sort), rounded as upstream rounds them."""
    rows = []
    for model, s, lo, up in zip(models, scores, lower, upper):
        s, lo, up = float(s), float(lo), float(up)
        interval = f"(-{round((s - lo) * 100, 1)} / +{round((up - s) * 100, 1)})"
        rows.append(TableRow(model, round(s * 100, 1), interval, s, lo, up))
    return rows


def baseline_row(model: str) -> TableRow:
    return TableRow(model, 50.0, "(-0.0 / +0.0)", 0.5, 0.5, 0.5)


def sort_rows(rows: Sequence[TableRow]) -> list[TableRow]:
    """Best score first, as pandas' sort_values(ascending=False) orders them (numpy quicksort on the
    reversed column, then reversed), so rows with equal scores land where upstream's land."""
    scores = np.array([row.score for row in rows], dtype=float)
    position = np.arange(len(rows))
    valid = ~np.isnan(scores)
    values, index = scores[valid][::-1], position[valid][::-1]
    order = index[values.argsort(kind="quicksort")][::-1]
    order = np.concatenate([order, position[~valid]])
    return [rows[i] for i in order]


def _score_text(score: float) -> str:
    return "NaN" if np.isnan(score) else f"{score:.1f}"


def format_table(rows: Sequence[TableRow]) -> list[str]:
    """The lines DataFrame.to_string prints for these rows (index 0..n-1): the index left-justified,
    text cells and numeric headers with pandas' leading space, every column right-justified, one
    space between columns."""
    index = [str(i) for i in range(len(rows))]
    columns = [("Model", [f" {row.model}" for row in rows]),
               (" Scores (%)", [f" {_score_text(row.score)}" for row in rows]),
               ("CI (%)", [f" {row.interval}" for row in rows])]
    index_width = max((len(i) for i in index), default=0)
    widths = [max([len(header)] + [len(cell) for cell in cells]) for header, cells in columns]
    lines = [" ".join([" " * index_width] + [header.rjust(w) for (header, _), w in zip(columns, widths)])]
    for i, label in enumerate(index):
        lines.append(" ".join([label.ljust(index_width)] +
                              [cells[i].rjust(w) for (_, cells), w in zip(columns, widths)]))
    return lines
