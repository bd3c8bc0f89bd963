"""gen_answer.py on an answer file holding answers to questions the bench does not hold: they are kept,
noted, and never counted as answered ("5 of 4 answered", issue 26)."""
from __future__ import annotations

import pytest

import gen_answer
from pipeline_helpers import Workspace, model_entry, questions, read_jsonl


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path)


def answer(question_id: str) -> dict:
    return {"question_id": question_id, "answer_id": question_id, "model_id": "m", "tstamp": 0.0,
            "choices": [{"index": 0, "turns": [{"content": "an answer", "token_len": 2}]}]}


def test_answers_to_other_questions_are_kept_noted_and_not_counted(ws, fake_api, capsys):
    server = fake_api()
    ws.write_questions(questions(4))
    ws.write_api_config({"m": model_entry(server.openai_base_url)})
    ws.write_answer_config(["m"])
    ws.write_answers("m", [answer(f"q{i:03d}") for i in (0, 1, 2)] + [answer("elsewhere")])
    assert gen_answer.main([]) == 0
    out, err = capsys.readouterr()
    assert "m: 3 of 4 already answered" in out
    assert "1 answer(s) for questions not in" in err and "kept in the file" in err
    assert len(server.requests) == 1  # q003 only
    assert {r["question_id"] for r in read_jsonl(ws.answer_file("m"))} == {"q000", "q001", "q002", "q003", "elsewhere"}
