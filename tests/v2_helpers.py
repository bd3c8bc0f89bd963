"""Helpers for tests of the v2.0 bench: a small bench in upstream v2.0's formats (questions with
`uid`, `category`, `subcategory`, `prompt`; answers with `messages`) in a temporary working directory."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline_helpers import write_jsonl, write_yaml

V2_BENCH = "arena-hard-v2.0"


def v2_question(uid: str, prompt: str, category: str = "hard_prompt", subcategory: str = "coding") -> dict[str, Any]:
    return {"uid": uid, "category": category, "subcategory": subcategory, "prompt": prompt}


def v2_questions(count: int, category: str = "hard_prompt") -> list[dict[str, Any]]:
    return [v2_question(f"u{i:03d}", f"Prompt {i}: explain topic {i * 5 % 11} in detail.", category)
            for i in range(count)]


def v2_answer(uid: str, model: str, answer: str, thought: str | None = None) -> dict[str, Any]:
    content = {"answer": answer, **({"thought": thought} if thought else {})}
    return {"uid": uid, "ans_id": f"{model}-{uid}", "model": model, "tstamp": 0.0,
            "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": content}]}


class V2Workspace:
    def __init__(self, root: Path):
        self.root = root
        self.bench_dir = root / "data" / V2_BENCH

    def answer_file(self, model: str) -> Path:
        return self.bench_dir / "model_answer" / f"{model}.jsonl"

    def judgment_file(self, judge: str, model: str) -> Path:
        return self.bench_dir / "model_judgment" / judge / f"{model}.jsonl"

    def write_questions(self, rows: list[dict[str, Any]]) -> None:
        write_jsonl(self.bench_dir / "question.jsonl", rows)

    def write_answers(self, model: str, rows: list[dict[str, Any]]) -> None:
        write_jsonl(self.answer_file(model), rows)

    def write_api_config(self, entries: dict[str, dict[str, Any]]) -> Path:
        return write_yaml(self.root / "config" / "api_config.yaml", entries)

    def write_answer_config(self, models: list[str]) -> Path:  # upstream v2.0's keys, nothing else
        return write_yaml(self.root / "config" / "gen_answer_config.yaml", {"bench_name": V2_BENCH, "model_list": models})
