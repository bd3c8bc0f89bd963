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

import functools
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from arena_hard.core.jsonl import decode_json
from arena_hard.core.parallel import process_map

CACHE_DIR_NAME = ".show_result_cache"
FORMAT_VERSION = 4  # 2: markdown counts as upstream (fenced contents deleted everywhere); 3: NOT_PLAYED games;
# 4: answer token lengths per question, the judgment files' record formats and odd game counts
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
        return self.get_many(kind, [source], build)[0]

    def get_many(self, kind: str, sources: Sequence[Path],
                 build: Callable[[Path], dict[str, Any]]) -> list[dict[str, Any]]:
        """get() of each source, in order; the sources the cache misses are built on all cores at once
        (process_map: `build` must pickle), and the first of them to fail raises, as get() would."""
        looked_up = [self._look_up(kind, Path(source)) for source in sources]
        missed = [i for i, (payload, _) in enumerate(looked_up) if payload is None]
        built = dict(zip(missed, process_map(functools.partial(self._build_and_store, kind, build),
                                             [(Path(sources[i]), looked_up[i][1]) for i in missed])))
        return [built[i] if i in built else payload for i, (payload, _) in enumerate(looked_up)]

    def _build_and_store(self, kind: str, build: Callable[[Path], dict[str, Any]],
                         miss: tuple[Path, tuple[str, os.stat_result] | None]) -> dict[str, Any]:
        """A missed source built, and its entry written by the same worker; `miss` is the source and
        what _look_up found of it (its key and stat, for the entry)."""
        source, found = miss
        payload = build(source)
        self._store(kind, found, payload)
        return payload

    def _look_up(self, kind: str, source: Path) -> tuple[dict[str, Any] | None, tuple[str, os.stat_result] | None]:
        """(the cached payload or None, what storing a newly built one needs: None for a missing source)."""
        key = str(source.resolve())
        try:
            stat = os.stat(source)
        except OSError:
            return None, None  # build reports the missing file in its own words
        try:
            entry = decode_json(self._entry_path(kind, key).read_bytes())
            if entry["version"] == FORMAT_VERSION and entry["source"] == key and entry["stamp"] == _stamp(stat):
                return entry["payload"], (key, stat)
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None, (key, stat)

    def _store(self, kind: str, source: tuple[str, os.stat_result] | None, payload: dict[str, Any]) -> None:
        if source is None or time.time_ns() - source[1].st_mtime_ns <= RACY_SECONDS * 1e9:
            return
        key, stat = source
        entry = {"version": FORMAT_VERSION, "source": key, "stamp": _stamp(stat), "payload": payload}
        try:
            self._write(self._entry_path(kind, key), json.dumps(entry, separators=(",", ":")).encode("utf-8"))
        except OSError:
            pass

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
