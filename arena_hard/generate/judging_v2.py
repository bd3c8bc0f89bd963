"""One question judged as upstream v2.0 judges it: two games, the verdict rule, the record.

Game 1 shows the category's baseline as assistant A and the model as B, game 2 swaps them. Each
game is one call with the category's system prompt and the prompt template filled with the
question's `prompt` and the two answers' `answer` text (never their `thought`), and `{REFERENCE}`
with a reference answer when the config names one. The verdict (`parse_verdict_v2`): the judgment
upper-cased, the first pattern with any non-empty match, its last match. There is no re-ask. The two
games are played at once, and each finished game is kept in the judgment file's game log
(generate/game_log.py) until the record is written. The record: `{uid, category, judge, model,
baseline, games: [{score, judgment: {answer, thought?}, prompt: messages}, ...], usage}`; a game whose
call fails for good fails the whole job (no record is written, the next run plays that game again)
instead of being stored as upstream's `null`."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.judge_config_v2 import V2JudgeSettings
from arena_hard.core.records import Answer, Question
from arena_hard.generate.game_log import GameLog, Played, game_key, play_games, played, usage
from arena_hard.generate.judge_game import fill_template
from arena_hard.models.client import ModelClient
from arena_hard.models.providers import ChatRequest


def parse_verdict_v2(judgment: str, patterns: Sequence[re.Pattern[str]]) -> str | None:
    """Upstream v2.0's rule: the first pattern matching anything in the upper-cased text; its last
    match is the verdict (so a judge that restates labels is read by its final one)."""
    text = judgment.upper()
    for pattern in patterns:
        matches = [m if isinstance(m, str) else next((g for g in m if g), "") for m in pattern.findall(text)]
        matches = [m for m in matches if m != ""]
        if matches:
            return matches[-1].strip("\n")
    return None


@dataclass(frozen=True)
class JudgeJobV2:
    question: Question
    answer: Answer
    baseline: Answer
    system_prompt: str
    reference: Answer | None = None


def game_messages(job: JudgeJobV2, settings: V2JudgeSettings) -> list[list[dict[str, str]]]:
    """The messages of game 1 (baseline as A) and game 2 (swapped)."""
    games = []
    for first, second in ((job.baseline, job.answer), (job.answer, job.baseline)):
        fields = {"QUESTION": job.question.turns[0], "ANSWER_A": first.turns[-1], "ANSWER_B": second.turns[-1]}
        if job.reference is not None:
            fields["REFERENCE"] = job.reference.turns[-1]
        games.append([{"role": "system", "content": job.system_prompt},
                      {"role": "user", "content": fill_template(settings.prompt_template, fields)}])
    return games


def _request(messages: list[dict[str, str]], settings: V2JudgeSettings) -> ChatRequest:
    return ChatRequest(tuple(messages), settings.temperature, settings.max_tokens)


def game_keys(job: JudgeJobV2, settings: V2JudgeSettings, judge: ModelConfig,
              games: Sequence[list[dict[str, str]]] | None = None) -> list[str]:
    """The game log's key of each game of `job` (game_log.game_key), whose messages are game_messages'
    unless given."""
    names = (settings.judge_model, job.question.question_id, job.answer.model, job.baseline.model)
    patterns = [pattern.pattern for pattern in settings.regex_patterns]
    games = game_messages(job, settings) if games is None else games
    return [game_key(judge, number, _request(messages, settings), *names, patterns)
            for number, messages in enumerate(games, 1)]


def judge_job(client: ModelClient, settings: V2JudgeSettings, log: GameLog | None = None,
              live: bool = False) -> Callable[[JudgeJobV2], Awaitable[dict[str, Any]]]:
    """The job of one question; `live`: a direct run (see game_log.play_games)."""
    async def play(messages: list[dict[str, str]]) -> Played:
        result = await client.chat(_request(messages, settings))
        judgment = {"answer": result.content}
        if result.reasoning:
            judgment["thought"] = result.reasoning
        game = {"score": parse_verdict_v2(result.content, settings.regex_patterns), "judgment": judgment,
                "prompt": messages}
        return played(game, result.tokens)

    async def run(job: JudgeJobV2) -> dict[str, Any]:
        games = game_messages(job, settings)
        keyed = [(key, functools.partial(play, messages))
                 for key, messages in zip(game_keys(job, settings, client.config, games), games)]
        outcomes = await play_games(log, job.question.question_id, keyed, live)
        return {
            "uid": job.question.question_id,
            "category": job.question.category,
            "judge": settings.judge_model,
            "model": job.answer.model,
            "baseline": job.baseline.model,
            "games": [played.game for played in outcomes],
            "usage": usage(outcomes),
        }

    return run
