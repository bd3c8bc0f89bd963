"""show_result.py: what a score rests on (coverage notes and columns), --missing-as-loss, --full-stats,
stdout holding only the leaderboard, saved battles refused for another bench or judge, and nothing
written by a run that fails."""
from __future__ import annotations

import csv
import json

import pytest

from show_result_fixtures import BASELINE, run, run_script, write_answers, write_judgments, write_questions

QUESTIONS = [f"q{i}" for i in range(8)]
ALPHA = [("q0", "B>>A", "A>B"), ("q1", "B>A", "A>>B"), ("q2", "A=B", "A>B"), ("q3", "A>B", "B>A"),
         ("q4", "B>A", "A=B"), ("q5", "B>>A", "A>>B"), ("q6", "A>B", "A>B"), ("q7", "B>A", None)]
# beta: q6 and q7 have no judgment, q5 has one without a verdict in either game
BETA = [("q0", "A>>B", "B>A"), ("q1", "A>B", "B>>A"), ("q2", "A=B", "A=B"), ("q3", "B>A", "B>A"),
        ("q4", "A>B", "A>B"), ("q5", None, "A<B")]


@pytest.fixture
def bench(tmp_path, monkeypatch):
    write_questions(tmp_path, QUESTIONS)
    write_answers(tmp_path, BASELINE, QUESTIONS, 400)
    write_answers(tmp_path, "alpha", QUESTIONS, 512)
    write_answers(tmp_path, "beta", QUESTIONS[:6], 100)
    write_judgments(tmp_path, "alpha", ALPHA)
    write_judgments(tmp_path, "beta", BETA)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def win_rate_text(wins: float, battles: int) -> str:
    """A star's score is its weighted empirical win rate, rounded as upstream prints it."""
    return f"{round(round(100 * wins / battles, 2), 1):^5}"


def line_of(out, model):
    return next(line for line in out if line.startswith(f"{model} "))


def test_a_score_says_how_many_questions_it_rests_on(bench, capsys):
    out, err = run(capsys, "--num-rounds", "20", "--output")
    assert ("note: beta: scored on 5 of 8 questions; 2 have no judgment (see gen_answer/gen_judgment output), "
            "1 have a judgment without a verdict") in err.splitlines()
    assert "alpha: scored on" not in err  # alpha's score rests on every question
    # beta's 5 questions, from BETA by hand: wins q3 g1, q4 g2; ties q2 (both games); losses 3 + 1 + 1 + 3 + 1 + 1
    assert f"| score: {win_rate_text(2 + 2 / 2, 14)} |" in line_of(out, "beta")
    [path] = (bench / "leaderboard").glob("*.csv")
    rows = {row["model"]: row for row in csv.DictReader(path.open())}
    assert (rows["beta"]["questions_scored"], rows["beta"]["questions_total"], rows["beta"]["questions_no_judgment"],
            rows["beta"]["questions_no_verdict"]) == ("5", "8", "2", "1")
    models = {m["model"]: m for m in json.loads(path.with_suffix(".json").read_text())["models"]}
    assert models["beta"]["questions_no_judgment"] == 2 and models["alpha"]["questions_scored"] == 8


def test_missing_as_loss_counts_each_unjudged_question_as_two_strong_losses(bench, capsys):
    out, err = run(capsys, "--num-rounds", "20", "--missing-as-loss", "--output")
    assert ("note: beta: 2 of 8 questions have no judgment; counted as strong losses in both games "
            "(--missing-as-loss)") in err.splitlines()
    # the 14 battles above, plus q6 and q7 as A>>B then B>>A: 2 x 2 x 3 baseline wins
    assert f"| score: {win_rate_text(2 + 2 / 2, 14 + 12)} |" in line_of(out, "beta")
    assert f"| score: {win_rate_text(18 + 2 / 2, 23)} |" in line_of(out, "alpha")  # nothing missing: unchanged
    battles = [json.loads(line) for line in (bench / "data" / "arena_hard_battles.jsonl").read_text().splitlines()]
    assert battles[-12:] == [{"question_id": q, "model_a": BASELINE, "model_b": "beta", "winner": "model_a"}
                             for q in ("q6",) * 6 + ("q7",) * 6]
    [path] = (bench / "leaderboard").glob("*.json")
    data = json.loads(path.read_text())
    beta = next(m for m in data["models"] if m["model"] == "beta")
    assert data["missing_as_loss"] is True and beta["questions_as_loss"] == 2 and beta["questions_scored"] == 7


def test_missing_as_loss_refuses_saved_battles(bench):
    result = run_script(bench, "--missing-as-loss", "--load-battles")
    assert result.returncode == 2 and "cannot be combined with --load-battles" in result.stderr


