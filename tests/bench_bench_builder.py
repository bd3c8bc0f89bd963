"""Benchmarks of build_bench.py (not collected by pytest). Prints:

  1. Embedding 10,000 prompts (batches of 64) and labelling them (one call each) against the loopback
     fake (tests/fake_bench_builder.py, a separate process) at 0.5 s latency: our stages' wall time
     against the bare SDK's floor (one AsyncOpenAI client, the same requests at the same concurrency,
     the results dropped) and against ceil(requests / parallel) x 0.5 s; then the whole build_bench.py
     command on that log, and a rerun (no call).
  2. Clustering 100,000 prompts with 1,536-dimensional embeddings (planted clusters) as build_bench.py
     does it: reading the vectors from the on-disk cache, normalising, PCA, HDBSCAN, the topics'
     keywords; in a fresh process, its wall time and peak RSS (target: 10 minutes, 4 GB).

Run: .venv/bin/python tests/bench_bench_builder.py [--cluster-size 100000]   (several minutes)"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

import build_bench  # noqa: E402
from arena_hard.benchbuilder import calls, criteria as labelling  # noqa: E402
from arena_hard.benchbuilder.cost import LABEL_OUTPUT, Costs  # noqa: E402
from arena_hard.benchbuilder.embed import batches, embed_prompts  # noqa: E402
from arena_hard.benchbuilder.read_log import read_prompts  # noqa: E402
from arena_hard.benchbuilder.vectors import VectorStore  # noqa: E402
from arena_hard.core.bench_builder_criteria import load_criteria  # noqa: E402
from arena_hard.core.endpoints import load_model_configs  # noqa: E402
from arena_hard.generate.cost import Pricing  # noqa: E402
from bench_all_models import quietly_in, timed  # noqa: E402
from bench_helpers import server_process  # noqa: E402
from fake_bench_builder import CHEAP, planted_log  # noqa: E402
from pipeline_helpers import model_entry, write_jsonl, write_yaml  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CATEGORY = Path(os.environ.get("ARENA_UPSTREAM_V2_DIR", REPO.parent / "shared" / "upstream-lmarena-196f6b8")) / \
    "BenchBuilder" / "category.py"
PROMPTS, LATENCY, BATCH, EMBED_PARALLEL, LABEL_PARALLEL = 10_000, 0.5, 64, 16, 128


def bare_sdk(url: str, embed_inputs: list[list[str]], label_messages: list[list[dict]]) -> tuple[float, float]:
    """(embedding seconds, labelling seconds) of one AsyncOpenAI client sending the same requests."""
    import openai

    async def run(jobs, parallel, send) -> None:
        client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="test-key", max_retries=0)
        slots = asyncio.Semaphore(parallel)

        async def one(job) -> None:
            async with slots:
                await send(client, job)

        await asyncio.gather(*(one(job) for job in jobs))
        await client.close()

    async def embed(client, texts):
        await client.embeddings.create(model="planted-embedder", input=texts, encoding_format="base64")

    async def label(client, messages):
        await client.chat.completions.create(model=CHEAP, messages=messages, temperature=0.0, max_tokens=32)

    return (timed(lambda: asyncio.run(run(embed_inputs, EMBED_PARALLEL, embed))),
            timed(lambda: asyncio.run(run(label_messages, LABEL_PARALLEL, label))))


def workspace(root: Path, url: str) -> Path:
    (root / "config" / "official").mkdir(parents=True)
    (root / "config" / "official" / "category.py").write_bytes(CATEGORY.read_bytes())
    write_jsonl(root / "log.jsonl", [r for r in planted_log(PROMPTS // 5) if "question_id" in r])
    write_yaml(root / "config" / "api_config.yaml", {
        "embedder": model_entry(f"{url}/v1", model_name="planted-embedder", parallel=EMBED_PARALLEL),
        "cheap": model_entry(f"{url}/v1", model_name=CHEAP, parallel=LABEL_PARALLEL)})
    write_yaml(root / "config" / "bench_builder.yaml", {
        "bench_name": "bench", "input_file": "log.jsonl", "embedding_model": "embedder", "min_topic_size": 100,
        "stages": [{"label_model": "cheap", "prompt_threshold": 5, "cluster_threshold": 3}], "size": 500,
        "per_topic": 250, "seed": 0, "embedding_batch_size": BATCH})
    return root


def bench_requests(tmp: Path) -> None:
    with server_process(REPO / "tests" / "fake_bench_builder.py", "--latency", str(LATENCY)) as url:
        root = workspace(tmp / "requests", url)
        prompts = read_prompts(root / "log.jsonl", "English").prompts
        criteria = load_criteria(root / "config" / "official" / "category.py")
        models = load_model_configs(root / "config" / "api_config.yaml", ("embedder", "cheap"))
        jobs = [calls.job(p.key, labelling.label_request(criteria, p.text)) for p in prompts]
        requests = batches(prompts, BATCH)
        with quietly_in(root):
            costs = Costs(Pricing(), dry_run=False)  # no budget: the estimates only carry the (unknown) price
            embedding, labels = (costs.embedding("embed", models["embedder"], requests),
                                 costs.chat("label", models["cheap"], False, jobs, (), LABEL_OUTPUT, ""))
            embed_prompts(VectorStore(tmp / "warm", "planted-embedder"), requests[:1], models["embedder"], embedding,
                          None)
            embedded = timed(lambda: embed_prompts(VectorStore(tmp / "vectors", "planted-embedder"), requests,
                                                   models["embedder"], embedding, None))
            labelled = timed(lambda: calls.run_calls("label", models["cheap"], jobs, lambda key, answer:
                                                     labelling.label_record(criteria, key, answer),
                                                     tmp / "labels.jsonl", "labelled", None, labels, None))
        bare_embed, bare_label = bare_sdk(url, [[p.text for p in b] for b in requests],
                                          [list(job.request.messages) for job in jobs])
        command = timed(lambda: subprocess.run([sys.executable, str(REPO / "build_bench.py")], cwd=root,
                                               capture_output=True, check=True))
        rerun = timed(lambda: subprocess.run([sys.executable, str(REPO / "build_bench.py")], cwd=root,
                                             capture_output=True, check=True))
    requests = math.ceil(len(prompts) / BATCH)
    for what, ours, bare, count, parallel in (("embedding", embedded, bare_embed, requests, EMBED_PARALLEL),
                                              ("labelling", labelled, bare_label, len(prompts), LABEL_PARALLEL)):
        floor = math.ceil(count / parallel) * LATENCY
        print(f"1. {what} {len(prompts):,} prompts: {count:,} requests, parallel {parallel}, {LATENCY} s latency "
              f"(limit {floor:.1f} s)")
        print(f"   ours {ours:6.2f} s, bare SDK {bare:6.2f} s: ours / bare SDK = {ours / bare:.3f}, "
              f"ours / limit = {ours / floor:.3f}")
    print(f"   whole build_bench.py (read, embed, cluster, keywords, label, filter, sample, write): {command:.1f} s; "
          f"a rerun (no call): {rerun:.1f} s")


CLUSTER_CHILD = """
import resource, sys, time
sys.path.insert(0, {repo!r})
from arena_hard.benchbuilder.cluster import REDUCED_DIMENSIONS, ClusterSettings, cluster, normalise
from arena_hard.benchbuilder.topic_names import keywords
from arena_hard.benchbuilder.vectors import VectorStore
import numpy as np
keys = open({keys!r}).read().split()
start = time.perf_counter()
vectors = VectorStore({store!r}, "synthetic").matrix(keys)
normalise(vectors)
loaded = time.perf_counter()
topics = cluster(vectors, ClusterSettings(32, REDUCED_DIMENSIONS, 0, "synthetic"))
clustered = time.perf_counter()
texts = [f"topic{{i % 300}} word{{i % 997}} term{{i % 89}} " * 8 for i in range(len(keys))]
found = [int(t) for t in np.unique(topics) if t >= 0]
keywords([[texts[i] for i in np.flatnonzero(topics == t)] for t in found])
done = time.perf_counter()
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(len(found), int((topics < 0).sum()), loaded - start, clustered - loaded, done - clustered,
      int(peak.split()[1]) / 1024)
