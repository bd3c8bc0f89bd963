"""JSONL files: reading with file:line errors, crash-safe appending and atomic rewriting.

Every output of the scripts is a JSONL file that grows one complete line per record while a run
goes on (`JsonlAppender`), is repaired on resume if a crash cut its last line (`repair_tail`), and is
finally rewritten sorted through a temporary file and a rename (`atomic_write_jsonl`, on
core.atomic_write).

Two readers of the same lines, to both of which a line of white space and byte-order marks is
blank: `iter_jsonl`, line by line with file:line errors and the choice to skip a cut-off last line, for
everything; and `scan_jsonl`, the scoring hot path: one read of the file, then one decode per line with
none of iter_jsonl's per-line bookkeeping. It decodes with msgspec (about twice as fast as json on long
judge texts), and a line msgspec refuses goes to json.loads, which also takes what msgspec does not
(NaN, Infinity, numbers beyond a double, lone surrogates): every line decodes to exactly what json.loads
gives, and a line json.loads refuses makes iter_jsonl read the file and raise its file:line message (bad
JSON or UTF-8, a non-object, a cut-off last line). Any text JSON can carry is written so that both read
it back unchanged: a lone surrogate, which UTF-8 cannot encode, as its \\u escape (`dumps_line`). Reads
and writes the files it is given."""
from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from arena_hard.core.atomic_write import atomic_write_bytes, named_error
from arena_hard.core.data_files import open_regular
from arena_hard.core.errors import UserError

# A surrogate code point in a str read from JSON: always a lone one (a JSON reader joins a pair).
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
TRUNCATED_HINT = (
    "the last line is cut short, the remains of an interrupted run: rerun the script that writes "
    "this file to repair it, or delete that line"
)


def _decode_line(path: Path, lineno: int, raw: bytes) -> dict[str, Any]:
    try:
        record = json.loads(raw)
    except UnicodeDecodeError as error:
        raise UserError(f"{path}:{lineno}: not valid UTF-8 (byte {raw[error.start]:#04x} at column "
                        f"{error.start + 1}); re-save the file as UTF-8") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{path}:{lineno}: not valid JSON ({error.msg} at column {error.colno}); "
                        "fix or delete that line") from None
    except (ValueError, RecursionError):  # valid JSON beyond Python's limits, which would be a traceback
        raise UserError(f"{path}:{lineno}: cannot be read (a number of over 4300 digits, or arrays and objects "
                        "nested too deep); fix or delete that line") from None
    if not isinstance(record, dict):
        raise UserError(f"{path}:{lineno}: expected a JSON object, found {type(record).__name__}; "
                        "fix or delete that line")
    return record


