"""Answer records in upstream v2.0's format, as gen_answer.py writes them for a v2.0 bench.

One record per question: `{uid, ans_id, model, messages, tstamp, metadata, usage}` where `messages`
is the conversation sent (an optional system message, then the question's `prompt` as the user's)
followed by the assistant's `{answer, thought?}` (reasoning, when the API returns it, goes to
`thought`, never into `answer`), and `metadata` is upstream's: `token_len` of the answer under the
bench's encoding (o200k_base for v2.0) plus the markdown counts of the answer. `usage` (the tokens
the API reported) is this project's addition; upstream's readers ignore it. Reads and writes nothing."""
from __future__ import annotations

import time
import uuid
from typing import Any, Awaitable, Callable, Protocol

from arena_hard.core.records import Question
from arena_hard.core.textstats import markdown_counts
from arena_hard.core.tokens import count_tokens
from arena_hard.models.client import ModelClient
from arena_hard.models.providers import ChatRequest, ChatResult


class AnswerJob(Protocol):
    question: Question
    temperature: float
    max_tokens: int


def answer_metadata(answer: str, encoding: str) -> dict[str, Any]:
    """Upstream v2.0's `metadata` of an answer: its token count, then its markdown counts."""
    return {"token_len": count_tokens(answer, encoding), **markdown_counts(answer)}


def prompt_messages(question: Question, system_prompt: str | None) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": "user", "content": question.turns[0]}]


def answer_record(question: Question, model: str, messages: list[dict[str, Any]], result: ChatResult,
                  encoding: str) -> dict[str, Any]:
    content = {"answer": result.content}
    if result.reasoning:
        content["thought"] = result.reasoning
    return {
        "uid": question.question_id,
        "ans_id": uuid.uuid4().hex,
        "model": model,
        "messages": [*messages, {"role": "assistant", "content": content}],
        "tstamp": time.time(),
        "metadata": answer_metadata(result.content, encoding),
        "usage": result.tokens.record(),
    }


def answer_job(client: ModelClient, encoding: str) -> Callable[[AnswerJob], Awaitable[dict[str, Any]]]:
    """The async job gen_answer.py runs per question of a v2.0 bench."""
    model = client.config

    async def run(job: AnswerJob) -> dict[str, Any]:
        messages = prompt_messages(job.question, model.system_prompt)
        result = await client.chat(ChatRequest(tuple(messages), job.temperature, job.max_tokens))
        return answer_record(job.question, model.name, messages, result, encoding)

    return run
