"""The labeller's side of BenchBuilder's criteria: the request for one prompt and the parse of the
answer, as upstream's label.py and category.py do them (the criteria's wording comes from the
downloaded category.py, arena_hard.core.bench_builder_criteria).

The request: the criteria instruction as system prompt, the prompt as the user message, temperature 0,
at most 32 tokens. The parse: the answer's Python lists of criterion numbers, written as upstream's
pattern reads them (numbers from the criteria, separated by a comma and one space); exactly one
distinct list is the answer's criteria, none is "No Match" and several different ones are "Multiple
Match", recorded as such (every criterion false), never guessed. Pure functions; reads and writes nothing.
May import: arena_hard.core, arena_hard.models.providers."""
from __future__ import annotations

import re
from typing import Any

from arena_hard.core.bench_builder_criteria import Criteria
from arena_hard.models.providers import ChatRequest

TEMPERATURE = 0.0
MAX_TOKENS = 32
NO_MATCH, MULTIPLE_MATCH = "No Match", "Multiple Match"


def label_request(criteria: Criteria, prompt: str) -> ChatRequest:
    return ChatRequest(({"role": "system", "content": criteria.system_prompt}, {"role": "user", "content": prompt}),
                       TEMPERATURE, MAX_TOKENS)


def _pattern(criteria: Criteria) -> re.Pattern[str]:
    digits = "".join(str(number) for number, _ in criteria.tags)
    return re.compile(rf"\[[{digits}](?:,\s[{digits}])*\]")


def parse_answer(criteria: Criteria, answer: str) -> list[int] | str:
    """The criterion numbers the answer lists (repeats kept, as written), or NO_MATCH / MULTIPLE_MATCH."""
    lists = set(_pattern(criteria).findall(answer))
    if not lists:
        return NO_MATCH
    if len(lists) > 1:
        return MULTIPLE_MATCH
    return [int(number) for number in re.findall(r"\d", lists.pop())]


def criteria_tag(criteria: Criteria, parsed: list[int] | str) -> dict[str, bool]:
    """{criterion: met} as upstream stores it under category_tag[<name_tag>]."""
    met = set(parsed) if isinstance(parsed, list) else set()
    return {name: number in met for number, name in criteria.tags}


def label_record(criteria: Criteria, key: str, answer: str) -> dict[str, Any]:
    parsed = parse_answer(criteria, answer)
    return {"uid": key, "category_tag": {criteria.name_tag: criteria_tag(criteria, parsed)}, "parsed": parsed,
            "answer": answer}


def score(criteria: Criteria, record: dict[str, Any]) -> int:
    """How many criteria a label record says the prompt meets (upstream's filter.py score)."""
    tag = record.get("category_tag", {}).get(criteria.name_tag, {})
    return sum(1 for value in tag.values() if value)
