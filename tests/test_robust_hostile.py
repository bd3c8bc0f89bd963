"""Careless or hostile input that is not a plain error (the one-line refusals are cases of
tests/test_robust_bad_input.py): names that are paths, a server that is not an API or asks to wait a
day, a key pasted with its newline, a full disk, a killed run's temporaries, the demo's deletions, and
the pure pieces behind them (the file-name rule, YAML loading, ${VAR} expansion)."""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from arena_hard.core.endpoints import _interpolate
from arena_hard.core.errors import UserError
from arena_hard.core.names import file_stem, name_from_stem, unique
from arena_hard.core.records import Bench
from arena_hard.core.yaml_file import safe_load
from fake_api_server import FaultPlan
from pipeline_helpers import BENCH, Workspace, model_entry, questions, read_jsonl
from test_robust_bad_input import BASE, JUDGE, MODEL, SHOW, make_bench, run
from tests.conftest import REPO_ROOT

# --- names that are paths ------------------------------------------------------------------------

NAMES = ["gpt-4-0314", "meta-llama/Llama-3-8B", "../../../x", "..", ".hidden", "a\\b", "100%", "tab\there",
         "ünïcode/模型", "llama3.1:8b", "x" * 150]


@pytest.mark.parametrize("name", NAMES)
def test_every_name_maps_to_one_plain_file_name_and_back(name):
    stem = file_stem(name)
    assert "/" not in stem and "\\" not in stem and not stem.startswith(".") and stem not in ("", ".", "..")
    assert name_from_stem(stem) == name
    assert (Bench("b").answer_file(name).parent == Path("data/b/model_answer"))


def test_plain_names_keep_their_file_and_distinct_names_get_distinct_files():
    assert file_stem("gpt-4-0314") == "gpt-4-0314" and file_stem("llama3.1:8b") == "llama3.1:8b"
    assert len({file_stem(name) for name in NAMES}) == len(NAMES)
    for bad in ("", "m" * 300):
        with pytest.raises(UserError):
            file_stem(bad)


def test_names_that_are_paths_stay_in_data_and_reach_the_leaderboard(tmp_path):
    """A Hugging Face id and a name climbing out of data/ are answered, judged and shown by their real
    names, every file they get lying in its folder under data/."""
    ws = make_bench(tmp_path)
    hf_id, climber = "meta-llama/Llama-3-8B", "../../../escape"
    entries = {MODEL: {"api_type": "mock"}, BASE: {"api_type": "mock"}, JUDGE: {"api_type": "mock", "mock": {"role": "judge"}},
               hf_id: {"api_type": "mock"}, climber: {"api_type": "mock", "mock": {"style": "terse"}}}
    ws.write_api_config(entries)
    ws.write_answer_config([hf_id, climber])
    ws.write_judge_config(JUDGE, BASE, [hf_id, climber], number_of_judgment_attempts=1)
    outside_before = {p for p in tmp_path.parent.rglob("*") if tmp_path not in p.parents and p != tmp_path}
    for command in (("gen_answer.py",), ("gen_judgment.py",), SHOW):
        result = run(tmp_path, *command)
        assert result.returncode == 0, (command, result.stderr)
    assert {p for p in tmp_path.parent.rglob("*") if tmp_path not in p.parents and p != tmp_path} == outside_before
    answers = sorted(p.name for p in (ws.bench_dir / "model_answer").iterdir())
    assert answers == sorted([f"{BASE}.jsonl", f"{MODEL}.jsonl", "meta-llama%2FLlama-3-8B.jsonl",
                              "%2E.%2F..%2F..%2Fescape.jsonl"])
    assert all(p.is_file() for p in (ws.bench_dir / "model_answer").iterdir())
    judged = sorted(p.name for p in ws.judgment_file(JUDGE, MODEL).parent.iterdir())
    assert judged == sorted([f"{MODEL}.jsonl", "meta-llama%2FLlama-3-8B.jsonl", "%2E.%2F..%2F..%2Fescape.jsonl"])
    records = read_jsonl(Bench(BENCH, tmp_path / "data").answer_file(hf_id))
    assert {r["model_id"] for r in records} == {hf_id}  # the real name in the records
    board = {line.split(" | ")[0].strip() for line in result.stdout.splitlines() if " | score:" in line}
    assert {hf_id, climber, MODEL, BASE} <= board


