"""The v2.0 leaderboard's files: the --output CSV/JSON and --plot PNG of each board (each category, and the
overall line).

Writes leaderboard/arena_hard_leaderboard_<date>_<category>[_<mode>_control].csv/.json and the plots,
only after checking that every write can be attempted (matplotlib importable); reads nothing."""
from __future__ import annotations

import csv
import io
import json
import math
import sys
from types import SimpleNamespace
from typing import Any, Sequence

import numpy as np

from arena_hard.core.errors import note
from arena_hard.core.atomic_write import atomic_write_text
from arena_hard.scoring.result_files import LEADERBOARD_DIR, output_stem, replaced_judges
from arena_hard.scoring.v2.full_stats import CategoryStats
from arena_hard.scoring.v2.table import TableRow

CSV_COLUMNS = ("model", "score", "lower", "upper", "CI", "questions_scored", "questions", "avg_tokens", "date")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _entry(row: TableRow, stats: CategoryStats | None, tokens: dict[str, int | None]) -> dict[str, Any]:
    return {"model": row.model, "score": row.score, "lower": _finite(round(row.lower * 100, 2)),
            "upper": _finite(round(row.upper * 100, 2)), "CI": row.interval,
            "questions_scored": stats.scored.get(row.model) if stats else None,
            "questions": stats.questions if stats else None, "avg_tokens": tokens.get(row.model)}


def shown(board: Any) -> list[tuple[str, float, float, float, np.ndarray | None]]:
    """For --reference, in percent: each model's shown score, the 2.5th to 97.5th percentile of its bootstrap
    rounds (the 95% interval the statistics are defined on; the board shows 5% to 95%), and the rounds."""
    result = []
    for row in board.rows:
        rounds = board.rounds.get(row.model)
        if rounds is None:
            result.append((row.model, row.score, row.lower * 100, row.upper * 100, None))
        else:
            lower, upper = np.nanpercentile(rounds * 100, [2.5, 97.5])
            result.append((row.model, row.score, float(lower), float(upper), rounds * 100))
    return result


def write_outputs(args: Any, boards: Sequence[Any], stats: Sequence[CategoryStats], tokens: dict[str, int | None],
                  date: str, settings: dict[str, Any], quality: Sequence[dict[str, Any] | None] | None = None) -> None:
    """Each board's files; `quality[i]`, with --reference, is board i's report for its JSON."""
    if not args.output and not args.plot:
        return
    if args.plot:
        from arena_hard.scoring.leaderboard_plot import plot_leaderboard, require_pyplot
        require_pyplot()  # fails with its one line before anything is written
    features = settings["control_features"]
    mode = ("style" if len(set(features)) > 1 else features[0]) if features else None
    iso_date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    for position, board in enumerate(boards):
        category_stats = stats[position] if position < len(stats) else None
        name = category_stats.category if category_stats else "overall"
        entries = [_entry(row, category_stats, tokens) for row in board.rows]
        if args.output:
            stem = output_stem(date, name, mode)
            replaced = replaced_judges(LEADERBOARD_DIR / f"{stem}.json", settings["judges"])
            if replaced:
                note(replaced)
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            for entry in entries:
                writer.writerow([entry[c] if c != "date" else iso_date for c in CSV_COLUMNS])
            atomic_write_text(LEADERBOARD_DIR / f"{stem}.csv", buffer.getvalue())
            document = {"date": iso_date, **settings, "category": name,
                        "baseline": category_stats.baseline if category_stats else None,
                        "style_coefficients": board.coefficients, "interval": "90% (5% and 95% bootstrap quantiles)",
                        "models": entries}
            if quality is not None:
                document["benchmark_quality"] = quality[position]
            atomic_write_text(LEADERBOARD_DIR / f"{stem}.json",
                              json.dumps(document, indent=2, ensure_ascii=False) + "\n")
            print(f"wrote {LEADERBOARD_DIR / stem}.csv and .json", file=sys.stderr)
        if args.plot:
            path = args.plot.with_name(f"{args.plot.stem}_{name}{args.plot.suffix or '.png'}")
            rows = [SimpleNamespace(model=r.model, score=r.score, lower=r.lower * 100, upper=r.upper * 100)
                    for r in board.rows]
            plot_leaderboard(path, rows, f"{settings['bench']} {name}: judged by {', '.join(settings['judges'])}",
                             False, 50.0)
            print(f"wrote {path}", file=sys.stderr)
