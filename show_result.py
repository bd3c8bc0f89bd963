"""Print the Arena-Hard-Auto leaderboard: each model's Bradley-Terry score against the baseline
(predicted win rate, or rating with --show-elo), its bootstrap 95% confidence interval and the
average length of its answers, as upstream v0.1 prints them; optionally style-controlled, pooled over
several judges, or per question category. A v2.0 bench (arena-hard-v2*) gets upstream v2.0's leaderboard
instead, per category, with this project's overall line. stdout carries the leaderboard lines (and, with
--full-stats, a table of per-model statistics after them, and with --reference FILE each leaderboard's
benchmark-quality report against that ranking); notes, coverage and the judge-consistency block go to stderr.

Reads data/<bench>/model_judgment/<judge>/*.jsonl, data/<bench>/model_answer/<model>.jsonl and
data/<bench>/question.jsonl (and the --reference and --name-map files). Writes, only when the whole run succeeds, data/arena_hard_battles.jsonl
(with .source.json beside it) and data/bootstrapping_results.jsonl (read back by --load-battles /
--load-bootstrap), a cache of parsed files in data/<bench>/.show_result_cache/, and when asked
leaderboard/arena_hard_leaderboard_<date>.csv/.json (--output) and a chart (--plot FILE.png). The
computation lives in arena_hard/scoring/v01/ (v0.1) and arena_hard/scoring/v2/ (v2.0), each entered
through its run.py."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from arena_hard.core.bench_version import V0_1, V2_0, version_for
from arena_hard.core.errors import ArgumentParser, run_main
from arena_hard.core.names import unique
from arena_hard.scoring.result_files import BATTLES_FILE, BOOTSTRAP_FILE, LEADERBOARD_DIR, MAX_ROUNDS, MIN_ROUNDS
from arena_hard.scoring.verdict_labels import DEFAULT_WEIGHT, MAX_WEIGHT
from arena_hard.scoring.weighted_rows import MAX_EXPANDED


def parse_args(argv: Sequence[str] | None) -> Any:
    parser = ArgumentParser(prog="show_result.py", description=__doc__.splitlines()[0])
    parser.add_argument("--bench-name", "--benchmark", "--bench", "-b", default=V0_1.default_bench,
                        help="a bench under data/; arena-hard-v2* benches get upstream v2.0's leaderboard "
                             "(default: %(default)s)")
    judges = parser.add_mutually_exclusive_group()
    judges.add_argument("--judge-name", help="the judge whose judgments are scored (default: the bench version's "
                        f"judge, {V0_1.default_judge} for {V0_1.version}, {V2_0.default_judge} for {V2_0.version})")
    judges.add_argument("--judge-names", "-j", nargs="+", metavar="JUDGE", help="pool the judgments of several judges")
    parser.add_argument("--baseline", help=f"the model every score is against (default: the baseline the "
                        f"judgment records name, else the bench version's: {V0_1.default_baseline} for {V0_1.version}, "
                        f"the category's for {V2_0.version})")
    parser.add_argument("--load-battles", action="store_true", help=f"score {BATTLES_FILE} instead of the judgments")
    parser.add_argument("--load-bootstrap", action="store_true",
                        help=f"take the bootstrap rounds from {BOOTSTRAP_FILE} (needs --load-battles)")
    parser.add_argument("--show-elo", action="store_true", help="print ratings (baseline = 1000) instead of win rates")
    parser.add_argument("--weight", type=int, help=f"battles a strong verdict (A>>B) counts as (default: "
                        f"{DEFAULT_WEIGHT}, at most {MAX_WEIGHT:,}; a run refuses a weight that makes over "
                        f"{MAX_EXPANDED:,} battles or score rows, which every bootstrap round draws)")
    parser.add_argument("--num-rounds", type=int, default=100,
                        help=f"bootstrap rounds (default: %(default)s; from {MIN_ROUNDS} to {MAX_ROUNDS:,})")
    parser.add_argument("--output", action="store_true", help=f"also write CSV and JSON under {LEADERBOARD_DIR}/")
    parser.add_argument("--first-game-only", action="store_true", help="score game 1 of each judgment only")
    style = parser.add_mutually_exclusive_group()
    style.add_argument("--style-control", action="store_const", const="style", dest="style",
                       help="control for answer length and markdown (headers, lists, bold)")
    style.add_argument("--length-control-only", action="store_const", const="length", dest="style",
                       help="control for answer length only")
    style.add_argument("--markdown-control-only", action="store_const", const="markdown", dest="style",
                       help="control for markdown (headers, lists, bold) only")
    style.add_argument("--control-features", "-f", nargs="+", choices=("length", "markdown"), metavar="FEATURE",
                       help="upstream v2.0's spelling of style control: length and/or markdown")
    parser.add_argument("--category", "-c", nargs="+", metavar="CATEGORY",
                        help=f"one leaderboard per question category (v2.0 default: {V2_0.default_category}; "
                        "several add this project's overall line)")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the leaderboard with its CIs")
    parser.add_argument("--missing-as-loss", action="store_true",
                        help="count each question of the bench without a judgment for a model as a strong loss in "
                             "both games (what upstream's $ERROR$ answers became)")
    parser.add_argument("--full-stats", action="store_true",
                        help="after the leaderboard, a table of per-model statistics (also in --output)")
    parser.add_argument("--reference", type=Path, metavar="FILE",
                        help="after the leaderboards, how well each separates its models and agrees with this "
                             "reference ranking (benchmark_quality.py's report; also in --output's JSON)")
    parser.add_argument("--name-map", type=Path, metavar="FILE",
                        help="with --reference: a JSON object mapping model names between the leaderboard and the "
                             "reference, either direction (default: names match exactly, then case-insensitively)")
    args = parser.parse_args(argv)
    if args.load_bootstrap and not args.load_battles:
        parser.error("--load-bootstrap needs --load-battles (the saved rounds belong to the saved battles)")
    if args.load_battles:
        given = [flag for flag, value in (("--weight", args.weight is not None),
                                          ("--first-game-only", args.first_game_only)) if value]
        if given:
            parser.error(f"{' and '.join(given)} shape the battles made from the judgments; --load-battles scores "
                         f"{BATTLES_FILE} as saved: drop {' and '.join(given)}, or rerun without --load-battles")
    if args.weight is None:
        args.weight = DEFAULT_WEIGHT
    if args.weight < 1:
        parser.error("--weight must be at least 1")
    if args.weight > MAX_WEIGHT:
        parser.error(f"--weight must be at most {MAX_WEIGHT:,}")
    if not MIN_ROUNDS <= args.num_rounds <= MAX_ROUNDS:
        parser.error(f"--num-rounds must be between {MIN_ROUNDS} and {MAX_ROUNDS:,} (fewer rounds give no meaningful "
                     "confidence interval)")
    if args.judge_names:
        args.judge_names = list(unique(args.judge_names, "--judge-names"))
    if args.category:
        args.category = list(unique(args.category, "--category"))
    if args.missing_as_loss and args.load_battles:
        parser.error("--missing-as-loss needs the judgment files; it cannot be combined with --load-battles")
    if args.name_map and not args.reference:
        parser.error("--name-map maps names for --reference; give --reference FILE too")
    if args.control_features and not args.style:
        features = set(args.control_features)
        args.style = "style" if len(features) > 1 else features.pop()
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    version = version_for(args.bench_name)
    reference = None
    if args.reference:  # read, and a bad file refused, before any scoring work
        from arena_hard.scoring.quality_board import read_reference
        reference = read_reference(args.reference, args.name_map)
    if version.leaderboard == "bootstrap-winrate":  # each leaderboard imported only when it is the one shown
        from arena_hard.scoring.v2.run import run
    else:
        from arena_hard.scoring.v01.run import run
    return run(args, version, reference)


if __name__ == "__main__":
    run_main(main)
