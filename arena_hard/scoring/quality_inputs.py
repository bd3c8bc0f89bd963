"""The files benchmark_quality.py (and show_result.py --reference) reads: a benchmark's per-model scores,
a reference ranking, and a name map between the two (quality_match.py pairs up their models).

A scores or reference file is one of:
- JSON lines (or a JSON array) of objects with `model`, a value `score` (else `rating`), an interval
  `lower`/`upper` (else `rating_q025`/`rating_q975`, else the 2.5th/97.5th percentiles of `results`), and
  optionally `results` (the bootstrap scores) and `var` or `variance`: the seed notebook's bootstrap
  statistics, Chatbot Arena's table, any benchmark's;
- CSV with the same columns (`results`, if given, a JSON list);
- show_result.py's --output JSON (an object with a `models` list; v0.1's `score` is the shown win rate,
  or rating with --show-elo, and its `rating_q025`/`rating_q975` that score's interval, as in its CSV);
- show_result.py's bootstrap file: one JSON line per round mapping each model to its rating (null where
  a model sat a round out), read as score = the median round, interval = 2.5th/97.5th percentiles,
  results = the rounds; a model in no round is left out.
A name map is a JSON object of names, keys naming one file's models and values the other's.

Every problem is a UserError naming the file (and line or model) and what to fix. Reads the files it is
given; writes nothing."""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from arena_hard.core.data_files import read_regular
from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import iter_jsonl
from arena_hard.core.names import check_name

BOOTSTRAP_PERCENTILES = (2.5, 97.5)


@dataclass(frozen=True)
class Entry:
    """One model's numbers in a scores or reference file."""

    model: str
    score: float
    lower: float
    upper: float
    results: tuple[float, ...] | None = None
    variance: float | None = None


@dataclass(frozen=True)
class Table:
    source: str  # the file, as messages name it
    entries: dict[str, Entry]  # by model name, in file order


def _read_text(path: Path) -> str:
    try:
        data = read_regular(path)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a file") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not valid UTF-8 (byte {data[error.start]:#04x} at offset {error.start}); "
                        "re-save the file as UTF-8") from None


def _rows(path: Path, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, row) for each row of a JSON document, JSON lines or CSV file."""
    if text.lstrip()[:1] not in ("{", "["):
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for row in reader:
            yield f"{path}:{reader.line_num}", row
        return
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg != "Extra data":
            raise UserError(f"{path}:{error.lineno}: not valid JSON ({error.msg} at column {error.colno}); "
                            "fix the file") from None
        for lineno, row in iter_jsonl(path):  # JSON lines; reports the line that does not parse
            yield f"{path}:{lineno}", row
        return
    if isinstance(document, dict) and isinstance(document.get("models"), list):
        rows, name = document["models"], "models"  # show_result.py --output JSON
    elif isinstance(document, list):
        rows, name = document, ""
    else:
        yield from ((f"{path}:{lineno}", row) for lineno, row in iter_jsonl(path))  # one JSON line
        return
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            raise UserError(f"{path}: {name}[{position}] is not a JSON object; each entry must be one model's")
        yield f"{path}: {name}[{position}]", row


def _number(where: str, row: dict[str, Any], column: str) -> float:
    value = row.get(column)
    try:
        if isinstance(value, bool) or value is None or value == "":
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{where}: {column} is {value!r}, not a number; give every model a {column}") from None
    if not math.isfinite(number):
        raise UserError(f"{where}: {column} of {row.get('model')!r} is {value}; scores must be finite numbers")
    return number


def _results(where: str, row: dict[str, Any]) -> tuple[float, ...] | None:
    value = row.get("results")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: results must be a non-empty list of numbers (the bootstrap scores)")
    return tuple(_number(where, {"model": row.get("model"), "results": v}, "results") for v in value)


def _columns(path: Path, row: dict[str, Any]) -> tuple[str, tuple[str, str] | None]:
    """The value column and the interval columns (None: from `results`) the file's first row names."""
    found = ", ".join(str(key) for key in row) or "nothing"
    if "model" not in row:
        raise UserError(f"{path}: no 'model' column (found: {found}); name each model in a 'model' column")
    value = next((c for c in ("score", "rating") if c in row), None)
    if value is None:
        raise UserError(f"{path}: no 'score' or 'rating' column (found: {found}); give each model's score")
    interval = next((pair for pair in (("lower", "upper"), ("rating_q025", "rating_q975"))
                     if pair[0] in row and pair[1] in row), None)
    if interval is None and "results" not in row:
        raise UserError(f"{path}: no 'lower'/'upper' (or 'rating_q025'/'rating_q975') columns and no 'results' "
                        f"(found: {found}); give each model's 95% interval")
    return value, interval


