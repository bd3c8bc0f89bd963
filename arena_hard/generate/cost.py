"""What a run costs: each model's price, the cost kept in each record, the bill, and the budget.

`Pricing` looks a model's price up once (models.prices) and says once when it is unknown. `priced`
adds `cost_usd` to a record's `usage` when the price is known. After a run, `print_bill` prints one
line per output file (calls, tokens, this run's cost) and the total, and `write_report` writes the
same, with the --dry-run estimate and the budget when there are, as JSON (--report FILE.json).
`Budget` is --max-cost: the run loop admits a job only while what was spent (the calls made so far,
at their model's price) plus what is in flight (the expected cost of the jobs started and not done)
plus the job's own expected cost stays within it; once a job is refused no other starts, what is in
flight finishes and is written, and the script exits 1 saying what was spent and what is left.
`check_budget` refuses a run whose estimate is over the budget before the first call. Writes only
the --report file."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.core.atomic_write import atomic_write_text
from arena_hard.core.usage import COST_KEY, Rates, Tokens, money
from arena_hard.models.client import Usage
from arena_hard.models.prices import Price, price_of, unknown_price_note


def add_cost_arguments(parser: Any) -> None:
    parser.add_argument("--max-cost", type=float, default=None, metavar="USD",
                        help="a budget in US dollars for this run: refuse to start when the estimate's expected "
                             "cost is over it, and stop starting new requests once what was spent plus what is in "
                             "flight reaches it (exit status 1; rerun to continue). Needs every model's price "
                             "(default: no budget)")
    parser.add_argument("--report", type=Path, default=None, metavar="FILE.json",
                        help="also write the bill (with --dry-run: the estimate) as JSON to this file "
                             "(default: none)")


def check_cost_arguments(args: Any) -> None:
    if args.max_cost is not None and not args.max_cost >= 0:
        raise UserError(f"--max-cost must be a number of US dollars >= 0, found {args.max_cost:g}")
    if args.report is not None and args.report.is_dir():
        raise UserError(f"--report {args.report}: is a folder; name a file such as cost.json")


class Pricing:
    """Each model's price, looked up once per (model, batch); an unknown price is said once. The
    entries named in `embedding_models` are priced as embedding models (input only)."""

    def __init__(self, embedding_models: Collection[str] = ()) -> None:
        self._prices: dict[tuple[str, bool], Price | None] = {}
        self._embedding = frozenset(embedding_models)
        self._said: set[str] = set()

    def _lookup(self, model: ModelConfig, batch: bool) -> Price | None:
        key = (model.name, batch)
        if key not in self._prices:
            self._prices[key] = price_of(model, batch, model.name in self._embedding)
        return self._prices[key]

    def __call__(self, model: ModelConfig, batch: bool = False) -> Price | None:
        price = self._lookup(model, batch)
        if price is None and model.name not in self._said:
            self._said.add(model.name)
            print(unknown_price_note(model), file=sys.stderr)
        return price

    def require(self, models: Sequence[ModelConfig], batch: Any) -> None:
        """--max-cost needs a price for every model (`batch(model)`: whether it runs in batch mode)."""
        for model in models:
            if self._lookup(model, batch(model)) is None:
                raise UserError(f"--max-cost needs the price of {model.name!r}, which is unknown: set "
                                f"`{model.name}.price: {{input: USD, output: USD}}` per million tokens in {model.source}")


def priced(record: dict[str, Any], price: Price | None) -> dict[str, Any]:
    """The record with the cost of its `usage` added (`cost_usd`), when its price is known."""
    tokens = Tokens.of(record.get("usage"))
    if price is not None and tokens is not None:
        record["usage"][COST_KEY] = round(price.rates.cost(tokens), 8)
    return record


@dataclass(frozen=True)
class BillLine:
    label: str
    model: ModelConfig
    calls: int
    tokens: Tokens
    price: Price | None
    batch: bool

    @property
    def cost(self) -> float | None:
        return self.price.rates.cost(self.tokens) if self.price is not None else None

    def describe(self) -> str:
        t = self.tokens
        cached = f" ({t.cached_tokens:,} cached)" if t.cached_tokens else ""
        reasoning = f" ({t.reasoning_tokens:,} reasoning)" if t.reasoning_tokens else ""
        return (f"{self.label}: {self.calls:,} calls to {self.model.name}{' (batch)' if self.batch else ''}, "
                f"{t.prompt_tokens:,} input{cached} + {t.completion_tokens:,} output{reasoning} tokens, "
                f"{money(self.cost)}")

    def as_json(self) -> dict[str, Any]:
        price = None if self.price is None else {**vars(self.price.rates), "source": self.price.source}
        return {"label": self.label, "model": self.model.name, "api_model": self.model.model_name, "batch": self.batch,
                "calls": self.calls, **self.tokens.record(), "cost_usd": self.cost, "price_per_million": price}


def bill_total(lines: Sequence[BillLine]) -> float | None:
    costs = [line.cost for line in lines if line.calls]
    return None if any(cost is None for cost in costs) else sum(c for c in costs if c is not None)


def print_bill(lines: Sequence[BillLine]) -> None:
    """One line per output file, then the total (unknown when a model that was called has no price)."""
    if not lines:
        return
    print("bill of this run:")
    for line in lines:
        print(f"  {line.describe()}")
    calls = sum(line.calls for line in lines)
    tokens = sum((line.tokens for line in lines), Tokens())
    unknown = sorted({line.model.name for line in lines if line.calls and line.cost is None})
    priced_lines = [line for line in lines if line.calls and line.cost is not None]
    total = money(bill_total(lines))
    if unknown:
        total += f" (no price for {', '.join(unknown)})"
        if priced_lines:
            total += f"; {money(sum(line.cost or 0.0 for line in priced_lines))} for the others"
    print(f"  total: {calls:,} calls, {tokens.prompt_tokens:,} input + {tokens.completion_tokens:,} output tokens, "
          f"{total}")


@dataclass
class Budget:
    """--max-cost across every output of a run (see the module docstring)."""
    limit: float
    meters: list[tuple[Usage, Rates]] = field(default_factory=list)  # each output's live usage and its rates
    reserved: float = 0.0
    stopped: bool = False
    held_back: int = 0  # jobs not started because of the budget

    def meter(self, usage: Usage, price: Price | None) -> None:
        if price is not None:
            self.meters.append((usage, price.rates))

    def spent(self) -> float:
        return sum(rates.cost(usage.tokens) for usage, rates in self.meters)

    def admit(self, expected: float) -> bool:
        if not self.stopped and self.spent() + self.reserved + expected > self.limit:
            self.stopped = True
        if self.stopped:
            self.held_back += 1
            return False
        self.reserved += expected
        return True

    def release(self, expected: float) -> None:
        self.reserved -= expected

    def summary(self) -> str:
        return (f"budget: --max-cost {money(self.limit)} reached: {money(self.spent())} spent, "
                f"{self.held_back:,} job(s) left undone; rerun with a new --max-cost to continue")


def check_budget(limit: float | None, expected: float | None, estimate: str) -> None:
    """Refuse a run whose estimate's expected cost is over --max-cost, before any call."""
    if limit is not None and expected is not None and expected > limit:
        raise UserError(f"--max-cost {money(limit)}: this run is expected to cost {estimate}, more than that; raise "
                        "--max-cost or narrow the run (--dry-run shows the estimate per model)")


