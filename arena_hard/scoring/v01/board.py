"""One v0.1 leaderboard (all battles, or one category's): the anchor, the Bradley-Terry ratings (plain or
style-controlled) with their bootstrap, the notes on what each score rests on, the leaderboard lines on
stdout (upstream's, plus the category header and style coefficients), then --full-stats or the judge's
consistency on stderr; with --reference, the board's benchmark-quality report (quality_board.py), returned
for run.py to print after every leaderboard. The files it would write (--output, --plot, the bootstrap
rounds) are queued on `writes`, for run.py to write once every leaderboard has been computed. Reads the answer files' token
counts through score_inputs.AnswerFiles; writes nothing itself."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from arena_hard.core.bench_version import V0_1
from arena_hard.core.errors import UserError, note
from arena_hard.scoring.coverage import Coverage
from arena_hard.scoring.judge_consistency import judge_consistency
from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.quality_board import BoardReport, Reference, board_report
from arena_hard.scoring.result_files import BOOTSTRAP_FILE, output_stem
from arena_hard.scoring.score_inputs import AnswerFiles
from arena_hard.scoring.v01 import style_control
from arena_hard.scoring.v01.battles import Battles
from arena_hard.scoring.v01.bootstrap_file import load_bootstrap, save_bootstrap
from arena_hard.scoring.v01.fit import INIT_RATING, RATING_CAP, bootstrap_ratings, fit_ratings, rating_bounds
from arena_hard.scoring.v01.full_stats import stats_columns, stats_table
from arena_hard.scoring.v01.output import write_output, write_plot
from arena_hard.scoring.v01.table import format_line, leaderboard_rows, shown_rounds

Quality = tuple[Reference, list[tuple[str, str]]]  # --reference, and the run's models matched with it


@dataclass
class Scope:
    """The battles (and judgment records) of one leaderboard: all, or one category's."""

    category: str | None
    battles: Battles
    records: Records | None
    style_counts: tuple[np.ndarray, np.ndarray] | None
    questions: list[str]  # the bench's questions in this scope
    as_loss: dict[str, int] = field(default_factory=dict)  # per model, questions --missing-as-loss filled


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


def rate_scope(scope: Scope, args: Any, anchor: int, bootstrap_file: Path, battles_digest: str,
               writes: list[Callable[[], Any]]) -> tuple[np.ndarray, np.ndarray, dict[str, float] | None]:
    """Point ratings, bootstrap ratings (rounds x models) and, under style control, the coefficients.
    `battles_digest` is the SHA-256 of the saved battles file these battles are (or will be) written as."""
    battles = scope.battles
    if not args.style:
        ratings, coefficients = fit_ratings(battles, anchor), None
    else:
        z, constant = style_control.style_features(*scope.style_counts, args.style, battles.copies)
        if constant:
            note(f"{', '.join(constant)} is the same in every battle; left out of the style control")
        problem, theta, ratings = style_control.fit_style(battles, z, anchor)
        names = [style_control.COEFFICIENT_NAMES[c] for c in style_control.MODES[args.style]]
        coefficients = {name: round(float(c), 3) for name, c in zip(names, theta[len(battles.models):])}
    source = {"battles_sha256": battles_digest, "category": scope.category, "style": args.style}
    if args.load_bootstrap:
        return ratings, load_bootstrap(bootstrap_file, battles, anchor, source), coefficients
    bootstrap = (style_control.bootstrap_style(problem, battles, theta, args.num_rounds) if args.style
                 else bootstrap_ratings(battles, anchor, args.num_rounds))
    writes.append(lambda: save_bootstrap(bootstrap_file, battles, bootstrap, source))
    return ratings, bootstrap, coefficients


