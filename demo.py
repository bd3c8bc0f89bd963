"""The offline demo: the whole pipeline on the built-in demo bench, no API key, no network.

Runs gen_answer.py, gen_judgment.py and show_result.py in turn with config/demo/*.yaml on
data/arena-hard-demo/question.jsonl (30 questions written for this project), answered by three mock
models and judged by a mock judge (api_type: mock). The demo's earlier answers and judgments under
data/arena-hard-demo/ are removed first so every run shows the full pipeline. The leaderboard it prints
demonstrates the tool; it measures nothing about any real model."""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO_BENCH = HERE / "data" / "arena-hard-demo"
STEPS = [
    ["gen_answer.py", "--setting-file", "config/demo/gen_answer_config.yaml",
     "--endpoint-file", "config/demo/api_config.yaml"],
    ["gen_judgment.py", "--setting-file", "config/demo/judge_config.yaml",
     "--endpoint-file", "config/demo/api_config.yaml"],
    ["show_result.py", "--bench-name", "arena-hard-demo", "--judge-name", "demo-judge",
     "--baseline", "demo-baseline"],
]


def main() -> int:
    print("DEMO: offline mock models on a 30-question demo bench; the scores show the tool, not any model.\n")
    for generated in ("model_answer", "model_judgment"):
        shutil.rmtree(DEMO_BENCH / generated, ignore_errors=True)
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
    sys.exit(main())
