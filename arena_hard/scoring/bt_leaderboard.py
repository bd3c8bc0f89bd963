"""The v0.1 leaderboard run behind show_result.py: judgments (or saved battles) -> battles -> Bradley-Terry
ratings with bootstrap CIs, optionally style-controlled or per category; the leaderboard lines on
stdout (exactly upstream's, plus the category header and style coefficients upstream also prints),
then the --full-stats table; notes, coverage and the judge-consistency block on stderr.

Reads the judgment, answer and question files (score_inputs) or the saved battles; writes
data/arena_hard_battles.jsonl (+ .source.json), data/bootstrapping_results[_<category>].jsonl, and
when asked the --output CSV/JSON and the --plot chart, all only after every leaderboard has been
computed, so a run that fails writes nothing."""
from __future__ import annotations

import datetime
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from arena_hard.core.bench_version import V0_1, version_for
from arena_hard.core.errors import UserError
from arena_hard.core.records import Bench, load_questions
from arena_hard.scoring import style_control
from arena_hard.scoring.answer_stats import text_style_counts
from arena_hard.scoring.battles import Battles, Records, battle_lines, read_battles, records_to_battles
from arena_hard.scoring.judge_consistency import judge_consistency
from arena_hard.scoring.coverage import coverage, missing_as_loss
from arena_hard.scoring.full_stats import stats_columns, stats_table
from arena_hard.scoring.verdict_labels import NO_VERDICT
from arena_hard.core.jsonl import atomic_write_bytes
from arena_hard.scoring.leaderboard import format_line, leaderboard_rows, output_stem, write_leaderboard
from arena_hard.scoring.ratings import INIT_RATING, RATING_CAP, bootstrap_ratings, fit_ratings, rating_bounds
from arena_hard.scoring.battles_source import check_battles_source, write_battles_source
from arena_hard.scoring.bootstrap_file import load_bootstrap, save_bootstrap
from arena_hard.scoring.result_files import BATTLES_FILE, BOOTSTRAP_FILE, LEADERBOARD_DIR
from arena_hard.scoring.score_inputs import AnswerFiles, cache_for, load_records, question_categories


def note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


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


