"""The setting file of build_bench.py (config/bench_builder.yaml): which log, which models, how the
bench is chosen. Each key is checked with a one-line error naming the file and the key; every model
named must have an entry in the endpoint file (checked by the caller). Reads that file; writes nothing.
May import: arena_hard.core; benchbuilder.cluster (a default)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arena_hard.benchbuilder.cluster import REDUCED_DIMENSIONS
from arena_hard.core.config_file import Section, is_int, is_number, load_yaml
from arena_hard.core.errors import UserError

KEYS = {"bench_name", "input_file", "language", "embedding_model", "topic_model", "min_topic_size", "stages",
        "size", "per_topic", "seed", "embedding_batch_size", "reduced_dimensions"}
STAGE_KEYS = {"label_model", "prompt_threshold", "cluster_threshold"}


@dataclass(frozen=True)
class Stage:
    """One filter stage: label with `label_model`, keep prompts scoring >= prompt_threshold in topics
    whose mean score is >= cluster_threshold."""
    label_model: str
    prompt_threshold: int
    cluster_threshold: float


@dataclass(frozen=True)
class BuilderSettings:
    bench_name: str
    input_file: Path
    language: str | None  # keep records whose `language` is this, when they have the field; None: all
    embedding_model: str
    topic_model: str | None  # names the topics with one call each; None: keywords
    min_topic_size: int
    stages: tuple[Stage, ...]
    size: int
    per_topic: int | None  # at most this many prompts of one topic; None: no cap
    seed: int
    embedding_batch_size: int = 64  # texts per embeddings request
    reduced_dimensions: int = REDUCED_DIMENSIONS  # PCA components the clustering works in
    source: Path = Path("config/bench_builder.yaml")

    @property
    def models(self) -> tuple[str, ...]:
        names = [self.embedding_model, *([self.topic_model] if self.topic_model else []),
                 *(stage.label_model for stage in self.stages)]
        return tuple(dict.fromkeys(names))


def _stage(section: Section, index: int, raw: object) -> Stage:
    if not isinstance(raw, dict):
        raise UserError(f"{section.where(f'stages[{index}]')} must be a mapping with label_model, prompt_threshold, "
                        "cluster_threshold")
    stage = Section(section.path, raw, f"stages[{index}].")
    stage.warn_unknown(STAGE_KEYS)
    return Stage(stage.text("label_model"),
                 stage.get("prompt_threshold", lambda v: is_int(v) and 0 <= v, "an integer >= 0 (criteria met)"),
                 stage.number("cluster_threshold"))


def load_settings(path: Path) -> BuilderSettings:
    section = Section(path, load_yaml(path))
    section.warn_unknown(KEYS)
    stages = section.get("stages", lambda v: isinstance(v, list) and len(v) >= 1,
                         "a list of one or more {label_model, prompt_threshold, cluster_threshold}")
    language = section.get("language", lambda v: v is None or (isinstance(v, str) and v != ""),
                           "a language as the log names it (e.g. English), or null for every language", "English")
    return BuilderSettings(
        bench_name=section.name("bench_name"),
        input_file=Path(section.text("input_file")),
        language=language,
        embedding_model=section.text("embedding_model"),
        topic_model=section.text("topic_model", None),
        min_topic_size=section.integer("min_topic_size", 32, minimum=2),
        stages=tuple(_stage(section, index, raw) for index, raw in enumerate(stages)),
        size=section.integer("size"),
        per_topic=section.integer("per_topic", None),
        seed=section.get("seed", lambda v: is_int(v) and v >= 0, "an integer >= 0", 0),
        embedding_batch_size=section.integer("embedding_batch_size", 64),
        reduced_dimensions=section.integer("reduced_dimensions", REDUCED_DIMENSIONS, minimum=2),
        source=Path(path),
    )


def check_thresholds(settings: BuilderSettings, criteria_count: int) -> None:
    """Thresholds a prompt can reach: at most the number of criteria."""
    for index, stage in enumerate(settings.stages):
        for key, value in (("prompt_threshold", stage.prompt_threshold), ("cluster_threshold", stage.cluster_threshold)):
            if is_number(value) and value > criteria_count:
                raise UserError(f"{settings.source}: `stages[{index}].{key}` is {value:g}, more than the "
                                f"{criteria_count} criteria a prompt can meet; use at most {criteria_count}")
