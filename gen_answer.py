"""Ask each model in the answer config every bench question; write its answers.

Reads --setting-file (config/gen_answer_config.yaml), --endpoint-file (config/api_config.yaml) and
data/<bench>/question.jsonl; writes data/<bench>/model_answer/<model>.jsonl in the bench's record
format (v0.1; upstream v2.0's for a v2.0 bench, see arena_hard/generate/answers_v2.py), one line per
question as each answer arrives, then sorted. All models answer at once, each through its own
endpoints and `parallel` (--sequential: one after the other). Questions already answered are skipped,
so a rerun after a crash or a failure only asks what is missing. Each answer file is locked while
written (a second run on it stops, or with --wait waits). At the end, the bill: calls, tokens and cost
per model and in total (generate/cost.py; --report FILE.json); --dry-run adds the estimate of the cost
(generate/estimate.py), and --max-cost refuses a run expected to cost more and stops starting requests
once it is reached. Exit status 0 when every question of every model has an answer (and after a
--cancel), 1 when some failed (listed) or the budget stopped the run, 2 on a config or data error.
A `local_engine: true` model's SGLang/vLLM servers are started for its turn and stopped after it
(arena_hard/generate/local_engine.py), their logs in data/<bench>/model_answer/.engine/."""
from __future__ import annotations

import dataclasses
import functools
import sys
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Sequence

from arena_hard.core.bench_version import version_for
from arena_hard.core.config import AnswerSettings, check_category_temperature, load_answer_settings
from arena_hard.core.endpoints import ModelConfig, check_temperature, load_model_configs
from arena_hard.core.errors import ArgumentParser, UserError, note, run_main
from arena_hard.core.output_lock import lock_outputs
from arena_hard.generate import answers_v2, local_engine
from arena_hard.generate.batch.checks import check_batch_models, refuse_open_batches
from arena_hard.generate.batch.runner import (BatchTask, add_batch_arguments, batch_options, describe_batches,
                                              run_batches, uses_batch)
from arena_hard.generate.cost import Budget, Pricing, add_cost_arguments, check_cost_arguments, settle_bill
from arena_hard.generate.estimate import settle_estimate
from arena_hard.generate.estimate_plans import answer_estimate, baseline_outputs
from arena_hard.generate.pipeline import ModelRun, open_output
from arena_hard.generate.resume import AnswerCheck
from arena_hard.core.records import Bench, Question, load_questions
from arena_hard.core.textstats import conv_metadata, count_tokens
from arena_hard.core.tokens import check_encoding
from arena_hard.core.usage import Tokens, total
from utils import ChatRequest, ModelClient, check_credentials

TIKTOKEN_NAMES = ("cl100k_base", "tiktoken")
TOKENIZER_MARGIN = {"tiktoken": 100, "huggingface": 300}  # upstream's safety margins


@dataclasses.dataclass(frozen=True)
class AnswerJob:
    question: Question
    temperature: float
    max_tokens: int


def parse_args(argv: Sequence[str] | None) -> Any:
    parser = ArgumentParser(prog="gen_answer.py", description=__doc__.splitlines()[0])
    parser.add_argument("--setting-file", "--config-file", dest="setting_file", default="config/gen_answer_config.yaml",
                        help="the answer config: bench_name, model_list, ... (--config-file is upstream v2.0's "
                             "name for it; default: %(default)s)")
    parser.add_argument("--endpoint-file", default="config/api_config.yaml",
                        help="how to reach each model: api_config.yaml, one entry per model name "
                             "(default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would be asked (questions, cached, calls, prompt tokens); call nothing")
    parser.add_argument("--sequential", action="store_true",
                        help="answer with one model after the other, in model_list order (for models that share "
                             "one server and must not overlap); by default every model answers at once")
    parser.add_argument("--wait", action="store_true",
                        help="if another run is writing a model's answer file, wait for it to end, then ask only "
                             "what is still missing (by default: stop, naming the file and the other process)")
    add_batch_arguments(parser)
    add_cost_arguments(parser)
    return parser.parse_args(argv)


