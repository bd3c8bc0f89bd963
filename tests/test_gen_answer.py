"""gen_answer.py against the loopback fake API, through the real openai and anthropic SDK clients."""
from __future__ import annotations

import time

import pytest

import gen_answer
from arena_hard.core.retry_policy import RetryPolicy
from arena_hard.core.textstats import conv_metadata, count_tokens
from fake_api_server import FaultPlan, Reply, answer_text
from pipeline_helpers import Workspace, model_entry, question, questions, read_jsonl, run_script_in_process


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path)


def setup(ws, server, count=12, models=("m",), api_type="openai", questions_rows=None, settings=None, **entry):
    ws.write_questions(questions_rows or questions(count))
    base = server.openai_base_url if api_type == "openai" else server.url
    ws.write_api_config({m: model_entry(base, api_type=api_type, **entry) for m in models})
    ws.write_answer_config(list(models), **(settings or {}))


def answer_contents(ws, model="m"):
    return {r["question_id"]: r["choices"][0]["turns"][0]["content"] for r in read_jsonl(ws.answer_file(model))}


@pytest.mark.parametrize("api_type", ["openai", "azure", "anthropic"])
def test_every_question_answered_in_v01_format(ws, fake_api, api_type):
    server = fake_api()
    setup(ws, server, api_type=api_type, system_prompt="You are a helpful assistant.")
    assert gen_answer.main([]) == 0
    records = read_jsonl(ws.answer_file("m"))
    assert [r["question_id"] for r in records] == [f"q{i:03d}" for i in range(12)]  # sorted
    for record, row in zip(records, questions(12)):
        expected = answer_text(row["turns"][0]["content"])
        turn = record["choices"][0]["turns"][0]
        assert set(record) == {"question_id", "answer_id", "model_id", "choices", "tstamp", "conv_metadata", "usage"}
        assert record["model_id"] == "m" and record["choices"][0]["index"] == 0
        assert turn == {"content": expected, "token_len": count_tokens(expected)}
        assert record["conv_metadata"] == conv_metadata(expected)
        assert record["usage"]["completion_tokens"] == len(expected.split())  # the fake counts words
    assert {r.request.system for r in server.requests} == {"You are a helpful assistant."}
    assert {r.request.protocol for r in server.requests} == {"anthropic" if api_type == "anthropic" else "openai"}


def test_parallel_requests_really_in_flight(ws, fake_api):
    # a latency long enough that all 16 are dispatched while the first still waits, even on a loaded machine
    server = fake_api(latency=1.0)
    setup(ws, server, count=32, parallel=16)
    assert gen_answer.main([]) == 0
    assert server.max_in_flight == 16  # never more; the time this saves is measured by tests/bench_generation.py


def test_transient_faults_are_retried_and_never_written(ws, fake_api):
    server = fake_api(faults=FaultPlan(rate=0.3, seed=7, stall_seconds=30))
    setup(ws, server, count=40, parallel=8, timeout=0.5, max_attempts=8)
    assert gen_answer.main([]) == 0
    faults = sum(n for kind, n in server.outcomes.items() if kind != "ok")
    assert faults >= 8
    expected = {row["question_id"]: answer_text(row["turns"][0]["content"]) for row in questions(40)}
    assert answer_contents(ws) == expected


def test_retry_after_is_honoured(ws, fake_api, monkeypatch):
    waits = []
    delay = RetryPolicy.delay

    def recorded(self, *args):
        waits.append(delay(self, *args))
        return waits[-1]

    monkeypatch.setattr(RetryPolicy, "delay", recorded)  # the client sleeps exactly what this returns
    server = fake_api(faults=FaultPlan(schedule={1: "429_retry_after"}, retry_after=1.0))
    setup(ws, server, count=1, parallel=1, backoff_max=2.0)  # backoff_max caps Retry-After too
    assert gen_answer.main([]) == 0
    assert len(waits) == 1 and waits[0] >= 1.0
    assert [r.outcome for r in server.requests] == ["429_retry_after", "ok"]


def test_bad_request_is_reported_not_retried_nor_written(ws, fake_api, capsys):
    server = fake_api(faults=FaultPlan(matching=(("number 3:", "400"),)))
    setup(ws, server, count=6, parallel=2)
    assert gen_answer.main([]) == 1
    assert server.count_containing("number 3:") == 1
    assert "q003" not in answer_contents(ws) and len(answer_contents(ws)) == 5
    assert "failed: m question q003: 400" in capsys.readouterr().err


def test_auth_error_stops_the_model_without_spending_calls(ws, fake_api, capsys):
    server = fake_api(faults=FaultPlan(rate=1.0, mix={"401": 1.0}))
    setup(ws, server, count=30, parallel=1)
    assert gen_answer.main([]) == 1
    assert len(server.requests) == 1
    err = capsys.readouterr().err
    assert "failed: m question q000: 401" in err and "not sent: 29 question(s)" in err
    assert not ws.answer_file("m").exists() or read_jsonl(ws.answer_file("m")) == []


