"""Benchmark of show_result.py on an Arena-Hard v2.0 bench, side by side with upstream v2.0 in one run.

Generated bench: 30 models x 750 questions (500 hard_prompt, 250 creative_writing) x 2 judges, v2
records with ~1.5 kB of judge text per game. For each of the default board, two judges pooled and
style control (`-f length markdown`), this prints the wall time of one process, start-up included, as
the median of --repeat runs with both sides' runs interleaved: upstream's own show_result.py (from
--upstream-dir, a checkout of lmarena/arena-hard-auto 196f6b8 kept outside the repository; torch on
--upstream-path) or, without it, the pandas oracle of tests/v2_oracle.py; then show_result.py's first run
(empty cache) and its cached rerun, and the ratios. It also prints how far
apart the two printed boards are (the largest score difference, against the interval's half-width), and
the peak RSS of a first run over 60 models.

Wall times depend on what else the machine runs; the CPU seconds (user + system of the process) much
less, so both are printed, with both ratios. The timed processes run with Python's bytecode cache on,
as a user's do, whatever PYTHONDONTWRITEBYTECODE says here.

Run: .venv/bin/python tests/bench_show_result_v2.py [--upstream-dir DIR --upstream-path SITE] [--workdir DIR]
[--repeat N]"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import REPO_ROOT  # noqa: E402
from v2_fixtures import BENCH, write_v2_bench  # noqa: E402

CATEGORIES = {"hard_prompt": 500, "creative_writing": 250}
JUDGES = ("gpt-4.1", "gemini-2.5")
CASES = {"default": [], "2 judges pooled": ["-j", *JUDGES], "style control": ["-f", "length", "markdown"]}
_PROBE = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
          "r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True); "
          "assert r.returncode == 0, r.stderr[-2000:]; "
          "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
          "print(time.perf_counter() - t, u.ru_utime + u.ru_stime, u.ru_maxrss); print(r.stdout)")


def timed(cwd: Path, command: list[str], env: dict[str, str] | None = None) -> tuple[tuple[float, float], int, str]:
    """(wall, CPU) seconds of one process, its peak RSS in MB and its stdout."""
    environment = {**os.environ, **(env or {})}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)  # both sides keep their bytecode, as a user's Python does
    out = subprocess.run([sys.executable, "-c", _PROBE, *command], cwd=cwd, capture_output=True, text=True,
                         check=True, env=environment).stdout
    first, _, printed = out.partition("\n")
    wall, cpu, rss = first.split()
    return (float(wall), float(cpu)), int(rss) // 1024, printed


def show(seconds: tuple[float, float]) -> str:
    return f"{seconds[0]:.2f} s (CPU {seconds[1]:.2f} s)"


def ratio(reference: tuple[float, float], ours: tuple[float, float]) -> str:
    return f"{reference[0] / ours[0]:.1f}x (CPU {reference[1] / ours[1]:.1f}x)"


def ours(root: Path, args: list[str]) -> tuple[tuple[float, float], int, str]:
    return timed(root, [sys.executable, str(REPO_ROOT / "show_result.py"), "-b", BENCH, *args])


def clear_cache(root: Path) -> None:
    shutil.rmtree(root / "data" / BENCH / ".show_result_cache", ignore_errors=True)


def reference(root: Path, args: list[str], upstream: Path | None,
              site: str | None) -> tuple[tuple[float, float], str, str]:
    """(seconds, printed board, what ran): upstream's own script, or the pandas oracle."""
    if upstream is not None:
        env = {"PYTHONPATH": os.pathsep.join(p for p in (str(upstream), site) if p)}
        seconds, _, printed = timed(root, [sys.executable, str(upstream / "show_result.py"), *args], env)
        return seconds, printed, "upstream v2.0 show_result.py"
    judges = args[args.index("-j") + 1:] if "-j" in args else ["gpt-4.1"]
    features = args[args.index("-f") + 1:] if "-f" in args else []
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from v2_oracle import oracle_output; "
            "print(oracle_output('.', sys.argv[2].split(','), ['hard_prompt'], "
            "[f for f in sys.argv[3].split(',') if f])[0])")
    seconds, _, printed = timed(root, [sys.executable, "-c", code, str(Path(__file__).parent), ",".join(judges),
                                       ",".join(features)])
    return seconds, printed, "pandas oracle (tests/v2_oracle.py)"


def board(printed: str) -> dict[str, tuple[float, float]]:
    """model -> (score, half-width of the interval) from a printed table."""
    found = {}
    for line in printed.splitlines():
        match = re.match(r"^\d+\s+(\S+)\s+([\d.]+)\s+\(-([\d.]+) / \+([\d.]+)\)$", line)
        if match:
            found[match[1]] = (float(match[2]), (float(match[3]) + float(match[4])) / 2)
    return found


def median(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)


