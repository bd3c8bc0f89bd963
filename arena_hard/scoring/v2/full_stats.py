"""`show_result.py --full-stats` on a v2.0 bench: per category and model, the questions scored, each game's
wins/ties/losses for the model (strong ones in brackets), agreement across the swap, the score and its
90% interval, and the average tokens of its answers. Reads the answer files' token counts through
score_inputs.AnswerFiles; writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from arena_hard.core.errors import UserError
from arena_hard.scoring.judge_consistency import judge_consistency
from arena_hard.scoring.judgment_records import Records


@dataclass
class CategoryStats:
    category: str
    baseline: str
    records: Records  # the records scored (with --missing-as-loss, the added losses too)
    scored: dict[str, int]  # questions judged per model
    questions: int


def average_tokens(answers: Any, boards: Sequence[Any]) -> dict[str, int | None]:
    """Average token_len of each shown model's answer file; None where it has none."""
    tokens: dict[str, int | None] = {}
    answers.read("answer-tokens", [row.model for board in boards for row in board.rows])
    for board in boards:
        for row in board.rows:
            if row.model not in tokens:
                try:
                    tokens[row.model] = answers.average_tokens(row.model, "the model")
                except UserError:
                    tokens[row.model] = None
    return tokens


def _side_counts(counts: Sequence[int], game: int) -> str:
    """Wins/ties/losses of the model in one game (strong verdicts in brackets)."""
    strong_win, win, tie, loss, strong_loss = (counts[4], counts[3], counts[2], counts[1], counts[0]) if game == 1 \
        else (counts[0], counts[1], counts[2], counts[3], counts[4])
    return f"{win + strong_win}/{tie}/{loss + strong_loss} ({strong_win}/{strong_loss})"


def full_stats_lines(stats: CategoryStats, board: Any, tokens: dict[str, int | None]) -> list[str]:
    """Per model: questions scored, each game's wins/ties/losses for the model (strong ones), agreement
    across the swap, the score and its 90% interval, average tokens."""
    shown = {row.model: row for row in board.rows}
    header = (f"{'model':<30} | {'questions':>9} | {'game 1: W/T/L (strong W/L)':>26} | "
              f"{'game 2: W/T/L (strong W/L)':>26} | {'agree':>6} | {'score':>5} | {'90% CI':>14} | tokens")
    lines = [f"Full stats: {stats.category} (against {stats.baseline}; game 1 has the baseline as A)", header]
    for entry in judge_consistency(stats.records):
        row = shown.get(entry.model)
        agree = f"{100 * entry.agree / entry.both_judged:.1f}%" if entry.both_judged else "n/a"
        lines.append(f"{entry.model:<30} | {stats.scored.get(entry.model, 0):>4}/{stats.questions:<4} | "
                     f"{_side_counts(entry.game_label_counts[0], 1):>26} | "
                     f"{_side_counts(entry.game_label_counts[1], 2):>26} | {agree:>6} | "
                     f"{row.score if row else float('nan'):>5} | {row.interval if row else '':>14} | "
                     f"{tokens.get(entry.model)}")
    return lines
