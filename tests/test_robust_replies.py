"""Replies of every shape, through the real openai and anthropic SDK clients against the loopback fake:
text JSON can carry but UTF-8 cannot (a lone surrogate) is stored and read back unchanged and stops
nothing else; a reply cut at the token limit is kept and counted; content parts, content that is a
number, an error sent with status 200, a choice without a message, an api_base without /v1 and usage
that is no token count each give the right behaviour and a clear line. And a v2.0 run that could not
write its records (no o200k_base file) stops before its first call, --dry-run included."""
from __future__ import annotations

import json
import tempfile
import urllib.request
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import gen_answer
import gen_judgment
from arena_hard.core.jsonl import (JsonlAppender, atomic_write_jsonl, decode_json, iter_jsonl, rewrite_sorted_unique,
                                   scan_jsonl)
from arena_hard.core.judgments import load_judgments
from arena_hard.core.records import load_answers, load_questions, record_id
from fake_api_server import (AnswerMarkers, JudgeResponder, Reply, answer_responder, answer_text, success_body)
from pipeline_helpers import (A_END, A_START, B_END, B_START, Workspace, model_entry, question, questions, read_jsonl,
                              run_script, run_script_in_process, write_jsonl)
from v2_helpers import V2Workspace, v2_questions

SURROGATE_TEXT = "x \ud800 y"  # what `"x \ud800 y"` in a JSON reply decodes to
JUDGE = "judge-x"


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path)


def setup(ws: Workspace, base_url: str, count: int = 4, api_type: str = "openai", **entry) -> None:
    ws.write_questions(questions(count))
    ws.write_api_config({"m": model_entry(base_url, api_type=api_type, parallel=2, **entry)})
    ws.write_answer_config(["m"])


def base_url(server, api_type: str) -> str:
    return server.openai_base_url if api_type == "openai" else server.url


def for_question(number: int, reply: Callable[[Any], Reply]) -> Callable[[Any], Reply]:
    """A responder answering question `number` of pipeline_helpers.questions with `reply(request)`, the
    others as usual."""
    def responder(request):
        if request.last_user.startswith(f"Question number {number}:"):
            return reply(request)
        return answer_responder(request)
    return responder


def edited(edit: Callable[[dict], Any]) -> Callable[[Any], Reply]:
    """reply(request) for for_question: the fake's usual body for the request, changed by `edit(body)`."""
    def reply(request):
        body = success_body(request, answer_responder(request))
        edit(body)
        return Reply("", body=body)
    return reply


# --- any text JSON carries is stored and read back unchanged ---------------------------------------

# Every code point, lone surrogates included, and the characters JSON escapes; a text as a JSON reader
# gives it (a reader joins a high and a low surrogate that follow each other into one character).
SPECIAL = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00", "\\", '"', "\n", "\u2028", "\x00", "é"]
texts = st.lists(st.sampled_from(SPECIAL) | st.characters(exclude_categories=()), max_size=12).map(
    lambda chars: json.loads(json.dumps("".join(chars))))


def written_records(text: str) -> dict[str, list[dict]]:
    return {
        "question": [question("q1", text), {"uid": "q2", "prompt": text, "category": text}],
        "answer": [{"question_id": "q1", "model_id": "m", "choices": [{"index": 0, "turns": [{"content": text}]}]},
                   {"uid": "q2", "model": "m", "messages": [{"role": "user", "content": text},
                                                            {"role": "assistant", "content": {"answer": text,
                                                                                              "thought": text}}]}],
        "judgment": [{"question_id": "q1", "model": "m", "games": [{"user_prompt": text, "judgment": text,
                                                                    "score": "A>B"}, None], text: text}],
    }


