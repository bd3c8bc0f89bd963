"""Benchmark of many models in one run, against loopback fake APIs (tests/fake_api_server.py, run as
separate processes) whose latency is heavy-tailed as real APIs': lognormal, median 0.3 s, sigma 1.0,
capped at 8 s, and fixed per request (drawn from a hash of the request), so every client below waits
exactly the same for the same request. Prints figures and ratios measured side by side in one run:

  1. Judging 4 models x 500 questions (2 games each: 4,000 calls), judge `parallel: 64`:
     gen_judgment.py (every model in one stream through the judge), the same one model at a time
     (`--model-list M` four times, as before), and an upstream-style thread pool of 64 workers over all
     models' jobs (a new synchronous SDK client per call, as upstream v0.1). The bound: the sum of all
     latencies / 64, or the longest single job (its two games one after the other), whichever is larger.
  2. Answering with 4 models, each behind its own server, `parallel: 16` each, 500 questions:
     gen_answer.py (every model at once) and gen_answer.py --sequential. Each model's bound is the sum of
     its latencies / 16, or its longest request; the run's bound is the slowest model's.

Run: .venv/bin/python tests/bench_all_models.py   (about 5 minutes)"""
from __future__ import annotations

import contextlib
import heapq
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import gen_answer  # noqa: E402
import gen_judgment  # noqa: E402
from arena_hard.core.config import load_judge_settings  # noqa: E402
from bench_helpers import server_process  # noqa: E402
from arena_hard.core.records import Bench, load_answers, load_questions  # noqa: E402
from arena_hard.generate.judge_plan_v01 import plan_jobs  # noqa: E402
from arena_hard.generate.judging_v01 import game_conversations  # noqa: E402
from pipeline_helpers import Workspace, model_entry, questions, read_jsonl, write_jsonl  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "tests" / "fake_api_server.py"
LATENCY = ("--latency-lognormal", "0.3", "1.0", "8")
MODELS = ("model-1", "model-2", "model-3", "model-4")
QUESTIONS = 500
QUESTION_NUMBER = re.compile(r"Question number (\d+):")
MODEL_TAG = re.compile(r"\[(model-\d)\] says")


def fake_server(*args: str):
    return server_process(SERVER, "--port", "0", *LATENCY, *args)


