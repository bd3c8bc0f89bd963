"""The YAML configs: answer settings, judge settings and the API endpoint file, validated into typed
records with one-line errors that name the file and key.

Reads `config/gen_answer_config.yaml`, `config/judge_config.yaml`, `config/api_config.yaml` (or the
files given by --setting-file / --endpoint-file) with upstream's keys. Strings in the endpoint file
may use `${ENV_VAR}` so keys stay out of files; a value is never printed. A judge config may take its
`system_prompt` / `prompt_template` from another YAML file (`{from_file: path}`), which is how the
default config reads the official wording that `download_data.py` fetches."""
from __future__ import annotations

import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from arena_hard.core.errors import UserError
from arena_hard.models.mock import STYLES
from arena_hard.models.retry import RetryPolicy

API_TYPES = ("openai", "azure", "anthropic", "mock")
DEFAULT_REGEX = r"\[\[([AB<>=]+)\]\]"
OFFICIAL_JUDGE_HINT = "run `python download_data.py` to fetch the official judge configuration"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_REQUIRED = object()


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping; syntax errors name the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not valid UTF-8; re-save the file as UTF-8") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a YAML file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise UserError(f"{where}: YAML syntax error ({problem}); fix the file") from None
    if data is None:
        raise UserError(f"{path}: the file is empty; see config/ for an example")
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys at the top level, found {type(data).__name__}")
    return data


class _Section:
    """Typed access to the keys of one mapping, with errors naming the file and the key path."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "", hidden: list[str] | None = None):
        self.path, self.data, self.prefix = Path(path), data, prefix
        self.hidden = hidden if hidden is not None else []  # values from the environment: never shown

    def where(self, key: str) -> str:
        return f"{self.path}: `{self.prefix}{key}`"

    def get(self, key: str, check: Callable[[Any], bool], expected: str, default: Any = _REQUIRED,
            secret: bool = False) -> Any:
        if key not in self.data or (self.data[key] is None and default is not _REQUIRED):
            if default is _REQUIRED:
                raise UserError(f"{self.where(key)} is missing; add it ({expected})")
            return default
        value = self.data[key]
        if not check(value):
            shown = "" if secret or any(h and h in repr(value) for h in self.hidden) else f", found {value!r}"
            raise UserError(f"{self.where(key)} must be {expected}{shown}")
        return value

    def text(self, key: str, default: Any = _REQUIRED) -> Any:
        return self.get(key, lambda v: isinstance(v, str) and v != "", "a non-empty string", default)

    def integer(self, key: str, default: Any = _REQUIRED, minimum: int = 1) -> Any:
        return self.get(key, lambda v: _is_int(v) and v >= minimum, f"an integer >= {minimum}", default)

    def number(self, key: str, default: Any = _REQUIRED, minimum: float = 0.0) -> Any:
        value = self.get(key, lambda v: _is_number(v) and v >= minimum, f"a number >= {minimum}", default)
        return float(value) if _is_number(value) else value

    def flag(self, key: str, default: Any = _REQUIRED) -> Any:
        return self.get(key, lambda v: isinstance(v, bool), "true or false", default)

    def names(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.get(key, lambda v: isinstance(v, str) or (isinstance(v, list) and all(
            isinstance(x, str) and x for x in v)), "a list of names", default)
        return (value,) if isinstance(value, str) else (tuple(value) if isinstance(value, list) else value)

    def warn_unknown(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                print(f"warning: {self.where(str(key))} is not a known key; ignored", file=sys.stderr)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- answer settings -------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerSettings:
    bench_name: str
    temperature: float
    max_tokens: int
    num_choices: int
    model_list: tuple[str, ...]
    category_temperature: dict[str, float] = field(default_factory=dict)


def load_answer_settings(path: Path) -> AnswerSettings:
    section = _Section(path, load_yaml(path))
    category_temperature = section.get(
        "category_temperature", lambda v: isinstance(v, dict) and all(_is_number(t) and t >= 0 for t in v.values()),
        "a mapping of category: temperature", {})
    return AnswerSettings(
        bench_name=section.text("bench_name"),
        temperature=section.number("temperature", 0.0),
        max_tokens=section.integer("max_tokens", 4096),
        num_choices=section.integer("num_choices", 1),
        model_list=section.names("model_list"),
        category_temperature={str(k): float(v) for k, v in category_temperature.items()},
    )


# --- judge settings --------------------------------------------------------------------------

@dataclass(frozen=True)
class JudgeSettings:
    bench_name: str
    judge_model: str
    reference: bool
    ref_model: tuple[str, ...]
    baseline: bool
    baseline_model: str | None
    pairwise: bool
    temperature: float
    max_tokens: int
    regex_patterns: tuple[re.Pattern[str], ...]
    number_of_judgment_attempts: int
    system_prompt: str
    prompt_template: tuple[str, ...]
    model_list: tuple[str, ...]


def _from_file(section: _Section, key: str) -> Any:
    """A key's value, or, for `{from_file: other.yaml}`, the same key read from that file."""
    value = section.data.get(key)
    if not (isinstance(value, dict) and set(value) == {"from_file"}):
        return value
    source = section.path.parent / str(value["from_file"])
    if not source.exists():
        raise UserError(f"{section.where(key)} comes from {source}, which is not there yet; {OFFICIAL_JUDGE_HINT}")
    other = load_yaml(source)
    if key not in other:
        raise UserError(f"{section.where(key)} comes from {source}, which has no `{key}`")
    return other[key]


