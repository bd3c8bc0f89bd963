"""The judge games a run has finished, kept on disk until the judgment record that needs them is written.

A judgment record holds every game of a question (two, swapping positions) and is written only once
all are played, but each game is paid for as soon as its last reply arrives. So a direct run appends
every finished game at once (one line, one write() call: a kill -9 leaves every earlier line whole) to
a side file beside the judgment file, `data/<bench>/model_judgment/<judge>/.games/<model>.jsonl`, in a
hidden folder: show_result.py and qa_browser.py read the judge folder's `*.jsonl` and never see it.
The next run plays only the games it lacks, so an interrupt, a crash or a game 2 that keeps failing
never costs a finished game again. Its two games are played at once (`play_games`).

A line: {"key", "question_id", "game" (1 or 2), "played": the game as the record holds it,
"prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens"} (the last two may be
missing in lines of earlier versions). `key` hashes everything the game's requests and verdict depend
on (`game_key`: the judge's model settings, the question, model, baseline, game number, the opening
messages, temperature, max_tokens and the verdict rules), so a changed config, answer or judge never
reuses a stale game. `settle` drops the games the judgment file no longer needs (the question's
record holds them, or it counts as judged) and removes the file once none is left. The file is
written only under the judgment file's lock (core/output_lock.py)."""
from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Collection, Iterator, Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.jsonl import JsonlAppender, atomic_write_jsonl, iter_jsonl
from arena_hard.core.records import record_id
from arena_hard.core.usage import Tokens, total
from arena_hard.generate.pipeline import repair_file
from arena_hard.models.providers import ChatRequest

GAMES_DIR = ".games"


def games_path(output: Path) -> Path:
    return output.parent / GAMES_DIR / output.name


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def game_key(judge: ModelConfig, game: int, request: ChatRequest, *parts: Any) -> str:
    """A name for one game that only the same game computes again: the judge's settings that shape its
    requests, the game number, its opening request and `parts` (question, model, baseline, verdict rules)."""
    return _digest([judge.name, judge.api_type, judge.model_name, [e.model_name for e in judge.endpoints],
                    judge.reasoner, judge.reasoning_effort, judge.thinking_budget, judge.max_tokens, judge.extra_body,
                    judge.mock, game, request.messages, request.temperature, request.max_tokens, *parts])


@dataclass(frozen=True)
class Played:
    game: dict[str, Any]  # as the judgment record holds it
    prompt_tokens: int  # the counts of core.usage.Tokens, summed over the game's calls
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def tokens(self) -> Tokens:
        return Tokens(self.prompt_tokens, self.completion_tokens, self.cached_tokens, self.reasoning_tokens)


def played(game: dict[str, Any], tokens: Tokens) -> Played:
    return Played(game, **tokens.record())


def usage(games: Sequence[Played]) -> dict[str, int]:
    """A judgment record's `usage`: its games' tokens summed."""
    return total(played.tokens for played in games).record()


@dataclass(frozen=True)
class _Kept:
    key: str
    question_id: str
    number: int
    played: Played

    def line(self) -> dict[str, Any]:
        return {"key": self.key, "question_id": self.question_id, "game": self.number, "played": self.played.game,
                **self.played.tokens.record()}


def _kept(line: dict[str, Any]) -> _Kept | None:
    """The game of a side-file line, or None for a line this module did not write."""
    key, qid, number, game = line.get("key"), line.get("question_id"), line.get("game"), line.get("played")
    tokens = Tokens.of(line)
    if not (isinstance(key, str) and isinstance(qid, str) and isinstance(number, int) and isinstance(game, dict)
            and tokens is not None and "completion_tokens" in line):
        return None
    return _Kept(key, qid, number, played(game, tokens))


