"""Judgment records -> battles, pinned by hand-computed examples: the label mapping of both games,
strong-verdict weights, ties, games without a verdict, --first-game-only, upstream's row order,
duplicates (the last record wins) and the battles file round trip."""
from __future__ import annotations

import numpy as np

from arena_hard.scoring.judgment_records import combine_judges
from arena_hard.scoring.v01.battles import WINNERS, read_battles, records_to_battles, write_battles
from arena_hard.scoring.judge_consistency import judge_consistency
from arena_hard.scoring.verdict_labels import LABELS, NO_VERDICT, read_verdicts
from show_result_fixtures import write_judgments


def battles_of(tmp_path, rows, weight=3, first_game_only=False, model="m"):
    path = write_judgments(tmp_path, model, rows)
    records, notes = combine_judges([[read_verdicts(path)]])
    battles = records_to_battles(records, "base", weight, first_game_only)
    return [(battles.question_ids[q], battles.models[a], battles.models[b], WINNERS[o])
            for q, a, b, o, n in zip(battles.question, battles.model_a, battles.model_b, battles.outcome,
                                     battles.copies) for _ in range(n)], notes  # upstream's list: rows x copies


def test_game_one_puts_the_baseline_first_and_game_two_swaps(tmp_path):
    rows = [("q1", "A>B", "A>B"), ("q2", "B>A", "B>A"), ("q3", "A=B", "A=B")]
    battles, _ = battles_of(tmp_path, rows)
    assert battles == [
        ("q1", "base", "m", "model_a"), ("q1", "base", "m", "model_b"),  # game 2's A is the model
        ("q2", "base", "m", "model_b"), ("q2", "base", "m", "model_a"),
        ("q3", "base", "m", "tie"), ("q3", "base", "m", "tie"),
    ]


def test_strong_verdicts_count_weight_times_in_both_games(tmp_path):
    battles, _ = battles_of(tmp_path, [("q1", "A>>B", "A>>B"), ("q2", "B>>A", "B>>A")], weight=2)
    assert [w for _, _, _, w in battles] == ["model_a"] * 2 + ["model_b"] * 2 + ["model_b"] * 2 + ["model_a"] * 2
    battles, _ = battles_of(tmp_path, [("q1", "A>>B", "A=B")], weight=5)
    assert [w for _, _, _, w in battles] == ["model_a"] * 5 + ["tie"]


def test_a_game_without_verdict_is_dropped_but_its_partner_counts(tmp_path):
    battles, _ = battles_of(tmp_path, [("q1", None, "B>A"), ("q2", "A>B", "B<A"), ("q3", "garbage", None)])
    assert battles == [("q1", "base", "m", "model_a"), ("q2", "base", "m", "model_a")]


def test_first_game_only_keeps_game_one(tmp_path):
    battles, _ = battles_of(tmp_path, [("q1", "B>>A", "A>B"), ("q2", "A=B", "B>A")], first_game_only=True)
    assert [w for _, _, _, w in battles] == ["model_b"] * 3 + ["tie"]


def test_hand_computed_win_rate_through_the_script_path(tmp_path):
    # game 1: B>A (model), A>>B (base x3); game 2: A>B (model), A=B (tie) -> model 2 + 0.5, of 6 battles
    from arena_hard.scoring.v01.fit import fit_ratings
    from arena_hard.scoring.v01.table import win_rate_percent
    path = write_judgments(tmp_path, "m", [("q1", "B>A", "A>B"), ("q2", "A>>B", "A=B")])
    records, _ = combine_judges([[read_verdicts(path)]])
    battles = records_to_battles(records, "base", 3, False)
    assert len(battles) == 6
    fitted = fit_ratings(battles, battles.models.index("base"))
    assert win_rate_percent(fitted[battles.models.index("m")], 1000.0) == round(2.5 / 6 * 100, 2)


def test_duplicates_keep_the_last_record_at_its_position_and_say_so(tmp_path):
    battles, notes = battles_of(tmp_path, [("q1", "A>B", None), ("q2", "B>A", None), ("q1", "B>>A", None)], weight=1)
    assert battles == [("q2", "base", "m", "model_b"), ("q1", "base", "m", "model_b")]
    assert len(notes) == 1 and "1 judgment record(s) repeat" in notes[0] and "m.jsonl:3 repeats" in notes[0]


def test_records_naming_a_baseline_use_it_as_model_a(tmp_path):
    from show_result_fixtures import write_lines
    path = write_lines(tmp_path / "m.jsonl", [
        {"uid": "q1", "model": "m", "baseline": "other", "category": "hard_prompt",
         "games": [{"score": "A>B", "judgment": {"answer": "x"}}, {"score": "A>B"}]},
        {"question_id": "q2", "model": "m", "games": [{"score": "B>A"}, {"score": None}]}])
    table = read_verdicts(path)
    assert table.question_ids == ["q1", "q2"] and table.baselines == ["other", None]
    assert table.categories == ["hard_prompt", None]
    assert table.game1 == [LABELS.index("A>B"), LABELS.index("B>A")] and table.game2 == [1, NO_VERDICT]
    records, _ = combine_judges([[table]])
    battles = records_to_battles(records, "base", 3, False)
    assert [battles.models[a] for a in battles.model_a] == ["other", "other", "base"]


def test_battles_file_round_trip(tmp_path):
    path = write_judgments(tmp_path, "m", [("q1", "A>>B", "B>A"), ("q2", "A=B", None)])
    records, _ = combine_judges([[read_verdicts(path)]])
    battles = records_to_battles(records, "base", 3, False)
    out = tmp_path / "battles.jsonl"
    write_battles(out, battles)
    first = out.read_text().splitlines()[0]
    assert first == '{"question_id":"q1","model_a":"base","model_b":"m","winner":"model_a"}'
    loaded, metadata = read_battles(out)
    assert metadata == [None] * len(battles.outcome)  # one per row (a row stands for its copies)
    for name in ("question", "model_a", "model_b", "outcome"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(battles, name))


def test_judge_consistency_counts_agreement_after_the_swap(tmp_path):
    # q1 agrees (model wins both), q2 agrees (tie both), q3 disagrees (position bias: A wins both), q4 half-judged
    path = write_judgments(tmp_path, "m", [("q1", "B>A", "A>>B"), ("q2", "A=B", "A=B"),
                                           ("q3", "A>B", "A>B"), ("q4", "A>B", None)])
    records, _ = combine_judges([[read_verdicts(path)]])
    [entry] = judge_consistency(records)
    assert (entry.both_judged, entry.agree) == (3, 2)
    assert entry.label_counts == (1, 3, 2, 1, 0, 1)
    assert "games agree:  66.7% of 3" in entry.describe() and "A>B 37.5%" in entry.describe()
