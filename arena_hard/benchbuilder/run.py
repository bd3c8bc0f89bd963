"""build_bench.py's run: the stages in order, each reporting its counts, every paid result cached
under data/<bench>/.bench_builder/ so that a rerun asks nothing twice.

Read -> Embed -> Cluster (and name the topics) -> per filter stage: Label, Filter -> Sample -> write.
A stage that needs API calls makes them, then the run goes on; when one of them failed for good the
run stops there (exit status 1, nothing written) and the next run asks only for what is missing. With
--dry-run every stage that needs no call runs (reading the caches, never writing them); the first
that needs calls says how many it would send and to which model, the later ones at most how many,
and the run stops. What the calls cost (benchbuilder.cost): each stage's estimate before its calls
(printed in a dry run, the later stages as a ceiling), --max-cost across the stages, and the bill at
the end, also when the run stopped. Writes the caches, data/<bench>/question.jsonl and its report
(output), and the --report file.
May import: arena_hard.core, arena_hard.models, arena_hard.generate, and every benchbuilder module."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from arena_hard.benchbuilder import calls, criteria as labelling, output, topic_names
from arena_hard.benchbuilder.cost import LABEL_OUTPUT, NAME_OUTPUT, Costs, earlier_outputs
from arena_hard.benchbuilder.cluster import OUTLIER, ClusterSettings, cached_cluster, normalise
from arena_hard.benchbuilder.embed import batches, embed_prompts, missing
from arena_hard.benchbuilder.read_log import Prompt, read_prompts
from arena_hard.benchbuilder.select import filter_stage, stratified_sample
from arena_hard.benchbuilder.settings import BuilderSettings, Stage
from arena_hard.benchbuilder.vectors import VectorStore
from arena_hard.core.bench_builder_criteria import Criteria
from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.core.names import file_stem
from arena_hard.core.records import Bench
from arena_hard.generate.batch.checks import refuse_open_batches
from arena_hard.generate.batch.runner import BatchOptions
from arena_hard.generate.pipeline import print_report

STATE_DIR = ".bench_builder"


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    batch: BatchOptions = BatchOptions()
    all_batch: bool = False  # --batch: labels and topic names through the batch APIs
    allow_smaller: bool = False
    force: bool = False
    plot: Path | None = None

    def uses_batch(self, model: ModelConfig) -> bool:
        """Whether the chat calls to `model` go through its batch API (--batch, or `batch: true` on it)."""
        return self.all_batch or model.batch


class Stop(Exception):
    """The run ends here: a dry run reached a stage that needs calls (status 0), or calls failed (1)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


