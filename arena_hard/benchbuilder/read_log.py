"""Stage 1, Read: the prompt log as the prompts the later stages embed, label and sample.

Reads the log (`input_file`): a JSON array of records, JSON lines, or Parquet (pandas; needs pyarrow,
requirements-optional.txt). A record's prompt comes from, in this order: Chatbot Arena's
`conversation_a` (or WildChat's `conversation`) turns, OpenAI `messages`, v0.1's `turns`, or a plain
`prompt`. As upstream's topic_clustering.py: records whose `language` field is not the setting's are
dropped (a null or missing field, or a Parquet gap, names no language: kept), the user turns are
joined (each followed by a newline), `<|endoftext|>` is defused, prompts of 32 characters or fewer are
dropped and the rest cut at 10,000 characters. Beyond upstream, exact duplicates (after whitespace
normalisation) are dropped, and so are prompts holding a lone surrogate (a JSON escape such as
\\ud800: not text, no API takes it, and it would fail its request on every run). Each prompt is named
by the sha256 of its text, the key of every cache. Writes nothing.
May import: arena_hard.core; pandas (Parquet only)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from arena_hard.core.data_files import open_regular, read_regular
from arena_hard.core.errors import UserError, looked_in
from arena_hard.core.jsonl import LONE_SURROGATE, iter_jsonl

MIN_CHARACTERS = 32  # a prompt must be longer than this
MAX_CHARACTERS = 10_000
CONVERSATION_KEYS = ("conversation_a", "conversation", "messages")


@dataclass(frozen=True)
class Prompt:
    key: str  # sha256 of `text`, hex
    text: str  # the user turns, each followed by a newline: what is embedded and labelled

    @property
    def question(self) -> str:
        """The text as a bench question: without the newline the join put at its end."""
        return self.text[:-1] if self.text.endswith("\n") else self.text


@dataclass
class ReadReport:
    records: int = 0
    no_prompt: int = 0
    other_language: int = 0
    too_short: int = 0
    duplicates: int = 0
    not_text: int = 0
    cut: int = 0
    prompts: list[Prompt] = field(default_factory=list)

    def describe(self, path: Path, language: str | None) -> str:
        dropped = [f"{self.no_prompt:,} without a prompt", f"{self.other_language:,} not in {language}",
                   f"{self.too_short:,} of {MIN_CHARACTERS} characters or fewer", f"{self.duplicates:,} duplicates"]
        if self.not_text:
            dropped.append(f"{self.not_text:,} holding a lone surrogate (not text)")
        return (f"read {self.records:,} records from {path}; dropped {', '.join(dropped)}; {len(self.prompts):,} "
                f"prompts ({self.cut:,} cut at {MAX_CHARACTERS:,} characters)")


def _listed(value: Any) -> list[Any] | None:
    """A JSON list, or what Parquet makes of one (a numpy array); None for anything else."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__") or not hasattr(value, "__iter__"):
        return None
    return list(value)


def _content_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    parts = _listed(content)
    if not parts:
        return None
    if isinstance(parts[0], str):  # Chatbot Arena's [text, images]
        return parts[0]
    texts = [part.get("text") for part in parts if isinstance(part, dict) and part.get("type", "text") == "text"]
    texts = [text for text in texts if isinstance(text, str)]
    return "".join(texts) if texts else None


def user_turns(record: dict[str, Any]) -> list[str]:
    """The user turns of a record in any of the formats read, [] when it has none."""
    for key in CONVERSATION_KEYS:
        turns = _listed(record.get(key))
        if turns is not None:
            texts = [_content_text(turn.get("content")) for turn in turns
                     if isinstance(turn, dict) and turn.get("role") == "user"]
            return [text for text in texts if text is not None]
    turns = _listed(record.get("turns"))
    if turns is not None:
        texts = [_content_text(turn.get("content")) for turn in turns if isinstance(turn, dict)]
        return [text for text in texts if text is not None]
    prompt = record.get("prompt")
    return [prompt] if isinstance(prompt, str) else []


def _json_records(path: Path) -> Iterator[Any]:
    with open_regular(path) as handle:
        start = handle.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()  # a byte order mark: json.loads skips it
    if not start.startswith(b"["):
        yield from (record for _, record in iter_jsonl(path))
        return
    try:
        data = json.loads(read_regular(path))
    except (UnicodeDecodeError, ValueError) as error:
        raise UserError(f"{path}: not a valid JSON array of records ({error}); fix the file") from None
    yield from data


def _parquet_records(path: Path) -> Iterator[dict[str, Any]]:
    import pandas

    try:
        frame = pandas.read_parquet(path)
    except ImportError:
        raise UserError(f"{path}: reading Parquet needs pyarrow: pip install -r requirements-optional.txt") from None
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: not a readable Parquet file ({' '.join(str(error).split())[:160]})") from None
    yield from frame.to_dict("records")


def load_records(path: Path) -> Iterable[Any]:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file{looked_in(path)}; set `input_file` to your prompt log")
    if path.is_dir():
        raise UserError(f"{path}: is a directory; set `input_file` to your prompt log file")
    open_regular(path).close()  # a FIFO or device is refused in one line
    if path.suffix.lower() in (".parquet", ".pq"):
        return _parquet_records(path)
    return _json_records(path)


def _language(record: dict[str, Any]) -> Any:
    """The record's `language`, None when it names none: no field, null, or the gap (NaN) Parquet
    leaves where a record of a mixed log had no field."""
    value = record.get("language")
    return None if value is None or (isinstance(value, float) and value != value) else value


def prompt_text(turns: list[str]) -> str:
    return "".join(f"{turn}\n" for turn in turns).replace("<|endoftext|>", "<| endoftext |>")


def read_prompts(path: Path, language: str | None) -> ReadReport:
    report = ReadReport()
    seen: set[str] = set()
    for record in load_records(path):
        report.records += 1
        turns = user_turns(record) if isinstance(record, dict) else []
        if not turns:
            report.no_prompt += 1
            continue
        if language is not None and _language(record) not in (None, language):
            report.other_language += 1
            continue
        text = prompt_text(turns)
        if LONE_SURROGATE.search(text):
            report.not_text += 1
            continue
        if len(text) <= MIN_CHARACTERS:
            report.too_short += 1
            continue
        if len(text) > MAX_CHARACTERS:
            text = text[:MAX_CHARACTERS]
            report.cut += 1
        normal = " ".join(text.split())
        if normal in seen:
            report.duplicates += 1
            continue
        seen.add(normal)
        report.prompts.append(Prompt(hashlib.sha256(text.encode("utf-8")).hexdigest(), text))
    if not report.prompts:
        raise UserError(f"{path}: no usable prompt: {_emptied_by(report, language)}")
    return report


def _emptied_by(report: ReadReport, language: str | None) -> str:
    if not report.records:
        return "the log holds no record"
    reasons = [(report.no_prompt, "had no prompt (conversation_a, conversation, messages, turns or prompt)"),
               (report.other_language, f"were not in {language} (set `language: null` to keep every language)"),
               (report.too_short, f"were {MIN_CHARACTERS} characters or fewer"),
               (report.duplicates, "were duplicates"), (report.not_text, "held a lone surrogate (not text)")]
    return "; ".join(f"{count:,} of {report.records:,} records {why}" for count, why in reasons if count)
