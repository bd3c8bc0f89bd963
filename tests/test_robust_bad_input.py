"""Bad input, for every script: a corpus of broken configs, question, answer and judgment files and
flags, each run in a working directory holding a small valid bench: the base bench by every script as a
user would (a subprocess), each case by the script's main in this process (qa_browser.py's and demo.py's
as subprocesses), so that the corpus costs no interpreter start per case.

Every error case must end with exit status 2 and exactly one line on stderr that names the file (and
the line or key, where there is one), no traceback, and every file that was there before byte for
byte unchanged, with no new file but show_result's parse cache. The base bench is deliberately
unfinished (one answer and one judgment still to make), so a script that went ahead instead of
stopping would change a file. Inputs that are legitimately not errors (a cut-off last line left by a
crash, an unknown verdict label, ...) have their documented behaviour asserted in a second table."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
import yaml

from pipeline_helpers import (BENCH, TEMPLATE, Workspace, questions, read_jsonl, run_script_in_process, write_jsonl,
                              write_yaml)
from tests.conftest import REPO_ROOT

JUDGE, BASE, MODEL = "judge-x", "base", "model-1"
QUESTION_COUNT = 4
CACHE_DIR = ".show_result_cache"
SDK_KEY_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
IN_SUBPROCESS = {"qa_browser.py", "demo.py"}
SHOW = ("show_result.py", "--bench-name", BENCH, "--judge-name", JUDGE, "--baseline", BASE, "--num-rounds", "20")


def answer_row(qid: str, model: str, text: str) -> dict:
    return {"question_id": qid, "answer_id": f"{model}-{qid}", "model_id": model, "tstamp": 0.0,
            "choices": [{"index": 0, "turns": [{"content": text, "token_len": len(text.split())}]}]}


def judgment_row(qid: str, game1: str | None = "A>B", game2: str | None = "B>A") -> dict:
    return {"question_id": qid, "model": MODEL, "judge": JUDGE,
            "games": [{"user_prompt": "p1", "judgment": f"[[{game1}]]", "score": game1},
                      {"user_prompt": "p2", "judgment": f"[[{game2}]]", "score": game2}]}


def make_bench(root: Path) -> Workspace:
    """A valid, unfinished bench: the baseline answered all 4 questions, model-1 three of them, and the
    judge judged two of those three; every model is served by the offline `mock` api_type."""
    ws = Workspace(root)
    rows = questions(QUESTION_COUNT)
    ws.write_questions(rows)
    write_jsonl(ws.answer_file(BASE), [answer_row(r["question_id"], BASE, f"base answer {i} " + "word " * i)
                                       for i, r in enumerate(rows)])
    write_jsonl(ws.answer_file(MODEL), [answer_row(r["question_id"], MODEL, f"model answer {i} " + "more " * 2 * i)
                                        for i, r in enumerate(rows[:3])])
    write_jsonl(ws.judgment_file(JUDGE, MODEL), [judgment_row("q000", "A>B", "B>A"),
                                                 judgment_row("q001", "B>>A", "A=B")])
    ws.write_api_config({MODEL: {"api_type": "mock", "parallel": 2}, BASE: {"api_type": "mock"},
                         JUDGE: {"api_type": "mock", "mock": {"role": "judge"}}})
    ws.write_answer_config([MODEL])
    ws.write_judge_config(JUDGE, BASE, [MODEL], number_of_judgment_attempts=1)
    return ws


def run_as_user(root: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The script as a user runs it (a new interpreter), with no API key in the environment."""
    clean = {k: v for k, v in os.environ.items() if k not in SDK_KEY_VARIABLES}
    return subprocess.run([sys.executable, str(REPO_ROOT / script), *args], cwd=root, capture_output=True,
                          text=True, timeout=60, env=clean)


