"""The `mock` api_type: offline, deterministic stand-ins for an answering model and a judge.

No network and no model: used by the demo, dry runs and tests. As an answerer it writes a markdown
answer whose thoroughness follows `mock: {style: terse|concise|detailed}`; as a judge (`mock: {role:
judge}`, or automatically when the prompt shows both assistants' answers) it rates the two answers
by length and structure, with a deterministic per-prompt jitter and an optional `position_bias`
towards assistant A, and ends with a verdict label `[[A>B]]`-style. The same input always gives the
same output."""
from __future__ import annotations

import hashlib
import random
import re
from typing import Any, Iterable, Mapping

from arena_hard.core.endpoints import MOCK_STYLES
from arena_hard.core.textstats import markdown_counts

_KINDS = {
    "code": ("code", "function", "python", "program", "script", "sql", "implement", "bug", "regex", "class"),
    "math": ("calculate", "prove", "solve", "equation", "probability", "integral", "how many", "sum of"),
    "writing": ("write a", "poem", "story", "essay", "email", "letter", "haiku", "slogan", "rewrite"),
}
_POINTS = {
    "code": ["validate the inputs before using them", "keep the function small and testable",
             "handle the empty case explicitly", "prefer the standard library", "add a test for the edge cases",
             "name variables after what they hold", "measure before optimising"],
    "math": ["state what is given and what is asked", "pick a method that fits the structure",
             "check the result against a simple case", "keep units and signs consistent",
             "simplify before substituting numbers", "verify the answer by another route"],
    "writing": ["open with a concrete image", "keep the audience in mind", "vary the sentence length",
                "end on a line that echoes the start", "cut words that do no work", "read it aloud once"],
    "advice": ["start with the smallest step you can take today", "write down what you want to achieve",
               "ask someone who has done it before", "set a date to review progress",
               "weigh the cost of doing nothing", "keep a short list of options and their trade-offs"],
}


def _rng(*parts: str) -> random.Random:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def word_count(messages: Iterable[Mapping[str, Any]]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in messages)


def _kind(question: str) -> str:
    lowered = question.lower()
    for kind, words in _KINDS.items():
        if any(word in lowered for word in words):
            return kind
    return "advice"


def _topic(question: str) -> str:
    first = re.split(r"(?<=[.?!])\s|\n", question.strip(), maxsplit=1)[0]
    return first if len(first) <= 90 else first[:87].rstrip() + "..."


def answer(model_name: str, style: str, question: str) -> str:
    """A deterministic mock answer to `question`, more thorough for `detailed` than for `terse`."""
    rng = _rng(model_name, question)
    kind = _kind(question)
    points = rng.sample(_POINTS[kind], k=len(_POINTS[kind]))
    topic = _topic(question)
    if style == "terse":
        return f"In short: {points[0]}, then {points[1]}."
    if style == "concise":
        bullets = "\n".join(f"- {point.capitalize()}." for point in points[:3])
        return f"About \"{topic}\", three things matter:\n\n{bullets}\n\nThat covers the essentials."
    steps = "\n".join(f"{i}. **{point.capitalize()}**." for i, point in enumerate(points[:5], 1))
    code = ""
    if kind == "code":
        code = "\n\n```python\ndef solve(data):\n    if not data:\n        return []\n    return sorted(data)\n```"
    return (f"## Overview\n\nThe question asks: \"{topic}\". Here is a careful answer, step by step.\n\n"
            f"### Steps\n\n{steps}{code}\n\n## Summary\n\nMost of the work is in the first two steps: "
            f"{points[0]} and {points[1]}.")


def _answers_in_prompt(prompt: str) -> tuple[str, str] | None:
    """The text between the marker lines naming assistant A (then B), as judge templates lay it out."""
    lines = prompt.splitlines()
    found = []
    for name in ("Assistant A", "Assistant B"):
        marks = [i for i, line in enumerate(lines) if name in line]
        if len(marks) < 2:
            return None
        found.append("\n".join(lines[marks[0] + 1:marks[1]]))
    return found[0], found[1]


def _quality(text: str) -> float:
    counts = markdown_counts(text)
    words = len(text.split())
    return (min(words, 300) / 300 + 0.15 * min(sum(counts["header_count"].values()), 3)
            + 0.05 * min(sum(counts["list_count"].values()), 6) + 0.05 * min(sum(counts["bold_count"].values()), 5))


def _label(difference: float) -> str:
    for threshold, label in ((1.0, "A>>B"), (0.25, "A>B"), (-0.25, "A=B"), (-1.0, "B>A")):
        if difference > threshold:
            return label
    return "B>>A"


def judge(model_name: str, options: Mapping[str, Any], prompt: str) -> str:
    rng = _rng(model_name, prompt)
    answers = _answers_in_prompt(prompt)
    if answers is None:
        label = rng.choice(["A>>B", "A>B", "A=B", "B>A", "B>>A"])
        return f"Mock judge: the two answers could not be told apart in the prompt.\n\nMy final verdict is [[{label}]]."
    quality_a, quality_b = (_quality(text) for text in answers)
    bias = float(options.get("position_bias", 0.0))
    label = _label(quality_a - quality_b + bias + rng.gauss(0.0, 0.6))
    return (f"Mock judge (offline; rates length and structure, not content).\n"
            f"Assistant A: {len(answers[0].split())} words, quality {quality_a:.2f}.\n"
            f"Assistant B: {len(answers[1].split())} words, quality {quality_b:.2f}.\n\n"
            f"My final verdict is [[{label}]].")


def reply(model_name: str, options: Mapping[str, Any], messages: Iterable[Mapping[str, Any]]) -> str:
    """The mock model's reply to a conversation."""
    user_turns = [str(m["content"]) for m in messages if m.get("role") == "user"]
    prompt = user_turns[0] if user_turns else ""
    role = options.get("role")
    if role == "judge" or (role is None and _answers_in_prompt(prompt) is not None):
        return judge(model_name, options, prompt)
    style = str(options.get("style", "concise"))
    return answer(model_name, style if style in MOCK_STYLES else "concise", user_turns[-1] if user_turns else "")