def iter_jsonl(path: Path, *, skip_truncated_tail: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, record) for each non-blank line.

    A last line with no newline that does not parse is what a killed writer leaves behind: it is
    skipped when `skip_truncated_tail` (the caller repairs the file), otherwise reported."""
    path = Path(path)
    try:
        handle = open_regular(path)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, expected a JSONL file") from None
    with handle:
        for lineno, raw in enumerate(handle, 1):
            try:
                record = _read_line(path, lineno, raw)
            except UserError:
                if raw.endswith(b"\n"):
                    raise
                if skip_truncated_tail:
                    return
                raise UserError(f"{path}:{lineno}: {TRUNCATED_HINT}") from None
            if record is not None:
                yield lineno, record


def blank_text(raw: bytes) -> bool:
    """Nothing but white space (Unicode's too) and byte-order marks (U+FEFF, as editors may write)."""
    try:
        return not raw.decode("utf-8").replace("\ufeff", "").strip()
    except UnicodeDecodeError:
        return False


def _read_line(path: Path, lineno: int, raw: bytes) -> dict[str, Any] | None:
    """The line's record, or None for a blank line."""
    if not raw.strip():
        return None
    try:
        return _decode_line(path, lineno, raw)
    except UserError:
        if blank_text(raw):
            return None
        raise


@functools.cache
def _fast_decoder() -> tuple[Callable[[memoryview], Any], tuple[type[BaseException], ...]]:
    """msgspec's decoder and what it raises on a document it refuses; imported on first use, as only
    decode_json needs it (its import is a twentieth of a cached show_result run)."""
    import msgspec
    return msgspec.json.Decoder().decode, (msgspec.MsgspecError, RecursionError)


def decode_json(data: bytes | memoryview) -> Any:
    """One JSON document, exactly as json.loads reads it (a ValueError where json.loads raises one),
    decoded by msgspec whenever msgspec takes it."""
    decode, refused = _fast_decoder()
    try:
        return decode(data)
    except refused:
        return json.loads(bytes(data))


def _lines(data: bytes) -> Iterator[tuple[int, memoryview]]:
    """(line number, the line without its newline) for each non-empty line, as views: no copies."""
    view, start, lineno = memoryview(data), 0, 1
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        if end > start:
            yield lineno, view[start:end]
        start, lineno = end + 1, lineno + 1


def scan_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for each non-blank line, as iter_jsonl yields them."""
    path = Path(path)
    try:
        with open_regular(path) as handle:
            data = handle.read()
    except OSError:
        yield from iter_jsonl(path)  # reports the missing file or folder
        return
    for lineno, line in _lines(data):
        try:
            record = decode_json(line)
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, Python's limits
            if blank_text(bytes(line)):
                continue  # spaces, the \r of a CRLF blank line, a byte-order mark
            record = None
        if not isinstance(record, dict):
            for _ in iter_jsonl(path):
                pass
            raise UserError(f"{path}:{lineno}: not a JSON object; fix or delete that line")
        yield lineno, record


def repair_tail(path: Path) -> str | None:
    """Make `path` end with a complete line. Returns what was done, or None if nothing was needed.

    A cut-off last line is removed; a complete record merely missing its newline gets one."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None
    if size == 0:
        return None
    with open(path, "rb+") as handle:
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return None
        line_start, pos = 0, size
        while pos > 0:  # find the start of the last line, reading backwards
            step = min(1 << 16, pos)
            pos -= step
            handle.seek(pos)
            newline = handle.read(step).rfind(b"\n")
            if newline >= 0:
                line_start = pos + newline + 1
                break
        handle.seek(line_start)
        last = handle.read()
        try:
            complete = isinstance(json.loads(last), dict)
        except (ValueError, RecursionError):
            complete = False
        if complete:
            handle.seek(size)
            handle.write(b"\n")
            return "added the missing newline after the last record"
        handle.truncate(line_start)
        return f"removed an incomplete last line ({len(last)} bytes) left by an interrupted run"


def lone_surrogate(text: str) -> str | None:
    """`holds a lone surrogate (...)` and why no API takes it, when `text` holds one, else None. JSON
    carries a lone surrogate as an escape and the files keep it; the SDKs encode requests as UTF-8."""
    match = LONE_SURROGATE.search(text)
    if match is None:
        return None
    return (f"holds a lone surrogate (U+{ord(match.group()):04X} at character {match.start() + 1}), which is not "
            "Unicode text and cannot be sent to an API")


def dumps_line(record: dict[str, Any]) -> bytes:
    """One JSON line in UTF-8. A lone surrogate (legal in JSON as an escape such as \\ud800, as a reply
    may hold, but not encodable as UTF-8) is written as that escape, so the line reads back unchanged;
    it can only stand inside a string, where the escape means the same."""
    text = json.dumps(record, ensure_ascii=False)
    try:
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text) + "\n").encode("utf-8")


class JsonlAppender:
    """Appends records to a JSONL file, one complete line per write() system call, so a process
    killed at any instant leaves every earlier line intact."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        data = memoryview(dumps_line(record))
        while data:
            try:
                written = os.write(self._fd, data)
            except OSError as error:
                raise named_error(error, self.path) from None
            data = data[written:]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "JsonlAppender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def rewrite_sorted_unique(path: Path, key: Callable[[dict[str, Any], str], str]) -> None:
    """Rewrite `path` sorted by `key(record, "file:line")`, keeping the last line of each key, byte for
    byte. Streamed: only each kept line's offset is held in memory, however large the file. A file
    already in that form is left alone (not even its modification time changes)."""
    path = Path(path)
    offsets: dict[str, tuple[int, int]] = {}
    in_form, previous = True, None  # sorted, one line per key, no blank line, ends with a newline
    with open(path, "rb") as handle:
        position = 0
        for lineno, raw in enumerate(handle, 1):
            record = _read_line(path, lineno, raw)
            name = None if record is None else key(record, f"{path}:{lineno}")
            if name is not None:
                offsets[name] = (position, len(raw))
            in_form = in_form and name is not None and (previous is None or previous < name) and raw.endswith(b"\n")
            previous = name
            position += len(raw)
    if in_form:
        return

    def lines() -> Iterator[bytes]:
        with open(path, "rb") as source:
            for name in sorted(offsets):
                start, length = offsets[name]
                source.seek(start)
                line = source.read(length)
                yield line if line.endswith(b"\n") else line + b"\n"

    atomic_write_bytes(path, lines())


def atomic_write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    atomic_write_bytes(path, (dumps_line(record) for record in records))
