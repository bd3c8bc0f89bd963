"""Helpers for tests of the v2.0 bench: a small bench in upstream v2.0's formats (questions with
`uid`, `category`, `subcategory`, `prompt`; answers with `messages`) in a temporary working directory."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline_helpers import Workspace, write_yaml

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


@dataclass
class V2Workspace(Workspace):
    """A working directory holding data/arena-hard-v2.0/ and config/."""

    bench: str = V2_BENCH

    def write_answer_config(self, models: list[str]) -> Path:  # upstream v2.0's keys, nothing else
        return write_yaml(self.root / "config" / "gen_answer_config.yaml", {"bench_name": V2_BENCH, "model_list": models})