# --- YAML and ${VAR} expansion ------------------------------------------------------------------

def test_yaml_merge_keys_may_be_overridden_but_plain_keys_not_repeated():
    assert safe_load("b: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", "f.yaml")["m"] == {"x": 1, "y": 3}
    with pytest.raises(UserError, match=r"f.yaml:3: `y` is defined twice \(first at line 2\)"):
        safe_load("m:\n  y: 1\n  y: 2\n", "f.yaml")


def test_expanding_env_vars_keeps_shared_structures_shared(monkeypatch):
    monkeypatch.setenv("HOSTILE_TEST_VALUE", "v")
    data = safe_load("a: &a [x, '${HOSTILE_TEST_VALUE}']\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", "f.yaml")
    used: list[str] = []
    expanded = _interpolate(data, "f.yaml", used)
    assert expanded["a"] == ["x", "v"] and expanded["c"][2][1] is expanded["a"]  # one copy, shared as in the file
    assert used == ["v"]


def test_a_config_just_under_the_size_limit_loads_quickly(tmp_path):
    """Nine levels of four aliases (4**9 leaves, under the size limit) load and expand to shared
    structures, in time linear in the text, not in the expansion."""
    text = "l0: &l0 [1]\n" + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 4)}]\n" for i in range(1, 10))
    data = safe_load(text, "f.yaml")
    assert _interpolate(data, "f.yaml", [])["l9"][0][0][0][0][0][0][0][0][0] == [1]


# --- servers -----------------------------------------------------------------------------------

@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path)


def setup_model(ws: Workspace, base_url: str, count: int, **entry) -> None:
    ws.write_questions(questions(count))
    ws.write_api_config({"m": model_entry(base_url, **entry)})
    ws.write_answer_config(["m"])


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_a_web_page_with_status_200_stops_the_model_with_the_cause(ws, fake_api, capsys, api_type):
    import gen_answer
    server = fake_api(faults=FaultPlan(rate=1.0, mix={"html": 1.0}))
    setup_model(ws, server.openai_base_url if api_type == "openai" else server.url, 5, api_type=api_type, parallel=1)
    assert gen_answer.main([]) == 1
    err = capsys.readouterr().err
    assert "not an" in err and "API response" in err and "check api_base" in err
    assert "'str' object" not in err
    assert len(server.requests) == 1  # the model is stopped after the first such answer
    assert "not sent: 4 question(s) of m" in err


def test_a_long_retry_after_is_announced_and_capped_by_backoff_max(ws, fake_api, capsys):
    import gen_answer
    server = fake_api(faults=FaultPlan(schedule={1: "429_retry_after"}, retry_after=86400))
    setup_model(ws, server.openai_base_url, 1, parallel=1)  # backoff_max 0.05 s (FAST_RETRY)
    assert gen_answer.main([]) == 0
    err = capsys.readouterr().err
    assert "m: the server asks to wait 86,400 s (Retry-After); waiting 0 s, the model's backoff_max" in err
    assert [r.outcome for r in server.requests] == ["429_retry_after", "ok"]


def test_an_api_key_pasted_with_its_newline_works(ws, fake_api):
    import gen_answer
    server = fake_api()
    setup_model(ws, server.openai_base_url, 2)
    config = yaml.safe_load((ws.root / "config/api_config.yaml").read_text())
    config["m"]["endpoints"][0]["api_key"] = "test-key\n "
    config["m"]["endpoints"][0]["api_base"] = f" {server.openai_base_url}\n"
    (ws.root / "config/api_config.yaml").write_text(yaml.safe_dump(config))
    assert gen_answer.main([]) == 0
    assert len(read_jsonl(ws.answer_file("m"))) == 2 and all(r.request.has_api_key for r in server.requests)


