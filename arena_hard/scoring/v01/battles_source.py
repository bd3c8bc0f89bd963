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
from typing import Iterable, Iterator, Sequence

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import atomic_write_bytes, atomic_write_text


def source_path(battles_path: Path) -> Path:
    return Path(battles_path).with_suffix(".source.json")


def check_battles_source(battles_path: Path, bench: str, judges: Sequence[str]) -> None:
    """A UserError when the saved battles belong to another bench or judges than those asked for."""
    path = source_path(battles_path)
    try:
        source = json.loads(path.read_text(encoding="utf-8"))
        with open(battles_path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        if source["battles_sha256"] != digest:
            return  # not the battles this record describes
        saved_bench, saved_judges = source["bench"], list(source["judges"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # no (usable) record: battles from upstream or an older run
    if saved_bench != bench or saved_judges != list(judges):
        flags = f"--judge-name{'s' if len(saved_judges) > 1 else ''} {' '.join(saved_judges)}"
        raise UserError(f"{battles_path}: holds battles of bench {saved_bench} judged by {', '.join(saved_judges)}, "
                        f"not of {bench} judged by {', '.join(judges)}; add --bench-name {saved_bench} {flags}, "
                        "or rerun without --load-battles")


def write_with_source(battles_path: Path, chunks: Iterable[bytes], bench: str, judges: Sequence[str]) -> None:
    """The battles file from its chunks (streamed), then the source record naming its digest."""
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for chunk in chunks:
            digest.update(chunk)
            yield chunk

    atomic_write_bytes(battles_path, hashed())
    atomic_write_text(source_path(battles_path), json.dumps({"bench": bench, "judges": list(judges),
                                                             "battles_sha256": digest.hexdigest()}) + "\n")
