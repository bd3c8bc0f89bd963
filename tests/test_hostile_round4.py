"""Variants of issue 26's classes beyond its listed cases, each run through the real scripts: a lone
surrogate in a config value, a model name, an environment value, a scores file's model and a prompt
log; a FIFO given as a saved battles file, its source record, --scores, --reference or --name-map, or a
prompt log; saved bootstrap rounds too few to make an interval, or holding a non-finite rating or no
rating of a model. Each is one line and exit status 2 with nothing written, or the documented note."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import build_bench
import show_result
from arena_hard.core.endpoints import _interpolate
from arena_hard.core.errors import UserError
from arena_hard.core.names import check_name
from arena_hard.core.yaml_file import safe_load
from fake_bench_builder import planted_log
from pipeline_helpers import BENCH, read_jsonl, run_in_process, write_jsonl
from test_bench_builder import LOG, workspace
from test_robust_bad_input import JUDGE, MODEL, SHOW, make_bench, run, snapshot
from tests.conftest import REPO_ROOT


def one_line_error(result: subprocess.CompletedProcess[str], *parts: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(part in errors[0] for part in parts), errors[0]
    return errors[0]


# --- lone surrogates -----------------------------------------------------------------------------

@pytest.mark.parametrize("config, old, new, key", [
    ("gen_answer_config.yaml", f"- {MODEL}", '- "m\\ud800x"', "`model_list[0]`"),  # was a traceback
    ("api_config.yaml", "api_type: mock\n  parallel: 2", 'api_type: mock\n  parallel: 2\n  system_prompt: "a \\udfff"',
     f"`{MODEL}.system_prompt`"),  # was a failed request per question, naming no key
])
def test_a_lone_surrogate_in_a_config_is_one_line_naming_its_key(tmp_path, config, old, new, key):
    make_bench(tmp_path)
    path = tmp_path / "config" / config
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    before = snapshot(tmp_path)
    for extra in ((), ("--dry-run",)):
        one_line_error(run(tmp_path, "gen_answer.py", *extra), f"config/{config}", key, "lone surrogate")
    assert snapshot(tmp_path) == before


def test_an_escaped_surrogate_pair_in_yaml_is_its_character_as_in_json():
    assert safe_load('a: "\\ud83d\\ude00 ok"\n"\\ud83d\\ude01": ["\\ud83d\\ude02"]\n', "f.yaml") == {
        "a": "\U0001F600 ok", "\U0001F601": ["\U0001F602"]}
    with pytest.raises(UserError, match=r"f.yaml: `a.b\[1\]` holds a lone surrogate"):
        safe_load('a:\n  b: [x, "\\ud83d y"]\n', "f.yaml")


def test_an_environment_value_that_is_not_utf8_is_refused_without_showing_it(monkeypatch):
    monkeypatch.setenv("ROUND4_KEY", os.fsdecode(b"sk-\xff"))
    with pytest.raises(UserError, match=r"api.yaml uses \$\{ROUND4_KEY\}, whose value holds bytes that are not UTF-8"):
        _interpolate({"api_key": "${ROUND4_KEY}"}, "api.yaml", [])


def test_a_name_with_a_lone_surrogate_is_refused():
    with pytest.raises(UserError, match=r"where: the name 'm\\ud800' holds U\+D800, a lone surrogate"):
        check_name("m\ud800", "where")


def test_a_judgment_file_named_with_bytes_that_are_not_utf8_is_one_line(tmp_path):
    ws = make_bench(tmp_path)
    stray = ws.judgment_file(JUDGE, MODEL).parent / os.fsdecode(b"\xffm.jsonl")
    shutil.copy(ws.judgment_file(JUDGE, MODEL), stray)
    one_line_error(run(tmp_path, *SHOW), "lone surrogate", "rename it")


def test_benchmark_quality_refuses_a_model_name_it_could_not_print_or_draw(tmp_path):
    """The name used to reach matplotlib's text layout, a traceback after the report was printed."""
    rows = [("a\\ud800", 60), ("b", 40), ("c", 50)]
    for name in ("s.jsonl", "r.jsonl"):
        (tmp_path / name).write_text("".join(f'{{"model": "{m}", "score": {s}, "lower": {s - 5}, "upper": {s + 5}}}\n'
                                             for m, s in rows))
    result = run(tmp_path, "benchmark_quality.py", "--scores", "s.jsonl", "--reference", "r.jsonl", "--plot", "q.png")
    one_line_error(result, "s.jsonl:1", "lone surrogate")
    assert result.stdout == "" and not (tmp_path / "q.png").exists()


