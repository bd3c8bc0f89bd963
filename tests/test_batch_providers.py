"""Which providers batch mode serves (issue 22): upstream's api_types that this project sends through
the openai client to another vendor's OpenAI-compatible API (deepseek, deepseek_reasoner, xai, mistral,
gemini) are refused up front by gen_answer.py, gen_judgment.py and build_bench.py, in one line naming
the file, the entry and its api_type, before anything is asked of anyone; upstream's aliases of OpenAI
and Anthropic themselves (openai_thinking, anthropic_thinking) go through the batch API. The scripts
run in this process against tests/fake_batch_server.py, which would take any batch it is sent."""
from __future__ import annotations

import pytest
import yaml

from fake_api_server import FakeAPIServer, JudgeResponder
from fake_batch_server import FakeBatchServer
from pipeline_helpers import read_jsonl, write_yaml
from test_batch import FAST, JUDGE, MARKERS, answer_workspace, judge_workspace, run_script
from test_bench_builder import run as run_bench_builder
from test_bench_builder import workspace as bench_builder_workspace

VENDORS = ("deepseek", "deepseek_reasoner", "xai", "mistral", "gemini")


def vendor_entry(api_type: str, url: str, **extra) -> dict:
    """An upstream v2.0 entry of `api_type`, its api_base pointed at the fake (as a proxy's would be)."""
    return {"model": "vendor-model", "api_type": api_type, "parallel": 2,
            "endpoints": [{"api_base": f"{url}/v1", "api_key": "test-key"}], **extra}


def refusal(result, name: str, api_type: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "Traceback" not in result.stderr
    assert "api_config.yaml: " in line and f"`{name}` (api_type {api_type}) has no batch API" in line
    assert "batch mode works with api_type openai, azure, anthropic" in line and "drop --batch" in line
    return line


@pytest.mark.parametrize("api_type", VENDORS)
@pytest.mark.parametrize("how", ["--batch", "batch: true", "--dry-run"])
def test_gen_answer_refuses_a_batch_for_another_vendor_before_anything(tmp_path, api_type, how):
    with FakeBatchServer() as fake:
        ws = answer_workspace(tmp_path, fake.url, "openai", 2)
        ws.write_api_config({"m": vendor_entry(api_type, fake.url, **({"batch": True} if how == "batch: true" else {}))})
        args = {"--batch": ["--batch"], "batch: true": [], "--dry-run": ["--batch", "--dry-run"]}[how]
        refusal(run_script("gen_answer.py", *args, *FAST, cwd=ws.root), "m", api_type)
        assert fake.calls == []
    assert not ws.answer_file("m").exists() and not (ws.bench_dir / "model_answer" / ".batch").exists()


def test_gen_judgment_refuses_a_batch_by_another_vendors_judge_before_anything(tmp_path):
    with FakeBatchServer() as fake:
        ws = judge_workspace(tmp_path, fake.url)
        ws.write_api_config({JUDGE: vendor_entry("deepseek", fake.url)})
        refusal(run_script("gen_judgment.py", "--batch", *FAST, cwd=ws.root), JUDGE, "deepseek")
        assert fake.calls == []
    assert not (ws.bench_dir / "model_judgment").exists()


def test_build_bench_refuses_a_batch_for_another_vendors_labeller_before_anything(tmp_path, upstream_bench_builder_dir):
    with FakeBatchServer() as fake:
        root = bench_builder_workspace(tmp_path, upstream_bench_builder_dir, fake.url)
        config = root / "config" / "api_config.yaml"
        entries = yaml.safe_load(config.read_text())
        entries["cheap"] = vendor_entry("xai", fake.url)
        write_yaml(config, entries)
        refusal(run_bench_builder("build_bench.py", "--batch", "--poll-interval", "0", cwd=root), "cheap", "xai")
        assert fake.calls == []


@pytest.mark.parametrize("api_type, extra", [("openai_thinking", {"reasoning_effort": "low"}),
                                             ("anthropic_thinking", {"budget_tokens": 1024})])
def test_upstreams_aliases_of_openai_and_anthropic_go_through_their_batch_api(tmp_path, api_type, extra):
    with FakeBatchServer() as fake:
        ws = answer_workspace(tmp_path, fake.url, "openai", 2)
        base = f"{fake.url}/v1" if api_type == "openai_thinking" else fake.url
        ws.write_api_config({"m": {"model": "served-model", "api_type": api_type, "parallel": 2,
                                   "endpoints": [{"api_base": base, "api_key": "test-key"}], **extra}})
        result = run_script("gen_answer.py", "--batch", *FAST, cwd=ws.root)
        assert result.returncode == 0, result.stderr
        assert [len(batch.lines) for batch in fake.batches] == [2]
    assert len(read_jsonl(ws.answer_file("m"))) == 2


def test_a_judge_of_another_vendor_runs_directly_without_batch(tmp_path):
    """The refusal is about batch mode only: the same judge judges without --batch."""
    with FakeAPIServer(JudgeResponder(MARKERS)) as live:
        ws = judge_workspace(tmp_path, live.url)
        ws.write_api_config({JUDGE: vendor_entry("deepseek", live.url)})
        result = run_script("gen_judgment.py", cwd=ws.root)
        assert result.returncode == 0, result.stderr
    assert len(read_jsonl(ws.judgment_file(JUDGE, "model-1"))) == 4
