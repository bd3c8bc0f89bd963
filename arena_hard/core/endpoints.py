"""The API endpoint file, `config/api_config.yaml` (or --endpoint-file): one entry per model saying how
to reach it (api_type, endpoints, keys) and how hard to push it (parallel, timeout, retries), validated
into ModelConfig records with one-line errors that name the file and key. Strings may use
`${ENV_VAR}` so keys stay out of files; such a value is never printed. The `mock` options are
checked here against what arena_hard.models.mock implements (MOCK_STYLES, MOCK_ROLES). Some keys belong
to one provider (PROVIDER_KEYS): Vertex AI's `project_id` and `regions`, Bedrock's `aws_region` (each
region becomes an endpoint of its own), a local server's `local_engine` and its options
(core.engine_config); an api_type whose optional SDK is not installed is refused here, --dry-run
included. `price` (USD per million tokens: `{input, output, cached_input}`, or 0 for a model that costs
nothing) overrides the price database (arena_hard.models.prices). Reads that file; writes nothing."""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from arena_hard.core.api_types import ALIASES, missing_package, upstream_entry
from arena_hard.core.config_file import Section, is_number, load_yaml
from arena_hard.core.engine_config import ENGINE_KEYS, LocalEngine, local_engine
from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import LONE_SURROGATE
from arena_hard.core.names import check_name
from arena_hard.core.retry_policy import RetryPolicy
from arena_hard.core.usage import Rates

API_TYPES = ("openai", "azure", "anthropic", "cohere", "meta", "vertex", "bedrock", "sglang", "vllm", "mock")
MAX_TEMPERATURE = {"openai": 2.0, "azure": 2.0, "anthropic": 1.0}  # what each provider accepts
MAX_PRICE = 1e6  # USD per million tokens: a dollar a token, more than any model costs (a larger `price` is a typo)
# Keys only one provider reads, and the api_types that read them.
PROVIDER_KEYS = {"project_id": ("vertex",), "regions": ("vertex",), "aws_region": ("bedrock",),
                 **dict.fromkeys(ENGINE_KEYS, ("sglang", "vllm"))}
_REGION_KEYS = {"vertex": "regions", "bedrock": "aws_region"}
AWS_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")  # an endpoint's, for Bedrock
MOCK_STYLES = ("terse", "concise", "detailed")  # how thorough a mock answerer's answers are
MOCK_ROLES = ("answer", "judge")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Endpoint:
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None
    model_name: str | None = None  # this endpoint's name for the model, when it differs (upstream v2.0)
    region: str | None = None  # Vertex AI's or Bedrock's region
    aws_access_key_id: str | None = field(default=None, repr=False)  # Bedrock; else the AWS credential chain
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ModelConfig:
    """One entry of api_config.yaml: how to reach a model and how hard to push it."""

    name: str
    model_name: str
    api_type: str
    endpoints: tuple[Endpoint, ...]
    parallel: int = 1
    system_prompt: str | None = None
    tokenizer: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    reasoning_effort: str | None = None
    thinking_budget: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)
    extra_headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 600.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    mock: dict[str, Any] = field(default_factory=dict)
    batch: bool = False  # always go through the provider's batch API, as with --batch
    env_values: tuple[str, ...] = field(default=(), repr=False)  # every ${VAR} value the entry uses
    source: str = "the endpoint file"  # the file the entry comes from, for messages
    api_key_env: str | None = None  # the vendor's key variable (upstream's deepseek, xai, ...); else the SDK's
    vendor: str | None = None  # upstream's api_type of another vendor's OpenAI-compatible API (deepseek, xai, ...)
    reasoner: bool = False  # sends no temperature, and max_tokens only when the entry sets it (upstream v2.0)
    project_id: str | None = None  # Vertex AI's project
    engine: LocalEngine | None = None  # `local_engine: true`: the run starts the server (endpoints come then)
    end_think_token: str | None = None  # sglang/vllm: the text before it is the thought, as upstream
    price: Rates | None = None  # the entry's `price`, overriding the price database

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values never to print: the API keys and anything taken from the environment."""
        keys = (value for e in self.endpoints for value in (e.api_key, e.aws_secret_access_key, e.aws_session_token))
        return tuple(key for key in keys if key) + self.env_values


_MODEL_KEYS = {"model_name", "endpoints", "api_type", "parallel", "system_prompt", "tokenizer", "max_tokens",
               "temperature", "reasoning_effort", "thinking_budget", "extra_body", "extra_headers", "timeout",
               "max_attempts",
               "backoff_base", "backoff_max", "mock", "batch", "price", *PROVIDER_KEYS}


def _interpolate(value: Any, where: str, used: list[str], done: dict[int, Any] | None = None) -> Any:
    """Replace ${VAR} in strings (recursively) with the environment's value, noting each value in `used`.
    A list or mapping that YAML aliases share is expanded once and stays shared (`done`, by id), so
    nested aliases cost what the file's text costs, not what they would expand to."""
    if isinstance(value, str):
        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise UserError(f"{where} uses ${{{name}}}, which is not set in the environment; "
                                f"export {name}=... before running")
            if LONE_SURROGATE.search(os.environ[name]):
                raise UserError(f"{where} uses ${{{name}}}, whose value holds bytes that are not UTF-8 text; "
                                f"set {name} again")
            used.append(os.environ[name])
            return os.environ[name]
        return _ENV_REF.sub(lookup, value)
    if not isinstance(value, (list, dict)):
        return value
    done = {} if done is None else done
    if id(value) not in done:
        done[id(value)] = ([_interpolate(item, where, used, done) for item in value] if isinstance(value, list)
                           else {key: _interpolate(item, where, used, done) for key, item in value.items()})
    return done[id(value)]


