"""Answering a v2.0 bench: upstream v2.0's api_config entries unchanged, through the real SDK clients
against the loopback fake; v2 answer records; o200k_base token counts equal to upstream's own."""
from __future__ import annotations

import json

import pytest

import gen_answer
from arena_hard.core.config_file import load_yaml
from arena_hard.core.endpoints import load_model_configs
from arena_hard.core.records import load_answers, load_questions
from arena_hard.core.textstats import markdown_counts
from arena_hard.core.tokens import bundled_o200k_file, count_tokens
from arena_hard.generate.answers_v2 import answer_metadata
from fake_api_server import Reply, answer_responder, answer_text
from pipeline_helpers import read_jsonl, run_script
from v2_helpers import V2Workspace, v2_questions
from conftest import UPSTREAM_V2_DIR

KEY = {"api_key": "test-key"}
FAST = {"max_attempts": 2, "backoff_base": 0.01, "backoff_max": 0.02, "timeout": 5.0}


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return V2Workspace(tmp_path)


def test_upstream_v2_entries_answer_in_v2_format(ws, fake_api):
    server = fake_api()
    ws.write_questions(v2_questions(4))
    endpoint = [{"api_base": server.openai_base_url, **KEY}]
    ws.write_api_config({
        "gpt-plain": {"model": "gpt-4o-mini", "endpoints": endpoint, "api_type": "openai", "parallel": 4,
                      "max_tokens": 8196, "temperature": 0.0, "sys_prompt": "Be brief.", **FAST},
        "o3-high": {"model": "o3-mini-2025-01-31", "endpoints": endpoint, "reasoning_effort": "high",
                    "api_type": "openai_thinking", "parallel": 4, **FAST},
        "claude-thinking": {"model": "claude-3-7-sonnet-20250219", "endpoints": [{"api_base": server.url, **KEY}],
                            "max_tokens": 20000, "budget_tokens": 16000, "api_type": "anthropic_thinking",
                            "parallel": 4, **FAST},
    })
    ws.write_answer_config(["gpt-plain", "o3-high", "claude-thinking"])
    assert gen_answer.main(["--config-file", "config/gen_answer_config.yaml"]) == 0

    prompts = {q["uid"]: q["prompt"] for q in v2_questions(4)}
    for model in ("gpt-plain", "o3-high", "claude-thinking"):
        records = read_jsonl(ws.answer_file(model))
        assert [r["uid"] for r in records] == sorted(prompts)
        for record in records:
            assert set(record) == {"uid", "ans_id", "model", "messages", "tstamp", "metadata", "usage"}
            expected = answer_text(prompts[record["uid"]])
            *sent, reply = record["messages"]
            system = [{"role": "system", "content": "Be brief."}] if model == "gpt-plain" else []
            assert sent == system + [{"role": "user", "content": prompts[record["uid"]]}]
            assert reply["role"] == "assistant" and reply["content"]["answer"] == expected
            assert ("thought" in reply["content"]) == (model != "gpt-plain")  # reasoning kept apart
            assert record["model"] == model
            assert record["metadata"] == {"token_len": count_tokens(expected, "o200k_base"), **markdown_counts(expected)}
    by_model = {r.request.model: r.request for r in server.requests}
    plain, thinking, claude = by_model["gpt-4o-mini"], by_model["o3-mini-2025-01-31"], by_model["claude-3-7-sonnet-20250219"]
    assert (plain.temperature, plain.max_tokens, plain.system) == (0.0, 8196, "Be brief.")
    # openai_thinking as upstream: the reasoning effort, and no temperature or token limit
    assert (thinking.params.get("reasoning_effort"), thinking.temperature, thinking.max_tokens) == ("high", None, None)
    assert claude.params["thinking"] == {"type": "enabled", "budget_tokens": 16000} and claude.max_tokens == 20000


def test_deepseek_reasoner_entry_keeps_reasoning_content_as_thought(ws, fake_api, monkeypatch):
    server = fake_api(lambda request: Reply(answer_responder(request).text, "step by step"))
    ws.write_questions(v2_questions(2))
    monkeypatch.setenv("DEEPSEEK_API_KEY", "ds-key")
    # upstream's own entry, with its endpoint pointed at the fake; the model name is upstream's default
    ws.write_api_config({"deepseek-r1": {"endpoints": [{"api_base": server.openai_base_url}],
                                         "api_type": "deepseek_reasoner", "parallel": 2, **FAST}})
    ws.write_answer_config(["deepseek-r1"])
    assert gen_answer.main([]) == 0
    records = read_jsonl(ws.answer_file("deepseek-r1"))
    assert [r["messages"][-1]["content"]["thought"] for r in records] == ["step by step"] * 2
    assert {(r.request.model, r.request.temperature, r.request.max_tokens) for r in server.requests} == \
        {("deepseek-reasoner", None, None)}
    assert all(r.request.has_api_key for r in server.requests)


