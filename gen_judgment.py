"""Have the judge compare each model's answers with the baseline's, twice, swapping positions.

Reads --setting-file (config/judge_config.yaml), --endpoint-file (config/api_config.yaml),
data/<bench>/question.jsonl and data/<bench>/model_answer/*.jsonl (and reference_answer/ with
`reference: True`); writes data/<bench>/model_judgment/<judge>/<model>.jsonl in the v0.1 record format
plus the `baseline` judged against, one line per question as each judgment completes, then sorted.
Every model's judgments go through the judge at once, taking turns, within the judge's `parallel`.
Judgments already made are skipped. Each judgment file is locked while written (a second run on it
stops, or with --wait waits). Upstream v2.0's judge config (no `system_prompt` key, e.g.
config/arena-hard-v2.0.yaml) is judged as upstream v2.0 judges, into v2 records: per-category baseline
and system prompt (arena_hard/generate/judge_plan_v2.py, judging_v2.py); v0.1 in judge_plan_v01.py,
judging_v01.py.
--category judges only the questions of those categories. Each finished game is kept on disk at once
(arena_hard/generate/game_log.py: `<judge>/.games/<model>.jsonl`, until its record is written), so an
interrupted or failed judgment never pays for a game twice. A record with no verdict in any game
counts as not judged (arena_hard/generate/judged.py): the run says how many, and the next run judges
it again. A `local_engine: true` judge's servers run while it judges (arena_hard/generate/local_engine.py).
At the end, the bill: the judge's calls, tokens and cost per model judged and in total
(generate/cost.py; --report FILE.json); --dry-run adds the estimate of the cost, and --max-cost refuses
a run expected to cost more and stops starting judgments once it is reached. Exit status 0 when every
requested judgment exists with all its games and a verdict (and after a --cancel), 1 when some are
missing (listed) or the budget stopped the run, 2 on a config or data error."""
from __future__ import annotations

import dataclasses
import functools
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from arena_hard.core.bench_version import BenchVersion, version_for
from arena_hard.core.config import JudgeSettings, load_judge_settings
from arena_hard.core.config_file import load_yaml
from arena_hard.core.endpoints import ModelConfig, check_temperature, load_model_configs
from arena_hard.core.errors import ArgumentParser, UserError, note, run_main
from arena_hard.core.judge_config_v2 import V2JudgeSettings, is_v2_judge_config, load_v2_judge_settings
from arena_hard.core.names import unique
from arena_hard.core.output_lock import lock_outputs
from arena_hard.core.records import Bench, Question, load_answers, load_questions
from arena_hard.generate import judge_plan_v2, judging_v01, judging_v2, local_engine
from arena_hard.generate.batch.checks import check_batch_models, refuse_open_batches
from arena_hard.generate.batch.runner import (BatchTask, add_batch_arguments, batch_options, describe_batches,
                                              run_batches, uses_batch)
from arena_hard.generate.game_log import GameLog
from arena_hard.generate.judge_plan_v01 import check_template_fields, load_reference_answers, plan_jobs
from arena_hard.generate.judged import JudgedCheck
from arena_hard.generate.cost import Budget, Pricing, add_cost_arguments, check_cost_arguments, settle_bill
from arena_hard.generate.estimate import settle_estimate
from arena_hard.generate.estimate_plans import judge_sample, judgment_estimate
from arena_hard.generate.judging_status import ModelPlan, announce, report_without_verdict, status_line
from arena_hard.generate.pipeline import ModelRun, finish_output, open_output, run_models
from arena_hard.scoring.judgment_records import combine_judges
from arena_hard.scoring.judge_consistency import judge_consistency
from arena_hard.scoring.verdict_labels import NO_VERDICT, label_code, read_verdicts, v2_verdict_code
from utils import check_credentials

Settings = TypeVar("Settings", JudgeSettings, V2JudgeSettings)


