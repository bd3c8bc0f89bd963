"""Careless and hostile input, round three (issue 26): files under data/ that are not regular files,
odd data files, look-alike and line-breaking names, and configs that are silently misread. Each case
runs a script as a user would, on the small bench of tests/test_robust_bad_input.py: a refusal is
exit status 2, one line naming the file (and key or line), nothing changed; an input that is not an
error gets its one note line and the documented behaviour."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from arena_hard.core.config_file import nearest_key
from arena_hard.core.errors import UserError
from arena_hard.core.names import check_name, refuse_twins
from pipeline_helpers import BENCH, Workspace, questions, read_jsonl, write_jsonl
from test_robust_bad_input import (ANSWER_CONFIG, API_CONFIG, BASE, BASE_ANSWERS, GA, GJ, JUDGE, JUDGE_CONFIG,
                                   JUDGMENTS, MODEL, MODEL_ANSWERS, QUESTION_COUNT, QUESTIONS, SHOW, Case, Documented,
                                   answer_row, append_rows, assert_documented, assert_refused, complete_model_answers,
                                   edit_yaml, judgment_row, make_bench, replace_line, run, set_key, write_text)
from test_robust_hostile import run_with_file_size_limit

NFC, NFD = unicodedata.normalize("NFC", "modèle"), unicodedata.normalize("NFD", "modèle")
UNREACHABLE = "http://127.0.0.1:9/v1"  # nothing listens: a call made by mistake fails, it is never answered


def fifo(relative: str):
    """Put a named pipe (with no writer) at `relative`: reading it would block forever."""
    def edit(ws: Workspace) -> None:
        path = ws.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()
        os.mkfifo(path)
    return edit


def both(*edits):
    def edit(ws: Workspace) -> None:
        for one in edits:
            one(ws)
    return edit


def served_by(api_type: str, **entry) -> dict:
    endpoint = {"api_base": UNREACHABLE, "api_key": "k", **({"api_version": "2024-06-01"} if api_type == "azure" else {})}
    return {"api_type": api_type, "endpoints": [endpoint], **entry}


def rename_key(relative: str, old: str, new: str):
    return edit_yaml(relative, lambda data: data.__setitem__(new, data.pop(old)))


REFUSED = [
    # --- item 7: only regular files are read ---------------------------------------------------
    Case("fifo: the answer file being resumed", fifo(MODEL_ANSWERS), GA,
         (MODEL_ANSWERS, "is a named pipe (FIFO), not a regular file")),
    Case("fifo: the answer file being resumed, --dry-run", fifo(MODEL_ANSWERS), (*GA, "--dry-run"),
         (MODEL_ANSWERS, "is a named pipe (FIFO)")),
    Case("fifo: the baseline's answers, read by gen_judgment", fifo(BASE_ANSWERS), GJ,
         (BASE_ANSWERS, "is a named pipe (FIFO)")),
    Case("fifo: the judgment file being resumed", both(complete_model_answers, fifo(JUDGMENTS)), GJ,
         (JUDGMENTS, "is a named pipe (FIFO)")),
    Case("fifo: the baseline's answers, read by show_result", fifo(BASE_ANSWERS), SHOW,
         (BASE_ANSWERS, "is a named pipe (FIFO)")),
    Case("fifo: question.jsonl", fifo(QUESTIONS), GA, (QUESTIONS, "is a named pipe (FIFO)")),
    Case("fifo: the answer config", fifo(ANSWER_CONFIG), GA, (ANSWER_CONFIG, "is a named pipe (FIFO)")),
    # --- data ----------------------------------------------------------------------------------
    Case("questions: an empty file of a custom bench says so, not to download", write_text(QUESTIONS, ""), GA,
         (QUESTIONS, "holds no questions (the file is empty); write the bench's questions into it")),
    Case("questions: only a byte-order mark is no question, not a line an interrupted run cut short",
         write_text(QUESTIONS, "\ufeff"), GA, (QUESTIONS, "holds no questions (only blank lines)")),
    Case("questions: only byte-order marks and white space (a no-break space, CRLF blank lines)",
         write_text(QUESTIONS, "\ufeff \r\n\r\n\u00a0"), GA, (QUESTIONS, "holds no questions (only blank lines)")),
    Case("answers: model_answer is a regular file", lambda ws: (
        shutil.rmtree(ws.bench_dir / "model_answer"), write_text(f"data/{BENCH}/model_answer", "x")(ws)),
         GA, (f"data/{BENCH}/model_answer: is a file, where a folder is needed for {MODEL_ANSWERS}",)),
    Case("answers: model_answer is a regular file, --dry-run", lambda ws: (
        shutil.rmtree(ws.bench_dir / "model_answer"), write_text(f"data/{BENCH}/model_answer", "x")(ws)),
         (*GA, "--dry-run"), (f"data/{BENCH}/model_answer: is a file",)),
    Case("judgments: the judge's folder is a regular file", both(complete_model_answers, lambda ws: (
        shutil.rmtree(ws.bench_dir / "model_judgment" / JUDGE),
        write_text(f"data/{BENCH}/model_judgment/{JUDGE}", "x")(ws))), GJ,
         (f"data/{BENCH}/model_judgment/{JUDGE}: is a file, where a folder is needed for {JUDGMENTS}",)),
    # --- names ---------------------------------------------------------------------------------
    Case("names: NFC and NFD twins in model_list", set_key(ANSWER_CONFIG, "model_list", [NFC, NFD]), GA,
         (ANSWER_CONFIG, ascii(NFC), ascii(NFD), "print the same")),
    Case("names: a trailing-space twin in --model-list", None, (*GJ, "--model-list", MODEL, MODEL + " "),
         ("--model-list", ascii(MODEL + " "), "print the same")),
    Case("names: a zero-width space in model_list", set_key(ANSWER_CONFIG, "model_list", ["model\u200b-1"]), GA,
         (ANSWER_CONFIG, "`model_list`", "U+200B")),
    Case("names: a bidi override in the judge config's baseline_model",
         set_key(JUDGE_CONFIG, "baseline_model", "base\u202e"), GJ, (JUDGE_CONFIG, "`baseline_model`", "U+202E")),
    Case("names: a newline in --model-list", None, (*GJ, "--model-list", "model\n-1"), ("--model-list", "U+000A")),
    Case("names: a tab in --judge-model", None, (*GJ, "--judge-model", "judge\tx"), (API_CONFIG, "U+0009")),
    Case("names: a tab in a judgment record's model", replace_line(
        JUDGMENTS, 1, json.dumps({**judgment_row("q000"), "model": "model-1\tx"}).encode()), SHOW,
         (f"{JUDGMENTS}:1", "U+0009")),
    Case("names: a newline in an answer record's model_id", replace_line(
        MODEL_ANSWERS, 2, json.dumps(answer_row("q001", "model-1\nx", "text")).encode()), GJ,
         (f"{MODEL_ANSWERS}:2", "U+000A")),
    Case("names: a judgment file whose name decodes to a tab", write_text(
        f"data/{BENCH}/model_judgment/{JUDGE}/tab%09x.jsonl", json.dumps(judgment_row("q000")) + "\n"), SHOW,
         (f"{JUDGE}/tab%09x.jsonl", "U+0009")),
    Case("names: judgment files of NFC and NFD twins", both(*(write_text(
        f"data/{BENCH}/model_judgment/{JUDGE}/{name}.jsonl",
        json.dumps({**judgment_row("q000"), "model": name}) + "\n") for name in (NFC, NFD))), SHOW,
         (f"{NFC}.jsonl", f"{NFD}.jsonl", ascii(NFC), ascii(NFD), "print the same")),
    Case("names: a judgment record naming the model with a trailing space", append_rows(
        JUDGMENTS, [{**judgment_row("q002"), "model": MODEL + " "}]), SHOW,
         (JUDGMENTS, ascii(MODEL), ascii(MODEL + " "), "print the same")),
    # --- configs -------------------------------------------------------------------------------
    Case("judge config: a misspelt system_prompt is not read as v2.0",
         rename_key(JUDGE_CONFIG, "system_prompt", "system_promt"), GJ,
         (JUDGE_CONFIG, "`system_promt` is not a known key (did you mean `system_prompt`?)")),
    Case("judge config: v0.1 keys without system_prompt", edit_yaml(JUDGE_CONFIG, lambda d: d.pop("system_prompt")),
         GJ, (JUDGE_CONFIG, "`system_prompt` is missing, but the file has v0.1 judge keys (`ref_model`, `baseline`")),
    Case("judge config given to gen_answer.py", None, (*GA, "--setting-file", JUDGE_CONFIG),
         (JUDGE_CONFIG, "is a judge config (it has `judge_model`)")),
    Case("answer config given to gen_judgment.py", None, (*GJ, "--setting-file", ANSWER_CONFIG),
         (ANSWER_CONFIG, "is it an answer config?")),
    Case("answer config: category_temperature naming no category",
         set_key(ANSWER_CONFIG, "category_temperature", {"writing": 0.7}), GA,
         (ANSWER_CONFIG, "`category_temperature.writing` names no category", "tiny")),
    Case("answer config: temperature above OpenAI's range", both(
        set_key(API_CONFIG, MODEL, served_by("openai")), set_key(ANSWER_CONFIG, "temperature", 5)), (*GA, "--dry-run"),
         (ANSWER_CONFIG, "`temperature` is 5, above the 2 that openai accepts")),
    Case("endpoint file: temperature above Anthropic's range", set_key(API_CONFIG, MODEL, served_by(
        "anthropic", temperature=1.5)), GA, (API_CONFIG, f"`{MODEL}.temperature` is 1.5, above the 1 that anthropic")),
    Case("answer config: a category's temperature above Azure's range", both(
        set_key(API_CONFIG, MODEL, served_by("azure")), set_key(ANSWER_CONFIG, "category_temperature", {"tiny": 2.5})),
         GA, (ANSWER_CONFIG, "`category_temperature.tiny` is 2.5, above the 2 that azure")),
    Case("judge config: temperature above the judge's range", both(
        complete_model_answers, set_key(API_CONFIG, JUDGE, served_by("openai")), set_key(JUDGE_CONFIG, "temperature", 3)),
         GJ, (JUDGE_CONFIG, "`temperature` is 3, above the 2 that openai accepts")),
]


@pytest.fixture
def bench(tmp_path: Path) -> Workspace:
    return make_bench(tmp_path)


@pytest.mark.parametrize("case", REFUSED, ids=[case.name for case in REFUSED])
def test_refused_in_one_line_before_anything_changes(bench: Workspace, case: Case):
    assert_refused(bench, case)


def stderr_has(*expected: str):
    def check(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
        for line in expected:
            assert line in result.stderr, (line, result.stderr)
    return check


def check_duplicate_named(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    stderr_has(f"note: {MODEL_ANSWERS}: 1 question(s) have more than one record (q001 at lines 2, 4); the last of "
               "each is used, and the earlier ones are dropped when the file is rewritten sorted")(ws, result)
    records = read_jsonl(ws.answer_file(MODEL))
    assert [r["question_id"] for r in records] == [f"q{i:03d}" for i in range(QUESTION_COUNT)]
    assert records[1]["choices"][0]["turns"][0]["content"] == "SECOND THOUGHTS"


def check_choices_noted(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    stderr_has(f"note: {MODEL_ANSWERS}: 3 answer(s) hold fewer choices than num_choices 2 (q000: 1, q001: 1, q002: 1); "
               "they are kept as they are and not asked again")(ws, result)
    assert f"{MODEL}: 1 answered, 0 failed; 2 calls" in result.stdout
    assert [len(r["choices"]) for r in read_jsonl(ws.answer_file(MODEL))] == [1, 1, 1, 2]


def check_turn_noted(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    stderr_has(f"note: {MODEL_ANSWERS}: 1 answer(s) answer fewer turns than their question now has (q000: 1 of 2); "
               "they are kept as they are")(ws, result)
    assert f"{MODEL}: 1 answered" in result.stdout


def gain_a_turn(ws: Workspace) -> None:
    rows = questions(QUESTION_COUNT)
    rows[0]["turns"].append({"content": "And a follow-up?"})
    write_jsonl(ws.root / QUESTIONS, rows)


V2_ANSWER = {"uid": "q003", "ans_id": "x", "model": MODEL, "tstamp": 0.0, "messages": [
    {"role": "user", "content": "q"}, {"role": "assistant", "content": {"answer": "a v2.0 answer"}}]}
V2_JUDGMENT = {"uid": "q002", "model": MODEL, "judge": JUDGE, "baseline": BASE, "category": "tiny",
               "games": judgment_row("q002")["games"]}


def check_only_note_is_the_skip(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    stderr_has(f"note: data/{BENCH}/model_judgment/{JUDGE}: skipped 1 entry named *.jsonl that is not a regular "
               "file (ghost.jsonl)")(ws, result)
    (ws.bench_dir / "model_judgment" / JUDGE / "ghost.jsonl").unlink()
    assert result.stdout == run(ws.root, *SHOW).stdout  # the same leaderboard as without it


NOTED = [
    Documented("fifo: one in the judgment folder is skipped with a note", fifo(
        f"data/{BENCH}/model_judgment/{JUDGE}/ghost.jsonl"), SHOW, 0, check_only_note_is_the_skip),
    Documented("answers: a repeated question is named, and the last line kept", append_rows(
        MODEL_ANSWERS, [answer_row("q001", MODEL, "SECOND THOUGHTS")]), GA, 0, check_duplicate_named),
    Documented("answers: num_choices raised after answering is noted", set_key(ANSWER_CONFIG, "num_choices", 2), GA, 0,
               check_choices_noted),
    Documented("answers: a question that gained a turn is noted", gain_a_turn, GA, 0, check_turn_noted),
    Documented("answers: a file mixing both record formats is noted", append_rows(MODEL_ANSWERS, [V2_ANSWER]), GA, 0,
               stderr_has(f"note: {MODEL_ANSWERS}: mixes 3 v0.1-format record(s) (`question_id`) and 1 v2.0-format "
                          "(`uid`)")),
    Documented("judgments: a file mixing both record formats is noted by show_result",
               append_rows(JUDGMENTS, [V2_JUDGMENT]), SHOW, 0,
               stderr_has(f"note: {JUDGMENTS}: mixes 2 v0.1-format record(s) (`question_id`) and 1 v2.0-format")),
    Documented("answer config: an unknown key is a warning naming the nearest known key",
               set_key(ANSWER_CONFIG, "temprature", 0.5), GA, 0, stderr_has(
                   f"warning: {ANSWER_CONFIG}: `temprature` is not a known key; ignored (did you mean `temperature`?)")),
    Documented("judge config: an unknown key is a warning naming the nearest known key", both(
        complete_model_answers, set_key(JUDGE_CONFIG, "regex_patern", "x")), (*GJ, "--dry-run"), 0, stderr_has(
        f"warning: {JUDGE_CONFIG}: `regex_patern` is not a known key; ignored (did you mean `regex_pattern`?)")),
]


@pytest.mark.parametrize("case", NOTED, ids=[case.name for case in NOTED])
def test_inputs_that_are_not_errors_get_one_note(bench: Workspace, case: Documented):
    assert_documented(bench, case)


def test_an_answer_file_symlinked_out_of_data_is_written_through(tmp_path):
    """Appends and the final sorted rewrite both reach the link's target; the link stays a link."""
    ws = make_bench(tmp_path / "bench")
    target = tmp_path / "elsewhere" / "answers.jsonl"
    target.parent.mkdir()
    lines = ws.answer_file(MODEL).read_bytes().splitlines(keepends=True)
    target.write_bytes(b"".join(reversed(lines)))  # out of order: the run ends with a sorted rewrite
    ws.answer_file(MODEL).unlink()
    ws.answer_file(MODEL).symlink_to(target)
    result = run(ws.root, *GA)
    assert result.returncode == 0, result.stderr
    assert ws.answer_file(MODEL).is_symlink() and ws.answer_file(MODEL).resolve() == target
    assert [r["question_id"] for r in read_jsonl(target)] == [f"q{i:03d}" for i in range(QUESTION_COUNT)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["answers.jsonl"]  # no temporary, no lock left


def test_a_full_disk_while_taking_the_lock_names_the_file(tmp_path):
    make_bench(tmp_path)
    result = run_with_file_size_limit(tmp_path, 0, "gen_answer.py")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lock = f"data/{BENCH}/model_answer/.{MODEL}.jsonl.lock"
    assert result.stderr.splitlines() == [f"error: {lock}: File too large"]
    assert not (tmp_path / lock).exists()


def test_utils_reader_skips_what_is_not_a_regular_file(tmp_path, capsys):
    import utils
    ws = make_bench(tmp_path)
    os.mkfifo(ws.bench_dir / "model_answer" / "ghost.jsonl")
    answers = utils.load_model_answers(ws.bench_dir / "model_answer")
    assert sorted(answers) == [BASE, MODEL]
    assert "skipped 1 entry named *.jsonl that is not a regular file (ghost.jsonl)" in capsys.readouterr().err


# --- the pure rules behind the refusals ----------------------------------------------------------

@pytest.mark.parametrize("name", ["a\nb", "a\tb", "a\x85b", "a\u200bb", "a\u200db", "a\u202eb", "a\u2066b", "a\ufeffb",
                                  "a\u2028b"])
def test_control_and_invisible_characters_are_refused(name):
    with pytest.raises(UserError, match=r"U\+"):
        check_name(name, "where")


@pytest.mark.parametrize("name", ["gpt-4-0314", "meta-llama/Llama-3-8B", NFC, NFD, "模型", "a b", "emoji-\U0001f600"])
def test_plain_names_pass(name):
    assert check_name(name, "where") == name


def test_twins_are_named_with_both_spellings_and_sources():
    refuse_twins({"gpt-4": "a.jsonl", "GPT-4": "b.jsonl", "gpt-4o": "c.jsonl"})  # different names: no error
    with pytest.raises(UserError) as error:
        refuse_twins({NFC: "a.jsonl", "other": "b.jsonl", NFD: "c.jsonl"})
    assert str(error.value).startswith(f"a.jsonl names the model {ascii(NFC)} and c.jsonl names {ascii(NFD)}: ")
    for twin in ("x ", " x", "\uff58"):  # spaces around, a full-width letter
        with pytest.raises(UserError):
            refuse_twins({"x": "f", twin: "f"})


def test_nearest_key_suggests_only_close_keys():
    known = {"temperature", "max_tokens", "model_list", "system_prompt"}
    assert nearest_key("temprature", known) == "temperature"
    assert nearest_key("Max_Tokens", known) == "max_tokens"
    assert nearest_key("system_promt", known) == "system_prompt"
    assert nearest_key("colour", known) is None