def _endpoints(section: Section, used: list[str], regions: tuple[str | None, ...]) -> tuple[Endpoint, ...]:
    """The entry's endpoints, each once per region (Vertex AI, Bedrock) unless it names its own."""
    return tuple(endpoint if endpoint.region else replace(endpoint, region=region)
                 for endpoint in _listed_endpoints(section, used) for region in regions)


def _listed_endpoints(section: Section, used: list[str]) -> tuple[Endpoint, ...]:
    raw = section.data.get("endpoints")
    if raw is None:
        return (Endpoint(),)  # the SDK's own environment variables (OPENAI_API_KEY, ...)
    if not isinstance(raw, list) or not raw:
        raise UserError(f"{section.where('endpoints')} must be null or a list of "
                        "{api_base, api_key, api_version} entries")
    endpoints = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise UserError(f"{section.where(f'endpoints[{index}]')} must be a mapping with api_base, api_key")
        entry = Section(section.path, _interpolate(item, section.where(f"endpoints[{index}]"), used),
                         f"{section.prefix}endpoints[{index}].", hidden=used)
        api_base = entry.url("api_base")
        api_key = entry.get("api_key", lambda v: isinstance(v, str) and not any(c.isspace() for c in v.strip()),
                            "a string without spaces inside", None, secret=True)
        aws = {key: entry.get(key, lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string", None,
                              secret=True) for key in AWS_KEYS}
        endpoints.append(Endpoint(
            api_base=api_base.strip() if api_base else None,
            api_key=api_key.strip() if api_key else api_key,  # a newline pasted with the key would fail every call
            api_version=entry.text("api_version", None),
            model_name=entry.text("model_name", None),
            region=entry.text("region", None),
            **{key: value.strip() if value else None for key, value in aws.items()},
        ))
    return tuple(endpoints)


def _regions(section: Section, api_type: str) -> tuple[str | None, ...]:
    """Vertex AI's `regions` / Bedrock's `aws_region`: one region or a list of them (None: the default)."""
    key = _REGION_KEYS.get(api_type)
    value = section.get(key, lambda v: isinstance(v, str) and v.strip() != "" or isinstance(v, list) and bool(v)
                        and all(isinstance(r, str) and r.strip() for r in v), "a region or a list of regions",
                        None) if key else None
    if value is None:
        return (None,)
    return tuple(r.strip() for r in ([value] if isinstance(value, str) else value))


def _warn_other_providers_keys(section: Section, api_type: str) -> None:
    for key, api_types in PROVIDER_KEYS.items():
        if key in section.data and api_type not in api_types:
            print(f"warning: {section.where(key)} is only read for api_type {' or '.join(api_types)}; ignored",
                  file=sys.stderr)