def parse_args(argv: Sequence[str] | None) -> Any:
    parser = ArgumentParser(prog="gen_judgment.py", description=__doc__.splitlines()[0])
    parser.add_argument("--setting-file", default="config/judge_config.yaml",
                        help="the judge config: v0.1's judge_config.yaml, or upstream v2.0's format such as "
                             "config/arena-hard-v2.0.yaml (default: %(default)s)")
    parser.add_argument("--endpoint-file", default="config/api_config.yaml",
                        help="how to reach each model: api_config.yaml, one entry per model name "
                             "(default: %(default)s)")
    parser.add_argument("--judge-model", help="judge with this model instead of the config's judge_model")
    parser.add_argument("--model-list", nargs="+", metavar="MODEL", help="judge these models instead of the config's model_list")
    parser.add_argument("--category", nargs="+", metavar="C",
                        help="judge only the questions of these categories, e.g. `--category hard_prompt` to judge "
                             "v2.0 without creative_writing's baseline answers (default: every question)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the judge calls to make, cached judgments and estimated prompt tokens; call nothing")
    parser.add_argument("--wait", action="store_true",
                        help="if another run is writing a judgment file, wait for it to end, then judge only what "
                             "is still missing (by default: stop, naming the file and the other process)")
    add_batch_arguments(parser)
    add_cost_arguments(parser)
    return parser.parse_args(argv)


def verdict_test(code_of: Callable[[Any], int]) -> Callable[[Any], bool]:
    """Whether a game's score is a verdict label, read as `code_of` reads labels."""
    return lambda score: code_of(score) != NO_VERDICT


def print_verdict_stats(model: str, judgment_file: Path, code_of: Callable[[Any], int]) -> None:
    """Labels per game, games without a verdict, and agreement across the swap, over the whole file."""
    records, _ = combine_judges([[read_verdicts(judgment_file, code_of)]])
    for entry in judge_consistency(records):
        print(f"{entry.model}: {entry.describe_games()}")


def with_flags(args: Any, settings: Settings) -> Settings:
    """The settings with --judge-model and --model-list applied; an empty model list is an error."""
    if args.judge_model:
        settings = dataclasses.replace(settings, judge_model=args.judge_model)
    if args.model_list:
        settings = dataclasses.replace(settings, model_list=unique(args.model_list, "--model-list"))
    if getattr(settings, "baseline", False) and settings.baseline_model in settings.model_list:  # v0.1's one baseline
        note(f"the baseline {settings.baseline_model!r} is in the model list; it is not judged against "
             "itself")
        settings = dataclasses.replace(settings, model_list=tuple(m for m in settings.model_list
                                                                  if m != settings.baseline_model))
    if not settings.model_list:
        raise UserError(f"{args.setting_file}: `model_list` is empty; name the models to judge (or use --model-list)")
    return settings


def of_categories(questions: list[Question], categories: Sequence[str] | None, where: Path) -> list[Question]:
    """The questions of `categories` (all without); a category no question has is an error listing those present."""
    if not categories:
        return questions
    wanted = unique(categories, "--category")
    present = sorted({question.category for question in questions})
    for category in wanted:
        if category not in present:
            listed = ", ".join(c for c in present if c) or "none: its questions have no `category`"
            raise UserError(f"--category {category!r}: no question in {where} has this category; its categories: "
                            f"{listed}")
    return [question for question in questions if question.category in wanted]


def judge_and_questions(args: Any, settings: Any) -> tuple[ModelConfig, Bench, list[Question]]:
    judge = load_model_configs(Path(args.endpoint_file), (settings.judge_model,))[settings.judge_model]
    check_temperature(judge, settings.temperature, f"{args.setting_file}: `temperature`")
    bench = Bench(settings.bench_name)
    questions = of_categories(load_questions(bench.question_file), args.category, bench.question_file)
    check_batch_models([judge] if uses_batch(args, judge) else [])
    local_engine.check(judge)
    if not args.dry_run:
        check_credentials(judge)
    return judge, bench, questions


