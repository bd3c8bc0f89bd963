"""What build_bench.py's calls cost (issue 23): the bill per stage from the usage the loopback server
reported, at each model's price (the batch rate for --batch); each label record's usage and cost; the
--dry-run estimate (the first stage that calls exactly, the later ones as a ceiling) and its --report;
--max-cost refusing a run whose first paid stage is over it, stopping a later stage within one
in-flight window, and a rerun continuing without asking anything twice."""
from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter, defaultdict

import pytest
import yaml

from arena_hard.benchbuilder.embed import batches, embed_prompts
from arena_hard.benchbuilder.read_log import Prompt
from arena_hard.benchbuilder.vectors import VectorStore
from arena_hard.core.usage import Rates, Tokens
from arena_hard.generate.cost import Pricing
from arena_hard.benchbuilder.cost import Costs
from fake_api_server import ParsedRequest, Reply, word_count
from fake_batch_server import FakeBatchServer
from fake_bench_builder import CHEAP, NAMER, STRONG, PlantedEmbedder, bench_builder_responder
from pipeline_helpers import model_entry, read_jsonl
from test_bench_builder import BENCH, PRICES, one_line_error, run, workspace, written

MODEL_OF = {CHEAP: "cheap", STRONG: "strong", NAMER: "namer"}


class ReportingResponder:
    """BenchBuilder's fake answers, each reporting usage (cached tokens included) that the test keeps
    per model: what the bill must add up."""

    def __init__(self):
        self.reported, self.lock = defaultdict(Tokens), threading.Lock()

    def __call__(self, request: ParsedRequest) -> Reply:
        reply = bench_builder_responder(request)
        tokens = Tokens(300 + request.number % 7, 5 + request.number % 4, 100, 0)
        with self.lock:
            self.reported[MODEL_OF[request.model]] += tokens
        return Reply(reply.text, usage={"prompt_tokens": tokens.prompt_tokens,
                                        "completion_tokens": tokens.completion_tokens,
                                        "prompt_tokens_details": {"cached_tokens": tokens.cached_tokens}})


def rates(name: str, factor: float = 1.0) -> Rates:
    price = PRICES[name]
    return Rates(price["input"], price["output"], price["input"]).scaled(factor)


def embedded_tokens(server) -> Tokens:
    """What the fake reported for the embedding requests (its count: words)."""
    return Tokens(sum(word_count(*r.request.user_turns) for r in server.requests if r.request.path.endswith("/embeddings")))