"""


def bench_cluster(tmp: Path, count: int, dimensions: int = 1536, centres: int = 300) -> None:
    import numpy as np

    store = VectorStore(tmp / "cluster", "synthetic")
    rng = np.random.default_rng(0)
    middle = rng.normal(size=(centres, dimensions)).astype(np.float32)
    keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(count)]
    for start in range(0, count, 5000):
        chunk = keys[start:start + 5000]
        noise = rng.normal(scale=0.6, size=(len(chunk), dimensions)).astype(np.float32)
        store.append(chunk, list(middle[rng.integers(0, centres, len(chunk))] + noise))
    (tmp / "keys.txt").write_text("\n".join(keys))
    child = CLUSTER_CHILD.format(repo=str(REPO), keys=str(tmp / "keys.txt"), store=str(tmp / "cluster"))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    topics, outliers, load, clustering, named, peak = done.stdout.split()
    print(f"2. clustering {count:,} prompts x {dimensions} dimensions ({centres} planted clusters): {wall:.0f} s in all "
          f"(reading the cache {float(load):.1f} s, PCA + HDBSCAN {float(clustering):.1f} s, keywords "
          f"{float(named):.1f} s), peak RSS {float(peak):,.0f} MB; {topics} topics, {outliers} outliers "
          "(target: 600 s, 4,096 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster-size", type=int, default=100_000)
    parser.add_argument("--skip-requests", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_requests:
            bench_requests(Path(tmp))
        bench_cluster(Path(tmp), args.cluster_size)


if __name__ == "__main__":
    build_bench  # imported so that the whole script's imports are paid before any timing
    main()
