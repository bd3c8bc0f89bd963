"""API keys never leave the process: not in an output file, a log line, the progress bar, an error
message or a traceback, even when requests fail with an error that quotes the key back.

Keys come from the environment, through `${VAR}` in api_config.yaml or the SDKs' own variables
(OPENAI_API_KEY, AZURE_OPENAI_API_KEY, ANTHROPIC_API_KEY). The fake API echoes the key it received
inside 401 and 500 error messages, as OpenAI's "Incorrect API key provided: sk-..." does, and also
stalls and drops connections. Each run is a subprocess; everything it writes is searched: stdout,
stderr (also through a pseudo-terminal, so that tqdm draws its bar), and every file under the working
directory. The key is long, like a JWT-style token, so that a message cut to length would still leak a
piece of it; any 12-character piece of it counts as a leak."""
from __future__ import annotations

import fcntl
import os
import pty
import random
import string
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from fake_api_server import (DROP, ECHO_KEY_401, ECHO_KEY_500, STALL, AnswerMarkers, FaultPlan, JudgeResponder,
                             answer_responder)
from pipeline_helpers import (A_END, A_START, B_END, B_START, Workspace, interrupt, model_entry, questions, write_jsonl)
from tests.conftest import REPO_ROOT

KEY = "sk-robust-" + "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=390))
PIECE = 12
SDK_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
JUDGE, BASE, MODEL = "judge-s", "base", "model-1"
FAST = {"backoff_base": 0.01, "backoff_max": 0.03, "timeout": 0.3}


