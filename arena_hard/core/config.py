"""The answer and judge settings: `config/gen_answer_config.yaml` and `config/judge_config.yaml` (or
the files given by --setting-file) with upstream's keys, validated into typed records with one-line
errors that name the file and key. A judge config may take its `system_prompt` / `prompt_template`
from another YAML file (`{from_file: path}`), which is how the default config reads the official
wording that `download_data.py` fetches. The endpoint file is arena_hard.core.endpoints.
Reads those files; writes nothing."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena_hard.core.config_file import Section, is_number, load_yaml
from arena_hard.core.errors import UserError

DEFAULT_REGEX = r"\[\[([AB<>=]+)\]\]"
OFFICIAL_JUDGE_HINT = "run `python download_data.py` to fetch the official judge configuration"


# --- answer settings -------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerSettings:
    bench_name: str
    temperature: float
    max_tokens: int
    num_choices: int
    model_list: tuple[str, ...]
    category_temperature: dict[str, float] = field(default_factory=dict)


ANSWER_KEYS = {"name", "bench_name", "temperature", "max_tokens", "num_choices", "model_list", "category_temperature"}
# Keys only a judge config has: an answer config holding one is a judge config given by mistake.
JUDGE_ONLY_KEYS = ("judge_model", "system_prompt", "prompt_template", "baseline_model", "regex_pattern",
                   "regex_patterns", "number_of_judgment_attempts", "pairwise")


def load_answer_settings(path: Path) -> AnswerSettings:
    data = load_yaml(path)
    judge_key = next((key for key in JUDGE_ONLY_KEYS if key in data), None)
    if judge_key is not None:
        raise UserError(f"{path}: is a judge config (it has `{judge_key}`), not an answer config; pass "
                        "gen_answer.py an answer config such as config/gen_answer_config.yaml (--setting-file)")
    section = Section(path, data)
    section.warn_unknown(ANSWER_KEYS)
    category_temperature = section.get(
        "category_temperature", lambda v: isinstance(v, dict) and all(is_number(t) and t >= 0 for t in v.values()),
        "a mapping of category: temperature", {})
    return AnswerSettings(
        bench_name=section.name("bench_name"),
        temperature=section.number("temperature", 0.0),
        max_tokens=section.integer("max_tokens", 4096),
        num_choices=section.integer("num_choices", 1),
        model_list=_model_list(section),
        category_temperature={str(k): float(v) for k, v in category_temperature.items()},
    )


def check_category_temperature(path: Path, settings: AnswerSettings, categories: set[str], bench: str) -> None:
    """A UserError naming the first `category_temperature` key that is no category of the bench's questions."""
    for category in settings.category_temperature:
        if category not in categories:
            known = ", ".join(sorted(categories)[:8]) or "none"
            raise UserError(f"{path}: `category_temperature.{category}` names no category of the questions of "
                            f"{bench} (their categories: {known}); fix or remove it")


def _model_list(section: Section) -> tuple[str, ...]:
    models = section.names("model_list")
    if not models:
        raise UserError(f"{section.where('model_list')} is empty; name the models to answer")
    return models


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
    reask_prompt: str | None = None  # sent when the judge gave no verdict; None: the project's own wording


def value_from_file(section: Section, key: str) -> Any:
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


def verdict_patterns(section: Section, key: str, patterns: Any) -> tuple[re.Pattern[str], ...]:
    """The judge's verdict patterns compiled, each with exactly one capture group (the label); one line
    naming the key for a pattern that does not compile or captures no label or several."""
    compiled = []
    for pattern in patterns:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # Python's notice about "[[" in a pattern
                compiled.append(re.compile(pattern))
        except re.error as error:
            raise UserError(f"{section.where(key)}: {pattern!r} is not a valid regular "
                            f"expression ({error})") from None
        if compiled[-1].groups != 1:
            raise UserError(f"{section.where(key)}: {pattern!r} has {compiled[-1].groups} capture groups; "
                            "it needs exactly one, around the verdict label, e.g. \\[\\[([AB<>=]+)\\]\\]")
    return tuple(compiled)


JUDGE_KEYS = {"name", "bench_name", "judge_model", "reference", "ref_model", "baseline", "baseline_model", "pairwise",
              "temperature", "max_tokens", "regex_pattern", "regex_patterns", "number_of_judgment_attempts",
              "system_prompt", "prompt_template", "model_list", "reask_prompt"}


def load_judge_settings(path: Path) -> JudgeSettings:
    data = load_yaml(path)
    section = Section(path, data)
    section.warn_unknown(JUDGE_KEYS)
    system_prompt = value_from_file(section, "system_prompt")
    templates = value_from_file(section, "prompt_template")
    if not isinstance(system_prompt, str):
        raise UserError(f"{section.where('system_prompt')} must be the judge's system prompt (a string)")
    if isinstance(templates, str):
        templates = [templates]
    if not isinstance(templates, list) or not templates or not all(isinstance(t, str) for t in templates):
        raise UserError(f"{section.where('prompt_template')} must be a list of templates using "
                        "{question_1}, {answer_1}, {answer_2}")
    if "regex_patterns" in data:
        patterns = section.get("regex_patterns", lambda v: isinstance(v, str) and v != "" or isinstance(v, list)
                               and bool(v) and all(isinstance(x, str) and x for x in v), "a list of regular expressions")
        patterns = [patterns] if isinstance(patterns, str) else patterns
    else:
        patterns = (section.text("regex_pattern", DEFAULT_REGEX),)
    compiled = verdict_patterns(section, "regex_pattern", patterns)
    baseline = section.flag("baseline", True)
    reference = section.flag("reference", False)
    ref_model = section.names("ref_model", ())
    if reference and not ref_model:
        raise UserError(f"{section.where('ref_model')} is missing; `reference: True` needs the model "
                        "whose answers in reference_answer/ are the references")
    return JudgeSettings(
        bench_name=section.name("bench_name"),
        judge_model=section.name("judge_model"),
        reference=reference,
        ref_model=ref_model if reference else (),
        baseline=baseline,
        baseline_model=section.name("baseline_model") if baseline else None,
        pairwise=section.flag("pairwise", True),
        temperature=section.number("temperature", 0.0),
        max_tokens=section.integer("max_tokens", 4096),
        regex_patterns=tuple(compiled),
        number_of_judgment_attempts=section.integer("number_of_judgment_attempts", 2),
        system_prompt=system_prompt,
        prompt_template=tuple(templates),
        model_list=section.names("model_list", ()),
        reask_prompt=section.text("reask_prompt", None),
    )
