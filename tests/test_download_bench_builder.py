"""download_data.py --bench-builder against the loopback raw-file fake of test_download.py, serving
upstream's BenchBuilder/category.py from ../shared/upstream-lmarena-196f6b8: fetched pinned, verified
by sha256, the criteria read out of it (never executed)."""
from __future__ import annotations

import ast

from arena_hard.core.bench_builder_criteria import load_criteria
from arena_hard.download.official_kit import BENCH_BUILDER_FILE, KITS, V2_BENCH
from test_download import KIT_DESTINATIONS, file_lines, run_script, server, sha256, temp_files  # noqa: F401 (fixture)

KIT = KITS[V2_BENCH]
V2_PREFIX = f"/{KIT.repo}/{KIT.commit}/"
CATEGORY = "config/official/category.py"


def criteria_oracle(source: str) -> tuple[str, dict[int, str]]:
    """(system prompt, tags) of the criteria_v0.1 class, found by walking the syntax tree by hand."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute):
            if node.targets[0].attr == "name_tag" and node.value.value == "criteria_v0.1":
                init = next(f for f in ast.walk(ast.parse(source)) if isinstance(f, ast.FunctionDef)
                            and f.lineno <= node.lineno <= f.end_lineno)
                fields = {s.targets[0].attr: s.value for s in init.body if isinstance(s, ast.Assign)}
                return fields["sys_prompt"].value, {k.value: v.value for k, v in zip(fields["tags"].keys,
                                                                                     fields["tags"].values)}
    raise AssertionError("no criteria_v0.1 class")


def test_bench_builder_criteria_are_fetched_verified_and_read(server, upstream_bench_builder_dir, tmp_path):
    server.raw_roots[V2_PREFIX] = upstream_bench_builder_dir
    result = run_script(tmp_path, "--bench-builder", "--base-url", server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert file_lines(result) == {**{d: "downloaded" for d in KIT_DESTINATIONS.values()}, CATEGORY: "downloaded"}
    fetched = (tmp_path / CATEGORY).read_bytes()
    assert fetched == (upstream_bench_builder_dir / BENCH_BUILDER_FILE[0]).read_bytes()
    assert sha256(fetched) == BENCH_BUILDER_FILE[1]
    assert f"criteria           {CATEGORY}: criteria_v0.1, 7 criteria (specificity, domain_knowledge" in result.stdout
    prompt, tags = criteria_oracle(fetched.decode("utf-8"))
    criteria = load_criteria(tmp_path / CATEGORY)
    assert (criteria.system_prompt, dict(criteria.tags)) == (prompt, tags)

    server.requests.clear()
    again = run_script(tmp_path, "--bench-builder", "--base-url", server.url)
    assert again.returncode == 0 and server.requests == []
    assert file_lines(again)[CATEGORY] == "verified, skipped"


def test_a_corrupted_category_file_is_not_kept(server, upstream_bench_builder_dir, tmp_path):
    server.raw_roots[V2_PREFIX] = upstream_bench_builder_dir
    server.faults[V2_PREFIX + BENCH_BUILDER_FILE[0]] = "corrupt"
    result = run_script(tmp_path, "--bench-builder", "--base-url", server.url)
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if CATEGORY in line)
    assert line.startswith("failed") and "sha256 mismatch" in line
    assert not (tmp_path / CATEGORY).exists() and temp_files(tmp_path) == []
    assert "criteria   " not in result.stdout


def test_dry_run_lists_the_category_file(server, tmp_path):
    result = run_script(tmp_path, "--bench-builder", "--base-url", server.url, "--dry-run")
    assert result.returncode == 0
    assert file_lines(result)[CATEGORY] == "would download" and server.requests == []
