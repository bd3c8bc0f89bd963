"""Print the Arena-Hard-Auto leaderboard: each model's Bradley-Terry score against the baseline
(predicted win rate, or rating with --show-elo), its bootstrap 95% confidence interval and the
average length of its answers, as upstream v0.1 prints them; optionally style-controlled, pooled over
several judges, or per question category.

Reads data/<bench>/model_judgment/<judge>/*.jsonl, data/<bench>/model_answer/<model>.jsonl and,
for --category, data/<bench>/question.jsonl. Writes data/arena_hard_battles.jsonl and
data/bootstrapping_results.jsonl (read back by --load-battles / --load-bootstrap), a cache of parsed
files in data/<bench>/.show_result_cache/, and when asked leaderboard/arena_hard_leaderboard_<date>
.csv/.json (--output) and a chart (--plot FILE.png)."""
from __future__ import annotations

import datetime
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from arena_hard.scoring.battles import Battles, Records, read_battles, records_to_battles, write_battles
from arena_hard.scoring.bootstrap_file import load_bootstrap, save_bootstrap
from arena_hard.scoring.judge_consistency import judge_consistency
from arena_hard.core.bench_version import V0_1, version_for
from arena_hard.core.errors import ArgumentParser, UserError, run_main
from arena_hard.scoring.verdict_labels import DEFAULT_WEIGHT, NO_VERDICT
from arena_hard.scoring.leaderboard import format_line, leaderboard_rows, output_stem, write_leaderboard
from arena_hard.scoring.ratings import INIT_RATING, RATING_CAP, bootstrap_ratings, fit_ratings, rating_bounds
from arena_hard.core.records import Bench
from arena_hard.scoring.score_inputs import AnswerFiles, cache_for, load_records, question_categories
from arena_hard.scoring import style_control

BATTLES_FILE = Path("data") / "arena_hard_battles.jsonl"
BOOTSTRAP_FILE = Path("data") / "bootstrapping_results.jsonl"
LEADERBOARD_DIR = Path("leaderboard")


def parse_args(argv: Sequence[str] | None) -> Any:
    parser = ArgumentParser(prog="show_result.py", description=__doc__.splitlines()[0])
    parser.add_argument("--bench-name", default=V0_1.default_bench)
    judges = parser.add_mutually_exclusive_group()
    judges.add_argument("--judge-name", help="the judge whose judgments are scored (default: the bench version's "
                        f"judge, {V0_1.default_judge} for {V0_1.version})")
    judges.add_argument("--judge-names", nargs="+", metavar="JUDGE", help="pool the battles of several judges")
    parser.add_argument("--baseline", help=f"the model every score is against (default: the baseline the "
                        f"judgment records name, else the bench version's: {V0_1.default_baseline} for {V0_1.version})")
    parser.add_argument("--load-battles", action="store_true", help=f"score {BATTLES_FILE} instead of the judgments")
    parser.add_argument("--load-bootstrap", action="store_true",
                        help=f"take the bootstrap rounds from {BOOTSTRAP_FILE} (needs --load-battles)")
    parser.add_argument("--show-elo", action="store_true", help="print ratings (baseline = 1000) instead of win rates")
    parser.add_argument("--weight", type=int, default=DEFAULT_WEIGHT, help="battles a strong verdict (A>>B) counts as")
    parser.add_argument("--num-rounds", type=int, default=100, help="bootstrap rounds")
    parser.add_argument("--output", action="store_true", help=f"also write CSV and JSON under {LEADERBOARD_DIR}/")
    parser.add_argument("--first-game-only", action="store_true", help="score game 1 of each judgment only")
    style = parser.add_mutually_exclusive_group()
    style.add_argument("--style-control", action="store_const", const="style", dest="style",
                       help="control for answer length and markdown (headers, lists, bold)")
    style.add_argument("--length-control-only", action="store_const", const="length", dest="style",
                       help="control for answer length only")
    style.add_argument("--markdown-control-only", action="store_const", const="markdown", dest="style",
                       help="control for markdown (headers, lists, bold) only")
    parser.add_argument("--category", nargs="+", metavar="CATEGORY", help="one leaderboard per question category")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the leaderboard with its CIs")
    args = parser.parse_args(argv)
    if args.load_bootstrap and not args.load_battles:
        parser.error("--load-bootstrap needs --load-battles (the saved rounds belong to the saved battles)")
    if args.weight < 1:
        parser.error("--weight must be at least 1")
    if args.num_rounds < 1:
        parser.error("--num-rounds must be at least 1")
    return args


