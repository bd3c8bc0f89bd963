"""Batch mode when the provider or the user gets in the way (issues 24 and 26): a batch the provider
no longer knows (404), a status that cannot be read (HTTP 500, connection refused) and the poll
timeout, --cancel's report, a server without a batch API, and a direct run while a batch is open.
The scripts run as in tests/test_batch.py (in this process, the real openai/anthropic SDK clients over
HTTP to tests/fake_batch_server.py); a batch is left open by interrupting a real run with Ctrl-C.
Polling never sleeps here: its clock is replaced by virtual time."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from arena_hard.generate.batch.poll import POLL_BACKOFF_MAX, Clock
from fake_api_server import FakeAPIServer, JudgeResponder, answer_responder
from fake_batch_server import FakeBatchServer
from pipeline_helpers import interrupt, read_jsonl, write_jsonl
from test_batch import FAST, JUDGE, MARKERS, answer_workspace, answers, entry, judge_workspace, run_script, start


@dataclass
class VirtualTime:
    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)


@pytest.fixture
def virtual_time(monkeypatch):
    """Batch polling's clock, replaced: a sleep returns at once and moves the time on by its length."""
    time = VirtualTime()

    async def sleep(clock, seconds):
        time.sleeps.append(seconds)
        time.now += seconds
        await asyncio.sleep(0)

    monkeypatch.setattr(Clock, "now", lambda clock: time.now)
    monkeypatch.setattr(Clock, "sleep", sleep)
    return time


def leave_open(script: str, ws, fake: FakeBatchServer) -> None:
    """`script --batch` until its batch has been submitted and polled, then Ctrl-C: the batch stays open."""
    fake.hold = True
    process = start(script, ws, "--batch", "--poll-interval", "0.01")
    assert fake.polled.wait(60)
    interrupt(process)
    assert process.returncode == 130
    assert len(fake.batches) == 1


def lines_with(text: str, output: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


def state_dir(ws, script: str):
    folder = ws.bench_dir / ("model_answer" if script == "gen_answer.py" else f"model_judgment/{JUDGE}")
    return folder / ".batch"


@pytest.mark.parametrize("api_type, first", [("openai", "--cancel"), ("anthropic", "--batch")])
def test_a_batch_the_provider_no_longer_knows_is_dropped_and_its_requests_sent_once_more(tmp_path, api_type, first):
    with FakeBatchServer() as fake:
        ws = answer_workspace(tmp_path, fake.url, api_type, 3)
        leave_open("gen_answer.py", ws, fake)
        gone = fake.batches[0]
        fake.forget(gone)  # a cleanup at the provider: every call about it answers 404
        fake.hold = False
        if first == "--cancel":
            cancelled = run_script("gen_answer.py", "--cancel", *FAST, cwd=ws.root)
            assert cancelled.returncode == 0, cancelled.stderr
            assert "Traceback" not in cancelled.stderr and "error:" not in cancelled.stderr
            assert len(lines_with(f"batch {gone.id} (3 requests", cancelled.stderr)) == 1
            assert "no longer knows it" in cancelled.stderr and "nothing to cancel" in cancelled.stderr
            assert len(fake.batches) == 1
        result = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert result.returncode == 0, result.stderr
        if first == "--batch":
            assert len(lines_with("no longer knows it", result.stderr)) == 1
        assert len(fake.batches) == 2 and sorted(fake.batches[1].custom_ids) == sorted(gone.custom_ids)
        assert run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root).returncode == 0
        assert len(fake.batches) == 2  # sent once more, not on every run
    assert [r["question_id"] for r in read_jsonl(ws.answer_file("m"))] == ["q000", "q001", "q002"]
    assert not state_dir(ws, "gen_answer.py").exists()


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_unreadable_status_backs_off_with_one_line_per_streak_and_stops_at_the_poll_timeout(tmp_path, api_type,
                                                                                           virtual_time):
    args = ("--batch", "--poll-interval", "10", "--poll-timeout", "7200")
    fake = FakeBatchServer()
    with fake:
        ws = answer_workspace(tmp_path, fake.url, api_type, 3)
        fake.fail_polls = 10 ** 9  # HTTP 500 on every status poll
        first = run_script("gen_answer.py", *args, cwd=ws.root)
        batch_id = fake.batches[0].id
    assert first.returncode == 1, first.stderr
    streak = lines_with("cannot read its status", first.stderr)
    assert len(streak) == 1 and "500" in streak[0] and f"at most {POLL_BACKOFF_MAX:g} s" in streak[0]
    errors = lines_with("error:", first.stderr)
    assert len(errors) == 1 and f"batch {batch_id}" in errors[0] and "(--poll-timeout 7200 s)" in errors[0]
    assert "rerun the same command to collect it" in errors[0] and "Traceback" not in first.stderr
    assert 7200 <= virtual_time.now < 7200 + POLL_BACKOFF_MAX
    assert min(virtual_time.sleeps) >= 10 and max(virtual_time.sleeps) <= POLL_BACKOFF_MAX
    assert max(virtual_time.sleeps) >= POLL_BACKOFF_MAX / 2  # backed off, from every 10 s to minutes
    assert len(virtual_time.sleeps) < 40  # at 10 s it would have been 720 polls
    assert batch_id in (state_dir(ws, "gen_answer.py") / "batches.jsonl").read_text()

    refused = run_script("gen_answer.py", *args, cwd=ws.root)  # the server is down: connection refused
    assert refused.returncode == 1
    streak = lines_with("cannot read its status", refused.stderr)
    assert len(streak) == 1 and "Connection" in streak[0]
    assert len(lines_with("error:", refused.stderr)) == 1 and "Traceback" not in refused.stderr

    with fake:  # back, on the same port: a rerun collects the batch after two more failed polls
        fake.fail_polls = 2
        collected = run_script("gen_answer.py", "--batch", "--poll-interval", "10", cwd=ws.root)
        assert collected.returncode == 0, collected.stderr
        assert len(lines_with("cannot read its status", collected.stderr)) == 1
        assert len(fake.batches) == 1  # nothing sent twice
    assert len(read_jsonl(ws.answer_file("m"))) == 3
    assert not state_dir(ws, "gen_answer.py").exists()


