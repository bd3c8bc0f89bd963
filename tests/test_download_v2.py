"""download_data.py --bench arena-hard-v2.0 against the loopback raw-file and Hub fake of
test_download.py, serving upstream's v2.0 files from ../shared/upstream-lmarena-196f6b8."""
from __future__ import annotations

import ast

import yaml

from arena_hard.core.judge_settings import load_official
from arena_hard.download.official_kit import KITS, V2_BENCH
from test_download import _jsonl, file_lines, run_script, server, sha256, temp_files  # noqa: F401 (fixture)

KIT = KITS[V2_BENCH]
V2_PREFIX = f"/{KIT.repo}/{KIT.commit}/"
DESTINATIONS = {"data/arena-hard-v2.0/question.jsonl": "data/arena-hard-v2.0/question.jsonl",
                "data/arena-hard-v2.0/model_answer/o3-mini-2025-01-31.jsonl":
                    "data/arena-hard-v2.0/model_answer/o3-mini-2025-01-31.jsonl",
                "config/arena-hard-v2.0.yaml": "config/official/arena-hard-v2.0.yaml",
                "utils/judge_utils.py": "config/official/judge_utils.py"}


def prompts_by_category(judge_utils_text):
    """The oracle: {category: (baseline, system prompt)} by walking the syntax tree by hand."""
    tree = ast.parse(judge_utils_text)
    names = {n.targets[0].id: n.value for n in tree.body if isinstance(n, ast.Assign)}
    settings = names.pop("JUDGE_SETTINGS")
    strings = {name: value.value for name, value in names.items() if isinstance(value, ast.Constant)}
    return {k.value: tuple(strings[v.id] if isinstance(v, ast.Name) else v.value for v in entry.values)
            for k, entry in zip(settings.keys, settings.values)}


def test_v2_kit_verified_and_judge_settings_derived(server, upstream_v2_dir, tmp_path):
    server.raw_roots[V2_PREFIX] = upstream_v2_dir
    first = run_script(tmp_path, "--bench", V2_BENCH, "--base-url", server.url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert file_lines(first) == {d: "downloaded" for d in DESTINATIONS.values()}
    for upstream_path, destination in DESTINATIONS.items():
        assert (tmp_path / destination).read_bytes() == (upstream_v2_dir / upstream_path).read_bytes()
    expected = prompts_by_category((upstream_v2_dir / "utils" / "judge_utils.py").read_text(encoding="utf-8"))
    settings_file = tmp_path / "config" / "official" / "judge_settings.yaml"
    derived = yaml.safe_load(settings_file.read_text(encoding="utf-8"))["category_settings"]
    assert {c: (s["baseline"], s["system_prompt"]) for c, s in derived.items()} == expected
    assert set(expected) == {"hard_prompt", "coding", "math", "creative_writing", "arena-hard-v0.1"}
    assert "derived" in first.stdout and temp_files(tmp_path) == []
    assert not (tmp_path / "data" / "arena-hard-v0.1").exists()  # only the bench asked for

    server.requests.clear()
    second = run_script(tmp_path, "--bench", V2_BENCH, "--base-url", server.url)
    assert second.returncode == 0 and server.requests == []
    assert file_lines(second) == {d: "verified, skipped" for d in DESTINATIONS.values()}
    assert "up to date" in second.stdout


def test_v2_kit_with_a_corrupted_judge_utils_writes_no_settings(server, upstream_v2_dir, tmp_path):
    server.raw_roots[V2_PREFIX] = upstream_v2_dir
    server.faults[V2_PREFIX + "utils/judge_utils.py"] = "corrupt"
    result = run_script(tmp_path, "--bench", V2_BENCH, "--base-url", server.url)
    assert result.returncode == 1
    assert not (tmp_path / "config" / "official" / "judge_settings.yaml").exists()
    assert not (tmp_path / "config" / "official" / "judge_utils.py").exists()


def test_v2_pregenerated_brings_the_creative_writing_baseline_and_gpt41_judgments(server, upstream_v2_dir, tmp_path):
    server.raw_roots[V2_PREFIX] = upstream_v2_dir
    gemini = _jsonl([{"uid": "u1", "model": "gemini-2.0-flash-001",
                      "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": {"answer": "a"}}]}])
    server.hub_files["data/arena-hard-v2.0/model_answer/gemini-2.0-flash-001.jsonl"] = gemini
    server.hub_lfs.add("data/arena-hard-v2.0/model_answer/gemini-2.0-flash-001.jsonl")
    judgment = _jsonl([{"uid": "u1", "category": "creative_writing", "judge": "gpt-4.1", "model": "m",
                        "baseline": "gemini-2.0-flash-001", "games": [None, {"score": "A>B"}]}])
    server.hub_files["data/arena-hard-v2.0/model_judgment/gpt-4.1/m.jsonl"] = judgment
    server.hub_files["data/arena-hard-v2.0/model_judgment/gemini-2.5/m.jsonl"] = judgment
    result = run_script(tmp_path, "--bench", V2_BENCH, "--pregenerated", "--base-url", server.url,
                        "--hf-base-url", server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = file_lines(result)
    assert lines["data/arena-hard-v2.0/model_answer/gemini-2.0-flash-001.jsonl"] == "downloaded"
    assert lines["data/arena-hard-v2.0/model_judgment/gpt-4.1/m.jsonl"] == "downloaded"
    assert "data/arena-hard-v2.0/model_judgment/gemini-2.5/m.jsonl" not in lines  # gpt-4.1 is v2.0's judge
    # the kit's question file wins over the Hub's
    assert sha256((tmp_path / "data/arena-hard-v2.0/question.jsonl").read_bytes()) == KIT.question_sha256


def test_a_bench_without_a_kit_needs_pregenerated(tmp_path):
    result = run_script(tmp_path, "--bench", "my-bench")
    assert result.returncode == 2 and "no official kit" in result.stderr


def test_load_official_reads_what_the_download_wrote(server, upstream_v2_dir, tmp_path):
    server.raw_roots[V2_PREFIX] = upstream_v2_dir
    assert run_script(tmp_path, "--bench", V2_BENCH, "--base-url", server.url).returncode == 0
    official = load_official(tmp_path / "config" / "official" / "judge_settings.yaml")
    assert {c: s["baseline"] for c, s in official.items()} == {
        "hard_prompt": "o3-mini-2025-01-31", "coding": "o3-mini-2025-01-31", "math": "o3-mini-2025-01-31",
        "creative_writing": "gemini-2.0-flash-001", "arena-hard-v0.1": "gpt-4-0314"}