@settings(max_examples=150, deadline=None, database=None, derandomize=True)
@given(text=texts)
@example(text=SURROGATE_TEXT)
def test_any_text_json_carries_is_stored_and_read_back_unchanged(text):
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for kind, records in written_records(text).items():
            appended, rewritten = root / f"{kind}.jsonl", root / f"{kind}-rewritten.jsonl"
            with JsonlAppender(appended) as appender:
                for record in reversed(records):
                    appender.write(record)
            atomic_write_jsonl(rewritten, records)
            rewrite_sorted_unique(appended, record_id)  # sorted by id: the records in their order again
            assert appended.read_bytes() == rewritten.read_bytes()
            assert [r for _, r in iter_jsonl(appended)] == records
            assert [r for _, r in scan_jsonl(appended)] == records
            assert [decode_json(line) for line in appended.read_bytes().splitlines()] == records
        assert [q.turns for q in load_questions(root / "question.jsonl")] == [(text,), (text,)]
        answers = load_answers(root / "answer.jsonl")
        assert [(a.turns, a.thought) for a in answers.values()] == [((text,), None), ((text,), text or None)]
        [judgment] = load_judgments(root / "judgment.jsonl")
        assert (judgment.games[0].judgment, judgment.games[0].user_prompt) == (text, text)


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_a_reply_with_a_lone_surrogate_is_stored_and_read_back_and_the_run_goes_on(ws, fake_api, api_type):
    server = fake_api(for_question(2, lambda request: Reply(SURROGATE_TEXT)))
    setup(ws, base_url(server, api_type), count=5, api_type=api_type)
    ws.write_api_config({name: model_entry(base_url(server, api_type), api_type=api_type, parallel=2)
                         for name in ("m", "other")})
    ws.write_answer_config(["m", "other"])
    assert gen_answer.main([]) == 0
    for model in ("m", "other"):
        answers = load_answers(ws.answer_file(model))
        assert list(answers) == [f"q{i:03d}" for i in range(5)]  # every answer, and the final sorted rewrite done
        assert answers["q002"].turns == (SURROGATE_TEXT,)
        assert answers["q001"].turns == (answer_text(questions(5)[1]["turns"][0]["content"]),)
    before = len(server.requests)
    assert gen_answer.main([]) == 0 and len(server.requests) == before  # nothing is asked, or paid for, again


def test_a_v2_answer_and_a_judgment_with_a_lone_surrogate_are_stored_and_read_back(tmp_path, fake_api, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ws = V2Workspace(tmp_path)
    server = fake_api(lambda request: Reply(SURROGATE_TEXT if "Prompt 1:" in request.last_user
                                            else answer_responder(request).text))
    ws.write_questions(v2_questions(3))
    ws.write_api_config({"m": {"model": "m", "api_type": "openai", "parallel": 2, "max_tokens": 64,
                               "endpoints": [{"api_base": server.openai_base_url, "api_key": "k"}]}})
    ws.write_answer_config(["m"])
    assert gen_answer.main([]) == 0
    assert load_answers(ws.answer_file("m"))["u001"].turns == (SURROGATE_TEXT,)

    judge = fake_api(lambda request: Reply(f"{SURROGATE_TEXT} [[A>B]]"))
    plain = Workspace(tmp_path / "v01")
    plain.write_questions(questions(3))
    for model in ("model-1", "base"):
        write_jsonl(plain.answer_file(model), [{"question_id": f"q{i:03d}", "model_id": model,
                                                "choices": [{"index": 0, "turns": [{"content": f"{model} {i}"}]}]}
                                               for i in range(3)])
    plain.write_api_config({JUDGE: model_entry(judge.openai_base_url)})
    plain.write_judge_config(JUDGE, "base", ["model-1"], number_of_judgment_attempts=1)
    monkeypatch.chdir(plain.root)
    assert gen_judgment.main([]) == 0
    judgments = load_judgments(plain.judgment_file(JUDGE, "model-1"))
    assert [j.question_id for j in judgments] == ["q000", "q001", "q002"]
    assert {game.judgment for j in judgments for game in j.games} == {f"\n{SURROGATE_TEXT} [[A>B]]"}


def test_a_question_with_a_lone_surrogate_fails_alone_naming_its_line(ws, fake_api, capsys):
    server = fake_api()
    setup(ws, server.openai_base_url, count=4)
    rows = questions(4)
    rows[2] = question("q002", "Tell me about \udc00 this.")
    ws.write_questions(rows)
    assert gen_answer.main([]) == 1
    assert sorted(load_answers(ws.answer_file("m"))) == ["q000", "q001", "q003"]
    assert server.count_containing("Tell me about") == 0  # never sent, never paid for
    err = capsys.readouterr().err
    assert f"{Path('data') / ws.bench / 'question.jsonl'}:3: question q002, turn 1, holds a lone surrogate (U+DC00" in err
    assert "UnicodeEncodeError" not in err


def test_an_answer_with_a_lone_surrogate_is_not_judged_and_its_line_is_named(ws, fake_api, capsys):
    server = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)))
    ws.write_questions(questions(3))
    for model in ("model-1", "base"):
        texts = [f"{model} answer {i}" + (" \ud800" if (model, i) == ("model-1", 1) else "") for i in range(3)]
        write_jsonl(ws.answer_file(model), [{"question_id": f"q{i:03d}", "model_id": model,
                                             "choices": [{"index": 0, "turns": [{"content": texts[i]}]}]}
                                            for i in range(3)])
    ws.write_api_config({JUDGE: model_entry(server.openai_base_url)})
    ws.write_judge_config(JUDGE, "base", ["model-1"])
    assert gen_judgment.main([]) == 1
    assert [j.question_id for j in load_judgments(ws.judgment_file(JUDGE, "model-1"))] == ["q000", "q002"]
    assert server.count_containing("model-1 answer 1") == 0
    err = capsys.readouterr().err
    assert f"{Path('data') / ws.bench / 'model_answer' / 'model-1.jsonl'}:2: model-1's answer to question q001, " \
           "turn 1, holds a lone surrogate (U+D800" in err