def test_total_outage_stops_within_the_retry_budget(ws, fake_api, capsys):
    server = fake_api(faults=FaultPlan(rate=1.0, mix={"503": 1.0}))
    setup(ws, server, count=100, parallel=4, max_attempts=3)
    assert gen_answer.main([]) == 1
    # only the jobs under way when the stop came (twice `parallel`) spent their attempts, not all 100 questions
    assert len(server.requests) <= 2 * 4 * 3
    err = capsys.readouterr().err
    assert "stopped after 3 requests in a row failed every attempt" in err
    assert not ws.answer_file("m").exists() or read_jsonl(ws.answer_file("m")) == []


def test_resume_asks_only_for_missing_answers(ws, fake_api):
    server = fake_api()
    setup(ws, server, count=10)
    assert gen_answer.main([]) == 0
    path = ws.answer_file("m")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:4]) + lines[4][:25], encoding="utf-8")  # a crash cut the 5th line
    before = len(server.requests)
    assert gen_answer.main([]) == 0
    asked = [r.request.last_user for r in server.requests[before:]]
    assert sorted(asked) == sorted(q["turns"][0]["content"] for q in questions(10)[4:])
    assert len(read_jsonl(path)) == 10


def test_multi_turn_and_fresh_conversation_per_choice(ws, fake_api):
    server = fake_api()
    setup(ws, server, questions_rows=[question("q1", "First turn?", "Second turn?")], settings={"num_choices": 2})
    assert gen_answer.main([]) == 0
    [record] = read_jsonl(ws.answer_file("m"))
    assert [c["index"] for c in record["choices"]] == [0, 1]
    first_answer = answer_text("First turn?")
    for choice in record["choices"]:
        assert [t["content"] for t in choice["turns"]] == [first_answer, answer_text("Second turn?")]
    second_turn_requests = [r.request for r in server.requests if len(r.request.messages) == 3]
    assert len(second_turn_requests) == 2
    assert all(r.messages[1].content == first_answer for r in second_turn_requests)
    assert len(server.requests) == 4


def test_category_temperature_and_tokenizer_budget(ws, fake_api):
    server = fake_api()
    rows = [question("q1", "Write a poem about tea.", category="writing"), question("q2", "What is 2+2?", category="math")]
    setup(ws, server, questions_rows=rows, settings={"category_temperature": {"writing": 0.7}, "max_tokens": 400},
          temperature=0.2, tokenizer="cl100k_base")
    assert gen_answer.main([]) == 0
    sent = {r.request.last_user: r.request for r in server.requests}
    assert sent["Write a poem about tea."].temperature == 0.7
    assert sent["What is 2+2?"].temperature == 0.2
    assert sent["What is 2+2?"].max_tokens == 400 - count_tokens("What is 2+2?") - 100


@pytest.mark.parametrize("api_type, options", [("openai", {"reasoning_effort": "high"}),
                                               ("anthropic", {"thinking_budget": 1024})])
