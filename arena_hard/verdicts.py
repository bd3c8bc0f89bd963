"""Counts of the judge's verdict labels over a model's judgment records, for the summary line that
gen_judgment.py prints after judging a model. Reads and writes nothing.

NOTE: reconstructed by the show_result.py helper after it overwrote this file by accident; the
original's exact wording is lost, this keeps the interface gen_judgment.py uses."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

LABELS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")


@dataclass(frozen=True)
class VerdictStats:
    """How many games got each label, and how many got none (null score or an unknown label)."""

    records: int
    games: int
    labels: Counter = field(default_factory=Counter)
    no_verdict: int = 0

    @classmethod
    def from_games(cls, records: Sequence[Sequence[Any]]) -> "VerdictStats":
        labels: Counter = Counter()
        games = no_verdict = 0
        for scores in records:
            for score in scores:
                games += 1
                if score in LABELS:
                    labels[score] += 1
                else:
                    no_verdict += 1
        return cls(len(records), games, labels, no_verdict)

    def describe(self) -> str:
        shares = ", ".join(f"{label} {self.labels[label]}" for label in LABELS)
        return f"{self.records} records, {self.games} games: {shares}, no verdict {self.no_verdict}"
