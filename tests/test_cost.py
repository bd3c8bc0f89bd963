"""What a run costs (issue 23): the usage kept in records, prices (database, `price` key, batch rate),
the bill and --report, the --dry-run estimate, and the --max-cost budget; against the loopback fakes."""
from __future__ import annotations

import json
import re
import threading

import pytest

import gen_answer
import gen_judgment
from arena_hard.core.usage import Rates, Tokens, money
from arena_hard.models.prices import database_rates
from cost_replay import compare, replay
from fake_api_server import AnswerMarkers, FakeAPIServer, JudgeResponder, ParsedRequest, Reply, answer_responder
from fake_batch_server import FakeBatchServer
from pipeline_helpers import (A_END, A_START, B_END, B_START, Workspace, model_entry, question, questions, read_jsonl,
                              run_script, write_jsonl)

PRICE = {"input": 3.0, "output": 15.0, "cached_input": 0.3}
RATES = Rates(3.0, 15.0, 0.3)


class ReportingResponder:
    """Wraps a responder: every reply reports usage with cached and reasoning parts (in the request's
    protocol), each a function of the request; what was reported is kept, per conversation's first message."""

    def __init__(self, inner):
        self.inner, self.reported, self.lock = inner, [], threading.Lock()

    def __call__(self, request: ParsedRequest) -> Reply:
        reply = self.inner(request)
        prompt, completion = 100 + 7 * len(request.messages), 40 + len(reply.text) % 13
        cached, reasoning = 10 * len(request.messages), 5 + request.number % 3
        with self.lock:
            self.reported.append((request.messages[0].content, Tokens(prompt, completion, cached, reasoning)))
        if request.protocol == "anthropic":  # input_tokens excludes the cache reads
            usage = {"input_tokens": prompt - cached, "output_tokens": completion, "cache_read_input_tokens": cached}
            self.reported[-1] = (self.reported[-1][0], Tokens(prompt, completion, cached, 0))
        else:
            usage = {"prompt_tokens": prompt, "completion_tokens": completion,
                     "prompt_tokens_details": {"cached_tokens": cached},
                     "completion_tokens_details": {"reasoning_tokens": reasoning}}
        return Reply(reply.text, reply.reasoning, usage=usage)

    def sum_for(self, first_message: str) -> Tokens:
        return sum((t for text, t in self.reported if text == first_message), Tokens())


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path)


def report(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_answer_records_keep_the_usage_the_server_reported_summed_over_turns_and_choices(ws, fake_api, api_type):
    responder = ReportingResponder(answer_responder)
    server = fake_api(responder)
    rows = questions(3) + [question("q900", "First turn: plan a trip?", "Second turn: and the budget?")]
    ws.write_questions(rows)
    ws.write_api_config({"m": model_entry(server.openai_base_url if api_type == "openai" else server.url,
                                          api_type=api_type, price=PRICE)})
    ws.write_answer_config(["m"], num_choices=2)
    assert gen_answer.main(["--report", "bill.json"]) == 0
    for record, row in zip(read_jsonl(ws.answer_file("m")), rows):
        expected = responder.sum_for(row["turns"][0]["content"])  # both turns and both choices
        assert record["usage"] == {**expected.record(), "cost_usd": pytest.approx(RATES.cost(expected))}
    assert server.outcomes["ok"] == 2 * 3 + 2 * 2
    bill = report(ws.root / "bill.json")
    everything = sum((t for _, t in responder.reported), Tokens())
    [line] = bill["outputs"]
    assert Tokens(*(line[k] for k in everything.record())) == everything and line["calls"] == 10
    assert line["cost_usd"] == pytest.approx(RATES.cost(everything)) == bill["total_cost_usd"]


def test_judgment_records_keep_the_usage_of_both_games_and_their_re_asks(ws, fake_api):
    responder = ReportingResponder(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END), label_on_continue=True))
    server = fake_api(responder)
    ws.write_questions(questions(3))
    for model, words in (("base", 4), ("m", 9)):
        write_jsonl(ws.answer_file(model), [{"question_id": f"q{i:03d}", "model_id": model, "choices": [
            {"index": 0, "turns": [{"content": " ".join(["word"] * words)}]}]} for i in range(3)])
    ws.write_api_config({"judge": model_entry(server.openai_base_url, price=PRICE)})
    ws.write_judge_config("judge", "base", ["m"])
    assert gen_judgment.main(["--report", "bill.json"]) == 0
    records = read_jsonl(ws.judgment_file("judge", "m"))
    assert server.outcomes["ok"] == 3 * 2 * 2  # every game re-asked once
    for record in records:
        games = [game["user_prompt"] for game in record["games"]]
        expected = sum((responder.sum_for(prompt) for prompt in games), Tokens())
        assert record["usage"] == {**expected.record(), "cost_usd": pytest.approx(RATES.cost(expected))}
    total = sum((t for _, t in responder.reported), Tokens())
    assert report(ws.root / "bill.json")["total_cost_usd"] == pytest.approx(RATES.cost(total))


