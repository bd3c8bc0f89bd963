"""The estimate of what a run will cost, before any call: --dry-run prints it, --max-cost checks it.

A job is the calls it will make (`Call`): the input tokens known now (the messages, counted with the
model's tokenizer: tiktoken's encoding for an OpenAI model name, else o200k_base as an approximation,
said so; cl100k_base stands in for o200k_base offline without bpe-openai), the answers of earlier turns
it will resend (unknown: their expected length is added), and the output tokens expected per call
(`Guess`: mean, low, high). Output comes from what is on disk: a model's earlier answers or a judge's
earlier judgments (their usage, else their text), the range being a 95% interval of the run's mean call;
for answers without earlier ones the bench baseline's answer to each question, from half to twice its
length (up to max_tokens per call, and up to max_tokens or 8 times for a reasoning model, whose hidden
reasoning no answer text shows); for judgments without earlier ones a default per bench version
(DEFAULT_JUDGMENT_TOKENS; docs/cost.md says how it was measured), from half to twice it. Re-asks of a
judge are not counted (rare), nor prompt caching (the cached part is unknown beforehand). Reads the
answer and judgment files."""
from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.jsonl import iter_jsonl
from arena_hard.core.records import record_id
from arena_hard.core.tokens import ENCODINGS, count_tokens, loadable
from arena_hard.core.usage import Rates, Tokens, money
from arena_hard.generate.cost import check_budget, write_report
from arena_hard.models.prices import Price

MESSAGE_OVERHEAD, REQUEST_OVERHEAD = 4, 3  # tokens a chat API adds per message and per request (OpenAI's format)
PROXY_RANGE = (0.5, 2.0)  # a model's answers, or another judge's judgments, against those guessed from
REASONING_FACTOR = 8  # a reasoning model's output against its answer text, at most, when it sets no max_tokens
# Output tokens of one judge game (its re-asks included), measured from the published judgments of the
# bench version's judge (docs/cost.md: "How the estimate was measured"); v2.0 has none to measure.
DEFAULT_JUDGMENT_TOKENS = {"v0.1": 650, "v2.0": 650}
MIN_OWN_SAMPLE = 2  # earlier records needed to estimate from them (a spread needs two)


@dataclass(frozen=True)
class Guess:
    """Expected output tokens of one call: the mean, and the low and high ends of the run's average."""
    mean: float
    low: float
    high: float

    def capped(self, cap: int | None) -> "Guess":
        return self if cap is None else Guess(min(self.mean, cap), min(self.low, cap), min(self.high, cap))


@dataclass(frozen=True)
class Call:
    known_input: int  # tokens of the messages known now, overheads included
    earlier: int  # answers of earlier turns the call resends, not known yet
    output: Guess


@dataclass(frozen=True)
class Tokenizer:
    count: Callable[[str], int]
    encoding: str
    exact: bool

    def messages(self, contents: Iterable[str]) -> int:
        texts = list(contents)
        return sum(self.count(text) for text in texts) + MESSAGE_OVERHEAD * len(texts) + REQUEST_OVERHEAD


def stand_in() -> str:
    """The encoding that approximates an unknown tokenizer: o200k_base, else (offline without bpe-openai)
    cl100k_base, which is bundled: an estimate need not stop for want of a file the run itself may not need."""
    return "o200k_base" if loadable("o200k_base") else "cl100k_base"


def tokenizer_for(model: ModelConfig) -> Tokenizer:
    """tiktoken's encoding for an OpenAI model (exact, when it can be loaded); else stand_in(), an approximation."""
    encoding = None
    if model.api_type in ("openai", "azure"):
        from tiktoken.model import encoding_name_for_model  # a table lookup: no download
        try:
            encoding = encoding_name_for_model(model.model_name)
        except KeyError:
            pass
    exact = encoding in ENCODINGS and loadable(encoding)
    encoding = encoding if exact else stand_in()
    # remembered: a run's requests repeat the same system prompt (a judge's, a labeller's) in every call
    return Tokenizer(functools.lru_cache(maxsize=64)(functools.partial(count_tokens, encoding=encoding)), encoding, exact)


def sample_guess(values: Sequence[float], calls: int) -> Guess:
    """From earlier calls' output tokens: their mean, and a 95% interval of the mean of `calls` new ones."""
    mean = statistics.fmean(values)
    spread = statistics.stdev(values) if len(values) > 1 else mean
    half = 2 * spread * math.sqrt(1 / len(values) + 1 / max(calls, 1))
    return Guess(mean, max(0.0, mean - half), mean + half)


def proxy_guess(tokens: float, reasoning: bool, cap: int | None) -> Guess:
    """From another model's (or judge's) output: half to twice it; a reasoning model up to its cap."""
    low, high = PROXY_RANGE
    top = (cap if cap is not None else tokens * REASONING_FACTOR) if reasoning else tokens * high
    return Guess(tokens, tokens * low, top).capped(cap)


def reasons(model: ModelConfig) -> bool:
    return bool(model.reasoner or model.reasoning_effort or model.thinking_budget)


