"""`local_engine: true` (api_type sglang or vllm): gen_answer.py starts the engine's server, answers
through it and stops it, with stand-ins in place of the engines (tests/engine_standin.py: `vllm` on
PATH, an `sglang` package on PYTHONPATH) that serve the loopback fake OpenAI API and leave a worker
process in their group that ignores SIGTERM. After a normal end, an error, Ctrl-C and SIGTERM of the
run, no process is left; a server that exits early or never becomes healthy stops the run with its
log's last lines. No GPU: CUDA_VISIBLE_DEVICES names the GPUs the servers are given."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import gen_answer
import gen_judgment
from arena_hard.core.config_file import Section
from arena_hard.core.engine_config import engine_arguments
from arena_hard.core.errors import UserError
from fake_api_server import answer_text
from pipeline_helpers import Workspace, interrupt, questions, read_jsonl
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc: Linux")
MODEL = "Qwen/QwQ-32B"
TESTS = Path(__file__).resolve().parent


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


class Engines:
    """The stand-ins' records: what each server was started with, and its pids."""

    def __init__(self, directory: Path):
        self.directory = directory

    def records(self) -> list[dict]:
        return [json.loads(path.read_text()) for path in sorted(self.directory.glob("*.json"))]

    def stats(self) -> list[dict]:
        return [json.loads(path.read_text()) for path in sorted(self.directory.glob("*.stats"))]

    def pids(self) -> list[int]:
        return [pid for record in self.records() for pid in (record["pid"], record["worker"])]

    def left_running(self) -> list[int]:
        return [pid for pid in self.pids() if alive(pid)]


@pytest.fixture
def engines(tmp_path, monkeypatch):
    """Stand-ins for `vllm` (on PATH) and `python -m sglang.launch_server` (a package on PYTHONPATH)."""
    bin_dir, package_dir, records = tmp_path / "bin", tmp_path / "site", tmp_path / "records"
    for folder in (bin_dir, package_dir / "sglang", records):
        folder.mkdir(parents=True)
    start = f"import sys\nsys.path.insert(0, {str(TESTS)!r})\nfrom engine_standin import main\n"
    (bin_dir / "vllm").write_text(f"#!{sys.executable}\n{start}assert sys.argv[1] == 'serve'\n"
                                  "sys.exit(main('vllm', sys.argv[2:]))\n")
    (bin_dir / "vllm").chmod(0o755)
    (package_dir / "sglang" / "__init__.py").write_text("")
    (package_dir / "sglang" / "launch_server.py").write_text(f"{start}sys.exit(main('sglang', sys.argv[1:]))\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(package_dir), os.environ.get("PYTHONPATH")])))
    monkeypatch.syspath_prepend(str(package_dir))
    monkeypatch.setenv("STANDIN_RECORD_DIR", str(records))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    found = Engines(records)
    yield found
    for pid in found.left_running():  # a failed test leaves nothing behind either
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    root = tmp_path / "work"
    root.mkdir()
    monkeypatch.chdir(root)
    return Workspace(root)


def setup(ws, count=4, api_type="vllm", **extra):
    ws.write_questions(questions(count))
    ws.write_api_config({"qwq": {"model": MODEL, "endpoints": None, "api_type": api_type, "local_engine": True,
                                 "temperature": 0.6, "end_think_token": "</think>", "max_tokens": 2000, **extra}})
    ws.write_answer_config(["qwq"])


def test_replicas_are_started_on_their_gpus_used_and_stopped(ws, engines, monkeypatch, capsys):
    monkeypatch.setenv("STANDIN_THINK", "1")
    setup(ws, count=12, replicas=2, engine_args={"max_model_len": 4096, "enable_prefix_caching": True,
                                                 "enforce_eager": False})
    assert gen_answer.main([]) == 0
    records = engines.records()
    assert sorted(r["cuda"] for r in records) == ["0", "1"]  # one GPU each: tensor parallel over its share
    for record in records:
        assert record["argv"] == [MODEL, "--host", "127.0.0.1", "--port", str(record["port"]),
                                  "--tensor-parallel-size", "1", "--max-model-len", "4096", "--enable-prefix-caching"]
    assert all(stats["requests"] >= 1 for stats in engines.stats()) and len(engines.stats()) == 2
    assert sum(stats["requests"] for stats in engines.stats()) == 12
    for record in read_jsonl(ws.answer_file("qwq")):  # the thought apart, as upstream splits at end_think_token
        turn = record["choices"][0]["turns"][0]
        prompt = next(q["turns"][0]["content"] for q in questions(12) if q["question_id"] == record["question_id"])
        assert (turn["content"], turn["reasoning"]) == (answer_text(prompt), f"Let me think about: {prompt}")
    assert engines.left_running() == []
    logs = sorted((ws.answer_file("qwq").parent / ".engine").glob("*.log"))
    assert [log.name for log in logs] == ["qwq.0.log", "qwq.1.log"]
    assert all("stand-in vllm: stopped" in log.read_text() for log in logs)
    err = capsys.readouterr().err
    assert all(f"log: {log.relative_to(ws.root)}" in err for log in logs)  # named in the run's output


def test_sglang_is_started_as_upstream_with_every_gpu(ws, engines):
    setup(ws, api_type="sglang")
    assert gen_answer.main([]) == 0
    [record] = engines.records()
    assert record["argv"] == ["--model-path", MODEL, "--host", "127.0.0.1", "--port", str(record["port"]),
                              "--tp-size", "2"]
    assert (record["engine"], record["cuda"]) == ("sglang", "0,1")
    assert len(read_jsonl(ws.answer_file("qwq"))) == 4 and engines.left_running() == []


def test_a_server_that_exits_early_is_reported_with_its_log(ws, engines):
    setup(ws)
    result = subprocess.run([sys.executable, str(REPO_ROOT / "gen_answer.py")], cwd=ws.root, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "STANDIN_MODE": "exit"})
    assert result.returncode == 2
    assert "exited with status 3 before it was ready" in result.stderr
    assert "    stand-in: torch.OutOfMemoryError: CUDA out of memory" in result.stderr  # the log's last lines
    assert "Traceback" not in result.stderr and not ws.answer_file("qwq").exists()


