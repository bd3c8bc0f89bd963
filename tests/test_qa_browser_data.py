"""Tests of arena_hard/browser (data, game_verdicts, markdown): verdict labels mapped to the right side
in each game, which text lands in which panel, the question filters, lazy loading, and benches with
nothing to show.

`write_demo_bench` builds the small bench the browser test serves too."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena_hard.browser.data import BenchData, QuestionFilter, Show
from arena_hard.browser.game_verdicts import Winner, game_verdict, games_disagree, model_preferred
from arena_hard.browser.markdown import escape_html_outside_code, question_label
from arena_hard.core.bench_version import V0_1
from arena_hard.core.errors import UserError
from arena_hard.core.records import Bench, Question, load_answers

JUDGE = "judge-x"
BASELINE = V0_1.default_baseline
JUDGED = "alpha-7b"  # answers and judgments (v0.1 format, one record in the current format)
UNJUDGED = "beta-13b"  # answers in the current format, no judgments
QUESTIONS = {
    "q-sort": ("How do I sort a list in Python?\n\n- keep it short\n- show code\n\n"
               "```python\nprint(sorted([3, 1, 2]))\n```", "coding", "Python basics"),
    "q-vector": ("What does #include <vector> do in C++?", "coding", "C++ headers"),
    "q-haiku": ("Write a haiku about flaky tests.", "writing", "Poetry"),
    "q-none": ("Name three prime numbers.", "math", "Numbers"),
}
ALPHA_SORT = ("Use `sorted`:\n\n```python\nnumbers = [3, 1, 2]\nprint(sorted(numbers))\n```\n\n"
              "1. ALPHA-STEP-ONE call sorted\n2. ALPHA-STEP-TWO print the result")
# an indented code block holding `<`, and lines broken by single newlines (ABC notation)
ALPHA_VECTOR = ("ALPHA-ANSWER-q-vector: a header.\n\n    #include <vector>\n    std::vector<int> numbers;\n\n"
                "X:1\nT:Untitled Folk Tune\nK:G\n|:G2A2|B2A2|")
# question id -> the two games' (label, judge text); q-none has no judgment record
GAMES = {
    "q-sort": (("B>>A", "JUDGE-SORT-1: assistant B shows working code. [[B>>A]]"),
               ("A>>B", "JUDGE-SORT-2: assistant A shows working code. [[A>>B]]")),
    "q-vector": (("A>B", "JUDGE-VECTOR-1: A explains <vector> better. [[A>B]]"),
                 ("A>B", "JUDGE-VECTOR-2: A is clearer. [[A>B]]")),
    "q-haiku": (("A=B", "JUDGE-HAIKU-1: both fine. [[A=B]]"), (None, "JUDGE-HAIKU-2: no label given")),
}


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")


def _v01_answer(question_id: str, model: str, text: str) -> dict:
    return {"question_id": question_id, "answer_id": f"{model}-{question_id}", "model_id": model,
            "choices": [{"index": 0, "turns": [{"content": text, "token_len": len(text.split())}]}],
            "tstamp": 0}


def _current_answer(question_id: str, model: str, text: str) -> dict:
    return {"uid": question_id, "model": model, "messages": [
        {"role": "user", "content": QUESTIONS[question_id][0]},
        {"role": "assistant", "content": {"answer": text}}]}


def _v01_judgment(question_id: str, model: str) -> dict:
    return {"question_id": question_id, "model": model, "judge": JUDGE, "games": [
        {"user_prompt": "prompt", "judgment": text, "score": label} for label, text in GAMES[question_id]]}


def _current_judgment(question_id: str, model: str) -> dict:
    return {"uid": question_id, "model": model, "judge": JUDGE, "baseline": BASELINE, "category": "hard_prompt",
            "games": [{"score": label, "judgment": {"answer": text},
                       "prompt": [{"role": "user", "content": "prompt"}]} for label, text in GAMES[question_id]]}


def write_demo_bench(root: Path, name: str = "demo") -> Bench:
    """A bench of four questions (one with a list and a code block), the baseline and two models; only
    JUDGED has judgments, one of whose games disagree (q-vector, whose answer has indented code and
    single line breaks)."""
    bench = Bench(name, root)
    _write_jsonl(bench.question_file, [
        {"question_id": qid, "category": category, "cluster": cluster, "turns": [{"content": text}]}
        for qid, (text, category, cluster) in QUESTIONS.items()])
    _write_jsonl(bench.answer_file(BASELINE),
                 [_v01_answer(qid, BASELINE, f"BASELINE-ANSWER-{qid}") for qid in QUESTIONS])
    _write_jsonl(bench.answer_file(JUDGED), [_v01_answer("q-sort", JUDGED, ALPHA_SORT),
                                             _v01_answer("q-vector", JUDGED, ALPHA_VECTOR),
                                             _v01_answer("q-haiku", JUDGED, "ALPHA-ANSWER-q-haiku")])
    _write_jsonl(bench.answer_file(UNJUDGED),
                 [_current_answer(qid, UNJUDGED, f"BETA-ANSWER-{qid}") for qid in QUESTIONS])
    _write_jsonl(bench.judgment_file(JUDGE, JUDGED), [
        _v01_judgment("q-sort", JUDGED), _v01_judgment("q-vector", JUDGED), _current_judgment("q-haiku", JUDGED)])
    return bench


@pytest.fixture
def demo(tmp_path: Path) -> BenchData:
    return BenchData(write_demo_bench(tmp_path), JUDGE, BASELINE)


# --- verdicts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("label, game_1, game_2", [
    ("A>>B", (Winner.BASELINE, True), (Winner.MODEL, True)),
    ("A>B", (Winner.BASELINE, False), (Winner.MODEL, False)),
    ("A=B", (Winner.TIE, False), (Winner.TIE, False)),
    ("B>A", (Winner.MODEL, False), (Winner.BASELINE, False)),
    ("B>>A", (Winner.MODEL, True), (Winner.BASELINE, True)),
    (None, (Winner.NONE, False), (Winner.NONE, False)),
    ("B>>>A", (Winner.NONE, False), (Winner.NONE, False)),
    ("a>b", (Winner.NONE, False), (Winner.NONE, False)),
])
def test_game_2_reads_labels_with_the_sides_swapped(label, game_1, game_2):
    for number, (winner, strong) in ((1, game_1), (2, game_2)):
        verdict = game_verdict(label, number)
        assert (verdict.winner, verdict.strong, verdict.label) == (winner, strong, label)


def test_preference_weighs_strong_verdicts_and_disagreement_compares_winners():
    strong_loss, slight_win = game_verdict("A>>B", 1), game_verdict("A>B", 2)
    assert not model_preferred((strong_loss, slight_win, slight_win))  # -3 + 1 + 1
    assert model_preferred((game_verdict("B>A", 1), game_verdict("A=B", 2)))
    assert not model_preferred((game_verdict("A=B", 1), game_verdict(None, 2)))
    assert games_disagree((strong_loss, slight_win))
    assert games_disagree((game_verdict("A=B", 1), slight_win))
    assert not games_disagree((game_verdict("B>A", 1), game_verdict("A>>B", 2)))  # same winner, other strength
    assert not games_disagree((game_verdict("B>A", 1), game_verdict("junk", 2)))


# --- which text goes where ---------------------------------------------------------------------

def test_view_puts_each_answer_and_game_in_its_panel(demo: BenchData):
    view = demo.view("q-sort", BASELINE, JUDGED)
    assert "How do I sort a list" in view.question and "Python basics" in view.question
    assert "BASELINE-ANSWER-q-sort" in view.answer_a and BASELINE in view.answer_a
    assert "ALPHA-STEP-ONE" in view.answer_b and "BASELINE-ANSWER" not in view.answer_b
    game_1, game_2 = view.games
    assert "JUDGE-SORT-1" in game_1 and "JUDGE-SORT-2" not in game_1
    assert "A: gpt\\-4\\-0314" not in game_1  # names are escaped only where markdown needs it
    assert f"A: {BASELINE} (baseline), B: {JUDGED}" in game_1
    assert f"A: {JUDGED}, B: {BASELINE} (baseline)" in game_2
    assert f"B>>A: {JUDGED} wins, strongly" in game_1.replace("\\>", ">")
    assert f"A>>B: {JUDGED} wins, strongly" in game_2.replace("\\>", ">")  # game 2's A is the model
    assert "JUDGE-SORT-2" in game_2
    assert f"Overall: {JUDGED} preferred" in view.judgment and "disagree" not in view.judgment


def test_view_tells_slight_wins_ties_and_missing_labels(demo: BenchData):
    vector = demo.view("q-vector", BASELINE, JUDGED)
    assert f"{BASELINE} (baseline) wins, slightly" in vector.games[0]
    assert f"{JUDGED} wins, slightly" in vector.games[1]
    assert "Overall: even** · the two games disagree" in vector.judgment
    haiku = demo.view("q-haiku", BASELINE, JUDGED)  # the current-format record
    assert "**Verdict A=B: tie**" in haiku.games[0].replace("\\", "")
    assert "no verdict (the judge gave no label)" in haiku.games[1] and "JUDGE-HAIKU-2" in haiku.games[1]


def test_missing_answers_and_judgments_are_said_plainly(demo: BenchData):
    unjudged = demo.view("q-sort", BASELINE, UNJUDGED)
    assert "BETA-ANSWER-q-sort" in unjudged.answer_b  # current-format answers
    assert "No judgment yet" in unjudged.judgment and "does not exist" in unjudged.judgment
    assert unjudged.games == unjudged.prompts == ("", "")  # no game panels: the judgment panel says why
    no_record = demo.view("q-none", BASELINE, JUDGED)
    assert f"No answer from {JUDGED}" in no_record.answer_b and "BASELINE-ANSWER-q-none" in no_record.answer_a
    assert "No judgment yet" in no_record.judgment and "on this question" in no_record.judgment


def test_baseline_as_model_b_and_another_model_a(demo: BenchData):
    swapped = demo.view("q-sort", JUDGED, BASELINE)
    assert "ALPHA-STEP-ONE" in swapped.answer_a and "Model B is the baseline" in swapped.judgment
    other_a = demo.view("q-sort", UNJUDGED, JUDGED)
    assert "BETA-ANSWER-q-sort" in other_a.answer_a and "JUDGE-SORT-1" in other_a.games[0]
    assert f"Model A ({UNJUDGED}) is not the baseline" in other_a.judgment


def test_html_outside_code_is_shown_as_text_and_code_is_left_alone():
    text = "Use #include <vector> here.\n\n```cpp\n#include <map>\n```\nand `a<b` then <b>x</b>\n~~~\n<open"
    escaped = escape_html_outside_code(text)
    assert "#include &lt;vector>" in escaped and "#include <map>" in escaped and "`a<b`" in escaped
    assert "&lt;b>x&lt;/b>" in escaped and escaped.endswith("~~~\n<open")  # an unclosed fence runs to the end
    assert escape_html_outside_code("no tags") == "no tags"


@pytest.mark.parametrize("text, escaped", [
    # four spaces (or a tab) after a blank line start a code block, which an unindented line ends
    ("Code:\n\n    if (a < b) {}\n\n    x <<= 1;\nafter <b>",
     "Code:\n\n    if (a < b) {}\n\n    x <<= 1;\nafter &lt;b>"),
    ("Code:\n\n\tstd::vector<int> v;", "Code:\n\n\tstd::vector<int> v;"),
    ("- item\n\n      vec<int> v;\n", "- item\n\n      vec<int> v;\n"),  # code inside a list item
    (">     a < b\n", ">     a < b\n"),  # and inside a quote
    # indented lines that continue a paragraph or a list item are text
    ("a < b\n    c < d", "a &lt; b\n    c &lt; d"),
    ("1. one\n\n    two < three", "1. one\n\n    two &lt; three"),
    # lines end with \r\n or \r as well, as the renderer reads them
    ("x\r\n\r\n    a < b\r\n<i>", "x\r\n\r\n    a < b\r\n&lt;i>"),
    ("x\r\r    a < b\r<i>", "x\r\r    a < b\r&lt;i>"),
])
def test_indented_code_is_code(text: str, escaped: str):
    assert escape_html_outside_code(text) == escaped


def test_the_official_o3_mini_answer_shows_its_indented_zig_code_as_written(upstream_v2_dir: Path):
    answers = load_answers(upstream_v2_dir / "data" / "arena-hard-v2.0" / "model_answer" / "o3-mini-2025-01-31.jsonl")
    escaped = escape_html_outside_code(answers["2edbb5f36f5b42be"].turns[0])
    assert "    while (i < input.len) : (i += 1) {" in escaped and "&lt;" not in escaped


def test_question_labels_are_one_numbered_line_cut_to_length():
    question = Question("id", ("line one\n\nline   two " + "x" * 200,), "", "")
    label = question_label(7, question)
    assert label.startswith("7: line one line two x") and label.endswith("…") and "\n" not in label
    assert len(label) == len("7: ") + 100


def test_a_thought_panel_is_empty_without_a_thought(demo: BenchData, tmp_path: Path):
    assert demo.view("q-sort", BASELINE, JUDGED).thoughts == ("", "")  # v0.1 answers hold no reasoning
    assert demo.view("q-none", BASELINE, JUDGED).thoughts == ("", "")  # nor does a missing answer
    v2 = _v2_bench(tmp_path)
    assert v2.view("ha0000", "alpha", "beta").thoughts == ("hidden reasoning", "hidden reasoning")


def _v2_bench(tmp_path: Path) -> BenchData:
    from v2_fixtures import BENCH, write_v2_bench
    write_v2_bench(tmp_path, ["alpha", "beta"], {"hard_prompt": 2}, null_share=0.0)
    return BenchData(Bench(BENCH, tmp_path / "data"), "gpt-4.1", "o3-mini-2025-01-31")


# --- filters and selection ---------------------------------------------------------------------

def _ids(demo: BenchData, question_filter: QuestionFilter, model_b: str = JUDGED) -> list[str]:
    return [qid for _, qid in demo.question_choices(question_filter, model_b)]


def test_filters_by_category_cluster_search_and_judge_outcome(demo: BenchData):
    assert _ids(demo, QuestionFilter()) == list(QUESTIONS)
    assert _ids(demo, QuestionFilter(category="coding")) == ["q-sort", "q-vector"]
    assert _ids(demo, QuestionFilter(category="coding", cluster="C++ headers")) == ["q-vector"]
    assert _ids(demo, QuestionFilter(category="writing", cluster="C++ headers")) == []
    assert _ids(demo, QuestionFilter(search="  PYTHON   sorted ")) == ["q-sort"]  # words anywhere, any case
    assert _ids(demo, QuestionFilter(search="python haiku")) == []
    assert _ids(demo, QuestionFilter(show=Show.MODEL_B_PREFERRED)) == ["q-sort"]
    assert _ids(demo, QuestionFilter(show=Show.GAMES_DISAGREE)) == ["q-vector"]  # not q-haiku: tie, no verdict
    assert _ids(demo, QuestionFilter(show=Show.GAMES_DISAGREE), UNJUDGED) == []
    assert _ids(demo, QuestionFilter(show=Show.MODEL_B_PREFERRED), BASELINE) == []
    assert [label for label, _ in demo.category_choices()] == ["All categories", "coding (2)", "math (1)",
                                                               "writing (1)"]


def test_the_cluster_filter_is_named_as_the_question_file_names_it(demo: BenchData, tmp_path: Path):
    assert demo.cluster_label == "Cluster" and demo.cluster_choices()[0] == ("All clusters", "")
    v2 = _v2_bench(tmp_path)  # v2.0 questions have a `subcategory`
    assert v2.cluster_label == "Subcategory"
    assert v2.cluster_choices() == [("All subcategories", ""), ("coding (1)", "coding"), ("math (1)", "math")]
    assert "subcategory" in v2.view(None, "alpha", "beta").question


def test_select_keeps_the_current_question_when_it_still_passes(demo: BenchData):
    assert demo.select(QuestionFilter(), "q-haiku", JUDGED)[1] == "q-haiku"
    assert demo.select(QuestionFilter(category="coding"), "q-haiku", JUDGED)[1] == "q-sort"
    choices, selected = demo.select(QuestionFilter(search="nothing matches"), "q-haiku", JUDGED)
    assert (choices, selected) == ([], None)
    empty = demo.view(selected, BASELINE, JUDGED)
    assert "No question matches" in empty.question and empty.games == ("", "")


# --- loading -----------------------------------------------------------------------------------

def test_models_defaults_and_status(demo: BenchData):
    assert demo.models == (JUDGED, UNJUDGED, BASELINE)
    assert demo.judged_models == {JUDGED}
    assert demo.default_models() == (BASELINE, JUDGED)
    assert demo.problem is None
    assert demo.status.startswith("4 questions · 3 models · judgments by judge-x for 1 of them")


def test_model_files_are_read_on_first_use_and_bad_lines_are_reported_in_the_panel(tmp_path: Path):
    bench = write_demo_bench(tmp_path)
    with open(bench.answer_file(UNJUDGED), "a", encoding="utf-8") as handle:
        handle.write("{not json}\n")
    data = BenchData(bench, JUDGE, BASELINE)  # does not read answer files yet
    view = data.view("q-sort", BASELINE, UNJUDGED)
    assert "Cannot read the answers" in view.answer_b and "beta-13b.jsonl:5: not valid JSON" in view.answer_b
    assert "BASELINE-ANSWER-q-sort" in view.answer_a


def test_a_later_judgment_line_wins_and_a_cut_off_last_line_is_skipped(tmp_path: Path):
    bench = write_demo_bench(tmp_path)
    rejudged = _v01_judgment("q-sort", JUDGED)
    rejudged["games"][0].update(score="A>B", judgment="JUDGE-SORT-REDONE")
    with open(bench.judgment_file(JUDGE, JUDGED), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(rejudged) + "\n" + '{"question_id": "q-none", "gam')  # a run still writing
    view = BenchData(bench, JUDGE, BASELINE).view("q-sort", BASELINE, JUDGED)
    assert "JUDGE-SORT-REDONE" in view.games[0] and f"{BASELINE} (baseline) wins, slightly" in view.games[0]


def test_a_baseline_without_answers_is_pointed_out(demo: BenchData):
    assert "has no answers here" not in demo.status
    assert "**the baseline gpt-4 has no answers here** (see --baseline)" in BenchData(demo.bench, JUDGE, "gpt-4").status


def test_a_missing_judge_folder_names_the_judges_there_are(demo: BenchData):
    other = BenchData(demo.bench, "judge-y", BASELINE)
    assert other.judged_models == frozenset() and other.problem is None
    assert "no judgments by judge-y yet" in other.status and "judges with a folder: judge-x" in other.status
    assert "No judgment yet" in other.view("q-sort", BASELINE, JUDGED).judgment


def test_empty_benches_say_what_is_missing(tmp_path: Path):
    empty = Bench("empty", tmp_path)
    empty.directory.mkdir()
    data = BenchData(empty, JUDGE, BASELINE)
    assert data.questions == [] and "No questions yet" in data.problem and "question.jsonl" in data.problem
    empty.question_file.write_text("\n", encoding="utf-8")
    assert "No questions yet" in BenchData(empty, JUDGE, BASELINE).problem
    _write_jsonl(empty.question_file, [{"question_id": "q", "turns": [{"content": "hi"}]}])
    no_answers = BenchData(empty, JUDGE, BASELINE)
    assert no_answers.models == () and "No answers yet" in no_answers.problem
    assert no_answers.default_models() == (None, None)
    with pytest.raises(UserError, match="no such bench folder"):
        BenchData(Bench("missing", tmp_path), JUDGE, BASELINE)
