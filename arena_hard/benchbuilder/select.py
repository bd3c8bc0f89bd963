"""Stages 5 and 6, Filter and Sample, as pure functions over prompt indices, topics and scores.

Filter (upstream's filter.py, once per stage): a topic's mean score is over the prompts the stage
labelled in it; a prompt is kept when its score is >= the stage's prompt_threshold and its topic's
mean is >= its cluster_threshold. Outliers are never kept.

Sample: `size` prompts spread as evenly as possible over the kept topics, at most `per_topic` from one
(water-filling: every topic gets the same number, or all it has, and the few left over go to topics
drawn at random), then which prompts within each topic, drawn at random; both draws seeded by `seed`,
so the same inputs give the same bench. Reads and writes nothing.
May import: benchbuilder.cluster (OUTLIER)."""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping, Sequence

from arena_hard.benchbuilder.cluster import OUTLIER


@dataclass(frozen=True)
class StageResult:
    kept: list[int]  # prompt indices, in order
    topic_means: dict[int, float]  # topic -> mean score of the prompts labelled in it


def topic_means(indices: Sequence[int], topics: Sequence[int], scores: Mapping[int, int]) -> dict[int, float]:
    totals: dict[int, list[int]] = defaultdict(list)
    for index in indices:
        if topics[index] != OUTLIER:
            totals[topics[index]].append(scores[index])
    return {topic: sum(values) / len(values) for topic, values in sorted(totals.items())}


def filter_stage(indices: Sequence[int], topics: Sequence[int], scores: Mapping[int, int], prompt_threshold: int,
                 cluster_threshold: float) -> StageResult:
    means = topic_means(indices, topics, scores)
    kept = [index for index in indices if topics[index] != OUTLIER and scores[index] >= prompt_threshold
            and means[topics[index]] >= cluster_threshold]
    return StageResult(kept, means)


def allocate(available: Mapping[int, int], size: int, per_topic: int | None, rng: random.Random) -> dict[int, int]:
    """How many prompts of each topic: as even as possible, within each topic's count and `per_topic`."""
    capacity = {topic: min(count, per_topic) if per_topic else count for topic, count in available.items()}
    if sum(capacity.values()) <= size:
        return capacity
    level = 0
    while sum(min(c, level + 1) for c in capacity.values()) <= size:
        level += 1
    shares = {topic: min(c, level) for topic, c in capacity.items()}
    room = sorted(topic for topic, c in capacity.items() if c > level)
    for topic in rng.sample(room, size - sum(shares.values())):
        shares[topic] += 1
    return shares


def stratified_sample(kept: Sequence[int], topics: Sequence[int], size: int, per_topic: int | None,
                      seed: int) -> list[int]:
    """The sampled prompt indices, grouped by topic (in topic order), in log order within a topic."""
    by_topic: dict[int, list[int]] = defaultdict(list)
    for index in kept:
        by_topic[topics[index]].append(index)
    rng = random.Random(seed)
    shares = allocate({topic: len(members) for topic, members in by_topic.items()}, size, per_topic, rng)
    chosen = []
    for topic in sorted(by_topic):
        chosen += sorted(rng.sample(by_topic[topic], shares[topic]))
    return chosen
