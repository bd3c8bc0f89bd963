"""Every model at once: gen_judgment.py's one stream through the judge, gen_answer.py's models side by side
(and --sequential), per-model reports, kill -9 and resume across models, and the per-output-file lock."""
from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

import gen_answer
import gen_judgment
from arena_hard.core.jsonl import JsonlAppender
from arena_hard.core.output_lock import lock_outputs, lock_path
from fake_api_server import AnswerMarkers, FaultPlan, JudgeResponder
from pipeline_helpers import (A_END, A_START, B_END, B_START, Workspace, model_entry, questions, read_jsonl,
                              run_script, write_jsonl)
from tests.conftest import REPO_ROOT

JUDGE = "judge-x"
MODELS = ("model-1", "model-2", "model-3")
QUESTION_NUMBER = re.compile(r"Question number (\d+):")
MODEL_TAG = re.compile(r"\[(model-\d)\] says")


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path)


@pytest.fixture
def writes(monkeypatch):
    """The output file of every record appended, in order (not the finished games kept in `.games/`)."""
    order = []
    original = JsonlAppender.write

    def write(self, record):
        if self.path.parent.name != ".games":
            order.append(self.path.stem)
        original(self, record)

    monkeypatch.setattr(JsonlAppender, "write", write)
    return order


def setup_judging(ws, server, count=12, models=MODELS, parallel=2):
    rows = questions(count)
    ws.write_questions(rows)
    for model in (*models, "base"):
        write_jsonl(ws.answer_file(model), [
            {"question_id": r["question_id"], "model_id": model,
             "choices": [{"index": 0, "turns": [{"content": f"[{model}] says: " + "word " * (3 + i % 4)}]}]}
            for i, r in enumerate(rows)])
    # priced, so that no note on an unknown price (issue 23) comes before the progress bars
    ws.write_api_config({JUDGE: model_entry(server.openai_base_url, parallel=parallel, price=0)})
    ws.write_judge_config(JUDGE, "base", list(models))


def judged_item(request):
    """(model, question id) of a logged judge request."""
    prompt = request.user_turns[0]
    return next(m for m in MODEL_TAG.findall(prompt) if m != "base"), \
        f"q{int(QUESTION_NUMBER.search(prompt).group(1)):03d}"


def setup_answering(ws, servers, count=8, parallel=2):
    ws.write_questions(questions(count))
    names = [f"m{i + 1}" for i in range(len(servers))]
    ws.write_api_config({name: model_entry(server.openai_base_url, parallel=parallel)
                         for name, server in zip(names, servers)})
    ws.write_answer_config(names)
    return names


def test_judging_is_one_stream_in_which_every_models_file_grows_from_the_start(ws, fake_api, writes, capsys):
    server = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)), latency=0.02)
    setup_judging(ws, server)
    assert gen_judgment.main([]) == 0
    last = {model: max(i for i, name in enumerate(writes) if name == model) for model in MODELS}
    first = {model: writes.index(model) for model in MODELS}
    assert max(first.values()) < min(last.values())  # every file had records before any model was done
    assert max(first.values()) < len(MODELS) * 2  # ... from its first records on
    assert server.max_in_flight == 2  # the judge's parallel is the one limit, shared by every model
    for model in MODELS:
        assert [r["question_id"] for r in read_jsonl(ws.judgment_file(JUDGE, model))] == \
            [f"q{i:03d}" for i in range(12)]
    out = capsys.readouterr().out
    for model in MODELS:  # one report per model, its own calls counted
        assert f"{model}: 12 judged, 0 failed; 24 calls" in out


def test_failures_are_reported_per_model_and_the_others_complete(ws, fake_api, capsys):
    server = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)),
                      faults=FaultPlan(matching=(("[model-2] says", "400"),)))
    setup_judging(ws, server)
    assert gen_judgment.main([]) == 1
    captured = capsys.readouterr()
    assert "model-1: 12 judged, 0 failed; 24 calls" in captured.out
    assert "model-2: 0 judged, 12 failed; 24 calls" in captured.out  # both games are played at once, both fail
    assert "model-3: 12 judged, 0 failed; 24 calls" in captured.out
    assert captured.err.count("failed: model-2 question") == 12
    assert "failed: model-1" not in captured.err and "failed: model-3" not in captured.err
    assert gen_judgment.main([]) == 1  # a rerun asks only for model-2's judgments
    assert len(server.requests) == 24 + 2 * 24 + 24