def test_a_system_prompt_with_a_lone_surrogate_sends_nothing_and_says_why_once(ws, fake_api):
    # Refused as the config is read (hostile probe round four), before any question is planned: one line
    # naming the key, where it used to be a "not sent" note per model after the run.
    server = fake_api()
    setup(ws, server.openai_base_url, count=4, system_prompt="Be \ud800 brief.")  # YAML's "\ud800" escape
    result = run_script_in_process("gen_answer.py", cwd=ws.root)
    assert server.requests == [] and result.returncode == 2
    assert result.stderr.splitlines() == ["error: config/api_config.yaml: `m.system_prompt` holds a lone surrogate "
                                          "(an escape such as \\ud800), which is not text: no API takes it and no file "
                                          "name holds it; remove the escape"]


# --- v2.0 without the o200k_base file -----------------------------------------------------------------

def without_o200k(root: Path) -> dict[str, str]:
    """An environment where bpe-openai ships no o200k_base file and tiktoken cannot download one: an empty
    `bpe_openai` package first on the path, an empty tiktoken cache, and a proxy that refuses every
    connection except to 127.0.0.1 (the fake API)."""
    shadow = root / "shadow" / "bpe_openai"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("", encoding="utf-8")
    (root / "tiktoken-cache").mkdir()
    dead = "http://127.0.0.1:9"
    return {"PYTHONPATH": str(root / "shadow"), "TIKTOKEN_CACHE_DIR": str(root / "tiktoken-cache"),
            "HTTPS_PROXY": dead, "HTTP_PROXY": dead, "https_proxy": dead, "http_proxy": dead,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


@pytest.mark.parametrize("flags", [(), ("--dry-run",)])
def test_v2_answers_without_the_o200k_file_stop_before_the_first_call(tmp_path, fake_api, flags):
    ws = V2Workspace(tmp_path / "work")
    server = fake_api()
    ws.write_questions(v2_questions(3))
    ws.write_api_config({"m": {"model": "m", "api_type": "openai", "parallel": 2,
                               "endpoints": [{"api_base": server.openai_base_url, "api_key": "k"}]}})
    ws.write_answer_config(["m"])
    result = run_script("gen_answer.py", *flags, cwd=ws.root, env=without_o200k(tmp_path))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "o200k_base" in lines[0] and "pip install bpe-openai" in lines[0], lines
    assert server.requests == []
    assert not ws.answer_file("m").exists()


@pytest.mark.parametrize("script", ["gen_answer.py", "gen_judgment.py"])
def test_a_v01_dry_run_without_the_o200k_file_estimates_with_cl100k(tmp_path, fake_api, script):
    """v0.1 records need no o200k_base, so neither does the estimate of a model whose tokenizer is unknown
    (here a local model answering, and gpt-4o judging): offline without bpe-openai, cl100k_base stands
    in, said to be an approximation, instead of the dry run stopping."""
    ws = Workspace(tmp_path / "work")
    server = fake_api()
    ws.write_questions(questions(3))
    ws.write_api_config({"m": model_entry(server.openai_base_url, model_name="my-org/llama", price=0),
                         "gpt-4o": model_entry(server.openai_base_url, model_name="gpt-4o", price=0)})
    ws.write_answer_config(["m"])
    ws.write_answers("m", [{"question_id": f"q{i:03d}", "model_id": "m", "choices": [{"index": 0, "turns": [
        {"content": "An answer."}]}]} for i in range(3)])
    ws.write_answers("base", [{"question_id": f"q{i:03d}", "model_id": "base", "choices": [{"index": 0, "turns": [
        {"content": "The baseline's answer."}]}]} for i in range(3)])
    ws.write_judge_config("gpt-4o", "base", ["m"])
    if script == "gen_answer.py":
        ws.answer_file("m").unlink()
    result = run_script(script, "--dry-run", cwd=ws.root, env=without_o200k(tmp_path))
    assert result.returncode == 0, result.stderr
    estimate = next(line for line in result.stdout.splitlines() if line.startswith("estimate: m:"))
    assert "input tokens (cl100k_base, an approximation)" in estimate, estimate
    assert server.requests == []


# --- replies of other shapes ---------------------------------------------------------------------------

@pytest.mark.parametrize("api_type, stop", [("openai", "length"), ("anthropic", "max_tokens")])
def test_a_reply_cut_at_the_token_limit_is_stored_noted_and_counted(ws, fake_api, capsys, api_type, stop):
    server = fake_api(for_question(1, lambda request: Reply("A half-finished", stop=stop)))
    setup(ws, base_url(server, api_type), count=3, api_type=api_type)
    assert gen_answer.main([]) == 0
    assert load_answers(ws.answer_file("m"))["q001"].turns == ("A half-finished",)
    err = capsys.readouterr().err
    assert "truncated: 1 question(s) of m (q001) got a reply cut at the token limit" in err


def test_content_as_text_parts_is_joined(ws, fake_api):
    parts = [{"type": "text", "text": "First half, "}, {"type": "image_url", "image_url": {"url": "x"}},
             {"type": "text", "text": "second half."}]
    server = fake_api(for_question(0, edited(lambda body: body["choices"][0]["message"].update(content=parts))))
    setup(ws, server.openai_base_url, count=2)
    assert gen_answer.main([]) == 0
    assert load_answers(ws.answer_file("m"))["q000"].turns == ("First half, second half.",)


def set_openai_content(value):
    return lambda body: body["choices"][0]["message"].update(content=value)


@pytest.mark.parametrize("api_type, edit, message", [
    ("openai", set_openai_content(5), "the reply's content is a number (5), not text"),
    ("openai", set_openai_content([{"type": "text", "text": 7}]), "a text part of the reply's content holds a number"),
    ("openai", lambda body: body["choices"][0].pop("message"), "the reply's first choice has no `message`"),
    ("anthropic", lambda body: body.update(content=5), "the reply's content is a number (5), not a list"),
    ("anthropic", lambda body: body.pop("content"), "the reply's content is null, not a list"),
])
def test_a_reply_without_an_answer_in_it_fails_that_request_with_a_clear_line(ws, fake_api, capsys, api_type, edit,
                                                                                 message):
    server = fake_api(for_question(1, edited(edit)))
    setup(ws, base_url(server, api_type), count=3, api_type=api_type)
    assert gen_answer.main([]) == 1
    assert sorted(load_answers(ws.answer_file("m"))) == ["q000", "q002"]
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if "failed: m question q001" in line]
    assert message in line and "(1 attempt)" in line  # the same reply would come again: not retried
    assert "TypeError" not in err and "AttributeError" not in err


