"""api_type `vertex`: Gemini on Vertex AI through its `generateContent` REST method, as upstream v2.0.

The request is upstream's: the system message as `systemInstruction`, the other turns as `contents`
(user -> user, assistant -> model), the temperature and `maxOutputTokens` in `generationConfig`;
`extra_body` adds fields (a `generationConfig` of its own is merged into ours). The address is
https://{region}-aiplatform.googleapis.com/v1/projects/{project_id}/locations/{region}/publishers/
google/models/{model}:generateContent (region `global`: aiplatform.googleapis.com); an endpoint's
api_base replaces the host part. Each of the entry's `regions` is an endpoint of its own.

Credentials are Application Default Credentials through google-auth (GOOGLE_APPLICATION_CREDENTIALS,
`gcloud auth application-default login`'s file, or the metadata server), refreshed when they are about
to expire, and when Vertex AI answers 401 (the request is then sent once more with the new token; a
second 401 is a 401), never by running gcloud. Parts marked `thought` are the thought; the token counts are
`usageMetadata`'s, thinking tokens counted as completion tokens as OpenAI counts them.
Reads the credentials file google-auth finds; writes nothing."""
from __future__ import annotations

import asyncio
from typing import Any

from arena_hard.core.api_types import missing_package
from arena_hard.core.endpoints import Endpoint, ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.models.http_api import APIStatusError, new_http_client, post_json
from arena_hard.models.replies import ChatResult, chat_result, usage_counts
from arena_hard.models.retry import EmptyResponse

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
DEFAULT_REGION = "us-central1"
_ROLES = {"user": "user", "assistant": "model"}


def _google_auth() -> Any:
    missing = missing_package("vertex")
    if missing:
        raise UserError(missing)
    import google.auth
    import google.auth.exceptions
    import google.auth.transport.requests
    return google.auth


def credentials(model: ModelConfig) -> Any:
    """Application Default Credentials, or a one-line UserError saying how to get them."""
    google_auth = _google_auth()
    try:
        found, _ = google_auth.default(scopes=list(SCOPES))
    except google_auth.exceptions.DefaultCredentialsError as error:
        raise UserError(f"{model.source}: `{model.name}` (api_type vertex) found no Google credentials "
                        f"({' '.join(str(error).split())[:160]}); run `gcloud auth application-default login` or "
                        "set GOOGLE_APPLICATION_CREDENTIALS to a service account's key file") from None
    return found


def address(model: ModelConfig, endpoint: Endpoint) -> str:
    region = endpoint.region or DEFAULT_REGION
    host = "https://aiplatform.googleapis.com" if region == "global" else f"https://{region}-aiplatform.googleapis.com"
    return (f"{(endpoint.api_base or host).rstrip('/')}/v1/projects/{model.project_id}/locations/{region}"
            f"/publishers/google/models/{model.model_name}:generateContent")


def options(model: ModelConfig, endpoint: Endpoint) -> dict[str, Any]:
    return {"url": address(model, endpoint), "credentials": credentials(model), "timeout": model.timeout,
            "connections": model.parallel}


class VertexClient:
    """One region's address, the credentials (refreshed by one request at a time) and an HTTP client."""

    def __init__(self, url: str, credentials: Any, timeout: float, connections: int):
        self.url, self.credentials = url, credentials
        self.http = new_http_client(timeout, connections)
        self._refreshing = asyncio.Lock()

    async def token(self, rejected: str | None = None) -> str:
        """A valid token; a new one when the current one is `rejected` (answered 401), unless another
        request has already replaced it."""
        async with self._refreshing:
            if not self.credentials.valid or (rejected is not None and self.credentials.token == rejected):
                request = _google_auth().transport.requests.Request()
                await asyncio.to_thread(self.credentials.refresh, request)
        return self.credentials.token

    async def close(self) -> None:
        await self.http.aclose()


def new_client(options: dict[str, Any]) -> VertexClient:
    return VertexClient(**options)


def request_body(model: ModelConfig, request: Any) -> dict[str, Any]:
    system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
    body: dict[str, Any] = {"systemInstruction": {"role": "system", "parts": [{"text": system}]}} if system else {}
    body["contents"] = [{"parts": [{"text": m["content"]}], "role": _ROLES[m["role"]]}
                        for m in request.messages if m["role"] != "system"]
    body["generationConfig"] = {"temperature": request.temperature, "maxOutputTokens": request.max_tokens}
    extra = dict(model.extra_body)
    body["generationConfig"].update(extra.pop("generationConfig", {}))
    return {**body, **extra}


async def _generate(client: VertexClient, model: ModelConfig, request: Any, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", **model.extra_headers}
    return await post_json(client.http, client.url, request_body(model, request), "Vertex AI", headers)


async def call(client: VertexClient, model: ModelConfig, request: Any) -> ChatResult:
    token = await client.token()
    try:
        data = await _generate(client, model, request, token)
    except APIStatusError as error:
        if error.status_code != 401:
            raise
        # A token revoked or expired before google-auth's own margin: refresh it and ask once more. A
        # second 401 goes to the client as any 401 (the endpoint is dropped).
        data = await _generate(client, model, request, await client.token(rejected=token))
    candidates = data.get("candidates") or []
    if not candidates:
        blocked = (data.get("promptFeedback") or {}).get("blockReason")
        raise EmptyResponse(f"Vertex AI returned no candidate{f' (prompt blocked: {blocked})' if blocked else ''}")
    parts = (candidates[0].get("content") or {}).get("parts") or []
    text = "".join(p.get("text", "") for p in parts if not p.get("thought"))
    thought = "".join(p.get("text", "") for p in parts if p.get("thought"))
    usage = data.get("usageMetadata") or {}
    answer, thinking = usage.get("candidatesTokenCount") or 0, usage.get("thoughtsTokenCount") or 0
    # thinking tokens are output tokens, as OpenAI counts reasoning tokens; a count that is none is noted
    completion = answer + thinking if all(type(n) is int for n in (answer, thinking)) else f"{answer} + {thinking}"
    counts = usage_counts(promptTokenCount=usage.get("promptTokenCount"), candidatesTokenCount=completion)
    return chat_result(text, thought or None, counts, candidates[0].get("finishReason") == "MAX_TOKENS")
