"""The leaderboard as upstream prints and saves it: each model's rating turned into its predicted
win rate against the baseline (percent, rounded to 2 decimals first), or kept as an integer rating
with --show-elo; one line per model sorted by score; CSV and JSON files under leaderboard/ (upstream's
columns, then coverage and --full-stats columns).

Writes `leaderboard/arena_hard_leaderboard_<YYYYMMDD>[_<category>][_<mode>_control].csv` and `.json`
(atomically) when asked; reads nothing."""
from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from arena_hard.core.jsonl import atomic_write_text
from arena_hard.scoring.ratings import BASE, SCALE

CSV_COLUMNS = ("model", "score", "rating_q025", "rating_q975", "CI", "avg_tokens", "date")


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


def output_stem(date: str, category: str | None, mode: str | None) -> str:
    """arena_hard_leaderboard_<YYYYMMDD>[_<category>][_<mode>_control], safe as a file name."""
    parts = [date] + ([re.sub(r"[^A-Za-z0-9._-]+", "-", category)] if category else []) + \
        ([f"{mode}_control"] if mode else [])
    return "arena_hard_leaderboard_" + "_".join(parts)


def _confidence_text(row: Row) -> str:
    return f"(-{(row.score - row.lower):.2f}, +{(row.upper - row.score):.2f})"


def _extra_keys(extra: dict[str, dict[str, Any]], taken: Sequence[str]) -> list[str]:
    keys = next(iter(extra.values()), {}).keys()
    return [key for key in keys if key not in taken]


def csv_text(rows: Sequence[Row], date: str, extra: dict[str, dict[str, Any]] | None = None) -> str:
    """Upstream's columns, then any `extra[model]` columns (coverage, --full-stats)."""
    extra = extra or {}
    keys = _extra_keys(extra, CSV_COLUMNS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *keys])
    for row in rows:
        more = ["" if extra[row.model].get(key) is None else extra[row.model][key] for key in keys]
        writer.writerow([row.model, row.score, row.lower, row.upper, _confidence_text(row), row.avg_tokens, date,
                         *more])
    return buffer.getvalue()


def _finite_or_none(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def json_text(rows: Sequence[Row], date: str, settings: dict[str, Any],
              extra: dict[str, dict[str, Any]] | None = None) -> str:
    models = []
    for row in rows:
        entry = {key: _finite_or_none(value) for key, value in asdict(row).items()}
        entry["rating_q025"], entry["rating_q975"] = entry.pop("lower"), entry.pop("upper")
        entry["CI"] = _confidence_text(row)
        if extra:
            entry.update({key: _finite_or_none(value) for key, value in extra[row.model].items() if key not in entry})
        models.append(entry)
    return json.dumps({"date": date, **settings, "models": models}, indent=2, ensure_ascii=False) + "\n"


def write_leaderboard(directory: Path, stem: str, rows: Sequence[Row], date: str, settings: dict[str, Any],
                      extra: dict[str, dict[str, Any]] | None = None) -> list[Path]:
    """The CSV and JSON files, with `extra[model]` columns after upstream's; returns their paths."""
    iso_date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    csv_path, json_path = Path(directory) / f"{stem}.csv", Path(directory) / f"{stem}.json"
    atomic_write_text(csv_path, csv_text(rows, iso_date, extra))
    atomic_write_text(json_path, json_text(rows, iso_date, settings, extra))
    return [csv_path, json_path]