@pytest.mark.parametrize("api_type, body, attempts", [
    ("openai", {"error": {"message": "Upstream provider failed: quota", "code": 400}}, 1),
    ("openai", {"error": {"message": "Upstream provider failed: overloaded", "code": 502}}, 3),
    ("anthropic", {"type": "error", "error": {"type": "overloaded_error", "message": "Upstream provider failed"}}, 2),
])
def test_an_error_sent_with_status_200_shows_the_providers_message(ws, fake_api, capsys, api_type, body, attempts):
    server = fake_api(for_question(1, lambda request: Reply("", body=body)))
    setup(ws, base_url(server, api_type), count=3, api_type=api_type, max_attempts=3)
    assert gen_answer.main([]) == 1
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if "failed: m question q001" in line]
    assert "status 200 with an error instead of a reply: Upstream provider failed" in line
    assert f"({attempts} attempt" in line  # decided by the error's code as by a status; once more without one
    assert server.count_containing("Question number 1:") == attempts


@pytest.mark.parametrize("api_type, suffix, hint", [
    ("openai", "", "/chat/completions: check api_base (an OpenAI-compatible server's usually ends in /v1)"),
    ("anthropic", "/v1", "/v1/v1/messages: api_base ends in /v1, which the SDK adds itself"),
])
def test_a_404_from_a_wrong_api_base_says_what_to_fix(ws, fake_api, capsys, api_type, suffix, hint):
    server = fake_api()
    setup(ws, server.url + suffix, count=3, api_type=api_type)
    assert gen_answer.main([]) == 1
    err = capsys.readouterr().err
    assert hint in err and "failed: m question" in err
    assert server.requests == []  # none reached an API route


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
@pytest.mark.parametrize("bad", [float("nan"), -12, 10**30, float("inf")])
def test_usage_that_is_no_token_count_is_dropped_and_the_answer_kept(ws, fake_api, capsys, api_type, bad):
    names = ("prompt_tokens", "completion_tokens") if api_type == "openai" else ("input_tokens", "output_tokens")
    server = fake_api(for_question(1, lambda request: Reply("A paid answer.", usage={names[0]: bad, names[1]: 3})))
    setup(ws, base_url(server, api_type), count=3, api_type=api_type)
    assert gen_answer.main([]) == 0
    records = {r["question_id"]: r for r in read_jsonl(ws.answer_file("m"))}
    assert records["q001"]["choices"][0]["turns"][0]["content"] == "A paid answer."
    # issue 23 added the cached and reasoning parts of the counts to the record's usage
    assert records["q001"]["usage"] == {"prompt_tokens": 0, "completion_tokens": 3, "cached_tokens": 0,
                                        "reasoning_tokens": 0}
    captured = capsys.readouterr()
    assert f"warning: m: the API reported usage {names[0]} " in captured.err and "the answer is kept" in captured.err
    assert len(server.requests) == 3
    before = len(server.requests)
    assert gen_answer.main([]) == 0 and len(server.requests) == before


