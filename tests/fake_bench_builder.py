"""BenchBuilder's side of the fake API (tests/fake_api_server.py): a synthetic prompt log with planted
topics, an embedder that gives each prompt a vector near its topic's centre, and a responder that
answers labelling requests with each topic's criteria (per labelling model) and topic-naming requests
with the topic's name. For tests and tests/bench_bench_builder.py; run as a script it serves them like
fake_api_server.py does (`--latency`, `--dimensions`), printing its base URL first."""
from __future__ import annotations

import argparse
import hashlib
import signal
import threading
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from fake_api_server import FakeAPIServer, ParsedRequest, Reply

CHEAP, STRONG, NAMER = "cheap-labeller", "strong-labeller", "topic-namer"


@dataclass(frozen=True)
class PlantedTopic:
    word: str  # appears in every prompt of the topic, and in no other
    name: str  # what the topic model calls it
    cheap: tuple[int, ...]  # the criteria the cheap labeller lists
    strong: tuple[int, ...]  # the strong labeller's
    subjects: tuple[str, ...]


TOPICS = (
    PlantedTopic("borrowchecker", "Rust Lifetimes", (1, 2, 3, 4, 6, 7), (1, 2, 3, 4, 5, 6, 7),
                 ("iterator", "struct", "closure", "trait", "async task", "hash map")),
    PlantedTopic("queryplanner", "SQL Query Tuning", (1, 2, 3, 4, 6, 7), (1, 2, 3, 4, 6, 7),
                 ("join", "index", "window function", "subquery", "partition", "view")),
    PlantedTopic("theorem", "Proofs by Induction", (1, 2, 3, 4, 6), (1, 2, 6),
                 ("sums", "primes", "graphs", "trees", "sequences", "matrices")),
    PlantedTopic("sonnet", "Poems about Cats", (1, 5, 7), (5,), ("kittens", "whiskers", "naps", "mice", "yarn", "sunbeams")),
    PlantedTopic("smalltalk", "Greetings", (), (), ("weather", "weekend", "coffee", "mood", "holidays", "music")),
)
HARD = ("borrowchecker", "queryplanner")  # the only topics both stages keep


def topic_of(text: str) -> PlantedTopic | None:
    return next((topic for topic in TOPICS if topic.word in text), None)


def prompt_text(topic: PlantedTopic, index: int) -> str:
    subject = topic.subjects[index % len(topic.subjects)]
    return (f"Question {index} about {topic.word}: how would you handle the {subject} case number {index * 7 + 3} "
            f"in a real project, step by step?")


def planted_log(per_topic: int = 40) -> list[dict[str, Any]]:
    """Records in Chatbot Arena's format, every topic `per_topic` times, plus records each reader filter
    drops: another language, too short, a duplicate, no prompt at all."""
    records = []
    for index in range(per_topic):
        for topic in TOPICS:
            records.append({"question_id": f"{topic.word}-{index}", "language": "English",
                            "conversation_a": [{"role": "user", "content": prompt_text(topic, index)},
                                               {"role": "assistant", "content": "An answer."}]})
    records += [
        {"language": "German", "conversation_a": [{"role": "user", "content": "Wie spät ist es bitte in Berlin gerade jetzt?"}]},
        {"language": "English", "conversation_a": [{"role": "user", "content": "hi"}]},
        {"language": "English", "conversation_a": [{"role": "user", "content": "  ".join(prompt_text(TOPICS[0], 0).split())}]},
        {"language": "English", "metadata": {"note": "no conversation"}},
    ]
    return records


class PlantedEmbedder:
    """Each text's vector: its topic's centre plus a little noise drawn from the text's hash (a text
    of no planted topic gets noise alone). `lengths` makes the n-th request's vectors of other lengths."""

    def __init__(self, dimensions: int = 64, noise: float = 0.05, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.dimensions = dimensions
        self.noise = noise
        self.centres = {topic.word: rng.normal(size=dimensions) for topic in TOPICS}
        self.requests = 0
        self.ragged_from: int | None = None  # from this request on, the first vector is one shorter

    def __call__(self, model: str, texts: Sequence[str]) -> list[np.ndarray]:
        self.requests += 1
        vectors = []
        for text in texts:
            rng = np.random.default_rng(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))
            topic = topic_of(text)
            centre = self.centres[topic.word] if topic else np.zeros(self.dimensions)
            vectors.append((centre + rng.normal(scale=self.noise, size=self.dimensions)).astype(np.float32))
        if self.ragged_from is not None and self.requests >= self.ragged_from:
            vectors[0] = vectors[0][:-1]
        return vectors


def criteria_answer(criteria: Sequence[int]) -> str:
    return f"[{', '.join(map(str, criteria))}]" if criteria else "None of them apply."


def bench_builder_responder(request: ParsedRequest) -> Reply:
    """Labelling requests (a system prompt, the prompt as the user message): the prompt's topic's
    criteria for the labelling model; naming requests: `Topic: <the name>`; anything else: a short answer."""
    text = request.last_user
    topic = topic_of(text)
    if request.system and request.model in (CHEAP, STRONG):
        chosen = () if topic is None else topic.cheap if request.model == CHEAP else topic.strong
        return Reply(criteria_answer(chosen))
    if text.startswith("Here are") and topic is not None:
        return Reply(f"Topic: {topic.name}")
    return Reply(f"An answer to: {' '.join(text.split()[:6])}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the fake API with BenchBuilder's embedder and responder.")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--dimensions", type=int, default=64)
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with FakeAPIServer(bench_builder_responder, latency=args.latency,
                       embedder=PlantedEmbedder(args.dimensions)) as server:
        print(server.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