def _entry(where: str, row: dict[str, Any], value: str, interval: tuple[str, str] | None) -> Entry:
    model = row.get("model")
    if not isinstance(model, str) or not model.strip():
        raise UserError(f"{where}: the model name is {model!r}; name every model")
    check_name(model, where)
    results = _results(where, row)
    if interval is not None:
        lower, upper = _number(where, row, interval[0]), _number(where, row, interval[1])
    elif results is not None:
        lower, upper = (float(v) for v in np.percentile(results, BOOTSTRAP_PERCENTILES))
    else:
        raise UserError(f"{where}: {model!r} has no results to take its interval from; give its results")
    if lower > upper:
        raise UserError(f"{where}: {model!r} has its lower bound {lower:g} above its upper bound {upper:g}")
    variance_column = next((c for c in ("var", "variance") if row.get(c) not in (None, "")), None)
    variance = _number(where, row, variance_column) if variance_column else None
    if variance is not None and variance < 0:
        raise UserError(f"{where}: {model!r} has a negative {variance_column} {variance:g}")
    return Entry(model, _number(where, row, value), lower, upper, results, variance)


def _is_round(row: dict[str, Any]) -> bool:
    return "model" not in row and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                                      for v in row.values())


def _from_rounds(rows: list[tuple[str, dict[str, Any]]]) -> dict[str, Entry]:
    """show_result.py's bootstrap file: the median round and the 95% percentile interval per model."""
    rounds: dict[str, list[float]] = {}
    for where, row in rows:
        for model, value in row.items():
            if value is not None and not math.isfinite(value):
                raise UserError(f"{where}: the rating of {model!r} is {value}; ratings must be finite numbers")
            rounds.setdefault(model, [])
            if value is not None:
                rounds[model].append(float(value))
    entries = {}
    for model, values in rounds.items():
        if values:
            lower, upper = np.percentile(values, BOOTSTRAP_PERCENTILES)
            entries[model] = Entry(model, float(np.median(values)), float(lower), float(upper), tuple(values))
    return entries


def read_table(path: Path) -> Table:
    """A scores or reference file (see the module docstring)."""
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise UserError(f"{path}: empty file; expected a table of models with their scores")
    rows = list(_rows(path, text))
    if not rows:
        raise UserError(f"{path}: holds no models; expected a table of models with their scores")
    if all(_is_round(row) for _, row in rows):
        return Table(str(path), _from_rounds(rows))
    value, interval = _columns(path, rows[0][1])
    entries: dict[str, Entry] = {}
    first_seen: dict[str, str] = {}
    for where, row in rows:
        entry = _entry(where, row, value, interval)
        if entry.model in entries:
            raise UserError(f"{where}: the model {entry.model!r} appears twice (first at {first_seen[entry.model]}); "
                            "keep one row per model")
        entries[entry.model], first_seen[entry.model] = entry, where
    return Table(str(path), entries)


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"the name {repeated[0]!r} is a key twice")
    return dict(pairs)


def read_name_map(path: Path) -> dict[str, str]:
    """A JSON object mapping model names to model names."""
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise UserError(f"{path}: empty file; expected a JSON object mapping model names to model names")
    try:
        mapping = json.loads(text, object_pairs_hook=_no_repeated_keys)
    except ValueError as error:
        raise UserError(f"{path}: not a valid name map ({error}); give one JSON object of name: name") from None
    if not isinstance(mapping, dict) or not mapping:
        raise UserError(f"{path}: expected a non-empty JSON object mapping model names to model names")
    wrong = next((key for key, value in mapping.items() if not isinstance(value, str) or not value), None)
    if wrong is not None:
        raise UserError(f"{path}: {wrong!r} maps to {mapping[wrong]!r}, not a model name")
    return mapping

