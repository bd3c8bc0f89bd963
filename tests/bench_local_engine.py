"""End to end on a GPU machine: gen_answer.py starts a real SGLang or vLLM server for a small model
(`local_engine: true`), answers the demo bench's questions through it and stops it. Prints the wall
time (server start included), the answers written, how many came with a thought (end_think_token),
the servers' log files, and checks that no process of the run is left on the GPUs afterwards
(nvidia-smi's compute apps before and after). Not a pytest test: it needs a GPU, the engine and the
model's download.

Run: .venv/bin/python tests/bench_local_engine.py --engine vllm [--model Qwen/Qwen3-0.6B] [--replicas 1]
     (pip install vllm, or 'sglang[all]' for --engine sglang)"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from pipeline_helpers import Workspace, read_jsonl, run_script  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO_QUESTIONS = REPO / "data" / "arena-hard-demo" / "question.jsonl"


def gpu_processes() -> set[str]:
    result = subprocess.run(["nvidia-smi", "--query-compute-apps=pid", "--format=csv,noheader"],
                            capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sglang", "vllm"), default="vllm")
    parser.add_argument("--model", default="Qwen/Qwen3-0.6B", help="a small model that thinks in <think>...</think>")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("nvidia-smi") is None:
        print("no GPU here (nvidia-smi not found): this benchmark needs one", file=sys.stderr)
        return 2
    before = gpu_processes()
    with tempfile.TemporaryDirectory() as folder:
        ws = Workspace(Path(folder))
        rows = read_jsonl(DEMO_QUESTIONS)[:args.questions]
        ws.write_questions(rows)
        ws.write_api_config({"small": {"model": args.model, "endpoints": None, "api_type": args.engine,
                                       "local_engine": True, "replicas": args.replicas, "temperature": 0.6,
                                       "end_think_token": "</think>", "max_tokens": 4096,
                                       "engine_args": {"max_model_len": 8192}}})
        ws.write_answer_config(["small"])
        start = time.perf_counter()
        result = run_script("gen_answer.py", cwd=ws.root, timeout=7200)
        wall = time.perf_counter() - start
        print(result.stdout + result.stderr)
        records = read_jsonl(ws.answer_file("small")) if ws.answer_file("small").exists() else []
        thoughts = sum(1 for r in records if r["choices"][0]["turns"][0].get("reasoning"))
        logs = sorted((ws.answer_file("small").parent / ".engine").glob("*.log"))
        print(f"exit status {result.returncode}; {len(records)} of {len(rows)} answered ({thoughts} with a thought) "
              f"in {wall:.0f} s, server start included; logs: {', '.join(map(str, logs))}")
    left = gpu_processes() - before
    print("GPU processes left by the run:", ", ".join(sorted(left)) or "none")
    return 0 if result.returncode == 0 and not left and len(records) == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
