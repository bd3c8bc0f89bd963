"""Judgment records -> battles, as upstream: game 1 has the baseline as assistant A, game 2 swaps;
a strong verdict (`>>`) becomes `weight` identical battles, a plain one or a tie one battle, and a
game with no verdict none. Battles keep upstream's row order (record by record, game 1 then game 2),
which the bootstrap's random stream depends on.

Reads nothing itself; writes/reads `data/arena_hard_battles.jsonl` (one battle per line:
question_id, model_a, model_b, winner, plus conv_metadata under style control) for
--load-battles."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import atomic_write_bytes, iter_jsonl
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
    """Battles as index arrays: question_ids[question[i]], models[model_a[i]] vs models[model_b[i]]."""

    models: list[str]
    question_ids: list[str]
    question: np.ndarray
    model_a: np.ndarray
    model_b: np.ndarray
    outcome: np.ndarray  # A_WINS, B_WINS, TIE

    def __len__(self) -> int:
        return len(self.outcome)

    def select(self, keep: np.ndarray) -> "Battles":
        return Battles(self.models, self.question_ids, self.question[keep], self.model_a[keep],
                       self.model_b[keep], self.outcome[keep])

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
    copies = np.where(labels >= NO_VERDICT, 0, np.where(_STRONG[labels], weight, 1))
    if first_game_only:
        copies[1::2] = 0
    record = np.repeat(np.arange(2 * count) // 2, copies)
    return Battles(models, question_ids, question[record], ab[:count][record], ab[count:][record],
                   np.repeat(_OUTCOME[game, labels], copies))


def battle_lines(battles: Battles, metadata: list[str] | None = None) -> list[bytes]:
    """The battles as JSONL lines (upstream's keys); `metadata[i]`, when given, is battle i's
    conv_metadata already encoded as JSON."""
    questions = [json.dumps(q) for q in battles.question_ids]
    models = [json.dumps(m) for m in battles.models]
    lines = [f'{{"question_id":{questions[q]},"model_a":{models[a]},"model_b":{models[b]},"winner":"{WINNERS[o]}"'
             for q, a, b, o in zip(battles.question.tolist(), battles.model_a.tolist(),
                                   battles.model_b.tolist(), battles.outcome.tolist())]
    if metadata is not None:
        lines = [f'{line},"conv_metadata":{extra}' for line, extra in zip(lines, metadata)]
    return [(line + "}\n").encode("utf-8") for line in lines]


def write_battles(path: Path, battles: Battles, metadata: list[str] | None = None) -> None:
    atomic_write_bytes(path, [b"".join(battle_lines(battles, metadata))])


def read_battles(path: Path) -> tuple[Battles, list[dict | None]]:
    """Battles saved by a previous run (or by upstream), in file order, with each row's conv_metadata
    (None where absent)."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no saved battles; run show_result.py once without --load-battles to write them")
    question_ids, model_a, model_b, outcome, metadata = [], [], [], [], []
    for lineno, row in iter_jsonl(path):
        names = [row.get(key) for key in ("question_id", "model_a", "model_b")]
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in names):
            raise UserError(f"{path}:{lineno}: a battle needs question_id, model_a and model_b; "
                            "fix or delete that line")
        if row.get("winner") not in _WINNER_CODE:
            raise UserError(f"{path}:{lineno}: winner must be model_a, model_b or tie, found {row.get('winner')!r}")
        question_ids.append(str(names[0]))
        model_a.append(str(names[1]))
        model_b.append(str(names[2]))
        outcome.append(_WINNER_CODE[row["winner"]])
        metadata.append(row["conv_metadata"] if isinstance(row.get("conv_metadata"), dict) else None)
    if not outcome:
        raise UserError(f"{path}: holds no battles; run show_result.py without --load-battles to rewrite it")
    models, ab = _index(model_a + model_b)
    unique_questions, question = _index(question_ids)
    count = len(outcome)
    return Battles(models, unique_questions, question, ab[:count], ab[count:],
                   np.array(outcome, dtype=np.int8)), metadata
