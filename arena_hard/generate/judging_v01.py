"""One question judged as upstream v0.1 judges it: the games, the re-asks, the record, and the dry
run's description of a plan.

Game 1 shows the baseline as assistant A and the model as B, game 2 swaps them (one game when
`pairwise: False`; the model alone when `baseline: False`). Each game opens with the judge's system
prompt and the prompt template(s) filled by `judge_game.game_prompt_args`; when the text has no single
verdict label the judge is asked again in the same conversation, up to `number_of_judgment_attempts`
calls. The record: `{question_id, model, judge, baseline, games: [{user_prompt, judgment, score}, ...],
usage}`. Reads and writes nothing itself."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

from arena_hard.core.config import JudgeSettings
from arena_hard.core.records import Answer, Question
from arena_hard.core.textstats import count_tokens
from arena_hard.generate.judge_game import CONTINUE_PROMPT, fill_template, game_prompt_args, parse_verdict
from arena_hard.models.client import ModelClient
from arena_hard.models.providers import ChatRequest


@dataclasses.dataclass(frozen=True)
class JudgeJob:
    question: Question
    answer: Answer
    baseline: Answer | None
    references: tuple[Answer, ...]


def game_args(job: JudgeJob, settings: JudgeSettings) -> list[dict[str, str]]:
    """The template fields of each game: game 1 shows the baseline as assistant A, game 2 swaps."""
    sides = [(job.baseline, job.answer), (job.answer, job.baseline)] if job.baseline else [(job.answer,), (job.answer,)]
    games = sides if settings.pairwise else sides[:1]
    references = [reference.turns for reference in job.references]
    return [game_prompt_args(job.question.turns, [answer.turns for answer in order], references) for order in games]


def game_conversations(job: JudgeJob, settings: JudgeSettings) -> list[list[dict[str, str]]]:
    """The opening conversation of each game."""
    conversations = []
    for args in game_args(job, settings):
        conversation = [{"role": "system", "content": settings.system_prompt}]
        conversation += [{"role": "user", "content": fill_template(t, args)} for t in settings.prompt_template]
        conversations.append(conversation)
    return conversations


def judge_job(client: ModelClient, settings: JudgeSettings) -> Callable[[JudgeJob], Any]:
    async def play(conversation: list[dict[str, str]]) -> tuple[dict[str, Any], int, int]:
        conversation = list(conversation)
        judgment, prompt_tokens, completion_tokens = "", 0, 0
        for attempt in range(settings.number_of_judgment_attempts):
            if attempt:
                conversation.append({"role": "user", "content": settings.reask_prompt or CONTINUE_PROMPT})
            result = await client.chat(ChatRequest(tuple(conversation), settings.temperature, settings.max_tokens))
            prompt_tokens += result.prompt_tokens
            completion_tokens += result.completion_tokens
            judgment += "\n" + result.content  # upstream's layout: each output after a newline
            conversation.append({"role": "assistant", "content": result.content})
            verdict = parse_verdict(judgment, settings.regex_patterns)
            if not verdict.ask_again:
                break
        game = {"user_prompt": conversation[1]["content"], "judgment": judgment, "score": verdict.label}
        return game, prompt_tokens, completion_tokens

    async def run(job: JudgeJob) -> dict[str, Any]:
        # One game after the other, as upstream: if game 1 fails for good, game 2 is never paid for.
        outcomes = [await play(conversation) for conversation in game_conversations(job, settings)]
        # `baseline` as upstream's later format names it, so show_result scores against what was judged
        baseline = {"baseline": job.baseline.model} if job.baseline else {}
        return {
            "question_id": job.question.question_id,
            "model": job.answer.model,
            "judge": settings.judge_model,
            **baseline,
            "games": [game for game, _, _ in outcomes],
            "usage": {"prompt_tokens": sum(p for _, p, _ in outcomes),
                      "completion_tokens": sum(c for _, _, c in outcomes)},
        }

    return run


def describe_plan(model: str, total: int, todo: Sequence[JudgeJob], skipped: int, settings: JudgeSettings) -> str:
    conversations = [c for job in todo for c in game_conversations(job, settings)]
    tokens = sum(count_tokens(m["content"]) for c in conversations for m in c)
    return (f"{model}: {total} judgeable questions, {total - len(todo)} already judged, {len(todo)} to judge, "
            f"skipped {skipped}: no answer, "
            f"{len(conversations)} judge calls (up to {len(conversations) * settings.number_of_judgment_attempts} "
            f"with re-asks), ~{tokens:,} prompt tokens (cl100k estimate)")
