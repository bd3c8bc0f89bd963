"""What the leaderboard needs from a model's answer file: each answer's token count (for the average) and,
for style control, each answer's style counts (token length, headers, list items, bold spans).

Reads `data/<bench>/model_answer/<model>.jsonl` (either record format, each line checked by
records.answer_from_record); a later line for the same question replaces an earlier one, as upstream.
Writes nothing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from arena_hard.core import textstats
from arena_hard.core.jsonl import scan_jsonl
from arena_hard.core.records import Answer, answer_from_record, model_of_file, plausible_token_len

STYLE_COUNTS = ("token_len", "header_count", "list_count", "bold_count")


def _answers(path: Path) -> dict[str, Answer]:
    model = model_of_file(path)
    answers = {}
    for lineno, record in scan_jsonl(path):
        answer = answer_from_record(record, model, f"{path}:{lineno}")
        answers[answer.question_id] = answer
    return answers


def _token_len(answer: Answer) -> int:
    """choices[0].turns[0].token_len, else conv_metadata.token_len, else counted with cl100k."""
    return answer.token_len if answer.token_len is not None else textstats.count_tokens(answer.turns[0])


def token_lens(path: Path) -> dict[str, int]:
    """{question_id: token length} of every answer in the file (cache payload)."""
    return {question_id: _token_len(answer) for question_id, answer in _answers(path).items()}


def _count(metadata: dict[str, Any], key: str) -> int | None:
    value = metadata.get(key)
    if isinstance(value, dict):
        return sum(v for v in value.values() if isinstance(v, int))
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def style_counts(answer: Answer) -> list[int]:
    """[token_len, headers, list items, bold spans] from the answer's conv_metadata, or computed from
    its last turn the way gen_answer.py computes conv_metadata when the record has none."""
    metadata = answer.metadata or {}
    counts = [_count(metadata, key) for key in STYLE_COUNTS[1:]]
    if None in counts:
        markdown = textstats.markdown_counts(answer.turns[-1])
        counts = [_count(markdown, key) for key in STYLE_COUNTS[1:]]
    token_len = plausible_token_len(metadata.get("token_len"))
    if token_len is None:
        token_len = _token_len(answer) if len(answer.turns) == 1 else textstats.count_tokens(answer.turns[-1])
    return [token_len, *counts]


def text_style_counts(text: str) -> list[int]:
    """[token_len, headers, list items, bold spans] of a text."""
    markdown = textstats.markdown_counts(text)
    return [textstats.count_tokens(text), *(_count(markdown, key) for key in STYLE_COUNTS[1:])]


def style_table(path: Path) -> dict[str, Any]:
    """{question_id: [token_len, headers, lists, bold]} for every answer in the file (cache payload)."""
    return {question_id: style_counts(answer) for question_id, answer in _answers(path).items()}
