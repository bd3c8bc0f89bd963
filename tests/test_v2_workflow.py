"""The README's v2.0 workflow, as a new user runs it, against loopback fakes only: download the kit
and the published creative-writing baseline (raw-file and Hub fake of test_download.py, serving
upstream's v2.0 files), answer the questions with a model and judge them with gpt-4.1 (the fake API,
real SDK clients), with the repository's own config files; then check the v2 records."""
from __future__ import annotations

import json
import shutil

import pytest

from arena_hard.core.config import load_yaml
from arena_hard.core.errors import UserError
from arena_hard.core.judge_config_v2 import load_v2_judge_settings
from arena_hard.download.official_kit import KITS, V2_BENCH
from conftest import REPO_ROOT
from fake_api_server import Reply, hashed_verdict
from pipeline_helpers import read_jsonl, run_script, write_yaml
from test_download import _jsonl, run_script as run_download, server  # noqa: F401 (fixture)

KIT = KITS[V2_BENCH]


def test_repository_v2_judge_config_needs_the_kit_then_reads_upstreams_template(tmp_path, upstream_v2_dir):
    shutil.copy(REPO_ROOT / "config" / "arena-hard-v2.0.yaml", tmp_path / "arena-hard-v2.0.yaml")
    with pytest.raises(UserError, match=r"download_data.py --bench arena-hard-v2.0"):
        load_v2_judge_settings(tmp_path / "arena-hard-v2.0.yaml")
    (tmp_path / "official").mkdir()
    shutil.copy(upstream_v2_dir / "config" / "arena-hard-v2.0.yaml", tmp_path / "official" / "arena-hard-v2.0.yaml")
    ours = load_v2_judge_settings(tmp_path / "arena-hard-v2.0.yaml")
    theirs = load_v2_judge_settings(upstream_v2_dir / "config" / "arena-hard-v2.0.yaml")
    for field in ("judge_model", "temperature", "max_tokens", "bench_name", "prompt_template", "reference"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert [p.pattern for p in ours.regex_patterns] == [p.pattern for p in theirs.regex_patterns]


def judge(request):
    return Reply(f"Reasoning.\n\nMy final verdict is [[{hashed_verdict(request.last_user)}]]")


def test_download_answer_judge_with_the_repository_configs(server, fake_api, upstream_v2_dir, tmp_path):
    root = tmp_path
    server.raw_roots[f"/{KIT.repo}/{KIT.commit}/"] = upstream_v2_dir
    questions = [json.loads(line) for line in
                 (upstream_v2_dir / "data/arena-hard-v2.0/question.jsonl").read_text().split("\n") if line]
    creative = [q["uid"] for q in questions if q["category"] == "creative_writing"]
    path = "data/arena-hard-v2.0/model_answer/gemini-2.0-flash-001.jsonl"
    server.hub_files[path] = _jsonl([{"uid": uid, "model": "gemini-2.0-flash-001", "messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": {"answer": f"Gemini's story {uid}"}}]}
        for uid in creative])
    server.hub_lfs.add(path)
    server.hub_files["data/arena-hard-v2.0/model_judgment/gpt-4.1/other.jsonl"] = b""
    downloaded = run_download(root, "--bench", V2_BENCH, "--pregenerated", "--model", "gemini-2.0-flash-001",
                              "--base-url", server.url, "--hf-base-url", server.url)
    assert downloaded.returncode == 0, downloaded.stdout + downloaded.stderr
    # The suite's time budget: 12 questions of each category rather than all 750 (the benchmark script
    # runs all 750); the files are otherwise the downloaded ones.
    kept = [q for q in questions if q["category"] == "hard_prompt"][:12] + [q for q in questions if q["uid"] in creative][:12]
    (root / "data/arena-hard-v2.0/question.jsonl").write_text("".join(json.dumps(q) + "\n" for q in kept))

    api = fake_api(lambda request: judge(request) if request.model == "gpt-4.1"
                   else Reply(f"Answer to: {request.last_user[:40]}"))
    shutil.copytree(REPO_ROOT / "config", root / "config", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("official"))
    entries = load_yaml(root / "config" / "api_config.yaml")
    for name in ("gpt-4.1", "gpt-4o-mini-2024-07-18"):
        entries[name]["endpoints"] = [{"api_base": api.openai_base_url, "api_key": "k"}]
    write_yaml(root / "config" / "api_config.yaml", entries)

    answered = run_script("gen_answer.py", "--config-file", "config/gen_answer_config_v2.0.yaml", cwd=root)
    assert answered.returncode == 0, answered.stderr
    judged = run_script("gen_judgment.py", "--setting-file", "config/arena-hard-v2.0.yaml", cwd=root)
    assert judged.returncode == 0, judged.stderr

    answers = read_jsonl(root / "data/arena-hard-v2.0/model_answer/gpt-4o-mini-2024-07-18.jsonl")
    assert [a["uid"] for a in answers] == sorted(q["uid"] for q in kept)
    records = read_jsonl(root / "data/arena-hard-v2.0/model_judgment/gpt-4.1/gpt-4o-mini-2024-07-18.jsonl")
    assert [r["uid"] for r in records] == sorted(q["uid"] for q in kept)
    baselines = {r["category"]: r["baseline"] for r in records}
    assert baselines == {"hard_prompt": "o3-mini-2025-01-31", "creative_writing": "gemini-2.0-flash-001"}
    assert all(g["score"] in ("A>>B", "A>B", "A=B", "B>A", "B>>A") for r in records for g in r["games"])
    assert {r.request.model for r in api.requests} == {"gpt-4o-mini", "gpt-4.1"}
    assert len(api.requests) == len(kept) * 3
