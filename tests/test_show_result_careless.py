"""show_result.py on careless or hostile data (issue 26's weak list): records and answers of questions the
bench does not hold are left out with a note, an impossible token_len is treated as missing, records with
one or three games are noted, a record of a model against itself is left out (not counted as "without a
verdict"), and --output says when it replaces another judge's board of the same day."""
from __future__ import annotations

import json

import pytest

from arena_hard.core import textstats
from show_result_fixtures import BASELINE, JUDGE, bench_dir, judgment_record, run, write_answers, write_judgments, \
    write_lines, write_questions
from test_show_result import ALPHA, BETA, QUESTIONS


@pytest.fixture
def bench(tmp_path, monkeypatch):
    write_questions(tmp_path, QUESTIONS)
    write_answers(tmp_path, BASELINE, QUESTIONS, 400)
    write_answers(tmp_path, "alpha", QUESTIONS, 512)
    write_answers(tmp_path, "beta", QUESTIONS, 100)
    write_judgments(tmp_path, "alpha", ALPHA)
    write_judgments(tmp_path, "beta", BETA)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def append(path, *records):
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in records)


def line_of(out, model):
    return next(line for line in out if line.startswith(f"{model} "))


def test_records_and_answers_of_questions_outside_the_bench_are_left_out(bench, capsys):
    plain, _ = run(capsys, "--num-rounds", "20")
    judgments = bench_dir(bench) / "model_judgment" / JUDGE / "alpha.jsonl"
    append(judgments, *(judgment_record(f"extra{i}", "alpha", "B>>A", "A>>B") for i in range(5)))
    append(bench_dir(bench) / "model_answer" / "alpha.jsonl",
           {"question_id": "extra0", "choices": [{"turns": [{"content": "x", "token_len": 90000}]}]})
    out, err = run(capsys, "--num-rounds", "20")
    assert out == plain
    assert "5 judgment record(s) of gpt-4-1106-preview are for 5 question(s) not in question.jsonl" in err


def test_an_impossible_token_len_counts_as_missing(bench, capsys):
    answers = bench_dir(bench) / "model_answer" / "alpha.jsonl"
    write_lines(answers, ({"question_id": q, "choices": [{"turns": [{"content": "an answer", "token_len": n}]}]}
                          for q, n in zip(QUESTIONS, [-1000, 10 ** 30] * 4)))
    out, _ = run(capsys, "--num-rounds", "20")
    assert line_of(out, "alpha").endswith(f"average #tokens: {textstats.count_tokens('an answer')}")


def test_records_with_one_or_three_games_are_noted(bench, capsys):
    path = bench_dir(bench) / "model_judgment" / JUDGE / "beta.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records[0]["games"] = records[0]["games"][:1]
    records[1]["games"] = records[1]["games"] * 2
    write_lines(path, records)
    _, err = run(capsys, "--num-rounds", "20")
    assert "1 judgment record(s) hold one game" in err
    assert "1 judgment record(s) hold more than two games; only the first two are scored" in err


def test_a_record_of_a_model_against_itself_is_left_out_not_counted_without_verdict(bench, capsys):
    path = bench_dir(bench) / "model_judgment" / JUDGE / "alpha.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records[0] = {**records[0], "baseline": "alpha"}
    write_lines(path, records)
    _, err = run(capsys, "--num-rounds", "20")
    assert "1 judgment record(s) of gpt-4-1106-preview judge a model against itself" in err
    assert "alpha: scored on 7 of 8 questions; 1 have no judgment" in err
    assert "without a verdict" not in err


def test_output_says_when_it_replaces_another_judges_board(bench, capsys):
    write_judgments(bench, "alpha", ALPHA, judge="judge2")
    write_judgments(bench, "beta", BETA, judge="judge2")
    _, err = run(capsys, "--num-rounds", "20", "--output")
    assert "replaced" not in err
    _, err = run(capsys, "--num-rounds", "20", "--output")
    assert "replaced" not in err  # the same judge again: nothing lost
    _, err = run(capsys, "--num-rounds", "20", "--output", "--judge-name", "judge2")
    assert "held the board judged by gpt-4-1106-preview; replaced by the board judged by judge2" in err
