"""Batch mode (--batch) end to end: gen_answer.py and gen_judgment.py run as a user runs them (in
this process, or as subprocesses where they are killed or interrupted), the real openai/anthropic SDK
clients, and tests/fake_batch_server.py, whose batches advance by status polls, not by the clock."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import gen_answer
import gen_judgment

from fake_api_server import AnswerMarkers, FakeAPIServer, JudgeResponder, answer_responder
from fake_batch_server import FakeBatchServer
from pipeline_helpers import (A_END, A_START, B_END, B_START, Workspace, model_entry, question, questions, read_jsonl,
                              interrupt, run_in_process, write_jsonl)
from tests.conftest import REPO_ROOT

MARKERS = AnswerMarkers(A_START, A_END, B_START, B_END)
JUDGE, BASE = "judge-b", "base"
FAST = ("--poll-interval", "0")


SCRIPTS = {"gen_answer.py": gen_answer.main, "gen_judgment.py": gen_judgment.main}


def run_script(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The script's main as `python <script> args` in `cwd` runs it, in this process."""
    return run_in_process(SCRIPTS[script], *args, cwd=cwd)


def entry(fake_url: str, api_type: str, **extra):
    base = f"{fake_url}/v1" if api_type == "openai" else fake_url
    return model_entry(base, api_type=api_type, **extra)


def answers(model: str, count: int, words: int) -> list[dict]:
    return [{"question_id": f"q{i:03d}", "model_id": model, "choices": [{"index": 0, "turns": [
        {"content": " ".join(["word"] * (words + i)), "token_len": words + i}]}]} for i in range(count)]


def judge_workspace(root: Path, fake_url: str, api_type: str = "openai", count: int = 4,
                    models: tuple[str, ...] = ("model-1", "model-2")) -> Workspace:
    ws = Workspace(root)
    ws.write_questions(questions(count))
    write_jsonl(ws.answer_file(BASE), answers(BASE, count, 5))
    for n, model in enumerate(models):
        write_jsonl(ws.answer_file(model), answers(model, count, 3 + 4 * n))
    ws.write_api_config({JUDGE: entry(fake_url, api_type)})
    ws.write_judge_config(JUDGE, BASE, list(models))
    return ws


def answer_workspace(root: Path, fake_url: str, api_type: str, count: int, **answer_config) -> Workspace:
    """`count` questions and one model `m` answering them through the fake batch API."""
    ws = Workspace(root)
    ws.write_questions(questions(count))
    ws.write_api_config({"m": entry(fake_url, api_type)})
    ws.write_answer_config(["m"], **answer_config)
    return ws


def strip_volatile(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("answer_id", "tstamp")}


@pytest.mark.parametrize("api_type", ["openai", "azure", "anthropic"])
def test_batch_answers_equal_a_direct_run(tmp_path, api_type):
    """Same records as without --batch (token counts, metadata, reasoning), a second turn in round 2."""
    rows = questions(3) + [question("q900", "First turn: plan a trip?", "Second turn: and the budget?")]
    direct, batched = Workspace(tmp_path / "direct"), Workspace(tmp_path / "batch")
    with FakeAPIServer(answer_responder) as live, FakeBatchServer(answer_responder) as fake:
        for ws, url in ((direct, live.url), (batched, fake.url)):
            ws.write_questions(rows)
            ws.write_api_config({"m": entry(url, api_type, reasoning_effort="low", thinking_budget=1024)})
            ws.write_answer_config(["m"])
        assert run_script("gen_answer.py", cwd=direct.root).returncode == 0
        result = run_script("gen_answer.py", "--batch", *FAST, cwd=batched.root)
        assert result.returncode == 0, result.stderr
        assert [len(b.lines) for b in fake.batches] == [4, 1]  # round 1: every first turn; round 2: the second
    expected = [strip_volatile(r) for r in read_jsonl(direct.answer_file("m"))]
    assert [strip_volatile(r) for r in read_jsonl(batched.answer_file("m"))] == expected
    assert "reasoning" in expected[0]["choices"][0]["turns"][0]


