"""Build an Arena-Hard-style bench from your own prompt log, as upstream's BenchBuilder does.

Reads --setting-file (config/bench_builder.yaml), --endpoint-file (config/api_config.yaml), the log
the setting file names (JSON, JSON lines or Parquet) and BenchBuilder's criteria
(config/official/category.py, from `python download_data.py --bench-builder`). Writes
data/<bench_name>/question.jsonl, which gen_answer.py, gen_judgment.py, show_result.py and
qa_browser.py read unchanged, data/<bench_name>/bench_builder_report.json, and its caches under
data/<bench_name>/.bench_builder/ (vectors, topic assignments, topic names, labels), so that a rerun
asks nothing twice and a larger log only embeds and labels its new prompts. Stages: read, embed,
cluster and name topics, label and filter (one or more stages), sample. At the end, the bill: calls,
tokens and cost per stage and in total (--report FILE.json); --dry-run adds each stage's estimate, and
--max-cost refuses a run whose first paid stage is expected to cost more and stops starting calls once
it is reached (benchbuilder/cost.py). Exit status 0 when the bench is written (or the dry run
printed), 1 when calls failed (listed; rerun to ask only for those) or the budget stopped the run, 2
on a config or data error."""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any, Sequence

from arena_hard.benchbuilder.cost import Costs
from arena_hard.benchbuilder.run import Builder, Options
from arena_hard.benchbuilder.settings import check_thresholds, load_settings
from arena_hard.core.bench_builder_criteria import OFFICIAL_FILE, load_criteria
from arena_hard.core.endpoints import load_model_configs
from arena_hard.core.errors import ArgumentParser, run_main
from arena_hard.core.output_lock import lock_outputs
from arena_hard.core.png_chart import require_pyplot
from arena_hard.core.records import Bench
from arena_hard.generate.batch.checks import check_batch_models
from arena_hard.generate.batch.runner import add_batch_arguments, batch_options
from arena_hard.generate.cost import Pricing, add_cost_arguments, check_cost_arguments
from arena_hard.models.embeddings import check_embedding_model
from arena_hard.models.providers import check_credentials


def parse_args(argv: Sequence[str] | None) -> Any:
    parser = ArgumentParser(prog="build_bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("--setting-file", default="config/bench_builder.yaml",
                        help="what to build: bench_name, input_file, the models, the stages, size, ... "
                             "(default: %(default)s)")
    parser.add_argument("--endpoint-file", default="config/api_config.yaml",
                        help="how to reach each model: api_config.yaml (default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print how many prompts each stage would send and to which model; call nothing, "
                             "write nothing")
    parser.add_argument("--allow-smaller", action="store_true",
                        help="write the bench even when fewer prompts than `size` pass the filters")
    parser.add_argument("--force", action="store_true",
                        help="replace a question.jsonl that holds other questions although the bench has answers "
                             "(by default: stop)")
    parser.add_argument("--plot", metavar="FILE.png", type=Path,
                        help="also draw the topics by size and mean score (needs matplotlib)")
    parser.add_argument("--wait", action="store_true",
                        help="if another run is building the same bench, wait for it to end (by default: stop)")
    add_batch_arguments(parser)
    add_cost_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    check_cost_arguments(args)
    settings = load_settings(Path(args.setting_file))
    criteria = load_criteria(OFFICIAL_FILE)
    check_thresholds(settings, len(criteria.tags))
    models = load_model_configs(Path(args.endpoint_file), settings.models)
    check_embedding_model(models[settings.embedding_model])
    if args.plot is not None:
        require_pyplot()  # before any call, not after
    options = Options(args.dry_run, batch_options(args), args.batch or args.cancel, args.allow_smaller, args.force,
                      args.plot)
    check_batch_models([models[name] for name in settings.models
                        if name != settings.embedding_model and options.uses_batch(models[name])])
    if not args.dry_run:
        for model in models.values():
            check_credentials(model)
    pricing = Pricing([settings.embedding_model])
    if args.max_cost is not None:
        pricing.require([models[name] for name in settings.models],
                        lambda model: model.name != settings.embedding_model and options.uses_batch(model))
    costs = Costs(pricing, args.dry_run, args.max_cost, args.report)
    question_file = Bench(settings.bench_name).question_file
    with nullcontext() if args.dry_run else lock_outputs([question_file], args.wait):
        return Builder(settings, models, criteria, options, costs).run()


if __name__ == "__main__":
    run_main(main)
