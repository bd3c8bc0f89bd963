"""Beside upstream's battles file, which bench and judges the battles came from
(`data/arena_hard_battles.source.json`), so that --load-battles refuses battles of another bench or
judge.

The source file names the battles file's SHA-256: a battles file written by anyone else (upstream, or
copied over ours) does not match it and is loaded as upstream's, unchecked. Reads and writes only
the files it is given."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import atomic_write_text


def source_path(battles_path: Path) -> Path:
    return Path(battles_path).with_suffix(".source.json")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def battles_source_text(battles_bytes: bytes, bench: str, judges: Sequence[str]) -> str:
    return json.dumps({"bench": bench, "judges": list(judges), "battles_sha256": _digest(battles_bytes)}) + "\n"


def check_battles_source(battles_path: Path, bench: str, judges: Sequence[str]) -> None:
    """A UserError when the saved battles belong to another bench or judges than those asked for."""
    path = source_path(battles_path)
    try:
        source = json.loads(path.read_text(encoding="utf-8"))
        if source["battles_sha256"] != _digest(Path(battles_path).read_bytes()):
            return  # not the battles this record describes
        saved_bench, saved_judges = source["bench"], list(source["judges"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # no (usable) record: battles from upstream or an older run
    if saved_bench != bench or saved_judges != list(judges):
        flags = f"--judge-name{'s' if len(saved_judges) > 1 else ''} {' '.join(saved_judges)}"
        raise UserError(f"{battles_path}: holds battles of bench {saved_bench} judged by {', '.join(saved_judges)}, "
                        f"not of {bench} judged by {', '.join(judges)}; add --bench-name {saved_bench} {flags}, "
                        "or rerun without --load-battles")


def write_battles_source(battles_path: Path, battles_bytes: bytes, bench: str, judges: Sequence[str]) -> None:
    atomic_write_text(source_path(battles_path), battles_source_text(battles_bytes, bench, judges))