def note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


@dataclass
class Scope:
    """The battles (and judgment records) of one leaderboard: all, or one category's."""

    category: str | None
    battles: Battles
    records: Records | None
    style_counts: tuple[np.ndarray, np.ndarray] | None


def resolve_anchor(battles: Battles, requested: str | None, where: str) -> int:
    names = [battles.models[m] for m in battles.present_models()]
    if requested is not None:
        if requested not in names:
            raise UserError(f"the baseline {requested!r} plays no battle{where}; pick one of: {', '.join(names)}")
        return battles.models.index(requested)
    firsts = sorted({battles.models[a] for a in np.unique(battles.model_a).tolist()})
    if len(firsts) == 1:
        return battles.models.index(firsts[0])
    if V0_1.default_baseline in firsts:  # upstream v0.1 anchors loaded battles to its baseline whatever they hold
        return battles.models.index(V0_1.default_baseline)
    raise UserError(f"the battles{where} have several baselines ({', '.join(firsts)}); choose the anchor with "
                    "--baseline, or score each category on its own with --category")


def rate_scope(scope: Scope, args: Any, anchor: int, bootstrap_file: Path
               ) -> tuple[np.ndarray, np.ndarray, dict[str, float] | None]:
    """Point ratings, bootstrap ratings (rounds x models) and, under style control, the coefficients."""
    battles = scope.battles
    if not args.style:
        ratings, coefficients = fit_ratings(battles, anchor), None
    else:
        z, constant = style_control.style_features(*scope.style_counts, args.style)
        if constant:
            note(f"{', '.join(constant)} is the same in every battle; left out of the style control")
        problem, theta, ratings = style_control.fit_style(battles, z, anchor)
        names = [style_control.COEFFICIENT_NAMES[c] for c in style_control.MODES[args.style]]
        coefficients = {name: round(float(c), 3) for name, c in zip(names, theta[len(battles.models):])}
    if args.load_bootstrap:
        return ratings, load_bootstrap(bootstrap_file, battles, anchor), coefficients
    bootstrap = (style_control.bootstrap_style(problem, battles, theta, args.num_rounds) if args.style
                 else bootstrap_ratings(battles, anchor, args.num_rounds))
    save_bootstrap(bootstrap_file, battles, bootstrap)
    return ratings, bootstrap, coefficients


def score_scope(scope: Scope, args: Any, answers: AnswerFiles, date: str, judges: Sequence[str]) -> None:
    """Fit, print and (when asked) save and plot one leaderboard."""
    battles = scope.battles
    where = f" in category {scope.category!r}" if scope.category else ""
    suffix = f"_{re.sub(r'[^A-Za-z0-9._-]+', '-', scope.category)}" if scope.category else ""
    anchor = resolve_anchor(battles, args.baseline, where)
    present = battles.present_models()
    roles = {m: "the baseline" if m == anchor else "the model" for m in present}
    # before the bootstrap file is saved: a missing answer file stops the run with nothing written
    tokens = {battles.models[m]: answers.average_tokens(battles.models[m], roles[m]) for m in present}
    if scope.category:
        print(f"##### Category: {scope.category} #####")
    ratings, bootstrap, coefficients = rate_scope(scope, args, anchor,
                                                  BOOTSTRAP_FILE.with_name(f"{BOOTSTRAP_FILE.stem}{suffix}.jsonl"))
    if coefficients is not None:
        print(f"Style Coefficients: {coefficients}")
    lower, upper = rating_bounds(bootstrap)
    absent = {battles.models[m]: int(n) for m, n in zip(present, np.isnan(bootstrap[:, present]).sum(axis=0)) if n}
    if absent:
        note(f"{', '.join(f'{m} ({n} of {len(bootstrap)})' for m, n in absent.items())}: absent from some bootstrap "
             f"resamples{where} (too few judgments); the CI comes from the resamples that hold it")
    capped = [battles.models[m] for m in present if abs(ratings[m] - INIT_RATING) >= RATING_CAP]
    if capped:
        note(f"{', '.join(capped)} won or lost every battle{where}: no finite rating exists, so it is capped "
             f"at {RATING_CAP:g} from the baseline")
    baseline = battles.models[anchor]
    rows = leaderboard_rows({battles.models[m]: (float(ratings[m]), float(lower[m]), float(upper[m])) for m in present},
                            baseline, tokens, args.show_elo)
    for row in rows:
        print(format_line(row, args.show_elo))
    if scope.records is not None:
        print("\nJudge consistency (game 1 vs game 2 after the swap; label shares over both games):")
        for entry in judge_consistency(scope.records):
            print(entry.describe())
    if args.output:
        settings = {"bench": args.bench_name, "judges": list(judges), "baseline": baseline, "category": scope.category,
                    "style_control": args.style, "style_coefficients": coefficients, "weight": args.weight,
                    "num_rounds": len(bootstrap), "first_game_only": args.first_game_only, "show_elo": args.show_elo}
        paths = write_leaderboard(LEADERBOARD_DIR, output_stem(date, scope.category, args.style), rows, date, settings)
        print(f"wrote {' and '.join(str(p) for p in paths)}", file=sys.stderr)
    if args.plot:
        from arena_hard.scoring.leaderboard_plot import plot_leaderboard
        path = args.plot.with_name(f"{args.plot.stem}{suffix}{args.plot.suffix or '.png'}")
        title = f"{args.bench_name}{where}: against {baseline}, judged by {', '.join(judges)}"
        plot_leaderboard(path, rows, title, args.show_elo, INIT_RATING if args.show_elo else 50.0)
        print(f"wrote {path}", file=sys.stderr)


