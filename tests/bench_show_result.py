"""Benchmark of show_result.py, printing figures and ratios measured side by side in this run.

1. Scoring: 60 models x 500 questions x 2 games, 100 bootstrap rounds, judgments already parsed:
   battles -> scores + CIs by the fast path, against the per-battle oracle (tests/ratings_oracle.py)
   and against sklearn's per-battle LogisticRegression as upstream fits it (both timed on a few fits
   and scaled to the 101 fits of a run).
2. End to end: 30 models with ~7 MB of judge text each: the script's first run (no cache) against
   merely json-parsing the same files, plus interpreter start-up; then a second run (cache).
3. Peak RSS of a first run over 60 models x 500 questions with full judge text.

Run: .venv/bin/python tests/bench_show_result.py [--workdir DIR] [--oracle-fits 2]
Files are generated under --workdir (default: a temporary folder, removed afterwards)."""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from arena_hard.scoring.judgment_records import Records  # noqa: E402
from arena_hard.scoring.v01.battles import WINNERS, records_to_battles  # noqa: E402
from arena_hard.scoring.v01.fit import bootstrap_ratings, fit_ratings, rating_bounds  # noqa: E402
from conftest import REPO_ROOT, UPSTREAM_DIR  # noqa: E402
from ratings_oracle import design, oracle_ratings  # noqa: E402
from show_result_fixtures import BASELINE, JUDGE, age_files, bench_dir, write_lines  # noqa: E402

LABELS = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]
QUESTIONS = 500


def synthetic_records(n_models: int, seed: int = 0) -> Records:
    rng = np.random.default_rng(seed)
    models, questions, game1, game2 = [], [], [], []
    for m in range(n_models):
        strength = rng.normal(0, 1)
        p = np.exp(np.array([-2, -1, 0, 1, 2]) * strength * 0.5)
        p /= p.sum()
        models += [f"model-{m:02d}"] * QUESTIONS
        questions += [f"q{q:03d}" for q in range(QUESTIONS)]
        game1 += rng.choice(5, QUESTIONS, p=p[::-1]).tolist()  # game 1: the model is B
        game2 += rng.choice(5, QUESTIONS, p=p).tolist()
    return Records(questions, models, [None] * len(models), [None] * len(models),
                   np.array(game1, dtype=np.int8), np.array(game2, dtype=np.int8))


def bench_scoring(oracle_fits: int) -> None:
    records = synthetic_records(60)
    start = time.perf_counter()
    battles = records_to_battles(records, BASELINE, 3, False)
    anchor = battles.models.index(BASELINE)
    ratings = fit_ratings(battles, anchor)
    lower, upper = rating_bounds(bootstrap_ratings(battles, anchor, 100))
    fast = time.perf_counter() - start
    assert np.isfinite(ratings).all() and np.isfinite(lower).all()
    winners = np.array(WINNERS)[battles.outcome]
    n_models = len(battles.models)
    start = time.perf_counter()
    for _ in range(oracle_fits):
        oracle_ratings(battles.model_a, battles.model_b, winners, n_models, anchor)
    oracle = (time.perf_counter() - start) / oracle_fits * 101
    from sklearn.linear_model import LogisticRegression
    x, y = design(battles.model_a, battles.model_b, winners, n_models)
    start = time.perf_counter()
    for _ in range(oracle_fits):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-8).fit(x, y)
    sklearn = (time.perf_counter() - start) / oracle_fits * 101
    print(f"[1] scoring 60 models x {QUESTIONS} questions x 2 games = {len(battles):,} battles, 100 rounds")
    print(f"    fast path (expand + fit + bootstrap + percentiles): {fast:.3f} s")
    print(f"    per-battle oracle, 101 fits (from {oracle_fits} timed):  {oracle:.1f} s  -> {oracle / fast:,.0f}x")
    print(f"    sklearn per battle as upstream, 101 fits:           {sklearn:.1f} s  -> {sklearn / fast:,.0f}x")


def answer_texts() -> list[str]:
    path = UPSTREAM_DIR / "data" / "arena-hard-v0.1" / "model_answer" / "gpt-4-0613.jsonl"
    if path.exists():
        return [json.loads(line)["choices"][0]["turns"][0]["content"] for line in path.open()]
    rng = np.random.default_rng(1)
    return ["".join(rng.choice(list("abcdefgh ij\n\"é*#-"), 2000)) for _ in range(QUESTIONS)]


