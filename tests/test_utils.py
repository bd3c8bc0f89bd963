"""utils.py, the shared layer under upstream's name: model access by api_type, and upstream's helpers
(make_config, load_questions, load_model_answers) with their upstream results."""
from __future__ import annotations

import asyncio

import utils
from arena_hard.core.endpoints import model_config


def test_upstream_helpers_on_the_official_files(upstream_dir):
    data = upstream_dir / "data" / "arena-hard-v0.1"
    questions = utils.load_questions(data / "question.jsonl")
    assert len(questions) == 500 and questions[0]["turns"][0]["content"].startswith("Use ABC notation")
    answers = utils.load_model_answers(data / "model_answer")
    assert sorted(answers) == ["gpt-3.5-turbo-0125", "gpt-4-0314", "gpt-4-0613"]
    assert all(len(by_question) == 500 for by_question in answers.values())
    config = utils.make_config(upstream_dir / "config" / "judge_config.yaml")
    assert (config["judge_model"], config["baseline_model"]) == ("gpt-4-1106-preview", "gpt-4-0314")


def test_providers_are_looked_up_by_api_type_and_share_one_signature(tmp_path):
    assert sorted(utils.PROVIDERS) == ["anthropic", "azure", "bedrock", "cohere", "meta", "mock", "openai", "sglang", "vertex",
                                      "vllm"]
    model = model_config(tmp_path / "api.yaml", "m", {"api_type": "mock", "mock": {"style": "terse"}})

    async def ask() -> utils.ChatResult:
        client = utils.ModelClient(model)
        try:
            return await client.chat(utils.ChatRequest(({"role": "user", "content": "How do I learn piano?"},), 0.0, 64))
        finally:
            await client.aclose()

    result = asyncio.run(ask())
    assert result.content.startswith("In short:") and result.reasoning is None
