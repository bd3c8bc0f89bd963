"""Both record formats read into the same typed records (arena_hard.core.records)."""
from __future__ import annotations

import json

import pytest

from arena_hard.core.errors import UserError
from arena_hard.core.judgments import load_judgments
from arena_hard.core.records import load_answers, load_questions


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_questions_in_both_formats(tmp_path):
    path = write_jsonl(tmp_path / "question.jsonl", [
        {"question_id": "q1", "category": "arena-hard-v0.1", "cluster": "Python", "turns": [{"content": "Hi?"}]},
        {"uid": "q2", "category": "hard_prompt", "subcategory": "coding", "prompt": "Why?"},
    ])
    q1, q2 = load_questions(path)
    assert (q1.question_id, q1.turns, q1.category, q1.cluster) == ("q1", ("Hi?",), "arena-hard-v0.1", "Python")
    assert (q2.question_id, q2.turns, q2.category, q2.cluster) == ("q2", ("Why?",), "hard_prompt", "coding")


def test_duplicate_question_id_names_both_lines(tmp_path):
    path = write_jsonl(tmp_path / "question.jsonl", [
        {"question_id": "q1", "turns": [{"content": "a"}]}, {"question_id": "q1", "turns": [{"content": "b"}]}])
    with pytest.raises(UserError, match=r"question.jsonl:2: question id 'q1' already appears at line 1"):
        load_questions(path)


def test_missing_question_file_says_how_to_get_it(tmp_path):
    with pytest.raises(UserError, match="download_data.py"):
        load_questions(tmp_path / "question.jsonl")


def test_answers_in_both_formats(tmp_path):
    v01 = write_jsonl(tmp_path / "m1.jsonl", [{
        "question_id": "q1", "answer_id": "x", "model_id": "whatever", "tstamp": 1.0,
        "choices": [{"index": 0, "turns": [{"content": "Answer one", "token_len": 2}]}]}])
    current = write_jsonl(tmp_path / "m2.jsonl", [{
        "uid": "q1", "ans_id": "y", "model": "m2", "tstamp": 1.0,
        "messages": [{"role": "user", "content": "Hi?"},
                     {"role": "assistant", "content": {"answer": "Answer two", "reasoning": "hidden"}}],
        "metadata": {"token_len": 7, "header_count": {"h1": 1}}}])
    a1 = load_answers(v01)["q1"]
    a2 = load_answers(current)["q1"]
    assert (a1.model, a1.turns, a1.token_len, a1.metadata) == ("m1", ("Answer one",), 2, None)
    assert (a2.model, a2.turns, a2.token_len, a2.metadata["header_count"]) == ("m2", ("Answer two",), 7, {"h1": 1})


def test_later_answer_line_wins(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [
        {"question_id": "q1", "choices": [{"turns": [{"content": "old"}]}]},
        {"question_id": "q1", "choices": [{"turns": [{"content": "new"}]}]}])
    assert load_answers(path)["q1"].turns == ("new",)


def test_answer_without_choices_or_messages_names_the_line(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [{"question_id": "q1", "text": "?"}])
    with pytest.raises(UserError, match=r"m.jsonl:1: no `choices`"):
        load_answers(path)


def test_judgments_in_both_formats(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [
        {"question_id": "q1", "model": "m", "judge": "j",
         "games": [{"user_prompt": "p1", "judgment": "t1", "score": "A>B"},
                   {"user_prompt": "p2", "judgment": "t2", "score": None}]},
        {"uid": "q2", "model": "m", "judge": "j", "baseline": "base", "category": "hard_prompt",
         "games": [{"score": "B>A", "judgment": {"answer": "t3"}, "prompt": [
             {"role": "system", "content": "s"}, {"role": "user", "content": "p3"}]}, None]},
    ])
    first, second = load_judgments(path)
    assert [(g.score, g.judgment, g.user_prompt) for g in first.games] == [("A>B", "t1", "p1"), (None, "t2", "p2")]
    assert (second.question_id, second.baseline, second.category) == ("q2", "base", "hard_prompt")
    assert second.games[0] == type(second.games[0])("B>A", "t3", "p3", "s") and second.games[1] is None


def test_a_current_format_answer_keeps_its_thought_apart(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [
        {"uid": "q1", "model": "m", "messages": [
            {"role": "user", "content": "?"},
            {"role": "assistant", "content": {"answer": "the answer", "thought": "the reasoning"}}]},
        {"uid": "q2", "model": "m", "messages": [{"role": "user", "content": "?"},
                                                 {"role": "assistant", "content": {"answer": "plain"}}]},
    ])
    answers = load_answers(path)
    assert (answers["q1"].turns, answers["q1"].thought) == (("the answer",), "the reasoning")
    assert (answers["q2"].turns, answers["q2"].thought) == (("plain",), None)
