"""The files show_result.py scores, found and read through the cache: every judge's judgment files
(sorted by name), each model's answer file (average tokens; style counts under style control), and
the question categories. Records and answers of questions question.jsonl does not hold are left out.

Reads `data/<bench>/model_judgment/<judge>/*.jsonl`, `data/<bench>/model_answer/<model>.jsonl` and
`data/<bench>/question.jsonl`; the cache (score_cache) lives in `data/<bench>/.show_result_cache/`."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from arena_hard.core.data_files import jsonl_files
from arena_hard.core.errors import UserError, looked_in
from arena_hard.core.names import refuse_twins
from arena_hard.core.records import DOWNLOAD_HINT, Bench, load_questions, mixed_formats, model_of_file
from arena_hard.scoring.answer_stats import style_table, token_lens
from arena_hard.scoring.judgment_records import Records, combine_judges, concat_records
from arena_hard.scoring.score_cache import CACHE_DIR_NAME, FileCache
from arena_hard.scoring.verdict_labels import VerdictTable, label_code, read_verdicts


def cache_for(bench: Bench) -> FileCache:
    return FileCache(bench.directory / CACHE_DIR_NAME)


def judgment_files(bench: Bench, judge: str) -> list[Path]:
    directory = bench.judgment_dir(judge)
    if not directory.is_dir():
        raise UserError(f"{directory}: no judgments by {judge}; run gen_judgment.py first, or check "
                        f"--judge-name and --bench-name{looked_in(directory)}")
    files = jsonl_files(directory)
    if not files:
        raise UserError(f"{directory}: holds no judgment files (*.jsonl); run gen_judgment.py first")
    return files


def bench_question_ids(bench: Bench) -> set[str] | None:
    """The ids in question.jsonl; None when the bench has no question file (every record then counts)."""
    return {q.question_id for q in load_questions(bench.question_file)} if bench.question_file.exists() else None


def _in_bench(part: Records, questions: set[str] | None, judge: str) -> tuple[Records, list[str]]:
    """The records of questions the bench holds; the others are left out with a note."""
    if questions is None:
        return part, []
    keep = np.array([q in questions for q in part.question_ids], dtype=bool)
    if keep.all():
        return part, []
    outside = sorted({q for q, kept in zip(part.question_ids, keep.tolist()) if not kept})
    return part.select(keep), [f"{int((~keep).sum())} judgment record(s) of {judge} are for {len(outside)} question(s) "
                               f"not in question.jsonl (first: {outside[0]!r}); left out"]


def _not_against_itself(part: Records, default_baseline: str | None, judge: str) -> tuple[Records, list[str]]:
    """The records whose model is not its own baseline (the record's, else `default_baseline`)."""
    keep = np.array([model != (baseline if baseline is not None else default_baseline)
                     for model, baseline in zip(part.models, part.baselines)], dtype=bool)
    if keep.all():
        return part, []
    return part.select(keep), [f"{int((~keep).sum())} judgment record(s) of {judge} judge a model against itself "
                               "(the model is the record's baseline); left out"]


def _game_counts(tables: Sequence[VerdictTable]) -> list[str]:
    """Notes on records that do not hold the two games a judgment has."""
    one, more = sum(table.one_game for table in tables), sum(table.extra_games for table in tables)
    return ([f"{one} judgment record(s) hold one game (a `pairwise: false` judge, or a record cut short); scored "
             "on that game alone"] if one else []) + \
        ([f"{more} judgment record(s) hold more than two games; only the first two are scored"] if more else [])


def load_records(bench: Bench, judges: Sequence[str], cache: FileCache,
                 fill: Callable[[Records], Records] | None = None, code_of: Callable[[Any], int] = label_code,
                 kind: str = "judgments", default_baseline: str | None = None,
                 questions: set[str] | None = None) -> tuple[Records, list[str]]:
    """Every judge's records, pooled judge after judge, within a judge later duplicates replacing earlier
    ones (see combine_judges); records of questions question.jsonl does not hold, and records of a model
    against itself (its baseline: the record's, else `default_baseline`), are left out (`questions`: the
    bench's question ids, bench_question_ids); `fill`, when
    given, completes each judge's records (--missing-as-loss). The notes say what was left out, which
    records hold other than two games, which judgment files' records name another model than the file
    does, and which files mix both record formats; two models whose names print the same are refused.
    `code_of` reads a game's label (v0.1's five by default; cached under `kind`)."""
    files = {judge: judgment_files(bench, judge) for judge in judges}
    everything = [path for judge in judges for path in files[judge]]
    payloads = iter(cache.get_many(kind, everything, functools.partial(verdict_payload, code_of=code_of)))
    parts, notes, named_by = [], [], {}
    for judge in judges:
        tables = [VerdictTable.from_payload(str(path), next(payloads)) for path in files[judge]]
        for table in tables:
            named_by.update((model, table.path) for model in dict.fromkeys(table.models) if model not in named_by)
        refuse_twins(named_by)
        part, part_notes = combine_judges([tables])
        part, outside = _in_bench(part, questions, judge)
        part, itself = _not_against_itself(part, default_baseline, judge)
        parts.append(fill(part) if fill else part)
        notes += part_notes + outside + itself + _game_counts(tables) + \
            [message for table in tables for message in model_mismatches(table)]
        notes += [message for message in (mixed_formats(table.formats, table.path) for table in tables) if message]
    records = concat_records(parts)
    if not len(records):
        raise UserError(f"{bench.judgment_dir(judges[0]).parent}: the judgment files of "
                        f"{', '.join(judges)} hold no records; run gen_judgment.py")
    return records, notes


def verdict_payload(path: Path, code_of: Callable[[Any], int]) -> dict[str, Any]:
    """What the cache keeps of a judgment file."""
    return read_verdicts(path, code_of).to_payload()


def model_mismatches(table: VerdictTable) -> list[str]:
    """A warning per model a judgment file's records name other than the model the file is named for.
    The records' `model` field decides whose score a record counts for, as upstream's leaderboard."""
    named_for = model_of_file(Path(table.path))
    others: dict[str, int] = {}
    for model in table.models:
        if model != named_for:
            others[model] = others.get(model, 0) + 1
    return [f"{table.path}: {count} record(s) name the model {model!r}, but the file is named for {named_for!r}; "
            f"they count for {model!r} on the leaderboard (the `model` field decides, as upstream); fix the field "
            "or the file name if that is wrong" for model, count in others.items()]


class AnswerFiles:
    """Per-model figures from the answer files, each file read once (or taken from the cache); `read`
    reads many models' files at once, on all cores."""

    BUILDERS = {"answer-tokens": token_lens, "answer-style": style_table}

    def __init__(self, bench: Bench, cache: FileCache, questions: set[str] | None):
        self.bench, self.cache = bench, cache
        self.questions = questions  # bench_question_ids: answers to other questions are left out of the average
        self._payloads: dict[tuple[str, str], dict[str, Any]] = {}  # (kind, model) -> payload

    def read(self, kind: str, models: Iterable[str]) -> None:
        """Read (kind: "answer-tokens" or "answer-style") the answer files of those `models` that have one,
        for the calls below; a model without one is reported by them."""
        wanted = [model for model in dict.fromkeys(models)
                  if (kind, model) not in self._payloads and self.bench.answer_file(model).exists()]
        payloads = self.cache.get_many(kind, [self.bench.answer_file(model) for model in wanted], self.BUILDERS[kind])
        self._payloads.update(((kind, model), payload) for model, payload in zip(wanted, payloads))

    def _payload(self, kind: str, model: str, role: str) -> dict[str, Any]:
        if (kind, model) not in self._payloads:
            path = self.bench.answer_file(model)
            if not path.exists():
                raise UserError(f"{path}: not found; the leaderboard shows {role} {model!r} and needs its answers "
                                "for the average #tokens: generate them with gen_answer.py (or download them)")
            self.read(kind, [model])
        return self._payloads[(kind, model)]

    def average_tokens(self, model: str, role: str) -> int:
        lens = [n for question, n in self._payload("answer-tokens", model, role).items()
                if self.questions is None or question in self.questions]
        if not lens:
            raise UserError(f"{self.bench.answer_file(model)}: holds no answers for {role} {model!r} to this bench's "
                            "questions; generate them with gen_answer.py")
        return int(sum(lens) / len(lens))  # upstream truncates the mean

    def style_counts(self, model: str) -> dict[str, list[int]]:
        """{question_id: [token_len, headers, list items, bold spans]} of the model's answers."""
        return self._payload("answer-style", model, "the model")


def question_categories(bench: Bench, records: Records | None) -> dict[str, str]:
    """Category of each question id: from question.jsonl, else the category a judgment record names."""
    categories: dict[str, str] = {}
    if records is not None:
        categories.update((q, c) for q, c in zip(records.question_ids, records.categories) if c is not None)
    if not bench.question_file.exists() and not categories:
        raise UserError(f"{bench.question_file}: not found, and --category needs each question's category from "
                        f"it; {DOWNLOAD_HINT}, or check --bench-name")
    if bench.question_file.exists() or records is None:
        categories.update((q.question_id, q.category) for q in load_questions(bench.question_file))
    return categories