@dataclass(frozen=True)
class Judging:
    """What a judge config asks, either version: the judge, each model's plan, and the version's pieces."""
    judge: ModelConfig
    plans: list[ModelPlan]
    describe: Callable[..., str]  # (model, total, todo, skipped, kept games) -> the dry run's line
    judge_job: Callable[[Any, GameLog, bool], Callable]  # (client, game log, live) -> the job of a question
    game_keys: Callable[[Any], list[str]]  # a job -> its games' keys in the game log
    code_of: Callable[[Any], int]  # a game's score -> its verdict code
    conversations: Callable[[Any], list[list[dict[str, str]]]]  # a job -> each game's opening messages
    version: BenchVersion
    max_tokens: int | None  # of a judge call


def prepare_v2(args: Any, data: dict[str, Any]) -> Judging:
    settings = with_flags(args, load_v2_judge_settings(Path(args.setting_file), data))
    judge, bench, questions = judge_and_questions(args, settings)
    plans = []
    for entry in judge_plan_v2.plan(settings, questions):
        output = bench.judgment_file(settings.judge_model, entry.model)
        check = JudgedCheck(output, 2, verdict_test(v2_verdict_code))
        plans.append(ModelPlan(entry.model, entry.jobs, entry.missing, output, check))
    return Judging(judge, plans, functools.partial(judge_plan_v2.describe_plan, settings=settings),
                   lambda client, log, live: judging_v2.judge_job(client, settings, log, live),
                   lambda job: judging_v2.game_keys(job, settings, judge), v2_verdict_code,
                   lambda job: judging_v2.game_messages(job, settings), version_for(bench.name), settings.max_tokens)


def prepare_v01(args: Any) -> Judging:
    settings = with_flags(args, load_judge_settings(Path(args.setting_file)))
    judge, bench, questions = judge_and_questions(args, settings)
    baseline = None
    if settings.baseline:
        path = bench.answer_file(settings.baseline_model)
        official = version_for(bench.name).default_baseline
        if not path.exists():
            raise UserError(f"{path}: the baseline {settings.baseline_model!r} has no answers; run "
                            f"`python download_data.py` for {official}'s, or gen_answer.py for your baseline")
        baseline = load_answers(path)
        if not baseline:
            raise UserError(f"{path}: the baseline {settings.baseline_model!r} has no answers in this file; "
                            f"run gen_answer.py for it (or `python download_data.py` for {official}'s)")
    references = load_reference_answers(bench, settings)
    games_per_record = 2 if settings.pairwise else 1
    plans = []
    for model in settings.model_list:  # every model's inputs are checked before the judge is asked anything
        jobs, missing = plan_jobs(bench, questions, model, baseline, references)
        check_template_fields(args.setting_file, settings, jobs)
        output = bench.judgment_file(settings.judge_model, model)
        check = JudgedCheck(output, games_per_record, verdict_test(label_code))
        plans.append(ModelPlan(model, jobs, missing, output, check))
    return Judging(judge, plans, functools.partial(judging_v01.describe_plan, settings=settings),
                   lambda client, log, live: judging_v01.judge_job(client, settings, log, live),
                   lambda job: judging_v01.game_keys(job, settings, judge), label_code,
                   lambda job: judging_v01.game_conversations(job, settings), version_for(bench.name),
                   settings.max_tokens)


