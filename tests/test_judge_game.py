"""Template filling and verdict parsing, pinned by examples (arena_hard.generate.judge_game)."""
from __future__ import annotations

import re

import pytest

from arena_hard.core.errors import UserError
from arena_hard.generate.judge_game import fill_template, game_prompt_args, parse_verdict, template_fields

V01 = (re.compile(r"\[\[([AB<>=]+)\]\]"),)


@pytest.mark.parametrize("label", ["A>>B", "A>B", "A=B", "B>A", "B>>A"])
def test_each_of_the_five_labels_is_read(label):
    verdict = parse_verdict(f"\nA is fine, B is fine.\n\nMy final verdict is: [[{label}]]", V01)
    assert (verdict.label, verdict.ask_again) == (label, False)


@pytest.mark.parametrize("text, label, ask_again", [
    ("The same label twice [[A>B]] ... so [[A>B]].", "A>B", False),
    ("Inside a code block:\n```\n[[B>>A]]\n```\nand again [[B>>A]]", "B>>A", False),
    ("Two different labels: [[A>B]] then [[B>A]]", None, False),
    ("No label at all, just prose about A and B.", None, True),
    ("Spaces inside: [[A > B]]", None, True),
    ("Odd brackets: [A>B] and [[A>B] and (A>B)", None, True),
    ("Empty brackets [[]] and then [[A=B]]", "A=B", False),
    ("A label the regex admits but no one uses: [[A>>>B]]", "A>>>B", False),
    ("Lower case [[a>b]] is not a label", None, True),
])
def test_verdict_examples(text, label, ask_again):
    verdict = parse_verdict(text, V01)
    assert (verdict.label, verdict.ask_again) == (label, ask_again)


def test_label_in_the_continuation_counts_once_concatenated():
    first = "\nA is clearer but B is more complete."
    assert parse_verdict(first, V01).ask_again
    both = first + "\n" + "Weighing both, my final verdict is [[B>A]]."
    assert parse_verdict(both, V01).label == "B>A"


def test_patterns_are_tried_in_order():
    patterns = (re.compile(r"\[\[([AB<>=]+)\]\]"), re.compile(r"Verdict: ([AB<>=]+)"))
    assert parse_verdict("Verdict: A>B", patterns).label == "A>B"
    assert parse_verdict("[[B>A]] Verdict: A>B", patterns).label == "B>A"
    assert parse_verdict("nothing", patterns).ask_again


def test_prompt_args_number_answers_a_then_b_per_turn():
    args = game_prompt_args(["q1", "q2"], [["a1", "a2"], ["b1", "b2"]], [["r1", "r2"]])
    assert args == {"question_1": "q1", "question_2": "q2", "answer_1": "a1", "answer_2": "a2",
                    "answer_3": "b1", "answer_4": "b2", "ref_answer_1": "r1", "ref_answer_2": "r2"}


def test_fill_template_keeps_braces_in_values_and_unknown_braces():
    template = "Q: {question_1}\nA: {answer_1}\nB: {answer_2}\nJSON example: {\"k\": 1} {{literal}}"
    args = {"question_1": "What is {x}?", "answer_1": "def f(): return {'a': 1}", "answer_2": "{answer_1}"}
    filled = fill_template(template, args)
    assert filled == ("Q: What is {x}?\nA: def f(): return {'a': 1}\nB: {answer_1}\n"
                      "JSON example: {\"k\": 1} {literal}")


def test_fill_template_equals_str_format_on_ordinary_templates():
    template = "<<{question_1}>>\n[A]\n{answer_1}\n[B]\n{answer_2}\n{{not a field}}"
    args = {"question_1": "q", "answer_1": "x", "answer_2": "y"}
    assert fill_template(template, args) == template.format(**args)
    assert template_fields(template) == {"question_1", "answer_1", "answer_2"}


def test_fill_template_names_a_missing_field():
    with pytest.raises(UserError, match=r"\{question_2\}"):
        fill_template("{question_1} {question_2}", {"question_1": "q"})