def test_all_models_answer_at_once_each_through_its_own_client(ws, fake_api, writes):
    servers = [fake_api(latency=0.02) for _ in range(3)]
    names = setup_answering(ws, servers)
    assert gen_answer.main([]) == 0
    first = {name: writes.index(name) for name in names}
    last = {name: max(i for i, n in enumerate(writes) if n == name) for name in names}
    assert max(first.values()) < min(last.values())
    assert [server.max_in_flight for server in servers] == [2, 2, 2]  # each model its own parallel
    for name in names:
        assert len(read_jsonl(ws.answer_file(name))) == 8


def test_sequential_answers_with_one_model_after_the_other(ws, fake_api, writes):
    servers = [fake_api(latency=0.02) for _ in range(3)]
    names = setup_answering(ws, servers)
    assert gen_answer.main(["--sequential"]) == 0
    assert writes == [name for name in names for _ in range(8)]  # model_list order, no overlap
    # the next model's first request came after the previous model's last one was answered
    assert all(len(server.requests) == 8 for server in servers)


def test_progress_shows_one_bar_per_model_with_done_and_failed_counts(ws, fake_api):
    server = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)),
                      faults=FaultPlan(matching=(("[model-2] says: " + "word " * 4 + "\n", "400"),)))
    setup_judging(ws, server)
    controller, terminal = pty.openpty()  # stderr a terminal of 40 x 120, as a user's, so that tqdm draws
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "gen_judgment.py")], cwd=ws.root,
                               stdout=subprocess.DEVNULL, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        try:
            chunk = os.read(controller, 65536) if ready else b""
        except OSError:  # the terminal closed: the process is gone
            chunk = b""
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert process.wait(timeout=60) == 1
    lines = final_screen(shown.decode("utf-8", "replace"))
    bars = [line for line in lines if "|" in line]
    assert len(bars) == 3, lines  # one bar per model, each drawn over itself, none left behind twice
    counts = [re.search(r"^(model-\d): 100%.* 12/12 .*done=(\d+), failed=(\d+)\]$", bar).groups() for bar in bars]
    assert counts == [("model-1", "12", "0"), ("model-2", "9", "3"), ("model-3", "12", "0")]
    assert lines[3:] == [line for line in lines[3:] if line.startswith(("  failed: model-2", "some judgments"))]


def final_screen(output: str) -> list[str]:
    """The terminal's lines after `output`: characters overwrite, \\r returns, \\n goes down, ESC[nA goes up."""
    rows: dict[int, list[str]] = {}
    row = column = 0
    for up, other_escape, char in re.findall(r"\x1b\[(\d*)A|(\x1b\[[0-9;?]*[A-Za-z])|(.)", output, re.S):
        if char == "\r":
            column = 0
        elif char == "\n":
            row, column = row + 1, 0
        elif char:
            line = rows.setdefault(row, [])
            line.extend(" " * (column + 1 - len(line)))
            line[column] = char
            column += 1
        elif not other_escape:
            row -= int(up or 1)
    return ["".join(rows.get(i, [])).rstrip() for i in range(max(rows, default=-1) + 1) if rows.get(i)]


def test_kill_9_mid_run_resumes_every_model_without_asking_finished_work_again(ws, fake_api):
    server = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)), latency=0.03)
    setup_judging(ws, server, count=24)
    files = {model: ws.judgment_file(JUDGE, model) for model in MODELS}
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "gen_judgment.py")], cwd=ws.root,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not all(path.exists() and path.read_bytes().count(b"\n") >= 3 for path in files.values()) \
            and time.monotonic() < deadline:
        time.sleep(0.003)  # polling for the condition the kill waits on
    process.send_signal(signal.SIGKILL)
    process.wait()
    marker = len(server.requests)
    finished = {(model, r["question_id"]) for model, path in files.items() for r in read_jsonl(path)}
    assert all(3 <= sum(1 for m, _ in finished if m == model) < 24 for model in MODELS)  # mid-run for every model
    assert gen_judgment.main([]) == 0
    asked_again = [judged_item(r.request) for r in server.requests[marker:]]
    assert not finished & set(asked_again)
    for path in files.values():
        assert [r["question_id"] for r in read_jsonl(path)] == [f"q{i:03d}" for i in range(24)]


