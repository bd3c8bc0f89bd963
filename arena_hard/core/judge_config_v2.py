"""Upstream v2.0's judge config (`config/arena-hard-v2.0.yaml`, also its 2025 `arena-hard-v0.1.yaml`),
validated into a typed record with one-line errors naming the file and key.

Keys, as upstream: `judge_model`, `temperature` and `max_tokens` (the judge's; they override the
api_config entry's), `bench_name`, `reference` (null, or the model whose answers fill `{REFERENCE}`),
`regex_patterns`, `prompt_template` (one string with `{QUESTION}`, `{ANSWER_A}`, `{ANSWER_B}`),
`model_list`. This project's addition: `category_settings: {category: {baseline?, system_prompt?}}`,
overriding the official per-category settings (arena_hard/core/judge_settings.py). A config is in
this format when it has no `system_prompt` key (v0.1's judge_config.yaml always has one).
`prompt_template` may be `{from_file: other.yaml}` as in v0.1's config. Reads the file (and that one)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena_hard.core.config import JUDGE_KEYS, value_from_file, verdict_patterns
from arena_hard.core.config_file import Section, load_yaml, nearest_key
from arena_hard.core.errors import UserError
from arena_hard.core.judge_settings import KIT_HINT, category_settings_from

V2_REGEX_PATTERNS = (r"\[\[([AB<>=]+)\]\]", r"\[([AB<>=]+)\]")
_KEYS = {"judge_model", "temperature", "max_tokens", "bench_name", "reference", "regex_patterns",
         "prompt_template", "model_list", "category_settings", "name"}


def is_v2_judge_config(data: dict[str, Any]) -> bool:
    return "system_prompt" not in data


def _check_kind(section: Section) -> None:
    """One line for a file read as a v2.0 judge config that is not one: a v0.1 judge config whose
    `system_prompt` key is misspelt or missing, or an answer config."""
    data, path = section.data, section.path
    misspelt = next((str(key) for key in data if key not in _KEYS and nearest_key(str(key), {"system_prompt"})), None)
    v01_keys = [str(key) for key in data if key in JUDGE_KEYS - _KEYS]
    if misspelt is not None:
        raise UserError(f"{section.where(misspelt)} is not a known key (did you mean `system_prompt`?); without "
                        "`system_prompt` the file is read as a v2.0 judge config: fix the key")
    if v01_keys:
        shown = ", ".join(f"`{key}`" for key in v01_keys[:3])
        raise UserError(f"{section.where('system_prompt')} is missing, but the file has v0.1 judge keys ({shown}); "
                        "add the judge's system_prompt, or remove the v0.1 keys to judge as v2.0")
    if "judge_model" not in data and "prompt_template" not in data:
        raise UserError(f"{path}: has no `judge_model` or `prompt_template`: is it an answer config? "
                        "gen_judgment.py takes a judge config such as config/judge_config.yaml (--setting-file)")


@dataclass(frozen=True)
class V2JudgeSettings:
    path: Path
    bench_name: str
    judge_model: str
    temperature: float
    max_tokens: int
    regex_patterns: tuple[re.Pattern[str], ...]
    prompt_template: str
    reference: str | None
    model_list: tuple[str, ...]
    category_settings: dict[str, dict[str, str]] = field(default_factory=dict)


def _reference(section: Section) -> str | None:
    value = section.data.get("reference")
    if value in (None, False, [], ""):
        return None
    names = [value] if isinstance(value, str) else value
    if not (isinstance(names, list) and len(names) == 1 and isinstance(names[0], str) and names[0]):
        raise UserError(f"{section.where('reference')} must be null or one model name (whose answers in "
                        "model_answer/ fill {REFERENCE})")
    return names[0]


def load_v2_judge_settings(path: Path, data: dict[str, Any] | None = None) -> V2JudgeSettings:
    path = Path(path)
    data = load_yaml(path) if data is None else data
    section = Section(path, data)
    _check_kind(section)
    section.warn_unknown(_KEYS)
    template = data.get("prompt_template")
    if isinstance(template, dict) and set(template) == {"from_file"} and \
            not (path.parent / str(template["from_file"])).exists():
        raise UserError(f"{section.where('prompt_template')} comes from {path.parent / str(template['from_file'])}, "
                        f"which is not there yet; {KIT_HINT}")
    template = value_from_file(section, "prompt_template")
    if isinstance(template, list) and len(template) == 1:
        template = template[0]
    if not isinstance(template, str) or not template:
        raise UserError(f"{section.where('prompt_template')} must be the judge's prompt template (a string "
                        "using {QUESTION}, {ANSWER_A}, {ANSWER_B})")
    return V2JudgeSettings(
        path=path,
        bench_name=section.text("bench_name"),
        judge_model=section.text("judge_model"),
        temperature=section.number("temperature", 0.0),
        max_tokens=section.integer("max_tokens", 16000),
        regex_patterns=verdict_patterns(section, "regex_patterns",
                                        section.names("regex_patterns", V2_REGEX_PATTERNS)),
        prompt_template=template,
        reference=_reference(section),
        model_list=section.names("model_list", ()),
        category_settings=category_settings_from(data.get("category_settings"), section.where("category_settings")),
    )