def test_both_games_of_all_models_share_a_batch_and_re_asks_go_in_round_two(tmp_path):
    responder = JudgeResponder(MARKERS, label_on_continue=True)
    with FakeAPIServer(responder) as live, FakeBatchServer(responder) as fake:
        direct = judge_workspace(tmp_path / "direct", live.url)
        batched = judge_workspace(tmp_path / "batch", fake.url)
        assert run_script("gen_judgment.py", cwd=direct.root).returncode == 0
        result = run_script("gen_judgment.py", "--batch", *FAST, cwd=batched.root)
        assert result.returncode == 0, result.stderr
        assert [len(b.lines) for b in fake.batches] == [16, 16]  # 2 models x 4 questions x 2 games, then re-asks
        assert len(set(fake.submitted_ids())) == 32
        assert not (batched.bench_dir / "model_judgment" / JUDGE / ".batch").exists()  # all written: state removed
    for model in ("model-1", "model-2"):
        records = read_jsonl(batched.judgment_file(JUDGE, model))
        assert records == read_jsonl(direct.judgment_file(JUDGE, model))
        assert all(game["score"] for record in records for game in record["games"])
    assert "model-1:" in result.stdout and "games" in result.stdout  # the verdict statistics, as a direct run


def test_dry_run_prints_rounds_batches_sizes_and_tokens(tmp_path):
    with FakeBatchServer() as fake:
        ws = judge_workspace(tmp_path, fake.url)
        result = run_script("gen_judgment.py", "--batch", "--dry-run", cwd=ws.root)
        assert result.returncode == 0, result.stderr
        assert fake.calls == []
    out = result.stdout
    assert "round 1: 16 requests in 1 batch(es)" in out
    assert "round 2: up to 16 requests" in out
    assert "MB" in out and "prompt tokens" in out
    assert not (ws.bench_dir / "model_judgment" / JUDGE / ".batch" / "batches.jsonl").exists()


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_failed_requests_are_reported_and_sent_again_a_bounded_number_of_times(tmp_path, api_type):
    bad = "Question number 2:"
    with FakeBatchServer(faults=((bad, "400"),)) as fake:
        ws = answer_workspace(tmp_path, fake.url, api_type, 4)
        result = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert result.returncode == 1
        assert "failed: m question q002" in result.stderr and "fake: invalid request" in result.stderr
        assert [r["question_id"] for r in read_jsonl(ws.answer_file("m"))] == ["q000", "q001", "q003"]
        assert not list((ws.bench_dir / "model_answer" / ".batch").glob("requests-*"))  # collected: not kept
        for _ in range(3):  # sent again on each of the next two runs, then no more
            assert run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root).returncode == 1
        assert [len(b.lines) for b in fake.batches] == [4, 1, 1]
        assert "failed in 3 batches; not sent again" in run_script("gen_answer.py", "--batch", *FAST,
                                                                     cwd=ws.root).stderr


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_an_expired_batch_keeps_what_ran_and_the_rest_goes_in_a_new_batch_next_run(tmp_path, api_type):
    with FakeBatchServer(expire_batches=(1,)) as fake:
        ws = answer_workspace(tmp_path, fake.url, api_type, 6)
        first = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert first.returncode == 1
        assert "3 answered, 3 failed" in first.stdout
        assert "expired" in first.stderr
        second = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert second.returncode == 0, second.stderr
        assert [len(b.lines) for b in fake.batches] == [6, 3]
        assert len(fake.submitted_ids()) == len(set(fake.submitted_ids())) + 3  # only the expired ones again
    assert len(read_jsonl(ws.answer_file("m"))) == 6


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_a_result_line_that_is_not_json_is_reported_with_its_custom_id(tmp_path, api_type):
    with FakeBatchServer(faults=(("Question number 1:", "malformed"),)) as fake:
        ws = answer_workspace(tmp_path, fake.url, api_type, 3)
        result = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        bad_id = next(line["custom_id"] for line in fake.batches[0].lines if "Question number 1:" in json.dumps(line))
    assert result.returncode == 1
    assert f"is not JSON (custom id {bad_id})" in result.stderr
    assert "failed: m question q001" in result.stderr
    assert "Traceback" not in result.stderr
    assert [r["question_id"] for r in read_jsonl(ws.answer_file("m"))] == ["q000", "q002"]


def test_a_batch_the_provider_rejects_stops_with_one_line_and_a_rerun_sends_it_again(tmp_path):
    with FakeBatchServer(fail_batches=(1,)) as fake:
        ws = answer_workspace(tmp_path, fake.url, "openai", 3)
        result = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert result.returncode == 2
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "failed at the provider" in errors[0] and "input line 1" in errors[0]
        assert run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root).returncode == 0
        assert len(fake.batches) == 2


