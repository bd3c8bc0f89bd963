"""What the API reported a reply cost in tokens, as answer and judgment records keep it, and what
tokens cost at a model's rates.

`Tokens` holds the four counts: every input token (`prompt_tokens`, cached ones included), of which
read from the provider's prompt cache (`cached_tokens`), every output token (`completion_tokens`,
reasoning included), of which reasoning (`reasoning_tokens`). A record's `usage` key holds them summed
over every call that made the record (turns, choices, games, re-asks), plus `cost_usd` when the price
was known (arena_hard.generate.cost); upstream's readers ignore the key. `Tokens.of` reads a record's
`usage` (records written before the cached and reasoning counts existed hold only the first two).
`Rates` are USD per million input, output and cached-input tokens (`Rates.cost(tokens)`). Reads and
writes nothing."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

COST_KEY = "cost_usd"


@dataclass(frozen=True)
class Tokens:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: "Tokens") -> "Tokens":
        return Tokens(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))))

    def record(self) -> dict[str, int]:
        """The counts as a record's `usage` holds them."""
        return dataclasses.asdict(self)

    @classmethod
    def of(cls, usage: Any) -> "Tokens | None":
        """The counts of a record's `usage`, or None when it holds none (no key, not a mapping, a count
        that is not a non-negative integer)."""
        if not isinstance(usage, dict) or "prompt_tokens" not in usage:
            return None
        counts = [usage.get(field.name, 0) for field in dataclasses.fields(cls)]
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
            return None
        return cls(*counts)


def total(items: Iterable[Tokens]) -> Tokens:
    result = Tokens()
    for item in items:
        result = result + item
    return result


def money(value: float | None) -> str:
    """US dollars as shown to the user: cents from $1 up, four decimals below."""
    if value is None:
        return "unknown"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def recorded_cost(usage: Any) -> float | None:
    """The cost a record's `usage` says its calls had, or None when it says none."""
    cost = usage.get(COST_KEY) if isinstance(usage, dict) else None
    return float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) and cost >= 0 else None


@dataclass(frozen=True)
class Rates:
    """USD per million tokens: input (not read from a cache), output (reasoning included), cached input."""
    input: float
    output: float
    cached_input: float

    def cost(self, tokens: Tokens) -> float:
        uncached = tokens.prompt_tokens - tokens.cached_tokens
        return (uncached * self.input + tokens.cached_tokens * self.cached_input
                + tokens.completion_tokens * self.output) / 1e6

    def scaled(self, factor: float) -> "Rates":
        return Rates(self.input * factor, self.output * factor, self.cached_input * factor)
