"""SIGTERM stops a run as Ctrl-C does: gen_answer.py, gen_judgment.py and build_bench.py run as real
subprocesses against the loopback fake with latency, and get SIGTERM once their first record is on
disk (the file is polled; nothing sleeps to synchronise). Each must exit with status 143 (128 + 15)
after one line saying it was terminated, no traceback, every line on disk complete; and the next run
must ask for nothing that is on disk."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import build_bench
import gen_answer
import gen_judgment
from fake_api_server import AnswerMarkers, JudgeResponder, answer_responder
from fake_bench_builder import CHEAP, PlantedEmbedder, bench_builder_responder
from pipeline_helpers import (A_END, A_START, B_END, B_START, Workspace, model_entry, questions, read_jsonl,
                              run_in_process, write_jsonl)
from test_bench_builder import BENCH, PER_TOPIC, workspace as bench_builder_workspace
from tests.conftest import REPO_ROOT

LATENCY = 0.2
COUNT = 12
QUESTION_NUMBER = re.compile(r"Question number (\d+):")
JUDGE, BASE, MODEL = "judge-t", "base", "model-t"


def terminated_after_first_record(script: str, cwd: Path, output: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` in `cwd`; once `output` holds a complete line, SIGTERM it; what it said and its status."""
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / script)], cwd=cwd, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    assert [line for line in result.stderr.splitlines() if "terminated" in line] == ["terminated (SIGTERM)"]
    assert "Traceback" not in result.stderr
    assert output.read_bytes().endswith(b"\n")
    records = read_jsonl(output)  # every line complete
    assert 1 <= len(records) < total
    return records


def asked_questions(server, since: int) -> set[str]:
    return {f"q{int(m.group(1)):03d}" for r in server.requests[since:] if (m := QUESTION_NUMBER.search(r.request.last_user))}


def test_gen_answer(tmp_path, fake_api):
    server = fake_api(answer_responder, latency=LATENCY)
    ws = Workspace(tmp_path)
    ws.write_questions(questions(COUNT))
    ws.write_api_config({MODEL: model_entry(server.openai_base_url, parallel=2)})
    ws.write_answer_config([MODEL])
    done = assert_terminated(terminated_after_first_record("gen_answer.py", tmp_path, ws.answer_file(MODEL)),
                             ws.answer_file(MODEL), COUNT)
    since = len(server.requests)
    assert run_in_process(gen_answer.main, cwd=tmp_path).returncode == 0
    assert not asked_questions(server, since) & {r["question_id"] for r in done}
    assert len(read_jsonl(ws.answer_file(MODEL))) == COUNT


def test_gen_judgment(tmp_path, fake_api):
    server = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)), latency=LATENCY)
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