def test_a_batch_that_never_ends_stops_at_the_poll_timeout_and_a_rerun_collects_it(tmp_path, virtual_time):
    with FakeBatchServer(JudgeResponder(MARKERS)) as fake:
        ws = judge_workspace(tmp_path, fake.url)
        fake.hold = True
        stopped = run_script("gen_judgment.py", "--batch", "--poll-interval", "60", "--poll-timeout", "600",
                             cwd=ws.root)
        assert stopped.returncode == 1
        errors = lines_with("error:", stopped.stderr)
        assert len(errors) == 1 and "is still in_progress after 0:10:00 of polling" in errors[0]
        assert virtual_time.sleeps == [60.0] * 10
        fake.hold = False
        assert run_script("gen_judgment.py", "--batch", *FAST, cwd=ws.root).returncode == 0
        assert len(fake.batches) == 1
    assert all(len(read_jsonl(ws.judgment_file(JUDGE, m))) == 4 for m in ("model-1", "model-2"))


def test_cancel_sums_up_in_one_line_exits_0_and_prints_the_interval_it_polls_at(tmp_path, virtual_time):
    with FakeBatchServer(JudgeResponder(MARKERS)) as fake:
        ws = judge_workspace(tmp_path, fake.url)
        leave_open("gen_judgment.py", ws, fake)
        fake.cancel_polls = 2  # "cancelling" at the first poll, "cancelled" at the second
        cancelled = run_script("gen_judgment.py", "--cancel", "--poll-interval", "7", cwd=ws.root)
        assert fake.batches[0].cancelled and len(fake.batches) == 1
        again = run_script("gen_judgment.py", "--cancel", cwd=ws.root)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "polling every 7 s" in cancelled.stderr and virtual_time.sleeps == [7.0]
    assert lines_with("failed:", cancelled.stderr) == [] and "some judgments are missing" not in cancelled.stderr
    summary = lines_with("after the cancel", cancelled.stderr)
    assert summary == ["after the cancel 4 question(s) have no record (model-2: 4); rerun with --batch to send them"]
    assert again.returncode == 0, again.stderr
    assert "no open batches to cancel" in again.stderr
    assert lines_with("not sent", again.stderr) == [] and "some judgments are missing" not in again.stderr


@pytest.mark.parametrize("script, api_type, always", [("gen_answer.py", "openai", False),
                                                      ("gen_answer.py", "anthropic", True),
                                                      ("gen_judgment.py", "openai", False)])
