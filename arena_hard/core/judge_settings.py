"""The per-category judge settings of v2.0: which baseline each question category is judged against,
and with which judge system prompt.

Upstream keeps them in `utils/judge_utils.py` as a dict `JUDGE_SETTINGS = {category: {"baseline":
..., "system_prompt": ...}}` whose prompts are string literals or names of module-level string
assignments. `parse_judge_utils` reads that dict out of the file's syntax tree (the file is never
executed); download_data.py writes the result to `config/official/judge_settings.yaml`
(`OFFICIAL_FILE`, relative to the working directory), which `load_official` reads back. The
repository carries no prompt text: without that file, or a `category_settings` key of the judge
config naming each prompt, judging stops before any call with what to run."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from arena_hard.core.errors import UserError

OFFICIAL_FILE = Path("config") / "official" / "judge_settings.yaml"
SETTINGS_NAME = "JUDGE_SETTINGS"
KIT_HINT = "run `python download_data.py --bench arena-hard-v2.0` to fetch the official v2.0 judge settings"


@dataclass(frozen=True)
class CategoryJudging:
    baseline: str
    system_prompt: str


def _string(node: ast.expr, strings: dict[str, str], where: str) -> str:
    """A string literal, an implicit or `+` concatenation of them, or the name of a string assigned above."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in strings:
        return strings[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _string(node.left, strings, where) + _string(node.right, strings, where)
    raise ValueError(f"{where}: expected a string literal, found `{ast.unparse(node)[:60]}`")


def parse_judge_utils(source: str) -> dict[str, CategoryJudging]:
    """Upstream's JUDGE_SETTINGS from the text of utils/judge_utils.py, by parsing, never executing it.
    Raises ValueError when the file does not have that shape."""
    tree = ast.parse(source)
    strings: dict[str, str] = {}
    settings: ast.expr | None = None
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if name == SETTINGS_NAME:
            settings = node.value
            continue
        try:
            strings[name] = _string(node.value, strings, name)
        except ValueError:
            pass  # not a string: not a prompt
    if not isinstance(settings, ast.Dict):
        raise ValueError(f"no `{SETTINGS_NAME} = {{...}}` dict at the top level")
    result: dict[str, CategoryJudging] = {}
    for key, value in zip(settings.keys, settings.values):
        category = _string(key, {}, SETTINGS_NAME) if key is not None else None
        if category is None or not isinstance(value, ast.Dict):
            raise ValueError(f"{SETTINGS_NAME}: each entry must be `category: {{baseline, system_prompt}}`")
        fields = {_string(k, {}, category): v for k, v in zip(value.keys, value.values) if k is not None}
        missing = {"baseline", "system_prompt"} - set(fields)
        if missing:
            raise ValueError(f"{SETTINGS_NAME}[{category!r}] has no {', '.join(sorted(missing))}")
        result[category] = CategoryJudging(_string(fields["baseline"], strings, category),
                                           _string(fields["system_prompt"], strings, category))
    return result


def settings_yaml(settings: dict[str, CategoryJudging], source: str) -> str:
    """The official settings file's text: `category_settings: {category: {baseline, system_prompt}}`."""
    data = {"source": source,
            "category_settings": {category: {"baseline": s.baseline, "system_prompt": s.system_prompt}
                                  for category, s in settings.items()}}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1 << 16)


def category_settings_from(data: Any, where: str) -> dict[str, dict[str, str]]:
    """A `category_settings` mapping, checked: {category: {baseline?: str, system_prompt?: str}}."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{where} must map each category to {{baseline: ..., system_prompt: ...}}")
    checked: dict[str, dict[str, str]] = {}
    for category, entry in data.items():
        if not isinstance(entry, dict) or not entry or set(entry) - {"baseline", "system_prompt"} or \
                not all(isinstance(v, str) and v for v in entry.values()):
            raise UserError(f"{where}.{category} must be {{baseline: <model>, system_prompt: <text>}} "
                            "(either may be left out to keep the official one)")
        checked[str(category)] = dict(entry)
    return checked


def load_official(path: Path = OFFICIAL_FILE) -> dict[str, dict[str, str]] | None:
    """The settings download_data.py wrote, or None when the file is not there."""
    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot be read ({type(error).__name__}); {KIT_HINT} --force") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a judge settings file; {KIT_HINT} --force")
    return category_settings_from(data.get("category_settings"), f"{path}: `category_settings`")
