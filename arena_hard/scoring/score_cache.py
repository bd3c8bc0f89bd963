"""A cache of what show_result.py extracts from each judgment and answer file, so that a second run
over unchanged files parses none of them.

Lives in `data/<bench>/.show_result_cache/`: one JSON file per (kind, source file), named by a hash of
the source's absolute path. An entry is used only when the source's absolute path, size, mtime_ns,
ctime_ns and inode all equal what was recorded, and its format version matches; anything else
(including an unreadable or corrupt entry) is a miss and the source is parsed again. A source
modified less than RACY_SECONDS before it was read is not cached: a rewrite within the file
system's timestamp granularity could keep the same size and mtime. Payloads depend on the file
alone, never on flags, so flags cannot make an entry stale. Entries are written to a temporary file
and renamed into place without fsync (a crash can lose an entry, never leave a wrong one: a torn
file fails to parse and is a miss); a cache folder that cannot be written (read-only data) just
means no caching."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

CACHE_DIR_NAME = ".show_result_cache"
FORMAT_VERSION = 3  # 2: markdown counts as upstream (fenced contents deleted everywhere); 3: NOT_PLAYED games
RACY_SECONDS = 2.0


def _stamp(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


class FileCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def _entry_path(self, kind: str, source: str) -> Path:
        digest = hashlib.sha1(source.encode("utf-8", "surrogateescape")).hexdigest()[:24]
        return self.directory / f"{kind}-{digest}.json"

    def get(self, kind: str, source: Path, build: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
        """The payload `build(source)` returns, from the cache when the source is unchanged."""
        source = Path(source)
        key = str(source.resolve())
        try:
            stat = os.stat(source)
        except OSError:
            return build(source)  # build reports the missing file in its own words
        stamp = _stamp(stat)
        entry_path = self._entry_path(kind, key)
        try:
            entry = json.loads(entry_path.read_bytes())
            if entry["version"] == FORMAT_VERSION and entry["source"] == key and entry["stamp"] == stamp:
                return entry["payload"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        payload = build(source)
        if time.time_ns() - stat.st_mtime_ns > RACY_SECONDS * 1e9:
            entry = {"version": FORMAT_VERSION, "source": key, "stamp": stamp, "payload": payload}
            try:
                self._write(entry_path, json.dumps(entry, separators=(",", ":")).encode("utf-8"))
            except OSError:
                pass
        return payload

    def _write(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
