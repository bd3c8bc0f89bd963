"""The v0.1 leaderboard's files: CSV and JSON under leaderboard/ (upstream's columns, then coverage and
--full-stats columns), and the --plot chart.

Writes `leaderboard/arena_hard_leaderboard_<YYYYMMDD>[_<category>][_<mode>_control].csv` and `.json`
(atomically) and the PNG when asked; reads nothing."""
from __future__ import annotations

import csv
import io
import json
import math
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from arena_hard.core.errors import note
from arena_hard.core.atomic_write import atomic_write_text
from arena_hard.scoring.leaderboard_plot import plot_leaderboard
from arena_hard.scoring.result_files import LEADERBOARD_DIR, replaced_judges
from arena_hard.scoring.v01.fit import INIT_RATING
from arena_hard.scoring.v01.table import Row

CSV_COLUMNS = ("model", "score", "rating_q025", "rating_q975", "CI", "avg_tokens", "date")


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


def write_output(stem: str, rows: Sequence[Row], date: str, settings: dict[str, Any],
                 extra: dict[str, dict[str, Any]]) -> None:
    replaced = replaced_judges(LEADERBOARD_DIR / f"{stem}.json", settings["judges"])
    if replaced:
        note(replaced)
    paths = write_leaderboard(LEADERBOARD_DIR, stem, rows, date, settings, extra)
    print(f"wrote {' and '.join(str(p) for p in paths)}", file=sys.stderr)


def write_plot(path: Path, rows: Sequence[Row], title: str, show_elo: bool) -> None:
    plot_leaderboard(path, rows, title, show_elo, INIT_RATING if show_elo else 50.0)
    print(f"wrote {path}", file=sys.stderr)