def request_log(url: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/_fake/requests") as response:
        return json.load(response)


@contextlib.contextmanager
def quietly_in(root: Path):
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(open(os.devnull, "w")), contextlib.redirect_stderr(open(os.devnull, "w")):
            yield
    finally:
        os.chdir(cwd)


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def judge_workspace(root: Path, url: str) -> Workspace:
    ws = Workspace(root)
    rows = questions(QUESTIONS)
    ws.write_questions(rows)
    for model in ("base", *MODELS):
        write_jsonl(ws.answer_file(model), [
            {"question_id": r["question_id"], "model_id": model,
             "choices": [{"index": 0, "turns": [{"content": f"[{model}] says: " + "word " * (5 + i % 9)}]}]}
            for i, r in enumerate(rows)])
    ws.write_api_config({"judge": model_entry(f"{url}/v1", parallel=64, timeout=60)})
    ws.write_judge_config("judge", "base", list(MODELS))
    return ws


def judge_jobs(log: list[dict]) -> dict[tuple[str, int], list[float]]:
    """The latencies of each judge job's calls, in the order they were made, by (model, question number)."""
    jobs: dict[tuple[str, int], list[float]] = defaultdict(list)
    for entry in log:
        prompt = entry["first_user"]
        model = next(m for m in MODEL_TAG.findall(prompt) if m != "base")
        jobs[model, int(QUESTION_NUMBER.search(prompt).group(1))].append(entry["latency"])
    return jobs


def bound(jobs: list[list[float]], parallel: int) -> tuple[float, float, float]:
    """(bound, sum of latencies / parallel, longest job)."""
    spread, longest = sum(map(sum, jobs)) / parallel, max(map(sum, jobs))
    return max(spread, longest), spread, longest


def greedy_schedule(jobs: list[list[float]], parallel: int, pending: int) -> float:
    """The makespan of an ideal, zero-overhead run of the same policy: jobs started in this order, at
    most `pending` at once, each job's calls one after another, at most `parallel` calls at once, waiting
    calls served first come first served. Latencies are unknown to a real client until a reply comes, so
    no scheduler can plan around the long ones: what this exceeds the bound by is the tail of the
    latencies, not overhead."""
    queue: deque[tuple[int, int]] = deque()
    flying: list[tuple[float, int, int]] = []
    now, started, finished = 0.0, 0, 0
    while started < min(pending, len(jobs)):
        queue.append((started, 0))
        started += 1
    while finished < len(jobs):
        while len(flying) < parallel and queue:
            job, call = queue.popleft()
            heapq.heappush(flying, (now + jobs[job][call], job, call))
        now, job, call = heapq.heappop(flying)
        if call + 1 < len(jobs[job]):
            queue.append((job, call + 1))
        else:
            finished += 1
            if started < len(jobs):
                queue.append((started, 0))
                started += 1
    return now


def run_upstream_style_judging(ws: Workspace, url: str, parallel: int) -> None:
    """Upstream v0.1's pattern, written here to compare against: one thread pool of `parallel` workers
    over every model's judge jobs, each job playing its two games one after the other with a new
    synchronous OpenAI client per call, and appending its record to the model's file under a lock."""
    import openai

    cwd = os.getcwd()
    os.chdir(ws.root)
    try:
        settings = load_judge_settings(Path("config/judge_config.yaml"))
        bench = Bench(settings.bench_name)
        rows = load_questions(bench.question_file)
        baseline = load_answers(bench.answer_file("base"))
        work = []
        for model in MODELS:
            jobs, _ = plan_jobs(bench, rows, model, baseline, [])
            work += [(model, job) for job in jobs]
    finally:
        os.chdir(cwd)
    lock = threading.Lock()

    def judge(item) -> None:
        model, job = item
        games = []
        for conversation in game_conversations(job, settings):
            client = openai.OpenAI(base_url=f"{url}/v1", api_key="test-key")
            completion = client.chat.completions.create(model="served-model", messages=conversation,
                                                        temperature=0.0, max_tokens=512)
            games.append({"judgment": completion.choices[0].message.content})
        with lock, open(ws.root / f"upstream-{model}.jsonl", "a") as handle:
            handle.write(json.dumps({"question_id": job.question.question_id, "games": games}) + "\n")

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(judge, work))


def bench_judging(tmp: Path) -> None:
    parallel = 64
    with fake_server("--responder", "judge") as url:
        ours_ws = judge_workspace(tmp / "judge-ours", url)
        with quietly_in(ours_ws.root):
            ours = timed(lambda: gen_judgment.main([]))
        log = request_log(url)
        calls = len(log)
        by_job = judge_jobs(log)
        ordered = [by_job[model, q] for q in range(QUESTIONS) for model in MODELS]  # the order ours starts them
        limit, spread, longest = bound(ordered, parallel)
        ideal = greedy_schedule(ordered, parallel, 2 * parallel)
        one_ws = judge_workspace(tmp / "judge-one-at-a-time", url)
        with quietly_in(one_ws.root):
            one = timed(lambda: [gen_judgment.main(["--model-list", m]) for m in MODELS])
        one_ideal = sum(greedy_schedule([by_job[m, q] for q in range(QUESTIONS)], parallel, 2 * parallel)
                        for m in MODELS)
        up = timed(lambda: run_upstream_style_judging(judge_workspace(tmp / "judge-upstream", url), url, parallel))
        served = request_log(url)
    complete = all(len(read_jsonl(ours_ws.judgment_file("judge", m))) == QUESTIONS for m in MODELS)
    same = sorted(e["latency"] for e in served[:calls]) == sorted(e["latency"] for e in served[calls:2 * calls]) \
        == sorted(e["latency"] for e in served[2 * calls:])
    print(f"1. judging {len(MODELS)} models x {QUESTIONS} questions ({calls} calls), judge parallel {parallel}, "
          f"lognormal latency (median 0.3 s, sigma 1.0, cap 8 s)")
    print(f"   bound: max(sum of latencies / {parallel} = {spread:.1f} s, longest job = {longest:.1f} s) "
          f"= {limit:.1f} s; every run waited the same latencies: {'yes' if same else 'NO'}")
    print(f"   an ideal zero-overhead run of the same policy (simulated): {ideal:.1f} s ({ideal / limit:.3f} x the "
          f"bound: the latencies' tail); one model at a time: {one_ideal:.1f} s")
    print(f"   ours, every model in one stream {ours:6.1f} s  ({ours / limit:.3f} x the bound, "
          f"{ours / ideal:.3f} x the ideal run); all files complete: {'yes' if complete else 'NO'}")
    print(f"   ours, one model at a time       {one:6.1f} s  ({one / limit:.3f} x the bound, "
          f"{one / one_ideal:.3f} x its ideal run)")
    print(f"   upstream-style thread pool      {up:6.1f} s  ({up / limit:.3f} x the bound)")
    print(f"   all at once is {one / ours:.2f}x faster than one at a time, {up / ours:.2f}x faster than upstream-style")


