"""`show_result.py --full-stats`: what each model's answers and judgments cost, from the `usage` the
records keep (core.usage; gen_answer.py and gen_judgment.py write it, upstream's files have none).

Per model shown: the tokens its answer file's records report (input and output) and what they cost,
and what the judges' records of its judgments report and cost. A cost is shown only when every record
counted holds one (its price was known when it was written), else as unknown; a model whose records
carry no usage shows "-". `print_usage` prints the table after a blank line, or nothing when no
record carries usage.
Reads the answer and judgment files; writes nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from arena_hard.core.jsonl import scan_jsonl
from arena_hard.core.records import Bench
from arena_hard.core.usage import Tokens, money, recorded_cost
from arena_hard.scoring.score_inputs import judgment_files


@dataclass
class Spent:
    records: int = 0  # records that carry usage
    tokens: Tokens = field(default_factory=Tokens)
    cost: float | None = 0.0  # None once a record with usage has no cost

    def add(self, usage: object) -> None:
        tokens = Tokens.of(usage)
        if tokens is None:
            return
        self.records += 1
        self.tokens += tokens
        cost = recorded_cost(usage)
        self.cost = None if cost is None or self.cost is None else self.cost + cost

    def describe(self) -> str:
        if not self.records:
            return "-"
        cost = "cost unknown" if self.cost is None else money(self.cost)
        return f"{_short(self.tokens.prompt_tokens)} in + {_short(self.tokens.completion_tokens)} out, {cost}"


def _short(count: int) -> str:
    return f"{count / 1e6:.2f}M" if count >= 1e6 else f"{count / 1e3:.1f}k" if count >= 1e3 else str(count)


def answer_spent(path: Path) -> Spent:
    spent = Spent()
    if path.is_file():
        for _, record in scan_jsonl(path):
            spent.add(record.get("usage"))
    return spent


def judging_spent(bench: Bench, judges: Iterable[str], models: set[str]) -> dict[str, Spent]:
    """Per judged model, the usage of its judgment records by every judge."""
    spent: dict[str, Spent] = {}
    for judge in judges:
        for path in judgment_files(bench, judge):
            for _, record in scan_jsonl(path):
                model = record.get("model")
                if model in models:
                    spent.setdefault(model, Spent()).add(record.get("usage"))
    return spent


def usage_lines(bench: Bench, judges: Sequence[str], models: Sequence[str]) -> list[str]:
    """The table of each model's answer tokens and judging cost, or [] when no record carries usage."""
    answers = {model: answer_spent(bench.answer_file(model)) for model in models}
    judged = judging_spent(bench, judges, set(models))
    if not any(s.records for s in (*answers.values(), *judged.values())):
        return []
    width = max(len(model) for model in models)
    lines = [f"Cost from the records' usage ({', '.join(judges)} judging):",
             f"{'model':<{width}} | answers: tokens, cost | judgments: tokens, cost"]
    for model in models:
        lines.append(f"{model:<{width}} | {answers[model].describe()} | {judged.get(model, Spent()).describe()}")
    return lines


def print_usage(bench: Bench, judges: Sequence[str], models: Sequence[str]) -> None:
    lines = usage_lines(bench, judges, models)
    if lines:
        print("\n" + "\n".join(lines))
