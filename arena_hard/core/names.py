"""Names the user chooses (models, judges, benches) as file names, and lists of names without repeats.

One rule for every name that becomes a file or folder name under data/: `file_stem` keeps the name
as it is, except that `/`, `\\`, `%`, control characters and a leading `.` are percent-encoded
(`meta-llama/Llama-3-8B` -> `meta-llama%2FLlama-3-8B`, `../x` -> `%2E.%2Fx`), so no name can reach
outside its folder or hide from a `*.jsonl` listing, and every name that was a plain file name
before keeps its file. `name_from_stem` reverses it, so readers show the real name. Records keep the
real name. A name that is empty or too long for a file name is refused. Reads and writes nothing."""
from __future__ import annotations

import re
import sys
from typing import Iterable
from urllib.parse import unquote

from arena_hard.core.errors import UserError

_UNSAFE = re.compile(r"^\.|[/\\%\x00-\x1f\x7f]")
# 255 bytes per file name, less ".jsonl" and the ".<name>.XXXXXXXX.tmp" of an atomic rewrite.
MAX_STEM_BYTES = 200


def file_stem(name: str) -> str:
    """The file (or folder) name for `name`: itself, with path characters percent-encoded."""
    if not name:
        raise UserError("an empty name cannot name a model, judge or bench; give it a name")
    stem = _UNSAFE.sub(lambda match: "".join(f"%{byte:02X}" for byte in match.group(0).encode("utf-8")), name)
    if len(stem.encode("utf-8", "surrogateescape")) > MAX_STEM_BYTES:
        raise UserError(f"the name {name[:40]!r}... is too long for a file name (over {MAX_STEM_BYTES} bytes); "
                        "use a shorter name")
    return stem


def name_from_stem(stem: str) -> str:
    """The name a file stem written by `file_stem` stands for."""
    return unquote(stem, errors="surrogateescape") if "%" in stem else stem


def unique(names: Iterable[str], where: str) -> tuple[str, ...]:
    """`names` in order without repeats; each repeat dropped with a note on stderr naming `where`."""
    kept: list[str] = []
    for name in names:
        if name in kept:
            print(f"note: {where} lists {name!r} more than once; it is used once", file=sys.stderr)
        else:
            kept.append(name)
    return tuple(kept)
