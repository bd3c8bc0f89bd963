"""SIGTERM stops a run as Ctrl-C does: gen_answer.py, gen_judgment.py and build_bench.py run as real
subprocesses against the loopback fake with latency, and get SIGTERM once their first record is on
disk (the file is polled; nothing sleeps to synchronise). Each must exit with status 143 (128 + 15)
after one line saying it was terminated, no traceback, every line on disk complete; and the next run
must ask for nothing that is on disk. A --batch run names the batches it leaves running, as on Ctrl-C;
where Ctrl-C is ignored, SIGTERM's default action ends the run."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import build_bench
import gen_answer
import gen_judgment
from fake_api_server import JudgeResponder, answer_responder
from fake_batch_server import FakeBatchServer
from fake_bench_builder import CHEAP, PlantedEmbedder, bench_builder_responder
from pipeline_helpers import Workspace, model_entry, questions, read_jsonl, run_in_process, write_jsonl
from test_batch import FAST, MARKERS, answer_workspace as batch_answers, judge_workspace, run_script, start
from test_bench_builder import BENCH, PER_TOPIC, workspace as bench_builder_workspace
from tests.conftest import REPO_ROOT

LATENCY = 0.2
COUNT = 12
QUESTION_NUMBER = re.compile(r"Question number (\d+):")
JUDGE, BASE, MODEL = "judge-t", "base", "model-t"


def terminated_after_first_record(script: str, cwd: Path, output: Path,
                                  **popen: Any) -> subprocess.CompletedProcess[str]:
    """Run `script` in `cwd`; once `output` holds a complete line, SIGTERM it; what it said and its status."""
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / script)], cwd=cwd, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    try:
        deadline = time.monotonic() + 120
        while not (output.exists() and b"\n" in output.read_bytes()):
            assert process.poll() is None, f"{script} ended before its first record: {process.communicate()}"
            assert time.monotonic() < deadline, f"no record from {script}"
            time.sleep(0.005)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def assert_terminated(result: subprocess.CompletedProcess[str], output: Path, total: int) -> list[dict]:
    assert result.returncode == 128 + signal.SIGTERM, (result.returncode, result.stdout, result.stderr)
    assert [line for line in result.stderr.splitlines() if "terminated" in line] == ["terminated (SIGTERM)"]
    assert "Traceback" not in result.stderr
    assert output.read_bytes().endswith(b"\n")
    records = read_jsonl(output)  # every line complete
    assert 1 <= len(records) < total
    return records


def asked_questions(server, since: int) -> set[str]:
    return {f"q{int(m.group(1)):03d}" for r in server.requests[since:] if (m := QUESTION_NUMBER.search(r.request.last_user))}


def answer_workspace(root: Path, url: str) -> Workspace:
    ws = Workspace(root)
    ws.write_questions(questions(COUNT))
    ws.write_api_config({MODEL: model_entry(url, parallel=2)})
    ws.write_answer_config([MODEL])
    return ws


def test_gen_answer(tmp_path, fake_api):
    server = fake_api(answer_responder, latency=LATENCY)
    ws = answer_workspace(tmp_path, server.openai_base_url)
    done = assert_terminated(terminated_after_first_record("gen_answer.py", tmp_path, ws.answer_file(MODEL)),
                             ws.answer_file(MODEL), COUNT)
    since = len(server.requests)
    assert run_in_process(gen_answer.main, cwd=tmp_path).returncode == 0
    assert not asked_questions(server, since) & {r["question_id"] for r in done}
    assert len(read_jsonl(ws.answer_file(MODEL))) == COUNT


def test_gen_judgment(tmp_path, fake_api):
    server = fake_api(JudgeResponder(MARKERS), latency=LATENCY)
    ws = Workspace(tmp_path)
    rows = questions(COUNT)
    ws.write_questions(rows)
    for model in (BASE, MODEL):
        write_jsonl(ws.answer_file(model), [{"question_id": r["question_id"], "model_id": model, "choices": [
            {"index": 0, "turns": [{"content": f"{model} says: " + "word " * (3 + i % 4)}]}]} for i, r in enumerate(rows)])
    ws.write_api_config({JUDGE: model_entry(server.openai_base_url, parallel=2)})
    ws.write_judge_config(JUDGE, BASE, [MODEL])
    output = ws.judgment_file(JUDGE, MODEL)
    done = assert_terminated(terminated_after_first_record("gen_judgment.py", tmp_path, output), output, COUNT)
    since = len(server.requests)
    assert run_in_process(gen_judgment.main, cwd=tmp_path).returncode == 0
    assert not asked_questions(server, since) & {r["question_id"] for r in done}
    assert len(read_jsonl(output)) == COUNT


def test_build_bench(tmp_path, fake_api, upstream_bench_builder_dir):
    embedder = fake_api(bench_builder_responder, embedder=PlantedEmbedder())
    labeller = fake_api(bench_builder_responder, latency=lambda request: LATENCY / 4 if request.model == CHEAP else 0)
    root = bench_builder_workspace(tmp_path, upstream_bench_builder_dir, embedder.url,
                                   label_url=labeller.openai_base_url, topic_model=None)
    labels = root / "data" / BENCH / ".bench_builder" / "labels" / f"{CHEAP}.jsonl"
    total = 5 * PER_TOPIC
    done = assert_terminated(terminated_after_first_record("build_bench.py", root, labels), labels, total)
    since = len(labeller.requests)
    assert run_in_process(build_bench.main, cwd=root).returncode == 0
    assert sum(r.request.model == CHEAP for r in labeller.requests[since:]) == total - len(done)
    assert (root / "data" / BENCH / "question.jsonl").exists()


def test_where_ctrl_c_is_ignored_sigterm_ends_the_run_as_it_always_did(tmp_path, fake_api):
    """A background job of a shell script starts with SIGINT ignored: there is no Ctrl-C to stop as,
    and SIGTERM's default action ends the run (what arrived is on disk all the same)."""
    server = fake_api(answer_responder, latency=LATENCY)
    ws = answer_workspace(tmp_path, server.openai_base_url)
    result = terminated_after_first_record("gen_answer.py", tmp_path, ws.answer_file(MODEL),
                                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert result.returncode == -signal.SIGTERM
    assert 1 <= len(read_jsonl(ws.answer_file(MODEL))) < COUNT


@pytest.mark.parametrize("script", ["gen_answer.py", "gen_judgment.py"])
def test_a_batch_run_names_the_batches_it_leaves_running(tmp_path, script):
    with FakeBatchServer(JudgeResponder(MARKERS) if script == "gen_judgment.py" else answer_responder) as fake:
        ws = judge_workspace(tmp_path, fake.url) if script == "gen_judgment.py" else \
            batch_answers(tmp_path, fake.url, "openai", 3)
        fake.hold = True
        process = start(script, ws, "--batch", "--poll-interval", "0.01")
        assert fake.polled.wait(60)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 128 + signal.SIGTERM, stderr
        assert stderr.splitlines()[-2:] == [
            f"1 batch(es) keep running at the provider ({fake.batches[0].id}); rerun the same command to collect "
            "them, or with --cancel to cancel them", "terminated (SIGTERM)"]
        fake.hold = False
        assert run_script(script, "--batch", *FAST, cwd=ws.root).returncode == 0
        assert len(fake.batches) == 1
