"""The providers' batch APIs: one small set of functions per api_type behind one signature.

`BATCH_APIS[api_type]` gives how to write a request as an input line (reusing the direct run's
request parameters), which requests may share a batch, the limits of one batch, and how to submit,
poll, download, read a result line (reusing the direct run's response reading, so the same text,
reasoning and token counts come out), and cancel. OpenAI and OpenAI-compatible servers, and Azure,
use /files + /batches (one model per input file); Anthropic uses /v1/messages/batches. Only the
`openai` and `anthropic` SDKs are used, imported when their api_type is."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable

from arena_hard.core.endpoints import ModelConfig
from arena_hard.models.providers import (ChatRequest, ChatResult, anthropic_params, anthropic_result, openai_params,
                                         openai_result)
from arena_hard.models.retry import REQUEST, EmptyResponse, Failure

POLL_RETRIES = 3  # the SDK's own retries for downloads; a submission is never retried, and a status read
# is retried by the poll loop itself (batch.poll), with its backoff and its timeout
WINDOW_HOURS = 24  # the completion window both providers offer: a batch ends (done or expired) within it
# Failure.kind of a request its batch ended without running (cancelled, expired): no attempt was made,
# so it does not count toward the store's limit of failed attempts
UNANSWERED = "unanswered"
UNANSWERED_STATES = ("cancelled", "expired")  # an OpenAI batch that ended so may hold requests it never ran


@dataclass(frozen=True)
class BatchStatus:
    state: str  # the provider's word: validating, in_progress, finalizing, completed, ended, ...
    finished: bool  # results (if any) can be downloaded; nothing more will happen
    done: int
    failed: int
    total: int
    error: str | None = None  # why the whole batch failed (validation, a rejected input file)


@dataclass(frozen=True)
class BatchAPI:
    max_requests: int
    max_bytes: int
    group: Callable[[ModelConfig], list[str]]  # requests with the same group may share a batch
    line: Callable[[ModelConfig, str, ChatRequest], dict[str, Any]]
    submit: Callable[[Any, Path, str], Awaitable[str]]  # (client, request file, local id) -> batch id
    status: Callable[[Any, str], Awaitable[BatchStatus]]
    download: Callable[[Any, str, Path], Awaitable[None]]  # every result line, to a file
    read_line: Callable[[dict[str, Any]], tuple[str, ChatResult | Failure]]
    cancel: Callable[[Any, str], Awaitable[None]]
    window: float = WINDOW_HOURS * 3600.0  # seconds within which the provider ends a batch


def _body(params: dict[str, Any]) -> dict[str, Any]:
    """SDK keyword arguments as the JSON body they become: extra_body's keys merged in."""
    extra = params.pop("extra_body", None) or {}
    return {**params, **extra}


def _result_or_failure(read: Callable[[], ChatResult]) -> ChatResult | Failure:
    try:
        return read()
    except EmptyResponse as error:
        return Failure(REQUEST, None, f"EmptyResponse: {error}")
    except (AttributeError, TypeError, KeyError, ValueError) as error:
        return Failure(REQUEST, None, f"unreadable result ({type(error).__name__}: {error})")


async def _save_stream(response: Any, path: Path, mode: str) -> None:
    with open(path, mode) as handle:
        async for chunk in response.iter_bytes():
            handle.write(chunk)


# --- OpenAI, OpenAI-compatible servers and Azure: /files + /batches ---------------------------

_OPENAI_FINISHED = {"completed", "failed", "expired", "cancelled"}


def openai_group(model: ModelConfig) -> list[str]:
    return [model.api_type, model.endpoints[0].api_base or "", model.model_name]


def openai_line(url: str, model: ModelConfig, custom_id: str, request: ChatRequest) -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": url, "body": _body(openai_params(model, request))}


async def openai_submit(url: str, client: Any, path: Path, local_id: str) -> str:
    with open(path, "rb") as handle:
        uploaded = await client.files.create(file=(path.name, handle), purpose="batch")
    batch = await client.batches.create(input_file_id=uploaded.id, endpoint=url, completion_window=f"{WINDOW_HOURS}h",
                                        metadata={"arena_hard_batch": local_id})
    return batch.id


async def openai_status(client: Any, batch_id: str) -> BatchStatus:
    batch = await client.with_options(max_retries=0).batches.retrieve(batch_id)
    counts = batch.request_counts
    error = None
    if batch.status == "failed":
        errors = list(getattr(batch.errors, "data", None) or [])
        error = "; ".join(f"{e.code}: {e.message}" + (f" (input line {e.line})" if e.line else "")
                          for e in errors[:3]) or "the provider gave no reason"
    return BatchStatus(batch.status, batch.status in _OPENAI_FINISHED, getattr(counts, "completed", 0) or 0,
                       getattr(counts, "failed", 0) or 0, getattr(counts, "total", 0) or 0, error)