# --- FIFOs where a file is read -----------------------------------------------------------------

def run_briefly(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A run that must not block: before the fix each of these waited forever for a writer."""
    return subprocess.run([sys.executable, str(REPO_ROOT / args[0]), *args[1:]], cwd=root, capture_output=True,
                          text=True, timeout=30)


@pytest.fixture(scope="module")
def saved_bench(tmp_path_factory):
    """A bench whose leaderboard was shown once: the battles and rounds saved, the board's CSV written."""
    root = tmp_path_factory.mktemp("saved")
    make_bench(root)
    assert run(root, *SHOW, "--output").returncode == 0
    return root


@pytest.mark.parametrize("fifo, command", [
    ("data/arena_hard_battles.jsonl", SHOW + ("--load-battles",)),
    ("data/arena_hard_battles.source.json", SHOW + ("--load-battles", "--load-bootstrap")),
    ("data/bootstrapping_results.source.json", SHOW + ("--load-battles", "--load-bootstrap")),
    ("pipe.csv", ("benchmark_quality.py", "--scores", "pipe.csv", "--reference", "board.csv")),
    ("pipe.csv", ("benchmark_quality.py", "--scores", "board.csv", "--reference", "pipe.csv")),
    ("pipe.json", ("benchmark_quality.py", "--scores", "board.csv", "--reference", "board.csv", "--name-map", "pipe.json")),
    ("pipe.csv", SHOW + ("--reference", "pipe.csv")),
])
def test_a_fifo_given_as_a_file_to_read_is_one_line(saved_bench, tmp_path, fifo, command):
    root = tmp_path / "bench"
    shutil.copytree(saved_bench, root)
    shutil.copy(next((root / "leaderboard").glob("*.csv")), root / "board.csv")
    (root / fifo).unlink(missing_ok=True)
    os.mkfifo(root / fifo)
    one_line_error(run_briefly(root, *command), fifo, "named pipe (FIFO)")


# --- saved bootstrap rounds ---------------------------------------------------------------------

def rewrite_rounds(root: Path, change) -> None:
    path = root / "data" / "bootstrapping_results.jsonl"
    write_jsonl(path, change(read_jsonl(path)))


@pytest.mark.parametrize("change, message", [
    (lambda rows: rows[:1], "holds 1 bootstrap round(s), fewer than the 20"),  # printed an interval excluding the score
    (lambda rows: [{**rows[0], MODEL: float("inf")}] + rows[1:], ":1: the rating of model-1 is inf"),  # printed nan
    (lambda rows: [{k: v for k, v in row.items() if k != MODEL} for row in rows], "no round rates model-1"),  # (nan, nan)
])
def test_saved_rounds_that_cannot_make_an_interval_are_refused(saved_bench, tmp_path, change, message):
    root = tmp_path / "bench"
    shutil.copytree(saved_bench, root)
    rewrite_rounds(root, change)
    before = snapshot(root)
    result = run_in_process(show_result.main, *SHOW[1:], "--load-battles", "--load-bootstrap", cwd=root)
    one_line_error(result, "data/bootstrapping_results.jsonl", message)
    assert result.stdout == "" and snapshot(root) == before


# --- build_bench's prompt log ---------------------------------------------------------------------

def test_a_prompt_with_a_lone_surrogate_is_dropped_and_counted_not_sent_on_every_run(
        fake_api, upstream_bench_builder_dir, tmp_path):
    """It failed its embedding request on every run, so the bench could never be built."""
    log = planted_log(10)
    log[0] = {"prompt": "A prompt long enough to be kept, but for its \ud800 lone surrogate."}
    root = workspace(tmp_path, upstream_bench_builder_dir, fake_api().url, log=log)
    result = run_in_process(build_bench.main, "--dry-run", cwd=root)
    assert "1 holding a lone surrogate (not text)" in result.stdout, result.stdout + result.stderr
    assert "lone surrogate" not in result.stderr


@pytest.mark.parametrize("kind, message", [("fifo", "named pipe (FIFO)"), ("folder", "is a directory")])
def test_a_prompt_log_that_is_not_a_file_says_what_it_is(fake_api, upstream_bench_builder_dir, tmp_path, kind, message):
    root = workspace(tmp_path, upstream_bench_builder_dir, fake_api().url)
    (root / LOG).unlink()
    os.mkfifo(root / LOG) if kind == "fifo" else (root / LOG).mkdir()
    one_line_error(run_briefly(root, "build_bench.py", "--dry-run"), LOG, message)
    assert not (root / "data" / BENCH).exists() or not any((root / "data").rglob("question.jsonl"))
