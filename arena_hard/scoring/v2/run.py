"""show_result.py on a v2.0 bench: upstream v2.0's leaderboard per category (plain bootstrap win rate, or
style-controlled with --control-features), this project's overall line when several categories are
asked, and what the v0.1 leaderboard also gives: coverage notes and --missing-as-loss, --full-stats,
--output, --plot and the judges' consistency on stderr.

stdout carries upstream's lines (`Number of null judgments found: N`, the `INFO: Control features`
line, each `##### Category: ... #####` block and its table, the style coefficients), then the overall
block, the --full-stats tables and, with --reference, each board's benchmark-quality report; notes and
the consistency block go to stderr. Reads
data/<bench>/model_judgment/<judge>/*.jsonl, data/<bench>/question.jsonl (categories, coverage) and,
for style control and average tokens, data/<bench>/model_answer/<model>.jsonl, through the cache.
Writes, only once everything is computed, leaderboard/*.csv/.json (--output) and the --plot PNGs."""
from __future__ import annotations

import datetime
import sys
from typing import Any

import numpy as np

from arena_hard.core.bench_version import BenchVersion
from arena_hard.core.errors import UserError, note
from arena_hard.core.records import Bench, load_questions
from arena_hard.scoring.judge_consistency import judge_consistency
from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.quality_board import Reference, board_report, match_run, print_reports
from arena_hard.scoring.score_inputs import AnswerFiles, bench_question_ids, cache_for, load_records
from arena_hard.scoring.usage_stats import print_usage
from arena_hard.scoring.v2 import full_stats, output
from arena_hard.scoring.v2.battles import score_rows
from arena_hard.scoring.v2.board import Board, missing_as_loss, overall_board, style_board, winrate_board
from arena_hard.scoring.v2.fit import SEED
from arena_hard.scoring.v2.table import format_table
from arena_hard.scoring.verdict_labels import NO_VERDICT, NOT_PLAYED, UNKNOWN, v2_code
from arena_hard.scoring.weighted_rows import check_expansion

V01_ONLY = ("show_elo", "load_battles", "load_bootstrap", "first_game_only")


def control_features(args: Any) -> list[str]:
    """-f as given, or the v0.1 style flags spelled as upstream v2.0's features."""
    if args.control_features:
        return list(args.control_features)
    return {"style": ["length", "markdown"], "length": ["length"], "markdown": ["markdown"]}.get(args.style, [])


def _check_flags(args: Any) -> None:
    for name in V01_ONLY:
        if getattr(args, name, False):
            raise UserError(f"--{name.replace('_', '-')} is a v0.1 leaderboard option; {args.bench_name} is a v2.0 "
                            "bench (see docs/leaderboard.md, the v2.0 leaderboard)")


def _categories(bench: Bench, records: Records) -> tuple[list[str], dict[str, list[str]]]:
    """Each record's category (its own, else question.jsonl's) and each category's questions (from
    question.jsonl, else the questions its records name)."""
    asked: dict[str, str] = {}
    questions: dict[str, list[str]] = {}
    if bench.question_file.exists():
        for question in load_questions(bench.question_file):
            asked[question.question_id] = question.category
            questions.setdefault(question.category, []).append(question.question_id)
    categories = [c if c is not None else asked.get(q, "") for q, c in zip(records.question_ids, records.categories)]
    if not questions:
        for question, category in dict(zip(records.question_ids, categories)).items():
            questions.setdefault(category, []).append(question)
    return categories, questions


def _baseline(records: Records, category: str, version: BenchVersion, override: str | None) -> str:
    if override:
        return override
    named = sorted({b for b in records.baselines if b is not None})
    if len(named) > 1:
        raise UserError(f"the judgments in category {category!r} name several baselines ({', '.join(named)}); "
                        "choose one with --baseline")
    return named[0] if named else version.baseline_for(category)


def _coverage(records: Records, questions: list[str], category: str, all_models: list[str],
              add_losses: bool) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Questions each model's score rests on, and the questions it lacks (noted on stderr)."""
    judged: dict[str, set[str]] = {}
    for model, question in zip(records.models, records.question_ids):
        judged.setdefault(model, set()).add(question)
    models = all_models if add_losses else sorted(judged)
    missing = {m: [q for q in questions if q not in judged.get(m, set())] for m in models}
    for model in models:
        if missing[model]:
            scored = len(questions) - len(missing[model])
            action = ("counted as strong losses (--missing-as-loss)" if add_losses
                      else "see gen_answer/gen_judgment output, or --missing-as-loss")
            note(f"{model}: scored on {scored} of {len(questions)} questions in {category}; "
                 f"{len(missing[model])} {'has' if len(missing[model]) == 1 else 'have'} no judgment ({action})")
    return {m: len(questions) - len(missing[m]) for m in models}, (missing if add_losses else {})


def _collinear(board: Board, category: str) -> str:
    """The note on style features the rows cannot tell apart from the models or from each other."""
    features = board.loose_features
    which = f"style feature{'s' if len(features) > 1 else ''} {', '.join(features)} {'are' if len(features) > 1 else 'is'}"
    if not board.loose_models:
        return (f"in {category}, {which} collinear with each other within each model's rows: their coefficients are "
                "split as upstream's fit converges to; no score depends on the split")
    return (f"in {category}, {which} collinear with the models (constant within each model's rows, alone or combined): "
            f"the judgments leave the style-controlled scores of {', '.join(board.loose_models)} undetermined; shown "
            "is the best fit nearest upstream's starting point, the one upstream's fit converges to")