def bench_cases(root: Path, upstream: Path | None, site: str | None, cases: list[str], repeat: int) -> None:
    for name in cases:
        args = CASES[name]
        refs, firsts, cacheds, rss = [], [], [], 0
        for _ in range(repeat):  # interleaved, so that a slow spell of the machine hits both sides
            ref_seconds, ref_printed, what = reference(root, args, upstream, site)
            clear_cache(root)
            first, first_rss, printed = ours(root, args)
            refs.append(ref_seconds)
            firsts.append(first)
            cacheds.append(ours(root, args)[0])
            rss = max(rss, first_rss)
        mine, theirs = board(printed), board(ref_printed)
        gaps = [abs(mine[m][0] - theirs[m][0]) for m in theirs if m in mine]
        widths = [max(mine[m][1], theirs[m][1]) for m in theirs if m in mine]
        worst = max(range(len(gaps)), key=lambda i: gaps[i] / max(widths[i], 0.05))
        print(f"[{name}] {what}: {show(median(refs))} (median of {repeat}; fastest {min(r[0] for r in refs):.2f} s)")
        print(f"    show_result.py first run (no cache): {show(median(firsts))} -> {ratio(median(refs), median(firsts))} "
              f"(slowest {max(f[0] for f in firsts):.2f} s; peak RSS {rss} MB)")
        print(f"    show_result.py cached rerun: {show(median(cacheds))} -> {ratio(median(refs), median(cacheds))} "
              f"(slowest {max(c[0] for c in cacheds):.2f} s)")
        print(f"    boards agree on {len(gaps)} models: largest score gap {max(gaps):.1f} points "
              f"(worst gap / interval half-width: {gaps[worst]:.1f} / {widths[worst]:.1f})")


def lbfgs_gap(root: Path, site: str) -> None:
    """How far upstream's fit (torch LBFGS, lr 0.1, 50 iterations, from 0.5) stops from the optimum of its
    own loss, on the full hard_prompt rows of the first judge: the win rates of both fits compared."""
    sys.path.insert(0, site)
    import numpy as np
    import torch
    from v2_oracle import _counts, _fit, _style_metadata, load_battles
    battles, _ = load_battles(str(root), BENCH, JUDGES[:1])
    battles = battles[battles.category == "hard_prompt"].reset_index(drop=True)
    metadata, baseline = _style_metadata(str(root), BENCH), "o3-mini-2025-01-31"
    m = np.array([_counts(metadata[model][uid]) for model, uid in zip(battles.model, battles.uid)])
    b = np.array([_counts(metadata[baseline][uid]) for uid in battles.uid])
    raw = np.empty_like(m)
    raw[:, 0] = (m[:, 0] - b[:, 0]) / (m[:, 0] + b[:, 0])
    dm, db = m[:, 1:] / (m[:, :1] + 1), b[:, 1:] / (b[:, :1] + 1)
    raw[:, 1:] = (dm - db) / (dm + db + 1)
    names = sorted(set(battles.model) | {baseline})
    onehot = np.zeros((len(battles), len(names)))
    onehot[np.arange(len(battles)), [names.index(x) for x in battles.model]] = 1
    onehot[:, names.index(baseline)] = -1
    x = np.concatenate([onehot, (raw - raw.mean(0)) / raw.std(0, ddof=1)], axis=1)
    y = battles.scores.astype(float).to_numpy()
    inputs, targets = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    logits = torch.nn.Parameter(torch.full((x.shape[1],), 0.5))
    optimizer = torch.optim.LBFGS([logits], lr=0.1, max_iter=50, tolerance_grad=1e-9, tolerance_change=1e-9)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(inputs @ logits, targets, reduction="sum")
        loss.backward()
        return loss
    optimizer.step(closure)
    k, n = names.index(baseline), len(names)
    rate = lambda c: 100 / (1 + np.exp(c[k] - c[:n]))  # noqa: E731
    gap = np.abs(rate(logits.detach().numpy().astype(float)) - rate(_fit(x, y)))
    print(f"[style fit] upstream's 50 LBFGS iterations stop short of the optimum of their own loss: win rates "
          f"{gap.max():.1f} points off at most ({gap.mean():.1f} on average) on hard_prompt, {len(y):,} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream-dir", type=Path, help="a checkout of upstream v2.0 (show_result.py, utils/)")
    parser.add_argument("--upstream-path", help="extra PYTHONPATH for upstream's imports (torch)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--text-chars", type=int, default=1500, help="judge text per game")
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side per case (medians are reported)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_show_result_v2_"))
    try:
        root = workdir / "bench30"
        start = time.perf_counter()
        write_v2_bench(root, [f"model-{m:02d}" for m in range(30)], CATEGORIES, JUDGES, text_chars=args.text_chars)
        size = sum(p.stat().st_size for p in (root / "data" / BENCH / "model_judgment").rglob("*.jsonl"))
        print(f"bench: 30 models x 750 questions x 2 judges, {size / 1e6:.0f} MB of judgments "
              f"(written in {time.perf_counter() - start:.0f} s)")
        startup = min(ours(root, ["--help"])[0] for _ in range(3))
        print(f"show_result.py start-up (--help): {show(startup)}")
        bench_cases(root, args.upstream_dir, args.upstream_path, args.cases, args.repeat)
        if args.upstream_path:
            lbfgs_gap(root, args.upstream_path)
        big = workdir / "bench60"
        write_v2_bench(big, [f"model-{m:02d}" for m in range(60)], CATEGORIES, JUDGES[:1], text_chars=args.text_chars)
        seconds, rss, _ = ours(big, ["-c", *CATEGORIES, "-f", "length", "markdown"])
        print(f"[memory] first run, 60 models x 750 questions, both categories, style control: {show(seconds)}, "
              f"peak RSS {rss} MB")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
