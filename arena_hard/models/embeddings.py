"""Embeddings through an OpenAI-compatible `/v1/embeddings` (OpenAI, Azure OpenAI, vLLM, TEI, Ollama, ...),
with the same client machinery as chat: an `embedding_model` entry of api_config.yaml, its endpoints,
`parallel`, retries and stop rules (models.client.ModelClient).

`EmbeddingClient.embed(texts)` sends one request for a batch of texts and returns their vectors, one
float32 row per text, in order (whether they all have one length is for the caller to judge). The
vectors are asked for base64-encoded (as the openai SDK does by default) and decoded here without a
detour through Python lists; a server that answers plain lists of floats is read too. A response that
is not one vector per text is a failed request. Only api_types whose SDK client has an embeddings API
are accepted. Reads and writes nothing."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import lone_surrogate
from arena_hard.core.usage import Tokens
from arena_hard.models.client import ModelClient
from arena_hard.models.retry import NotAnApi

EMBEDDING_API_TYPES = ("openai", "azure")


@dataclass(frozen=True)
class EmbeddingRequest:
    texts: tuple[str, ...]


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: list[np.ndarray]  # float32, one per text
    prompt_tokens: int
    completion_tokens: int = 0
    truncated: bool = False  # what the client counts of every result (ChatResult's fields); never for embeddings
    usage_note: str | None = None

    @property
    def tokens(self) -> Tokens:
        return Tokens(self.prompt_tokens, self.completion_tokens)


def _vector(value: Any) -> np.ndarray:
    if isinstance(value, str):
        return np.frombuffer(base64.b64decode(value), dtype="<f4")
    return np.asarray(value, dtype=np.float32)


def vectors_of(response: Any, count: int) -> EmbeddingResult:
    """The vectors of an SDK CreateEmbeddingResponse, ordered by `index`."""
    if not hasattr(response, "data"):
        raise NotAnApi("the endpoint answered 200 with something that is not an embeddings API response: "
                       "check api_base (an OpenAI-compatible server's usually ends in /v1)")
    items = sorted(response.data or [], key=lambda item: item.index)
    if [item.index for item in items] != list(range(count)):
        raise ValueError(f"the API returned {len(items)} vectors for {count} texts")
    usage = getattr(response, "usage", None)
    return EmbeddingResult([_vector(item.embedding) for item in items], int(getattr(usage, "prompt_tokens", 0) or 0))


async def call_embeddings(client: Any, model: ModelConfig, request: EmbeddingRequest) -> EmbeddingResult:
    params: dict[str, Any] = {"model": model.model_name, "input": list(request.texts), "encoding_format": "base64"}
    if model.extra_body:
        params["extra_body"] = model.extra_body
    if model.extra_headers:
        params["extra_headers"] = model.extra_headers
    return vectors_of(await client.embeddings.create(**params), len(request.texts))


def unsendable_texts(request: EmbeddingRequest) -> str | None:
    """Why the SDK cannot send `request`'s texts (it encodes them as UTF-8), or None."""
    for number, text in enumerate(request.texts, 1):
        problem = lone_surrogate(text)
        if problem:
            return f"text {number} {problem}"
    return None


def check_embedding_model(model: ModelConfig) -> None:
    if model.api_type not in EMBEDDING_API_TYPES:
        raise UserError(f"{model.source}: `{model.name}` (api_type {model.api_type}) has no embeddings API; an "
                        f"embedding model needs api_type {' or '.join(EMBEDDING_API_TYPES)} (any OpenAI-compatible "
                        "/v1/embeddings)")


class EmbeddingClient(ModelClient):
    """A ModelClient whose requests are embedding requests: the same concurrency bound, endpoint
    health, retries and usage counts as chat."""

    def __post_init__(self) -> None:
        check_embedding_model(self.config)
        super().__post_init__()
        self._call = call_embeddings
        self._unsendable = unsendable_texts

    async def embed(self, texts: tuple[str, ...]) -> EmbeddingResult:
        return await self.chat(EmbeddingRequest(texts))  # type: ignore[arg-type]
