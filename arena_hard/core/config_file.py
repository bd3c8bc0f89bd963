"""Reading a YAML config file: `load_yaml` (the top-level mapping, syntax errors naming the line) and
`Section`, typed access to the keys of one mapping whose errors name the file and the key path
(`api.yaml: \`m.parallel\` must be an integer >= 1, found 0`) and never show a value taken from the
environment. Reads the file it is given; writes nothing."""
from __future__ import annotations

import difflib
import math
import re
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

from arena_hard.core.data_files import open_regular
from arena_hard.core.errors import UserError, looked_in
from arena_hard.core.names import check_name, file_stem, unique
from arena_hard.core.yaml_file import safe_load

REQUIRED = object()


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping; syntax errors name the line."""
    path = Path(path)
    try:
        with open_regular(path) as handle:
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found{looked_in(path)}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not valid UTF-8; re-save the file as UTF-8") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a YAML file") from None
    try:
        data = safe_load(text, str(path))  # duplicate keys and runaway aliases refused
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


class Section:
    """Typed access to the keys of one mapping, with errors naming the file and the key path."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str = "", hidden: list[str] | None = None):
        self.path, self.data, self.prefix = Path(path), data, prefix
        self.hidden = hidden if hidden is not None else []  # values from the environment: never shown

    def where(self, key: str) -> str:
        return f"{self.path}: `{self.prefix}{key}`"

    def get(self, key: str, check: Callable[[Any], bool], expected: str, default: Any = REQUIRED,
            secret: bool = False) -> Any:
        if key not in self.data or (self.data[key] is None and default is not REQUIRED):
            if default is REQUIRED:
                raise UserError(f"{self.where(key)} is missing; add it ({expected})")
            return default
        value = self.data[key]
        if not check(value):
            shown = "" if secret or any(h and h in repr(value) for h in self.hidden) else f", found {value!r}"
            raise UserError(f"{self.where(key)} must be {expected}{shown}")
        return value

    def text(self, key: str, default: Any = REQUIRED) -> Any:
        return self.get(key, lambda v: isinstance(v, str) and v != "", "a non-empty string", default)

    def integer(self, key: str, default: Any = REQUIRED, minimum: int = 1) -> Any:
        return self.get(key, lambda v: is_int(v) and v >= minimum, f"an integer >= {minimum}", default)

    def number(self, key: str, default: Any = REQUIRED, minimum: float = 0.0, maximum: float = math.inf) -> Any:
        bounds = f"a number >= {minimum}" + (f" and <= {maximum:g}" if maximum < math.inf else "")
        value = self.get(key, lambda v: is_number(v) and minimum <= v <= maximum, bounds, default)
        return float(value) if is_number(value) else value

    def flag(self, key: str, default: Any = REQUIRED) -> Any:
        return self.get(key, lambda v: isinstance(v, bool), "true or false", default)

    def names(self, key: str, default: Any = REQUIRED) -> Any:
        """A name or a list of names that each become a file name (names.file_stem), repeats dropped
        with a note."""
        value = self.get(key, lambda v: isinstance(v, str) or (isinstance(v, list) and all(
            isinstance(x, str) and x for x in v)), "a list of names", default)
        if not isinstance(value, (str, list)):
            return value
        value = unique([value] if isinstance(value, str) else value, self.where(key))
        for name in value:
            self._file_name(key, name)
        return value

    def name(self, key: str, default: Any = REQUIRED) -> Any:
        """A model, judge or bench name, which becomes a file or folder name."""
        value = self.text(key, default)
        return self._file_name(key, value) if isinstance(value, str) else value

    def _file_name(self, key: str, name: str) -> str:
        check_name(name, self.where(key))
        try:
            file_stem(name)
        except UserError as error:
            raise UserError(f"{self.where(key)}: {error}") from None
        return name

    def url(self, key: str) -> Any:
        """An http(s) address, or None when absent."""
        return self.get(key, lambda v: isinstance(v, str) and re.match(r"https?://[^/\s]", v.strip()) is not None,
                        "an http:// or https:// address such as http://localhost:8000/v1", None)

    def warn_unknown(self, known: set[str]) -> None:
        """One warning line per key not in `known`, naming the nearest known key when one is close."""
        for key in self.data:
            if key not in known:
                nearest = nearest_key(str(key), known)
                hint = f" (did you mean `{self.prefix}{nearest}`?)" if nearest else ""
                print(f"warning: {self.where(str(key))} is not a known key; ignored{hint}", file=sys.stderr)


def nearest_key(key: str, known: set[str]) -> str | None:
    """The known key `key` is most likely a misspelling of, if any is close."""
    matches = difflib.get_close_matches(key.lower(), sorted(known), n=1, cutoff=0.75)
    return matches[0] if matches else None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """A finite int or float (`.inf` and `.nan` would fail every request later)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
