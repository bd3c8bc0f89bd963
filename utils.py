"""What the scripts share, under one name as in upstream Arena-Hard-Auto.

Model access: one function per `api_type` behind one signature, looked up by name in `PROVIDERS`
(openai, azure, anthropic, cohere, meta, vertex, bedrock, sglang, vllm, mock); a `ModelClient` per model sends `ChatRequest`s through it with the
model's concurrency (`parallel`), bounded retries and endpoint health, and returns `ChatResult`s or
raises `CallFailed`. Data: the bench's paths (`Bench`) and typed readers of questions, answers and
judgments in either record format. Configs: the three YAML files, validated.

The code lives in the arena_hard package, one module per purpose; gen_answer.py and gen_judgment.py
reach model access through here, and your own scripts can too. Upstream's helpers that user scripts
call keep their upstream meaning: `make_config`, `load_questions` and `load_model_answers` return
plain dicts, as upstream's did. Reads only what those functions are given; writes nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from arena_hard.models.client import CallFailed, ModelClient, Usage
from arena_hard.core.config import AnswerSettings, JudgeSettings, load_answer_settings, load_judge_settings
from arena_hard.core.config_file import load_yaml
from arena_hard.core.data_files import jsonl_files
from arena_hard.core.endpoints import ModelConfig, load_model_configs
from arena_hard.core.jsonl import iter_jsonl
from arena_hard.models.providers import PROVIDERS, ChatRequest, ChatResult, Provider, check_credentials
from arena_hard.core.judgments import Judgment, load_judgments
from arena_hard.core.records import Answer, Bench, Question, load_answers, model_of_file, record_id
from arena_hard.core.records import load_questions as load_typed_questions

__all__ = [
    "PROVIDERS", "Provider", "ChatRequest", "ChatResult", "ModelClient", "CallFailed", "Usage", "check_credentials",
    "Bench", "Question", "Answer", "Judgment", "load_typed_questions", "load_answers", "load_judgments",
    "AnswerSettings", "JudgeSettings", "ModelConfig", "load_answer_settings", "load_judge_settings",
    "load_model_configs", "make_config", "load_questions", "load_model_answers",
]


def make_config(config_file: str | Path) -> dict[str, Any]:
    """A YAML config as a dict (upstream's name); syntax errors are one-line UserErrors."""
    return load_yaml(Path(config_file))


def load_questions(question_file: str | Path) -> list[dict[str, Any]]:
    """The question records as dicts, in file order (upstream's name and result), checked as the
    scripts check them: a missing file or a repeated id is a one-line UserError."""
    load_typed_questions(Path(question_file))
    return [record for _, record in iter_jsonl(Path(question_file))]


def load_model_answers(answer_dir: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
    """{model: {question_id: answer record}} for every `<model>.jsonl` in `answer_dir` (upstream's name
    and result; the file name is the model, a later line for a question replaces an earlier one); an
    entry that is not a regular file is skipped with a note."""
    answers: dict[str, dict[str, dict[str, Any]]] = {}
    for path in jsonl_files(Path(answer_dir)):
        answers[model_of_file(path)] = {record_id(record, f"{path}:{lineno}"): record
                                                     for lineno, record in iter_jsonl(path)}
    return answers
