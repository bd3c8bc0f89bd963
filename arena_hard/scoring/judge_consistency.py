"""Judge consistency per model, to make position bias visible: how often the two games of a record
(baseline first, then swapped) pick the same winner, and how often the judge gave each label in each
game. Pure functions over judgment_records.Records; reads and writes nothing. show_result.py prints one line
per model (`describe`), gen_judgment.py the per-game counts after a run (`describe_games`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.verdict_labels import GAME_WINNER, LABELS, NOT_PLAYED, NO_VERDICT

_GAME1_WINNER, _GAME2_WINNER = (np.array(game) for game in GAME_WINNER)


@dataclass(frozen=True)
class Consistency:
    model: str
    both_judged: int  # records whose two games both have a verdict
    agree: int  # of those, the games picking the same winner
    game_label_counts: tuple[tuple[int, ...], tuple[int, ...]]  # per game: per LABELS, no verdict, not played

    @property
    def label_counts(self) -> tuple[int, ...]:
        """Over both games' played games: per LABELS, then no verdict."""
        return tuple(a + b for a, b in zip(*self.game_label_counts))[:NOT_PLAYED]

    def _agreement(self) -> str:
        return f"{100 * self.agree / self.both_judged:5.1f}%" if self.both_judged else "  n/a"

    def describe(self) -> str:
        games = sum(self.label_counts)
        shares = " ".join(f"{label} {100 * n / games:.1f}%" for label, n in zip(LABELS, self.label_counts))
        return (f"{self.model : <30} | games agree: {self._agreement()} of {self.both_judged} | {shares} "
                f"| no verdict {self.label_counts[NO_VERDICT]}")

    def describe_games(self) -> str:
        games = []
        for number, counts in enumerate(self.game_label_counts, 1):
            if not any(counts[:NOT_PLAYED]):
                games.append(f"game {number}: not played")
                continue
            labels = ", ".join(f"{label} {n}" for label, n in zip(LABELS, counts))
            games.append(f"game {number}: {labels}, no verdict {counts[NO_VERDICT]}")
        return f"{'; '.join(games)}; the games agree after the swap on {self._agreement().strip()} of " \
               f"{self.both_judged} questions"


def judge_consistency(records: Records) -> list[Consistency]:
    """One entry per judged model, by model name."""
    models = np.array(records.models)
    result = []
    for model in sorted(set(records.models)):
        mine = models == model
        game1, game2 = records.game1[mine], records.game2[mine]
        judged = (game1 < NO_VERDICT) & (game2 < NO_VERDICT)
        agree = int(np.sum(_GAME1_WINNER[game1[judged]] == _GAME2_WINNER[game2[judged]]))
        per_game = tuple(tuple(int(c) for c in np.bincount(game, minlength=NOT_PLAYED + 1)) for game in (game1, game2))
        result.append(Consistency(model, int(judged.sum()), agree, per_game))
    return result
