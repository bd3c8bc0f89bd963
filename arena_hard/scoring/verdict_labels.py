"""The judge's verdict labels as small codes, who won a game given its label, and the lean reader of
judgment files for scoring: per record the question, the model, the baseline and category the record
names (current format) and the label of each of its two games, and nothing else. Each record is read
by records.judgment_fields and records.game_score, the same interpretation as records.load_judgments.

Reads `data/<bench>/model_judgment/<judge>/<model>.jsonl` in either record format (v0.1:
`question_id`, `model`, `games[*].score`; current: `uid`, `model`, `baseline`, `category`,
`games[*].score`). The judge's text is parsed and dropped line by line, so memory stays small
however long the judgments are. Writes nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from arena_hard.core.jsonl import scan_jsonl
from arena_hard.core.judgments import game_score, judgment_fields
from arena_hard.core.records import model_of_file, record_format

# Verdict labels as small codes; a game with no verdict (null or any other label) is NO_VERDICT, a game
# the record does not hold (a `pairwise: False` record has one) NOT_PLAYED. Codes >= NO_VERDICT: no winner.
LABELS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")
NO_VERDICT = len(LABELS)
NOT_PLAYED = NO_VERDICT + 1
_CODE = {label: code for code, label in enumerate(LABELS)}
# The one table of who won a game, seen from the judged model: GAME_WINNER[game][code], game 0 having the
# baseline as assistant A and the model as B, game 1 the sides swapped. STRONG[code]: a `>>` verdict.
BASELINE_WINS, TIE, MODEL_WINS, NO_WINNER = 0, 1, 2, -1
GAME_WINNER = ((BASELINE_WINS, BASELINE_WINS, TIE, MODEL_WINS, MODEL_WINS, NO_WINNER, NO_WINNER),
               (MODEL_WINS, MODEL_WINS, TIE, BASELINE_WINS, BASELINE_WINS, NO_WINNER, NO_WINNER))
STRONG = (True, False, False, False, True, False, False)
DEFAULT_WEIGHT = 3  # battles a strong verdict counts as (show_result.py --weight)
MAX_WEIGHT = 1000

# Upstream v2.0 accepts ten labels, each a synonym of one of the five above, so a v2 game is read into the
# same codes; a label outside its table is UNKNOWN (upstream stops with a KeyError on it).
UNKNOWN = NOT_PLAYED + 1  # a label v2.0 does not know
_SYNONYMS = {"B<<A": "A>>B", "B<A": "A>B", "B=A": "A=B", "A<B": "B>A", "A<<B": "B>>A"}
V2_CODES = {**{label: code for code, label in enumerate(LABELS)},
            **{label: LABELS.index(same) for label, same in _SYNONYMS.items()}}


def v2_code(score: Any) -> int:
    """The code of a game's score: a label, NO_VERDICT for null (or no score), UNKNOWN for anything else."""
    if score is None:
        return NO_VERDICT
    return V2_CODES.get(score, UNKNOWN) if isinstance(score, str) else UNKNOWN


def v2_verdict_code(score: Any) -> int:
    """v2_code with UNKNOWN folded into NO_VERDICT, for code that indexes verdict_labels' tables."""
    code = v2_code(score)
    return NO_VERDICT if code == UNKNOWN else code


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
    one_game: int = 0  # records holding a single game
    extra_games: int = 0  # records holding more than two
    formats: dict[str, int] = field(default_factory=lambda: {"v0.1": 0, "v2.0": 0})  # records per record format

    def __len__(self) -> int:
        return len(self.question_ids)

    def to_payload(self) -> dict[str, Any]:
        return {"question_ids": self.question_ids, "models": self.models, "baselines": self.baselines,
                "categories": self.categories, "game1": self.game1, "game2": self.game2, "lines": self.lines,
                "one_game": self.one_game, "extra_games": self.extra_games, "formats": self.formats}

    @classmethod
    def from_payload(cls, path: str, payload: dict[str, Any]) -> "VerdictTable":
        return cls(path=path, **payload)


def label_code(score: Any) -> int:
    return _CODE.get(score, NO_VERDICT) if isinstance(score, str) else NO_VERDICT


def read_verdicts(path: Path, code_of: Callable[[Any], int] = label_code) -> VerdictTable:
    """All records of one judgment file; a record that cannot be a judgment names its file:line.
    `code_of` turns a game's score into a code (v0.1's five labels by default; v2_code reads v2.0's)."""
    path = Path(path)
    default_model = model_of_file(path)
    table = VerdictTable(str(path), [], [], [], [], [], [], [])
    for lineno, record in scan_jsonl(path):
        question_id, model, baseline, category, games = judgment_fields(record, default_model, f"{path}:{lineno}")
        table.question_ids.append(question_id)
        table.models.append(model)
        table.baselines.append(baseline)
        table.categories.append(category)
        played = len(games)  # a record with no game at all has no verdict; one game: the second was not played
        table.game1.append(code_of(game_score(games[0])) if played else NO_VERDICT)
        table.game2.append(code_of(game_score(games[1])) if played > 1 else NOT_PLAYED if played else NO_VERDICT)
        table.lines.append(lineno)
        table.one_game += played == 1
        table.extra_games += played > 2
        table.formats[record_format(record)] += 1
    return table
