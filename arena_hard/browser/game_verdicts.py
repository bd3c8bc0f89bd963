"""Who won each game of a judgment record, for the browser: the judged model is assistant B in game 1
(the baseline is A) and assistant A in game 2, so game 2's labels are read with the sides exchanged
(verdict_labels.GAME_WINNER); a strong (`>>`) verdict counts as show_result's default weight.
Pure functions over records.Judgment; reads and writes nothing."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable

from arena_hard.core.judgments import Game, Judgment
from arena_hard.scoring import verdict_labels
from arena_hard.scoring.verdict_labels import DEFAULT_WEIGHT, GAME_WINNER, STRONG, label_code

GAME_COUNT = 2


class Winner(enum.Enum):
    MODEL = verdict_labels.MODEL_WINS
    BASELINE = verdict_labels.BASELINE_WINS
    TIE = verdict_labels.TIE
    NONE = verdict_labels.NO_WINNER


@dataclass(frozen=True)
class Verdict:
    label: str | None  # as recorded
    winner: Winner
    strong: bool

    @property
    def points(self) -> int:
        """The judged model's gain: +3 / +1 for a strong / slight win (show_result's default weight),
        negative for a loss."""
        size = DEFAULT_WEIGHT if self.strong else 1
        return {Winner.MODEL: size, Winner.BASELINE: -size}.get(self.winner, 0)


def game_verdict(label: str | None, game_number: int, code_of: Callable[[Any], int] = label_code) -> Verdict:
    """Who won game 1 or 2 of a judgment record: the judged model is B in game 1 and A in game 2.
    `code_of` reads the label (v0.1's five by default; verdict_labels.v2_verdict_code on a v2.0 bench)."""
    code = code_of(label)
    return Verdict(label, Winner(GAME_WINNER[game_number - 1][code]), STRONG[code])


def record_games(judgment: Judgment) -> tuple[Game | None, ...]:
    """The record's first two games, None standing for a missing one."""
    return judgment.games[:GAME_COUNT] + (None,) * (GAME_COUNT - len(judgment.games))


def record_verdicts(judgment: Judgment, code_of: Callable[[Any], int] = label_code) -> tuple[Verdict, ...]:
    """The verdicts of the record's two games (a missing game has no verdict)."""
    return tuple(game_verdict(game.score if game else None, number, code_of)
                 for number, game in enumerate(record_games(judgment), 1))


def model_preferred(verdicts: tuple[Verdict, ...]) -> bool:
    """The games together favour the judged model (strong verdicts weighted as in the score)."""
    return sum(verdict.points for verdict in verdicts) > 0


def games_disagree(verdicts: tuple[Verdict, ...]) -> bool:
    """Two games with a verdict name different winners (a tie counts as an outcome of its own)."""
    winners = {verdict.winner for verdict in verdicts if verdict.winner is not Winner.NONE}
    return len(winners) > 1