def test_a_second_run_stops_before_any_call_naming_the_file_and_the_process(ws, fake_api):
    server = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)))
    setup_judging(ws, server)
    held = ws.judgment_file(JUDGE, "model-2")
    with lock_outputs([held]):  # this test's process is the other run
        result = run_script("gen_judgment.py", cwd=ws.root)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"data/tiny-bench/model_judgment/{JUDGE}/model-2.jsonl: being written by process {os.getpid()}" \
        in result.stderr and "--wait" in result.stderr
    assert server.requests == [] and not ws.judgment_file(JUDGE, "model-1").exists()
    assert not lock_path(held).exists()  # released, and its file removed


def spawn(ws, *args):
    return subprocess.Popen([sys.executable, str(REPO_ROOT / "gen_answer.py"), *args], cwd=ws.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_lines(path, count, process):
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline and \
            not (path.exists() and path.read_bytes().count(b"\n") >= count):
        time.sleep(0.003)  # polling for the condition the test waits on


def start_and_pause(ws, output):
    """A run that holds the lock mid-way: started, then stopped (SIGSTOP) once it has written a record."""
    run = spawn(ws)
    wait_for_lines(output, 1, run)
    run.send_signal(signal.SIGSTOP)
    return run


def test_a_second_run_at_once_stops_and_each_question_is_asked_once(ws, fake_api):
    server = fake_api(latency=0.02)
    output = ws.answer_file(setup_answering(ws, [server], count=20)[0])
    first = start_and_pause(ws, output)
    second = spawn(ws)
    _, err = second.communicate(timeout=60)
    first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=60) == 0
    assert second.returncode == 2 and err.count("\n") == 1, err
    assert f"model_answer/m1.jsonl: being written by process {first.pid}" in err
    assert len(server.requests) == 20


def test_with_wait_the_second_run_waits_then_asks_only_what_is_missing(ws, fake_api):
    server = fake_api(latency=0.02)
    output = ws.answer_file(setup_answering(ws, [server], count=20)[0])
    first = start_and_pause(ws, output)
    second = spawn(ws, "--wait")
    assert f"m1.jsonl: being written by process {first.pid}; waiting" in second.stderr.readline()
    first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=60) == 0 and second.wait(timeout=60) == 0
    assert "m1: 20 of 20 already answered" in second.stdout.read()
    assert len(server.requests) == 20 and len(read_jsonl(output)) == 20


def test_two_runs_started_together_with_wait_ask_each_question_once(ws, fake_api):
    server = fake_api(latency=0.02)
    output = ws.answer_file(setup_answering(ws, [server], count=20)[0])
    runs = [spawn(ws, "--wait"), spawn(ws, "--wait")]
    assert [run.wait(timeout=60) for run in runs] == [0, 0]
    assert len(server.requests) == 20 and len(read_jsonl(output)) == 20


def test_a_lock_left_by_a_killed_run_is_taken_over(ws, fake_api):
    server = fake_api(latency=0.05)
    names = setup_answering(ws, [server], count=20)
    output = ws.answer_file(names[0])
    killed = spawn(ws)
    wait_for_lines(output, 2, killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert lock_path(output).read_text().strip() == str(killed.pid)  # left behind, naming a dead process
    answered = len(read_jsonl(output))
    result = run_script("gen_answer.py", cwd=ws.root)
    assert result.returncode == 0, result.stderr
    assert len(read_jsonl(output)) == 20 and not lock_path(output).exists()
    assert len({r.request.last_user for r in server.requests}) == 20
    assert len(server.requests) <= 20 + 2  # at most the killed run's requests in flight asked again
    assert answered >= 2