def test_full_stats_prints_a_table_after_the_leaderboard_and_saves_its_fields(bench, capsys):
    plain, _ = run(capsys, "--num-rounds", "20")
    out, err = run(capsys, "--num-rounds", "20", "--full-stats", "--output")
    assert out[:3] == plain and out[3] == ""
    assert out[4].startswith("Full statistics (W/T/L: the model's wins/ties/losses; >>: strong verdicts)")
    header, *table = out[5:out.index("", 5)]  # then the cost from the records' usage (issue 23)
    cells = {row.split(" | ")[0].strip(): [c.strip() for c in row.split(" | ")] for row in table}
    assert header.split(" | ")[1].strip() == "battles W/T/L" and len(table) == 3
    # alpha, from ALPHA by hand: game 1 has 5 wins (2 strong), 1 tie, 2 losses; game 2 5 (2 strong), 1, 1 and
    # one game without a verdict; 23 battles after the x3 weight: 18 won, 2 tied, 3 lost
    assert cells["alpha"][1:7] == ["23 18/2/3", "5/1/2 (2/0)", "5/1/1 (2/0)", "1", "8 of 8", "57.1% of 7"]
    assert cells["beta"][1:6] == ["14 2/2/10", "1/1/3 (0/1)", "1/1/3 (0/1)", "2", "5 of 8"]
    assert cells[BASELINE][2:5] == ["-", "-", "-"]
    assert cells["alpha"][-1] == "512" and cells["alpha"][-2].startswith(line_of(out, "alpha").split("score: ")[1][:4])
    assert "Judge consistency" not in err  # in the table instead
    [path] = (bench / "leaderboard").glob("*.json")
    alpha = json.loads(path.read_text())["models"][0]
    assert (alpha["battles"], alpha["game1_wins"], alpha["game1_strong_wins"], alpha["game2_no_verdict"],
            alpha["games_agree"], alpha["games_both_judged"]) == (23, 5, 2, 1, 4, 7)
    assert alpha["win_rate"] == alpha["score"] and alpha["rating"] > 1000
    [csv_path] = (bench / "leaderboard").glob("*.csv")
    assert "game2_strong_losses" in next(csv.reader(csv_path.open()))


def test_saved_battles_of_another_judge_or_bench_are_refused(bench, capsys):
    run(capsys, "--num-rounds", "20")
    result = run_script(bench, "--load-battles", "--judge-name", "someone-else")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: data/arena_hard_battles.jsonl: holds battles of bench arena-hard-v0.1 judged by gpt-4-1106-preview, "
        "not of arena-hard-v0.1 judged by someone-else; add --bench-name arena-hard-v0.1 --judge-name "
        "gpt-4-1106-preview, or rerun without --load-battles")
    assert run_script(bench, "--load-battles", "--bench-name", "other").returncode == 2
    assert run_script(bench, "--load-battles", "--num-rounds", "20").returncode == 0


def test_a_run_that_fails_in_a_later_category_writes_nothing(bench):
    write_questions(bench, QUESTIONS, ["hard"] * 4 + ["creative"] * 4)
    write_judgments(bench, "gamma", [(q, "B>A", "A>B") for q in QUESTIONS[4:]])  # gamma has no answer file
    result = run_script(bench, "--category", "hard", "creative", "--output", "--num-rounds", "20")
    assert result.returncode == 2 and "gamma" in result.stderr
    assert "##### Category: hard #####" in result.stdout  # the first category was scored...
    assert sorted(p.name for p in (bench / "data").iterdir()) == ["arena-hard-v0.1"]  # ...but nothing was saved
    assert not (bench / "leaderboard").exists()


def test_a_model_without_any_verdict_is_named_not_dropped_silently(bench, capsys):
    write_answers(bench, "gamma", QUESTIONS, 50)
    write_judgments(bench, "gamma", [(q, None, "A<B") for q in QUESTIONS])
    out, err = run(capsys, "--num-rounds", "20")
    assert not any(line.startswith("gamma ") for line in out)
    assert "note: gamma: not on the leaderboard: none of its judgments has a verdict" in err.splitlines()


def test_missing_as_loss_under_style_control_counts_upstreams_error_answer(bench, capsys):
    from arena_hard.core.textstats import count_tokens

    out, _ = run(capsys, "--num-rounds", "20", "--missing-as-loss", "--style-control")
    assert out[0].startswith("Style Coefficients:") and any(line.startswith("beta ") for line in out)
    battles = [json.loads(line) for line in (bench / "data" / "arena_hard_battles.jsonl").read_text().splitlines()]
    q6 = [b for b in battles if b["question_id"] == "q6" and b["model_b"] == "beta"]
    assert len(q6) == 6 and {b["conv_metadata"]["sum_assistant_b_tokens"] for b in q6} == {count_tokens("$ERROR$")}
    assert {(b["conv_metadata"]["header_count_b"], b["conv_metadata"]["bold_count_b"]) for b in q6} == {(0, 0)}