def test_a_server_never_healthy_is_stopped_and_reported(ws, engines, monkeypatch):
    monkeypatch.setenv("STANDIN_MODE", "hang")
    setup(ws, startup_timeout=1)
    with pytest.raises(UserError, match=r"was not healthy after 1 s \(raise `qwq.startup_timeout`") as error:
        gen_answer.main([])
    assert "stand-in vllm: loading Qwen/QwQ-32B" in str(error.value)
    assert len(engines.records()) == 1 and engines.left_running() == []


def test_a_server_that_dies_while_answering_is_reported_with_its_log(ws, engines, monkeypatch, capsys):
    monkeypatch.setenv("STANDIN_CRASH_AFTER", "3")
    setup(ws, count=6, parallel=1, max_attempts=2, backoff_base=0.01, backoff_max=0.02)
    assert gen_answer.main([]) == 1
    assert len(read_jsonl(ws.answer_file("qwq"))) == 2
    err = capsys.readouterr().err
    assert "exited with status 4 during the run" in err and "    stand-in: Fatal Python error" in err
    assert engines.left_running() == []


def test_an_error_during_the_run_stops_the_servers(ws, engines, monkeypatch):
    from arena_hard.core import jsonl

    def full_disk(self, record):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jsonl.JsonlAppender, "write", full_disk)
    setup(ws)
    with pytest.raises(OSError, match="No space left"):
        gen_answer.main([])
    assert len(engines.records()) == 1 and engines.left_running() == []


def wait_for_requests_in_flight(engines: Engines, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        for record in engines.records():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{record['port']}/_fake/stats", timeout=5) as response:
                    if json.load(response)["in_flight"] > 0:
                        return
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"no request reached the stand-in (gen_answer: {process.poll()})")


def start_run(ws) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(REPO_ROOT / "gen_answer.py")], cwd=ws.root, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "STANDIN_LATENCY": "600"})


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)])
def test_ctrl_c_or_sigterm_of_the_run_stops_the_servers(ws, engines, signum, status):
    setup(ws, replicas=2)
    process = start_run(ws)
    wait_for_requests_in_flight(engines, process)
    _, err = interrupt(process, signum, timeout=120)
    assert process.returncode == status, err
    assert ("interrupted" if signum == signal.SIGINT else "terminated (SIGTERM)") in err.splitlines()
    assert len(engines.records()) == 2 and engines.left_running() == []


def test_a_killed_run_takes_its_server_with_it(ws, engines):
    setup(ws)
    process = start_run(ws)
    wait_for_requests_in_flight(engines, process)
    process.kill()
    process.communicate(timeout=60)
    [record] = engines.records()
    deadline = time.monotonic() + 60
    while alive(record["pid"]) and time.monotonic() < deadline:  # the parent-death signal reaches it
        time.sleep(0.05)
    assert not alive(record["pid"])


def test_dry_run_starts_nothing(ws, engines, capsys):
    setup(ws, replicas=2)
    assert gen_answer.main(["--dry-run"]) == 0
    assert "qwq: would start 2 vllm server(s) for Qwen/QwQ-32B" in capsys.readouterr().out
    assert engines.records() == []


@pytest.mark.parametrize("api_type, message", [("vllm", "`vllm serve` needs vLLM on PATH"),
                                               ("sglang", "needs SGLang in this Python")])
def test_a_missing_engine_is_one_line_before_anything(ws, monkeypatch, api_type, message):
    monkeypatch.setenv("PATH", str(ws.root / "empty"))
    monkeypatch.setitem(sys.modules, "sglang", None)
    setup(ws, api_type=api_type)
    with pytest.raises(UserError, match=message):
        gen_answer.main(["--dry-run"])


def test_more_replicas_than_gpus_is_one_line(ws, engines, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    setup(ws, replicas=2)
    with pytest.raises(UserError, match=r"`qwq.replicas` is 2, but only 1 GPU\(s\) are visible"):
        gen_answer.main([])
    assert engines.records() == []


def test_a_local_judge_is_started_for_the_judging_and_stopped(ws, engines):
    ws.write_questions(questions(3))
    for model in ("base", "cand"):
        ws.write_answers(model, [{"question_id": q["question_id"], "model_id": model,
                                  "choices": [{"index": 0, "turns": [{"content": f"{model} answer"}]}]}
                                 for q in questions(3)])
    ws.write_api_config({"judge": {"model": MODEL, "api_type": "vllm", "local_engine": True, "endpoints": None}})
    ws.write_judge_config("judge", "base", ["cand"])
    gen_judgment.main([])  # the stand-in gives no verdicts; what matters is that it served the games
    [stats] = engines.stats()
    assert stats["requests"] >= 6 and engines.left_running() == []  # 3 questions, 2 games each


def test_engine_args_become_command_line_options():
    section = Section(Path("api.yaml"), {"engine_args": {"tp_size": 4, "trust_remote_code": True, "quiet": False,
                                                         "json_model_override_args": {"a": 1}, "--raw": "x",
                                                         "ports": [1, 2]}})
    assert engine_arguments(section) == ("--tp-size", "4", "--trust-remote-code", "--json-model-override-args",
                                         '{"a": 1}', "--raw", "x", "--ports", "1", "2")
    assert engine_arguments(Section(Path("a"), {"engine_args": ["--x", "1"]})) == ("--x", "1")