async def openai_download(client: Any, batch_id: str, path: Path) -> None:
    reader = client.with_options(max_retries=POLL_RETRIES)
    batch = await reader.batches.retrieve(batch_id)
    path.write_bytes(b"")
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id:
            async with reader.files.with_streaming_response.content(file_id) as response:
                await _save_stream(response, path, "ab")


def openai_read_line(line: dict[str, Any]) -> tuple[str, ChatResult | Failure]:
    from openai.types.chat import ChatCompletion

    custom_id = str(line.get("custom_id"))
    error = line.get("error")
    if error:
        kind = UNANSWERED if error.get("code") in ("batch_cancelled", "batch_expired") else REQUEST
        return custom_id, Failure(kind, None, f"{error.get('code')}: {error.get('message')}")
    response = line.get("response") or {}
    status, body = response.get("status_code"), response.get("body")
    if status == 200 and isinstance(body, dict):
        return custom_id, _result_or_failure(lambda: openai_result(ChatCompletion.construct(**body)))
    message = body.get("error", {}).get("message") if isinstance(body, dict) and isinstance(body.get("error"), dict) else body
    return custom_id, Failure(REQUEST, status if isinstance(status, int) else None, str(message))


async def openai_cancel(client: Any, batch_id: str) -> None:
    await client.batches.cancel(batch_id)


def _openai_api(url: str) -> BatchAPI:
    return BatchAPI(50_000, 200 * 1024 * 1024, openai_group, partial(openai_line, url), partial(openai_submit, url),
                    openai_status, openai_download, openai_read_line, openai_cancel)


# --- Anthropic: /v1/messages/batches ---------------------------------------------------------

def anthropic_group(model: ModelConfig) -> list[str]:
    return [model.api_type, model.endpoints[0].api_base or "", ""]  # models may share a batch


def anthropic_line(model: ModelConfig, custom_id: str, request: ChatRequest) -> dict[str, Any]:
    return {"custom_id": custom_id, "params": _body(anthropic_params(model, request))}


async def anthropic_submit(client: Any, path: Path, local_id: str) -> str:
    with open(path, "rb") as handle:  # the API takes the requests in the JSON body, not as a file
        requests = [json.loads(line) for line in handle]
    return (await client.messages.batches.create(requests=requests)).id


async def anthropic_status(client: Any, batch_id: str) -> BatchStatus:
    batch = await client.with_options(max_retries=0).messages.batches.retrieve(batch_id)
    counts = batch.request_counts
    failed = counts.errored + counts.canceled + counts.expired
    return BatchStatus(batch.processing_status, batch.processing_status == "ended", counts.succeeded, failed,
                       counts.processing + counts.succeeded + failed)


async def anthropic_download(client: Any, batch_id: str, path: Path) -> None:
    reader = client.with_options(max_retries=POLL_RETRIES)
    async with reader.messages.batches.with_streaming_response.results(batch_id) as response:
        await _save_stream(response, path, "wb")


def anthropic_read_line(line: dict[str, Any]) -> tuple[str, ChatResult | Failure]:
    from anthropic.types import Message

    custom_id = str(line.get("custom_id"))
    result = line.get("result") or {}
    kind = result.get("type")
    if kind == "succeeded" and isinstance(result.get("message"), dict):
        return custom_id, _result_or_failure(lambda: anthropic_result(Message.construct(**result["message"])))
    if kind == "errored":
        error = (result.get("error") or {}).get("error") or {}
        return custom_id, Failure(REQUEST, None, f"{error.get('type')}: {error.get('message')}")
    return custom_id, Failure(UNANSWERED if kind in ("canceled", "expired") else REQUEST, None,
                              f"request {kind or 'without a result'} in the batch")


async def anthropic_cancel(client: Any, batch_id: str) -> None:
    await client.messages.batches.cancel(batch_id)


BATCH_APIS: dict[str, BatchAPI] = {
    "openai": _openai_api("/v1/chat/completions"),
    "azure": _openai_api("/chat/completions"),
    "anthropic": BatchAPI(100_000, 256 * 1000 * 1000, anthropic_group, anthropic_line, anthropic_submit,
                          anthropic_status, anthropic_download, anthropic_read_line, anthropic_cancel),
}
