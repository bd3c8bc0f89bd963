"""`show_result.py --full-stats`: per model, the battles counted, the judge's verdicts per game seen from
the model (wins, ties, losses, strong wins and losses, games without a verdict), the questions its
score rests on, how often the two games agree after the swap, the rating and its CI on the Elo scale,
the win rate and its CI, and the average #tokens; as a table for stdout and as flat columns for the
--output CSV and JSON. Pure functions; reads and writes nothing."""
from __future__ import annotations

from typing import Any, Sequence

from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.v01.battles import A_WINS, B_WINS, TIE, Battles
from arena_hard.scoring.judge_consistency import Consistency, judge_consistency
from arena_hard.scoring.coverage import Coverage
from arena_hard.scoring.verdict_labels import BASELINE_WINS, GAME_WINNER, LABELS, MODEL_WINS, NO_VERDICT, STRONG
from arena_hard.scoring.verdict_labels import TIE as GAME_TIE
from arena_hard.scoring.v01.table import Row, win_rate_percent

GAME_FIELDS = ("wins", "ties", "losses", "strong_wins", "strong_losses", "no_verdict")


def game_counts(label_counts: Sequence[int], game: int) -> dict[str, int]:
    """A game's label counts (per LABELS, then no verdict) as the judged model's wins, ties and losses."""
    counts = dict.fromkeys(GAME_FIELDS, 0)
    for code, n in enumerate(label_counts[:len(LABELS)]):
        winner = GAME_WINNER[game][code]
        key = {MODEL_WINS: "wins", GAME_TIE: "ties", BASELINE_WINS: "losses"}[winner]
        counts[key] += n
        if STRONG[code]:
            counts["strong_wins" if winner == MODEL_WINS else "strong_losses"] += n
    counts["no_verdict"] = int(label_counts[NO_VERDICT])
    return counts


def battle_counts(battles: Battles) -> dict[str, tuple[int, int, int, int]]:
    """Per model: (battles, won, tied, lost), after the --weight expansion, seen from that model."""
    result = {}
    copies = battles.copies
    for m in battles.present_models():
        as_a, as_b = battles.model_a == m, battles.model_b == m
        won = int(copies[as_a & (battles.outcome == A_WINS)].sum() + copies[as_b & (battles.outcome == B_WINS)].sum())
        lost = int(copies[as_a & (battles.outcome == B_WINS)].sum() + copies[as_b & (battles.outcome == A_WINS)].sum())
        tied = int(copies[(as_a | as_b) & (battles.outcome == TIE)].sum())
        result[battles.models[m]] = (won + tied + lost, won, tied, lost)
    return result


def stats_columns(rows: Sequence[Row], baseline: str, battles: Battles, records: Records | None,
                  coverage: dict[str, Coverage]) -> dict[str, dict[str, Any]]:
    """Per model, the flat --full-stats fields (None where unknown: per-game counts of loaded battles,
    and of the baseline, which is not judged)."""
    base = next(row for row in rows if row.model == baseline)
    consistency: dict[str, Consistency] = {}
    if records is not None:
        consistency = {entry.model: entry for entry in judge_consistency(records)}
    counts = battle_counts(battles)
    result = {}
    for row in rows:
        fields: dict[str, Any] = dict(zip(("battles", "battles_won", "battles_tied", "battles_lost"),
                                          counts[row.model]))
        entry = consistency.get(row.model) if row.model != baseline else None
        for game in (0, 1):
            per_game = game_counts(entry.game_label_counts[game], game) if entry else dict.fromkeys(GAME_FIELDS)
            fields.update({f"game{game + 1}_{key}": value for key, value in per_game.items()})
        fields["games_both_judged"] = entry.both_judged if entry else None
        fields["games_agree"] = entry.agree if entry else None
        fields.update(coverage[row.model].columns())
        fields.update({"rating": row.rating, "rating_lower": row.rating_lower, "rating_upper": row.rating_upper})
        if row.model == baseline:
            fields.update({"win_rate": 50.0, "win_rate_lower": 50.0, "win_rate_upper": 50.0})
        else:
            fields.update({"win_rate": win_rate_percent(row.rating, base.rating),
                           "win_rate_lower": win_rate_percent(row.rating_lower, base.rating_lower),
                           "win_rate_upper": win_rate_percent(row.rating_upper, base.rating_upper)})
        fields["avg_tokens"] = row.avg_tokens
        result[row.model] = fields
    return result


def _per_game(fields: dict[str, Any], game: int) -> str:
    get = lambda key: fields[f"game{game}_{key}"]  # noqa: E731
    if get("wins") is None:
        return "-"
    return f"{get('wins')}/{get('ties')}/{get('losses')} ({get('strong_wins')}/{get('strong_losses')})"


def _interval(value: float, lower: float, upper: float, decimals: int) -> str:
    return f"{value:.{decimals}f} ({lower - value:+.{decimals}f}, {upper - value:+.{decimals}f})"


def stats_table(rows: Sequence[Row], columns: dict[str, dict[str, Any]]) -> list[str]:
    """The --full-stats table, in leaderboard order, columns padded to their widest cell."""
    header = ("model", "battles W/T/L", "game 1 W/T/L (>>W/>>L)", "game 2 W/T/L (>>W/>>L)", "no verdict",
              "questions", "games agree", "rating (95% CI)", "win rate % (95% CI)", "avg #tokens")
    table = [header]
    for row in rows:
        f = columns[row.model]
        no_verdict = "-" if f["game1_no_verdict"] is None else str(f["game1_no_verdict"] + f["game2_no_verdict"])
        agree = "-" if not f["games_both_judged"] else \
            f"{100 * f['games_agree'] / f['games_both_judged']:.1f}% of {f['games_both_judged']}"
        table.append((row.model, f"{f['battles']} {f['battles_won']}/{f['battles_tied']}/{f['battles_lost']}",
                      _per_game(f, 1), _per_game(f, 2), no_verdict,
                      f"{f['questions_scored']} of {f['questions_total']}", agree,
                      _interval(f["rating"], f["rating_lower"], f["rating_upper"], 0),
                      _interval(f["win_rate"], f["win_rate_lower"], f["win_rate_upper"], 1), str(f["avg_tokens"])))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return [" | ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]
