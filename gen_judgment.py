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
Exit status 0 when every requested judgment exists with all its games (and after a --cancel), 1 when
some are missing (listed), 2 on a config or data error."""
from __future__ import annotations

import dataclasses
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from arena_hard.core.bench_version import version_for
from arena_hard.core.config import JudgeSettings, load_judge_settings
from arena_hard.core.config_file import load_yaml
from arena_hard.core.endpoints import check_temperature, load_model_configs
from arena_hard.core.errors import ArgumentParser, UserError, run_main
from arena_hard.core.judge_config_v2 import V2JudgeSettings, is_v2_judge_config, load_v2_judge_settings
from arena_hard.core.names import unique
from arena_hard.core.output_lock import lock_outputs
from arena_hard.core.records import Bench, Question, game_score, load_answers, load_questions, record_id
from arena_hard.generate import judge_plan_v2, judging_v2
from arena_hard.generate.batch.runner import (BatchTask, add_batch_arguments, batch_options, describe_batches,
                                              refuse_open_batches, run_batches, uses_batch)
from arena_hard.generate.judge_plan_v01 import check_template_fields, load_reference_answers, plan_jobs
from arena_hard.generate.judging_v01 import describe_plan, judge_job
from arena_hard.generate.pipeline import ModelRun, finish_output, open_output, run_models
from arena_hard.scoring.judgment_records import combine_judges
from arena_hard.scoring.judge_consistency import judge_consistency
from arena_hard.scoring.verdict_labels import NO_VERDICT, label_code, read_verdicts
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
    parser.add_argument("--dry-run", action="store_true",
                        help="print the judge calls to make, cached judgments and estimated prompt tokens; call nothing")
    parser.add_argument("--wait", action="store_true",
                        help="if another run is writing a judgment file, wait for it to end, then judge only what "
                             "is still missing (by default: stop, naming the file and the other process)")
    add_batch_arguments(parser)
    return parser.parse_args(argv)


class JudgedCheck:
    """Whether a judgment record is finished: it holds every game, and at least one has a verdict label.
    A record whose every game lacks one (a regex without the right capture group, a judge that never
    answered with a label) is judged again; `without_verdict` collects those questions."""

    def __init__(self, path: Path, games_per_record: int):
        self.path, self.games_per_record = path, games_per_record
        self.without_verdict: set[str] = set()

    def __call__(self, record: dict[str, Any]) -> bool:
        games = record.get("games")
        if not isinstance(games, list) or len(games) != self.games_per_record:
            return False
        question_id = record_id(record, str(self.path))
        if all(label_code(game_score(game)) == NO_VERDICT for game in games):
            self.without_verdict.add(question_id)
            return False
        self.without_verdict.discard(question_id)
        return True


def print_verdict_stats(model: str, judgment_file: Path) -> None:
    """Labels per game, games without a verdict, and agreement across the swap, over the whole file."""
    records, _ = combine_judges([[read_verdicts(judgment_file)]])
    for entry in judge_consistency(records):
        print(f"{entry.model}: {entry.describe_games()}")


def with_flags(args: Any, settings: Settings) -> Settings:
    """The settings with --judge-model and --model-list applied; an empty model list is an error."""
    if args.judge_model:
        settings = dataclasses.replace(settings, judge_model=args.judge_model)
    if args.model_list:
        settings = dataclasses.replace(settings, model_list=unique(args.model_list, "--model-list"))
    if getattr(settings, "baseline", False) and settings.baseline_model in settings.model_list:  # v0.1's one baseline
        print(f"note: the baseline {settings.baseline_model!r} is in the model list; it is not judged against "
              "itself", file=sys.stderr)
        settings = dataclasses.replace(settings, model_list=tuple(m for m in settings.model_list
                                                                  if m != settings.baseline_model))
    if not settings.model_list:
        raise UserError(f"{args.setting_file}: `model_list` is empty; name the models to judge (or use --model-list)")
    return settings


def judge_and_questions(args: Any, settings: Any) -> tuple[Any, Bench, list[Question]]:
    judge = load_model_configs(Path(args.endpoint_file), (settings.judge_model,))[settings.judge_model]
    check_temperature(judge, settings.temperature, f"{args.setting_file}: `temperature`")
    bench = Bench(settings.bench_name)
    questions = load_questions(bench.question_file)
    if not args.dry_run:
        check_credentials(judge)
    return judge, bench, questions


def prepare_v2(args: Any, data: dict[str, Any]) -> tuple[Any, list[tuple], Callable, Callable]:
    """The judge, the plans, the plan describer and the job maker of a v2.0 judge config."""
    settings = with_flags(args, load_v2_judge_settings(Path(args.setting_file), data))
    judge, bench, questions = judge_and_questions(args, settings)
    plans = []
    for entry in judge_plan_v2.plan(settings, questions):
        plans.append((entry.model, entry.jobs, entry.missing, bench.judgment_file(settings.judge_model, entry.model),
                      judging_v2.is_complete))
    return (judge, plans, lambda model, total, todo, skipped: judge_plan_v2.describe_plan(model, total, todo, skipped,
                                                                                          settings),
            lambda client: judging_v2.judge_job(client, settings))


def prepare_v01(args: Any) -> tuple[Any, list[tuple], Callable, Callable]:
    """The judge, the plans, the plan describer and the job maker of a v0.1 judge config."""
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
        plans.append((model, jobs, missing, output, JudgedCheck(output, games_per_record)))
    return (judge, plans, lambda model, total, todo, skipped: describe_plan(model, total, todo, skipped, settings),
            lambda client: judge_job(client, settings))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data = load_yaml(Path(args.setting_file))
    judge, plans, describe, make_job = prepare_v2(args, data) if is_v2_judge_config(data) else prepare_v01(args)
    complete = True
    batch = uses_batch(args, judge)
    outputs = {model: output for model, _, _, output, _ in plans}
    runs, batch_tasks = [], []
    with nullcontext() if args.dry_run else lock_outputs(list(outputs.values()), args.wait):
        if not batch:
            refuse_open_batches(list(outputs.items()))
        done_by_model = {model: open_output(output, is_complete, repair=not args.dry_run)  # all read before any output
                         for model, _, _, output, is_complete in plans}
        for model, jobs, missing, output, is_complete in plans:
            redo = getattr(is_complete, "without_verdict", ())
            if redo:
                print(f"{model}: {len(redo)} judgment(s) in {output} have no verdict in any game; they are judged "
                      "again (check regex_pattern if this repeats)", file=sys.stderr)
            if missing:
                complete = False
                shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
                print(f"{model}: skipped {len(missing)} question(s) with no answer from the model, the baseline or a "
                      f"reference ({shown})", file=sys.stderr)
            todo = [job for job in jobs if job.question.question_id not in done_by_model[model]]
            if args.dry_run:
                print(describe(model, len(jobs), todo, len(missing)))
            elif not todo:
                finish_output(output)  # a run killed after its last append never got to the sorted rewrite
                print(f"{model}: all {len(jobs)} judgments already made ({output})")
                continue
            else:
                print(f"{model}: {len(jobs) - len(todo)} of {len(jobs)} already judged; output to {output}")
            if batch:  # every model's judgments share the judge's batches
                batch_tasks.append(BatchTask(judge, todo, make_job, output, model, "judged"))
            elif not args.dry_run:
                runs.append(ModelRun(model, judge, todo, make_job, output, "judged"))
        if batch_tasks and args.dry_run:
            print("\n".join(describe_batches(batch_tasks)))
        # one stream through the judge's client for every model: its `parallel` is the one limit
        reports = run_models(runs, after_report=lambda run: print_verdict_stats(run.label, run.output))
        if batch_tasks and not args.dry_run:
            for model, report in run_batches(batch_tasks, batch_options(args)).items():
                if outputs[model].exists():
                    print_verdict_stats(model, outputs[model])
                reports.append(report)
    if not args.cancel and (not complete or any(report.failures for report in reports)):  # a cancel means to stop
        print("some judgments are missing (listed above); rerun to judge only those", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_main(main)
