"""The v0.1 leaderboard as upstream prints it: each model's rating turned into its predicted win rate
against the baseline (percent, rounded to 2 decimals first), or kept as an integer rating with
--show-elo; one line per model sorted by score. Pure functions; reads and writes nothing."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from arena_hard.scoring.v01.fit import BASE, SCALE


@dataclass(frozen=True)
class Row:
    model: str
    score: float  # shown: win rate in percent, or the rating truncated to an int with --show-elo
    lower: float
    upper: float
    avg_tokens: int
    rating: float  # the Bradley-Terry rating and its bootstrap percentiles, baseline = 1000
    rating_lower: float
    rating_upper: float


def win_rate_percent(rating: float, baseline_rating: float) -> float:
    """Predicted win rate against the baseline in percent, rounded to 2 decimals as upstream."""
    if math.isnan(rating) or math.isnan(baseline_rating):
        return math.nan
    return round(1 / (1 + BASE ** ((baseline_rating - rating) / SCALE)) * 100, 2)


def shown_rounds(bootstrap: np.ndarray, anchor: int, show_elo: bool) -> np.ndarray:
    """Each bootstrap round's ratings (rounds x models) on the scale the leaderboard shows: the ratings
    themselves with --show-elo, else each model's win rate against the round's baseline (its own 50)."""
    if show_elo:
        return bootstrap
    return np.vectorize(win_rate_percent, otypes=[float])(bootstrap, bootstrap[:, [anchor]])


def _truncate(value: float) -> float:
    return int(value) if math.isfinite(value) else value


def leaderboard_rows(ratings: dict[str, tuple[float, float, float]], baseline: str, avg_tokens: dict[str, int],
                     show_elo: bool) -> list[Row]:
    """Rows sorted by shown score, best first. `ratings[model]` = (rating, lower, upper). Ties keep
    upstream's order before its sort: by name for win rates, by rating with --show-elo."""
    base_rating, base_lower, base_upper = ratings[baseline]
    rows = []
    for model, (rating, lower, upper) in ratings.items():
        if show_elo:
            shown = (_truncate(rating), _truncate(lower), _truncate(upper))
        elif model == baseline:
            shown = (50.0, 50.0, 50.0)  # upstream fills the baseline's own entry with 0.5
        else:
            shown = (win_rate_percent(rating, base_rating), win_rate_percent(lower, base_lower),
                     win_rate_percent(upper, base_upper))
        rows.append(Row(model, *shown, avg_tokens[model], rating, lower, upper))
    if show_elo:
        rows.sort(key=lambda row: -row.rating)
    else:
        rows.sort(key=lambda row: row.model)
    rows.sort(key=lambda row: -row.score if not math.isnan(row.score) else math.inf)
    return rows


def format_line(row: Row, show_elo: bool) -> str:
    decimals = 0 if show_elo else 1
    interval = str((round(row.lower - row.score, decimals), round(row.upper - row.score, decimals)))
    return (f"{row.model : <30} | score: {round(row.score, decimals) : ^5} | 95% CI: {interval : ^12} "
            f"| average #tokens: {row.avg_tokens}")