def leaks(text: str | bytes) -> list[str]:
    """Pieces of the key found in `text`."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [KEY[i:i + PIECE] for i in range(0, len(KEY) - PIECE + 1, PIECE // 2) if KEY[i:i + PIECE] in text]


def files_with_leaks(root: Path) -> dict[str, list[str]]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and leaks(path.read_bytes()):
            found[str(path.relative_to(root))] = leaks(path.read_bytes())[:2]
    return found


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SDK_VARIABLES}
    env.update(extra)
    return env


def run(root: Path, script: str, env: dict[str, str], *, terminal: bool = False) -> tuple[int, str, str]:
    """Run the script; with `terminal`, its stderr is a pseudo-terminal, so progress bars are drawn."""
    command = [sys.executable, str(REPO_ROOT / script)]
    if not terminal:
        result = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env, timeout=120)
        return result.returncode, result.stdout, result.stderr
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))  # a 160-column terminal
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=secondary, env=env)
    os.close(secondary)
    chunks: list[bytes] = []

    def drain() -> None:  # read the terminal until the process closes it (EIO on Linux)
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    stdout, _ = process.communicate(timeout=120)
    reader.join(timeout=30)
    os.close(main)
    return process.returncode, stdout.decode("utf-8", "replace"), b"".join(chunks).decode("utf-8", "replace")


def answer_workspace(ws: Workspace, server, api_type: str, key_in_config: bool, **entry) -> None:
    ws.write_questions(questions(8))
    base = server.openai_base_url if api_type == "openai" else server.url
    config = model_entry(base, api_type=api_type, parallel=2, **{**FAST, "max_attempts": 2, **entry})
    if key_in_config:
        config["endpoints"][0]["api_key"] = "${ROBUST_SECRET}"
    else:
        del config["endpoints"][0]["api_key"]  # the SDK's own variable supplies it
    ws.write_api_config({MODEL: config})
    ws.write_answer_config([MODEL])


def judge_workspace(ws: Workspace, server) -> None:
    rows = questions(8)
    ws.write_questions(rows)
    for model in (BASE, MODEL):
        write_jsonl(ws.answer_file(model), [
            {"question_id": r["question_id"], "model_id": model,
             "choices": [{"index": 0, "turns": [{"content": f"{model} answer {i} " + "x " * i}]}]}
            for i, r in enumerate(rows)])
    config = model_entry(server.openai_base_url, parallel=2, max_attempts=3, **FAST)
    config["endpoints"][0]["api_key"] = "${ROBUST_SECRET}"
    ws.write_api_config({JUDGE: config})
    ws.write_judge_config(JUDGE, BASE, [MODEL])


def assert_no_leak(ws: Workspace, server, stdout: str, stderr: str) -> None:
    assert all(record.request.has_api_key for record in server.requests)  # the key was sent ...
    assert not leaks(stdout), leaks(stdout)[:2]  # ... and came back in errors, yet is nowhere
    assert not leaks(stderr), leaks(stderr)[:2]
    assert not files_with_leaks(ws.root)
    assert "Traceback" not in stderr


CASES = [
    # (id, api_type, where the key is, fault mix, environment variable holding the key)
    ("openai, ${VAR}, 401 quoting the key", "openai", True, {ECHO_KEY_401: 1}, "ROBUST_SECRET"),
    ("openai, ${VAR}, 500 quoting the key, retried", "openai", True, {ECHO_KEY_500: 1}, "ROBUST_SECRET"),
    ("openai, OPENAI_API_KEY, quoted keys, timeouts and drops", "openai", False,
     {ECHO_KEY_500: 2, ECHO_KEY_401: 1, STALL: 1, DROP: 1}, "OPENAI_API_KEY"),
    ("azure, ${VAR}, 500 quoting the key", "azure", True, {ECHO_KEY_500: 1}, "ROBUST_SECRET"),
    ("azure, AZURE_OPENAI_API_KEY, 401 quoting the key", "azure", False, {ECHO_KEY_401: 1}, "AZURE_OPENAI_API_KEY"),
    ("anthropic, ANTHROPIC_API_KEY, quoted keys", "anthropic", False, {ECHO_KEY_500: 1, ECHO_KEY_401: 1},
     "ANTHROPIC_API_KEY"),
]


@pytest.mark.parametrize("name, api_type, key_in_config, mix, variable", CASES, ids=[case[0] for case in CASES])
def test_failing_answer_run_never_shows_the_key(tmp_path, fake_api, name, api_type, key_in_config, mix, variable):
    server = fake_api(answer_responder, faults=FaultPlan(rate=1.0, mix=mix, seed=3, stall_seconds=30))
    ws = Workspace(tmp_path)
    answer_workspace(ws, server, api_type, key_in_config)
    status, stdout, stderr = run(tmp_path, "gen_answer.py", environment(**{variable: KEY}),
                                 terminal=variable == "OPENAI_API_KEY")
    assert status == 1, stderr
    assert {record.outcome for record in server.requests} & {ECHO_KEY_401, ECHO_KEY_500}  # the key was echoed
    assert "failed: model-1 question" in stderr and ("Incorrect API key provided: ***" in stderr or
                                                     "APITimeoutError" in stderr or "APIConnectionError" in stderr)
    if variable == "OPENAI_API_KEY":
        assert "model-1:" in stderr and "failed=" in stderr  # tqdm drew its bar and counts on the terminal
    assert_no_leak(ws, server, stdout, stderr)


def test_judging_with_quoted_keys_writes_judgments_without_them(tmp_path, fake_api):
    """A run that recovers: half the requests fail with errors quoting the key, the rest succeed; the
    judgments, the summary and the failure lines hold no piece of it."""
    server = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)),
                      faults=FaultPlan(rate=0.5, mix={ECHO_KEY_500: 3, STALL: 1, DROP: 1}, seed=9, stall_seconds=30))
    ws = Workspace(tmp_path)
    judge_workspace(ws, server)
    status, stdout, stderr = run(tmp_path, "gen_judgment.py", environment(ROBUST_SECRET=KEY))
    assert status in (0, 1), stderr
    assert server.outcomes[ECHO_KEY_500] >= 5 and server.outcomes["ok"] >= 8
    assert ws.judgment_file(JUDGE, MODEL).exists()
    assert_no_leak(ws, server, stdout, stderr)


def test_judge_stopped_by_a_401_quoting_the_key(tmp_path, fake_api):
    server = fake_api(JudgeResponder(), faults=FaultPlan(rate=1.0, mix={ECHO_KEY_401: 1}))
    ws = Workspace(tmp_path)
    judge_workspace(ws, server)
    status, stdout, stderr = run(tmp_path, "gen_judgment.py", environment(ROBUST_SECRET=KEY))
    assert status == 1
    assert "Incorrect API key provided: ***" in stderr and "not sent:" in stderr
    assert_no_leak(ws, server, stdout, stderr)


def test_interrupted_run_shows_no_key(tmp_path, fake_api):
    """Ctrl-C while requests hang and others fail quoting the key: one line, no traceback, no key."""
    faults = FaultPlan(rate=1.0, mix={STALL: 1}, schedule={1: ECHO_KEY_500, 2: ECHO_KEY_500}, stall_seconds=30)
    server = fake_api(answer_responder, faults=faults)
    ws = Workspace(tmp_path)
    answer_workspace(ws, server, "openai", True, timeout=20.0, max_attempts=50)
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "gen_answer.py")], cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(ROBUST_SECRET=KEY))
    deadline = time.monotonic() + 30
    while server.outcomes[STALL] < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the condition the interrupt waits on: both requests in flight hang
    stdout, stderr = interrupt(process, timeout=30)
    assert process.returncode == 130 and stderr.strip().splitlines()[-1] == "interrupted"
    assert server.outcomes[ECHO_KEY_500] == 2
    assert_no_leak(ws, server, stdout, stderr)
