"""Topic names (part of stage 3): each topic's top keywords by class-based TF-IDF, as BERTopic computes
them (scikit-learn's CountVectorizer over one document per topic; a word's frequency in the topic,
L1-normalised, times log(1 + the mean words per topic / the word's frequency over all topics)); and,
when the setting file names a `topic_model`, a name from that model: one call per topic, showing it
the topic's most central prompts (nearest its mean vector) and its keywords. The model's names are
cached in data/<bench>/.bench_builder/topic_names/<model>.jsonl by a digest of the request, so a rerun
asks nothing. Reads and writes that cache (through calls).
May import: arena_hard.models.providers; benchbuilder.calls; numpy, scikit-learn (for keywords)."""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Sequence

import numpy as np

from arena_hard.benchbuilder.calls import CallJob, job
from arena_hard.models.providers import ChatRequest

KEYWORDS = 4
KEYWORD_TEXT = 2_000  # characters of each prompt the keywords are counted on
CENTRAL_PROMPTS = 8
CENTRAL_TEXT = 500  # characters of each central prompt shown to the topic model
NAME_MAX_TOKENS = 32
NAME_CHARACTERS = 80


def keywords(texts_by_topic: Sequence[Sequence[str]], count: int = KEYWORDS) -> list[list[str]]:
    """The top `count` words of each topic by class-based TF-IDF (English stop words left out)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    documents = [" ".join(text[:KEYWORD_TEXT] for text in texts) for texts in texts_by_topic]
    vectorizer = CountVectorizer(stop_words="english")
    try:
        counts = vectorizer.fit_transform(documents)
    except ValueError:  # no word at all: only stop words, numbers, punctuation
        return [[] for _ in documents]
    words = vectorizer.get_feature_names_out()
    frequency = np.asarray(counts.sum(axis=0)).ravel()
    mean_words = float(counts.sum(axis=1).mean())
    weights = normalize(counts, norm="l1", axis=1).multiply(np.log(1 + mean_words / frequency)).tocsr()
    top = []
    for row in range(weights.shape[0]):
        start, end = weights.indptr[row], weights.indptr[row + 1]
        columns, values = weights.indices[start:end], weights.data[start:end]
        order = np.lexsort((columns, -values))[:count]  # ties: the alphabetically first word
        top.append([str(words[columns[i]]) for i in order])
    return top


def keyword_name(words: Sequence[str]) -> str:
    return ", ".join(words) if words else "(no keywords)"


def central(vectors: np.ndarray, members: np.ndarray, count: int = CENTRAL_PROMPTS) -> np.ndarray:
    """The `count` members nearest the topic's mean direction (rows of unit-length `vectors`)."""
    block = vectors[members]
    closeness = block @ block.mean(axis=0)
    return members[np.argsort(-closeness, kind="stable")[:count]]


def name_request(prompts: Sequence[str], words: Sequence[str]) -> ChatRequest:
    shown = "\n\n".join(f"Prompt {i}:\n{text[:CENTRAL_TEXT].strip()}" for i, text in enumerate(prompts, 1))
    text = (f"Here are {len(prompts)} prompts that users sent to an AI assistant. They belong to one topic, whose "
            f"keywords are: {', '.join(words) or 'none'}.\n\n{shown}\n\nName the topic in at most five words, "
            "specific enough to tell it from neighbouring topics. Reply with the name alone.")
    return ChatRequest(({"role": "user", "content": text},), 0.0, NAME_MAX_TOKENS)


def request_key(model_name: str, request: ChatRequest) -> str:
    content = json.dumps([model_name, request.messages, request.temperature, request.max_tokens], ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def name_job(model_name: str, prompts: Sequence[str], words: Sequence[str]) -> CallJob:
    request = name_request(prompts, words)
    return job(request_key(model_name, request), request)


def clean_name(answer: str) -> str:
    """The name in a model's reply: its first line, without markdown, quotes or a `Topic:` prefix."""
    line = next((line for line in answer.splitlines() if line.strip()), "")
    line = re.sub(r"^\s*(?:[#>*-]+\s*)?(?:\*\*)?(?:topic(?: name)?|name)\s*:\s*", "", line, flags=re.IGNORECASE)
    line = line.strip().strip("*_`\"'“”‘’ ").rstrip(".")
    return " ".join(line.split())[:NAME_CHARACTERS]


def name_record(key: str, answer: str) -> dict[str, Any]:
    return {"uid": key, "name": clean_name(answer), "answer": answer}