# --- a full disk ---------------------------------------------------------------------------------

def run_with_file_size_limit(root: Path, limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """The script with writes past `limit` bytes failing as on a full disk ("File too large")."""
    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([sys.executable, str(REPO_ROOT / args[0]), *args[1:]], cwd=root, capture_output=True,
                          text=True, timeout=60, preexec_fn=limit_writes)


def test_a_full_disk_while_answering_names_the_file(tmp_path):
    make_bench(tmp_path)
    result = run_with_file_size_limit(tmp_path, 800, "gen_answer.py")
    assert result.returncode == 1
    assert f"error: data/{BENCH}/model_answer/{MODEL}.jsonl: File too large" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_result_prints_the_leaderboard_when_it_cannot_save(tmp_path):
    make_bench(tmp_path)
    expected = run(tmp_path, *SHOW).stdout
    (tmp_path / "data" / "arena_hard_battles.jsonl").unlink()
    result = run_with_file_size_limit(tmp_path, 10, *SHOW, "--output")
    assert result.stdout == expected
    assert "note: could not write data/bootstrapping_results.jsonl (File too large)" in result.stderr
    assert "note: could not write data/arena_hard_battles.jsonl (File too large)" in result.stderr
    assert "note: could not write leaderboard/arena_hard_leaderboard_" in result.stderr  # each write still tried
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_temporaries_left_by_a_killed_run_are_removed(tmp_path):
    make_bench(tmp_path)
    leftovers = [tmp_path / "data" / ".bootstrapping_results.jsonl.k1ll3d.tmp",
                 tmp_path / "data" / ".arena_hard_battles.jsonl.k1ll3d.tmp"]
    for leftover in leftovers:
        leftover.write_bytes(b"x" * 1000)
    assert run(tmp_path, *SHOW).returncode == 0
    assert not any(leftover.exists() for leftover in leftovers)


# --- the demo ------------------------------------------------------------------------------------

def copy_of_the_repository(destination: Path) -> Path:
    for name in ("demo.py", "gen_answer.py", "gen_judgment.py", "show_result.py", "utils.py"):
        shutil.copy2(REPO_ROOT / name, destination / name)
    shutil.copytree(REPO_ROOT / "arena_hard", destination / "arena_hard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO_ROOT / "config" / "demo", destination / "config" / "demo")
    (destination / "data" / "arena-hard-demo").mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "data" / "arena-hard-demo" / "question.jsonl", destination / "data" / "arena-hard-demo")
    return destination


def test_demo_deletes_only_the_files_it_made(tmp_path):
    repo = copy_of_the_repository(tmp_path)
    bench = repo / "data" / "arena-hard-demo"
    mine = [bench / "model_answer" / "my-model.jsonl", bench / "model_judgment" / "demo-judge" / "notes.txt",
            bench / "model_judgment" / "my-judge" / "demo-terse.jsonl"]
    for path in mine:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"question_id": "mine"}\n')
    stale = bench / "model_answer" / "demo-terse.jsonl"
    stale.write_text('{"question_id": "stale"}\n')
    result = subprocess.run([sys.executable, "demo.py"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert all(path.read_text() == '{"question_id": "mine"}\n' for path in mine)
    assert "stale" not in stale.read_text() and len(read_jsonl(stale)) == 30  # the demo's own file, made anew


def test_demo_answers_help_and_runs_nothing(tmp_path):
    repo = copy_of_the_repository(tmp_path)
    result = subprocess.run([sys.executable, "demo.py", "--help"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("usage: demo.py")
    assert "any other file there is left alone" in result.stdout
    assert [p.name for p in (repo / "data" / "arena-hard-demo").iterdir()] == ["question.jsonl"]


def test_unique_keeps_the_first_of_each_name(capsys):
    assert unique(["a", "b", "a", "c", "b"], "--model-list") == ("a", "b", "c")
    assert capsys.readouterr().err.count("note: --model-list lists") == 2