def load_judge_settings(path: Path) -> JudgeSettings:
    data = load_yaml(path)
    section = _Section(path, data)
    system_prompt = _from_file(section, "system_prompt")
    templates = _from_file(section, "prompt_template")
    if not isinstance(system_prompt, str):
        raise UserError(f"{section.where('system_prompt')} must be the judge's system prompt (a string)")
    if isinstance(templates, str):
        templates = [templates]
    if not isinstance(templates, list) or not templates or not all(isinstance(t, str) for t in templates):
        raise UserError(f"{section.where('prompt_template')} must be a list of templates using "
                        "{question_1}, {answer_1}, {answer_2}")
    if "regex_patterns" in data:
        patterns = section.names("regex_patterns")
    else:
        patterns = (section.text("regex_pattern", DEFAULT_REGEX),)
    compiled = []
    for pattern in patterns:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # Python's notice about "[[" in a pattern
                compiled.append(re.compile(pattern))
        except re.error as error:
            raise UserError(f"{section.where('regex_pattern')}: {pattern!r} is not a valid regular "
                            f"expression ({error})") from None
    baseline = section.flag("baseline", True)
    reference = section.flag("reference", False)
    ref_model = section.names("ref_model", ())
    if reference and not ref_model:
        raise UserError(f"{section.where('ref_model')} is missing; `reference: True` needs the model "
                        "whose answers in reference_answer/ are the references")
    return JudgeSettings(
        bench_name=section.text("bench_name"),
        judge_model=section.text("judge_model"),
        reference=reference,
        ref_model=ref_model if reference else (),
        baseline=baseline,
        baseline_model=section.text("baseline_model") if baseline else None,
        pairwise=section.flag("pairwise", True),
        temperature=section.number("temperature", 0.0),
        max_tokens=section.integer("max_tokens", 4096),
        regex_patterns=tuple(compiled),
        number_of_judgment_attempts=section.integer("number_of_judgment_attempts", 2),
        system_prompt=system_prompt,
        prompt_template=tuple(templates),
        model_list=section.names("model_list", ()),
    )


# --- endpoints -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None


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
    timeout: float = 600.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    mock: dict[str, Any] = field(default_factory=dict)
    env_values: tuple[str, ...] = field(default=(), repr=False)  # every ${VAR} value the entry uses
    source: str = "the endpoint file"  # the file the entry comes from, for messages

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values never to print: the API keys and anything taken from the environment."""
        return tuple(e.api_key for e in self.endpoints if e.api_key) + self.env_values


_MODEL_KEYS = {"model_name", "endpoints", "api_type", "parallel", "system_prompt", "tokenizer", "max_tokens",
               "temperature", "reasoning_effort", "thinking_budget", "extra_body", "timeout", "max_attempts",
               "backoff_base", "backoff_max", "mock"}


def _interpolate(value: Any, where: str, used: list[str]) -> Any:
    """Replace ${VAR} in strings (recursively) with the environment's value, noting each value in `used`."""
    if isinstance(value, str):
        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise UserError(f"{where} uses ${{{name}}}, which is not set in the environment; "
                                f"export {name}=... before running")
            used.append(os.environ[name])
            return os.environ[name]
        return _ENV_REF.sub(lookup, value)
    if isinstance(value, list):
        return [_interpolate(item, where, used) for item in value]
    if isinstance(value, dict):
        return {key: _interpolate(item, where, used) for key, item in value.items()}
    return value


