"""One question judged as upstream v0.1 judges it: the games, the re-asks, the record, and the dry
run's description of a plan.

Game 1 shows the baseline as assistant A and the model as B, game 2 swaps them (one game when
`pairwise: False`; the model alone when `baseline: False`). Each game opens with the judge's system
prompt and the prompt template(s) filled by `judge_game.game_prompt_args`; when the text has no single
verdict label the judge is asked again in the same conversation, up to `number_of_judgment_attempts`
calls. The two games are played at once, and each finished game is kept in the judgment file's game
log (generate/game_log.py) until the record is written. The record: `{question_id, model, judge,
baseline, games: [{user_prompt, judgment, score}, ...], usage}`. Reads and writes nothing itself but
through the game log."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Collection, Sequence

from arena_hard.core.config import JudgeSettings
from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.records import Answer, Question
from arena_hard.core.textstats import count_tokens
from arena_hard.core.usage import Tokens
from arena_hard.generate.game_log import GameLog, Played, game_key, kept_games, play_games, played, usage
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


def _request(conversation: list[dict[str, str]], settings: JudgeSettings) -> ChatRequest:
    return ChatRequest(tuple(conversation), settings.temperature, settings.max_tokens)


def game_keys(job: JudgeJob, settings: JudgeSettings, judge: ModelConfig,
              conversations: Sequence[list[dict[str, str]]] | None = None) -> list[str]:
    """The game log's key of each game of `job` (game_log.game_key), whose opening `conversations`
    are game_conversations' unless given."""
    rules = (settings.number_of_judgment_attempts, settings.reask_prompt or CONTINUE_PROMPT,
             [pattern.pattern for pattern in settings.regex_patterns])
    names = (settings.judge_model, job.question.question_id, job.answer.model,
             job.baseline.model if job.baseline else None)
    conversations = game_conversations(job, settings) if conversations is None else conversations
    return [game_key(judge, number, _request(conversation, settings), *names, *rules)
            for number, conversation in enumerate(conversations, 1)]


def judge_job(client: ModelClient, settings: JudgeSettings, log: GameLog | None = None,
              live: bool = False) -> Callable[[JudgeJob], Any]:
    """The job of one question; `live`: a direct run (see game_log.play_games)."""
    async def play(conversation: list[dict[str, str]]) -> Played:
        conversation = list(conversation)
        judgment, tokens = "", Tokens()
        for attempt in range(settings.number_of_judgment_attempts):
            if attempt:
                conversation.append({"role": "user", "content": settings.reask_prompt or CONTINUE_PROMPT})
            result = await client.chat(_request(conversation, settings))
            tokens += result.tokens
            judgment += "\n" + result.content  # upstream's layout: each output after a newline
            conversation.append({"role": "assistant", "content": result.content})
            verdict = parse_verdict(judgment, settings.regex_patterns)
            if not verdict.ask_again:
                break
        game = {"user_prompt": conversation[1]["content"], "judgment": judgment, "score": verdict.label}
        return played(game, tokens)

    async def run(job: JudgeJob) -> dict[str, Any]:
        conversations = game_conversations(job, settings)
        keys = game_keys(job, settings, client.config, conversations)
        games = [(key, functools.partial(play, conversation)) for key, conversation in zip(keys, conversations)]
        outcomes = await play_games(log, job.question.question_id, games, live)
        # `baseline` as upstream's later format names it, so show_result scores against what was judged
        baseline = {"baseline": job.baseline.model} if job.baseline else {}
        return {
            "question_id": job.question.question_id,
            "model": job.answer.model,
            "judge": settings.judge_model,
            **baseline,
            "games": [played.game for played in outcomes],
            "usage": usage(outcomes),
        }

    return run


def describe_plan(model: str, total: int, todo: Sequence[JudgeJob], skipped: int, settings: JudgeSettings,
                  kept: Collection[tuple[str, int]] = ()) -> str:
    """The dry run's line; `kept`: the (question id, game number) an earlier run played (not asked again)."""
    conversations = [c for job in todo for number, c in enumerate(game_conversations(job, settings), 1)
                     if (job.question.question_id, number) not in kept]
    tokens = sum(count_tokens(m["content"]) for c in conversations for m in c)
    return (f"{model}: {total} judgeable questions, {total - len(todo)} already judged, {len(todo)} to judge, "
            f"skipped {skipped}: no answer, "
            f"{len(conversations)} judge calls (up to {len(conversations) * settings.number_of_judgment_attempts} "
            f"with re-asks){kept_games(kept)}, ~{tokens:,} prompt tokens (cl100k estimate)")
