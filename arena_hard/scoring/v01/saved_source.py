"""What the files show_result.py saves for --load-battles and --load-bootstrap were computed from, in a
record beside each (`data/arena_hard_battles.source.json`, `data/bootstrapping_results[_<category>].source.json`),
so that a later run refuses battles of another bench or judge, and rounds of other battles, another
category or another style control.

A record names its file's SHA-256: a file written by anyone else (upstream, or copied over ours) does not
match it and is loaded as upstream's, unchecked. Reads and writes only the files it is given."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable, Sequence

from arena_hard.core.data_files import open_regular, read_regular
from arena_hard.core.errors import UserError
from arena_hard.core.atomic_write import atomic_write_text


def source_path(saved_path: Path) -> Path:
    return Path(saved_path).with_suffix(".source.json")


def digest(chunks: Iterable[bytes]) -> str:
    """The SHA-256 of the bytes `chunks` make, taken in a stream (a battles file can be large)."""
    hashed = hashlib.sha256()
    for chunk in chunks:
        hashed.update(chunk)
    return hashed.hexdigest()


def file_digest(path: Path) -> str:
    with open_regular(path) as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_source(saved_path: Path, saved_digest: str, fields: dict[str, Any]) -> None:
    """The record that the file at `saved_path`, whose SHA-256 is `saved_digest`, came from `fields`."""
    atomic_write_text(source_path(saved_path), json.dumps({**fields, "sha256": saved_digest}) + "\n")


def read_source(saved_path: Path) -> dict[str, Any] | None:
    """The record of what `saved_path` was computed from; None when there is none, or it describes other
    bytes than the file now holds."""
    try:
        source = json.loads(read_regular(source_path(saved_path)).decode("utf-8"))
        own = source.get("sha256", source.get("battles_sha256")) if isinstance(source, dict) else None  # older runs: battles_sha256
        if own != file_digest(Path(saved_path)):
            return None
    except (OSError, ValueError):
        return None
    return source


def check_battles_source(battles_path: Path, bench: str, judges: Sequence[str]) -> None:
    """A UserError when the saved battles belong to another bench or judges than those asked for."""
    source = read_source(battles_path)
    if source is None or not isinstance(source.get("judges"), list):
        return  # no (usable) record: battles from upstream or an older run
    saved_bench, saved_judges = source.get("bench"), source["judges"]
    if saved_bench != bench or saved_judges != list(judges):
        flags = f"--judge-name{'s' if len(saved_judges) > 1 else ''} {' '.join(map(str, saved_judges))}"
        raise UserError(f"{battles_path}: holds battles of bench {saved_bench} judged by "
                        f"{', '.join(map(str, saved_judges))}, not of {bench} judged by {', '.join(judges)}; add "
                        f"--bench-name {saved_bench} {flags}, or rerun without --load-battles")


def check_rounds_source(rounds_path: Path, expected: dict[str, Any]) -> None:
    """A UserError when the saved bootstrap rounds were computed from other battles, another category or
    another style control than this run scores (`expected` holds battles_sha256, category and style)."""
    source = read_source(rounds_path)
    if source is None:
        return  # upstream's rounds, or an older run's: loaded as they are
    differ = [key for key in expected if source.get(key) != expected[key]]
    if differ:
        what = {"battles_sha256": "other battles", "category": f"category {source.get('category')!r}",
                "style": f"style control {source.get('style')!r}"}
        raise UserError(f"{rounds_path}: its rounds were computed from {', '.join(what[k] for k in differ)}, not from "
                        f"the battles this run scores; rerun without --load-bootstrap to recompute them")