def rate_scope(scope: Scope, args: Any, anchor: int, bootstrap_file: Path, writes: list[Callable[[], Any]]
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
    writes.append(lambda: save_bootstrap(bootstrap_file, battles, bootstrap))
    return ratings, bootstrap, coefficients


def score_scope(scope: Scope, args: Any, answers: AnswerFiles, date: str, judges: Sequence[str],
                writes: list[Callable[[], Any]]) -> None:
    """Fit and print one leaderboard; its files are queued on `writes`."""
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
    ratings, bootstrap, coefficients = rate_scope(scope, args, anchor,
                                                  BOOTSTRAP_FILE.with_name(f"{BOOTSTRAP_FILE.stem}{suffix}.jsonl"),
                                                  writes)
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
    covered = coverage(battles, scope.records, scope.questions, judged, scope.as_loss)
    for model in judged:
        message = covered[model].describe() if model in covered else \
            f"{model}: not on the leaderboard: none of its judgments has a verdict"
        if message:
            note(message + where)
    rows = leaderboard_rows({battles.models[m]: (float(ratings[m]), float(lower[m]), float(upper[m])) for m in present},
                            baseline, tokens, args.show_elo)
    for row in rows:
        print(format_line(row, args.show_elo))
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
        stem = output_stem(date, scope.category, args.style)
        def write_output() -> None:
            paths = write_leaderboard(LEADERBOARD_DIR, stem, rows, date, settings, extra)
            print(f"wrote {' and '.join(str(p) for p in paths)}", file=sys.stderr)
        writes.append(write_output)
    if args.plot:
        from arena_hard.scoring.leaderboard_plot import plot_leaderboard
        path = args.plot.with_name(f"{args.plot.stem}{suffix}{args.plot.suffix or '.png'}")
        title = f"{args.bench_name}{where}: against {baseline}, judged by {', '.join(judges)}"
        level = INIT_RATING if args.show_elo else 50.0
        def write_plot() -> None:
            plot_leaderboard(path, rows, title, args.show_elo, level)
            print(f"wrote {path}", file=sys.stderr)
        writes.append(write_plot)


def bench_questions(bench: Bench, records: Records | None, battles: Battles) -> list[str]:
    """The bench's question ids: question.jsonl's, else every question judged."""
    if bench.question_file.exists():
        return [q.question_id for q in load_questions(bench.question_file)]
    return sorted(set(records.question_ids) if records is not None else battles.question_ids)


def loss_baseline(args: Any, tables_baselines: Sequence[str | None]) -> str | None:
    """The baseline --missing-as-loss records play against: --baseline, else the one the records name."""
    if args.baseline:
        return args.baseline
    named = sorted({b for b in tables_baselines if b is not None})
    if len(named) > 1:
        raise UserError(f"--missing-as-loss: the judgment records name several baselines ({', '.join(named)}); "
                        "choose one with --baseline")
    return named[0] if named else None


def gather_battles(args: Any, bench: Bench, judges: Sequence[str]
                   ) -> tuple[Battles, Records | None, list, dict[str, set[str]]]:
    """Battles (self-battles dropped), their judgment records (None when loaded), saved conv_metadata,
    and per model the questions --missing-as-loss filled in."""
    filled: dict[str, set[str]] = {}
    if args.load_battles:
        check_battles_source(BATTLES_FILE, args.bench_name, judges)
        battles, metadata = read_battles(BATTLES_FILE)
        records = None
    else:
        fill = None
        if args.missing_as_loss:
            questions = [q.question_id for q in load_questions(bench.question_file)]

            def fill(part: Records) -> Records:
                part, added = missing_as_loss(part, questions, loss_baseline(args, part.baselines))
                for model, ids in added.items():
                    filled.setdefault(model, set()).update(ids)
                return part
        records, notes = load_records(bench, judges, cache_for(bench), fill)
        for message in notes:
            note(message)
        dropped = int(np.sum(records.game1 == NO_VERDICT))
        if not args.first_game_only:
            dropped += int(np.sum(records.game2 == NO_VERDICT))
        if dropped:
            note(f"{dropped} game(s) had no verdict (no score, or a label other than A>>B, A>B, A=B, B>A, B>>A) "
                 "and were left out")
        default_baseline = args.baseline or version_for(args.bench_name).default_baseline
        battles = records_to_battles(records, default_baseline, args.weight, args.first_game_only)
        metadata = []
    own = battles.model_a == battles.model_b
    if own.any():
        note(f"{int(own.sum())} battle(s) of a model against itself were left out")
        battles = battles.select(~own)
        metadata = [m for m, drop in zip(metadata, own.tolist()) if not drop]
    if not len(battles):
        raise UserError("no battles to score: every game lacks a verdict; check the judgment files")
    return battles, records, metadata, filled


def category_scopes(args: Any, bench: Bench, scope: Scope, filled: dict[str, set[str]]) -> list[Scope]:
    """One scope per --category, every category checked before any is scored."""
    categories = question_categories(bench, scope.records)
    battles, records, counts = scope.battles, scope.records, scope.style_counts
    battle_category = np.array([categories.get(q, "") for q in battles.question_ids], dtype=object)[battles.question]
    scopes = []
    for category in args.category:
        keep = battle_category == category
        if not keep.any():
            found = sorted(set(categories.values()))
            raise UserError(f"no battles in category {category!r}; the questions' categories are: "
                            f"{', '.join(found) if found else '(none)'}")
        scope_records = None
        if records is not None:
            scope_records = records.select(np.array([categories.get(q, "") == category for q in records.question_ids]))
        questions = [q for q in scope.questions if categories.get(q, "") == category]
        as_loss = {m: sum(categories.get(q, "") == category for q in ids) for m, ids in filled.items()}
        scopes.append(Scope(category, battles.select(keep), scope_records,
                            (counts[0][keep], counts[1][keep]) if counts else None, questions, as_loss))
    return scopes


UPSTREAM_ERROR_ANSWER = "$ERROR$"  # what upstream wrote for an answer that failed for good


def style_counts_with_losses(answers: AnswerFiles, filled: dict[str, set[str]]) -> Callable[[str], dict[str, list]]:
    """Each model's style counts by question; a question --missing-as-loss filled in and the model never
    answered counts as upstream's `$ERROR$` answer, the answer its strong losses stand for."""
    if not filled:
        return answers.style_counts
    error = text_style_counts(UPSTREAM_ERROR_ANSWER)
    return lambda model: {**dict.fromkeys(filled.get(model, ()), error), **answers.style_counts(model)}


def remove_leftovers() -> None:
    """Temporary files of saved battles and bootstrap rounds that a killed run left in data/."""
    for saved in (BATTLES_FILE, BOOTSTRAP_FILE):
        for leftover in saved.parent.glob(f".{saved.stem}*.tmp"):
            leftover.unlink(missing_ok=True)


def write_all(writes: Sequence[Callable[[], Any]]) -> int:
    """Run the queued writes; one the file system refuses (a full disk, a read-only folder) is a note
    naming the file, the others are still tried, and the exit status becomes 1. The leaderboard has been
    printed by then."""
    status = 0
    for write in writes:
        try:
            write()
        except OSError as error:
            note(f"could not write {error.filename or 'a file'} ({error.strerror or error}); the leaderboard "
                 "above is complete")
            status = 1
    return status


def run(args: Any) -> int:
    """show_result.py for a Bradley-Terry (v0.1) bench."""
    if args.output and LEADERBOARD_DIR.exists() and not LEADERBOARD_DIR.is_dir():
        raise UserError(f"{LEADERBOARD_DIR}: is a file, not a folder; --output writes the CSV and JSON into a "
                        f"folder {LEADERBOARD_DIR}/: move or rename that file")
    remove_leftovers()
    if args.plot:
        from arena_hard.scoring.leaderboard_plot import require_pyplot
        require_pyplot()
    bench = Bench(args.bench_name)
    judges = args.judge_names or [args.judge_name or version_for(args.bench_name).default_judge]
    answers = AnswerFiles(bench, cache_for(bench))
    battles, records, metadata, filled = gather_battles(args, bench, judges)
    counts = None
    if args.style:
        if not (metadata and all(m is not None for m in metadata)):
            answers.read("answer-style", battles.models)
        counts = (style_control.counts_from_metadata(metadata, str(BATTLES_FILE))
                  if metadata and all(m is not None for m in metadata)
                  else style_control.battle_counts(battles, style_counts_with_losses(answers, filled)))
    date = datetime.datetime.now().strftime("%Y%m%d")
    scope = Scope(None, battles, records, counts, bench_questions(bench, records, battles),
                  {m: len(ids) for m, ids in filled.items()})
    scopes = category_scopes(args, bench, scope, filled) if args.category else [scope]
    writes: list[Callable[[], Any]] = []
    for position, each in enumerate(scopes):
        if position:
            print()
        score_scope(each, args, answers, date, judges, writes)
    if not args.load_battles:  # the saved battles change only when the whole run succeeded
        data = b"".join(battle_lines(battles, style_control.metadata_json(*counts) if counts else None))
        writes.append(lambda: write_battles_source(BATTLES_FILE, data, args.bench_name, judges))
        writes.append(lambda: atomic_write_bytes(BATTLES_FILE, [data]))
    return write_all(writes)