class GameLog:
    """The games earlier runs kept for one judgment file, read (and settled) when opened; `add` appends
    a game this run finished (on disk only: no later job of the run asks for it)."""

    def __init__(self, output: Path, judged: Callable[[dict[str, Any]], bool], *, write: bool):
        self.output, self.path, self.judged, self.write = output, games_path(output), judged, write
        self._appender: JsonlAppender | None = None
        if write and self.path.parent.is_dir():
            repair_file(self.path)
        lines = list(self._read())
        self._entries = {kept.key: kept for kept in lines if kept is not None}
        if len(self._entries) < len(lines):
            print(f"{self.path}: ignored {len(lines) - len(self._entries)} line(s) that are not games this project "
                  "kept", file=sys.stderr)
        self.settle()  # a run killed after writing a record has not yet dropped its games

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Played | None:
        kept = self._entries.get(key)
        return kept.played if kept is not None else None

    def add(self, key: str, question_id: str, number: int, played: Played) -> None:
        if self._appender is None:
            try:
                self._appender = JsonlAppender(self.path)
            except FileNotFoundError:  # a run on another model removed the empty .games/ as we made it
                self._appender = JsonlAppender(self.path)
        self._appender.write(_Kept(key, question_id, number, played).line())

    def _read(self) -> Iterator[_Kept | None]:
        if self.path.is_file():
            for _, line in iter_jsonl(self.path, skip_truncated_tail=not self.write):
                yield _kept(line)

    def settle(self) -> None:
        """Drop the games whose question's last record in the judgment file holds them, or counts as
        judged (and lines that are not games); rewrite the side file with the rest, or remove it (and an
        empty .games/) when none is left. Without `write` (a dry run) only the games in memory are dropped."""
        if self._appender is not None:
            self._appender.close()
            self._appender = None
        records = self._records({kept.question_id for kept in self._read() if kept is not None})

        def needed(kept: _Kept | None) -> bool:
            if kept is None:
                return False
            record = records.get(kept.question_id)
            return record is None or not (record[0] or _digest(kept.played.game) in record[1])

        self._entries = {key: kept for key, kept in self._entries.items() if needed(kept)}
        if not self.write or not self.path.is_file():
            return
        keep = [needed(kept) for kept in self._read()]
        if all(keep):
            return
        if any(keep):
            atomic_write_jsonl(self.path, (kept.line() for kept in self._read() if needed(kept)))
            return
        self.path.unlink()
        if not any(self.path.parent.iterdir()):
            self.path.parent.rmdir()

    def _records(self, questions: set[str]) -> dict[str, tuple[bool, frozenset[str]]]:
        """For each of `questions` that the judgment file has a record for, its last record's (judged,
        digests of its games when it is not judged)."""
        records: dict[str, tuple[bool, frozenset[str]]] = {}
        if questions and self.output.is_file():
            for lineno, record in iter_jsonl(self.output, skip_truncated_tail=True):
                question_id = record_id(record, f"{self.output}:{lineno}")
                if question_id in questions:
                    games, judged = record.get("games"), self.judged(record)
                    digests = () if judged or not isinstance(games, list) else (_digest(game) for game in games)
                    records[question_id] = (judged, frozenset(digests))
        return records


Play = Callable[[], Awaitable[Played]]


async def play_games(log: GameLog | None, question_id: str, games: Sequence[tuple[str, Play]],
                     live: bool) -> list[Played]:
    """Each game (key, play) of one question: the kept one, else played. `live` (a direct run): all at
    once, each finished game kept in `log` the moment it is played, and every game that can finish
    does before a failure is raised. Otherwise (a batch replay, which must run to its end in one step
    and keeps its results in its own store): one after the other, nothing kept."""
    async def one(number: int, key: str, play: Play) -> Played:
        known = log.get(key) if log is not None else None
        if known is not None:
            return known
        played = await play()
        if live and log is not None:
            log.add(key, question_id, number, played)
        return played

    if not live:
        return [await one(number, key, play) for number, (key, play) in enumerate(games, 1)]
    outcomes = await asyncio.gather(*(one(number, key, play) for number, (key, play) in enumerate(games, 1)),
                                    return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return list(outcomes)


def kept_games(kept: Collection[Any]) -> str:
    """The dry run's note on games an earlier run played, or ""."""
    return f" ({len(kept)} game(s) played by an earlier run are kept and not asked again)" if kept else ""
