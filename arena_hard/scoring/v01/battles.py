"""Judgment records -> battles, as upstream: game 1 has the baseline as assistant A, game 2 swaps;
a strong verdict (`>>`) becomes `weight` identical battles, a plain one or a tie one battle, and a
game with no verdict none. Battles keep upstream's row order (record by record, game 1 then game 2),
which the bootstrap's random stream depends on. They are held run-length encoded: a row stands for
`copies` identical consecutive battles of upstream's list (scoring/weighted_rows.py), so a weight
costs no memory; `len()` is upstream's count.

Reads nothing itself; writes/reads `data/arena_hard_battles.jsonl` (one battle per line, as upstream:
question_id, model_a, model_b, winner, plus conv_metadata under style control) for --load-battles."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from arena_hard.core.errors import UserError
from arena_hard.core.atomic_write import atomic_write_bytes
from arena_hard.core.jsonl import iter_jsonl
from arena_hard.scoring import verdict_labels
from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.verdict_labels import NO_VERDICT

A_WINS, B_WINS, TIE = 0, 1, 2
WINNERS = ("model_a", "model_b", "tie")
_WINNER_CODE = {"model_a": A_WINS, "model_b": B_WINS, "tie": TIE, "tie (bothbad)": TIE}
# Battle outcome by game and label code: model_a is the baseline, model_b the judged model (a game
# without a verdict becomes no battle, so its entry is never used).
_AS_BATTLE = {verdict_labels.BASELINE_WINS: A_WINS, verdict_labels.MODEL_WINS: B_WINS, verdict_labels.TIE: TIE,
              verdict_labels.NO_WINNER: TIE}
_OUTCOME = np.array([[_AS_BATTLE[w] for w in game] for game in verdict_labels.GAME_WINNER], dtype=np.int8)
_STRONG = np.array(verdict_labels.STRONG)


@dataclass
class Battles:
    """Battles as index arrays: row i is question_ids[question[i]], models[model_a[i]] vs
    models[model_b[i]], standing for copies[i] identical battles (1 each when not given)."""

    models: list[str]
    question_ids: list[str]
    question: np.ndarray
    model_a: np.ndarray
    model_b: np.ndarray
    outcome: np.ndarray  # A_WINS, B_WINS, TIE
    copies: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.copies is None:
            self.copies = np.ones(len(self.outcome), dtype=np.int64)

    def __len__(self) -> int:
        """Upstream's number of battles (after the --weight expansion)."""
        return int(self.copies.sum())

    def select(self, keep: np.ndarray) -> "Battles":
        return Battles(self.models, self.question_ids, self.question[keep], self.model_a[keep],
                       self.model_b[keep], self.outcome[keep], self.copies[keep])

    def present_models(self) -> list[int]:
        """Indices of the models that play at least one battle."""
        counts = np.bincount(self.model_a, minlength=len(self.models)) + \
            np.bincount(self.model_b, minlength=len(self.models))
        return np.flatnonzero(counts).tolist()


def _index(names: Sequence[str]) -> tuple[list[str], np.ndarray]:
    unique = sorted(set(names))
    position = {name: i for i, name in enumerate(unique)}
    return unique, np.array([position[name] for name in names], dtype=np.int32)


def records_to_battles(records: Records, default_baseline: str, weight: int, first_game_only: bool) -> Battles:
    """Expand records into battles in upstream's order. model_a is the baseline the record names, else
    `default_baseline`."""
    model_a_names = [b if b is not None else default_baseline for b in records.baselines]
    models, ab = _index(model_a_names + records.models)
    question_ids, question = _index(records.question_ids)
    count = len(records)
    labels = np.empty(2 * count, dtype=np.int8)
    labels[0::2], labels[1::2] = records.game1, records.game2
    game = np.tile(np.array([0, 1], dtype=np.int8), count)
    copies = np.where(labels >= NO_VERDICT, 0, np.where(_STRONG[labels], weight, 1)).astype(np.int64)
    if first_game_only:
        copies[1::2] = 0
    played = np.flatnonzero(copies)
    record = played // 2
    columns = (question[record], ab[:count][record], ab[count:][record], _OUTCOME[game, labels][played])
    repeats = np.ones(len(played), dtype=bool)  # identical neighbours merge into one row of their summed copies
    for column in columns:
        repeats[1:] &= column[1:] == column[:-1]
    repeats[:1] = False
    starts = np.flatnonzero(~repeats)
    merged = np.add.reduceat(copies[played], starts) if len(starts) else np.zeros(0, dtype=np.int64)
    return Battles(models, question_ids, *(column[starts] for column in columns), merged)


def battle_lines(battles: Battles, metadata: list[str] | None = None) -> Iterator[bytes]:
    """The battles as upstream's JSONL lines, one per battle after the expansion (a row's line `copies`
    times); `metadata[i]`, when given, is row i's conv_metadata already encoded as JSON."""
    questions = [json.dumps(q) for q in battles.question_ids]
    models = [json.dumps(m) for m in battles.models]
    for i, (q, a, b, o, n) in enumerate(zip(battles.question.tolist(), battles.model_a.tolist(),
                                            battles.model_b.tolist(), battles.outcome.tolist(),
                                            battles.copies.tolist())):
        extra = f',"conv_metadata":{metadata[i]}' if metadata is not None else ""
        line = f'{{"question_id":{questions[q]},"model_a":{models[a]},"model_b":{models[b]},"winner":"{WINNERS[o]}"'
        encoded = f"{line}{extra}}}\n".encode("utf-8")
        for _ in range(n):
            yield encoded


def write_battles(path: Path, battles: Battles, metadata: list[str] | None = None) -> None:
    atomic_write_bytes(path, battle_lines(battles, metadata))


def read_battles(path: Path) -> tuple[Battles, list[dict | None]]:
    """Battles saved by a previous run (or by upstream), in file order, with each row's conv_metadata
    (None where absent); identical neighbouring lines become one row of several copies."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no saved battles; run show_result.py once without --load-battles to write them")
    question_ids, model_a, model_b, outcome, metadata, copies = [], [], [], [], [], []
    previous = None
    for lineno, row in iter_jsonl(path):
        names = [row.get(key) for key in ("question_id", "model_a", "model_b")]
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in names):
            raise UserError(f"{path}:{lineno}: a battle needs question_id, model_a and model_b; "
                            "fix or delete that line")
        if row.get("winner") not in _WINNER_CODE:
            raise UserError(f"{path}:{lineno}: winner must be model_a, model_b or tie, found {row.get('winner')!r}")
        battle = (str(names[0]), str(names[1]), str(names[2]), _WINNER_CODE[row["winner"]],
                  row["conv_metadata"] if isinstance(row.get("conv_metadata"), dict) else None)
        if battle == previous:
            copies[-1] += 1
            continue
        previous = battle
        for column, value in zip((question_ids, model_a, model_b, outcome, metadata), battle):
            column.append(value)
        copies.append(1)
    if not outcome:
        raise UserError(f"{path}: holds no battles; run show_result.py without --load-battles to rewrite it")
    models, ab = _index(model_a + model_b)
    unique_questions, question = _index(question_ids)
    count = len(outcome)
    return Battles(models, unique_questions, question, ab[:count], ab[count:], np.array(outcome, dtype=np.int8),
                   np.array(copies, dtype=np.int64)), metadata
