"""api_type `meta`: Meta's streaming chat API as upstream v2.0 calls it.

One request per chat: POST {api_base}/chat_stream_completions?access_token={api_key} with the
messages as {role, text} and the options upstream sends (max_tokens, top_p sampling at top_p 1, the
temperature); the reply is newline-delimited JSON chunks whose `text` parts, joined, are the answer.
The stream reports no token counts, so none are counted. Both api_base and api_key come from the
entry's endpoints (upstream reads no environment variable). Reads and writes nothing."""
from __future__ import annotations

import json
from typing import Any

from arena_hard.core.endpoints import Endpoint, ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.models.http_api import check_status, new_http_client
from arena_hard.models.replies import ChatResult, chat_result
from arena_hard.models.retry import NotAnApi


def options(model: ModelConfig, endpoint: Endpoint) -> dict[str, Any]:
    if not endpoint.api_base or not endpoint.api_key:
        raise UserError(f"{model.source}: `{model.name}` (api_type meta) needs endpoints[].api_base and "
                        "endpoints[].api_key (e.g. api_key: ${META_ACCESS_TOKEN})")
    return {"url": endpoint.api_base.rstrip("/") + "/chat_stream_completions", "access_token": endpoint.api_key,
            "timeout": model.timeout, "connections": model.parallel}


class MetaClient:
    def __init__(self, url: str, access_token: str, timeout: float, connections: int):
        self.url, self.access_token = url, access_token
        self.http = new_http_client(timeout, connections)

    async def close(self) -> None:
        await self.http.aclose()


def new_client(options: dict[str, Any]) -> MetaClient:
    return MetaClient(**options)


def request_body(model: ModelConfig, request: Any) -> dict[str, Any]:
    return {
        "model": model.model_name,
        "chunks_delimited": True,
        "messages": [{"role": m["role"], "text": m["content"]} for m in request.messages],
        "options": {"max_tokens": request.max_tokens, "generation_algorithm": "top_p", "top_p": 1,
                    "temperature": request.temperature},
        **model.extra_body,
    }


async def call(client: MetaClient, model: ModelConfig, request: Any) -> ChatResult:
    parts: list[str] = []
    async with client.http.stream("POST", client.url, params={"access_token": client.access_token},
                                  json=request_body(model, request), headers=model.extra_headers) as response:
        if response.status_code >= 400:
            check_status(response, await response.aread())
        async for line in response.aiter_lines():
            if line.strip():
                parts.extend(_text(line, first=not parts))
    return chat_result("".join(parts), None, (0, 0, None), False)


def _text(line: str, first: bool) -> list[str]:
    """The text of one chunk (a line of JSON). A first line that is not JSON is a web page or the like: the
    address is wrong; a later one is a stream cut off, worth another attempt (JSONDecodeError)."""
    try:
        chunk = json.loads(line)
    except ValueError:
        if first:
            raise NotAnApi(f"the endpoint answered with something that is not Meta's chat stream "
                           f"({line.strip()[:60]!r}...): check api_base") from None
        raise
    return [chunk["text"]] if isinstance(chunk, dict) and isinstance(chunk.get("text"), str) else []