def bench_answering(tmp: Path) -> None:
    parallel = 16
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(fake_server()) for _ in MODELS]
        names = [f"m{i + 1}" for i in range(len(MODELS))]

        def workspace(root: Path) -> Workspace:
            ws = Workspace(root)
            ws.write_questions(questions(QUESTIONS))
            ws.write_api_config({name: model_entry(f"{url}/v1", parallel=parallel, model_name=f"served-{name}",
                                                   timeout=60) for name, url in zip(names, urls)})
            ws.write_answer_config(names)
            return ws

        ours_ws = workspace(tmp / "answer-ours")
        with quietly_in(ours_ws.root):
            ours = timed(lambda: gen_answer.main([]))
        bounds, ideals = [], []
        for url in urls:
            calls = [[entry["latency"]] for entry in sorted(request_log(url), key=lambda e: e["number"])]
            bounds.append(bound(calls, parallel)[0])
            ideals.append(greedy_schedule(calls, parallel, 2 * parallel))
        sequential_ws = workspace(tmp / "answer-sequential")
        with quietly_in(sequential_ws.root):
            sequential = timed(lambda: gen_answer.main(["--sequential"]))
    complete = all(len(read_jsonl(ours_ws.answer_file(n))) == QUESTIONS for n in names)
    slowest, slowest_ideal = max(bounds), max(ideals)
    print(f"2. answering with {len(MODELS)} models, each on its own server, parallel {parallel} each, "
          f"{QUESTIONS} questions, the same latency distribution")
    print(f"   each model's bound (sum / {parallel}, or its longest request): "
          + ", ".join(f"{b:.1f} s" for b in bounds) + f"; the slowest: {slowest:.1f} s, their sum: {sum(bounds):.1f} s")
    print(f"   an ideal zero-overhead run (simulated): {slowest_ideal:.1f} s for the slowest model "
          f"({slowest_ideal / slowest:.3f} x its bound), {sum(ideals):.1f} s one model after the other")
    print(f"   ours, every model at once  {ours:6.1f} s  ({ours / slowest:.3f} x the slowest model's bound, "
          f"{ours / slowest_ideal:.3f} x its ideal run); all files complete: {'yes' if complete else 'NO'}")
    print(f"   ours, --sequential         {sequential:6.1f} s  ({sequential / slowest:.3f} x; "
          f"{sequential / sum(ideals):.3f} x the ideal sequential run)")
    print(f"   every model at once is {sequential / ours:.2f}x faster than --sequential")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-all-models-"))
    try:
        for bench in (bench_judging, bench_answering):
            before = os.getloadavg()[0]
            bench(tmp)
            # wall times on a shared machine follow its load; the simulated ideal runs do not
            print(f"   machine load average (1 min) {before:.1f} before, {os.getloadavg()[0]:.1f} after, on "
                  f"{os.cpu_count()} cores")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
