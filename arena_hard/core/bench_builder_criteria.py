"""BenchBuilder's labelling criteria (upstream's `criteria_v0.1`), read out of upstream's
`BenchBuilder/category.py` by parsing it; the file is never executed and the repository carries none
of its text.

download_data.py --bench-builder fetches that file, pinned and checked by sha256, to
`config/official/category.py` (`OFFICIAL_FILE`, relative to the working directory).
`parse_category_file` finds the class whose `__init__` sets `self.name_tag = "criteria_v0.1"` and
takes its `self.sys_prompt` (the instruction the labeller gets as its system prompt) and `self.tags`
(criterion number -> the key it is stored under). Reads the file it is given; writes nothing."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from arena_hard.core.errors import UserError

OFFICIAL_FILE = Path("config") / "official" / "category.py"
CRITERIA_TAG = "criteria_v0.1"
KIT_COMMAND = "python download_data.py --bench-builder"


@dataclass(frozen=True)
class Criteria:
    name_tag: str  # the key of the labels under category_tag
    system_prompt: str
    tags: tuple[tuple[int, str], ...]  # (criterion number, stored key), in number order

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.tags)


def _self_assignments(function: ast.FunctionDef) -> dict[str, ast.expr]:
    """`self.<attribute> = <value>` statements of a method, by attribute."""
    found = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                found[target.attr] = node.value
    return found


def _literal(node: ast.expr, what: str) -> object:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(f"{what} is not a literal (`{ast.unparse(node)[:60]}`)") from None


def parse_category_file(source: str, name_tag: str = CRITERIA_TAG) -> Criteria:
    """The criteria of `name_tag` from the text of BenchBuilder/category.py. Raises ValueError (or
    SyntaxError) when the file does not have that shape."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        init = next((item for item in node.body if isinstance(item, ast.FunctionDef) and item.name == "__init__"), None)
        fields = _self_assignments(init) if init is not None else {}
        if "name_tag" not in fields or _literal(fields["name_tag"], "name_tag") != name_tag:
            continue
        missing = {"sys_prompt", "tags"} - set(fields)
        if missing:
            raise ValueError(f"class {node.name} sets no self.{', self.'.join(sorted(missing))}")
        prompt = _literal(fields["sys_prompt"], f"{node.name}.sys_prompt")
        tags = _literal(fields["tags"], f"{node.name}.tags")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError(f"{node.name}.sys_prompt is not a text")
        if not isinstance(tags, dict) or not tags or not all(
                isinstance(k, int) and isinstance(v, str) and v for k, v in tags.items()):
            raise ValueError(f"{node.name}.tags is not a mapping of criterion number to name")
        return Criteria(name_tag, prompt, tuple(sorted(tags.items())))
    raise ValueError(f"no class sets self.name_tag = {name_tag!r}")


def load_criteria(path: Path = OFFICIAL_FILE) -> Criteria:
    """The criteria download_data.py --bench-builder fetched; a UserError saying how to get them."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: BenchBuilder's criteria are not there; run `{KIT_COMMAND}` to fetch them") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot be read ({type(error).__name__}); run `{KIT_COMMAND} --force`") from None
    try:
        return parse_category_file(source)
    except (SyntaxError, ValueError) as error:
        raise UserError(f"{path}: not BenchBuilder's category.py ({error}); run `{KIT_COMMAND} --force`") from None