def test_a_server_without_a_batch_api_says_so_in_one_line_and_leaves_nothing_behind(tmp_path, script, api_type,
                                                                                      always):
    with FakeAPIServer(answer_responder) as server:  # chat completions and messages only, as vLLM's server
        if script == "gen_answer.py":
            ws = answer_workspace(tmp_path, server.url, api_type, 3)
            ws.write_api_config({"m": entry(server.url, api_type, batch=always)})
            outputs = [ws.answer_file("m")]
        else:
            ws = judge_workspace(tmp_path, server.url, api_type)
            outputs = [ws.judgment_file(JUDGE, m) for m in ("model-1", "model-2")]
        result = run_script(script, *(() if always else ("--batch",)), *FAST, cwd=ws.root)
    assert result.returncode == 2
    errors = lines_with("error:", result.stderr)
    assert len(errors) == 1 and "has no batch API (404" in errors[0] and "run without --batch" in errors[0]
    assert ("remove `batch: true` from m in the endpoint file" in errors[0]) == always
    assert "Traceback" not in result.stderr
    assert not state_dir(ws, script).exists()
    assert not any(output.exists() for output in outputs)


@pytest.mark.parametrize("script", ["gen_answer.py", "gen_judgment.py"])
def test_a_direct_run_refuses_while_a_batch_holds_its_requests(tmp_path, script):
    with FakeBatchServer(JudgeResponder(MARKERS) if script == "gen_judgment.py" else answer_responder) as fake:
        ws = judge_workspace(tmp_path, fake.url) if script == "gen_judgment.py" else \
            answer_workspace(tmp_path, fake.url, "openai", 3)
        leave_open(script, ws, fake)
        calls = len(fake.calls)
        for extra in ((), ("--dry-run",)):
            refused = run_script(script, *extra, cwd=ws.root)
            assert refused.returncode == 2
            errors = lines_with("error:", refused.stderr)
            assert len(errors) == 1 and fake.batches[0].id in errors[0]
            assert "rerun with --batch" in errors[0] and "--cancel" in errors[0] and "pay for them again" in errors[0]
        assert len(fake.calls) == calls  # nothing was asked of anyone
        fake.hold = False
        collected = run_script(script, "--batch", *FAST, cwd=ws.root)
        assert collected.returncode == 0, collected.stderr
        assert len(fake.batches) == 1 and fake.count("POST", "/files") == 1
        assert run_script(script, cwd=ws.root).returncode == 0  # all done: the direct run has nothing to send
        assert len(fake.calls) == calls + len(lines_with("since submission", collected.stderr)) + 2  # polls, download


def named_then_cancelled(script: str, ws, fake: FakeBatchServer) -> None:
    """A --batch run names the open batch that no question needs, --cancel cancels it, and then nothing
    is open any more, for a batch run or a direct one."""
    result = run_script(script, "--batch", *FAST, cwd=ws.root)
    assert result.returncode == 0, result.stderr
    note = lines_with("still open at the provider", result.stderr)
    assert len(note) == 1 and fake.batches[0].id in note[0] and "--cancel" in note[0]
    cancelled = run_script(script, "--cancel", *FAST, cwd=ws.root)
    assert cancelled.returncode == 0, cancelled.stderr
    assert fake.batches[0].cancelled and len(fake.batches) == 1
    assert lines_with("still open", run_script(script, "--batch", *FAST, cwd=ws.root).stderr) == []
    assert run_script(script, cwd=ws.root).returncode == 0


def test_a_batch_run_names_an_open_batch_no_question_needs_and_cancel_closes_it(tmp_path):
    with FakeBatchServer() as fake:
        ws = answer_workspace(tmp_path, fake.url, "anthropic", 3)
        leave_open("gen_answer.py", ws, fake)
        write_jsonl(ws.answer_file("m"), answers("m", 3, 4))  # answered another way meanwhile
        named_then_cancelled("gen_answer.py", ws, fake)
    assert [r["question_id"] for r in read_jsonl(ws.answer_file("m"))] == ["q000", "q001", "q002"]


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_requests_of_cancelled_batches_are_no_failed_attempts_and_are_sent_again(tmp_path, api_type, virtual_time):
    """Cancelled four times over, a request its batch never ran is still sent by the next --batch run:
    only a request that ran and failed counts toward the limit of 3 (issue 24's remainders)."""
    with FakeBatchServer() as fake:
        ws = answer_workspace(tmp_path, fake.url, api_type, 1)
        fake.hold = True
        for round_number in range(1, 5):
            stopped = run_script("gen_answer.py", "--batch", "--poll-interval", "60", "--poll-timeout", "60",
                                 cwd=ws.root)
            assert stopped.returncode == 1 and len(fake.batches) == round_number  # its batch is left open
            cancelled = run_script("gen_answer.py", "--cancel", *FAST, cwd=ws.root)
            assert cancelled.returncode == 0, cancelled.stderr
            assert lines_with("after the cancel", cancelled.stderr) == [
                "after the cancel 1 question(s) have no record (m: 1); rerun with --batch to send them"]
        fake.hold = False
        collected = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert collected.returncode == 0, collected.stderr
        assert "not sent again" not in collected.stderr
        assert len(fake.batches) == 5 and all(batch.cancelled for batch in fake.batches[:4])
    assert [r["question_id"] for r in read_jsonl(ws.answer_file("m"))] == ["q000"]
    assert not state_dir(ws, "gen_answer.py").exists()


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_requests_of_expired_batches_are_reported_and_sent_again_without_counting(tmp_path, api_type):
    with FakeBatchServer(expire_batches=(1, 2, 3, 4)) as fake:  # each expires with half its requests run
        ws = answer_workspace(tmp_path, fake.url, api_type, 2)
        for _ in range(4):
            expired = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
            assert expired.returncode == 1
            [failed] = lines_with("failed: m question", expired.stderr)
            assert "never run: not counted as an attempt; a rerun sends it again" in failed
            assert "(0 attempts)" in failed
        assert run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root).returncode == 0
        assert [len(batch.lines) for batch in fake.batches] == [2, 1, 1, 1, 1]
    assert len(read_jsonl(ws.answer_file("m"))) == 2