def gather_battles(args: Any, bench: Bench, judges: Sequence[str]) -> tuple[Battles, Records | None, list]:
    """Battles (self-battles dropped), their judgment records (None when loaded) and saved conv_metadata."""
    if args.load_battles:
        battles, metadata = read_battles(BATTLES_FILE)
        records = None
    else:
        records, notes = load_records(bench, judges, cache_for(bench))
        for message in notes:
            note(message)
        dropped = int(np.sum(records.game1 == NO_VERDICT))
        if not args.first_game_only:
            dropped += int(np.sum(records.game2 == NO_VERDICT))
        if dropped:
            note(f"{dropped} game(s) had no verdict (no score, or a label other than A>>B, A>B, A=B, B>A, B>>A) "
                 "and were left out")
        baseline = args.baseline or version_for(args.bench_name).default_baseline
        battles = records_to_battles(records, baseline, args.weight, args.first_game_only)
        metadata = []
    own = battles.model_a == battles.model_b
    if own.any():
        note(f"{int(own.sum())} battle(s) of a model against itself were left out")
        battles = battles.select(~own)
        metadata = [m for m, drop in zip(metadata, own.tolist()) if not drop]
    if not len(battles):
        raise UserError("no battles to score: every game lacks a verdict; check the judgment files")
    return battles, records, metadata


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args.bench_name)
    judges = args.judge_names or [args.judge_name or version_for(args.bench_name).default_judge]
    answers = AnswerFiles(bench, cache_for(bench))
    battles, records, metadata = gather_battles(args, bench, judges)
    counts = None
    if args.style:
        counts = (style_control.counts_from_metadata(metadata, str(BATTLES_FILE))
                  if metadata and all(m is not None for m in metadata)
                  else style_control.battle_counts(battles, answers.style_counts))
    date = datetime.datetime.now().strftime("%Y%m%d")
    scopes = [Scope(None, battles, records, counts)]
    if args.category:
        categories = question_categories(bench, records)
        battle_category = np.array([categories.get(q, "") for q in battles.question_ids], dtype=object)[battles.question]
        scopes = []
        for category in args.category:  # every category is checked before any is scored
            keep = battle_category == category
            if not keep.any():
                found = sorted(set(categories.values()))
                raise UserError(f"no battles in category {category!r}; the questions' categories are: "
                                f"{', '.join(found) if found else '(none)'}")
            scope_records = None
            if records is not None:
                scope_records = records.select(np.array([categories.get(q, "") == category
                                                         for q in records.question_ids]))
            scopes.append(Scope(category, battles.select(keep), scope_records,
                                (counts[0][keep], counts[1][keep]) if counts else None))
    for position, scope in enumerate(scopes):
        if position:
            print()
        score_scope(scope, args, answers, date, judges)
    if not args.load_battles:  # last, so that a run stopped by an error leaves the saved battles as they were
        write_battles(BATTLES_FILE, battles, style_control.metadata_json(*counts) if counts else None)
    return 0


if __name__ == "__main__":
    run_main(main)