def test_reasoning_is_stored_apart_and_not_counted(ws, fake_api, api_type, options):
    server = fake_api()
    setup(ws, server, count=2, api_type=api_type, **options)
    assert gen_answer.main([]) == 0
    request = server.requests[0].request
    if api_type == "openai":
        assert request.params["reasoning_effort"] == "high" and request.temperature is None
    else:
        assert request.params["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    for record in read_jsonl(ws.answer_file("m")):
        turn = record["choices"][0]["turns"][0]
        assert turn["reasoning"].startswith("Thinking about:")
        assert "Thinking" not in turn["content"] and turn["token_len"] == count_tokens(turn["content"])


def test_anthropic_temperature_not_applied_is_warned_once(ws, fake_api, capsys):
    server = fake_api()
    setup(ws, server, count=3, api_type="anthropic")
    assert gen_answer.main([]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: m: temperature 0 ")]
    assert len(warnings) == 1 and "extra_headers: {anthropic-version:" in warnings[0]
    assert {r.request.temperature for r in server.requests} == {None}  # the SDK's API version takes none


def test_anthropic_with_an_older_api_version_pinned_gets_the_temperature(ws, fake_api, capsys):
    server = fake_api()
    setup(ws, server, count=2, api_type="anthropic", extra_headers={"anthropic-version": "2023-06-01"})
    assert gen_answer.main([]) == 0
    assert "warning:" not in capsys.readouterr().err
    assert {r.request.temperature for r in server.requests} == {0.0}


def test_inline_think_block_is_split_off(ws, fake_api):
    server = fake_api(lambda request: Reply("<think>\nlet me see\n</think>\n\nThe answer is 4."))
    setup(ws, server, count=1)
    assert gen_answer.main([]) == 0
    turn = read_jsonl(ws.answer_file("m"))[0]["choices"][0]["turns"][0]
    assert (turn["content"], turn["reasoning"]) == ("The answer is 4.", "let me see")


def test_an_empty_answer_is_tried_once_more_then_reported(ws, fake_api, capsys):
    server = fake_api(faults=FaultPlan(matching=(("number 0:", "empty"),), schedule={2: "empty"}))
    setup(ws, server, count=2, parallel=1)
    assert gen_answer.main([]) == 1
    assert server.count_containing("number 0:") == 2  # not the whole retry budget
    assert "failed: m question q000: EmptyResponse" in capsys.readouterr().err
    assert list(answer_contents(ws)) == ["q001"]  # its first reply was empty too, the second was not


def test_several_endpoints_share_the_load(ws, fake_api):
    first, second = fake_api(), fake_api()
    setup(ws, first, count=20, parallel=4)
    entry = model_entry(first.openai_base_url, parallel=4)
    entry["endpoints"].append({"api_base": second.openai_base_url, "api_key": "test-key"})
    ws.write_api_config({"m": entry})
    assert gen_answer.main([]) == 0
    assert len(first.requests) >= 5 and len(second.requests) >= 5


def test_dry_run_calls_nothing(ws, fake_api, capsys):
    server = fake_api()
    setup(ws, server, count=5, system_prompt="Be brief.")
    assert gen_answer.main(["--dry-run"]) == 0
    tokens = sum(count_tokens("Be brief.") + count_tokens(q["turns"][0]["content"]) for q in questions(5))
    assert f"m: 5 questions, 0 already answered, 5 to answer, 5 calls, ~{tokens:,} prompt tokens" in capsys.readouterr().out
    assert server.requests == [] and not ws.answer_file("m").exists()


def test_missing_question_file_is_one_line(ws, tmp_path):
    ws.write_api_config({"m": {"api_type": "mock"}})
    ws.write_answer_config(["m"])
    result = run_script_in_process("gen_answer.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "question file not found" in result.stderr
    assert "download_data.py" in result.stderr and "Traceback" not in result.stderr


def test_model_missing_from_endpoint_file_is_one_line(ws, tmp_path):
    ws.write_questions(questions(2))
    ws.write_api_config({"other": {"api_type": "mock"}})
    ws.write_answer_config(["m"])
    result = run_script_in_process("gen_answer.py", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "config/api_config.yaml: no entry for 'm'" in result.stderr



def test_kill_9_loses_only_requests_in_flight_and_rerun_completes(ws, fake_api, tmp_path):
    import signal
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    server = fake_api(latency=0.05)
    setup(ws, server, count=60, parallel=4)
    path = ws.answer_file("m")
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "gen_answer.py")], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (path.exists() and path.read_bytes().count(b"\n") >= 20) and time.monotonic() < deadline:
        time.sleep(0.005)  # polling for the condition the kill waits on, not synchronising on time
    process.send_signal(signal.SIGKILL)
    process.wait()
    survivors = read_jsonl(path)  # every line written before the kill parses
    assert 20 <= len(survivors) < 60
    answered = {r["question_id"] for r in survivors}
    assert gen_answer.main([]) == 0
    final = read_jsonl(path)
    assert [r["question_id"] for r in final] == [f"q{i:03d}" for i in range(60)]
    asked = {}
    for record in server.requests:
        asked[record.request.last_user] = asked.get(record.request.last_user, 0) + 1
    for row in questions(60):
        if row["question_id"] in answered:
            assert asked[row["turns"][0]["content"]] == 1  # finished work is never asked again


@pytest.mark.parametrize("fault, most_requests", [
    ("500", 4),  # rested after three failures in a row
    ("401", 2),  # dropped at its first 401; at most the requests already in flight reach it
])
def test_a_failing_endpoint_is_set_aside_while_the_other_serves(ws, fake_api, fault, most_requests):
    failing, healthy = fake_api(faults=FaultPlan(rate=1.0, mix={fault: 1.0})), fake_api()
    setup(ws, healthy, count=20, parallel=2)
    entry = model_entry(failing.openai_base_url, parallel=2)
    entry["endpoints"].append({"api_base": healthy.openai_base_url, "api_key": "test-key"})
    ws.write_api_config({"m": entry})
    assert gen_answer.main([]) == 0
    assert len(healthy.requests) == 20
    assert len(failing.requests) <= most_requests


def test_missing_key_is_one_line_before_any_model_is_asked(ws, fake_api, tmp_path, monkeypatch):
    server = fake_api()
    ws.write_questions(questions(2))
    ws.write_api_config({"first": model_entry(server.openai_base_url),
                         "second": {"model_name": "x", "endpoints": None, "api_type": "anthropic"}})
    ws.write_answer_config(["first", "second"])
    result = run_script_in_process("gen_answer.py", cwd=tmp_path, env={"ANTHROPIC_API_KEY": ""})
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "config/api_config.yaml: `second` has no API key; export ANTHROPIC_API_KEY" in result.stderr
    assert server.requests == [] and not ws.answer_file("first").exists()