def test_the_bill_prints_one_line_per_model_and_the_total(ws, fake_api, capsys):
    server = fake_api()
    ws.write_questions(questions(4))
    ws.write_api_config({"a": model_entry(server.openai_base_url, price=PRICE),
                         "b": model_entry(server.openai_base_url, price=0)})
    ws.write_answer_config(["a", "b"])
    assert gen_answer.main([]) == 0
    out = capsys.readouterr().out
    bill = out[out.index("bill of this run:"):].splitlines()
    assert bill[1].startswith("  a: 4 calls to a, ") and re.search(r"tokens, \$0\.0\d*[1-9]\d*$", bill[1])
    assert bill[2].startswith("  b: 4 calls to b, ") and bill[2].endswith("tokens, $0.0000")
    assert bill[3].startswith("  total: 8 calls, ") and bill[3].endswith(bill[1].rsplit(", ", 1)[1])


def test_a_model_without_a_price_is_said_once_and_its_cost_shown_as_unknown(ws, fake_api, capsys):
    server = fake_api()
    ws.write_questions(questions(3))
    ws.write_api_config({"local": model_entry(server.openai_base_url, model_name="my-finetune")})
    ws.write_answer_config(["local"])
    assert gen_answer.main(["--report", "bill.json", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("no price known for model 'my-finetune'") == 1
    assert "cost unknown (no price)" in captured.out and "estimate: total: unknown" in captured.out
    assert gen_answer.main(["--report", "bill.json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("no price known") == 1 and "$0" not in captured.out
    assert "total: 3 calls" in captured.out and "unknown (no price for local)" in captured.out
    bill = report(ws.root / "bill.json")
    assert bill["outputs"][0]["cost_usd"] is None and bill["total_cost_usd"] is None
    assert all("cost_usd" not in record["usage"] for record in read_jsonl(ws.answer_file("local")))


@pytest.mark.parametrize("price, message", [
    ({"input": 1}, "`m.price.output` is missing"),
    ({"input": -1, "output": 2}, "`m.price.input` must be a number >= 0"),
    ({"input": 1, "output": 1e308}, "`m.price.output` must be a number >= 0.0 and <= 1e+06"),  # else a bill of $inf
    ("cheap", "`m.price` must be 0 (a model that costs nothing) or {input"),
])
def test_a_wrong_price_key_is_one_line_and_exit_2(ws, price, message):
    ws.write_questions(questions(1))
    ws.write_api_config({"m": model_entry("http://127.0.0.1:9/v1", price=price)})
    ws.write_answer_config(["m"])
    result = run_script("gen_answer.py", "--dry-run", cwd=ws.root)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_the_price_database_knows_providers_models_and_batch_rates():
    assert database_rates("gpt-4.1", "openai", None, False)[0] == Rates(2.0, 8.0, 0.5)
    rates, source = database_rates("gpt-4.1", "openai", "https://api.openai.com/v1", True)
    assert (rates.input, rates.output) == (1.0, 4.0) and "batch price" in source  # the database's own
    rates, source = database_rates("claude-3-5-sonnet-20241022", "anthropic", None, True)
    assert (rates.input, rates.output) == (1.5, 7.5) and "batch at 50%" in source  # the provider's discount
    assert database_rates("deepseek-chat", "openai", "https://api.deepseek.com", False) is not None
    assert database_rates("served-model", "openai", "http://127.0.0.1:8000/v1", False) is None  # a local server
    assert database_rates("my-deployment", "azure", "https://x.openai.azure.com", False) is None


def test_a_batch_run_is_priced_at_the_batch_rate(ws):
    ws.write_questions(questions(5))
    with FakeBatchServer() as fake:
        ws.write_api_config({"m": model_entry(f"{fake.url}/v1", price=PRICE)})
        ws.write_answer_config(["m"])
        assert gen_answer.main(["--batch", "--poll-interval", "0", "--report", "bill.json"]) == 0
    [line] = report(ws.root / "bill.json")["outputs"]
    tokens = Tokens(line["prompt_tokens"], line["completion_tokens"])
    assert line["batch"] and tokens.completion_tokens > 0 and line["calls"] == 5
    assert line["cost_usd"] == pytest.approx(RATES.scaled(0.5).cost(tokens))
    records = read_jsonl(ws.answer_file("m"))
    assert sum(r["usage"]["cost_usd"] for r in records) == pytest.approx(line["cost_usd"])


def slow_long_answers(request: ParsedRequest) -> Reply:
    return Reply(" ".join(["longer"] * 200))


def test_max_cost_stops_the_run_within_one_in_flight_window_and_a_rerun_continues(ws, capsys):
    # The baseline's answers are short, so the estimate is far under the budget; the answers are long.
    ws.write_questions(questions(40))
    write_jsonl(ws.answer_file("gpt-4-0314"), [{"question_id": f"q{i:03d}", "model_id": "gpt-4-0314", "choices": [
        {"index": 0, "turns": [{"content": "Short.", "token_len": 2}]}]} for i in range(40)])
    parallel = 2
    with FakeAPIServer(slow_long_answers) as server:
        ws.write_api_config({"m": model_entry(server.openai_base_url, parallel=parallel,
                                              price={"input": 1000, "output": 1000})})
        ws.write_answer_config(["m"])
        assert gen_answer.main(["--max-cost", "2", "--report", "bill.json"]) == 1
        err = capsys.readouterr().err
        records = read_jsonl(ws.answer_file("m"))
        costs = [r["usage"]["cost_usd"] for r in records]
        bill = report(ws.root / "bill.json")
        assert bill["total_cost_usd"] == pytest.approx(sum(costs))
        window = 2 * parallel * max(costs)  # the jobs the run loop may have in flight at once
        assert 2 - window <= sum(costs) <= 2 + window
        assert 0 < len(records) < 40 and bill["budget"]["jobs_left_undone"] == 40 - len(records)
        assert "budget: --max-cost $2.00 reached" in err and f"{40 - len(records)} job(s) left undone" in err
        assert server.outcomes["ok"] == len(records)  # what was in flight finished and was written
        assert gen_answer.main(["--max-cost", "100"]) == 0
        assert len(read_jsonl(ws.answer_file("m"))) == 40 and server.outcomes["ok"] == 40


def test_max_cost_refuses_to_start_when_the_estimate_is_over_it(ws, fake_api):
    server = fake_api()
    ws.write_questions(questions(10))
    ws.write_api_config({"m": model_entry(server.openai_base_url, price={"input": 1000, "output": 1000})})
    ws.write_answer_config(["m"])  # no earlier answers, no baseline: half of max_tokens (256) per answer
    result = run_script("gen_answer.py", "--max-cost", "0.5", cwd=ws.root)
    assert result.returncode == 2 and "--max-cost $0.5000: this run is expected to cost $1.48 ($0.2000 to $2.76), more" in result.stderr
    assert server.requests == [] and not ws.answer_file("m").exists()
    ws.write_api_config({"m": model_entry(server.openai_base_url)})  # no price: a budget cannot be kept
    result = run_script("gen_answer.py", "--max-cost", "1", cwd=ws.root)
    assert result.returncode == 2 and result.stderr.startswith("error: --max-cost needs the price of 'm'")
    assert result.stderr.count("\n") == 1  # the error alone, not also the note about the unknown price


def test_the_dry_run_estimate_names_its_tokenizer_and_where_its_output_guess_comes_from(ws, fake_api, capsys):
    server = fake_api()
    ws.write_questions(questions(6))
    ws.write_api_config({"gpt": model_entry(server.openai_base_url, model_name="gpt-4o", price=PRICE),
                         "claude": model_entry(server.url, api_type="anthropic", model_name="claude-x", price=PRICE)})
    ws.write_answer_config(["gpt", "claude"])
    write_jsonl(ws.answer_file("claude"), [{"question_id": f"q{i:03d}", "model_id": "claude", "choices": [
        {"index": 0, "turns": [{"content": "An answer of eight words, give or take."}]}],
        "usage": {"prompt_tokens": 30, "completion_tokens": 50 + i}} for i in range(3)])
    assert gen_answer.main(["--dry-run", "--report", "estimate.json"]) == 0
    out = capsys.readouterr().out
    assert "estimate: gpt: 6 calls to gpt, " in out and "(o200k_base) +" in out  # gpt-4o's own encoding
    assert "estimate: claude: 3 calls to claude, " in out and "(o200k_base, an approximation)" in out
    assert "its 3 earlier answers" in out and "half of max_tokens for 6 question(s)" in out
    [gpt, claude] = report(ws.root / "estimate.json")["estimate"]
    assert claude["output_tokens_expected"] == 3 * 51 and gpt["output_tokens_expected"] == 6 * 128
    assert gpt["tokenizer_exact"] and not claude["tokenizer_exact"]
    assert server.requests == []


def test_a_replayed_v01_run_costs_what_the_estimate_said_within_its_range(tmp_path, upstream_dir):
    """Upstream's official answers of gpt-4-0613, judgments of the official length, 100 questions."""
    reports = replay(tmp_path, upstream_dir, 100, run_script)
    for script in ("gen_answer.py", "gen_judgment.py"):
        result = compare(reports[script])
        calls, (expected_input, actual_input) = result["calls"], result["input"]
        assert calls[0] == calls[1] and expected_input == actual_input  # OpenAI's count, cl100k_base
        _, low, high, actual = result["output"]
        assert low <= actual <= high, script
        _, low, high, actual = result["cost"]
        assert low <= actual <= high, script


def test_show_result_full_stats_shows_answer_tokens_and_judging_cost_from_the_records(ws, fake_api):
    server = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)))
    ws.write_questions(questions(12))
    entries = {name: model_entry(server.openai_base_url, model_name=name, price=PRICE) for name in ("base", "m")}
    ws.write_api_config({**entries, "judge": model_entry(server.openai_base_url, price={"input": 1, "output": 2})})
    ws.write_answer_config(["base", "m"])
    assert gen_answer.main([]) == 0
    ws.write_judge_config("judge", "base", ["m"])
    assert gen_judgment.main([]) == 0
    result = run_script("show_result.py", "--bench-name", ws.bench, "--judge-name", "judge", "--full-stats",
                        "--num-rounds", "20", cwd=ws.root)
    assert result.returncode == 0, result.stderr
    table = result.stdout[result.stdout.index("Cost from the records' usage (judge judging):"):].splitlines()
    answers = read_jsonl(ws.answer_file("m"))
    judgments = read_jsonl(ws.judgment_file("judge", "m"))
    tokens = sum((Tokens.of(r["usage"]) for r in answers), Tokens())
    answer_cost = sum(r["usage"]["cost_usd"] for r in answers)
    judge_tokens = sum((Tokens.of(r["usage"]) for r in judgments), Tokens())
    judge_cost = sum(r["usage"]["cost_usd"] for r in judgments)
    row = next(line for line in table if line.startswith("m "))
    assert row.endswith(f"| {tokens.prompt_tokens} in + {tokens.completion_tokens} out, {money(answer_cost)} | "
                        f"{judge_tokens.prompt_tokens} in + {judge_tokens.completion_tokens} out, {money(judge_cost)}")
    assert next(line for line in table if line.startswith("base ")).endswith("| -")  # never judged
