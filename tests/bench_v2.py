"""Benchmark of the v2.0 bench: gen_answer.py and gen_judgment.py on upstream's 750 v2.0 questions
against the fake API (tests/fake_api_server.py) run as a separate process at 0.5 s latency, each
measured side by side with the bare SDK's floor: the same requests sent by one AsyncOpenAI client
with the same concurrency bound and nothing else (no files, no token counts, no records).

  1. Answering 750 questions, parallel 64: 750 requests; ours also counts o200k_base tokens and the
     markdown of every answer and writes v2 answer records.
  2. Judging 750 questions x 2 games, parallel 64: 1,500 requests with the categories' baselines and
     system prompts; ours plays each question's games one after the other, as upstream does.
  3. Answering 750 questions at zero latency: the client's CPU time, ours against the bare SDK (the
     figure that a loaded machine does not blur).

Each is measured in two rounds, ours and the bare SDK alternating, and the faster of each is kept (a
shared 2-core machine is noisy; the ratio is the figure). Reads upstream's v2.0 files from
../shared/upstream-lmarena-196f6b8 (ARENA_UPSTREAM_V2_DIR).
Run: .venv/bin/python tests/bench_v2.py   (about three minutes)"""
from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import gen_answer  # noqa: E402
import gen_judgment  # noqa: E402
from arena_hard.core.judge_settings import OFFICIAL_FILE, parse_judge_utils, settings_yaml  # noqa: E402
from arena_hard.core.tokens import count_tokens  # noqa: E402
from bench_generation import fake_server  # noqa: E402
from bench_helpers import cpu_seconds  # noqa: E402
from conftest import UPSTREAM_V2_DIR  # noqa: E402
from pipeline_helpers import read_jsonl, write_jsonl, write_yaml  # noqa: E402

PARALLEL, LATENCY = 64, 0.5
ROUNDS = 3
BENCH = "arena-hard-v2.0"


def quietly(root: Path, run) -> float:
    """Wall seconds of run() with `root` as the working directory and its output discarded."""
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(open(os.devnull, "w")), contextlib.redirect_stderr(open(os.devnull, "w")):
            started = time.perf_counter()
            status = run()
            wall = time.perf_counter() - started
    finally:
        os.chdir(cwd)
    assert status == 0, f"exit status {status}"
    return wall


def bare_sdk(url: str, conversations: list[list[dict[str, str]]], **params) -> float:
    """The floor: one AsyncOpenAI client, a semaphore of PARALLEL, the requests and nothing else."""
    import openai

    async def run() -> float:
        client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="k", max_retries=0)
        bound = asyncio.Semaphore(PARALLEL)

        async def one(messages):
            async with bound:
                await client.chat.completions.create(model="served-model", messages=messages, **params)

        started = time.perf_counter()
        await asyncio.gather(*(one(messages) for messages in conversations))
        wall = time.perf_counter() - started
        await client.close()
        return wall

    return asyncio.run(run())


def workspace(root: Path, url: str) -> list[dict]:
    upstream = UPSTREAM_V2_DIR / "data" / BENCH
    shutil.copytree(upstream, root / "data" / BENCH)
    questions = [json.loads(line) for line in (upstream / "question.jsonl").read_text(encoding="utf-8").split("\n") if line]
    write_jsonl(root / "data" / BENCH / "model_answer" / "gemini-2.0-flash-001.jsonl", [
        {"uid": q["uid"], "model": "gemini-2.0-flash-001", "messages": [
            {"role": "user", "content": q["prompt"]}, {"role": "assistant", "content": {"answer": "A short story."}}]}
        for q in questions if q["category"] == "creative_writing"])
    official = root / OFFICIAL_FILE
    official.parent.mkdir(parents=True)
    official.write_text(settings_yaml(parse_judge_utils((UPSTREAM_V2_DIR / "utils" / "judge_utils.py").read_text(
        encoding="utf-8")), "bench"), encoding="utf-8")
    shutil.copy(UPSTREAM_V2_DIR / "config" / "arena-hard-v2.0.yaml", root / "config" / "official" / "judge.yaml")
    entry = {"endpoints": [{"api_base": f"{url}/v1", "api_key": "k"}], "api_type": "openai", "parallel": PARALLEL,
             "max_tokens": 4096, "temperature": 0.0}
    write_yaml(root / "config" / "api_config.yaml", {"my-model": {"model": "served-model", **entry},
                                                      "gpt-4.1": {"model": "served-model", **entry}})
    write_yaml(root / "config" / "gen_answer_config.yaml", {"bench_name": BENCH, "model_list": ["my-model"]})
    return questions


