"""How good the --dry-run cost estimate is: estimate against bill on a replayed v0.1 run (all 500
questions of arena-hard-v0.1), as docs/cost.md reports it.

The run (tests/cost_replay.py): gpt-4-0613 answers through the loopback fake API with upstream's
official gpt-4-0613 answers, estimated from the baseline gpt-4-0314's answers on disk; then the judge
(model name gpt-4-1106-preview, cl100k_base) judges them with judgments of the official length,
estimated from v0.1's default. Both report usage as OpenAI counts it. Prints, per script, the calls,
input and output tokens and the cost, expected (with the printed range) against actual.
A second part measures the answer estimate on its own for each pair of upstream's three v0.1 answer
files: one model's lengths guessing another's, as a model without earlier answers is estimated.

Run: .venv/bin/python tests/bench_cost_estimate.py   (about half a minute; needs ../shared/upstream-efc012e
or ARENA_UPSTREAM_DIR)"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from arena_hard.core.textstats import count_tokens  # noqa: E402
from arena_hard.generate.estimate import PROXY_RANGE  # noqa: E402
from conftest import UPSTREAM_DIR  # noqa: E402
from cost_replay import compare, replay  # noqa: E402
from pipeline_helpers import read_jsonl, run_script  # noqa: E402

MODELS = ("gpt-4-0314", "gpt-4-0613", "gpt-3.5-turbo-0125")


def percent(expected: float, actual: float) -> str:
    return f"{100 * (expected - actual) / actual:+.1f}%"


def replayed_run() -> None:
    with tempfile.TemporaryDirectory() as folder:
        reports = replay(Path(folder), UPSTREAM_DIR, None, run_script)
    print("replayed v0.1 run, 500 questions: estimate against bill")
    for script, each in reports.items():
        result = compare(each)
        calls, (input_expected, input_actual) = result["calls"], result["input"]
        out_expected, out_low, out_high, out_actual = result["output"]
        cost_expected, cost_low, cost_high, cost_actual = result["cost"]
        print(f"  {script}: {calls[1]} calls (estimated {calls[0]}); input tokens {input_actual:,} (estimated "
              f"{input_expected:,}); output tokens {out_actual:,}, estimated {out_expected:,} "
              f"({percent(out_expected, out_actual)}; range {out_low:,} to {out_high:,}); cost ${cost_actual:,.2f}, "
              f"estimated ${cost_expected:,.2f} ({percent(cost_expected, cost_actual)}; range ${cost_low:,.2f} to "
              f"${cost_high:,.2f}); within the range: {cost_low <= cost_actual <= cost_high}")


def answer_proxies() -> None:
    folder = UPSTREAM_DIR / "data" / "arena-hard-v0.1" / "model_answer"
    lengths = {model: {r["question_id"]: count_tokens(r["choices"][0]["turns"][0]["content"])
                       for r in read_jsonl(folder / f"{model}.jsonl")} for model in MODELS}
    low, high = PROXY_RANGE
    print(f"answer tokens of one model estimated from another's (range: {low:g} to {high:g} times them):")
    for guess in MODELS:
        for actual in MODELS:
            if guess != actual:
                expected, real = sum(lengths[guess].values()), sum(lengths[actual].values())
                print(f"  {actual} from {guess}: estimated {expected:,}, actual {real:,} ({percent(expected, real)}); "
                      f"within the range: {low * expected <= real <= high * expected}")


if __name__ == "__main__":
    replayed_run()
    answer_proxies()
