"""What each model's score rests on: of the bench's questions, how many gave at least one battle, how
many have no judgment record for the model, and how many have one whose counted games lack a verdict;
and --missing-as-loss, which turns every question without a judgment into a strong loss in both
games (what upstream's `$ERROR$` answers usually became once judged).

A question "without a judgment" is one with no record for the model in a judge's files: a failed
answer leaves no answer record, so gen_judgment skips it. Pure functions over judgment records (v0.1
counts the questions that gave a battle in v01/board.py, v2.0 in v2/run.py); reads and writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.verdict_labels import label_code

# A strong loss in both games: game 1 has the baseline as assistant A, game 2 as assistant B.
LOSS_GAME1, LOSS_GAME2 = label_code("A>>B"), label_code("B>>A")


@dataclass(frozen=True)
class Coverage:
    model: str
    total: int  # the bench's questions (in a category, its questions)
    scored: int  # of those, the questions that gave the model at least one battle
    no_judgment: int | None  # no record for the model (None: unknown, battles were loaded)
    no_verdict: int | None  # a record, but no verdict in its counted games
    as_loss: int = 0  # questions without a judgment counted as strong losses (--missing-as-loss)

    def describe(self) -> str | None:
        """The stderr note, or None when the score rests on every question."""
        if self.as_loss:
            return (f"{self.model}: {self.as_loss} of {self.total} questions have no judgment; counted as strong "
                    "losses in both games (--missing-as-loss)")
        if self.scored >= self.total:
            return None
        reasons = []
        if self.no_judgment:
            reasons.append(f"{self.no_judgment} have no judgment (see gen_answer/gen_judgment output)")
        if self.no_verdict:
            reasons.append(f"{self.no_verdict} have a judgment without a verdict")
        if not reasons:
            reasons.append(f"{self.total - self.scored} gave no battle")
        return f"{self.model}: scored on {self.scored} of {self.total} questions; {', '.join(reasons)}"

    def columns(self) -> dict[str, int | None]:
        return {"questions_scored": self.scored, "questions_total": self.total,
                "questions_no_judgment": self.no_judgment, "questions_no_verdict": self.no_verdict,
                "questions_as_loss": self.as_loss}


def missing_as_loss(records: Records, universe: Sequence[str],
                    baseline: str | None) -> tuple[Records, dict[str, list[str]]]:
    """One judge's records plus a strong loss in both games against `baseline` (None: the default the
    records without a baseline get) for each question of `universe` a judged model has no record for,
    appended model by model in question order. Returns the records and the questions added per model."""
    recorded: dict[str, set[str]] = {}
    for question, model in zip(records.question_ids, records.models):
        recorded.setdefault(model, set()).add(question)
    added = {model: [q for q in universe if q not in seen] for model, seen in sorted(recorded.items())}
    pairs = [(model, q) for model, questions in added.items() for q in questions]
    if not pairs:
        return records, {}
    count = len(pairs)
    filled = Records(records.question_ids + [q for _, q in pairs], records.models + [m for m, _ in pairs],
                     records.baselines + [baseline] * count, records.categories + [None] * count,
                     np.concatenate([records.game1, np.full(count, LOSS_GAME1, dtype=records.game1.dtype)]),
                     np.concatenate([records.game2, np.full(count, LOSS_GAME2, dtype=records.game2.dtype)]))
    return filled, {model: questions for model, questions in added.items() if questions}
