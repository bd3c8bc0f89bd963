"""Shared test fixtures: where the repository and upstream's reference files are."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# Upstream Arena-Hard-Auto files at commit efc012e (questions, three answer files, the judge config),
# kept beside the repository and never copied into it.
UPSTREAM_DIR = Path(os.environ.get("ARENA_UPSTREAM_DIR", REPO_ROOT.parent / "shared" / "upstream-efc012e"))
# Upstream's v2.0 files at commit 196f6b8 (questions, o3-mini answers, configs, utils/judge_utils.py).
UPSTREAM_V2_DIR = Path(os.environ.get("ARENA_UPSTREAM_V2_DIR", REPO_ROOT.parent / "shared" / "upstream-lmarena-196f6b8"))


@pytest.fixture
def upstream_dir() -> Path:
    if not (UPSTREAM_DIR / "data" / "arena-hard-v0.1" / "question.jsonl").exists():
        pytest.skip(f"upstream reference files not found at {UPSTREAM_DIR} (set ARENA_UPSTREAM_DIR)")
    return UPSTREAM_DIR


@pytest.fixture
def upstream_v2_dir() -> Path:
    if not (UPSTREAM_V2_DIR / "utils" / "judge_utils.py").exists():
        pytest.skip(f"upstream v2.0 reference files not found at {UPSTREAM_V2_DIR} (set ARENA_UPSTREAM_V2_DIR)")
    return UPSTREAM_V2_DIR


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
