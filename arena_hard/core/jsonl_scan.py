"""A lean reader of JSONL files for the scoring hot path: one read of the file, then one json.loads
per line, streamed, with none of iter_jsonl's per-line bookkeeping. It calls json.loads on the same
bytes iter_jsonl would, so it fails exactly where iter_jsonl fails; it then lets iter_jsonl read the
file and raise its file:line message (bad JSON or UTF-8, a non-object, a cut-off last line). Reads
the given file; writes nothing."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import iter_jsonl


def scan_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line, as iter_jsonl yields them."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError:
        yield from iter_jsonl(path)  # reports the missing file or folder
        return
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, Python's limits
            record = None
        if not isinstance(record, dict):
            for _ in iter_jsonl(path):
                pass
            raise UserError(f"{path}:{lineno}: not a JSON object; fix or delete that line")
        yield lineno, record
