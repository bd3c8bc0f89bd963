"""Shared test fixtures: where the repository and upstream's reference files are."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# A suite started as a background job of a non-interactive shell (`pytest &` in a script) inherits SIGINT
# ignored, and so would every script it starts, which the tests that press Ctrl-C on a run could not stop.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# Upstream's own files, kept outside the repository (never copied into it), for the tests that compare with
# them. CI keeps them beside the clone, in upstream's layout; ARENA_UPSTREAM_DIR / ARENA_UPSTREAM_V2_DIR name
# another folder, such as one download_data.py filled (docs/testing.md).
UPSTREAM_DIR = Path(os.environ.get("ARENA_UPSTREAM_DIR", REPO_ROOT.parent / "shared" / "upstream-efc012e"))
UPSTREAM_V2_DIR = Path(os.environ.get("ARENA_UPSTREAM_V2_DIR", REPO_ROOT.parent / "shared" / "upstream-lmarena-196f6b8"))
# Each file the tests read, at its path in upstream's repository -> where download_data.py puts it when run
# with --data-dir DIR/data --config-dir DIR/config (data files: the same path).
UPSTREAM_FILES = {
    "data/arena-hard-v0.1/question.jsonl": None,
    "data/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl": None,
    "data/arena-hard-v0.1/model_answer/gpt-4-0613.jsonl": None,
    "data/arena-hard-v0.1/model_answer/gpt-3.5-turbo-0125.jsonl": None,
    "config/judge_config.yaml": "config/official/judge_config.yaml",
}
UPSTREAM_V2_FILES = {
    "data/arena-hard-v2.0/question.jsonl": None,
    "data/arena-hard-v2.0/model_answer/o3-mini-2025-01-31.jsonl": None,
    "config/arena-hard-v2.0.yaml": "config/official/arena-hard-v2.0.yaml",
    "utils/judge_utils.py": "config/official/judge_utils.py",
}
# BenchBuilder's criteria (build_bench.py's tests), from the same v2.0 commit
UPSTREAM_BENCH_BUILDER_FILES = {"BenchBuilder/category.py": "config/official/category.py"}
HOW = {"ARENA_UPSTREAM_DIR": "python download_data.py --data-dir DIR/data --config-dir DIR/config, then the same "
                             "with --pregenerated --model gpt-4-0613 --model gpt-3.5-turbo-0125",
       "ARENA_UPSTREAM_V2_DIR": "python download_data.py --bench arena-hard-v2.0 --data-dir DIR/data --config-dir DIR/config"}
HOW_BENCH_BUILDER = "python download_data.py --bench-builder --data-dir DIR/data --config-dir DIR/config"
# The seed's notebook/benchmark_statistics.ipynb inputs: three bootstrap-statistics files, three name maps and
# Chatbot Arena's table of 2024-03-29 as CSV.
SEED_NOTEBOOK_DIR = Path(os.environ.get("ARENA_SEED_NOTEBOOK_DIR", REPO_ROOT.parent / "shared" / "seed-notebook"))
SEED_NOTEBOOK_FILES = ("bootstrap_stats_arena_hard.jsonl", "bootstrap_stats_alpaca_LC.jsonl",
                       "bootstrap_stats_mt_bench.jsonl", "arena_to_arena_hard.json", "alpaca_to_arena.json",
                       "arena_to_mt_bench.json", "chatbot_arena_20240329.csv")


def reference_folder(root: Path, files: dict[str, str | None], variable: str, factory: pytest.TempPathFactory,
                     how: str | None = None) -> Path:
    """`root` in upstream's layout: itself when it is one, else (a download_data.py folder) a folder of links
    to its files at upstream's paths; when a file is missing, the test is skipped, saying how to provide it."""
    if all((root / path).is_file() for path in files):
        return root
    missing = [downloaded or path for path, downloaded in files.items() if not (root / (downloaded or path)).is_file()]
    if missing:
        pytest.skip(f"upstream's reference files are not at {root} (no {missing[0]}): set {variable}=DIR after "
                    f"{how or HOW[variable]} (see docs/testing.md)")
    view = factory.mktemp(variable.lower())
    for path, downloaded in files.items():
        (view / path).parent.mkdir(parents=True, exist_ok=True)
        (view / path).symlink_to((root / (downloaded or path)).resolve())
    return view


@pytest.fixture(scope="session")
def upstream_dir(tmp_path_factory) -> Path:
    """Upstream v0.1's files at lm-sys/arena-hard-auto commit efc012e: questions, three answer files, the judge config."""
    return reference_folder(UPSTREAM_DIR, UPSTREAM_FILES, "ARENA_UPSTREAM_DIR", tmp_path_factory)


@pytest.fixture(scope="session")
def upstream_v2_dir(tmp_path_factory) -> Path:
    """Upstream v2.0's files at lmarena/arena-hard-auto commit 196f6b8: questions, o3-mini's answers, the judge
    config, utils/judge_utils.py."""
    return reference_folder(UPSTREAM_V2_DIR, UPSTREAM_V2_FILES, "ARENA_UPSTREAM_V2_DIR", tmp_path_factory)


@pytest.fixture(scope="session")
def upstream_bench_builder_dir(tmp_path_factory) -> Path:
    """Upstream's BenchBuilder/category.py at lmarena/arena-hard-auto commit 196f6b8 (the criteria)."""
    return reference_folder(UPSTREAM_V2_DIR, UPSTREAM_BENCH_BUILDER_FILES, "ARENA_UPSTREAM_V2_DIR", tmp_path_factory,
                            HOW_BENCH_BUILDER)


def seed_notebook_folder(root: Path) -> Path:
    """`root` when it holds every seed-notebook file; else the test is skipped, saying how to provide them."""
    missing = [name for name in SEED_NOTEBOOK_FILES if not (root / name).is_file()]
    if missing:
        pytest.skip(f"the seed notebook's files are not at {root} (no {missing[0]}): set ARENA_SEED_NOTEBOOK_DIR=DIR "
                    "holding the seed repository's notebook/ files and Chatbot Arena's table as CSV "
                    "(see docs/testing.md)")
    return root


@pytest.fixture
def seed_notebook_dir() -> Path:
    """The seed notebook's input files (SEED_NOTEBOOK_FILES): $ARENA_SEED_NOTEBOOK_DIR, else ../shared/seed-notebook."""
    return seed_notebook_folder(SEED_NOTEBOOK_DIR)


@pytest.fixture
def fake_api():
    """Start loopback fake OpenAI/Anthropic API servers (tests/fake_api_server.py): `fake_api(responder,
    latency=..., faults=FaultPlan(...))` returns a running FakeAPIServer; all are stopped after the test."""
    from fake_api_server import FakeAPIServer

    servers = []

    def start(*args, **kwargs):
        server = FakeAPIServer(*args, **kwargs)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