def start(script: str, ws: Workspace, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(REPO_ROOT / script), *args], cwd=ws.root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_kill_9_while_polling_then_a_rerun_collects_without_resubmitting(tmp_path):
    with FakeBatchServer(JudgeResponder(MARKERS)) as fake:
        ws = judge_workspace(tmp_path, fake.url)
        fake.hold = True
        process = start("gen_judgment.py", ws, "--batch", "--poll-interval", "0.01")
        assert fake.polled.wait(60)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        assert len(fake.batches) == 1 and fake.count("POST", "/batches") == 1
        log = (ws.bench_dir / "model_judgment" / JUDGE / ".batch" / "batches.jsonl").read_text()
        assert fake.batches[0].id in log
        fake.hold = False
        result = run_script("gen_judgment.py", "--batch", *FAST, cwd=ws.root)
        assert result.returncode == 0, result.stderr
        assert fake.count("POST", "/batches") == 1 and fake.count("POST", "/files") == 1  # nothing paid twice
        assert len(fake.submitted_ids()) == len(set(fake.submitted_ids())) == 16
    assert all(len(read_jsonl(ws.judgment_file(JUDGE, m))) == 4 for m in ("model-1", "model-2"))


def test_ctrl_c_leaves_batches_running_and_cancel_collects_what_they_finished(tmp_path):
    with FakeBatchServer(JudgeResponder(MARKERS)) as fake:
        ws = judge_workspace(tmp_path, fake.url, api_type="anthropic")
        fake.hold = True
        process = start("gen_judgment.py", ws, "--batch", "--poll-interval", "0.01")
        assert fake.polled.wait(60)
        _, stderr = interrupt(process)
        assert process.returncode == 130
        assert f"keep running at the provider ({fake.batches[0].id})" in stderr
        assert "rerun the same command to collect them" in stderr
        assert not fake.batches[0].cancelled
        cancelled = run_script("gen_judgment.py", "--cancel", *FAST, cwd=ws.root)
        assert cancelled.returncode == 0  # a deliberate cancel is no failure (issue 24)
        assert fake.batches[0].cancelled and len(fake.batches) == 1
        assert "cancelling batch" in cancelled.stderr
        kept = sum(len(read_jsonl(ws.judgment_file(JUDGE, m))) for m in ("model-1", "model-2")
                   if ws.judgment_file(JUDGE, m).exists())
        assert kept >= 1  # what finished before the cancel is written
        fake.hold = False
        result = run_script("gen_judgment.py", "--batch", *FAST, cwd=ws.root)
        assert result.returncode == 0, result.stderr
        assert len(fake.batches) == 2 and len(fake.batches[1].lines) == 8  # the cancelled half, once more


def test_a_kill_between_creating_an_openai_batch_and_logging_it_finds_the_batch_again(tmp_path, monkeypatch):
    from arena_hard.generate.batch.store import BatchStore

    def killed(self, entry, batch_id):
        raise KeyboardInterrupt  # as a kill would land: the provider made the batch, the log never heard

    with FakeBatchServer() as fake:
        ws = answer_workspace(tmp_path, fake.url, "openai", 3)
        with monkeypatch.context() as patch:
            patch.setattr(BatchStore, "submitted", killed)
            assert run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root).returncode == 130
        assert len(fake.batches) == 1
        result = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert result.returncode == 0, result.stderr
        assert f"found batch {fake.batches[0].id}" in result.stderr
        assert len(fake.batches) == 1 and fake.count("POST", "/files") == 1
    assert len(read_jsonl(ws.answer_file("m"))) == 3


def test_batch_true_in_the_endpoint_file_sends_that_model_alone_through_the_batch_api(tmp_path):
    with FakeBatchServer() as fake:
        ws = Workspace(tmp_path)
        ws.write_questions(questions(2))
        ws.write_api_config({"batched": entry(fake.url, "anthropic", batch=True),
                             "direct": {"api_type": "mock", "model_name": "direct"}})
        ws.write_answer_config(["batched", "direct"])
        result = run_script("gen_answer.py", *FAST, cwd=ws.root)
        assert result.returncode == 0, result.stderr
        assert [len(b.lines) for b in fake.batches] == [2]
        assert all(len(read_jsonl(ws.answer_file(m))) == 2 for m in ("batched", "direct"))
        refused = run_script("gen_answer.py", "--batch", cwd=ws.root)
    assert refused.returncode == 2
    assert "`direct` (api_type mock) has no batch API" in refused.stderr