def test_the_fake_sends_a_lone_surrogate_as_json_allows(fake_api):
    """The fake's body for a reply holding a lone surrogate is valid UTF-8 JSON with the \\ud800 escape."""
    server = fake_api(lambda request: Reply(SURROGATE_TEXT))
    request = urllib.request.Request(server.openai_base_url + "/chat/completions", method="POST",
                                     data=json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode(),
                                     headers={"Content-Type": "application/json"})
    body = urllib.request.urlopen(request).read()
    assert b"\\ud800" in body and json.loads(body.decode("utf-8"))["choices"][0]["message"]["content"] == SURROGATE_TEXT


def test_a_batch_result_of_those_shapes_is_read_as_a_direct_reply_is():
    from arena_hard.generate.batch.apis import anthropic_read_line, openai_read_line
    choice = {"index": 0, "finish_reason": "length", "message": {"role": "assistant",
                                                                   "content": [{"type": "text", "text": "cut"}]}}
    line = {"custom_id": "a", "response": {"status_code": 200, "body": {
        "id": "x", "choices": [choice], "usage": {"prompt_tokens": float("nan"), "completion_tokens": 1}}}}
    _, result = openai_read_line(line)
    assert (result.content, result.truncated, result.prompt_tokens) == ("cut", True, 0) and result.usage_note
    choice.pop("message")
    _, failure = openai_read_line(line)
    assert failure.kind == "request" and "has no `message`" in failure.message
    _, failure = anthropic_read_line({"custom_id": "a", "result": {"type": "succeeded",
                                                                  "message": {"id": "m", "content": 5}}})
    assert failure.kind == "request" and "content is a number (5)" in failure.message
