"""The judge's verdict labels, read from judgment files: per record the question, the model, the baseline
the record names (current format) and the label of each of its two games, and nothing else.

Reads `data/<bench>/model_judgment/<judge>/<model>.jsonl` in either record format (v0.1:
`question_id`, `model`, `games[*].score`; current: `uid`, `model`, `baseline`, `category`,
`games[*].score`). The judge's text is parsed and dropped line by line, so memory stays small
however long the judgments are. Writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import scan_jsonl

# Verdict labels as small codes; a game with no verdict (null or any other label) is NO_VERDICT.
LABELS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")
NO_VERDICT = len(LABELS)
_CODE = {label: code for code, label in enumerate(LABELS)}
# The one table of who won a game, seen from the judged model: GAME_WINNER[game][code], game 0 having the
# baseline as assistant A and the model as B, game 1 the sides swapped. STRONG[code]: a `>>` verdict.
BASELINE_WINS, TIE, MODEL_WINS, NO_WINNER = 0, 1, 2, -1
GAME_WINNER = ((BASELINE_WINS, BASELINE_WINS, TIE, MODEL_WINS, MODEL_WINS, NO_WINNER),
               (MODEL_WINS, MODEL_WINS, TIE, BASELINE_WINS, BASELINE_WINS, NO_WINNER))
STRONG = (True, False, False, False, True, False)
DEFAULT_WEIGHT = 3  # battles a strong verdict counts as (show_result.py --weight)


@dataclass
class VerdictTable:
    """One judgment file's records in file order, column by column."""

    path: str
    question_ids: list[str]
    models: list[str]
    baselines: list[str | None]  # the baseline a current-format record names, else None
    categories: list[str | None]  # the category a current-format record names, else None
    game1: list[int]  # label codes
    game2: list[int]
    lines: list[int]

    def __len__(self) -> int:
        return len(self.question_ids)

    def to_payload(self) -> dict[str, Any]:
        return {"question_ids": self.question_ids, "models": self.models, "baselines": self.baselines,
                "categories": self.categories, "game1": self.game1, "game2": self.game2, "lines": self.lines}

    @classmethod
    def from_payload(cls, path: str, payload: dict[str, Any]) -> "VerdictTable":
        return cls(path=path, **payload)


def label_code(score: Any) -> int:
    return _CODE.get(score, NO_VERDICT) if isinstance(score, str) else NO_VERDICT


def _game_code(games: list[Any], index: int) -> int:
    if index >= len(games) or not isinstance(games[index], dict):
        return NO_VERDICT
    return label_code(games[index].get("score"))


def read_verdicts(path: Path) -> VerdictTable:
    """All records of one judgment file; a record that cannot be a judgment names its file:line."""
    path = Path(path)
    default_model = path.name.removesuffix(".jsonl")
    table = VerdictTable(str(path), [], [], [], [], [], [], [])
    for lineno, record in scan_jsonl(path):
        question_id = record.get("question_id", record.get("uid"))
        if isinstance(question_id, bool) or not isinstance(question_id, (str, int)):
            raise UserError(f"{path}:{lineno}: no question_id (v0.1 format) or uid (current format); "
                            "fix or delete that line")
        games = record.get("games")
        if not isinstance(games, list):
            raise UserError(f"{path}:{lineno}: `games` must be the list of the judge's two games; "
                            "fix or delete that line")
        model = record.get("model")
        baseline = record.get("baseline")
        category = record.get("category")
        table.question_ids.append(str(question_id))
        table.models.append(model if isinstance(model, str) and model else default_model)
        table.baselines.append(baseline if isinstance(baseline, str) and baseline else None)
        table.categories.append(category if isinstance(category, str) and category else None)
        table.game1.append(_game_code(games, 0))
        table.game2.append(_game_code(games, 1))
        table.lines.append(lineno)
    return table
