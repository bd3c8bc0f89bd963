"""api_types `sglang` and `vllm`: an SGLang or vLLM server's OpenAI-compatible API, either one already
running (endpoints[].api_base) or one the run starts (`local_engine: true`, whose endpoints are filled
in by arena_hard.generate.local_engine once its servers are healthy).

The requests are OpenAI's; what differs is the answer: with `end_think_token` (upstream's, e.g.
`</think>` for QwQ, whose chat template opens the thought itself), the text before the token is the
thought and the text after it the answer, as upstream splits it; without the token in the reply the
whole text is the answer. Reads and writes nothing."""
from __future__ import annotations

import dataclasses
from typing import Any, Awaitable, Callable

from arena_hard.core.endpoints import Endpoint, ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.models.retry import EmptyResponse

Options = Callable[[ModelConfig, Endpoint], dict[str, Any]]
Call = Callable[[Any, ModelConfig, Any], Awaitable[Any]]


def server_options(openai_options: Options) -> Options:
    """OpenAI's client options, for a server whose address the entry (or the started engine) gives."""
    def options(model: ModelConfig, endpoint: Endpoint) -> dict[str, Any]:
        if not endpoint.api_base:
            raise UserError(f"{model.source}: `{model.name}` (api_type {model.api_type}) needs endpoints[].api_base, "
                            "the server's address (e.g. http://localhost:30000/v1), or `local_engine: true` to "
                            "have the run start the server")
        return openai_options(model, endpoint)
    return options


def thought_split(call_openai: Call) -> Call:
    """`call_openai`, its answer split at the model's end_think_token into thought and answer."""
    async def call(client: Any, model: ModelConfig, request: Any) -> Any:
        result = await call_openai(client, model, request)
        if not model.end_think_token:
            return result
        thought, token, answer = result.content.partition(model.end_think_token)
        if not token:
            return result
        if not answer.strip():
            raise EmptyResponse(f"the reply has nothing after {model.end_think_token!r} (did the thought take "
                                "every token?)")
        reasoning = "\n\n".join(part for part in (result.reasoning, thought.strip()) if part) or None
        return dataclasses.replace(result, content=answer.lstrip(), reasoning=reasoning)
    return call
