"""What the providers without an SDK of their own share (Meta's streaming API, Vertex AI's REST API,
Bedrock's errors): one async httpx client per endpoint, and a JSON POST whose failures are the
exceptions arena_hard.models.retry classifies as it does the SDKs' (a status as `status_code`,
Retry-After in `response.headers`, httpx's transport errors and timeouts by name). Reads and writes
nothing."""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, Mapping

import httpx

from arena_hard.models.retry import NotAnApi


class APIStatusError(Exception):
    """The API answered with an error status; `status_code` and `response.headers` as the SDKs' errors."""

    def __init__(self, status_code: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.response = SimpleNamespace(headers=headers or {})


def new_http_client(timeout: float, connections: int) -> httpx.AsyncClient:
    """An async client for one endpoint: `connections` kept alive (the model's `parallel`), no retries."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=min(timeout, 60.0)), limits=limits,
                             follow_redirects=False)


def error_message(body: bytes) -> str:
    """The message of an error body ({"error": {"message"}}, {"message"}, ...), else its text."""
    try:
        data = json.loads(body)
    except ValueError:
        return " ".join(body.decode("utf-8", "replace").split())[:300] or "(no body)"
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        parts = [str(error[key]) for key in ("status", "code", "type", "message", "detail") if error.get(key)]
        return ": ".join(dict.fromkeys(parts)) or json.dumps(data)[:300]
    return str(error)[:300]


def check_status(response: httpx.Response, body: bytes) -> None:
    if response.status_code >= 400:
        raise APIStatusError(response.status_code, error_message(body), response.headers)


def json_reply(response: httpx.Response, body: bytes, api: str) -> dict[str, Any]:
    """The JSON object of a 200, or NotAnApi when it is something else (a web page: a wrong api_base)."""
    try:
        data = json.loads(body)
    except ValueError:
        if "json" in response.headers.get("content-type", ""):
            raise  # cut off mid-body: JSONDecodeError, retried
        data = None
    if not isinstance(data, dict):
        text = " ".join(body.decode("utf-8", "replace").split())[:60]
        raise NotAnApi(f"the endpoint answered {response.status_code} with something that is not a {api} "
                       f"response ({text!r}...): check api_base")
    return data


async def post_json(client: httpx.AsyncClient, url: str, body: dict[str, Any], api: str,
                    headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=headers)
    content = response.content
    check_status(response, content)
    return json_reply(response, content, api)
