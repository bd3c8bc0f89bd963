"""Upstream v2.0's api_config.yaml entries, read as this project's: its key names and api_types.

Upstream's 2025 entries name the API model `model` (this project: `model_name`), the system prompt
`sys_prompt` (`system_prompt`), Anthropic's thinking budget `budget_tokens` (`thinking_budget`), and
use api_types this project serves through its own providers: `openai_thinking` is OpenAI with a
reasoning effort (upstream's default: medium); `anthropic_thinking` is Anthropic with a thinking
budget; `deepseek`, `deepseek_reasoner`, `xai`, `mistral` and `gemini` are their vendors'
OpenAI-compatible endpoints (a reasoner's `reasoning_content` becomes the answer's thought). The
api_types it cannot serve are refused with what to use instead. `upstream_entry` rewrites one entry;
config.model_config validates the result as any other. Reads and writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arena_hard.core.errors import UserError

RENAMED_KEYS = {"model": "model_name", "sys_prompt": "system_prompt", "budget_tokens": "thinking_budget"}


@dataclass(frozen=True)
class Alias:
    api_type: str  # this project's api_type
    api_base: str | None = None  # the vendor's OpenAI-compatible address, when no endpoint gives one
    key_env: str | None = None  # the environment variable holding the vendor's key
    default_model: str | None = None  # the API model when the entry names none (upstream hard-codes it)
    reasoning_effort: str | None = None  # openai_thinking: sent unless the entry sets its own
    needs_budget: bool = False  # anthropic_thinking: budget_tokens is required
    reasoner: bool = False  # sends no temperature and no max_tokens unless the entry sets max_tokens


ALIASES = {
    "openai_thinking": Alias("openai", reasoning_effort="medium", reasoner=True),
    "anthropic_thinking": Alias("anthropic", needs_budget=True),
    "deepseek": Alias("openai", "https://api.deepseek.com", "DEEPSEEK_API_KEY", "deepseek-chat"),
    "deepseek_reasoner": Alias("openai", "https://api.deepseek.com", "DEEPSEEK_API_KEY", "deepseek-reasoner",
                               reasoner=True),
    "xai": Alias("openai", "https://api.x.ai/v1", "XAI_API_KEY"),
    "mistral": Alias("openai", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "gemini": Alias("openai", "https://generativelanguage.googleapis.com/v1beta/openai/", "GEMINI_API_KEY"),
}

_COMPATIBLE = "api_type: openai with endpoints: [{api_base: <an OpenAI-compatible address>, api_key: ${YOUR_KEY}}]"
REFUSED = {
    "vertex": f"use api_type: gemini (GEMINI_API_KEY), or {_COMPATIBLE} with Vertex AI's OpenAI-compatible address",
    "cohere": f"use {_COMPATIBLE} with Cohere's compatibility address https://api.cohere.ai/compatibility/v1",
    "meta": f"use {_COMPATIBLE} with the Llama API's compatibility address https://api.llama.com/compat/v1/",
    "sglang": "serve the model with `python -m sglang.launch_server` and use api_type: openai with its "
              "api_base (http://localhost:<port>/v1)",
    "vllm": "serve the model with `vllm serve` and use api_type: openai with its api_base",
}
_BEDROCK = (f"call Bedrock through an OpenAI-compatible gateway (Bedrock Access Gateway, LiteLLM) and use "
            f"{_COMPATIBLE}")


def refusal(api_type: str) -> str | None:
    """What to use instead of an upstream api_type this project does not serve, or None."""
    if api_type in REFUSED:
        return REFUSED[api_type]
    if api_type.startswith(("aws_", "bedrock")):
        return _BEDROCK
    return None


def upstream_entry(where: str, entry: dict[str, Any]) -> tuple[dict[str, Any], Alias | None]:
    """The entry in this project's keys, and the Alias its upstream api_type stands for (or None).

    `where` names the entry for messages (`file: \\`name\\``)."""
    entry = dict(entry)
    for old, new in RENAMED_KEYS.items():
        if old in entry:
            if new in entry:
                raise UserError(f"{where} has both `{old}` (upstream's name) and `{new}`; keep one")
            entry[new] = entry.pop(old)
    api_type = entry.get("api_type")
    if not isinstance(api_type, str):
        return entry, None
    instead = refusal(api_type)
    if instead is not None:
        raise UserError(f"{where}: api_type {api_type!r} is not served by this project; {instead}")
    if entry.pop("local_engine", False):
        raise UserError(f"{where}: `local_engine: True` (upstream's in-process engine) is not served by this "
                        f"project; {REFUSED['sglang']}")
    alias = ALIASES.get(api_type)
    if alias is None:
        return entry, None
    entry["api_type"] = alias.api_type
    if alias.default_model and "model_name" not in entry:
        entry["model_name"] = alias.default_model
    if alias.reasoning_effort and "reasoning_effort" not in entry:
        entry["reasoning_effort"] = alias.reasoning_effort
    if alias.needs_budget and "thinking_budget" not in entry:
        raise UserError(f"{where}: api_type anthropic_thinking needs `budget_tokens` (the thinking budget)")
    if alias.api_base:
        endpoints = entry.get("endpoints") or [{}]
        if isinstance(endpoints, list):
            entry["endpoints"] = [{"api_base": alias.api_base, **e} if isinstance(e, dict) else e for e in endpoints]
    return entry, alias
