"""Benchmarks of gen_answer.py and gen_judgment.py against the fake API (tests/fake_api_server.py) run
as a separate process, so the figures are the client's alone. Prints figures and ratios measured side
by side in one run (absolute times on a shared 2-core machine are noisy; the ratios hold):

  1. 500 questions at 0.5 s latency, parallel 64: wall time against the limit ceil(500/64) x 0.5 s,
     the bare SDK alone (one AsyncOpenAI client, 64 requests in flight, nothing else) and an
     upstream-style client (a thread per request, a new SDK client per call) on the same server.
  2. Zero latency: client CPU time per request and requests per second, ours against upstream-style.
  3. 30% of requests failing (429 with Retry-After, 429, 500): answers written, exit status.
  4. 10,000 questions: peak RSS of the gen_answer.py process (memory stays flat: streamed writing).
  5. Judging 500 questions x 2 games at 0.5 s latency, parallel 64: wall time against ceil(1000/64) x 0.5 s.
  6. `python demo.py` (the README's first command) in a temporary copy of the repository: wall time.

Run: .venv/bin/python tests/bench_generation.py   (about a minute)"""
from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import gen_answer  # noqa: E402
import gen_judgment  # noqa: E402
from arena_hard.core.textstats import count_tokens  # noqa: E402
from bench_helpers import cpu_seconds, server_process  # noqa: E402
from pipeline_helpers import Workspace, copy_for_demo, model_entry, questions, read_jsonl, write_jsonl  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "tests" / "fake_api_server.py"


def fake_server(*args: str):
    return server_process(SERVER, "--port", "0", *args)


def measure(run) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of run()."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def answer_workspace(root: Path, url: str, count: int, parallel: int, **entry) -> Workspace:
    ws = Workspace(root)
    ws.write_questions(questions(count))
    ws.write_api_config({"m": model_entry(f"{url}/v1", parallel=parallel, **entry)})
    ws.write_answer_config(["m"])
    return ws


def run_ours(ws: Workspace) -> int:
    cwd = os.getcwd()
    os.chdir(ws.root)
    try:
        with contextlib.redirect_stdout(open(os.devnull, "w")), contextlib.redirect_stderr(open(os.devnull, "w")):
            return gen_answer.main([])
    finally:
        os.chdir(cwd)


def run_upstream_style(url: str, texts: list[str], parallel: int, output: Path) -> None:
    """Upstream v0.1's pattern, written here to compare against: a thread pool of `parallel` workers,
    a new synchronous OpenAI client for every request, the token count per answer, and an append of
    each answer to the output file."""
    import openai

    lock = threading.Lock()

    def one(text: str) -> None:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="test-key")
        completion = client.chat.completions.create(model="served-model", temperature=0.0, max_tokens=256,
                                                    messages=[{"role": "user", "content": text}])
        content = completion.choices[0].message.content
        record = {"choices": [{"index": 0, "turns": [{"content": content, "token_len": count_tokens(content)}]}]}
        with lock, open(output, "a") as handle:
            handle.write(json.dumps(record) + "\n")

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(one, texts))


def run_bare_sdk(url: str, texts: list[str], parallel: int) -> None:
    """The floor for any client: one AsyncOpenAI client, `parallel` requests in flight, answers dropped."""
    import asyncio

    import openai

    async def run() -> None:
        client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="test-key")
        slots = asyncio.Semaphore(parallel)

        async def one(text: str) -> None:
            async with slots:
                await client.chat.completions.create(model="served-model", temperature=0.0, max_tokens=256,
                                                     messages=[{"role": "user", "content": text}])

        await asyncio.gather(*(one(text) for text in texts))
        await client.close()

    asyncio.run(run())


def bench_latency(tmp: Path) -> None:
    count, parallel, latency = 500, 64, 0.5
    ideal = math.ceil(count / parallel) * latency
    texts = [q["turns"][0]["content"] for q in questions(count)]
    with fake_server("--latency", str(latency)) as url:
        run_ours(answer_workspace(tmp / "latency-warm", url, 20, parallel))  # imports and the token table, once
        ours, _ = measure(lambda: run_ours(answer_workspace(tmp / "latency", url, count, parallel)))
        ws = answer_workspace(tmp / "latency-command", url, count, parallel)
        command, _ = measure(lambda: subprocess.run([sys.executable, str(REPO / "gen_answer.py")], cwd=ws.root,
                                                    capture_output=True, check=True))
        upstream, _ = measure(lambda: run_upstream_style(url, texts, parallel, tmp / "upstream-latency.jsonl"))
        bare, _ = measure(lambda: run_bare_sdk(url, texts, parallel))
    print(f"1. {count} questions, {latency} s latency, parallel {parallel}: limit ceil({count}/{parallel}) x {latency} "
          f"= {ideal:.1f} s")
    print(f"   ours, requests       {ours:6.2f} s  ({ours / ideal:.3f} x the limit)")
    print(f"   ours, whole command  {command:6.2f} s  ({command / ideal:.3f} x; with interpreter start and imports)")
    print(f"   bare SDK alone       {bare:6.2f} s  ({bare / ideal:.3f} x; one AsyncOpenAI client, nothing else)")
    print(f"   upstream-style       {upstream:6.2f} s  ({upstream / ideal:.3f} x; ours is {upstream / ours:.2f}x faster)")