def score_scope(scope: Scope, args: Any, answers: AnswerFiles, date: str, judges: Sequence[str], battles_digest: str,
                writes: list[Callable[[], Any]], quality: Quality | None = None) -> BoardReport | None:
    """Fit and print one leaderboard; its files are queued on `writes`. With --reference (`quality`: the
    reference and the run's models matched with it), its benchmark-quality report is returned for the
    caller to print after every leaderboard, and goes into the --output JSON."""
    battles = scope.battles
    where = f" in category {scope.category!r}" if scope.category else ""
    suffix = f"_{re.sub(r'[^A-Za-z0-9._-]+', '-', scope.category)}" if scope.category else ""
    anchor = resolve_anchor(battles, args.baseline, where)
    present = battles.present_models()
    roles = {m: "the baseline" if m == anchor else "the model" for m in present}
    answers.read("answer-tokens", [battles.models[m] for m in present])
    tokens = {battles.models[m]: answers.average_tokens(battles.models[m], roles[m]) for m in present}
    if scope.category:
        print(f"##### Category: {scope.category} #####")
    rounds_file = BOOTSTRAP_FILE.with_name(f"{BOOTSTRAP_FILE.stem}{suffix}.jsonl")
    ratings, bootstrap, coefficients = rate_scope(scope, args, anchor, rounds_file, battles_digest, writes)
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
    judged = sorted(set(scope.records.models) - {baseline}) if scope.records is not None else \
        [battles.models[m] for m in present if m != anchor]
    covered = battle_coverage(battles, scope.records, scope.questions, judged, scope.as_loss)
    for model in judged:
        message = covered[model].describe() if model in covered else \
            f"{model}: not on the leaderboard: none of its judgments has a verdict"
        if message:
            note(message + where)
    rows = leaderboard_rows({battles.models[m]: (float(ratings[m]), float(lower[m]), float(upper[m])) for m in present},
                            baseline, tokens, args.show_elo)
    for row in rows:
        print(format_line(row, args.show_elo))
    report = None
    if quality is not None:
        rounds = shown_rounds(bootstrap, anchor, args.show_elo)
        report = board_report(*quality, [(row.model, row.score, row.lower, row.upper,
                                          rounds[:, battles.models.index(row.model)]) for row in rows],
                              f"{args.bench_name}{where}")
    columns = stats_columns(rows, baseline, battles, scope.records, covered)
    if args.full_stats:
        print(f"\nFull statistics{where} (W/T/L: the model's wins/ties/losses; >>: strong verdicts):")
        for line in stats_table(rows, columns):
            print(line)
    elif scope.records is not None:
        print(f"\nJudge consistency{where} (game 1 vs game 2 after the swap; label shares over both games):",
              file=sys.stderr)
        for entry in judge_consistency(scope.records):
            print(entry.describe(), file=sys.stderr)
    if args.output:
        keep = (lambda key: True) if args.full_stats else (lambda key: key.startswith("questions_"))
        extra = {model: {k: v for k, v in fields.items() if keep(k)} for model, fields in columns.items()}
        settings = {"bench": args.bench_name, "judges": list(judges), "baseline": baseline, "category": scope.category,
                    "style_control": args.style, "style_coefficients": coefficients, "weight": args.weight,
                    "num_rounds": len(bootstrap), "first_game_only": args.first_game_only, "show_elo": args.show_elo,
                    "missing_as_loss": args.missing_as_loss}
        if quality is not None:
            settings["benchmark_quality"] = report.document if report else None
        writes.append(partial(write_output, output_stem(date, scope.category, args.style), rows, date, settings, extra))
    if args.plot:
        path = args.plot.with_name(f"{args.plot.stem}{suffix}{args.plot.suffix or '.png'}")
        title = f"{args.bench_name}{where}: against {baseline}, judged by {', '.join(judges)}"
        writes.append(partial(write_plot, path, rows, title, args.show_elo))
    return report


def scored_questions(battles: Battles, model: int, universe: set[str]) -> int:
    plays = (battles.model_a == model) | (battles.model_b == model)
    return sum(1 for q in np.unique(battles.question[plays]).tolist() if battles.question_ids[q] in universe)


def battle_coverage(battles: Battles, records: Records | None, universe: Sequence[str], judged: Sequence[str],
             as_loss: dict[str, int] | None = None) -> dict[str, Coverage]:
    """Coverage of every model playing a battle. `judged` are the judged models (the baseline is not one:
    its reasons stay None); `as_loss[model]` the questions --missing-as-loss filled in."""
    universe_set = set(universe)
    judged_set = set(judged)
    result = {}
    for m in battles.present_models():
        name = battles.models[m]
        scored = scored_questions(battles, m, universe_set)
        no_judgment = no_verdict = None
        filled = (as_loss or {}).get(name, 0)
        if records is not None and name in judged_set:
            recorded = {q for q, model in zip(records.question_ids, records.models) if model == name}
            no_judgment = len(universe_set - recorded) + filled
            no_verdict = len(universe) - scored - len(universe_set - recorded)
        result[name] = Coverage(name, len(universe), scored, no_judgment, no_verdict, filled)
    return result