def run(args: Any, version: BenchVersion, reference: Reference | None = None) -> int:
    """show_result.py for a bootstrap win-rate (v2.0) bench; `reference`: --reference read (quality_board)."""
    _check_flags(args)
    bench = Bench(args.bench_name)
    judges = args.judge_names or [args.judge_name or version.default_judge]
    asked = args.category or [version.default_category]
    features = control_features(args)
    cache = cache_for(bench)
    answers = AnswerFiles(bench, cache, bench_question_ids(bench))
    records, notes = load_records(bench, judges, cache, code_of=v2_code, kind="judgments-v2",
                                  questions=answers.questions)
    for message in notes:
        note(message)
    null = np.isin(records.game1, (NO_VERDICT, NOT_PLAYED)) | np.isin(records.game2, (NO_VERDICT, NOT_PLAYED))
    unknown = ~null & ((records.game1 == UNKNOWN) | (records.game2 == UNKNOWN))
    print(f"Number of null judgments found: {int(null.sum())}")
    if unknown.any():
        note(f"{int(unknown.sum())} judgment record(s) hold a label outside upstream v2.0's table and were left out "
             "(upstream stops with a KeyError on them)")
    categories, questions = _categories(bench, records)
    category_of = np.array(categories, dtype=object)
    valid = ~null & ~unknown
    present = sorted(set(category_of[valid].tolist()))
    for category in asked:
        if category not in present:
            raise UserError(f"no judgments in category {category!r}; the judgments' categories are: "
                            f"{', '.join(present) if present else '(none)'}")
    all_models = sorted(set(records.models))
    prepared = []
    for category in asked:
        scope = records.select(valid & (category_of == category))
        baseline = _baseline(scope, category, version, args.baseline)
        own = np.array([m == baseline for m in scope.models], dtype=bool)
        if own.any():
            note(f"{int(own.sum())} judgment(s) of the baseline {baseline} against itself in {category} were left out")
            scope = scope.select(~own)
        scored, missing = _coverage(scope, questions.get(category, []), category,
                                    [m for m in all_models if m != baseline], args.missing_as_loss)
        scope = missing_as_loss(scope, missing, category)
        if not len(scope):
            raise UserError(f"no judgments to score in category {category!r} besides the baseline's own")
        prepared.append((category, baseline, scope, scored, score_rows(scope, args.weight)))
    check_expansion(sum(int(rows.copies.sum()) for *_, rows in prepared), args.weight, "score rows")
    if features:  # every answer file style control may need, read at once
        answers.read("answer-style", sorted({*all_models, *filter(None, records.baselines),
                                             *version.category_baselines.values(), *filter(None, [args.baseline])}))
    boards: list[Board] = []
    stats: list[full_stats.CategoryStats] = []
    for category, baseline, scope, scored, rows in prepared:
        title = f"##### Category: {category} #####"
        if features:
            board = style_board(rows, baseline, title, args.num_rounds, SEED, features,
                                lambda model: answers.style_counts(model))
            if board.dropped_features:
                note(f"{', '.join(board.dropped_features)} is the same in every row of {category}; left out of "
                     "the style control")
            if board.loose_features:
                note(_collinear(board, category))
        else:
            board = winrate_board(rows, baseline, title, args.num_rounds, SEED)
        boards.append(board)
        stats.append(full_stats.CategoryStats(category, baseline, scope, scored, len(questions.get(category, []))))
    pairs = match_run(reference, (row.model for board in boards for row in board.rows)) if reference else []
    for board in boards:
        if features:
            print(f"INFO: Control features: {features}")
        print(board.title)
        print("\n".join(format_table(board.rows)))
        if board.coefficients is not None:
            print("Feature Coefs: " + ", ".join(f"{k} {v:.4f}" for k, v in board.coefficients.items()))
    if len(boards) > 1:
        weights = [len(questions.get(category, [])) for category in asked]
        parts = " + ".join(f"{c} ({n} questions)" for c, n in zip(asked, weights))
        overall = overall_board(boards, weights, f"##### Overall (this project's, not upstream's): "
                                                 f"question-weighted mean of {parts} #####")
        print(overall.title)
        print("\n".join(format_table(overall.rows)) if overall.rows else "(no model is scored in every category)")
        boards.append(overall)
    tokens = full_stats.average_tokens(answers, boards) if args.full_stats or args.output else {}
    if args.full_stats:
        for entry in stats:
            print()
            print("\n".join(full_stats.full_stats_lines(entry, boards[stats.index(entry)], tokens)))
        print_usage(bench, judges, list(dict.fromkeys(row.model for board in boards for row in board.rows)))
    reports = [board_report(reference, pairs, output.shown(board), f"{args.bench_name} {name}")
               for board, name in zip(boards, asked + ["overall"])] if reference else []
    print_reports(reports)
    print("\nJudge consistency (game 1 vs game 2 after the swap; label shares over both games):", file=sys.stderr)
    for entry in judge_consistency(records.select(valid)):
        print(entry.describe(), file=sys.stderr)
    date = datetime.datetime.now().strftime("%Y%m%d")
    settings = {"bench": args.bench_name, "judges": list(judges), "control_features": features,
                "weight": args.weight, "num_rounds": args.num_rounds, "seed": SEED,
                "missing_as_loss": args.missing_as_loss}
    output.write_outputs(args, boards, stats, tokens, date, settings,
                         [report.document if report else None for report in reports] if reference else None)
    return 0
