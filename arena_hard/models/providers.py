"""One small function per API type behind one signature: `call(client, model, request) -> ChatResult`.

`PROVIDERS` maps an `api_type` of api_config.yaml to its Provider: the SDK client's options for an
endpoint (checked before any call: a missing key is a one-line error), how to make that client (once,
reused for every call) and how to send one chat request with it. Failures
are exceptions, classified by arena_hard.models.retry; no function here retries or returns a placeholder.
A reply becomes a ChatResult in arena_hard.models.replies (re-exported here: `openai_result`,
`anthropic_result`, `ChatResult`); a request holding text no SDK can encode is `unsendable`.
The SDKs are imported only when their api_type is used."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from arena_hard.models import bedrock_api, engine_api, meta_api, mock, vertex_api
from arena_hard.core.endpoints import Endpoint, ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import lone_surrogate
from arena_hard.models.replies import ChatResult, anthropic_result, chat_result, openai_result


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[dict[str, str], ...]  # {"role": "system"|"user"|"assistant", "content": str}
    temperature: float
    max_tokens: int


@dataclass(frozen=True)
class Provider:
    client_options: Callable[[ModelConfig, Endpoint], dict[str, Any]]  # UserError when credentials are missing
    new_client: Callable[[dict[str, Any]], Any]
    call: Callable[[Any, ModelConfig, ChatRequest], Awaitable[ChatResult]]
    # What of a request the API will not apply, for a warning the client prints once per model, or None.
    unapplied: Callable[[ModelConfig, ChatRequest], str | None] = lambda model, request: None


def unsendable(request: ChatRequest) -> str | None:
    """Why the SDKs cannot send `request` (they encode it as UTF-8), or None."""
    for number, message in enumerate(request.messages, 1):
        problem = lone_surrogate(message["content"])
        if problem:
            return f"message {number} ({message['role']}) {problem}"
    return None


def _sdk(module: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise UserError(f"api_type needs the `{module}` package: pip install -r requirements.txt") from None


def _no_key(model: ModelConfig, variable: str) -> UserError:
    return UserError(f"{model.source}: `{model.name}` has no API key; export {variable}=... or set "
                     "endpoints[].api_key (e.g. api_key: ${MY_KEY})")


def make_client(model: ModelConfig, endpoint: Endpoint) -> Any:
    """The SDK client for one endpoint, made once and reused for every call to it."""
    provider = PROVIDERS[model.api_type]
    return provider.new_client(provider.client_options(model, endpoint))


def check_credentials(model: ModelConfig) -> None:
    """Raise the UserError a missing key or address would raise later, before any call is made."""
    for endpoint in model.endpoints:
        PROVIDERS[model.api_type].client_options(model, endpoint)


# --- OpenAI and OpenAI-compatible servers (vLLM, SGLang, TGI, OpenRouter, ...) ---------------

def _openai_key(model: ModelConfig, endpoint: Endpoint) -> str:
    variable = model.api_key_env or "OPENAI_API_KEY"
    key = endpoint.api_key or os.environ.get(variable)
    if key:
        return key
    if endpoint.api_base and not model.api_key_env:
        return "EMPTY"  # a local server started without --api-key accepts any key
    raise _no_key(model, variable)


def openai_options(model: ModelConfig, endpoint: Endpoint) -> dict[str, Any]:
    return {"api_key": _openai_key(model, endpoint), "base_url": endpoint.api_base, "timeout": model.timeout,
            "max_retries": 0}


def new_openai_client(options: dict[str, Any]) -> Any:
    return _sdk("openai").AsyncOpenAI(**options)


def azure_options(model: ModelConfig, endpoint: Endpoint) -> dict[str, Any]:
    key = endpoint.api_key or os.environ.get("AZURE_OPENAI_API_KEY")
    base = endpoint.api_base or os.environ.get("AZURE_OPENAI_ENDPOINT")
    version = endpoint.api_version or os.environ.get("OPENAI_API_VERSION")
    if not key:
        raise _no_key(model, "AZURE_OPENAI_API_KEY")
    if not base or not version:
        raise UserError(f"{model.source}: `{model.name}` (api_type azure) needs endpoints[].api_base and "
                        "api_version (or AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION)")
    return {"azure_endpoint": base, "api_key": key, "api_version": version, "timeout": model.timeout,
            "max_retries": 0}


def new_azure_client(options: dict[str, Any]) -> Any:
    return _sdk("openai").AsyncAzureOpenAI(**options)


def openai_params(model: ModelConfig, request: ChatRequest) -> dict[str, Any]:
    """The chat-completions parameters of a request, as SDK keyword arguments (extra_body apart)."""
    params: dict[str, Any] = {"model": model.model_name, "messages": list(request.messages)}
    if model.reasoner:
        # Upstream v2.0's openai_thinking and deepseek_reasoner send no sampling settings: the
        # model's defaults, and a token limit only when the entry sets one.
        if model.reasoning_effort:
            params["reasoning_effort"] = model.reasoning_effort
        if model.max_tokens:
            params["max_completion_tokens" if model.reasoning_effort else "max_tokens"] = model.max_tokens
    elif model.reasoning_effort:
        # Reasoning models take max_completion_tokens and only their default temperature.
        params["reasoning_effort"] = model.reasoning_effort
        params["max_completion_tokens"] = request.max_tokens
    else:
        params["temperature"] = request.temperature
        params["max_tokens"] = request.max_tokens
    if model.extra_body:
        params["extra_body"] = model.extra_body
    return params


def _with_headers(model: ModelConfig, params: dict[str, Any]) -> dict[str, Any]:
    """A call's parameters with the model's extra_headers (a batch's lines carry no headers)."""
    return {**params, "extra_headers": model.extra_headers} if model.extra_headers else params


async def call_openai(client: Any, model: ModelConfig, request: ChatRequest) -> ChatResult:
    return openai_result(await client.chat.completions.create(**_with_headers(model, openai_params(model, request))))


# --- Anthropic -------------------------------------------------------------------------------

def anthropic_options(model: ModelConfig, endpoint: Endpoint) -> dict[str, Any]:
    key = endpoint.api_key or os.environ.get("ANTHROPIC_API_KEY")
    if not key:
        raise _no_key(model, "ANTHROPIC_API_KEY")
    return {"api_key": key, "base_url": endpoint.api_base, "timeout": model.timeout, "max_retries": 0}


def new_anthropic_client(options: dict[str, Any]) -> Any:
    return _sdk("anthropic").AsyncAnthropic(**options)


def anthropic_params(model: ModelConfig, request: ChatRequest) -> dict[str, Any]:
    """The messages-API parameters of a request, as SDK keyword arguments (extra_body apart)."""
    system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
    params: dict[str, Any] = {
        "model": model.model_name,
        "messages": [m for m in request.messages if m["role"] != "system"],
        "max_tokens": request.max_tokens,
    }
    if system:
        params["system"] = system
    # No temperature: Anthropic's API version 2026-10-21 (sent by SDK 2.x) rejects sampling parameters.
    if model.thinking_budget:
        params["thinking"] = {"type": "enabled", "budget_tokens": model.thinking_budget}
    if model.extra_body:
        params["extra_body"] = model.extra_body
    if _pins_api_version(model):  # an older API version, which takes the temperature
        params["extra_body"] = {"temperature": request.temperature, **params.get("extra_body", {})}
    return params


ANTHROPIC_DEFAULT_TEMPERATURE = 1.0


def _pins_api_version(model: ModelConfig) -> bool:
    return any(header.lower() == "anthropic-version" for header in model.extra_headers)


def anthropic_unapplied(model: ModelConfig, request: ChatRequest) -> str | None:
    """The API version anthropic SDK 2.x speaks (2026-10-21) takes no sampling parameters, so the SDK
    cannot send a temperature: say so rather than sample at the API's default in silence."""
    if _pins_api_version(model) or request.temperature == ANTHROPIC_DEFAULT_TEMPERATURE:
        return None
    return (f"{model.name}: temperature {request.temperature:g} is not applied: the Anthropic API version the "
            f"anthropic SDK speaks takes no sampling parameters, so answers are sampled at the API's default. "
            f"If you must have it, pin an older API version in {model.name}'s api_config.yaml entry, "
            "e.g. `extra_headers: {anthropic-version: \"2023-06-01\"}`, and the temperature is sent again")


async def call_anthropic(client: Any, model: ModelConfig, request: ChatRequest) -> ChatResult:
    return anthropic_result(await client.messages.create(**_with_headers(model, anthropic_params(model, request))))


# --- mock: offline, deterministic, no network -------------------------------------------------

def mock_options(model: ModelConfig, endpoint: Endpoint) -> dict[str, Any]:
    return {}


def new_mock_client(options: dict[str, Any]) -> None:
    return None


async def call_mock(client: None, model: ModelConfig, request: ChatRequest) -> ChatResult:
    reply = mock.reply(model.model_name, model.mock, request.messages)
    return chat_result(reply, None, (mock.word_count(request.messages), mock.word_count(({"content": reply},)), None),
                   False)


# --- SGLang and vLLM: OpenAI's API; Meta, Vertex AI and Bedrock in modules of their own ---------

_ENGINE = Provider(engine_api.server_options(openai_options), new_openai_client, engine_api.thought_split(call_openai))

PROVIDERS: dict[str, Provider] = {
    "openai": Provider(openai_options, new_openai_client, call_openai),
    "azure": Provider(azure_options, new_azure_client, call_openai),
    "anthropic": Provider(anthropic_options, new_anthropic_client, call_anthropic, anthropic_unapplied),
    "cohere": Provider(openai_options, new_openai_client, call_openai),  # its OpenAI-compatible API
    "meta": Provider(meta_api.options, meta_api.new_client, meta_api.call),
    "vertex": Provider(vertex_api.options, vertex_api.new_client, vertex_api.call),
    "bedrock": Provider(bedrock_api.options, bedrock_api.new_client, bedrock_api.call),
    "sglang": _ENGINE,
    "vllm": _ENGINE,
    "mock": Provider(mock_options, new_mock_client, call_mock),
}