def main() -> None:
    if not (UPSTREAM_V2_DIR / "utils" / "judge_utils.py").exists():
        sys.exit(f"upstream v2.0 files not found at {UPSTREAM_V2_DIR} (set ARENA_UPSTREAM_V2_DIR)")
    count_tokens("warm up", "o200k_base")  # the encoding's table and the SDK: loaded once per process, not timed
    import openai  # noqa: F401
    with tempfile.TemporaryDirectory() as name, fake_server("--latency", str(LATENCY), "--responder", "judge") as url:
        root = Path(name)
        questions = workspace(root, url)
        calls = len(questions)
        answers = root / "data" / BENCH / "model_answer" / "my-model.jsonl"
        ours, floor = math.inf, math.inf
        for _ in range(ROUNDS):
            answers.unlink(missing_ok=True)
            ours = min(ours, quietly(root, lambda: gen_answer.main(["--config-file", "config/gen_answer_config.yaml"])))
            floor = min(floor, bare_sdk(url, [[{"role": "user", "content": q["prompt"]}] for q in questions],
                                        temperature=0.0, max_tokens=4096))
        ideal = math.ceil(calls / PARALLEL) * LATENCY
        written = len(read_jsonl(answers))
        print(f"1. answering {calls} v2.0 questions, {LATENCY} s latency, parallel {PARALLEL} "
              f"(limit ceil({calls}/{PARALLEL}) x {LATENCY} = {ideal:.1f} s)")
        print(f"   ours      {ours:6.2f} s  ({ours / floor:.3f} x the bare SDK; {written} v2 answer records)")
        print(f"   bare SDK  {floor:6.2f} s  ({floor / ideal:.3f} x the limit)")

        judge_args = ["--setting-file", "config/official/judge.yaml", "--model-list", "my-model"]
        judgments = root / "data" / BENCH / "model_judgment" / "gpt-4.1" / "my-model.jsonl"
        ours, floor = math.inf, math.inf
        for _ in range(ROUNDS):
            judgments.unlink(missing_ok=True)
            ours = min(ours, quietly(root, lambda: gen_judgment.main(judge_args)))
            records = read_jsonl(judgments)
            conversations = [game["prompt"] for record in records for game in record["games"]]
            floor = min(floor, bare_sdk(url, conversations, temperature=0.0, max_tokens=16000))
        ideal = math.ceil(len(conversations) / PARALLEL) * LATENCY
        print(f"2. judging {len(records)} questions x 2 games, {LATENCY} s latency, parallel {PARALLEL} "
              f"(limit ceil({len(conversations)}/{PARALLEL}) x {LATENCY} = {ideal:.1f} s)")
        print(f"   ours      {ours:6.2f} s  ({ours / floor:.3f} x the bare SDK; {len(records)} v2 judgment records)")
        print(f"   bare SDK  {floor:6.2f} s  ({floor / ideal:.3f} x the limit)")

    with tempfile.TemporaryDirectory() as name, fake_server("--responder", "judge") as url:
        root = Path(name)
        questions = workspace(root, url)
        answers = root / "data" / BENCH / "model_answer" / "my-model.jsonl"
        ours, floor = math.inf, math.inf
        for _ in range(ROUNDS):
            answers.unlink(missing_ok=True)
            started = cpu_seconds()
            quietly(root, lambda: gen_answer.main([]))
            ours = min(ours, cpu_seconds() - started)
            started = cpu_seconds()
            bare_sdk(url, [[{"role": "user", "content": q["prompt"]}] for q in questions], temperature=0.0,
                     max_tokens=4096)
            floor = min(floor, cpu_seconds() - started)
        print(f"3. answering {len(questions)} questions at zero latency, client CPU: ours {ours:.2f} s "
              f"({1000 * ours / len(questions):.1f} ms a request, with o200k counts and v2 records), bare SDK "
              f"{floor:.2f} s ({ours / floor:.3f} x)")


if __name__ == "__main__":
    main()
