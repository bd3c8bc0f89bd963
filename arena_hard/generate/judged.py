"""When a judgment record counts as made, for v0.1 and v2.0 alike.

A record is judged when it holds every game the config plays (two; one with v0.1's `pairwise:
False`), each a game (upstream v2.0 writes `null` for a game whose call failed) and at least one with
a verdict label (v0.1's five, or v2.0's ten). A record none of whose games has one (a judge that never
gives a verdict, a regex that captures the wrong text) counts as not judged: the run that writes it
says how many and exits 1, and the next run judges it again. Reads and writes nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable

from arena_hard.core.judgments import game_score
from arena_hard.core.records import record_id


class JudgedCheck:
    """`judged(record)`, and as a callable for pipeline.open_output the same answer while collecting in
    `without_verdict` the questions whose last record has every game but no verdict in any."""

    def __init__(self, path: Path, games_per_record: int, is_verdict: Callable[[Any], bool]):
        """`is_verdict(score)`: whether a game's score is a verdict label of the bench version."""
        self.path, self.games_per_record, self.is_verdict = path, games_per_record, is_verdict
        self.without_verdict: set[str] = set()

    def _played(self, record: dict[str, Any]) -> bool:
        games = record.get("games")
        return (isinstance(games, list) and len(games) == self.games_per_record
                and all(isinstance(game, dict) for game in games))

    def _has_verdict(self, record: dict[str, Any]) -> bool:
        return any(self.is_verdict(game_score(game)) for game in record["games"])

    def judged(self, record: dict[str, Any]) -> bool:
        return self._played(record) and self._has_verdict(record)

    def __call__(self, record: dict[str, Any]) -> bool:
        question_id = record_id(record, str(self.path))
        self.without_verdict.discard(question_id)
        if not self._played(record):
            return False
        if not self._has_verdict(record):
            self.without_verdict.add(question_id)
            return False
        return True

    def without_verdict_among(self, question_ids: Iterable[str]) -> list[str]:
        return [question_id for question_id in question_ids if question_id in self.without_verdict]
