"""Benchmark of qa_browser.py on a bench of 60 models x 500 questions (59 judged): startup, and how fast
a selection change is answered, against the targets (< 5 s, < 300 ms). Prints figures and ratios.

Writes a synthetic bench into a temporary folder (deleted at the end) from upstream's 500 questions and
three answer files (../shared/upstream-efc012e, read by path), or from generated text if they are absent.

    .venv/bin/python tests/bench_qa_browser.py [--models 60] [--seed 0]
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tests")]

import qa_browser  # noqa: E402
from arena_hard.browser.data import BenchData, QuestionFilter, Show  # noqa: E402
from arena_hard.scoring.verdict_labels import LABELS  # noqa: E402
from arena_hard.core.records import Bench, load_answers  # noqa: E402
from conftest import UPSTREAM_DIR  # noqa: E402

STARTUP_TARGET_S = 5.0
SELECTION_TARGET_MS = 300.0
JUDGE, BASELINE, BENCH_NAME = "judge-bench", "gpt-4-0314", "bench-60x500"
UPSTREAM_BENCH = UPSTREAM_DIR / "data" / "arena-hard-v0.1"


def source_texts(rng: random.Random) -> tuple[list[dict], list[str]]:
    """Question records and a pool of answer texts: upstream's if present, else generated markdown."""
    if (UPSTREAM_BENCH / "question.jsonl").exists():
        questions = [json.loads(line) for line in (UPSTREAM_BENCH / "question.jsonl").read_text().splitlines()]
        pool = [answer.turns[0] for path in sorted((UPSTREAM_BENCH / "model_answer").glob("*.jsonl"))
                for answer in load_answers(path).values()]
        return questions, pool
    print(f"(upstream files not at {UPSTREAM_DIR}: using generated text)")
    questions = [{"question_id": f"q{i:03d}", "category": "arena-hard-v0.1", "cluster": f"cluster {i % 250}",
                  "turns": [{"content": f"Question {i}: " + "explain this in detail. " * 20}]} for i in range(500)]
    pool = ["## Answer\n\n" + "\n".join(f"- point {k}: " + "words " * rng.randint(20, 60) for k in range(12))
            + "\n\n```python\nprint('example')\n```\n" for _ in range(300)]
    return questions, pool


