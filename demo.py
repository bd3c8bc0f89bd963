"""The offline demo: the whole pipeline on the built-in demo bench, no API key, no network.

Runs gen_answer.py, gen_judgment.py and show_result.py in turn with config/demo/*.yaml on
data/arena-hard-demo/question.jsonl (30 questions written for this project), answered by three mock
models and judged by a mock judge (api_type: mock). The answer and judgment files an earlier demo run
wrote (one per demo model, named by config/demo/*.yaml) are removed first, so every run shows the
whole pipeline; any other file there is left alone. Like every show_result.py run, it rewrites
data/arena_hard_battles.jsonl and data/bootstrapping_results.jsonl. The leaderboard it prints
demonstrates the tool; it measures nothing about any real model."""
from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from arena_hard.core.config import load_answer_settings, load_judge_settings
from arena_hard.core.errors import ArgumentParser, run_main
from arena_hard.core.records import Bench

HERE = Path(__file__).resolve().parent
ANSWER_CONFIG = "config/demo/gen_answer_config.yaml"
JUDGE_CONFIG = "config/demo/judge_config.yaml"
STEPS = [
    ["gen_answer.py", "--setting-file", ANSWER_CONFIG, "--endpoint-file", "config/demo/api_config.yaml"],
    ["gen_judgment.py", "--setting-file", JUDGE_CONFIG, "--endpoint-file", "config/demo/api_config.yaml"],
    ["show_result.py", "--bench-name", "arena-hard-demo", "--judge-name", "demo-judge",
     "--baseline", "demo-baseline"],
]


def demo_outputs() -> list[Path]:
    """The files the demo's steps write: each demo model's answers, and the demo judge's judgments."""
    answers, judging = load_answer_settings(HERE / ANSWER_CONFIG), load_judge_settings(HERE / JUDGE_CONFIG)
    bench = Bench(answers.bench_name, HERE / "data")
    return ([bench.answer_file(model) for model in answers.model_list]
            + [bench.judgment_file(judging.judge_model, model) for model in judging.model_list])


def remove_earlier_run(paths: Sequence[Path]) -> None:
    """Delete `paths`, then the folders holding them if that left them empty."""
    for path in paths:
        path.unlink(missing_ok=True)
    for folder in sorted({path.parent for path in paths}, key=lambda p: len(p.parts), reverse=True):
        for empty in (folder, folder.parent):
            if empty.is_dir() and not any(empty.iterdir()) and empty != HERE / "data":
                empty.rmdir()


def main(argv: Sequence[str] | None = None) -> int:
    ArgumentParser(prog="demo.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
                   ).parse_args(argv)
    print("DEMO: offline mock models on a 30-question demo bench; the scores show the tool, not any model.\n")
    remove_earlier_run(demo_outputs())
    started = time.monotonic()
    for step in STEPS:
        print(f"$ python {shlex.join(step)}", flush=True)
        status = subprocess.run([sys.executable, *step], cwd=HERE).returncode
        if status != 0:
            print(f"demo: {step[0]} exited with status {status}", file=sys.stderr)
            return status
        print(flush=True)
    print(f"demo finished in {time.monotonic() - started:.1f} s. Next: README.md, 'Evaluate your model'.")
    return 0


if __name__ == "__main__":
    run_main(main)
