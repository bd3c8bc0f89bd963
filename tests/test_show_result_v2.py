"""show_result.py on v2.0 benches: the printed tables equal those of an oracle of upstream v2.0's
computation (tests/v2_oracle.py: pandas group-wise resampling, per-row logistic fits) fed the same random
stream, with and without style control and with pooled judges; the overall line; coverage and
--missing-as-loss; --output and --full-stats; one-line errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

import show_result
from test_show_result import assert_one_line_error, run_script
from show_result_fixtures import age_files, write_lines
from v2_fixtures import BENCH, write_v2_bench
from v2_oracle import oracle_output

MODELS = ["alpha", "beta", "delta", "gamma"]


@pytest.fixture
def bench(tmp_path, monkeypatch):
    write_v2_bench(tmp_path, MODELS, {"hard_prompt": 40, "creative_writing": 20}, judges=("gpt-4.1", "gemini-2.5"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *args):
    assert show_result.main(["-b", BENCH, *args]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def category_blocks(out: str) -> str:
    """stdout up to this project's own additions (the overall block, --full-stats)."""
    lines = out.splitlines()
    end = next((i for i, line in enumerate(lines) if line.startswith("##### Overall")), len(lines))
    return "\n".join(line for line in lines[:end] if not line.startswith("Feature Coefs"))


@pytest.mark.parametrize("judges", [["gpt-4.1"], ["gpt-4.1", "gemini-2.5"]])
def test_win_rate_tables_equal_the_oracles(bench, capsys, judges):
    categories = ["hard_prompt", "creative_writing"]
    out, _ = run(capsys, "-j", *judges, "-c", *categories)
    expected, _ = oracle_output(str(bench), judges, categories)
    assert category_blocks(out) == expected


@pytest.mark.parametrize("features", [["length", "markdown"], ["length"], ["markdown"]])
def test_style_controlled_tables_equal_the_oracles(bench, capsys, features):
    out, _ = run(capsys, "-f", *features, "--num-rounds", "20")
    expected, coefficients = oracle_output(str(bench), ["gpt-4.1"], ["hard_prompt"], features, rounds=20)
    assert category_blocks(out) == expected
    printed = out.split("Feature Coefs: ")[1].splitlines()[0]
    values = [float(part.split()[1]) for part in printed.split(", ")]
    assert np.allclose(values, coefficients[0], atol=2e-4)
    names = [part.split()[0] for part in printed.split(", ")]
    assert names == (["length"] if "length" in features else []) + \
        (["headers", "lists", "bold"] if "markdown" in features else [])


@pytest.mark.parametrize("features", [["length"], ["length", "markdown"]])
def test_a_feature_collinear_with_the_models_is_fitted_as_upstream_and_noted(tmp_path, monkeypatch, capsys, features):
    # every answer of each model one length (as a fake server gives): length is constant within each model's
    # rows, so the judgments leave both models' scores free; the fit's Hessian was singular (LinAlgError)
    write_v2_bench(tmp_path, ["model-a", "model-b"], {"creative_writing": 20}, age=False)
    for model, length in {"model-a": 300, "model-b": 500, "gemini-2.0-flash-001": 400}.items():
        path = tmp_path / "data" / BENCH / "model_answer" / f"{model}.jsonl"
        answers = [json.loads(line) for line in path.read_text().splitlines()]
        write_lines(path, ({**answer, "metadata": {**answer["metadata"], "token_len": length}} for answer in answers))
    age_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    out, err = run(capsys, "-c", "creative_writing", "-f", *features, "--num-rounds", "20")
    expected, coefficients = oracle_output(str(tmp_path), ["gpt-4.1"], ["creative_writing"], features, rounds=20)
    assert category_blocks(out) == expected  # upstream's fit converges to the best fit nearest its start
    printed = out.split("Feature Coefs: ")[1].splitlines()[0]
    assert np.allclose([float(part.split()[1]) for part in printed.split(", ")], coefficients[0], atol=2e-4)
    notes = [line for line in err.splitlines() if "collinear" in line]
    assert len(notes) == 1 and notes[0].startswith("note: in creative_writing, style feature length is collinear "
                                                   "with the models") and "scores of model-a, model-b" in notes[0]


def test_same_judgments_print_the_same_board_twice(bench, capsys):
    first, _ = run(capsys, "-f", "length", "markdown", "--num-rounds", "20")
    assert run(capsys, "-f", "length", "markdown", "--num-rounds", "20")[0] == first
    assert run(capsys)[0] == run(capsys)[0]


def test_the_v01_style_flags_mean_the_same_on_v2(bench, capsys):
    assert run(capsys, "--style-control", "--num-rounds", "20")[0] == \
        run(capsys, "-f", "markdown", "length", "--num-rounds", "20")[0].replace("['markdown', 'length']",
                                                                                  "['length', 'markdown']")