def kept_games(judging: Judging, todo: Sequence[Any], log: GameLog) -> set[tuple[str, int]]:
    """(question id, game number) of the games of `todo` that `log` holds."""
    if not len(log):
        return set()
    return {(job.question.question_id, number) for job in todo
            for number, key in enumerate(judging.game_keys(job), 1) if log.get(key) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    check_cost_arguments(args)
    data = load_yaml(Path(args.setting_file))
    judging = prepare_v2(args, data) if is_v2_judge_config(data) else prepare_v01(args)
    batch = uses_batch(args, judging.judge)
    pricing = Pricing()
    if args.max_cost is not None:
        pricing.require([judging.judge], lambda model: batch)
    price = pricing(judging.judge, batch)
    complete = True
    runs, batch_tasks, asked, estimates = [], [], [], []
    with nullcontext() if args.dry_run else lock_outputs([plan.output for plan in judging.plans], args.wait):
        refuse_open_batches([(plan.model, plan.output, judging.judge if batch else None) for plan in judging.plans])
        done = {plan.model: open_output(plan.output, plan.check, repair=not args.dry_run)  # all read before any output
                for plan in judging.plans}
        logs = {plan.model: GameLog(plan.output, plan.check.judged, write=not args.dry_run) for plan in judging.plans}
        estimating = args.dry_run or args.max_cost is not None
        outputs = [plan.output for plan in judging.plans]
        sample = judge_sample(outputs[0].parent, outputs) if estimating and outputs else []
        for plan in judging.plans:
            model, log = plan.model, logs[plan.model]
            todo = [job for job in plan.jobs if job.question.question_id not in done[model]]
            kept = kept_games(judging, todo, log)
            announce(plan, log, 0 if args.dry_run else len(kept))  # a dry run's line counts them
            complete = complete and not plan.missing
            if estimating:
                estimates.append(judgment_estimate(model, judging.judge, todo, judging.conversations, kept, sample,
                                                   judging.version, judging.max_tokens, price))
            if args.dry_run:
                print(judging.describe(model, len(plan.jobs), todo, len(plan.missing), kept=kept))
                print(estimates[-1].describe())
            else:
                print(status_line(plan, todo))
                if todo:
                    asked.append(plan)
                else:
                    finish_output(plan.output)  # a run killed after its last append never got to the sorted rewrite
                    if not batch:  # a batch run still goes through the state: its open batches are named or cancelled
                        continue
            make_job = functools.partial(judging.judge_job, log=log, live=not batch)  # a batch replay keeps no game
            if batch:  # every model's judgments share the judge's batches
                batch_tasks.append(BatchTask(judging.judge, todo, make_job, plan.output, model, "judged", price))
            elif not args.dry_run:
                expect = estimates[-1].expected if estimates else ModelRun.expect
                runs.append(ModelRun(model, judging.judge, todo, make_job, plan.output, "judged", price, expect))
        if batch_tasks and args.dry_run:
            print("\n".join(describe_batches(batch_tasks)))
        settle_estimate("gen_judgment.py", args, estimates)
        budget = Budget(args.max_cost) if args.max_cost is not None else None
        # one stream through the judge's client for every model: its `parallel` is the one limit (a local judge's
        # servers, local_engine: true, are up meanwhile)
        with local_engine.serving_runs(runs, judging.plans[0].output.parent / ".engine") as started:
            reports = run_models(started, after_report=lambda run: print_verdict_stats(run.label, run.output,
                                                                                       judging.code_of), budget=budget)
        batch_reports = run_batches(batch_tasks, batch_options(args)) if batch_tasks and not args.dry_run else {}
        for plan in asked:
            if plan.model in batch_reports and plan.output.exists():
                print_verdict_stats(plan.model, plan.output, judging.code_of)
        within_budget = args.dry_run or settle_bill(
            "gen_judgment.py", args.report, [(run, report, False) for run, report in zip(runs, reports)]
            + [(task, batch_reports[task.label], True) for task in batch_tasks], budget)
        reports += batch_reports.values()
        for plan in asked:
            logs[plan.model].settle()
            complete = report_without_verdict(plan, verdict_test(judging.code_of)) and complete
    if not within_budget:
        return 1
    if not args.cancel and (not complete or any(report.failures for report in reports)):  # a cancel means to stop
        print("some judgments are missing (listed above); rerun to judge only those", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_main(main)