def write_bench(root: Path, model_count: int, rng: random.Random) -> Bench:
    bench = Bench(BENCH_NAME, root)
    questions, pool = source_texts(rng)
    bench.answer_dir.mkdir(parents=True)
    bench.judgment_dir(JUDGE).mkdir(parents=True)
    bench.question_file.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    models = [BASELINE] + [f"model-{index:02d}" for index in range(1, model_count)]
    answer_of = {model: {q["question_id"]: rng.choice(pool) for q in questions} for model in models}
    for model in models:
        bench.answer_file(model).write_text("".join(json.dumps({
            "question_id": qid, "answer_id": f"{model}-{qid}", "model_id": model,
            "choices": [{"index": 0, "turns": [{"content": text, "token_len": len(text) // 4}]}], "tstamp": 0,
        }) + "\n" for qid, text in answer_of[model].items()), encoding="utf-8")
    for model in models[1:]:
        lines = []
        for q in questions:
            qid, question = q["question_id"], q["turns"][0]["content"]
            games = []
            for first, second in ((BASELINE, model), (model, BASELINE)):
                label = rng.choice(LABELS + (None,))
                prompt = (f"Question:\n{question}\n\nAnswer A:\n{answer_of[first][qid]}\n\n"
                          f"Answer B:\n{answer_of[second][qid]}")
                judgment = ("Comparing the two answers point by point. " * 30 + f"\n\nVerdict: [[{label}]]")
                games.append({"user_prompt": prompt, "judgment": judgment, "score": label})
            lines.append(json.dumps({"question_id": qid, "model": model, "judge": JUDGE, "games": games}) + "\n")
        bench.judgment_file(JUDGE, model).write_text("".join(lines), encoding="utf-8")
    return bench


def megabytes(directory: Path) -> float:
    return sum(path.stat().st_size for path in directory.rglob("*.jsonl")) / 1e6


def timed_ms(action) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"median {statistics.median(ordered):7.1f} ms, p95 {p95:7.1f} ms, max {ordered[-1]:7.1f} ms "
            f"(n={len(ordered)})")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served_figures(bench: Bench, question_ids: list[str], models: list[str], rng: random.Random,
                   ) -> tuple[float, list[float]]:
    """Run `python qa_browser.py` on the bench: seconds to its ready line (interpreter, gradio, page,
    server), then milliseconds per selection change through gradio's HTTP API on loopback."""
    from gradio_client import Client

    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(REPO_ROOT / "qa_browser.py"), "--bench-name", bench.name,
                                "--judge-name", JUDGE, "--baseline", BASELINE, "--port", str(port)],
                               cwd=bench.root.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        for line in process.stdout:
            if line.startswith("qa_browser: serving "):
                break
        else:
            raise SystemExit(f"qa_browser.py exited with {process.wait()} before serving")
        startup_s = time.perf_counter() - start
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        for model in models:  # read each model's files once, as the in-process warm figures do
            client.predict(question_ids[0], BASELINE, model, api_name="/on_select")
        round_trips = [timed_ms(lambda: client.predict(rng.choice(question_ids), BASELINE, rng.choice(models),
                                                       api_name="/on_select")) for _ in range(40)]
        return startup_s, round_trips
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench_qa_browser.") as tmp:
        start = time.perf_counter()
        bench = write_bench(Path(tmp) / "data", args.models, rng)
        print(f"bench: {args.models} models x 500 questions, {args.models - 1} judged; answers "
              f"{megabytes(bench.answer_dir):.0f} MB, judgments {megabytes(bench.judgment_dir(JUDGE)):.0f} MB; "
              f"written in {time.perf_counter() - start:.1f} s")

        import_start = time.perf_counter()
        importlib.import_module("gradio")  # qa_browser imports it only when building the page
        gradio_import_s = time.perf_counter() - import_start

        start = time.perf_counter()
        data = BenchData(bench, JUDGE, BASELINE)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        qa_browser.build_app(data)
        build_s = time.perf_counter() - start
        question_ids = [question.question_id for question in data.questions]
        judged = sorted(data.judged_models)
        startup_s, round_trips = served_figures(bench, question_ids, judged[:6], rng)
        # judged[0] was read for the first page: the next twelve have not been read yet
        cold = [timed_ms(lambda m=model: data.view(rng.choice(question_ids), BASELINE, m)) for model in judged[1:13]]
        warm_models = judged[:6]
        warm = [timed_ms(lambda: data.view(rng.choice(question_ids), rng.choice([BASELINE] + warm_models),
                                           rng.choice(warm_models))) for _ in range(300)]
        filter_change = [timed_ms(lambda s=show: (data.select(QuestionFilter(show=s), None, rng.choice(warm_models)),
                                                  data.view(rng.choice(question_ids), BASELINE, warm_models[0])))
                         for show in list(Show) * 20]
        search = [timed_ms(lambda w=word: data.select(QuestionFilter(search=w), None, warm_models[0]))
                  for word in ("python", "the", "sql query", "zzz") * 10]

        start = time.perf_counter()
        eager = BenchData(bench, JUDGE, BASELINE)
        for model in eager.models:
            eager.answers(model)
            eager.judgments(model)
        eager_s = time.perf_counter() - start

    worst_selection = max(max(warm), max(cold), max(filter_change))
    print(f"startup, python qa_browser.py to its ready line: {startup_s:6.2f} s   "
          f"(target {STARTUP_TARGET_S:.0f} s: {startup_s / STARTUP_TARGET_S:.2f}x of it)")
    print(f"  of which: import gradio {gradio_import_s:.2f} s, read the bench {load_s * 1000:.0f} ms, "
          f"build the page {build_s * 1000:.0f} ms")
    print(f"  reading every answer and judgment file at start instead: {eager_s:6.2f} s "
          f"({eager_s / max(load_s, 1e-9):.0f}x the lazy read)")
    print(f"selection change, models already read:      {summary(warm)}")
    print(f"selection change, a model's first time:     {summary(cold)}  (reads its answer and judgment files)")
    print(f"filter change (show: all/preferred/disagree): {summary(filter_change)}")
    print(f"search over 500 questions:                  {summary(search)}")
    print(f"selection change through the server (HTTP): {summary(round_trips)}")
    slowest = max(worst_selection, max(round_trips))
    print(f"slowest selection change {slowest:.1f} ms: {slowest / SELECTION_TARGET_MS:.2f}x of the "
          f"{SELECTION_TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
