"""--plot FILE.png: the leaderboard as a chart, one row per model (best at the top), a dot at its
score and a bar for its confidence interval, the baseline's level marked. Rows are any objects with
`model`, `score`, `lower` and `upper` (both bench versions' tables).

Needs matplotlib (requirements-optional.txt), imported only when a plot is asked for
(core.png_chart). Writes the PNG atomically."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from arena_hard.core.png_chart import require_pyplot, save_png


def plot_leaderboard(path: Path, rows: Sequence[Any], title: str, show_elo: bool, baseline_level: float) -> None:
    pyplot = require_pyplot()
    labels = [row.model for row in rows]
    scores = [row.score for row in rows]
    below = [max(row.score - row.lower, 0) for row in rows]
    above = [max(row.upper - row.score, 0) for row in rows]
    figure, axes = pyplot.subplots(figsize=(9, 1.2 + 0.38 * len(rows)))
    positions = list(range(len(rows)))[::-1]
    axes.errorbar(scores, positions, xerr=[below, above], fmt="o", color="tab:blue", ecolor="tab:gray",
                  capsize=3, markersize=5)
    for y, score in zip(positions, scores):
        axes.annotate(f"{score:g}", (score, y), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    axes.axvline(baseline_level, color="tab:red", linewidth=0.8, linestyle="--")
    axes.set_yticks(positions, labels)
    axes.set_ylim(-0.8, len(rows) - 0.2)
    axes.set_xlabel("rating (baseline = 1000)" if show_elo else "win rate against the baseline (%)")
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    save_png(pyplot, figure, path)

