"""Which v0.1 judgments to make: each model's answers paired with the baseline's and any reference
answers per question, the questions that cannot be judged (an answer is missing), and a check before
the first call that the prompt template names exactly the fields the games provide.

Reads data/<bench>/model_answer/<model>.jsonl and data/<bench>/reference_answer/<model>.jsonl."""
from __future__ import annotations

from typing import Sequence

from arena_hard.core.config import JudgeSettings
from arena_hard.core.errors import UserError
from arena_hard.core.records import Answer, Bench, Question, load_answers, load_model_answers
from arena_hard.generate.judge_game import check_fields
from arena_hard.generate.judging_v01 import JudgeJob, game_args


def load_reference_answers(bench: Bench, settings: JudgeSettings) -> list[dict[str, Answer]]:
    references = []
    for name in settings.ref_model:
        path = bench.reference_file(name)
        if not path.exists():
            raise UserError(f"{path}: reference answers not found; `reference: True` with ref_model {name!r} "
                            "needs them (or set reference: False)")
        references.append(load_answers(path))
    return references


def plan_jobs(bench: Bench, questions: Sequence[Question], model: str, baseline: dict[str, Answer] | None,
              references: list[dict[str, Answer]]) -> tuple[list[JudgeJob], list[str]]:
    """The model's judge jobs, and the ids of questions that cannot be judged (an answer is missing)."""
    answers = load_model_answers(bench, model)
    jobs, missing = [], []
    for question in questions:
        qid = question.question_id
        answer = answers.get(qid)
        base = baseline.get(qid) if baseline is not None else None
        refs = tuple(reference.get(qid) for reference in references)
        if answer is None or (baseline is not None and base is None) or None in refs:
            missing.append(qid)
        else:
            jobs.append(JudgeJob(question, answer, base, refs))
    return jobs, missing


def check_template_fields(setting_file: str, settings: JudgeSettings, jobs: Sequence[JudgeJob]) -> None:
    """Stop before the first call, not mid-run, when a template names a field that a question's games
    do not provide (e.g. {question_2} for a single-turn question) or leaves out one they need."""
    for job in jobs:
        try:
            for args in game_args(job, settings):
                check_fields(settings.prompt_template, args)
        except UserError as error:
            raise UserError(f"{setting_file}: question {job.question.question_id}: {error}") from None