def write_bench(root: Path, n_models: int) -> int:
    """Judgments (~7 MB of text per model) and answers for n_models plus the baseline; returns bytes of judgments."""
    texts = answer_texts()
    rng = np.random.default_rng(2)
    question_ids = [f"q{q:03d}" for q in range(QUESTIONS)]
    models = [f"model-{m:02d}" for m in range(n_models)]
    for shift, model in enumerate([BASELINE, *models]):  # each model answers with different texts
        write_lines(bench_dir(root) / "model_answer" / f"{model}.jsonl", (
            {"question_id": q, "answer_id": q, "model_id": model, "tstamp": 0.0,
             "choices": [{"index": 0, "turns": [{"content": texts[(i + 17 * shift) % len(texts)],
                                                 "token_len": len(texts[(i + 17 * shift) % len(texts)]) // 4}]}]}
            for i, q in enumerate(question_ids)))
    total = 0
    for model in models:
        def game(i: int, label: str) -> dict:
            a, b = texts[i % len(texts)], texts[(i * 7 + 3) % len(texts)]
            prompt = f"Question:\n{texts[(i + 1) % len(texts)][:400]}\n\nAnswer A:\n{a}\n\nAnswer B:\n{b}"
            judgment = f"Comparing the two answers.\n{(a + b)[:3500]}\n\nMy final verdict: [[{label}]]"
            return {"user_prompt": prompt, "judgment": judgment, "score": label}
        path = write_lines(bench_dir(root) / "model_judgment" / JUDGE / f"{model}.jsonl", (
            {"question_id": q, "model": model, "judge": JUDGE,
             "games": [game(i, LABELS[rng.integers(5)]), game(i + 1, LABELS[rng.integers(5)])],
             "usage": {"prompt_tokens": 3000, "completion_tokens": 900}}
            for i, q in enumerate(question_ids)))
        total += path.stat().st_size
    age_files(root)
    return total


def timed_run(root: Path, *args: str) -> tuple[float, int]:
    """Wall time of one show_result.py process and its peak RSS in MB."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); "
             "assert r.returncode == 0, r.stderr; "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, str(REPO_ROOT / "show_result.py"), *args],
                         cwd=root, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]) // 1024


def json_parse_seconds(files: list[Path]) -> float:
    start = time.perf_counter()
    for path in files:
        with open(path, "rb") as handle:
            for line in handle:
                json.loads(line)
    return time.perf_counter() - start


def bench_end_to_end(workdir: Path) -> None:
    root = workdir / "e2e30"
    size = write_bench(root, 30)
    judgments = sorted((bench_dir(root) / "model_judgment" / JUDGE).glob("*.jsonl"))
    answers = sorted((bench_dir(root) / "model_answer").glob("*.jsonl"))
    parse_judgments = min(json_parse_seconds(judgments) for _ in range(2))
    parse_all = parse_judgments + json_parse_seconds(answers)
    startup = min(timed_run(root, "--help")[0] for _ in range(3))
    cold, cold_rss = timed_run(root)
    warm, warm_rss = timed_run(root)
    warm = min(warm, timed_run(root)[0])
    print(f"[2] end to end, 30 models, {size / 1e6:.0f} MB of judgments ({size / 30e6:.1f} MB per model)")
    print(f"    json-parsing the judgment files: {parse_judgments:.2f} s (with the answer files: {parse_all:.2f} s)")
    print(f"    script start-up (--help): {startup:.2f} s")
    print(f"    first run, no cache: {cold:.2f} s  -> (run - start-up) / parse = "
          f"{(cold - startup) / parse_judgments:.2f}x  (peak RSS {cold_rss} MB)")
    print(f"    second run, cache:   {warm:.2f} s, process start included (peak RSS {warm_rss} MB)")
    style_cold, _ = timed_run(root, "--style-control")
    style_warm, _ = timed_run(root, "--style-control")
    print(f"    --style-control (100 rounds): first {style_cold:.2f} s (markdown counted from the answer texts), "
          f"cached {style_warm:.2f} s")


def bench_memory(workdir: Path) -> None:
    root = workdir / "rss60"
    size = write_bench(root, 60)
    seconds, rss = timed_run(root)
    print(f"[3] first run over 60 models x {QUESTIONS} questions ({size / 1e6:.0f} MB of judgments): "
          f"{seconds:.2f} s, peak RSS {rss} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--oracle-fits", type=int, default=2)
    parser.add_argument("--skip-files", action="store_true", help="only the in-memory scoring benchmark")
    args = parser.parse_args()
    bench_scoring(args.oracle_fits)
    if args.skip_files:
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_show_result_"))
    try:
        bench_end_to_end(workdir)
        bench_memory(workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