def test_the_bill_is_each_stages_reported_usage_at_its_models_price(fake_api, upstream_bench_builder_dir, tmp_path):
    responder = ReportingResponder()
    server = fake_api(responder, embedder=PlantedEmbedder())
    root = workspace(tmp_path, upstream_bench_builder_dir, server.url)
    built = run("build_bench.py", "--report", "bill.json", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    bill = json.loads((root / "bill.json").read_text())
    outputs = {output["label"]: output for output in bill["outputs"]}
    assert list(outputs) == ["embed (embedder)", "names (namer)", "stage 1 (cheap)", "stage 2 (strong)"]
    expected = {"embedder": embedded_tokens(server), **responder.reported}
    for output in bill["outputs"]:
        tokens = Tokens.of(output)
        assert tokens == expected[output["model"]]
        assert output["cost_usd"] == pytest.approx(rates(output["model"]).cost(tokens))
    assert bill["total_cost_usd"] == pytest.approx(sum(o["cost_usd"] for o in bill["outputs"]))
    assert "bill of this run:" in built.stdout and "stage 2 (strong): 120 calls to strong" in built.stdout

    labels = read_jsonl(root / "data" / BENCH / ".bench_builder" / "labels" / "strong-labeller.jsonl")
    assert sum((Tokens.of(r["usage"]) for r in labels), Tokens()) == responder.reported["strong"]
    assert all(r["usage"]["cost_usd"] == pytest.approx(rates("strong").cost(Tokens.of(r["usage"]))) for r in labels)

    again = run("build_bench.py", "--report", "bill.json", cwd=root)  # nothing to ask: an empty bill
    assert again.returncode == 0 and "bill of this run" not in again.stdout
    assert json.loads((root / "bill.json").read_text())["outputs"] == []


def test_labels_through_the_batch_api_are_billed_at_the_batch_rate(fake_api, upstream_bench_builder_dir, tmp_path):
    planted = fake_api(bench_builder_responder, embedder=PlantedEmbedder())
    responder = ReportingResponder()
    with FakeBatchServer(responder) as server:
        root = workspace(tmp_path, upstream_bench_builder_dir, planted.url, label_url=server.openai_base_url,
                         topic_model=None)
        built = run("build_bench.py", "--batch", "--poll-interval", "0", "--report", "bill.json", cwd=root)
        assert built.returncode == 0, built.stdout + built.stderr
    outputs = {output["model"]: output for output in json.loads((root / "bill.json").read_text())["outputs"]}
    for name in ("cheap", "strong"):
        assert outputs[name]["batch"] and Tokens.of(outputs[name]) == responder.reported[name]
        assert outputs[name]["cost_usd"] == pytest.approx(rates(name, 0.5).cost(responder.reported[name]))
    assert not outputs["embedder"]["batch"]


def test_the_dry_run_estimates_the_first_paid_stage_and_caps_the_later_ones(planted_server, upstream_bench_builder_dir,
                                                                            tmp_path):
    root = workspace(tmp_path, upstream_bench_builder_dir, planted_server.url)
    dry = run("build_bench.py", "--dry-run", "--report", "dry.json", cwd=root)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert any(line.startswith("estimate: embed (embedder): 13 calls to embedder") for line in lines)
    assert any(line.startswith("names: would name each topic with namer (one call per topic, at most 20 topics), "
                               "at most $") for line in lines)
    assert any(line.startswith("stage 2: would label at most 200 prompts") and ", at most $" in line for line in lines)
    assert lines[-1].startswith("estimate: total: $") and "the stages after them at most $" in lines[-1]
    estimate = json.loads((root / "dry.json").read_text())["estimate"]
    assert [(e["label"], e.get("at_most", False)) for e in estimate] == [
        ("embed (embedder)", False), ("names (namer)", True), ("stage 1 (cheap)", True), ("stage 2 (strong)", True)]
    assert estimate[0]["output_tokens_expected"] == 0 and estimate[3]["calls"] == 200
    assert planted_server.requests == []

    # once the earlier stages are done, stage 2's prompts are known and its estimate is exact
    assert run("build_bench.py", cwd=root).returncode == 0
    (root / "data" / BENCH / ".bench_builder" / "labels" / "strong-labeller.jsonl").unlink()
    dry = run("build_bench.py", "--dry-run", cwd=root)
    assert "estimate: stage 2 (strong): 120 calls to strong" in dry.stdout
    assert "its 200 earlier replies" not in dry.stdout and "a list of criteria: ~9 tokens" in dry.stdout
    assert "the stages after them" not in dry.stdout


@pytest.fixture
def planted_server(fake_api):
    return fake_api(bench_builder_responder, embedder=PlantedEmbedder())


def test_max_cost_refuses_a_run_whose_first_paid_stage_is_over_it(planted_server, upstream_bench_builder_dir, tmp_path):
    root = workspace(tmp_path, upstream_bench_builder_dir, planted_server.url)
    for args in ([], ["--dry-run"]):
        line = one_line_error(run("build_bench.py", "--max-cost", "0.00001", *args, cwd=root))
        assert "--max-cost $0.0000: this run is expected to cost $0.0001 ($0.0001 to $0.0001) for embed (embedder)" \
            in line
    assert planted_server.requests == [] and written(root) == []


def test_max_cost_needs_every_models_price(planted_server, upstream_bench_builder_dir, tmp_path):
    root = workspace(tmp_path, upstream_bench_builder_dir, planted_server.url)
    config = root / "config" / "api_config.yaml"
    entries = yaml.safe_load(config.read_text())
    del entries["namer"]["price"]  # a model the database does not know either
    config.write_text(yaml.safe_dump(entries))
    line = one_line_error(run("build_bench.py", "--max-cost", "5", cwd=root))
    assert "--max-cost needs the price of 'namer'" in line and planted_server.requests == []


def test_max_cost_stops_a_later_stage_within_one_in_flight_window_and_a_rerun_continues(
        fake_api, upstream_bench_builder_dir, tmp_path):
    responder = ReportingResponder()
    server = fake_api(responder, embedder=PlantedEmbedder())
    root = workspace(tmp_path, upstream_bench_builder_dir, server.url, topic_model=None)
    limit = 0.05  # embedding costs about $0.0001, stage 1 about $0.01, stage 2 about $0.1
    first = run("build_bench.py", "--max-cost", str(limit), "--report", "bill.json", cwd=root)
    assert first.returncode == 1, first.stdout + first.stderr
    assert f"budget: --max-cost ${limit:.4f} reached" in first.stderr
    assert not (root / "data" / BENCH / "question.jsonl").exists()
    bill = json.loads((root / "bill.json").read_text())
    spent = bill["total_cost_usd"]
    strong_calls = sum(r.request.model == STRONG for r in server.requests)
    per_call = rates("strong").cost(Tokens(307, 8))
    assert 0 < strong_calls < 120 and bill["budget"]["stopped"]
    assert spent <= limit + 2 * 8 * per_call  # the judge's parallel (8) twice over: the run loop's window
    assert spent == pytest.approx(rates("embedder").cost(embedded_tokens(server))
                                  + sum(rates(m).cost(t) for m, t in responder.reported.items()))

    second = run("build_bench.py", "--max-cost", "5", cwd=root)
    assert second.returncode == 0, second.stdout + second.stderr
    asked = Counter((r.request.model, r.request.last_user) for r in server.requests if r.request.model == STRONG)
    assert len(asked) == 120 and set(asked.values()) == {1}  # each prompt labelled once over both runs


def test_embedding_requests_stop_once_the_budget_is_reached(planted_server, tmp_path):
    """The embed stage's admission: with the budget nearly spent elsewhere, requests stop starting."""
    from arena_hard.core.endpoints import load_model_configs
    from pipeline_helpers import write_yaml

    write_yaml(tmp_path / "api.yaml", {"embedder": model_entry(f"{planted_server.url}/v1", parallel=1,
                                                               model_name="planted-embedder", price={"input": 1000, "output": 0})})
    model = load_model_configs(tmp_path / "api.yaml", ["embedder"])["embedder"]
    texts = [f"Question {i} about borrowchecker: what is case {i}?" for i in range(40)]
    prompts = [Prompt(hashlib.sha256(text.encode()).hexdigest(), text) for text in texts]
    requests = batches(prompts, 4)
    costs = Costs(Pricing(["embedder"]), dry_run=False, limit=1.0)
    estimate = costs.embedding("embed", model, requests)
    per_request = estimate.expected(requests[0])
    assert per_request > 0
    costs.budget.reserved = 1.0 - 2.5 * per_request  # as if other calls were in flight
    store = VectorStore(tmp_path / "vectors", "planted-embedder")
    report = embed_prompts(store, requests, model, estimate, costs.budget)
    sent = sum(r.request.path.endswith("/embeddings") for r in planted_server.requests)
    assert 1 <= sent <= 2 and report.held_back == len(requests) - sent
    assert report.written == 4 * sent and costs.budget.stopped


def test_an_embedding_model_is_priced_by_its_input_alone(tmp_path):
    from arena_hard.core.endpoints import load_model_configs
    from pipeline_helpers import write_yaml

    write_yaml(tmp_path / "api.yaml", {"small": {"model": "text-embedding-3-small", "api_type": "openai",
                                                 "endpoints": None}})
    model = load_model_configs(tmp_path / "api.yaml", ["small"])["small"]
    assert Pricing()(model) is None  # as a chat model: no output price, so no price
    price = Pricing(["small"])(model)
    assert price is not None and (price.rates.input, price.rates.output) == (0.02, 0.0)
