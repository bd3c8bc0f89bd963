"""The estimate (generate/estimate.py) of an answer run and of a judgment run, call by call.

`answer_estimate`: each question's turns, once per choice; a turn resends the question's earlier
turns and the answers to them. Output per call from the model's earlier answers in its answer file,
else from the bench baseline's answer to the question (the category's baseline for v2.0), else half
of max_tokens (0 to max_tokens). `judgment_estimate`: each game not kept from an earlier run, its
opening messages known in full. Output per game from the judge's earlier judgments (of the models
judged, then of the others in its folder), else the bench version's default. Reads the answer and
judgment files named."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Collection, Sequence

from arena_hard.core.bench_version import BenchVersion
from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.records import Bench, Question
from arena_hard.generate.estimate import (DEFAULT_JUDGMENT_TOKENS, MIN_OWN_SAMPLE, Call, Estimate, Guess,
                                          answer_outputs, judgment_outputs, proxy_guess, reasons, sample_guess,
                                          tokenizer_for)
from arena_hard.models.prices import Price

ENOUGH_GAMES = 500  # earlier judge games read for the estimate, at most (files are read whole)


def baseline_outputs(bench: Bench, version: BenchVersion, questions: Sequence[Question]) -> dict[str, tuple[float, str]]:
    """Per question, its baseline's output tokens and the baseline's name, where the baseline answered it."""
    found: dict[str, tuple[float, str]] = {}
    per_baseline: dict[str, dict[str, float]] = {}
    for question in questions:
        baseline = version.baseline_for(question.category)
        if baseline not in per_baseline:
            per_baseline[baseline] = answer_outputs(bench.answer_file(baseline), version.token_encoding)
        if question.question_id in per_baseline[baseline]:
            found[question.question_id] = (per_baseline[baseline][question.question_id], baseline)
    return found


def answer_estimate(label: str, model: ModelConfig, todo: Sequence[Any], num_choices: int, own_file: Path,
                    baselines: dict[str, tuple[float, str]], encoding: str, price: Price | None) -> Estimate:
    """`todo`: jobs with `question` and `max_tokens`; `own_file`: the model's answer file."""
    tokenizer = tokenizer_for(model)
    own = list(answer_outputs(own_file, encoding).values())
    calls_total = num_choices * sum(len(job.question.turns) for job in todo)
    mine = sample_guess(own, calls_total) if len(own) >= MIN_OWN_SAMPLE else None
    used = sorted({baselines[job.question.question_id][1] for job in todo if job.question.question_id in baselines})
    missing = sum(job.question.question_id not in baselines for job in todo)
    if mine is not None:
        source = f"its {len(own)} earlier answers"
    else:
        source = f"the baseline {', '.join(used)}'s answers to the same questions" if used else ""
        if missing:
            source += ("; " if source else "") + f"half of max_tokens for {missing} question(s) the baseline lacks"
    estimate = Estimate(label, model, price, tokenizer, source)
    system = [model.system_prompt] if model.system_prompt else []
    for job in todo:
        if mine is not None:
            guess = mine.capped(job.max_tokens)
        elif job.question.question_id in baselines:
            guess = proxy_guess(baselines[job.question.question_id][0], reasons(model), job.max_tokens)
        else:
            guess = Guess(job.max_tokens / 2, 0.0, job.max_tokens)
        turns = list(job.question.turns)
        calls = [Call(tokenizer.messages(system + turns[:k + 1]), k, guess) for k in range(len(turns))]
        estimate.add(job, calls * num_choices)
    return estimate


def judge_sample(judge_dir: Path, outputs: Sequence[Path]) -> list[float]:
    """Output tokens per game of the judge's earlier judgments: of the models judged first."""
    others = sorted(p for p in judge_dir.glob("*.jsonl") if p not in outputs) if judge_dir.is_dir() else []
    return judgment_outputs([*outputs, *others], ENOUGH_GAMES)


def judgment_estimate(label: str, judge: ModelConfig, todo: Sequence[Any],
                      conversations: Callable[[Any], list[list[dict[str, str]]]], kept: Collection[tuple[str, int]],
                      sample: Sequence[float], version: BenchVersion, max_tokens: int | None,
                      price: Price | None) -> Estimate:
    """`conversations(job)`: each game's opening messages; `kept`: (question id, game) played earlier;
    `sample`: output tokens per game of the judge's earlier judgments."""
    tokenizer = tokenizer_for(judge)
    games = [(job, [c for n, c in enumerate(conversations(job), 1) if (job.question.question_id, n) not in kept])
             for job in todo]
    calls_total = sum(len(c) for _, c in games)
    if len(sample) >= MIN_OWN_SAMPLE:
        guess, source = sample_guess(sample, calls_total).capped(max_tokens), f"{len(sample)} earlier games of the judge"
    else:
        default = DEFAULT_JUDGMENT_TOKENS[version.version]
        guess = proxy_guess(default, reasons(judge), max_tokens)
        source = f"{version.version}'s default of {default} per game"
    estimate = Estimate(label, judge, price, tokenizer, source)
    for job, played in games:
        estimate.add(job, [Call(tokenizer.messages(m["content"] for m in messages), 0, guess) for messages in played])
    return estimate