def test_overall_line_is_the_question_weighted_mean_over_categories(bench, capsys):
    from arena_hard.scoring.v2.fit import group_quantile, kahan_mean
    out, _ = run(capsys, "-c", "hard_prompt", "creative_writing", "--num-rounds", "30")
    assert "##### Overall (this project's, not upstream's): question-weighted mean of hard_prompt (40 questions) " \
           "+ creative_writing (20 questions) #####" in out
    overall = out.split("##### Overall")[1].splitlines()[2:]
    assert sorted(line.split()[1] for line in overall) == MODELS  # baselines are in one category only

    # recompute alpha's overall from each category's bootstrap rounds
    from arena_hard.scoring.v2 import run as v2_run
    boards = []
    original = v2_run.overall_board

    def spy(category_boards, weights, title):
        boards.extend(category_boards)
        return original(category_boards, weights, title)
    v2_run.overall_board = spy
    try:
        run(capsys, "-c", "hard_prompt", "creative_writing", "--num-rounds", "30")
    finally:
        v2_run.overall_board = original
    rounds = (40 * boards[0].rounds["alpha"] + 20 * boards[1].rounds["alpha"]) / 60
    score = kahan_mean(rounds[:, None])[0]
    interval = (f"(-{round((score - group_quantile(rounds[:, None], 0.05)[0]) * 100, 1)} / "
                f"+{round((group_quantile(rounds[:, None], 0.95)[0] - score) * 100, 1)})")
    line = next(line for line in overall if line.split()[1] == "alpha")
    assert line.split()[2:] == [f"{round(score * 100, 1):.1f}", *interval.split()]


def test_a_question_without_judgment_is_noted_and_counted_as_a_loss_on_request(bench, capsys):
    path = bench / "data" / BENCH / "model_judgment" / "gpt-4.1" / "alpha.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[5:]) + "\n")
    out, err = run(capsys)
    assert "alpha: scored on 35 of 40 questions in hard_prompt; 5 have no judgment" in err
    score = float(next(line for line in out.splitlines() if " alpha " in line).split()[2])
    out, err = run(capsys, "--missing-as-loss")
    assert "counted as strong losses (--missing-as-loss)" in err
    assert float(next(line for line in out.splitlines() if " alpha " in line).split()[2]) < score


def test_output_and_full_stats(bench, capsys):
    out, err = run(capsys, "-c", "hard_prompt", "creative_writing", "--output", "--full-stats", "--num-rounds", "20")
    assert "Full stats: hard_prompt (against o3-mini-2025-01-31" in out
    assert "Judge consistency" in err and "Judge consistency" not in out
    written = sorted(p.name for p in (bench / "leaderboard").iterdir())
    assert len(written) == 6 and any("_overall" in name for name in written)
    document = json.loads(next((bench / "leaderboard").glob("*_hard_prompt.json")).read_text())
    assert document["baseline"] == "o3-mini-2025-01-31"
    alpha = next(m for m in document["models"] if m["model"] == "alpha")
    assert alpha["questions_scored"] == 40 and alpha["questions"] == 40 and alpha["avg_tokens"] > 0
    shown = next(line for line in out.splitlines() if line.split()[1:2] == ["alpha"])
    assert f"{alpha['score']:.1f}" == shown.split()[2]


@pytest.mark.parametrize("categories", [[], ["hard_prompt", "creative_writing"]])
def test_plot_draws_each_board_beside_the_output_files(bench, capsys, categories):
    pytest.importorskip("matplotlib")
    out, err = run(capsys, *(["-c", *categories] if categories else []), "--plot", "board.png", "--output",
                   "--num-rounds", "20")
    boards = categories + ["overall"] if categories else ["hard_prompt"]
    drawn = sorted(p.name for p in bench.glob("board_*.png"))
    assert drawn == sorted(f"board_{name}.png" for name in boards)
    assert all((bench / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in drawn)
    assert len(list((bench / "leaderboard").glob("*.csv"))) == len(boards)


def test_bad_input_is_one_line(bench):
    assert_one_line_error(run_script(bench, "-b", BENCH, "-c", "poetry"), "no judgments in category 'poetry'",
                          "creative_writing, hard_prompt")
    assert_one_line_error(run_script(bench, "-b", BENCH, "-j", "nobody"), "no judgments by nobody")
    assert_one_line_error(run_script(bench, "-b", BENCH, "--show-elo"), "--show-elo is a v0.1 leaderboard option")
    (bench / "data" / BENCH / "model_answer" / "beta.jsonl").unlink()
    assert_one_line_error(run_script(bench, "-b", BENCH, "-f", "length"), "beta.jsonl: not found")
