"""show_result.py end to end on small benches: the printed lines (as ratings_oracle's pandas + sklearn
re-implementation of upstream prints them on this fixture), saved battles and bootstrap rounds read back, output
files, categories with per-category baselines, judge ensembles, style control, the plot, the cache,
lazy imports, and the average #tokens of upstream's own answer files."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO_ROOT
from ratings_oracle import upstream_leaderboard_lines
from show_result_fixtures import (BASELINE, JUDGE, age_files, bench_dir, run, run_script, write_answers,
                                  write_judgments, write_lines, write_questions)

QUESTIONS = [f"q{i}" for i in range(8)]
ALPHA = [("q0", "B>>A", "A>B"), ("q1", "B>A", "A>>B"), ("q2", "A=B", "A>B"), ("q3", "A>B", "B>A"),
         ("q4", "B>A", "A=B"), ("q5", "B>>A", "A>>B"), ("q6", "A>B", "A>B"), ("q7", "B>A", None)]
BETA = [("q0", "A>>B", "B>A"), ("q1", "A>B", "B>>A"), ("q2", "A=B", "A=B"), ("q3", "B>A", "B>A"),
        ("q4", "A>B", "A>B"), ("q5", "A>>B", "B>>A"), ("q6", "B>A", "A>B"), ("q7", "A>B", "B>A")]
COVERAGE_COLUMNS = ["questions_scored", "questions_total", "questions_no_judgment", "questions_no_verdict",
                    "questions_as_loss"]


@pytest.fixture
def bench(tmp_path, monkeypatch):
    write_questions(tmp_path, QUESTIONS)
    write_answers(tmp_path, BASELINE, QUESTIONS, [400, 410, 420, 430, 440, 450, 460, 471])
    write_answers(tmp_path, "alpha", QUESTIONS, 512)
    write_answers(tmp_path, "beta", QUESTIONS, [100, 101] * 4)
    write_judgments(tmp_path, "alpha", ALPHA)
    write_judgments(tmp_path, "beta", BETA)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def upstream(root, **flags):
    bench = bench_dir(root)
    return upstream_leaderboard_lines(sorted((bench / "model_judgment" / JUDGE).glob("*.jsonl")),
                                      {p.stem: p for p in (bench / "model_answer").glob("*.jsonl")}, **flags)


def test_prints_upstreams_lines(bench, capsys):
    out, err = run(capsys, "--num-rounds", "20")
    assert out == upstream(bench, num_rounds=20)  # stdout is the leaderboard and nothing else, as upstream's
    assert [line.split()[0] for line in out] == ["alpha", BASELINE, "beta"]
    assert "1 game(s) had no verdict" in err
    assert "\nJudge consistency" in err
    assert "\nalpha                          | games agree:  57.1% of 7 |" in err


def test_show_elo_prints_integer_ratings(bench, capsys):
    out, _ = run(capsys, "--num-rounds", "20", "--show-elo")
    expected = upstream(bench, num_rounds=20, show_elo=True)
    assert out[1:] == expected[1:]
    assert out[1] == "gpt-4-0314                     | score: 1000  | 95% CI:    (0, 0)    | average #tokens: 435"
    # In one of the 20 resamples alpha wins every battle: no finite rating exists. Upstream's sklearn stops
    # wherever its solver does (about 4225); here the rating is capped at 1000 + 4000, so the upper bound,
    # interpolated between the two highest rounds, differs in Elo (the win rates both round to 100%).
    assert out[0].split("| 95% CI:")[0] == expected[0].split("| 95% CI:")[0]
    assert out[0].split("95% CI: (")[1].split(",")[0] == expected[0].split("95% CI: (")[1].split(",")[0]


def test_saved_battles_and_bootstrap_give_the_same_leaderboard(bench, capsys):
    first, _ = run(capsys, "--num-rounds", "20")
    battles = (bench / "data" / "arena_hard_battles.jsonl").read_text().splitlines()
    assert len(battles) == 47 and json.loads(battles[0]) == {
        "question_id": "q0", "model_a": BASELINE, "model_b": "alpha", "winner": "model_b"}
    rounds = (bench / "data" / "bootstrapping_results.jsonl").read_text().splitlines()
    assert len(rounds) == 20 and json.loads(rounds[0])[BASELINE] == 1000.0
    reloaded, _ = run(capsys, "--load-battles", "--num-rounds", "20")
    assert reloaded[:3] == first[:3]
    both, _ = run(capsys, "--load-battles", "--load-bootstrap")
    assert both[:3] == first[:3]


def test_output_writes_csv_and_json(bench, capsys):
    run(capsys, "--num-rounds", "20", "--output")
    [csv_path] = list((bench / "leaderboard").glob("arena_hard_leaderboard_*.csv"))
    rows = list(csv.DictReader(csv_path.open()))
    assert list(rows[0]) == ["model", "score", "rating_q025", "rating_q975", "CI", "avg_tokens", "date",
                             *COVERAGE_COLUMNS]
    assert [r["model"] for r in rows] == ["alpha", BASELINE, "beta"]
    assert rows[1]["score"] == "50.0" and rows[1]["CI"] == "(-0.00, +0.00)" and rows[2]["avg_tokens"] == "100"
    assert [rows[0][c] for c in COVERAGE_COLUMNS] == ["8", "8", "0", "0", "0"]
    assert [rows[1][c] for c in COVERAGE_COLUMNS] == ["8", "8", "", "", "0"]  # the baseline is not judged
    data = json.loads(csv_path.with_suffix(".json").read_text())
    assert data["baseline"] == BASELINE and data["num_rounds"] == 20 and data["missing_as_loss"] is False
    assert data["models"][0]["model"] == "alpha" and data["models"][0]["score"] == 82.61
    assert data["models"][0]["questions_scored"] == 8 and "battles" not in data["models"][0]


def test_custom_baseline_anchors_the_bootstrap(bench, capsys):
    write_judgments(bench, "gamma", [(q, "A>B", "B>A") for q in QUESTIONS], judge="judge2")
    write_answers(bench, "gamma", QUESTIONS, 7)
    out, _ = run(capsys, "--judge-name", "judge2", "--baseline", "beta", "--num-rounds", "20")
    assert out[0].startswith("beta                           | score: 50.0  | 95% CI:  (0.0, 0.0)")
    assert out[1].startswith("gamma                          | score:  0.0 ")


def test_judge_ensemble_pools_battles(bench, capsys):
    write_judgments(bench, "alpha", [(q, "A>B", "B>A") for q in QUESTIONS], judge="judge2")
    write_judgments(bench, "beta", [(q, "B>A", "A>B") for q in QUESTIONS], judge="judge2")
    out, _ = run(capsys, "--judge-names", "gpt-4-1106-preview", "judge2", "--num-rounds", "20")
    rows = {line.split("|")[0].strip(): line for line in out[:3]}
    # alpha: 18 wins and 2 ties of 23 battles, plus judge2's 16 losses -> 19 / 39
    # beta: 4 wins and 2 ties of 24, plus judge2's 16 wins -> 21 / 40
    assert "score: 48.7" in rows["alpha"] and "score: 52.5" in rows["beta"]


def test_categories_with_their_own_baselines(tmp_path, monkeypatch, capsys):
    write_questions(tmp_path, QUESTIONS, ["hard"] * 4 + ["creative"] * 4)
    for model in ("base-h", "base-c", "m"):
        write_answers(tmp_path, model, QUESTIONS, 10)
    write_lines(bench_dir(tmp_path) / "model_judgment" / "j" / "m.jsonl", [
        {"uid": q, "model": "m", "baseline": "base-h" if i < 4 else "base-c", "category": "x",
         "games": [{"score": "B>A"}, {"score": "A>B" if i % 2 else "B>A"}]} for i, q in enumerate(QUESTIONS)])
    monkeypatch.chdir(tmp_path)
    out, _ = run(capsys, "--judge-name", "j", "--category", "hard", "creative", "--num-rounds", "20")
    assert out[0] == "##### Category: hard #####"
    assert out[1].startswith("m                              | score: 75.0 ")
    assert out[2].startswith("base-h                         | score: 50.0 ")
    assert "##### Category: creative #####" in out and any(line.startswith("base-c ") for line in out)


def test_style_control_prints_coefficients(bench, capsys):
    out, _ = run(capsys, "--num-rounds", "20", "--style-control")
    assert out[0].startswith("Style Coefficients: {'sum_assistant_a_tokens': ")
    assert list(eval(out[0].split(": ", 1)[1])) == ["sum_assistant_a_tokens", "header_count_a", "list_count_a",
                                                    "bold_count_a"]
    saved = json.loads((bench / "data" / "arena_hard_battles.jsonl").read_text().splitlines()[0])
    assert saved["conv_metadata"]["sum_assistant_a_tokens"] == 400
    assert saved["conv_metadata"]["sum_assistant_b_tokens"] == 512
    out, _ = run(capsys, "--num-rounds", "20", "--length-control-only")
    assert out[0].startswith("Style Coefficients: {'sum_assistant_a_tokens': ") and "header" not in out[0]


def test_plot_writes_a_png(bench, capsys):
    pytest.importorskip("matplotlib")
    run(capsys, "--num-rounds", "20", "--plot", "board.png")
    assert (bench / "board.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_is_a_one_line_error(bench, tmp_path_factory):
    blocker = tmp_path_factory.mktemp("no_matplotlib")
    (blocker / "matplotlib").mkdir()
    (blocker / "matplotlib" / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    result = run_script(bench, "--num-rounds", "20", "--plot", "board.png",
                        env={"PYTHONPATH": f"{blocker}{os.pathsep}{REPO_ROOT}"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == \
        "error: --plot needs matplotlib: pip install -r requirements-optional.txt"
    assert sorted(p.name for p in (bench / "data").iterdir()) == ["arena-hard-v0.1"]  # nothing was written


def test_second_run_reuses_the_cache_and_a_changed_file_is_reread(bench, capsys):
    first, _ = run(capsys, "--num-rounds", "20")
    cache = bench / "data" / "arena-hard-v0.1" / ".show_result_cache"
    assert not list(cache.glob("judgments-*"))  # files written moments ago are not trusted yet
    age_files(bench)
    run(capsys, "--num-rounds", "20")
    assert len(list(cache.glob("judgments-*"))) == 2 and len(list(cache.glob("answer-tokens-*"))) == 3
    for entry in cache.glob("judgments-*"):  # poison the cache: were it used, the scores would change
        data = json.loads(entry.read_text())
        data["payload"]["game1"] = [4] * len(data["payload"]["game1"])
        entry.write_text(json.dumps(data))
    poisoned, _ = run(capsys, "--num-rounds", "20")
    assert poisoned[0] != first[0]  # proves the cache is read
    # rewrite beta's file with the same size and mtime: only ctime changes, and the cache must notice
    path = bench_dir(bench) / "model_judgment" / "gpt-4-1106-preview" / "beta.jsonl"
    stat = path.stat()
    path.write_text(path.read_text().replace('"A>>B"', '"B>>A"'))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    changed, _ = run(capsys, "--num-rounds", "20")
    assert [line for line in changed[:3] if line.startswith("beta")] != \
        [line for line in poisoned[:3] if line.startswith("beta")]


def test_fast_path_imports_no_heavy_library(bench):
    age_files(bench)
    run_script(bench, "--num-rounds", "20")
    result = subprocess.run([sys.executable, "-X", "importtime", str(REPO_ROOT / "show_result.py"),
                             "--num-rounds", "20"], cwd=bench, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "numpy" in imported
    assert not imported & {"pandas", "sklearn", "scipy", "matplotlib", "tiktoken"}


def test_upstream_answer_files_give_upstreams_average_tokens(upstream_dir, tmp_path, monkeypatch, capsys):
    source = upstream_dir / "data" / "arena-hard-v0.1"
    answers = bench_dir(tmp_path) / "model_answer"
    answers.mkdir(parents=True)
    for model in ("gpt-4-0314", "gpt-4-0613", "gpt-3.5-turbo-0125"):
        (answers / f"{model}.jsonl").symlink_to(source / "model_answer" / f"{model}.jsonl")
    question_ids = [json.loads(line)["question_id"] for line in (source / "question.jsonl").open()]
    rng = np.random.default_rng(0)
    labels = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]
    for model in ("gpt-4-0613", "gpt-3.5-turbo-0125"):
        write_judgments(tmp_path, model, [(q, labels[rng.integers(5)], labels[rng.integers(5)]) for q in question_ids])
    monkeypatch.chdir(tmp_path)
    out, _ = run(capsys, "--num-rounds", "20")
    tokens = {line.split("|")[0].strip(): line.rsplit(": ", 1)[1] for line in out[:3]}
    assert tokens == {"gpt-4-0613": "354", "gpt-3.5-turbo-0125": "329", "gpt-4-0314": "423"}


# --- bad input: one line on stderr, exit status 2, no traceback -----------------------------------

def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("note:")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_missing_judgment_directory(tmp_path):
    assert_one_line_error(run_script(tmp_path), "model_judgment/gpt-4-1106-preview: no judgments by gpt-4-1106-preview")


def test_empty_judgment_directory(bench):
    assert_one_line_error(run_script(bench, "--judge-name", "nobody"), "no judgments by nobody")
    (bench_dir(bench) / "model_judgment" / "empty").mkdir()
    assert_one_line_error(run_script(bench, "--judge-name", "empty"), "holds no judgment files")


def test_judgment_for_a_model_without_answers(bench):
    write_judgments(bench, "ghost", [("q0", "A>B", "B>A")])
    assert_one_line_error(run_script(bench), "model_answer/ghost.jsonl: not found", "the model 'ghost'")


def test_missing_baseline(bench):
    assert run_script(bench, "--num-rounds", "20").returncode == 0  # saves the battles --load-battles reads
    assert_one_line_error(run_script(bench, "--load-battles", "--baseline", "nobody"),
                          "the baseline 'nobody' plays no battle")
    (bench_dir(bench) / "model_answer" / f"{BASELINE}.jsonl").unlink()
    assert_one_line_error(run_script(bench), f"the baseline '{BASELINE}'")


def test_malformed_line_names_file_and_line(bench):
    path = bench_dir(bench) / "model_judgment" / "gpt-4-1106-preview" / "beta.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:40]
    path.write_text("\n".join(lines) + "\n")
    assert_one_line_error(run_script(bench), "beta.jsonl:3: not valid JSON")


def test_duplicate_rows_keep_the_last_and_say_so(bench):
    path = bench_dir(bench) / "model_judgment" / "gpt-4-1106-preview" / "beta.jsonl"
    with open(path, "a") as handle:
        record = {"question_id": "q0", "model": "beta", "games": [{"score": "B>>A"}, {"score": "A>>B"}]}
        handle.write(json.dumps(record) + "\n")
    result = run_script(bench, "--num-rounds", "20")
    assert result.returncode == 0
    assert "1 judgment record(s) repeat an earlier record" in result.stderr and "beta.jsonl:9 repeats" in result.stderr
    # the last q0 record (B>>A, A>>B: 6 model wins) replaces the first (4 baseline wins): (10 + 1) / 26
    assert "beta                           | score: 42.3 " in result.stdout


def test_load_bootstrap_refuses_rounds_of_other_battles_or_another_style_control(bench, capsys):
    run(capsys, "--num-rounds", "20")  # battles and rounds of the default judge
    write_judgments(bench, "alpha", [(q, "A>>B", "B>>A") for q in QUESTIONS], judge="other-judge")
    write_judgments(bench, "beta", [(q, "B>>A", "A>>B") for q in QUESTIONS], judge="other-judge")
    run(capsys, "--num-rounds", "20", "-j", "other-judge", "-c", "arena-hard-v0.1")  # rewrites the battles only
    assert_one_line_error(run_script(bench, "--load-battles", "--load-bootstrap", "-j", "other-judge"),
                          "bootstrapping_results.jsonl: its rounds were computed from other battles")
    run(capsys, "--num-rounds", "20")
    assert_one_line_error(run_script(bench, "--load-battles", "--load-bootstrap", "--style-control"),
                          "computed from style control None")
    both, _ = run(capsys, "--load-battles", "--load-bootstrap")
    assert len(both) == 3


def test_load_bootstrap_needs_load_battles(bench):
    assert_one_line_error(run_script(bench, "--load-bootstrap"), "--load-bootstrap needs --load-battles")
    assert_one_line_error(run_script(bench, "--style-control", "--length-control-only"), "not allowed with")


def test_loaded_battles_with_several_first_models_anchor_at_gpt_4_0314_as_upstream(bench, capsys):
    run(capsys, "--num-rounds", "20")
    battles = bench / "data" / "arena_hard_battles.jsonl"
    with open(battles, "a", encoding="utf-8") as handle:  # a non-baseline pair, as a general graph has
        handle.write(json.dumps({"question_id": "q0", "model_a": "alpha", "model_b": "beta", "winner": "model_a"}) + "\n")
    out, _ = run(capsys, "--num-rounds", "20", "--load-battles")
    assert any(line.startswith("gpt-4-0314 ") and "score: 50.0 " in line for line in out)


def test_a_model_absent_from_some_resamples_gets_a_ci_from_the_others(tmp_path, monkeypatch, capsys):
    write_questions(tmp_path, QUESTIONS)
    for model in (BASELINE, "alpha", "rare"):
        write_answers(tmp_path, model, QUESTIONS)
    write_judgments(tmp_path, "alpha", ALPHA)
    write_judgments(tmp_path, "rare", [("q0", "B>A", None)])  # one battle among 14: absent from ~1/3 of resamples
    monkeypatch.chdir(tmp_path)
    out, err = run(capsys, "--num-rounds", "30")
    rare = next(line for line in out if line.startswith("rare "))
    assert "nan" not in rare
    assert "rare (" in err and "absent from some bootstrap resamples" in err