@dataclass
class Builder:
    settings: BuilderSettings
    models: dict[str, ModelConfig]
    criteria: Criteria
    options: Options
    costs: Costs

    def __post_init__(self) -> None:
        self.bench = Bench(self.settings.bench_name)
        self.state = self.bench.directory / STATE_DIR

    def run(self) -> int:
        """The exit status: 0 when the bench is written (or the dry run done), 1 when calls failed or
        the budget stopped the run; the bill (or the dry run's estimate) is settled either way."""
        status = 0
        try:
            self._run()
        except Stop as stop:
            status = stop.status
        finally:
            within_budget = self.costs.settle()
        return status if within_budget else 1

    # --- helpers -------------------------------------------------------------------------------
    def _stop_dry(self, prompts: Sequence[Prompt], after: int) -> None:
        """In a dry run: the later stages as upper bounds (all of `prompts`), then stop."""
        for index, stage in enumerate(self.settings.stages[after:], after + 1):
            model = self.models[stage.label_model]
            self.costs.label_ceiling(index, model, self.options.uses_batch(model), self.criteria, prompts)
        raise Stop(0)

    def _calls(self, label: str, model_key: str, jobs: Sequence[calls.CallJob], to_record: calls.ToRecord,
               path: Path, verb: str, cache: dict[str, dict[str, Any]], output_guess: Any, what: str) -> None:
        """Ask `jobs` of the model (its earlier replies in `cache` guess the output), or, in a dry run,
        say what that would cost; a call that failed or that the budget held back stops the run."""
        model = self.models[model_key]
        batch = self.options.uses_batch(model)
        # a batch left open by an earlier --batch run, direct or at another endpoint: never paid twice
        refuse_open_batches([(label, path, model if batch else None)])
        estimate = self.costs.chat(label, model, batch, jobs, earlier_outputs(cache.values()), output_guess, what)
        self.costs.before(estimate)
        if self.options.dry_run:
            if batch:
                print("\n".join(calls.describe_batch(label, model, jobs, path)))
            return
        report = calls.run_calls(label, model, jobs, to_record, path, verb, self.options.batch if batch else None,
                                 estimate, self.costs.budget)
        self.costs.paid(estimate, report, batch)
        if report.failures:
            print(f"{label}: {len(report.failures)} call(s) failed (listed above); nothing written: rerun to ask "
                  "only for those", flush=True)
        if report.failures or report.held_back:
            raise Stop(1)

    # --- the stages ----------------------------------------------------------------------------
    def _run(self) -> None:
        settings = self.settings
        read = read_prompts(settings.input_file, settings.language)
        print(read.describe(settings.input_file, settings.language), flush=True)
        prompts = read.prompts
        if settings.min_topic_size > len(prompts):
            raise UserError(f"{settings.source}: `min_topic_size` is {settings.min_topic_size:,}, more than the "
                            f"{len(prompts):,} prompts of {settings.input_file}; lower it")
        if len(prompts) < settings.size and not self.options.allow_smaller:
            raise UserError(f"{settings.input_file} has {len(prompts):,} usable prompts, fewer than `size` "
                            f"{settings.size:,}; lower `size`, or rerun with --allow-smaller to write what there is")
        vectors = self._embed(prompts)
        print(f"cluster: {len(prompts):,} prompts, PCA to {settings.reduced_dimensions} components, HDBSCAN with "
              f"min_topic_size {settings.min_topic_size} (or the cached topics of these prompts)", flush=True)
        topics = cached_cluster(self.state / "clusters", [p.key for p in prompts], vectors,
                                ClusterSettings(settings.min_topic_size, settings.reduced_dimensions, settings.seed,
                                                self.models[settings.embedding_model].model_name),
                                self.options.dry_run)
        members = {int(t): np.flatnonzero(topics == t) for t in np.unique(topics) if t != OUTLIER}
        outliers = int((topics == OUTLIER).sum())
        if not members:
            raise UserError(f"{settings.input_file}: no topic of at least {settings.min_topic_size} similar prompts "
                            f"({len(prompts):,} prompts, all outliers); lower `min_topic_size` in {settings.source}")
        sizes = sorted(len(m) for m in members.values())
        print(f"cluster: {len(members)} topics of {sizes[0]:,} to {sizes[-1]:,} prompts; {outliers:,} outliers "
              "(never sampled, not labelled)", flush=True)
        names = self._names(prompts, vectors, members)
        del vectors
        report = output.Report(settings.bench_name, str(settings.input_file), {
            "records": read.records, "without_prompt": read.no_prompt, "other_language": read.other_language,
            "too_short": read.too_short, "duplicates": read.duplicates, "cut": read.cut, "prompts": len(prompts)},
            topics=[output.TopicRow(t, names[t], len(m)) for t, m in members.items()], outliers=outliers)
        kept = self._filter(prompts, topics, report)
        self._sample(prompts, topics, kept, names, report)

    def _embed(self, prompts: list[Prompt]) -> np.ndarray:
        model = self.models[self.settings.embedding_model]
        store = VectorStore(self.state / "embeddings" / file_stem(model.model_name), model.model_name,
                            write=not self.options.dry_run)
        todo = missing(store, prompts)
        requests = batches(todo, self.settings.embedding_batch_size)
        print(f"embed: {len(prompts) - len(todo):,} of {len(prompts):,} prompts already embedded; {len(todo):,} "
              f"to embed in {len(requests):,} requests to {model.name}", flush=True)
        if not todo:
            return self._vectors(store, prompts)
        estimate = self.costs.embedding(f"embed ({model.name})", model, requests)
        self.costs.before(estimate)
        if self.options.dry_run:
            if self.settings.topic_model:
                namer = self.models[self.settings.topic_model]
                self.costs.name_ceiling(namer, self.options.uses_batch(namer), prompts, self.settings.min_topic_size)
            self._stop_dry(prompts, 0)
        result = embed_prompts(store, requests, model, estimate, self.costs.budget)
        self.costs.paid(estimate, result)
        print_report(estimate.label, "embedded", result)
        if result.failures:
            print("some prompts are not embedded (listed above); nothing written: rerun to embed only those")
        if result.failures or result.held_back:
            raise Stop(1)
        return self._vectors(store, prompts)

    def _vectors(self, store: VectorStore, prompts: list[Prompt]) -> np.ndarray:
        vectors = store.matrix([prompt.key for prompt in prompts])
        normalise(vectors)
        return vectors

    def _names(self, prompts: list[Prompt], vectors: np.ndarray, members: dict[int, np.ndarray]) -> dict[int, str]:
        words = dict(zip(members, topic_names.keywords([[prompts[i].text for i in m] for m in members.values()])))
        model = self.settings.topic_model
        if model is None:
            return {topic: topic_names.keyword_name(words[topic]) for topic in members}
        model_name = self.models[model].model_name
        jobs = {topic: topic_names.name_job(model_name, [prompts[i].text for i in topic_names.central(vectors, m)],
                                            words[topic]) for topic, m in members.items()}
        path = self.state / "topic_names" / f"{file_stem(model_name)}.jsonl"
        cache = calls.cached(path, self.options.dry_run)
        todo = [job for job in jobs.values() if job.question.question_id not in cache]
        print(f"names: {len(jobs) - len(todo)} of {len(jobs)} topics already named; {len(todo)} to name with "
              f"{model}", flush=True)
        if todo:
            self._calls(f"names ({model})", model, todo, topic_names.name_record, path, "named", cache, NAME_OUTPUT,
                        "a short name")
            if self.options.dry_run:
                self._stop_dry([prompts[i] for m in members.values() for i in m], 0)
            cache = calls.cached(path, False)
        return {topic: cache[job.question.question_id]["name"] or topic_names.keyword_name(words[topic])
                for topic, job in jobs.items()}

    def _label(self, number: int, stage: Stage, prompts: list[Prompt], candidates: list[int]) -> dict[int, dict[str, Any]]:
        path = self.state / "labels" / f"{file_stem(self.models[stage.label_model].model_name)}.jsonl"
        cache = calls.cached(path, self.options.dry_run)
        todo = [i for i in candidates if prompts[i].key not in cache]
        print(f"stage {number}: {len(candidates) - len(todo):,} of {len(candidates):,} prompts already labelled by "
              f"{stage.label_model}; {len(todo):,} to label", flush=True)
        if todo:
            jobs = [calls.job(prompts[i].key, labelling.label_request(self.criteria, prompts[i].text)) for i in todo]
            self._calls(f"stage {number} ({stage.label_model})", stage.label_model, jobs,
                        lambda key, answer: labelling.label_record(self.criteria, key, answer), path, "labelled",
                        cache, LABEL_OUTPUT, "a list of criteria")
            if self.options.dry_run:
                self._stop_dry([prompts[i] for i in candidates], number)
            cache = calls.cached(path, False)
        return {i: cache[prompts[i].key] for i in candidates}

    def _filter(self, prompts: list[Prompt], topics: np.ndarray, report: output.Report) -> list[int]:
        topic_list = topics.tolist()
        candidates = [i for i, topic in enumerate(topic_list) if topic != OUTLIER]
        for number, stage in enumerate(self.settings.stages, 1):
            labels = self._label(number, stage, prompts, candidates)
            scores = {i: labelling.score(self.criteria, record) for i, record in labels.items()}
            result = filter_stage(candidates, topic_list, scores, stage.prompt_threshold, stage.cluster_threshold)
            unparsed = {kind: sum(1 for r in labels.values() if r.get("parsed") == kind)
                        for kind in (labelling.NO_MATCH, labelling.MULTIPLE_MATCH)}
            print(f"stage {number}: kept {len(result.kept):,} of {len(candidates):,} prompts (score >= "
                  f"{stage.prompt_threshold} in topics whose mean is >= {stage.cluster_threshold:g}), from "
                  f"{len({topic_list[i] for i in result.kept})} topics; answers with no list: "
                  f"{unparsed[labelling.NO_MATCH]:,}, with several: {unparsed[labelling.MULTIPLE_MATCH]:,}",
                  flush=True)
            report.stages.append({"label_model": stage.label_model, "prompt_threshold": stage.prompt_threshold,
                                  "cluster_threshold": stage.cluster_threshold, "labelled": len(candidates),
                                  "kept": len(result.kept), "no_match": unparsed[labelling.NO_MATCH],
                                  "multiple_match": unparsed[labelling.MULTIPLE_MATCH]})
            if number == 1:
                for row in report.topics:
                    row.mean_score = result.topic_means.get(row.topic)
                report.criteria_share = {name: sum(r["category_tag"][self.criteria.name_tag][name]
                                                   for r in labels.values()) / len(labels)
                                         for name in self.criteria.names}
            candidates = result.kept
        kept = Counter(topic_list[i] for i in candidates)
        for row in report.topics:
            row.kept = kept[row.topic]
        return candidates

    def _sample(self, prompts: list[Prompt], topics: np.ndarray, kept: list[int], names: dict[int, str],
                report: output.Report) -> None:
        settings = self.settings
        chosen = stratified_sample(kept, topics.tolist(), settings.size, settings.per_topic, settings.seed)
        cap = f", at most {settings.per_topic} per topic" if settings.per_topic else ""
        if not chosen:  # not a bench, even with --allow-smaller
            number, stage = next((n, s) for n, s in enumerate(report.stages, 1) if not s["kept"])
            raise UserError(f"no prompt passes stage {number} ({stage['label_model']}: score >= "
                            f"{stage['prompt_threshold']} in topics whose mean is >= {stage['cluster_threshold']:g}); "
                            f"nothing written: lower that stage's thresholds in {settings.source}")
        if len(chosen) < settings.size:
            if not self.options.allow_smaller:
                raise UserError(f"only {len(chosen):,} prompts pass the filter stages{cap}, fewer than `size` "
                                f"{settings.size:,} in {settings.source}; rerun with --allow-smaller to write them, "
                                "or lower the thresholds, `size` or raise `per_topic`")
            print(f"note: writing {len(chosen):,} prompts, fewer than `size` {settings.size:,} (--allow-smaller)")
        sampled = Counter(int(topics[i]) for i in chosen)
        for row in report.topics:
            row.sampled = sampled[row.topic]
        report.sampled = len(chosen)
        records = [output.question_record(settings.bench_name, prompts[i].key, prompts[i].question, names[int(topics[i])])
                   for i in chosen]
        content = output.question_bytes(records)
        question_file = self.bench.question_file
        output.check_replaceable(question_file, self.bench.answer_dir, content, self.options.force)
        topics_sampled = sum(1 for row in report.topics if row.sampled)
        if self.options.dry_run:
            print(f"would write {len(records):,} questions from {topics_sampled} topics{cap} to {question_file}")
            return
        output.write_bench(question_file, content, self.bench.directory / output.REPORT_NAME, report)
        if self.options.plot is not None:
            output.plot_topics(self.options.plot, report)
        print("\n".join(output.summary_lines(report)))
        print(f"wrote {len(records):,} questions from {topics_sampled} topics{cap} to {question_file}; the report "
              f"to {self.bench.directory / output.REPORT_NAME}" +
              (f"; the chart to {self.options.plot}" if self.options.plot else ""))
