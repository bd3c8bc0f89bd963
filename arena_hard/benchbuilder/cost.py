"""What build_bench.py's calls cost: each stage's estimate before its calls, --max-cost across the
stages, and the bill of the run (generate/cost.py's bill and report, one line per stage that called).

A stage's estimate (generate/estimate.py's `Estimate`) counts its requests' input tokens with the
model's tokenizer; embeddings have no output; a label or a topic name is expected to be as long as
the model's earlier ones in the cache (their `usage`, else their text), else a stated default (a label
is one short list of criterion numbers, a name at most five words), up to the request's max_tokens.
In a dry run the first stage that needs calls is estimated exactly and the stages after it, whose
prompts depend on its results, as a ceiling: every prompt (every possible topic) at the high end.
--max-cost: the run is refused (exit 2) when the first stage that calls is expected to cost more than
the budget; from then on one Budget spans the stages, so a later stage stops starting calls once the
budget is reached (exit 1; the caches keep what was paid, and a rerun with a new budget continues).
Writes only the --report file."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from arena_hard.benchbuilder import calls
from arena_hard.benchbuilder.criteria import label_request
from arena_hard.benchbuilder.topic_names import CENTRAL_PROMPTS, KEYWORDS, name_job
from arena_hard.core.bench_builder_criteria import Criteria
from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.tokens import count_tokens
from arena_hard.core.usage import Tokens, money
from arena_hard.generate.cost import Budget, Pricing, check_budget, settle_bill, write_report
from arena_hard.generate.estimate import (MIN_OWN_SAMPLE, Call, Estimate, Guess, sample_guess, stand_in, tokenizer_for,
                                          total_line)
from arena_hard.generate.pipeline import RunReport

SCRIPT = "build_bench.py"
LABEL_OUTPUT = Guess(9, 3, 32)  # "[1]" is 3 tokens and all seven criteria 19; up to the labeller's max_tokens
NAME_OUTPUT = Guess(8, 2, 32)  # at most five words, as asked; up to the namer's max_tokens
NO_OUTPUT = Guess(0, 0, 0)
EARLIER_SAMPLE = 500  # earlier replies read for the output guess, at most


def earlier_outputs(records: Iterable[dict[str, Any]]) -> list[float]:
    """Output tokens of earlier replies in a cache: from their `usage`, else their text's tokens (stand_in())."""
    found: list[float] = []
    for record in records:
        tokens = Tokens.of(record.get("usage"))
        if tokens is not None:
            found.append(tokens.completion_tokens)
        elif isinstance(record.get("answer"), str):
            found.append(count_tokens(record["answer"], stand_in()))
        if len(found) >= EARLIER_SAMPLE:
            break
    return found


