"""A v0.1 run replayed through the loopback fake API, for measuring the cost estimate against the bill.

The answerer is served upstream's official answers of ANSWERER (the text it really gave to each
question), the judge replies with judgments of the official length (DEFAULT_JUDGMENT_TOKENS per game on
average, drawn per request from a lognormal spread), and both report usage as OpenAI counts it
(cl100k_base: each message's content and role, 3 tokens per message, 3 per request). `replay` runs
gen_answer.py and gen_judgment.py first with --dry-run (the estimate) and then for real (the bill),
both with --report, in a workspace holding upstream's questions and baseline answers, and returns the
two reports of each script. tests/test_cost.py checks that the bill lands in the estimate's range;
tests/bench_cost_estimate.py prints how close it is (docs/cost.md)."""
from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path
from typing import Any

import yaml

from arena_hard.core.bench_version import V0_1
from arena_hard.core.textstats import count_tokens
from arena_hard.generate.estimate import DEFAULT_JUDGMENT_TOKENS
from fake_api_server import FakeAPIServer, ParsedRequest, Reply
from pipeline_helpers import Workspace, model_entry, read_jsonl, write_jsonl, write_yaml

ANSWERER = "gpt-4-0613"  # upstream's official answers of this model are replayed
PRICES = {"answerer": {"input": 30.0, "output": 60.0}, "judge": {"input": 10.0, "output": 30.0}}
SPREAD = 0.45  # sigma of the judgments' lognormal lengths


def openai_prompt_tokens(request: ParsedRequest) -> int:
    """OpenAI's count of a chat request (its cookbook's rule for cl100k_base models)."""
    messages = ([("system", request.system)] if request.system else []) + [(m.role, m.content) for m in request.messages]
    return sum(3 + count_tokens(role) + count_tokens(content) for role, content in messages) + 3


def _unit(text: str) -> float:
    return (int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") + 0.5) / 2 ** 64


def judgment_text(prompt: str) -> str:
    """A judgment of the official length on average, ending in a verdict label."""
    u = min(max(_unit(prompt), 1e-9), 1 - 1e-9)
    z = math.sqrt(2) * _inverse_erf(2 * u - 1)
    tokens = max(20, round(DEFAULT_JUDGMENT_TOKENS[V0_1.version] * math.exp(SPREAD * z - SPREAD ** 2 / 2)))
    return " ".join(["assessment"] * (tokens - 12)) + "\n\nMy final verdict is tie: [[A=B]]"


def _inverse_erf(y: float) -> float:
    """Newton's method on math.erf (no scipy needed here)."""
    x = 0.0
    for _ in range(60):
        x -= (math.erf(x) - y) / (2 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


class ReplayResponder:
    """Answers with upstream's answer to the question, or judges with `judgment_text`."""

    def __init__(self, answers: dict[str, str]):
        self.answers = answers

    def __call__(self, request: ParsedRequest) -> Reply:
        question = request.messages[0].content
        text = self.answers.get(question) or judgment_text(question)
        usage = {"prompt_tokens": openai_prompt_tokens(request), "completion_tokens": count_tokens(text)}
        return Reply(text, usage=usage)


def workspace(root: Path, upstream: Path, count: int | None) -> tuple[Workspace, dict[str, str]]:
    """The v0.1 bench's first `count` questions (all with None), its baseline's answers; and the
    answerer's official answers by question text."""
    ws = Workspace(root, V0_1.default_bench)
    source = upstream / "data" / V0_1.default_bench
    questions = read_jsonl(source / "question.jsonl")[:count]
    keep = {q["question_id"] for q in questions}
    ws.write_questions(questions)
    write_jsonl(ws.answer_file(V0_1.default_baseline),
                [r for r in read_jsonl(source / "model_answer" / f"{V0_1.default_baseline}.jsonl") if r["question_id"] in keep])
    text_of = {q["question_id"]: q["turns"][0]["content"] for q in questions}
    official = {text_of[r["question_id"]]: r["choices"][0]["turns"][0]["content"]
                for r in read_jsonl(source / "model_answer" / f"{ANSWERER}.jsonl") if r["question_id"] in keep}
    return ws, official


def configure(ws: Workspace, upstream: Path, url: str) -> None:
    ws.write_api_config({
        ANSWERER: model_entry(f"{url}/v1", model_name=ANSWERER, parallel=16, price=PRICES["answerer"]),
        "judge": model_entry(f"{url}/v1", model_name=V0_1.default_judge, parallel=16, price=PRICES["judge"]),
    })
    ws.write_answer_config([ANSWERER], max_tokens=4096)
    judge = yaml.safe_load((upstream / "config" / "judge_config.yaml").read_text(encoding="utf-8"))
    judge.update(bench_name=ws.bench, judge_model="judge", model_list=[ANSWERER])
    write_yaml(ws.root / "config" / "judge_config.yaml", judge)


def replay(root: Path, upstream: Path, count: int | None, run: Any) -> dict[str, dict[str, Any]]:
    """`run(script, *args, cwd=...)` runs a script (exit status in .returncode); returns each script's
    {"estimate": dry-run report, "bill": report}."""
    ws, official = workspace(root, upstream, count)
    reports: dict[str, dict[str, Any]] = {}
    with FakeAPIServer(ReplayResponder(official)) as server:
        configure(ws, upstream, server.url)
        for script in ("gen_answer.py", "gen_judgment.py"):
            for kind, flags in (("estimate", ("--dry-run",)), ("bill", ())):
                path = root / f"{script}-{kind}.json"
                result = run(script, *flags, "--report", str(path), cwd=ws.root)
                assert result.returncode == 0, result.stderr
                reports.setdefault(script, {})[kind] = json.loads(path.read_text(encoding="utf-8"))
    shutil.rmtree(ws.bench_dir)
    return reports


def compare(reports: dict[str, Any]) -> dict[str, Any]:
    """The estimate's expected cost, range and the bill's actual cost, tokens alike, of one script."""
    [estimate], [bill] = reports["estimate"]["estimate"], reports["bill"]["outputs"]
    return {"calls": (estimate["calls"], bill["calls"]),
            "input": (estimate["input_tokens_expected"], bill["prompt_tokens"]),
            "output": (estimate["output_tokens_expected"], estimate["output_tokens_low"],
                       estimate["output_tokens_high"], bill["completion_tokens"]),
            "cost": (estimate["cost_usd_expected"], estimate["cost_usd_low"], estimate["cost_usd_high"],
                     bill["cost_usd"])}