def prompt_counter(model: ModelConfig) -> tuple[Callable[[str], int], int] | None:
    """The model's `tokenizer` as a token counter and upstream's margin, or None when not configured."""
    if model.tokenizer is None:
        return None
    if model.tokenizer in TIKTOKEN_NAMES:
        return count_tokens, TOKENIZER_MARGIN["tiktoken"]
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise UserError(f"model {model.name!r}: tokenizer {model.tokenizer!r} needs the transformers package: "
                        "pip install -r requirements-optional.txt (or use tokenizer: cl100k_base)") from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(model.tokenizer)
    except (OSError, ValueError) as error:
        raise UserError(f"{model.source}: `{model.name}.tokenizer` {model.tokenizer!r} cannot be loaded "
                        f"({' '.join(str(error).split())[:200]}); use cl100k_base or a Hugging Face tokenizer name") from None
    return (lambda text: len(tokenizer(text)["input_ids"])), TOKENIZER_MARGIN["huggingface"]


def plan_jobs(questions: Sequence[Question], settings: AnswerSettings, model: ModelConfig,
              setting_file: str) -> list[AnswerJob]:
    """Temperature and max_tokens for each question: a category's temperature, then the model's, then
    the config's (each checked against the provider's range); with a `tokenizer`, max_tokens is what the
    prompt leaves of the budget, as upstream."""
    counter = prompt_counter(model)
    budget = model.max_tokens or settings.max_tokens
    if model.temperature is not None:
        default_temperature, where = model.temperature, f"{model.source}: `{model.name}.temperature`"
    else:
        default_temperature, where = settings.temperature, f"{setting_file}: `temperature`"
    categories = {question.category for question in questions}
    check_temperature(model, default_temperature, where)
    for category, temperature in settings.category_temperature.items():
        if category in categories:
            check_temperature(model, temperature, f"{setting_file}: `category_temperature.{category}`")
    jobs = []
    for question in questions:
        max_tokens = budget
        if counter is not None:
            count, margin = counter
            max_tokens = budget - count(question.turns[0]) - margin
            if max_tokens < 1:
                raise UserError(f"model {model.name!r}: question {question.question_id}'s prompt leaves no room "
                                f"for an answer under max_tokens {budget}; raise max_tokens")
        temperature = settings.category_temperature.get(question.category, default_temperature)
        jobs.append(AnswerJob(question, temperature, max_tokens))
    return jobs


def answer_job(client: ModelClient, num_choices: int) -> Callable[[AnswerJob], Any]:
    model = client.config

    async def one_choice(job: AnswerJob, index: int) -> tuple[dict[str, Any], Tokens]:
        messages: list[dict[str, str]] = [{"role": "system", "content": model.system_prompt}] if model.system_prompt else []
        turns, tokens = [], Tokens()
        for user_turn in job.question.turns:
            messages.append({"role": "user", "content": user_turn})
            result = await client.chat(ChatRequest(tuple(messages), job.temperature, job.max_tokens))
            messages.append({"role": "assistant", "content": result.content})
            turn = {"content": result.content, "token_len": count_tokens(result.content)}
            if result.reasoning:
                turn["reasoning"] = result.reasoning
            turns.append(turn)
            tokens += result.tokens
        return {"index": index, "turns": turns}, tokens

    async def run(job: AnswerJob) -> dict[str, Any]:
        # One choice after the other: if one fails for good, the rest are never paid for.
        outcomes = [await one_choice(job, i) for i in range(num_choices)]
        choices = [choice for choice, _ in outcomes]
        last_turn = choices[0]["turns"][-1]
        return {
            "question_id": job.question.question_id,
            "answer_id": uuid.uuid4().hex,
            "model_id": model.name,
            "choices": choices,
            "tstamp": time.time(),
            "conv_metadata": conv_metadata(last_turn["content"], last_turn["token_len"]),
            "usage": total(tokens for _, tokens in outcomes).record(),
        }

    return run