@dataclass
class Estimate:
    """One output file's estimate: calls, input and output tokens and cost as (mean, low, high)."""
    label: str
    model: ModelConfig
    price: Price | None
    tokenizer: Tokenizer
    source: str  # where the output tokens come from
    calls: int = 0
    input: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    output: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    job_costs: dict[int, float] = field(default_factory=dict)  # id(job) -> expected cost

    def add(self, job: Any, calls: Sequence[Call]) -> None:
        before = self.tokens(0)
        for call in calls:
            self.calls += 1
            for i, end in enumerate(("mean", "low", "high")):
                self.input[i] += call.known_input + call.earlier * getattr(call.output, end)
                self.output[i] += getattr(call.output, end)
        if self.price is not None:
            self.job_costs[id(job)] = self.price.rates.cost(self.tokens(0)) - self.price.rates.cost(before)

    def tokens(self, end: int) -> Tokens:
        return Tokens(round(self.input[end]), round(self.output[end]))

    def expected(self, job: Any) -> float:
        return self.job_costs.get(id(job), 0.0)

    def cost(self) -> tuple[float, float, float] | None:
        rates: Rates | None = self.price.rates if self.price is not None else None
        return None if rates is None else tuple(rates.cost(self.tokens(end)) for end in range(3))  # type: ignore

    def describe(self) -> str:
        tokenizer = self.tokenizer.encoding + ("" if self.tokenizer.exact else ", an approximation")
        cost = self.cost()
        shown = "cost unknown (no price)" if cost is None else f"{money(cost[0])} ({money(cost[1])} to {money(cost[2])})"
        return (f"estimate: {self.label}: {self.calls:,} calls to {self.model.name}, ~{self.input[0]:,.0f} input tokens "
                f"({tokenizer}) + ~{self.output[0]:,.0f} output tokens ({self.output[1]:,.0f} to {self.output[2]:,.0f}; "
                f"{self.source}), {shown}")

    def as_json(self) -> dict[str, Any]:
        cost = self.cost()
        return {"label": self.label, "model": self.model.name, "calls": self.calls, "tokenizer": self.tokenizer.encoding,
                "tokenizer_exact": self.tokenizer.exact, "output_source": self.source,
                **{f"{kind}_tokens_{end}": round(values[i]) for kind, values in (("input", self.input), ("output", self.output))
                   for i, end in enumerate(("expected", "low", "high"))},
                **{f"cost_usd_{end}": (cost[i] if cost else None) for i, end in enumerate(("expected", "low", "high"))}}


def total_line(estimates: Sequence[Estimate]) -> tuple[str, float | None]:
    """The estimate's total line and its expected cost (None when a price is unknown)."""
    costs = [e.cost() for e in estimates if e.calls]
    if any(cost is None for cost in costs):
        return "estimate: total: unknown (a model has no price)", None
    ends = [sum(cost[i] for cost in costs if cost) for i in range(3)]
    return f"estimate: total: {money(ends[0])} ({money(ends[1])} to {money(ends[2])})", ends[0]


def settle_estimate(script: str, args: Any, estimates: Sequence[Estimate]) -> None:
    """Before a run: the total printed (--dry-run, which also writes --report) and checked against --max-cost."""
    if not estimates:
        return
    line, expected = total_line(estimates)
    if args.dry_run:
        print(line)
        write_report(args.report, script, [], estimate=[e.as_json() for e in estimates])
    check_budget(args.max_cost, expected, line.removeprefix("estimate: total: "))


# --- what is on disk ---------------------------------------------------------------------------

def _records(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    if path.is_file():
        for lineno, record in iter_jsonl(path, skip_truncated_tail=True):
            yield record_id(record, f"{path}:{lineno}"), record


def answer_outputs(path: Path, encoding: str) -> dict[str, float]:
    """Per question of an answer file, the output tokens of one call: from `usage` (over its calls), else
    the answer text's tokens (reasoning is not in it)."""
    found = {}
    for qid, record in _records(path):
        if "choices" in record:  # v0.1: choices of turns
            choices = record.get("choices") or []
            texts = [t.get("content", "") for c in choices if isinstance(c, dict) for t in c.get("turns") or []
                     if isinstance(t, dict)]
        else:  # v2.0: the last message is the assistant's {answer, thought?}
            content = (record.get("messages") or [{}])[-1].get("content")
            texts = [content.get("answer", "") if isinstance(content, dict) else str(content or "")]
        tokens = Tokens.of(record.get("usage"))
        calls = max(len(texts), 1)
        if tokens is not None and tokens.completion_tokens:
            found[qid] = tokens.completion_tokens / calls
        elif texts:
            found[qid] = sum(count_tokens(t, encoding) for t in texts if isinstance(t, str)) / calls
    return found


def judgment_outputs(paths: Iterable[Path], enough: int) -> list[float]:
    """Output tokens per game of the judgment files, read until `enough` games: from `usage`, else the
    judgment text's tokens under stand_in()."""
    found: list[float] = []
    for path in paths:
        for _, record in _records(path):
            games = [g for g in record.get("games") or [] if isinstance(g, dict)]
            tokens = Tokens.of(record.get("usage"))
            if tokens is not None and tokens.completion_tokens and games:
                found += [tokens.completion_tokens / len(games)] * len(games)
                continue
            for game in games:
                judgment = game.get("judgment")
                text = judgment.get("answer", "") if isinstance(judgment, dict) else judgment
                if isinstance(text, str) and text:
                    found.append(count_tokens(text, stand_in()))
        if len(found) >= enough:
            break
    return found