def run(root: Path, script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The script's main in this process (run_as_user's result without an interpreter per case), with no API
    key in the environment unless `env` gives one; qa_browser.py and demo.py, whose runs start servers and
    scripts of their own, as a user runs them."""
    if script in IN_SUBPROCESS:
        assert not env
        return run_as_user(root, script, *args)
    return run_script_in_process(script, *args, cwd=root, env=env, unset=set(SDK_KEY_VARIABLES) - set(env or {}))


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under `root`, show_result's parse cache aside."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and CACHE_DIR not in path.parts}


# --- small edits of the base bench -------------------------------------------------------------

def write_text(relative: str, text: str | bytes) -> Callable[[Workspace], None]:
    def edit(ws: Workspace) -> None:
        path = ws.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return edit


def edit_yaml(relative: str, change: Callable[[dict], None]) -> Callable[[Workspace], None]:
    def edit(ws: Workspace) -> None:
        path = ws.root / relative
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        write_yaml(path, data)
    return edit


def set_key(relative: str, dotted: str, value: object) -> Callable[[Workspace], None]:
    def change(data: dict) -> None:
        *parents, last = dotted.split(".")
        for name in parents:
            data = data[name]
        data[last] = value
    return edit_yaml(relative, change)


def drop_key(relative: str, dotted: str) -> Callable[[Workspace], None]:
    def change(data: dict) -> None:
        *parents, last = dotted.split(".")
        for name in parents:
            data = data[name]
        del data[last]
    return edit_yaml(relative, change)


def replace_line(relative: str, lineno: int, raw: bytes | None) -> Callable[[Workspace], None]:
    """Replace line `lineno` (1-based) of a file with `raw` (None: cut the file after that line's first
    12 bytes, as a crash mid-write would leave it)."""
    def edit(ws: Workspace) -> None:
        path = ws.root / relative
        lines = path.read_bytes().splitlines(keepends=True)
        if raw is None:
            path.write_bytes(b"".join(lines[:lineno - 1]) + lines[lineno - 1][:12])
        else:
            lines[lineno - 1] = raw + b"\n"
            path.write_bytes(b"".join(lines))
    return edit


def append_rows(relative: str, rows: list[dict]) -> Callable[[Workspace], None]:
    def edit(ws: Workspace) -> None:
        with open(ws.root / relative, "a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
    return edit


def remove(relative: str) -> Callable[[Workspace], None]:
    return lambda ws: (ws.root / relative).unlink()


ANSWER_CONFIG = "config/gen_answer_config.yaml"
JUDGE_CONFIG = "config/judge_config.yaml"
API_CONFIG = "config/api_config.yaml"
QUESTIONS = f"data/{BENCH}/question.jsonl"
MODEL_ANSWERS = f"data/{BENCH}/model_answer/{MODEL}.jsonl"
BASE_ANSWERS = f"data/{BENCH}/model_answer/{BASE}.jsonl"
JUDGMENTS = f"data/{BENCH}/model_judgment/{JUDGE}/{MODEL}.jsonl"


@dataclass(frozen=True)
class Case:
    """One bad input: the edit of the base bench, the command, and the fragments its one error line holds
    (the file, then the line or key)."""
    name: str
    edit: Callable[[Workspace], None] | None
    command: tuple[str, ...]
    fragments: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


GA, GJ = ("gen_answer.py",), ("gen_judgment.py",)
API_CONFIG_TEXT = (f"{MODEL}:\n  api_type: mock\n{BASE}:\n  api_type: mock\n{JUDGE}:\n  api_type: mock\n"
                   f"  mock: {{role: judge}}\n")
# Ten levels of nine aliases each: 9**10 copies of one short list if written out.
BILLION_LAUGHS = API_CONFIG_TEXT.replace("  api_type: mock\n", "  api_type: mock\n  extra_body:\n    l0: &l0 [lol, lol]\n" + "".join(
    f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 11)), 1)
# Careless or hostile configs (issue 16): each class of input that used to give a silently wrong result,
# a wasted call or a write outside data/ is refused before any call.
HOSTILE = [
    Case("endpoint file: a model defined twice", write_text(API_CONFIG, API_CONFIG_TEXT + f"{MODEL}:\n  parallel: 4\n"),
         GA, (f"{API_CONFIG}:8:", f"`{MODEL}` is defined twice (first at line 1)")),
    Case("answer config: a key written twice", write_text(ANSWER_CONFIG, f"bench_name: {BENCH}\nmodel_list: [{MODEL}]\n"
                                                                         "bench_name: other\n"),
         GA, (f"{ANSWER_CONFIG}:3:", "`bench_name` is defined twice (first at line 1)")),
    Case("endpoint file: nested aliases (a billion laughs)", write_text(API_CONFIG, BILLION_LAUGHS), (*GA, "--dry-run"),
         (API_CONFIG, "aliases (*name) expand to over")),
    Case("endpoint file: an alias that contains itself", write_text(API_CONFIG, API_CONFIG_TEXT.replace(
        "  api_type: mock\n", "  api_type: mock\n  extra_body: &loop {again: *loop}\n", 1)), GA, (API_CONFIG, "a loop")),
    Case("endpoint file: temperature .inf", set_key(API_CONFIG, f"{MODEL}.temperature", float("inf")), GA,
         (API_CONFIG, f"`{MODEL}.temperature` must be a number >= 0.0")),
    Case("answer config: temperature .nan", set_key(ANSWER_CONFIG, "temperature", float("nan")), GA,
         (ANSWER_CONFIG, "`temperature` must be a number")),
    Case("judge config: max_tokens .inf", set_key(JUDGE_CONFIG, "max_tokens", float("inf")), GJ,
         (JUDGE_CONFIG, "`max_tokens` must be an integer")),
    Case("endpoint file: api_base without a scheme", set_key(API_CONFIG, MODEL, {
        "api_type": "openai", "endpoints": [{"api_base": "localhost:8000/v1", "api_key": "k"}]}), GA,
         (API_CONFIG, f"`{MODEL}.endpoints[0].api_base` must be an http:// or https:// address")),
    Case("endpoint file: api key with a space inside", set_key(API_CONFIG, MODEL, {
        "api_type": "openai", "endpoints": [{"api_base": "http://127.0.0.1:9/v1", "api_key": "sk-one two"}]}), GA,
         (API_CONFIG, f"`{MODEL}.endpoints[0].api_key` must be a string without spaces")),
    Case("answer config: empty model_list", set_key(ANSWER_CONFIG, "model_list", []), GA,
         (ANSWER_CONFIG, "`model_list` is empty")),
    Case("answer config: a model name too long for a file name", set_key(ANSWER_CONFIG, "model_list", ["m" * 300]), GA,
         (ANSWER_CONFIG, "`model_list`", "too long for a file name")),
    Case("judge config: regex without a capture group", set_key(JUDGE_CONFIG, "regex_pattern", r"\[\[[AB<>=]+\]\]"),
         GJ, (JUDGE_CONFIG, "`regex_pattern`", "has 0 capture groups; it needs exactly one")),
    Case("judge config: regex with two capture groups", set_key(JUDGE_CONFIG, "regex_patterns",
                                                               [r"\[\[([AB<>=]+)\]\]", r"\[(A|B)([<>=]+)\]"]),
         GJ, (JUDGE_CONFIG, "has 2 capture groups")),
    Case("judge config: prompt_template without the second answer",
         set_key(JUDGE_CONFIG, "prompt_template", [TEMPLATE.replace("{answer_2}", "(second answer)")]), GJ,
         (JUDGE_CONFIG, "`prompt_template` never shows {answer_2}")),
    Case("judge config: prompt_template without the question, over two templates", set_key(
        JUDGE_CONFIG, "prompt_template", ["A: {answer_1}", "B: {answer_2}"]), GJ,
         (JUDGE_CONFIG, "`prompt_template` never shows {question_1}")),
    Case("answer config: bench_name that climbs out of data/", set_key(ANSWER_CONFIG, "bench_name", "../../outside"),
         GA, ("data/%2E.%2F..%2Foutside/question.jsonl", "question file not found")),
    Case("flag: gen_judgment --model-list with a typo", None, (*GJ, "--model-list", "mdoel-1"),
         (f"data/{BENCH}/model_answer/mdoel-1.jsonl", "no answers from 'mdoel-1'")),
    Case("flag: show_result --num-rounds past the cap", None, (*SHOW[:-2], "--num-rounds", "10000000"),
         ("--num-rounds must be between 20 and 10,000",)),
    Case("flag: show_result --num-rounds too few for an interval", None, (*SHOW[:-2], "--num-rounds", "1"),
         ("--num-rounds must be between 20 and 10,000", "no meaningful confidence interval")),
    Case("flag: show_result --output when leaderboard is a file", write_text("leaderboard", "notes"), (*SHOW, "--output"),
         ("leaderboard: is a file, not a folder",)),
    Case("flag: show_result --category with question.jsonl missing", remove(QUESTIONS), (*SHOW, "--category", "tiny"),
         (QUESTIONS, "--category needs each question's category")),
]
BAD_INPUTS = [
    # --- configs ---------------------------------------------------------------------------------
    Case("answer config: YAML syntax error",
         write_text(ANSWER_CONFIG, "bench_name: tiny-bench\nmodel_list: [model-1\n"), GA,
         (f"{ANSWER_CONFIG}:3:", "YAML syntax error")),
    Case("answer config: empty file", write_text(ANSWER_CONFIG, ""), GA, (ANSWER_CONFIG, "the file is empty")),
    Case("answer config: a list, not a mapping", write_text(ANSWER_CONFIG, "- bench_name\n- model_list\n"),
         GA, (ANSWER_CONFIG, "expected a mapping")),
    Case("answer config: invalid UTF-8", write_text(ANSWER_CONFIG, b"bench_name: tiny-\xff\nmodel_list: [m]\n"),
         GA, (ANSWER_CONFIG, "not valid UTF-8")),
    Case("answer config: missing bench_name", drop_key(ANSWER_CONFIG, "bench_name"), GA,
         (ANSWER_CONFIG, "`bench_name` is missing")),
    Case("answer config: max_tokens of the wrong type", set_key(ANSWER_CONFIG, "max_tokens", "plenty"), GA,
         (ANSWER_CONFIG, "`max_tokens` must be an integer")),
    Case("answer config: num_choices zero", set_key(ANSWER_CONFIG, "num_choices", 0), GA,
         (ANSWER_CONFIG, "`num_choices` must be an integer >= 1")),
    Case("answer config: model_list of numbers", set_key(ANSWER_CONFIG, "model_list", [1, 2]), GA,
         (ANSWER_CONFIG, "`model_list` must be a list of names")),
    Case("endpoint file: unknown api_type", set_key(API_CONFIG, f"{MODEL}.api_type", "palm"), GA,
         (API_CONFIG, f"`{MODEL}.api_type` is 'palm'")),
    Case("endpoint file: parallel zero", set_key(API_CONFIG, f"{MODEL}.parallel", 0), GA,
         (API_CONFIG, f"`{MODEL}.parallel` must be an integer >= 1")),
    Case("endpoint file: parallel negative", set_key(API_CONFIG, f"{MODEL}.parallel", -4), GA,
         (API_CONFIG, f"`{MODEL}.parallel` must be an integer >= 1")),
    Case("endpoint file: parallel a word", set_key(API_CONFIG, f"{MODEL}.parallel", "eight"), GA,
         (API_CONFIG, f"`{MODEL}.parallel` must be an integer >= 1")),
    Case("endpoint file: timeout zero", set_key(API_CONFIG, f"{MODEL}.timeout", 0), GA,
         (API_CONFIG, f"`{MODEL}.timeout` must be a number")),
    Case("endpoint file: max_attempts a word", set_key(API_CONFIG, f"{MODEL}.max_attempts", "three"), GA,
         (API_CONFIG, f"`{MODEL}.max_attempts` must be an integer")),
    Case("endpoint file: endpoints a string", set_key(API_CONFIG, f"{MODEL}.endpoints", "http://localhost:1"), GA,
         (API_CONFIG, f"`{MODEL}.endpoints` must be null or a list")),
    Case("endpoint file: unset ${VAR}", set_key(API_CONFIG, f"{MODEL}.endpoints", [
        {"api_base": "http://127.0.0.1:9/v1", "api_key": "${ROBUST_UNSET_KEY}"}]),
         GA, (API_CONFIG, f"`{MODEL}.endpoints[0]`", "${ROBUST_UNSET_KEY}")),
    Case("endpoint file: unknown mock style", set_key(API_CONFIG, f"{MODEL}.mock", {"style": "verbose"}), GA,
         (API_CONFIG, f"`{MODEL}.mock.style` must be one of")),
    Case("endpoint file: model missing", drop_key(API_CONFIG, MODEL), GA, (API_CONFIG, f"no entry for '{MODEL}'")),
    Case("endpoint file: a list", write_text(API_CONFIG, "- model-1\n"), GA, (API_CONFIG, "expected a mapping")),
    Case("endpoint file: openai model with no key anywhere", set_key(API_CONFIG, MODEL, {"api_type": "openai"}), GA,
         (API_CONFIG, f"`{MODEL}` has no API key", "OPENAI_API_KEY")),
    Case("judge config: invalid regex", set_key(JUDGE_CONFIG, "regex_pattern", r"\[\[([AB<>=]+\]\]"), GJ,
         (JUDGE_CONFIG, "`regex_pattern`", "not a valid regular expression")),
    Case("judge config: prompt_template a number", set_key(JUDGE_CONFIG, "prompt_template", 5), GJ,
         (JUDGE_CONFIG, "`prompt_template` must be a list")),
    Case("judge config: prompt_template asks for a second turn", set_key(JUDGE_CONFIG, "prompt_template",
                                                                        [TEMPLATE + "\n{question_2}"]), GJ,
         (JUDGE_CONFIG, "`prompt_template`", "{question_2}")),
    Case("judge config: number_of_judgment_attempts zero", set_key(JUDGE_CONFIG, "number_of_judgment_attempts", 0),
         GJ, (JUDGE_CONFIG, "`number_of_judgment_attempts` must be an integer >= 1")),
    Case("judge config: reference without ref_model", set_key(JUDGE_CONFIG, "reference", True), GJ,
         (JUDGE_CONFIG, "`ref_model` is missing")),
    Case("judge config: empty model_list", set_key(JUDGE_CONFIG, "model_list", []), GJ,
         (JUDGE_CONFIG, "`model_list` is empty")),
    Case("judge config: missing baseline_model", drop_key(JUDGE_CONFIG, "baseline_model"), GJ,
         (JUDGE_CONFIG, "`baseline_model` is missing")),
    Case("judge config: prompt from a file not there", set_key(JUDGE_CONFIG, "system_prompt",
                                                             {"from_file": "official/judge_config.yaml"}), GJ,
         (JUDGE_CONFIG, "`system_prompt`", "download_data.py")),
    Case("endpoint file: judge missing", drop_key(API_CONFIG, JUDGE), GJ, (API_CONFIG, f"no entry for '{JUDGE}'")),
    # --- question files --------------------------------------------------------------------------
    Case("questions: missing file", remove(QUESTIONS), GA, (QUESTIONS, "question file not found")),
    Case("questions: empty file", write_text(QUESTIONS, ""), GA, (QUESTIONS, "holds no questions")),
    Case("questions: duplicate id", replace_line(QUESTIONS, 3, json.dumps(questions(2)[1]).encode()), GA,
         (f"{QUESTIONS}:3:", "'q001' already appears at line 2")),
    Case("questions: invalid JSON", replace_line(QUESTIONS, 2, b'{"question_id": "q001", "turns": [}'), GA,
         (f"{QUESTIONS}:2:", "not valid JSON")),
    Case("questions: invalid UTF-8", replace_line(QUESTIONS, 3, b'{"question_id": "q\xc3\x28", "turns": []}'), GA,
         (f"{QUESTIONS}:3:", "not valid UTF-8")),
    Case("questions: cut-off last line (not ours to repair)", replace_line(QUESTIONS, 4, None), GA,
         (f"{QUESTIONS}:4:", "cut short")),
    Case("questions: an array, not an object", replace_line(QUESTIONS, 2, b'["q001", "How?"]'), GA,
         (f"{QUESTIONS}:2:", "expected a JSON object")),
    Case("questions: no turns", replace_line(QUESTIONS, 1, b'{"question_id": "q000", "text": "How?"}'), GA,
         (f"{QUESTIONS}:1:", "no `turns`")),
    Case("questions: empty turns", replace_line(QUESTIONS, 1, b'{"question_id": "q000", "turns": []}'), GJ,
         (f"{QUESTIONS}:1:", "`turns` must be a non-empty list")),
    Case("questions: a number past Python's digit limit", replace_line(
        QUESTIONS, 2, b'{"question_id": "q001", "turns": [{"content": "x"}], "n": ' + b"7" * 5000 + b"}"), GA,
         (f"{QUESTIONS}:2:", "cannot be read")),
    Case("questions: nesting too deep for the parser", replace_line(QUESTIONS, 2, b"[" * 100_000), GA,
         (f"{QUESTIONS}:2:", "cannot be read")),
    Case("questions: a directory", lambda ws: (ws.root / QUESTIONS).unlink() or (ws.root / QUESTIONS).mkdir(), GA,
         (QUESTIONS, "is a directory")),
    # --- answer files ----------------------------------------------------------------------------
    Case("answers: baseline file empty", write_text(BASE_ANSWERS, ""), GJ, (BASE_ANSWERS, f"'{BASE}' has no answers")),
    Case("answers: invalid JSON in the model's file",
         replace_line(MODEL_ANSWERS, 2, b'{"question_id": "q001", choices'), GJ,
         (f"{MODEL_ANSWERS}:2:", "not valid JSON")),
    Case("answers: record without choices", replace_line(MODEL_ANSWERS, 1, b'{"question_id": "q000", "text": "hi"}'),
         GJ, (f"{MODEL_ANSWERS}:1:", "no `choices`")),
    Case("answers: invalid UTF-8 in the baseline", replace_line(BASE_ANSWERS, 4, b'{"question_id": "q003\xfe"}'), GJ,
         (f"{BASE_ANSWERS}:4:", "not valid UTF-8")),
    Case("answers: a line without question_id in the file being resumed",
         replace_line(MODEL_ANSWERS, 2, json.dumps({"choices": [{"turns": [{"content": "x"}]}]}).encode()), GA,
         (f"{MODEL_ANSWERS}:2:", "no question_id")),
    Case("answers: invalid JSON mid-file in the file being resumed", replace_line(MODEL_ANSWERS, 1, b"{oops"), GA,
         (f"{MODEL_ANSWERS}:1:", "not valid JSON")),
    Case("answers: the second model's file is broken (checked before the first model is asked)",
         lambda ws: (set_key(ANSWER_CONFIG, "model_list", [MODEL, BASE])(ws), replace_line(BASE_ANSWERS, 2, b"{")(ws)),
         GA, (f"{BASE_ANSWERS}:2:", "not valid JSON")),
    Case("answers: the second model's file is broken (checked before the judge is asked)",
         lambda ws: (set_key(JUDGE_CONFIG, "model_list", [MODEL, "model-2"])(ws),
                     write_text(MODEL_ANSWERS.replace(MODEL, "model-2"), b'{"question_id": "q000"}\n')(ws)),
         GJ, (f"{MODEL_ANSWERS.replace(MODEL, 'model-2')}:1:", "no `choices`")),
    # --- judgment files --------------------------------------------------------------------------
    Case("judgments: invalid JSON mid-file in the file being resumed", replace_line(JUDGMENTS, 1, b'{"question_id": '),
         GJ, (f"{JUDGMENTS}:1:", "not valid JSON")),
    Case("judgments: judge directory does not exist", None, (*SHOW[:3], "--judge-name", "nobody"),
         (f"data/{BENCH}/model_judgment/nobody", "no judgments by nobody")),
    Case("judgments: invalid UTF-8", replace_line(JUDGMENTS, 2, b'{"question_id": "q001\x80", "games": []}'), SHOW,
         (f"{JUDGMENTS}:2:", "UTF-8")),
    Case("judgments: games not a list", replace_line(JUDGMENTS, 1, b'{"question_id": "q000", "games": "A>B"}'), SHOW,
         (f"{JUDGMENTS}:1:", "`games` must be")),
    Case("judgments: cut-off last line, read by show_result", replace_line(JUDGMENTS, 2, None), SHOW,
         (f"{JUDGMENTS}:2:", "cut short", "rerun")),
    Case("judgments: a number past Python's digit limit", replace_line(
        JUDGMENTS, 2, b'{"question_id": "q001", "games": [], "n": ' + b"9" * 5000 + b"}"), SHOW,
         (f"{JUDGMENTS}:2:", "cannot be read")),
    Case("judgments: baseline answer file empty", write_text(BASE_ANSWERS, ""), SHOW,
         (BASE_ANSWERS, "holds no answers for the baseline")),
    Case("judgments: model answers unreadable", replace_line(MODEL_ANSWERS, 2, b"{not json"), SHOW,
         (f"{MODEL_ANSWERS}:2:",)),
    Case("judgments: --load-battles with none saved", None, (*SHOW, "--load-battles"),
         ("data/arena_hard_battles.jsonl", "no saved battles")),
    # --- flags -----------------------------------------------------------------------------------
    Case("flag: gen_answer unknown flag", None, (*GA, "--parallel", "4"), ("unrecognized arguments: --parallel 4",)),
    Case("flag: gen_answer --setting-file without a value", None, (*GA, "--setting-file"),
         ("--setting-file", "expected one argument")),
    Case("flag: gen_answer --setting-file not there", None, (*GA, "--setting-file", "config/nope.yaml"),
         ("config/nope.yaml", "config file not found")),
    Case("flag: gen_judgment --model-list without names", None, (*GJ, "--model-list"),
         ("--model-list", "expected at least one argument")),
    Case("flag: gen_judgment --judge-model unknown", None, (*GJ, "--judge-model", "nobody"),
         (API_CONFIG, "no entry for 'nobody'")),
    Case("flag: show_result --weight 0", None, (*SHOW, "--weight", "0"), ("--weight must be at least 1",)),
    Case("flag: show_result --num-rounds not a number", None, (*SHOW[:-2], "--num-rounds", "many"),
         ("--num-rounds", "invalid int value: 'many'")),
    Case("flag: show_result --category unknown", None, (*SHOW, "--category", "poetry"), ("'poetry'",)),
    Case("flag: show_result --category, the second unknown", None, (*SHOW, "--category", "tiny", "poetry"),
         ("'poetry'",)),
    Case("flag: qa_browser --config-file with a YAML error", write_text("config/browse.yaml", "bench_name: [x\n"),
         ("qa_browser.py", "--config-file", "config/browse.yaml"), ("config/browse.yaml:2:", "YAML syntax error")),
    Case("flag: qa_browser --port negative", None, ("qa_browser.py", "--port", "-5"), ("--port", "-5")),
    Case("flag: download_data --parallel 0", None, ("download_data.py", "--parallel", "0"),
         ("--parallel", "'0' is not an integer >= 1")),
    Case("flag: download_data --base-url not http", None, ("download_data.py", "--base-url", "ftp://example.org"),
         ("--base-url", "not an http(s) URL")),
    Case("flag: download_data --judge without --pregenerated", None, ("download_data.py", "--judge", "*"),
         ("--judge selects pre-generated data",)),
    Case("flag: demo.py unknown flag", None, ("demo.py", "--fast"), ("demo.py", "unrecognized arguments: --fast")),
    *HOSTILE,
]


@pytest.fixture
def bench(tmp_path: Path) -> Workspace:
    return make_bench(tmp_path)


def test_the_base_bench_is_valid_for_every_script(tmp_path: Path):
    """Without an edit the base bench runs cleanly, so each case below fails because of its one edit."""
    ws = make_bench(tmp_path)
    for command in (GA, GJ, SHOW):
        result = run_as_user(tmp_path, *command)
        assert result.returncode == 0, (command, result.stderr)
    assert len(read_jsonl(ws.answer_file(MODEL))) == QUESTION_COUNT
    assert len(read_jsonl(ws.judgment_file(JUDGE, MODEL))) == QUESTION_COUNT


def assert_refused(bench: Workspace, case: Case) -> str:
    """Run the case: exit status 2, one error line holding every fragment, every file unchanged; the line."""
    if case.edit is not None:
        case.edit(bench)
    before = snapshot(bench.root)
    result = run(bench.root, *case.command, env=case.env)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and result.stderr.endswith("\n"), result.stderr
    assert "error:" in lines[0]
    for fragment in case.fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert snapshot(bench.root) == before
    return lines[0]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case.name for case in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(bench: Workspace, case: Case):
    assert_refused(bench, case)


# --- inputs that are not errors: their documented behaviour -------------------------------------

def complete_model_answers(ws: Workspace) -> None:
    """Give model-1 its missing answer, so that a judging run can finish with exit status 0."""
    append_rows(MODEL_ANSWERS, [answer_row("q003", MODEL, "model answer 3 " + "more " * 6)])(ws)


def cut_last_line(relative: str) -> Callable[[Workspace], None]:
    """What kill -9 in the middle of an append would leave if a line could be cut: the last line halved."""
    def edit(ws: Workspace) -> None:
        path = ws.root / relative
        data = path.read_bytes()
        start = data.rstrip(b"\n").rfind(b"\n") + 1
        path.write_bytes(data[:start + (len(data) - start) // 2])
    return edit


def judged_with_two_games(ws: Workspace) -> list[dict]:
    records = read_jsonl(ws.judgment_file(JUDGE, MODEL))
    assert [r["question_id"] for r in records] == [f"q{i:03d}" for i in range(QUESTION_COUNT)]
    assert all(len(r["games"]) == 2 and all(g["score"] for g in r["games"]) for r in records)
    return records


def check_repaired_answers(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert f"{MODEL_ANSWERS}: removed an incomplete last line" in result.stderr
    records = read_jsonl(ws.answer_file(MODEL))
    assert [r["question_id"] for r in records] == [f"q{i:03d}" for i in range(QUESTION_COUNT)]
    assert [r["answer_id"] for r in records[:2]] == ["model-1-q000", "model-1-q001"]  # kept, not asked again


def check_repaired_judgments(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert f"{JUDGMENTS}: removed an incomplete last line" in result.stderr
    records = judged_with_two_games(ws)
    assert records[0]["games"][0]["judgment"] == "[[A>B]]"  # the record before the cut was kept, not redone


def check_newline_added(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert f"{MODEL_ANSWERS}: added the missing newline after the last record" in result.stderr
    records = read_jsonl(ws.answer_file(MODEL))
    assert [r["answer_id"] for r in records[:3]] == ["model-1-q000", "model-1-q001", "model-1-q002"]
    assert len(records) == QUESTION_COUNT


def check_unknown_label_dropped(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert "note: 1 game(s) had no verdict (no score, or a label other than" in result.stderr
    assert any(line.startswith(f"{MODEL} ") and "| score:" in line for line in result.stdout.splitlines())


def check_unknown_key_warned(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert result.stderr.splitlines()[0] == (f"warning: {API_CONFIG}: `{MODEL}.temprature` is not a known key; ignored "
                                             f"(did you mean `{MODEL}.temperature`?)")
    assert len(read_jsonl(ws.answer_file(MODEL))) == QUESTION_COUNT


def check_missing_answers_listed(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert f"{MODEL}: skipped 1 question(s) with no answer from the model, the baseline or a reference (q003)" \
        in result.stderr
    assert [r["question_id"] for r in read_jsonl(ws.judgment_file(JUDGE, MODEL))] == ["q000", "q001", "q002"]


def check_blank_and_crlf_lines_read(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert len(read_jsonl(ws.answer_file(MODEL))) == QUESTION_COUNT


def check_last_answer_line_wins(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    record = next(r for r in judged_with_two_games(ws) if r["question_id"] == "q002")
    assert "SECOND THOUGHTS" in record["games"][0]["user_prompt"]


def check_one_game_record_redone(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert judged_with_two_games(ws)[1]["games"][0]["judgment"] != "[[B>>A]]"


def check_newline_added_to_judgments(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    notes = [line for line in result.stderr.splitlines() if line.startswith("note:")]
    assert [note for note in notes if "questions; " not in note] == []  # only the coverage of the small bench
    assert any(line.startswith(f"{MODEL} ") for line in result.stdout.splitlines())


def check_asked_once(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert f"note: {ANSWER_CONFIG}: `model_list` lists '{MODEL}' more than once; it is used once" in result.stderr
    assert result.stdout.count(f"{MODEL}: 3 of {QUESTION_COUNT} already answered") == 1
    assert f"{MODEL}: 1 answered, 0 failed; 1 calls" in result.stdout
    assert len(read_jsonl(ws.answer_file(MODEL))) == QUESTION_COUNT


def check_judged_once(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert f"note: --model-list lists '{MODEL}' more than once; it is used once" in result.stderr
    assert result.stdout.count(f"{MODEL}: 2 of {QUESTION_COUNT} already judged") == 1
    assert f"{MODEL}: 2 judged, 0 failed; 4 calls" in result.stdout
    judged_with_two_games(ws)


def check_judges_pooled_once(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert f"note: --judge-names lists '{JUDGE}' more than once; it is used once" in result.stderr
    assert result.stdout == run(ws.root, *SHOW).stdout  # the same interval as one judge, not a narrower one


def check_baseline_not_judged(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert f"note: the baseline '{BASE}' is in the model list; it is not judged against itself" in result.stderr
    assert not ws.judgment_file(JUDGE, BASE).exists()
    judged_with_two_games(ws)


def check_verdictless_judged_again(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert f"{MODEL}: 2 judgment(s) in {JUDGMENTS} have no verdict in any game; they are judged again" in result.stderr
    assert f"{MODEL}: 0 of {QUESTION_COUNT} already judged" in result.stdout
    judged_with_two_games(ws)


def check_one_game_per_record(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert "game 2: not played" in result.stdout and "game 2: A>>B" not in result.stdout
    records = read_jsonl(ws.judgment_file(JUDGE, MODEL))
    assert len(records) == QUESTION_COUNT and all(len(r["games"]) == 1 for r in records)
    shown = run(ws.root, *SHOW)
    assert shown.returncode == 0 and "had no verdict" not in shown.stderr, shown.stderr
    assert "| no verdict 0" in shown.stderr  # the consistency block


def check_model_field_mismatch_warned(ws: Workspace, result: subprocess.CompletedProcess[str]) -> None:
    assert (f"note: {JUDGMENTS}: 1 record(s) name the model 'model-x', but the file is named for '{MODEL}'; "
            "they count for 'model-x' on the leaderboard") in result.stderr
    assert any(line.startswith("model-x ") for line in result.stdout.splitlines())


def add_model_x_answers(ws: Workspace) -> None:
    write_text(MODEL_ANSWERS.replace(MODEL, "model-x"), (ws.root / MODEL_ANSWERS).read_bytes())(ws)
    append_rows(JUDGMENTS, [{**judgment_row("q002"), "model": "model-x"}])(ws)


def verdicts_without_capture_group(ws: Workspace) -> None:
    """What a regex without a capture group stored: the whole match as the score of every game."""
    complete_model_answers(ws)
    write_jsonl(ws.judgment_file(JUDGE, MODEL), [
        {**judgment_row(qid), "games": [{"user_prompt": "p", "judgment": "[[A>B]]", "score": "[[A>B]]"}] * 2}
        for qid in ("q000", "q001")])


@dataclass(frozen=True)
class Documented:
    """An input that is not an error, with the exit status and behaviour the scripts document for it."""
    name: str
    edit: Callable[[Workspace], None]
    command: tuple[str, ...]
    status: int
    check: Callable[[Workspace, subprocess.CompletedProcess[str]], None]


NOT_ERRORS = [
    Documented("answers: cut-off last line left by a crash is repaired on resume", cut_last_line(MODEL_ANSWERS), GA,
               0, check_repaired_answers),
    Documented("judgments: cut-off last line left by a crash is repaired on resume",
               lambda ws: (complete_model_answers(ws), cut_last_line(JUDGMENTS)(ws)), GJ, 0, check_repaired_judgments),
    Documented("answers: last record without its newline gets one", lambda ws: write_text(
        MODEL_ANSWERS, (ws.root / MODEL_ANSWERS).read_bytes().rstrip(b"\n"))(ws), GA, 0, check_newline_added),
    Documented("judgments: unknown verdict label is dropped with a note",
               append_rows(JUDGMENTS, [judgment_row("q002", "A>>>B", "B>A")]), SHOW, 0, check_unknown_label_dropped),
    Documented("endpoint file: unknown key is a warning", set_key(API_CONFIG, f"{MODEL}.temprature", 0.5), GA, 0,
               check_unknown_key_warned),
    Documented("answers: a model's missing answers are listed and skipped", lambda ws: None, GJ, 1,
               check_missing_answers_listed),
    Documented("questions: blank lines and CRLF line ends", lambda ws: write_text(QUESTIONS, b"\r\n\n".join(
        json.dumps(q).encode() for q in questions(QUESTION_COUNT)) + b"\r\n\n")(ws), GA, 0,
               check_blank_and_crlf_lines_read),
    Documented("answers: a later line for the same question replaces the earlier one",
               lambda ws: (complete_model_answers(ws), append_rows(MODEL_ANSWERS, [
                   answer_row("q002", MODEL, "SECOND THOUGHTS")])(ws)), GJ, 0, check_last_answer_line_wins),
    Documented("judgments: a record with one game is judged again", lambda ws: (
        complete_model_answers(ws),
        replace_line(JUDGMENTS, 2, json.dumps({**judgment_row("q001", "B>>A"),
                                               "games": judgment_row("q001", "B>>A")["games"][:1]}).encode())(ws)),
               GJ, 0, check_one_game_record_redone),
    Documented("judgments: last record without its newline, read by show_result", lambda ws: write_text(
        JUDGMENTS, (ws.root / JUDGMENTS).read_bytes().rstrip(b"\n"))(ws), SHOW, 0, check_newline_added_to_judgments),
    # duplicates are used once, with a note; no call is made twice for one record
    Documented("answer config: a model listed twice is asked once", set_key(ANSWER_CONFIG, "model_list", [MODEL, MODEL]),
               GA, 0, check_asked_once),
    Documented("flag: gen_judgment --model-list X X judges once", complete_model_answers,
               (*GJ, "--model-list", MODEL, MODEL), 0, check_judged_once),
    Documented("flag: show_result --judge-names J J pools the judge once", lambda ws: None,
               (*SHOW[:3], "--judge-names", JUDGE, JUDGE, *SHOW[5:]), 0, check_judges_pooled_once),
    Documented("judge config: the baseline in model_list is not judged against itself", lambda ws: (
        complete_model_answers(ws), set_key(JUDGE_CONFIG, "model_list", [BASE, MODEL])(ws)), GJ, 0,
               check_baseline_not_judged),
    Documented("judgments: records with no verdict in any game are judged again", verdicts_without_capture_group, GJ, 0,
               check_verdictless_judged_again),
    Documented("judge config: pairwise False plays and reports one game per record", lambda ws: (
        complete_model_answers(ws), set_key(JUDGE_CONFIG, "pairwise", False)(ws)), GJ, 0, check_one_game_per_record),
    Documented("judgments: a record naming another model than its file is warned about", add_model_x_answers, SHOW, 0,
               check_model_field_mismatch_warned),
]


def assert_documented(bench: Workspace, case: Documented) -> None:
    case.edit(bench)
    result = run(bench.root, *case.command)
    assert result.returncode == case.status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    case.check(bench, result)


@pytest.mark.parametrize("case", NOT_ERRORS, ids=[case.name for case in NOT_ERRORS])
def test_inputs_that_are_not_errors_get_their_documented_behaviour(bench: Workspace, case: Documented):
    assert_documented(bench, case)


def test_the_corpus_covers_every_script_and_kind_of_input():
    scripts = Counter(case.command[0] for case in BAD_INPUTS)
    assert set(scripts) == {"gen_answer.py", "gen_judgment.py", "show_result.py", "qa_browser.py", "download_data.py",
                            "demo.py"}
    kinds = Counter(case.name.split(":")[0] for case in BAD_INPUTS)
    assert {"answer config", "judge config", "endpoint file", "questions", "answers", "judgments", "flag"} <= set(kinds)
    assert len(BAD_INPUTS) >= 25
    print(f"\nbad inputs tried: {len(BAD_INPUTS)} errors ({', '.join(f'{k} {n}' for k, n in scripts.items())}; "
          f"{', '.join(f'{k} {n}' for k, n in kinds.items())}) and {len(NOT_ERRORS)} inputs that are not errors")
