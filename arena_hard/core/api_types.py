"""Upstream v2.0's api_config.yaml entries, read as this project's: its key names and api_types.

Upstream's 2025 entries name the API model `model` (this project: `model_name`), the system prompt
`sys_prompt` (`system_prompt`), Anthropic's thinking budget `budget_tokens` (`thinking_budget`), and
use api_types this project serves through its own providers: `openai_thinking` is OpenAI with a
reasoning effort (upstream's default: medium); `anthropic_thinking` is Anthropic with a thinking
budget; `deepseek`, `deepseek_reasoner`, `xai`, `mistral` and `gemini` are their vendors'
OpenAI-compatible endpoints (a reasoner's `reasoning_content` becomes the answer's thought); `cohere`
is Cohere's OpenAI-compatible endpoint; every `aws_*` (aws_claude, aws_mistral, aws_llama, aws_nova,
aws_deepseek) is Bedrock's Converse API, the model named by `model_id` (upstream's `model` there is
only a label). `upstream_entry` rewrites one entry; config.model_config validates the result as any
other. `missing_package` names the optional package an api_type needs when it is not installed, so
that a run stops before its first call. Reads and writes nothing."""
from __future__ import annotations

import importlib.util
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
    "cohere": Alias("cohere", "https://api.cohere.ai/compatibility/v1", "COHERE_API_KEY"),
}
BEDROCK_PREFIX = "aws_"  # upstream's one api_type per Bedrock model family; here one Converse provider
BEDROCK = Alias("bedrock")

# api_type -> (the modules it imports, the package to install), from requirements-optional.txt
OPTIONAL_PACKAGES = {"bedrock": (("boto3",), "boto3"), "vertex": (("google.auth", "requests"), "google-auth[requests]")}


def missing_package(api_type: str) -> str | None:
    """What to install for `api_type` when its optional SDK is missing, or None."""
    modules, package = OPTIONAL_PACKAGES.get(api_type, ((), ""))
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package (google) is missing
            found = False
        if not found:
            return (f"api_type {api_type} needs the {package} package, which is not installed: "
                    f"pip install '{package}' (or pip install -r requirements-optional.txt)")
    return None


def alias_of(api_type: str) -> Alias | None:
    return BEDROCK if api_type.startswith(BEDROCK_PREFIX) else ALIASES.get(api_type)


def upstream_entry(where: str, entry: dict[str, Any]) -> tuple[dict[str, Any], Alias | None]:
    """The entry in this project's keys, and the Alias its upstream api_type stands for (or None).

    `where` names the entry for messages (`file: \\`name\\``)."""
    entry = dict(entry)
    api_type = entry.get("api_type")
    if api_type == "bedrock" or (isinstance(api_type, str) and api_type.startswith(BEDROCK_PREFIX)):
        if "model_id" in entry:  # Bedrock's model id names the model; upstream's `model` is a label
            entry.pop("model", None)
            entry["model_name"] = entry.pop("model_id")
        elif api_type != "bedrock":
            raise UserError(f"{where}: api_type {api_type} needs `model_id`, the Bedrock model id "
                            "(e.g. anthropic.claude-3-haiku-20240307-v1:0)")
    for old, new in RENAMED_KEYS.items():
        if old in entry:
            if new in entry:
                raise UserError(f"{where} has both `{old}` (upstream's name) and `{new}`; keep one")
            entry[new] = entry.pop(old)
    if not isinstance(api_type, str):
        return entry, None
    alias = alias_of(api_type)
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