def bench_cpu(tmp: Path) -> None:
    count, parallel = 500, 64
    texts = [q["turns"][0]["content"] for q in questions(count)]
    with fake_server() as url:
        ws = answer_workspace(tmp / "cpu", url, count, parallel)
        run_ours(answer_workspace(tmp / "warm", url, 20, parallel))  # imports and token tables loaded once
        ours_wall, ours_cpu = measure(lambda: run_ours(ws))
        up_wall, up_cpu = measure(lambda: run_upstream_style(url, texts, parallel, tmp / "upstream-cpu.jsonl"))
    print(f"2. {count} requests, zero latency (client CPU only; the server is another process)")
    print(f"   ours           {1000 * ours_cpu / count:6.2f} ms CPU/request, {count / ours_wall:7.0f} requests/s")
    print(f"   upstream-style {1000 * up_cpu / count:6.2f} ms CPU/request, {count / up_wall:7.0f} requests/s")
    print(f"   CPU per request: ours is {ours_cpu / up_cpu:.3f} of upstream-style ({up_cpu / ours_cpu:.1f}x less)")


def bench_faults(tmp: Path) -> None:
    count = 500
    statuses = []
    with fake_server("--fault-rate", "0.3", "--fault-mix", "429_retry_after,429,500", "--retry-after", "0.2",
                     "--seed", "11") as url:
        ws = answer_workspace(tmp / "faults", url, count, 64, backoff_base=0.05, backoff_max=0.5, max_attempts=10)
        wall, _ = measure(lambda: statuses.append(run_ours(ws)))
        with urllib.request.urlopen(f"{url}/_fake/stats") as response:
            stats = json.load(response)
    records = read_jsonl(ws.answer_file("m"))
    present = {r["question_id"] for r in records} == {q["question_id"] for q in questions(count)}
    clean = all("fault" not in r["choices"][0]["turns"][0]["content"] for r in records)
    faults = sum(n for kind, n in stats["outcomes"].items() if kind != "ok")
    print(f"3. 30% faults (429 with/without Retry-After, 500): exit status {statuses[0]}, {len(records)}/{count} "
          f"answers written, every question {'present' if present else 'NOT present'}, "
          f"{'no' if clean else 'SOME'} error text; {faults} faults in {stats['requests']} requests; {wall:.1f} s")


# Runs gen_answer.py and, at exit, prints its peak RSS (VmHWM belongs to this process image alone;
# getrusage's ru_maxrss would also count the parent's pages from before exec).
_PEAK_RSS_WRAPPER = """
import atexit, runpy, sys
def report():
    peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
    print("PEAK", int(peak.split()[1]), file=sys.__stderr__)
atexit.register(report)
sys.argv = ["gen_answer.py"]
sys.path.insert(0, "{repo}")
runpy.run_path("{repo}/gen_answer.py", run_name="__main__")
"""


def bench_memory(tmp: Path) -> None:
    results = {}
    with fake_server() as url:
        for count in (1_000, 10_000):
            ws = answer_workspace(tmp / f"memory-{count}", url, count, 64)
            wrapper = _PEAK_RSS_WRAPPER.format(repo=REPO)
            done = subprocess.run([sys.executable, "-c", wrapper], cwd=ws.root, capture_output=True, text=True)
            peak_kb = int(done.stderr.rsplit("PEAK", 1)[1])
            results[count] = (peak_kb / 1024, len(read_jsonl(ws.answer_file("m"))), done.returncode)
    (small, _, _), (large, written, status) = results[1_000], results[10_000]
    print(f"4. peak RSS of gen_answer.py: {small:.0f} MB for 1,000 questions, {large:.0f} MB for 10,000 "
          f"(target < 300 MB; {large / small:.2f}x for 10x the questions); {written:,} answers written, "
          f"exit status {status}")


def bench_judging(tmp: Path) -> None:
    count, parallel, latency = 500, 64, 0.5
    ideal = math.ceil(2 * count / parallel) * latency
    ws = Workspace(tmp / "judge")
    rows = questions(count)
    ws.write_questions(rows)
    for model, words in (("base", 20), ("model-1", 30)):
        write_jsonl(ws.answer_file(model), [{"question_id": r["question_id"], "model_id": model, "choices": [
            {"index": 0, "turns": [{"content": f"{model} " + "word " * (words + i % 7)}]}]} for i, r in enumerate(rows)])
    with fake_server("--latency", str(latency), "--responder", "judge") as url:
        ws.write_api_config({"judge": model_entry(f"{url}/v1", parallel=parallel)})
        ws.write_judge_config("judge", "base", ["model-1"])
        cwd = os.getcwd()
        os.chdir(ws.root)
        try:
            with contextlib.redirect_stdout(open(os.devnull, "w")), contextlib.redirect_stderr(open(os.devnull, "w")):
                wall, _ = measure(lambda: gen_judgment.main([]))
        finally:
            os.chdir(cwd)
    judged = len(read_jsonl(ws.judgment_file("judge", "model-1")))
    print(f"5. judging {count} questions x 2 games, {latency} s latency, parallel {parallel}: {wall:.2f} s, "
          f"limit {ideal:.1f} s ({wall / ideal:.3f} x the limit); {judged} judgments written")


def bench_demo(tmp: Path) -> None:
    root = copy_for_demo(tmp / "demo")
    wall, _ = measure(lambda: subprocess.run([sys.executable, "demo.py"], cwd=root, capture_output=True, check=True))
    print(f"6. python demo.py (answers, judgments and leaderboard of the offline demo): {wall:.1f} s")


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for bench in (bench_latency, bench_cpu, bench_faults, bench_memory, bench_judging, bench_demo):
            bench(tmp)


if __name__ == "__main__":
    main()
