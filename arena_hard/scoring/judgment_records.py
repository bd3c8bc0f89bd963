"""Judgment records of one or more judges, column by column (`Records`), as both bench versions' leaderboards
score them: each judge's judgment files (verdict_labels.VerdictTable) pooled, a repeated record resolved
to its last occurrence, in upstream's order (judge by judge, file by file, line by line). Pure functions;
reads and writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from arena_hard.scoring.verdict_labels import VerdictTable


@dataclass
class Records:
    """Judgment records of one or more judges, duplicates resolved, in upstream's order."""

    question_ids: list[str]
    models: list[str]
    baselines: list[str | None]
    categories: list[str | None]
    game1: np.ndarray  # label codes (verdict_labels.LABELS, NO_VERDICT)
    game2: np.ndarray

    def __len__(self) -> int:
        return len(self.question_ids)

    def select(self, keep: np.ndarray) -> "Records":
        index = np.flatnonzero(keep).tolist()
        return Records([self.question_ids[i] for i in index], [self.models[i] for i in index],
                       [self.baselines[i] for i in index], [self.categories[i] for i in index],
                       self.game1[keep], self.game2[keep])


def combine_judges(judges: Sequence[Sequence[VerdictTable]]) -> tuple[Records, list[str]]:
    """Each judge's files (in order) pooled; within one judge a later record for the same model,
    question and baseline replaces an earlier one. Returns the records and notes for the user."""
    parts, notes = [], []
    for tables in judges:
        def column(name: str) -> list:
            return [value for table in tables for value in getattr(table, name)]
        keys = list(zip(column("models"), column("question_ids"), column("baselines")))
        last = dict(zip(keys, range(len(keys))))  # each key at its last record
        if len(last) < len(keys):
            notes.append(f"{len(keys) - len(last)} judgment record(s) repeat an earlier record for the same model "
                         f"and question; kept the last of each (first: {_first_repeat(tables)})")
        kept = sorted(last.values())  # a repeated record takes the place of its last occurrence
        parts.append(Records(*([values[i] for i in kept] for values in map(column, _TEXT_COLUMNS)),
                             np.array(column("game1"), dtype=np.int8)[kept],
                             np.array(column("game2"), dtype=np.int8)[kept]))
    return concat_records(parts) if parts else concat_records([_NO_RECORDS]), notes


_TEXT_COLUMNS = ("question_ids", "models", "baselines", "categories")
_NO_RECORDS = Records([], [], [], [], np.zeros(0, dtype=np.int8), np.zeros(0, dtype=np.int8))


def _first_repeat(tables: Sequence[VerdictTable]) -> str:
    """`file:line repeats file:line` for the first record that repeats an earlier one."""
    seen: dict[tuple[str, str, str | None], str] = {}
    for table in tables:
        for i in range(len(table)):
            key, here = (table.models[i], table.question_ids[i], table.baselines[i]), f"{table.path}:{table.lines[i]}"
            if key in seen:
                return f"{here} repeats {seen[key]}"
            seen[key] = here
    return ""


def concat_records(parts: Sequence[Records]) -> Records:
    """The records of several judges, one after another."""
    return Records([q for p in parts for q in p.question_ids], [m for p in parts for m in p.models],
                   [b for p in parts for b in p.baselines], [c for p in parts for c in p.categories],
                   np.concatenate([p.game1 for p in parts]).astype(np.int8),
                   np.concatenate([p.game2 for p in parts]).astype(np.int8))
