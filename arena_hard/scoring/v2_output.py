"""What a v2.0 leaderboard adds besides its printed tables: the --full-stats table per category, and the
--output CSV/JSON and --plot PNG files of each board (each category, and the overall line).

Reads the models' answer files for their average token counts (through the cache); writes
leaderboard/arena_hard_leaderboard_<date>_<category>[_<mode>_control].csv/.json and the plots, only
after checking that every write can be attempted (matplotlib importable)."""
from __future__ import annotations

import csv
import io
import json
import math
import sys
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Sequence

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import atomic_write_text
from arena_hard.scoring.battles import Records
from arena_hard.scoring.judge_consistency import judge_consistency
from arena_hard.scoring.leaderboard import output_stem
from arena_hard.scoring.result_files import LEADERBOARD_DIR
from arena_hard.scoring.v2_table import TableRow

CSV_COLUMNS = ("model", "score", "lower", "upper", "CI", "questions_scored", "questions", "avg_tokens", "date")


@dataclass
class CategoryStats:
    category: str
    baseline: str
    records: Records  # the records scored (with --missing-as-loss, the added losses too)
    scored: dict[str, int]  # questions judged per model
    questions: int


def average_tokens(answers: Any, boards: Sequence[Any]) -> dict[str, int | None]:
    """Average token_len of each shown model's answer file; None where it has none."""
    tokens: dict[str, int | None] = {}
    answers.read("answer-tokens", [row.model for board in boards for row in board.rows])
    for board in boards:
        for row in board.rows:
            if row.model not in tokens:
                try:
                    tokens[row.model] = answers.average_tokens(row.model, "the model")
                except UserError:
                    tokens[row.model] = None
    return tokens


def _side_counts(counts: Sequence[int], game: int) -> str:
    """Wins/ties/losses of the model in one game (strong verdicts in brackets)."""
    strong_win, win, tie, loss, strong_loss = (counts[4], counts[3], counts[2], counts[1], counts[0]) if game == 1 \
        else (counts[0], counts[1], counts[2], counts[3], counts[4])
    return f"{win + strong_win}/{tie}/{loss + strong_loss} ({strong_win}/{strong_loss})"


def full_stats_lines(stats: CategoryStats, board: Any, tokens: dict[str, int | None]) -> list[str]:
    """Per model: questions scored, each game's wins/ties/losses for the model (strong ones), agreement
    across the swap, the score and its 90% interval, average tokens."""
    shown = {row.model: row for row in board.rows}
    header = (f"{'model':<30} | {'questions':>9} | {'game 1: W/T/L (strong W/L)':>26} | "
              f"{'game 2: W/T/L (strong W/L)':>26} | {'agree':>6} | {'score':>5} | {'90% CI':>14} | tokens")
    lines = [f"Full stats: {stats.category} (against {stats.baseline}; game 1 has the baseline as A)", header]
    for entry in judge_consistency(stats.records):
        row = shown.get(entry.model)
        agree = f"{100 * entry.agree / entry.both_judged:.1f}%" if entry.both_judged else "n/a"
        lines.append(f"{entry.model:<30} | {stats.scored.get(entry.model, 0):>4}/{stats.questions:<4} | "
                     f"{_side_counts(entry.game_label_counts[0], 1):>26} | "
                     f"{_side_counts(entry.game_label_counts[1], 2):>26} | {agree:>6} | "
                     f"{row.score if row else float('nan'):>5} | {row.interval if row else '':>14} | "
                     f"{tokens.get(entry.model)}")
    return lines


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _entry(row: TableRow, stats: CategoryStats | None, tokens: dict[str, int | None]) -> dict[str, Any]:
    return {"model": row.model, "score": row.score, "lower": _finite(round(row.lower * 100, 2)),
            "upper": _finite(round(row.upper * 100, 2)), "CI": row.interval,
            "questions_scored": stats.scored.get(row.model) if stats else None,
            "questions": stats.questions if stats else None, "avg_tokens": tokens.get(row.model)}


def write_outputs(args: Any, boards: Sequence[Any], stats: Sequence[CategoryStats], tokens: dict[str, int | None],
                  date: str, settings: dict[str, Any]) -> None:
    if not args.output and not args.plot:
        return
    if args.plot:
        from arena_hard.scoring.leaderboard_plot import _pyplot, plot_leaderboard
        _pyplot()  # fails with its one line before anything is written
    features = settings["control_features"]
    mode = ("style" if len(set(features)) > 1 else features[0]) if features else None
    iso_date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    for position, board in enumerate(boards):
        category_stats = stats[position] if position < len(stats) else None
        name = category_stats.category if category_stats else "overall"
        entries = [_entry(row, category_stats, tokens) for row in board.rows]
        if args.output:
            stem = output_stem(date, name, mode)
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
