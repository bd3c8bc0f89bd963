"""show_result.py --reference FILE [--name-map FILE]: the benchmark-quality report (quality.py) of each
leaderboard show_result prints, against a reference ranking. A board is compared on what it shows: each
model's shown score and interval, and its bootstrap rounds on the same scale as its `results`.

The reference and the name map are read (a bad file refused with its one line) before any scoring work
(`read_reference`); the run's models are matched with the reference once (`match_run`), fewer than 3 in
common being a UserError before any leaderboard is printed or file written, and the leaderboard's models
without a counterpart are noted on stderr; then each board compares the matched models it shows
(`board_report`; a board showing fewer than 3 gets a note instead). Reads the two files; writes nothing:
the caller prints the report's lines after its leaderboards and puts its dict in the --output JSON."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from arena_hard.core.errors import note
from arena_hard.scoring.quality_inputs import Entry, Table, read_name_map, read_table
from arena_hard.scoring.quality_match import compare_pairs, match_models
from arena_hard.scoring.quality_report import format_report, report_dict

LEADERBOARD = "the leaderboard"


@dataclass(frozen=True)
class Reference:
    table: Table
    name_map: dict[str, str] | None
    map_path: Path | None


@dataclass(frozen=True)
class BoardReport:
    lines: list[str]  # what is printed
    document: dict[str, Any]  # what --output's JSON holds under "benchmark_quality"


def read_reference(path: Path | None, map_path: Path | None) -> Reference | None:
    """The --reference table and --name-map, or None without --reference."""
    if path is None:
        return None
    return Reference(read_table(path), read_name_map(map_path) if map_path else None, map_path)


def match_run(reference: Reference, models: Iterable[str]) -> list[tuple[str, str]]:
    """(leaderboard name, reference name) of the run's models found in the reference."""
    models = list(dict.fromkeys(models))
    table = Table(LEADERBOARD, {model: Entry(model, 0.0, 0.0, 0.0) for model in models})
    pairs = match_models(table, reference.table, reference.name_map, reference.map_path)
    matched = {model for model, _ in pairs}
    unmatched = [model for model in models if model not in matched]
    if unmatched:
        where = (f"mapped to a model of {reference.table.source} by {reference.map_path}" if reference.name_map
                 else f"in {reference.table.source} (map names with --name-map)")
        note(f"--reference: {', '.join(unmatched)} not {where}; left out of the benchmark quality report")
    return pairs


def board_report(reference: Reference, pairs: Sequence[tuple[str, str]],
                 shown: Iterable[tuple[str, float, float, float, np.ndarray | None]], title: str
                 ) -> BoardReport | None:
    """The report on a board's matched models. `shown` holds each model's (name, score, lower, upper, rounds),
    rounds on the score's scale (NaN for a round without the model); a model without a finite score is left
    out. None, with a note, when fewer than 3 matched models remain."""
    entries = {}
    for model, score, lower, upper, rounds in shown:
        if np.isfinite([score, lower, upper]).all():
            kept = None if rounds is None else np.asarray(rounds, dtype=float)[np.isfinite(rounds)]
            entries[model] = Entry(model, float(score), float(lower), float(upper),
                                   tuple(kept.tolist()) if kept is not None and kept.size else None)
    board_pairs = [(model, rated) for model, rated in pairs if model in entries]
    if len(board_pairs) < 3:
        note(f"{title}: no benchmark quality report, only {len(board_pairs)} of its models are in "
             f"{reference.table.source} (at least 3 are needed)")
        return None
    comparison = compare_pairs(board_pairs, Table(LEADERBOARD, entries), reference.table)
    heading = f"Benchmark quality of {title} against {reference.table.source}"
    document = {"reference": reference.table.source,
                "name_map": str(reference.map_path) if reference.map_path else None,
                "compared": [model for model, _ in board_pairs], **report_dict(comparison.report)}
    return BoardReport(format_report(comparison.report, heading), document)


def print_reports(reports: Sequence[BoardReport | None]) -> None:
    """Each report after the leaderboards, a blank line before each."""
    for report in reports:
        if report is not None:
            print()
            print("\n".join(report.lines))
