"""The v0.1 leaderboard run behind show_result.py: judgments (or saved battles) -> battles (battles.py) ->
one leaderboard per scope, all battles or each --category (board.py: Bradley-Terry ratings with
bootstrap CIs, optionally style-controlled); notes, coverage and the judge-consistency block on stderr;
with --reference, each leaderboard's benchmark-quality report after all of them.

Reads the judgment, answer and question files (score_inputs) or the saved battles; writes
data/arena_hard_battles.jsonl and data/bootstrapping_results[_<category>].jsonl (each with a .source.json), and
when asked the --output CSV/JSON and the --plot chart, all only after every leaderboard has been
computed, so a run that fails writes nothing."""
from __future__ import annotations

import datetime
from typing import Any, Callable, Sequence

import numpy as np

from arena_hard.core.bench_version import BenchVersion
from arena_hard.core.errors import UserError, note
from arena_hard.core.atomic_write import atomic_write_bytes
from arena_hard.core.records import Bench, load_questions
from arena_hard.scoring.answer_stats import text_style_counts
from arena_hard.scoring.coverage import missing_as_loss
from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.quality_board import Reference, match_run, print_reports
from arena_hard.scoring.result_files import BATTLES_FILE, BOOTSTRAP_FILE, LEADERBOARD_DIR
from arena_hard.scoring.usage_stats import print_usage
from arena_hard.scoring.score_inputs import AnswerFiles, bench_question_ids, cache_for, load_records, question_categories
from arena_hard.scoring.v01 import style_control
from arena_hard.scoring.v01.battles import Battles, battle_lines, read_battles, records_to_battles
from arena_hard.scoring.v01.saved_source import check_battles_source, digest, file_digest, write_source
from arena_hard.scoring.v01.board import Scope, score_scope
from arena_hard.scoring.verdict_labels import NO_VERDICT
from arena_hard.scoring.weighted_rows import check_expansion


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


def gather_battles(args: Any, bench: Bench, judges: Sequence[str], version: BenchVersion, bench_ids: set[str] | None
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
        default_baseline = args.baseline or version.default_baseline
        records, notes = load_records(bench, judges, cache_for(bench), fill, default_baseline=default_baseline,
                                      questions=bench_ids)
        for message in notes:
            note(message)
        dropped = int(np.sum(records.game1 == NO_VERDICT))
        if not args.first_game_only:
            dropped += int(np.sum(records.game2 == NO_VERDICT))
        if dropped:
            note(f"{dropped} game(s) had no verdict (no score, or a label other than A>>B, A>B, A=B, B>A, B>>A) "
                 "and were left out")
        battles = records_to_battles(records, default_baseline, args.weight, args.first_game_only)
        check_expansion(len(battles), args.weight, "battles")
        metadata = []
    own = battles.model_a == battles.model_b
    if own.any():
        note(f"{int(battles.copies[own].sum())} battle(s) of a model against itself were left out")
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


def run(args: Any, version: BenchVersion, reference: Reference | None = None) -> int:
    """show_result.py for a Bradley-Terry (v0.1) bench; `reference`: --reference read (quality_board)."""
    if args.output and LEADERBOARD_DIR.exists() and not LEADERBOARD_DIR.is_dir():
        raise UserError(f"{LEADERBOARD_DIR}: is a file, not a folder; --output writes the CSV and JSON into a "
                        f"folder {LEADERBOARD_DIR}/: move or rename that file")
    remove_leftovers()
    if args.plot:
        from arena_hard.scoring.leaderboard_plot import require_pyplot
        require_pyplot()
    bench = Bench(args.bench_name)
    judges = args.judge_names or [args.judge_name or version.default_judge]
    answers = AnswerFiles(bench, cache_for(bench), bench_question_ids(bench))
    battles, records, metadata, filled = gather_battles(args, bench, judges, version, answers.questions)
    quality = None
    if reference is not None:  # the models checked against the reference before any fit
        quality = reference, match_run(reference, [battles.models[m] for m in battles.present_models()])
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
    if args.load_battles:
        battles_digest = file_digest(BATTLES_FILE)
    else:  # the saved battles change only when the whole run succeeded; streamed, as they can be large
        metadata_lines = style_control.metadata_json(*counts) if counts else None
        battles_digest = digest(battle_lines(battles, metadata_lines))
        writes.append(lambda: atomic_write_bytes(BATTLES_FILE, battle_lines(battles, metadata_lines)))
        writes.append(lambda: write_source(BATTLES_FILE, battles_digest, {"bench": args.bench_name,
                                                                          "judges": list(judges)}))
    reports = []
    for position, each in enumerate(scopes):
        if position:
            print()
        reports.append(score_scope(each, args, answers, date, judges, battles_digest, writes, quality))
    if args.full_stats and not args.load_battles:
        print_usage(bench, judges, [battles.models[m] for m in battles.present_models()])
    print_reports(reports)
    return write_all(writes)
