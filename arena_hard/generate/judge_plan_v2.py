"""What gen_judgment.py judges on a v2.0 bench, checked before the judge is asked anything.

Reads the bench's question.jsonl, the answers of each model to judge and of every baseline the
questions' categories need (data/<bench>/model_answer/<model>.jsonl), the official per-category
settings (config/official/judge_settings.yaml) and the config's `category_settings`. Every error a
user can fix stops here with one line: a question without `category`, a category with no settings,
a system prompt that was never downloaded, a baseline answer file that is not there. Writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Sequence

from arena_hard.core.bench_version import V2_0, version_for
from arena_hard.core.errors import UserError
from arena_hard.core.judge_config_v2 import V2JudgeSettings
from arena_hard.core.judge_settings import KIT_HINT, OFFICIAL_FILE, CategoryJudging, load_official
from arena_hard.core.records import Answer, Bench, Question, load_answers, load_model_answers
from arena_hard.core.textstats import count_tokens
from arena_hard.generate.game_log import kept_games
from arena_hard.generate.judging_v2 import JudgeJobV2, game_messages

OFFICIAL_BASELINE = V2_0.default_baseline


def category_judging(settings: V2JudgeSettings, questions: Sequence[Question],
                     question_file: Path) -> dict[str, CategoryJudging]:
    """Baseline and system prompt of each category the questions use: the config's
    `category_settings`, else the official settings, else (baseline only) the bench definition."""
    official = load_official()
    resolved: dict[str, CategoryJudging] = {}
    for question in questions:
        category = question.category
        if category in resolved:
            continue
        if not category:
            raise UserError(f"{question_file}: question {question.question_id} has no `category`; v2.0 questions "
                            "need one (hard_prompt, creative_writing, ...), it picks the baseline and judge prompt")
        own = settings.category_settings.get(category, {})
        downloaded = (official or {}).get(category, {})
        baseline = own.get("baseline") or downloaded.get("baseline") or V2_0.category_baselines.get(category)
        prompt = own.get("system_prompt") or downloaded.get("system_prompt")
        add_key = (f"add `category_settings: {{{category}: {{baseline: <model>, system_prompt: <text>}}}}` "
                   f"to {settings.path}")
        if baseline is None and prompt is None:
            raise UserError(f"{question_file}: category {category!r} (question {question.question_id}) has no judge "
                            f"settings; {add_key}")
        if prompt is None:
            where = f"{OFFICIAL_FILE} is not there" if official is None else f"{OFFICIAL_FILE} has no {category!r}"
            raise UserError(f"{where}, and {settings.path} names no system prompt for category {category!r}; "
                            + (KIT_HINT if official is None else add_key))
        if baseline is None:
            raise UserError(f"{settings.path}: category {category!r} has a system prompt but no baseline; {add_key}")
        resolved[category] = CategoryJudging(baseline, prompt)
    return resolved


def _baseline_hint(bench: Bench, model: str) -> str:
    if model == OFFICIAL_BASELINE and version_for(bench.name) is V2_0:
        return f"run `python download_data.py --bench {bench.name}` for its official answers"
    return (f"run `python download_data.py --pregenerated --bench {bench.name} --model {model}` for its published "
            f"answers, or gen_answer.py for your own")


def load_baselines(bench: Bench, judging: dict[str, CategoryJudging]) -> dict[str, dict[str, Answer]]:
    baselines = {}
    for category, setting in judging.items():
        if setting.baseline in baselines:
            continue
        path = bench.answer_file(setting.baseline)
        if not path.exists():
            others = [other for other, each in judging.items() if each.baseline != setting.baseline]
            leave_out = (f"; or judge only the other categories: --category {' '.join(others)}" if others else "")
            raise UserError(f"{path}: not found; category {category!r} is judged against {setting.baseline!r}; "
                            f"{_baseline_hint(bench, setting.baseline)}{leave_out}")
        baselines[setting.baseline] = load_answers(path)
    return baselines


@dataclass(frozen=True)
class ModelJobs:
    model: str
    jobs: list[JudgeJobV2]
    missing: list[str]  # question ids without an answer from the model, its baseline or the reference


def plan_model(bench: Bench, questions: Sequence[Question], model: str, judging: dict[str, CategoryJudging],
               baselines: dict[str, dict[str, Answer]], reference: dict[str, Answer] | None,
               settings: V2JudgeSettings) -> ModelJobs:
    answers = load_model_answers(bench, model)
    jobs, missing = [], []
    for question in questions:
        qid = question.question_id
        setting = judging[question.category]
        answer, base = answers.get(qid), baselines[setting.baseline].get(qid)
        ref = reference.get(qid) if reference is not None else None
        if answer is None or base is None or (reference is not None and ref is None):
            missing.append(qid)
            continue
        job = JudgeJobV2(question, answer, base, setting.system_prompt, ref)
        try:
            game_messages(job, settings)
        except UserError as error:  # a template field no game provides: stop before the first call
            raise UserError(f"{settings.path}: {error}") from None
        jobs.append(job)
    return ModelJobs(model, jobs, missing)


def plan(settings: V2JudgeSettings, questions: Sequence[Question]) -> list[ModelJobs]:
    """Every model's judge jobs; every file the run needs is checked first."""
    bench = Bench(settings.bench_name)
    judging = category_judging(settings, questions, bench.question_file)
    baselines = load_baselines(bench, judging)
    reference = None
    if settings.reference is not None:
        path = bench.answer_file(settings.reference)
        if not path.exists():
            raise UserError(f"{path}: not found; {settings.path} names {settings.reference!r} as `reference`")
        reference = load_answers(path)
    return [plan_model(bench, questions, model, judging, baselines, reference, settings)
            for model in settings.model_list]


def describe_plan(model: str, total: int, todo: Sequence[JudgeJobV2], skipped: int, settings: V2JudgeSettings,
                  kept: Collection[tuple[str, int]] = ()) -> str:
    """The dry run's line; `kept`: the (question id, game number) an earlier run played (not asked again)."""
    games = [game for job in todo for number, game in enumerate(game_messages(job, settings), 1)
             if (job.question.question_id, number) not in kept]
    tokens = sum(count_tokens(m["content"]) for game in games for m in game)
    return (f"{model}: {total} judgeable questions, {total - len(todo)} already judged, {len(todo)} to judge, "
            f"skipped {skipped}: no answer, {len(games)} judge calls (no re-asks in v2.0){kept_games(kept)}, "
            f"~{tokens:,} prompt tokens (cl100k estimate)")
