"""Is the benchmark any good? How well a leaderboard separates its models and agrees with a reference ranking.

The seed notebook's benchmark statistics against a reference such as Chatbot Arena's (separability at 95%
and 80%, agreement with confidence, strict agreement, Spearman and Kendall rank correlation, Brier score
and log loss), as a table or, with --json, one JSON object on stdout; the models left out are named on
stderr.

Reads the --scores, --reference and --name-map files (formats: arena_hard/scoring/quality_inputs.py; docs/
benchmark_quality.md). Writes only the --plot chart."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence

from arena_hard.core.errors import ArgumentParser, note, run_main
from arena_hard.scoring.leaderboard_plot import require_pyplot
from arena_hard.scoring.quality_inputs import read_name_map, read_table
from arena_hard.scoring.quality_match import compare
from arena_hard.scoring.quality_report import format_report, plot_quality, report_dict


def parse_args(argv: Sequence[str] | None) -> Any:
    parser = ArgumentParser(prog="benchmark_quality.py", description=__doc__.splitlines()[0])
    parser.add_argument("--scores", type=Path, required=True, metavar="FILE",
                        help="the benchmark's per-model results: JSON lines or CSV with model, score, lower, upper "
                             "and optionally results or var; show_result.py's --output CSV/JSON or bootstrap file")
    parser.add_argument("--reference", type=Path, required=True, metavar="FILE",
                        help="the ranking to agree with: model, rating (or score), rating_q025/rating_q975 (or "
                             "lower/upper); any scores file works too")
    parser.add_argument("--name-map", type=Path, metavar="FILE",
                        help="a JSON object mapping model names between the two files, either direction "
                             "(default: none; names match exactly, then case-insensitively)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--plot", type=Path, metavar="FILE.png",
                        help="also draw benchmark score against reference rating with both intervals "
                             "(default: no chart; needs matplotlib)")
    return parser.parse_args(argv)


def note_left_out(match: Any, scores: Path, reference: Path) -> None:
    for names, path in ((match.scores_only, scores), (match.reference_only, reference)):
        if names:
            note(f"not compared, only in {path} ({len(names)}): {', '.join(names)}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.plot:
        require_pyplot()
    scores, reference = read_table(args.scores), read_table(args.reference)
    name_map = read_name_map(args.name_map) if args.name_map else None
    comparison = compare(scores, reference, name_map, args.name_map)
    note_left_out(comparison.match, args.scores, args.reference)
    if args.json:
        document = {"scores": str(args.scores), "reference": str(args.reference),
                    "name_map": str(args.name_map) if args.name_map else None, **report_dict(comparison.report)}
        print(json.dumps(document, indent=2))
    else:
        for line in format_report(comparison.report, f"{args.scores} against {args.reference}"):
            print(line)
    if args.plot:
        plot_quality(args.plot, [s for s, _ in comparison.match.pairs], comparison.bench, comparison.reference,
                     f"{args.scores.name} against {args.reference.name}")
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_main(main)