def settle_bill(script: str, path: Path | None, outputs: Sequence[tuple[Any, Any, bool]],
                budget: Budget | None) -> bool:
    """After a run: the bill of `outputs` (each a run with `label`, `model` and `price`, its report, and
    whether it ran in batch mode) printed and written to --report; False when the budget stopped it."""
    lines = [BillLine(run.label, run.model, report.usage.calls, report.usage.tokens, run.price, batch)
             for run, report, batch in outputs]
    print_bill(lines)
    write_report(path, script, lines, budget=budget)
    if budget is not None and budget.stopped:
        print(budget.summary(), file=sys.stderr)
        return False
    return True


def write_report(path: Path | None, script: str, lines: Sequence[BillLine], *, estimate: Sequence[dict[str, Any]] = (),
                 budget: Budget | None = None) -> None:
    """The bill (or the dry run's estimate) as JSON."""
    if path is None:
        return
    report: dict[str, Any] = {"script": script, "outputs": [line.as_json() for line in lines],
                              "total_cost_usd": bill_total(lines) if lines else None}
    if estimate:
        report["estimate"] = list(estimate)
    if budget is not None:
        report["budget"] = {"max_cost_usd": budget.limit, "spent_usd": budget.spent(), "stopped": budget.stopped,
                            "jobs_left_undone": budget.held_back}
    try:
        atomic_write_text(path, json.dumps(report, indent=2) + "\n")
    except OSError as error:
        raise UserError(f"--report {path}: cannot be written ({error.strerror or error})") from None