@dataclass
class Costs:
    """The run's pricing, its budget, its stages' estimates (dry run) and what it paid (the bill)."""
    pricing: Pricing
    dry_run: bool
    limit: float | None = None
    report_path: Path | None = None
    budget: Budget | None = field(init=False)
    estimates: list[Estimate] = field(default_factory=list)
    ceilings: list[Estimate] = field(default_factory=list)
    bill: list[tuple[Estimate, RunReport, bool]] = field(default_factory=list)  # each stage's calls

    def __post_init__(self) -> None:
        self.budget = Budget(self.limit) if self.limit is not None and not self.dry_run else None
        self.estimating = self.dry_run or self.limit is not None  # else an estimate only carries the price

    def embedding(self, label: str, model: ModelConfig, requests: Sequence[tuple[Any, ...]]) -> Estimate:
        """The estimate of embedding `requests` (tuples of prompts with `text`)."""
        tokenizer = tokenizer_for(model)
        estimate = Estimate(label, model, self.pricing(model), tokenizer, "embeddings have no output")
        for request in requests if self.estimating else ():
            estimate.add(request, [Call(sum(tokenizer.count(prompt.text) for prompt in request), 0, NO_OUTPUT)])
        return estimate

    def chat(self, label: str, model: ModelConfig, batch: bool, jobs: Sequence[Any], earlier: Sequence[float],
             default: Guess, what: str) -> Estimate:
        """The estimate of `jobs` (with a ChatRequest `request`); `earlier`: output tokens of the model's
        earlier replies of the kind; `default`: the guess without them, said as `what`."""
        cap = max((job.request.max_tokens for job in jobs), default=None)
        if len(earlier) >= MIN_OWN_SAMPLE:
            guess, source = sample_guess(earlier, len(jobs)).capped(cap), f"its {len(earlier)} earlier replies"
        else:
            guess, source = default.capped(cap), f"{what}: ~{default.mean:g} tokens, {default.low:g} to {default.high:g}"
        tokenizer = tokenizer_for(model)
        estimate = Estimate(label, model, self.pricing(model, batch), tokenizer, source)
        for job in jobs if self.estimating else ():
            estimate.add(job, [Call(tokenizer.messages(m["content"] for m in job.request.messages), 0, guess)])
        return estimate

    def before(self, estimate: Estimate) -> None:
        """Before a stage's calls: its estimate (printed in a dry run) and, when nothing was paid yet,
        the check that it fits --max-cost."""
        if self.dry_run:
            print(estimate.describe())
            self.estimates.append(estimate)
        if not self.bill:
            cost = estimate.cost()
            check_budget(self.limit, cost[0] if cost else None,
                         f"{money(cost[0])} ({money(cost[1])} to {money(cost[2])}) for {estimate.label}" if cost else "")

    def _ceiling(self, estimate: Estimate, what: str) -> None:
        """A dry run's later stage: `what` it would do, at most, and what that costs at most."""
        cost = estimate.cost()
        print(f"{what}, at most {money(cost[2]) if cost else 'an unknown cost (no price)'}")
        self.ceilings.append(estimate)

    def label_ceiling(self, number: int, model: ModelConfig, batch: bool, criteria: Criteria,
                      prompts: Sequence[Any]) -> None:
        """A dry run's filter stage `number` whose prompts are not known yet: at most `prompts`."""
        jobs = [calls.job(prompt.key, label_request(criteria, prompt.text)) for prompt in prompts]
        self._ceiling(self.chat(f"stage {number} ({model.name})", model, batch, jobs, (), LABEL_OUTPUT,
                                "a list of criteria"),
                      f"stage {number}: would label at most {len(prompts):,} prompts (those the stages before keep) "
                      f"with {model.name}")

    def name_ceiling(self, model: ModelConfig, batch: bool, prompts: Sequence[Any], min_topic_size: int) -> None:
        """A dry run before the topics are known: at most one topic per `min_topic_size` prompts, each
        call showing the longest prompts."""
        most = len(prompts) // min_topic_size
        longest = sorted((prompt.text for prompt in prompts), key=len, reverse=True)[:CENTRAL_PROMPTS]
        call = name_job(model.model_name, longest, ["keyword"] * KEYWORDS)
        self._ceiling(self.chat(f"names ({model.name})", model, batch, [call] * most, (), NAME_OUTPUT, "a short name"),
                      f"names: would name each topic with {model.name} (one call per topic, at most {most:,} topics)")

    def paid(self, estimate: Estimate, report: RunReport, batch: bool = False) -> None:
        """A stage's calls were made: `estimate` names them (label, model, price) on the bill."""
        self.bill.append((estimate, report, batch))

    def settle(self) -> bool:
        """After the run: a dry run's total; a run's bill (also written to --report). False when the
        budget stopped the run."""
        if not self.dry_run:
            return settle_bill(SCRIPT, self.report_path, self.bill, self.budget)
        if self.estimates:
            line, _ = total_line(self.estimates)
            ceilings = [e.cost() for e in self.ceilings]
            if ceilings:
                more = ("unknown (a model has no price)" if any(c is None for c in ceilings)
                        else money(sum(c[2] for c in ceilings if c)))
                line += f" for the calls known now; the stages after them at most {more} more"
            print(line)
        write_report(self.report_path, SCRIPT, [], estimate=[e.as_json() for e in self.estimates]
                     + [{**e.as_json(), "at_most": True} for e in self.ceilings])
        return True
