"""Stage 3, Cluster: the prompts' vectors grouped into topics, as BERTopic does it with maintained
parts: the vectors normalised to unit length (cosine geometry), reduced by PCA to
`reduced_dimensions` components, then clustered by scikit-learn's HDBSCAN with `min_topic_size` as
its minimum cluster size (upstream's --min-topic-size). Prompts HDBSCAN leaves out are the outliers
(topic -1), their own group, never sampled. Topics are numbered by size, largest first.

The assignment is cached in data/<bench>/.bench_builder/clusters/<digest>.npy, named by a digest of
the prompts (in order), the embedding model and the settings, so a rerun does not cluster again.
Reads and writes that cache.
May import: arena_hard.core; numpy, scikit-learn (when clustering)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from arena_hard.core.atomic_write import atomic_write_bytes

OUTLIER = -1
# PCA keeps topics apart only with enough components (BERTopic's UMAP needs 5, being non-linear): on
# 300 planted topics in 1,536 dimensions, 5 components merged them all and 10 found 264; 20 found 300.
REDUCED_DIMENSIONS = 20


@dataclass(frozen=True)
class ClusterSettings:
    min_topic_size: int
    reduced_dimensions: int
    seed: int
    embedding_model: str


def cache_file(directory: Path, keys: Sequence[str], settings: ClusterSettings) -> Path:
    digest = hashlib.sha256(json.dumps([settings.__dict__, list(keys)]).encode("utf-8")).hexdigest()
    return Path(directory) / f"{digest[:32]}.npy"


def normalise(vectors: np.ndarray) -> None:
    """Scale each row to unit length, in place (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.divide(vectors, np.where(norms > 0, norms, 1), out=vectors)


def reduce(vectors: np.ndarray, dimensions: int, seed: int) -> np.ndarray:
    """Unit-length rows reduced by PCA to at most `dimensions` components."""
    from sklearn.decomposition import PCA

    components = min(dimensions, vectors.shape[0] - 1, vectors.shape[1])
    solver = "randomized" if vectors.shape[0] > 1000 else "full"
    return PCA(components, svd_solver=solver, random_state=seed).fit_transform(vectors)


def by_size(labels: np.ndarray) -> np.ndarray:
    """The same partition with topics renumbered 0, 1, ... from the largest (ties: first seen)."""
    found = labels[labels != OUTLIER]
    if not found.size:
        return labels.astype(np.int32)
    ids, first, counts = np.unique(found, return_index=True, return_counts=True)
    order = ids[np.lexsort((first, -counts))]
    mapping = np.full(int(labels.max()) + 1, OUTLIER, dtype=np.int32)
    mapping[order] = np.arange(len(order), dtype=np.int32)
    return np.where(labels == OUTLIER, OUTLIER, mapping[np.maximum(labels, 0)]).astype(np.int32)


def cluster(vectors: np.ndarray, settings: ClusterSettings) -> np.ndarray:
    """Each row's topic (0 = the largest) or OUTLIER, for unit-length rows (normalise)."""
    from sklearn.cluster import HDBSCAN

    reduced = reduce(vectors, settings.reduced_dimensions, settings.seed)
    labels = HDBSCAN(min_cluster_size=settings.min_topic_size, copy=True).fit_predict(reduced)
    return by_size(labels)


def cached_cluster(directory: Path, keys: Sequence[str], vectors: np.ndarray, settings: ClusterSettings,
                   dry_run: bool = False) -> np.ndarray:
    """`cluster`, read from the cache when these prompts were clustered with these settings before."""
    path = cache_file(directory, keys, settings)
    if path.exists():
        try:
            labels = np.load(path)
        except (OSError, ValueError):
            labels = None
        if labels is not None and labels.shape == (len(keys),):
            return labels
    labels = cluster(vectors, settings)
    if not dry_run:
        buffer = _npy_bytes(labels)
        atomic_write_bytes(path, [buffer])
    return labels


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