def test_a_judging_run_with_every_judgment_made_still_names_an_open_batch_and_cancel_closes_it(tmp_path):
    """gen_judgment.py --batch once every judgment is made (here: by another run meanwhile) names the
    open batch no question needs, as with judgments left to make, and --cancel then cancels it."""
    responder = JudgeResponder(MARKERS)
    with FakeAPIServer(responder) as live, FakeBatchServer(responder) as fake:
        direct = judge_workspace(tmp_path / "direct", live.url)
        assert run_script("gen_judgment.py", cwd=direct.root).returncode == 0
        ws = judge_workspace(tmp_path / "batch", fake.url)
        leave_open("gen_judgment.py", ws, fake)
        for model in ("model-1", "model-2"):
            write_jsonl(ws.judgment_file(JUDGE, model), read_jsonl(direct.judgment_file(JUDGE, model)))
        named_then_cancelled("gen_judgment.py", ws, fake)
    for model in ("model-1", "model-2"):
        assert read_jsonl(ws.judgment_file(JUDGE, model)) == read_jsonl(direct.judgment_file(JUDGE, model))


@pytest.mark.parametrize("script, moved", [("gen_answer.py", {}), ("gen_judgment.py", {"model_name": "renamed"})])
def test_a_batch_run_refuses_while_an_open_batch_is_at_the_endpoint_its_entry_no_longer_names(tmp_path, script, moved):
    """The entry of the model (or judge) that sent an open batch to server A now names server B (and,
    in one case, another model_name, which renames its requests and had them sent to B again): nothing
    is sent to B, and A is not asked with the entry's new key. Once the entry is restored, the batch is
    collected from A."""
    responder = JudgeResponder(MARKERS) if script == "gen_judgment.py" else answer_responder
    with FakeBatchServer(responder) as a, FakeBatchServer(responder) as b:
        ws = judge_workspace(tmp_path, a.url) if script == "gen_judgment.py" else \
            answer_workspace(tmp_path, a.url, "openai", 3)
        name = JUDGE if script == "gen_judgment.py" else "m"
        leave_open(script, ws, a)
        calls = len(a.calls)
        ws.write_api_config({name: entry(b.url, "openai", **moved)})
        a.hold = False
        for args in (("--batch",), ("--cancel",), ("--batch", "--dry-run")):
            refused = run_script(script, *args, *FAST, cwd=ws.root)
            assert refused.returncode == 2, refused.stderr
            [error] = lines_with("error:", refused.stderr)
            assert f"batch {a.batches[0].id} " in error and f"was sent to openai served-model at {a.url}/v1" in error
            assert f"now goes to openai {moved.get('model_name', 'served-model')} at {b.url}/v1" in error
            assert "restore the entry" in error and "--cancel" in error and "Traceback" not in refused.stderr
        assert b.calls == [] and len(a.calls) == calls
        ws.write_api_config({name: entry(a.url, "openai")})
        collected = run_script(script, "--batch", *FAST, cwd=ws.root)
        assert collected.returncode == 0, collected.stderr
        assert len(a.batches) == 1 and b.calls == []
    outputs = [ws.judgment_file(JUDGE, m) for m in ("model-1", "model-2")] if script == "gen_judgment.py" else \
        [ws.answer_file("m")]
    assert all(len(read_jsonl(output)) == (4 if script == "gen_judgment.py" else 3) for output in outputs)
    assert not state_dir(ws, script).exists()