def model_config(path: Path, name: str, entry: Any) -> ModelConfig:
    if not isinstance(entry, dict):
        raise UserError(f"{path}: `{name}` must be a mapping with model_name, endpoints, api_type, parallel")
    written_type = entry.get("api_type")
    entry, alias = upstream_entry(f"{path}: `{name}`", entry)
    raw = Section(path, entry, f"{name}.")
    raw.warn_unknown(_MODEL_KEYS)
    used: list[str] = []
    section = Section(path, {k: (v if k == "endpoints" else _interpolate(v, raw.where(k), used))
                              for k, v in entry.items()}, f"{name}.", hidden=used)
    api_type = section.text("api_type", "openai")
    if api_type not in API_TYPES:
        raise UserError(f"{section.where('api_type')} is {api_type!r}, which is not supported; "
                        f"use one of: {', '.join(API_TYPES)} (or upstream's "
                        f"{', '.join(a for a in ALIASES if a not in API_TYPES)}, aws_*)")
    missing = missing_package(api_type)
    if missing:
        raise UserError(f"{section.where('api_type')}: {missing}")
    _warn_other_providers_keys(section, api_type)
    mock_options = section.get("mock", lambda v: isinstance(v, dict), "a mapping", {})
    _check_mock_options(Section(path, mock_options, f"{name}.mock."))
    engine = local_engine(section, api_type) if api_type in PROVIDER_KEYS["local_engine"] else None
    if engine is not None and raw.data.get("endpoints") is not None:
        raise UserError(f"{section.where('endpoints')}: `local_engine: true` starts its own server; set "
                        "`endpoints: null` (or drop local_engine to use a server already running)")
    project_id = section.get("project_id", lambda v: isinstance(v, (str, int)) and str(v).strip() != "",
                             "your Google Cloud project id (api_type vertex)") if api_type == "vertex" else None
    return ModelConfig(
        name=name,
        model_name=section.text("model_name", name),
        api_type=api_type,
        endpoints=() if engine else _endpoints(raw, used, _regions(section, api_type)),
        parallel=section.integer("parallel", engine.default_parallel if engine else 1),
        system_prompt=section.get("system_prompt", lambda v: isinstance(v, str), "a string", None),
        tokenizer=section.text("tokenizer", None),
        max_tokens=section.integer("max_tokens", None),
        temperature=section.number("temperature", None),
        reasoning_effort=section.text("reasoning_effort", None),
        thinking_budget=section.integer("thinking_budget", None),
        extra_body=section.get("extra_body", lambda v: isinstance(v, dict), "a mapping", {}),
        extra_headers=section.get("extra_headers", lambda v: isinstance(v, dict) and all(
            isinstance(k, str) and isinstance(h, str) for k, h in v.items()), "a mapping of header: text", {}),
        timeout=section.number("timeout", 600.0, minimum=0.001),
        retry=RetryPolicy(
            max_attempts=section.integer("max_attempts", RetryPolicy.max_attempts),
            backoff_base=section.number("backoff_base", RetryPolicy.backoff_base),
            backoff_max=section.number("backoff_max", RetryPolicy.backoff_max),
        ),
        mock=mock_options,
        batch=section.flag("batch", False),
        env_values=tuple(value for value in used if value),
        source=str(path),
        api_key_env=alias.key_env if alias else None,
        vendor=str(written_type) if alias and alias.api_base else None,
        reasoner=alias.reasoner if alias else False,
        project_id=str(project_id).strip() if project_id is not None else None,
        engine=engine,
        end_think_token=section.text("end_think_token", None) if api_type in ("sglang", "vllm") else None,
        price=_price(section),
    )


def _price(section: Section) -> Rates | None:
    """The entry's `price`: 0 (free), or {input, output, cached_input (default: input)} in USD per
    million tokens."""
    value = section.data.get("price")
    if value is None:
        return None
    if is_number(value) and value == 0:
        return Rates(0.0, 0.0, 0.0)
    expected = "0 (a model that costs nothing) or {input: USD, output: USD, cached_input: USD} per million tokens"
    if not isinstance(value, dict):
        raise UserError(f"{section.where('price')} must be {expected}")
    rates = Section(section.path, value, f"{section.prefix}price.", hidden=section.hidden)
    rates.warn_unknown({"input", "output", "cached_input"})
    input_rate, output_rate = rates.number("input", maximum=MAX_PRICE), rates.number("output", maximum=MAX_PRICE)
    return Rates(input_rate, output_rate, rates.number("cached_input", input_rate, maximum=MAX_PRICE))


def _check_mock_options(section: Section) -> None:
    section.warn_unknown({"style", "role", "position_bias"})
    section.get("style", lambda v: v in MOCK_STYLES, f"one of {', '.join(MOCK_STYLES)}", None)
    section.get("role", lambda v: v in MOCK_ROLES, " or ".join(MOCK_ROLES), None)
    section.get("position_bias", is_number, "a number (added to assistant A's rating)", None)


def check_temperature(model: ModelConfig, temperature: float, where: str) -> None:
    """A UserError naming `where` (file and key) when the model's provider does not accept `temperature`;
    a reasoning model (sent no temperature) takes any."""
    highest = MAX_TEMPERATURE.get(model.api_type)
    if highest is not None and temperature > highest and not model.reasoner:
        raise UserError(f"{where} is {temperature:g}, above the {highest:g} that {model.api_type} accepts "
                        f"(model {model.name!r}); lower it")


def load_model_configs(path: Path, names: tuple[str, ...]) -> dict[str, ModelConfig]:
    """The entries of the endpoint file for `names` (each must be there); other entries are not read."""
    for name in names:
        check_name(name, str(path))
    data = load_yaml(path)
    missing = [name for name in names if name not in data]
    if missing:
        raise UserError(f"{path}: no entry for {', '.join(repr(m) for m in missing)}; add one per model "
                        "with model_name, endpoints, api_type and parallel (see config/api_config.yaml)")
    return {name: model_config(Path(path), name, data[name]) for name in names}