def _endpoints(section: _Section, used: list[str]) -> tuple[Endpoint, ...]:
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
        entry = _Section(section.path, _interpolate(item, section.where(f"endpoints[{index}]"), used),
                         f"{section.prefix}endpoints[{index}].", hidden=used)
        endpoints.append(Endpoint(
            api_base=entry.text("api_base", None),
            api_key=entry.get("api_key", lambda v: isinstance(v, str), "a string", None, secret=True),
            api_version=entry.text("api_version", None),
        ))
    return tuple(endpoints)


def model_config(path: Path, name: str, entry: Any) -> ModelConfig:
    if not isinstance(entry, dict):
        raise UserError(f"{path}: `{name}` must be a mapping with model_name, endpoints, api_type, parallel")
    raw = _Section(path, entry, f"{name}.")
    raw.warn_unknown(_MODEL_KEYS)
    used: list[str] = []
    section = _Section(path, {k: (v if k == "endpoints" else _interpolate(v, raw.where(k), used))
                              for k, v in entry.items()}, f"{name}.", hidden=used)
    api_type = section.text("api_type", "openai")
    if api_type not in API_TYPES:
        raise UserError(f"{section.where('api_type')} is {api_type!r}, which is not supported; "
                        f"use one of: {', '.join(API_TYPES)}")
    mock_options = section.get("mock", lambda v: isinstance(v, dict), "a mapping", {})
    _check_mock_options(_Section(path, mock_options, f"{name}.mock."))
    return ModelConfig(
        name=name,
        model_name=section.text("model_name", name),
        api_type=api_type,
        endpoints=_endpoints(raw, used),
        parallel=section.integer("parallel", 1),
        system_prompt=section.get("system_prompt", lambda v: isinstance(v, str), "a string", None),
        tokenizer=section.text("tokenizer", None),
        max_tokens=section.integer("max_tokens", None),
        temperature=section.number("temperature", None),
        reasoning_effort=section.text("reasoning_effort", None),
        thinking_budget=section.integer("thinking_budget", None),
        extra_body=section.get("extra_body", lambda v: isinstance(v, dict), "a mapping", {}),
        timeout=section.number("timeout", 600.0, minimum=0.001),
        retry=RetryPolicy(
            max_attempts=section.integer("max_attempts", RetryPolicy.max_attempts),
            backoff_base=section.number("backoff_base", RetryPolicy.backoff_base),
            backoff_max=section.number("backoff_max", RetryPolicy.backoff_max),
        ),
        mock=mock_options,
        env_values=tuple(value for value in used if value),
        source=str(path),
    )


def _check_mock_options(section: _Section) -> None:
    section.warn_unknown({"style", "role", "position_bias"})
    section.get("style", lambda v: v in STYLES, f"one of {', '.join(STYLES)}", None)
    section.get("role", lambda v: v in ("answer", "judge"), "answer or judge", None)
    section.get("position_bias", _is_number, "a number (added to assistant A's rating)", None)


def load_model_configs(path: Path, names: tuple[str, ...]) -> dict[str, ModelConfig]:
    """The entries of the endpoint file for `names` (each must be there); other entries are not read."""
    data = load_yaml(path)
    missing = [name for name in names if name not in data]
    if missing:
        raise UserError(f"{path}: no entry for {', '.join(repr(m) for m in missing)}; add one per model "
                        "with model_name, endpoints, api_type and parallel (see config/api_config.yaml)")
    return {name: model_config(Path(path), name, data[name]) for name in names}