def test_endpoint_model_name_overrides_the_entry_model(ws, fake_api):
    server = fake_api()
    ws.write_questions(v2_questions(3))
    ws.write_api_config({"m": {"model": "entry-name", "api_type": "openai", "parallel": 2, "max_tokens": 64,
                               "temperature": 0.0, **FAST,
                               "endpoints": [{"api_base": server.openai_base_url, "model_name": "served-name", **KEY}]}})
    ws.write_answer_config(["m"])
    assert gen_answer.main([]) == 0
    assert {r.request.model for r in server.requests} == {"served-name"}


def test_upstream_api_configs_load_unchanged_with_no_entry_refused(capsys):
    folder = UPSTREAM_V2_DIR / "config"
    if not (folder / "api_config_bedrock_models.yaml").is_file():
        pytest.skip(f"upstream v2.0's api_config files are not in {folder}")
    configs, loaded = {}, []
    for name in ("api_config.yaml", "api_config_bedrock_models.yaml"):
        path = folder / name
        raw = load_yaml(path)
        configs.update(load_model_configs(path, tuple(raw)))
        loaded.append(len(raw))
        for entry_name, entry in raw.items():
            if entry["api_type"].startswith("aws_"):  # every Bedrock family: the Converse provider, by model_id
                assert (configs[entry_name].api_type, configs[entry_name].model_name) == ("bedrock", entry["model_id"])
    assert loaded == [11, 28]
    gemini, qwq, deepseek = configs["gemini-2.5"], configs["qwq-32b"], configs["deepseek-r1"]
    assert (gemini.api_type, gemini.project_id, [e.region for e in gemini.endpoints]) == \
        ("vertex", "<project_id>", ["<region>"])
    assert (qwq.api_type, qwq.model_name, qwq.engine.engine, qwq.endpoints, qwq.end_think_token, qwq.parallel) == \
        ("sglang", "Qwen/QwQ-32B", "sglang", (), "</think>", 256)
    assert (deepseek.api_type, deepseek.reasoner) == ("openai", True)
    assert capsys.readouterr().err == ""  # no key unknown or ignored


def test_answer_metadata_counts_the_answer_only(ws):
    meta = answer_metadata("# Title\n\n1. **one**\n- two\n```\n# not a header\n```", "o200k_base")
    assert meta["header_count"]["h1"] == 1 and meta["list_count"] == {"ordered": 1, "unordered": 1}
    assert meta["bold_count"] == {"**": 1, "__": 0}
    assert list(meta) == ["token_len", "header_count", "list_count", "bold_count"]


@pytest.mark.skipif(bundled_o200k_file() is None,
                    reason="bpe-openai (requirements-optional.txt) is not installed: it ships o200k_base, without "
                           "which tiktoken would download the file, and tests never leave 127.0.0.1")
def test_token_len_and_markdown_counts_equal_upstream_for_all_o3_mini_answers(upstream_v2_dir):
    path = upstream_v2_dir / "data" / "arena-hard-v2.0" / "model_answer" / "o3-mini-2025-01-31.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
    assert len(records) == 750
    mismatches = [r["uid"] for r in records
                  if answer_metadata(r["messages"][-1]["content"]["answer"], "o200k_base") != r["metadata"]]
    assert mismatches == []


def test_upstream_v2_files_are_read(upstream_v2_dir):
    bench = upstream_v2_dir / "data" / "arena-hard-v2.0"
    questions = load_questions(bench / "question.jsonl")
    assert len(questions) == 750
    counts = {}
    for q in questions:
        counts[(q.category, q.cluster)] = counts.get((q.category, q.cluster), 0) + 1
    assert counts == {("hard_prompt", "coding"): 253, ("hard_prompt", "math"): 247,
                      ("creative_writing", "creative_writing"): 250}
    answers = load_answers(bench / "model_answer" / "o3-mini-2025-01-31.jsonl")
    assert set(answers) == {q.question_id for q in questions}
    assert all(a.token_len == a.metadata["token_len"] for a in answers.values())