def describe_plan(name: str, total: int, todo: Sequence[AnswerJob], model: ModelConfig, num_choices: int) -> str:
    system = count_tokens(model.system_prompt) if model.system_prompt else 0
    calls = sum(len(job.question.turns) for job in todo) * num_choices
    # Each turn resends the conversation so far; the answers are not known yet, so only the user turns count.
    tokens = num_choices * sum(sum(system + sum(count_tokens(t) for t in job.question.turns[:k])
                                   for k in range(1, len(job.question.turns) + 1)) for job in todo)
    return (f"{name}: {total} questions, {total - len(todo)} already answered, {len(todo)} to answer, "
            f"{calls} calls, ~{tokens:,} prompt tokens (cl100k estimate, answers of earlier turns not counted)")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    check_cost_arguments(args)
    settings = load_answer_settings(Path(args.setting_file))
    models = load_model_configs(Path(args.endpoint_file), settings.model_list)
    bench = Bench(settings.bench_name)
    questions = load_questions(bench.question_file)
    check_category_temperature(Path(args.setting_file), settings, {q.category for q in questions}, bench.name)
    check_batch_models([model for model in models.values() if uses_batch(args, model)])
    for model in models.values():
        local_engine.check(model)
        if not args.dry_run:
            check_credentials(model)
    # every model's inputs are checked before any model is asked anything
    version = version_for(settings.bench_name)
    jobs = {name: plan_jobs(questions, settings, models[name], args.setting_file) for name in settings.model_list}
    outputs = {name: bench.answer_file(name) for name in settings.model_list}
    if version.record_format == "v2":
        make_job, calls_per_turn = functools.partial(answers_v2.answer_job, encoding=version.token_encoding), 1
    else:
        make_job = functools.partial(answer_job, num_choices=settings.num_choices)
        calls_per_turn = settings.num_choices
    pricing, batched = Pricing(), (lambda model: uses_batch(args, model))
    if args.max_cost is not None:
        pricing.require(list(models.values()), batched)
    estimating = args.dry_run or args.max_cost is not None
    baselines = baseline_outputs(bench, version, questions) if estimating else {}
    with nullcontext() if args.dry_run else lock_outputs(list(outputs.values()), args.wait):
        # and so is what writing a record needs (its token counts' encoding), once the outputs are ours, so
        # that no paid answer waits on a missing file
        check_encoding(version.token_encoding)
        refuse_open_batches([(name, output, models[name] if batched(models[name]) else None)
                             for name, output in outputs.items()])
        runs, batch_tasks, estimates = [], [], []
        checks = {name: AnswerCheck(output, questions, settings.num_choices, version.version)
                  for name, output in outputs.items()}
        done_by_model = {name: open_output(output, checks[name], repair=not args.dry_run)
                         for name, output in outputs.items()}
        for name, output in outputs.items():
            done = done_by_model[name]
            checks[name].report()
            todo = [job for job in jobs[name] if job.question.question_id not in done]
            if args.dry_run:
                print(describe_plan(name, len(questions), todo, models[name], settings.num_choices))
                if models[name].engine is not None and todo:
                    print(f"{name}: would start {models[name].engine.replicas} {models[name].engine.engine} "
                          f"server(s) for {models[name].model_name}")
            else:
                print(f"{name}: {len(questions) - len(todo)} of {len(questions)} already answered; output to {output}")
                extra = len(set(done) - {question.question_id for question in questions})
                if extra:
                    note(f"{output}: {extra} answer(s) for questions not in {bench.question_file}; kept in the "
                         "file, left out of this run and of the leaderboard")
            model, batch = models[name], batched(models[name])
            if estimating:
                estimates.append(answer_estimate(name, model, todo, calls_per_turn, output, baselines,
                                                 version.token_encoding, pricing(model, batch)))
                if args.dry_run:
                    print(estimates[-1].describe())
            if batch:
                batch_tasks.append(BatchTask(model, todo, make_job, output, name, "answered", pricing(model, True)))
            elif not args.dry_run:
                expect = estimates[-1].expected if estimates else ModelRun.expect
                runs.append(ModelRun(name, model, todo, make_job, output, "answered", pricing(model), expect))
        if batch_tasks and args.dry_run:
            print("\n".join(describe_batches(batch_tasks)))
        settle_estimate("gen_answer.py", args, estimates)
        if args.dry_run:
            return 0
        budget = Budget(args.max_cost) if args.max_cost is not None else None
        reports = local_engine.run_in_turns(runs, args.sequential, bench.answer_dir / ".engine", budget)
        batch_reports = run_batches(batch_tasks, batch_options(args)) if batch_tasks else {}
        within_budget = settle_bill("gen_answer.py", args.report,
                                    [(run, report, False) for run, report in zip(runs, reports)]
                                    + [(task, batch_reports[task.label], True) for task in batch_tasks], budget)
        reports += batch_reports.values()
    if not within_budget:
        return 1
    if any(report.failures for report in reports):
        print("some answers are missing (listed above); rerun to ask only for those", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_main(main)