@pytest.mark.parametrize("limit", ["requests", "bytes"])
def test_a_round_is_split_at_the_provider_limits(tmp_path, monkeypatch, limit):
    import dataclasses

    from arena_hard.generate.batch.apis import BATCH_APIS

    api = BATCH_APIS["anthropic"]
    small = dataclasses.replace(api, max_requests=3) if limit == "requests" else dataclasses.replace(api, max_bytes=500)
    monkeypatch.setitem(BATCH_APIS, "anthropic", small)
    with FakeBatchServer() as fake:
        ws = answer_workspace(tmp_path, fake.url, "anthropic", 7)
        result = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert result.returncode == 0, result.stderr
        sizes = [len(b.lines) for b in fake.batches]
        assert sum(sizes) == 7 and len(sizes) >= 3
        if limit == "requests":
            assert sizes == [3, 3, 1]
        else:
            assert all(sum(len(json.dumps(line)) + 1 for line in b.lines) <= 500 for b in fake.batches)
        # every batch of the round went out before the first poll
        first_poll = next(i for i, (method, path) in enumerate(fake.calls) if method == "GET")
        assert sum(1 for method, path in fake.calls[:first_poll] if method == "POST") == len(sizes)
    lines = [line for line in result.stderr.splitlines() if "since submission" in line]
    assert any("in_progress, 0/" in line for line in lines) and any("ended, " in line for line in lines)


@pytest.mark.parametrize("script", ["gen_answer.py", "gen_judgment.py"])
def test_v2_bench_records_equal_a_direct_run(tmp_path, upstream_v2_dir, script):
    """A v2.0 bench through batches: v2 answer records (uid, messages, o200k counts) and v2 judgments
    (per-category baseline and system prompt, the v2 verdict rule, the judge's thought) as a direct run."""
    import shutil

    from test_v2_judgment import JUDGE, MODEL, judge_reply, setup as judge_setup
    from v2_helpers import V2Workspace, v2_questions

    roots = {"direct": tmp_path / "direct", "batch": tmp_path / "batch"}
    responder = judge_reply if script == "gen_judgment.py" else answer_responder
    with FakeAPIServer(responder) as live, FakeBatchServer(responder) as fake:
        for name, server in (("direct", live), ("batch", fake)):
            ws = V2Workspace(roots[name])
            ws.upstream = upstream_v2_dir
            ws.root.mkdir(parents=True)
            if script == "gen_judgment.py":
                shutil.copy(upstream_v2_dir / "config" / "arena-hard-v2.0.yaml", ws.root / "arena-hard-v2.0.yaml")
                judge_setup(ws, server, per_category=1)
                args = ["--setting-file", "arena-hard-v2.0.yaml", "--model-list", MODEL]
            else:
                ws.write_questions(v2_questions(3))
                ws.write_api_config({"v2-model": {"model": "gpt-4o-mini", "api_type": "openai_thinking",
                                                  "reasoning_effort": "high", "parallel": 4, "endpoints": [
                                                      {"api_base": f"{server.url}/v1", "api_key": "k"}]}})
                ws.write_answer_config(["v2-model"])
                args = []
            extra = ["--batch", *FAST] if name == "batch" else []
            result = run_script(script, *args, *extra, cwd=ws.root)
            assert result.returncode == 0, result.stderr
        assert fake.batches and len(fake.batches) == 1  # v2.0 has no re-ask: one round
    output = (lambda ws: ws.judgment_file(JUDGE, MODEL)) if script == "gen_judgment.py" else \
        (lambda ws: ws.answer_file("v2-model"))
    direct, batched = (read_jsonl(output(V2Workspace(roots[name]))) for name in ("direct", "batch"))
    volatile = ("ans_id", "tstamp")
    assert [{k: v for k, v in r.items() if k not in volatile} for r in batched] == \
        [{k: v for k, v in r.items() if k not in volatile} for r in direct]
    assert direct and ("uid" in direct[0])


@pytest.mark.parametrize("pinned", [False, True])
def test_anthropic_temperature_warning_and_a_pinned_api_version_as_in_a_direct_run(tmp_path, pinned):
    extra = {"extra_headers": {"anthropic-version": "2023-06-01"}} if pinned else {}
    with FakeBatchServer() as fake:
        ws = Workspace(tmp_path)
        ws.write_questions(questions(3))
        ws.write_api_config({"m": entry(fake.url, "anthropic", **extra)})
        ws.write_answer_config(["m"], temperature=0.3)
        result = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert result.returncode == 0, result.stderr
        temperatures = {line["params"].get("temperature") for line in fake.batches[0].lines}
        versions = set(fake.versions)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: m: temperature 0.3 ")]
    if pinned:
        assert temperatures == {0.3} and versions == {"2023-06-01"} and warnings == []
    else:
        assert temperatures == {None} and len(warnings) == 1 and "2023-06-01" not in versions
