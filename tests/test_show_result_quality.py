"""show_result.py --reference FILE [--name-map FILE]: after the leaderboards (whose lines stay exactly as
without the flag), each board's benchmark-quality report, computed from the board's shown scores and its
bootstrap rounds on the same scale: the numbers benchmark_quality.py gives on the same table; in --output's
JSON too; v0.1 (also per category and with --show-elo) and v2.0 (each category and the overall line); a bad
reference or name map is one line with exit status 2 before anything is scored or written."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import show_result
from arena_hard.core.errors import UserError
from show_result_fixtures import BASELINE, run, run_script, write_answers, write_judgments, write_questions
from test_benchmark_quality import report as quality_report
from test_show_result import assert_one_line_error
from v2_fixtures import BENCH as V2_BENCH, write_v2_bench

QUESTIONS = [f"q{i}" for i in range(12)]
CATEGORIES = ["hard" if i % 2 else "soft" for i in range(12)]
# per model, the share of its games won against the baseline: a clear order with a close pair
STRENGTH = {"alpha": 0.9, "beta": 0.7, "gamma": 0.65, "delta": 0.3}
REFERENCE = [("Alpha", 1250, 1240, 1260), ("beta", 1150, 1140, 1160), ("gamma", 1140, 1130, 1150),
             (BASELINE, 1100, 1090, 1110), ("delta", 1000, 990, 1010), ("omega", 900, 890, 910)]


def labels(win_share: float, i: int) -> tuple[str, str]:
    """Game 1 has the baseline as A: the model wins with B>A in game 1 and A>B in game 2."""
    wins = (i * 7919 % 100) / 100 < win_share
    return ("B>A", "A>B") if wins else ("A>B", "B>A")


@pytest.fixture
def bench(tmp_path, monkeypatch):
    write_questions(tmp_path, QUESTIONS, CATEGORIES)
    write_answers(tmp_path, BASELINE, QUESTIONS, 300)
    for model, share in STRENGTH.items():
        write_answers(tmp_path, model, QUESTIONS, 200)
        write_judgments(tmp_path, model, [(q, *labels(share, i + len(model))) for i, q in enumerate(QUESTIONS)])
    with open(tmp_path / "arena.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["model", "rating", "rating_q025", "rating_q975"])
        writer.writerows(REFERENCE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report_lines(out, reference="arena.csv"):
    """{board title: {statistic: shown value}} of the reports printed after the leaderboards."""
    reports, title = {}, None
    for line in out:
        if line.startswith("Benchmark quality of "):
            title = line[len("Benchmark quality of "):].split(f" against {reference}")[0]
            reports[title] = {}
        elif title and line.startswith("  "):
            reports[title][line[2:28].strip()] = line[28:37].strip()
    return reports


def test_v01_report_follows_the_unchanged_leaderboard_and_matches_the_script(bench, capsys):
    plain, _ = run(capsys, "--num-rounds", "30", "--output")
    out, err = run(capsys, "--num-rounds", "30", "--output", "--reference", "arena.csv")
    assert out[:len(plain)] == plain and out[len(plain)] == ""
    assert out[len(plain) + 1].startswith("Benchmark quality of arena-hard-v0.1 against arena.csv (5 models, 10 pairs")
    assert "omega" not in err  # only the leaderboard's own models are noted when left out
    document = json.loads(next((bench / "leaderboard").glob("*.json")).read_text())
    quality = document["benchmark_quality"]
    assert quality["reference"] == "arena.csv" and quality["models"] == 5
    assert sorted(quality["compared"]) == sorted([*STRENGTH, BASELINE])
    # the same numbers from benchmark_quality.py on the board's shown scores and its rounds as win rates
    rounds = [json.loads(line) for line in (bench / "data" / "bootstrapping_results.jsonl").read_text().splitlines()]
    with open(bench / "board.jsonl", "w") as handle:
        for model in document["models"]:
            rates = [round(100 / (1 + 10 ** ((r[BASELINE] - r[model["model"]]) / 400)), 2) for r in rounds]
            handle.write(json.dumps({"model": model["model"], "score": model["score"], "lower": model["rating_q025"],
                                     "upper": model["rating_q975"], "results": rates}) + "\n")
    expected, _ = quality_report(capsys, "--scores", bench / "board.jsonl", "--reference", "arena.csv")
    metrics = [key for key in expected if key not in ("scores", "reference", "name_map")]
    assert {key: quality[key] for key in metrics} == pytest.approx({key: expected[key] for key in metrics})
    shown = report_lines(out)["arena-hard-v0.1"]
    assert shown["strict agreement"] == f"{expected['strict_agreement']:.4f}"
    assert shown["separability (80%)"] == f"{expected['separability_80'] * 100:.2f}%"


def test_v01_categories_show_elo_and_a_name_map(bench, capsys):
    (bench / "map.json").write_text(json.dumps({"ALPHA": "alpha", "beta": "BETA", "gamma": "Gamma"}))
    plain, _ = run(capsys, "--num-rounds", "20", "-c", "hard", "soft", "--show-elo")
    out, err = run(capsys, "--num-rounds", "20", "-c", "hard", "soft", "--show-elo", "--reference", "arena.csv",
                   "--name-map", "map.json")
    assert out[:len(plain)] == plain
    reports = report_lines(out)
    assert list(reports) == ["arena-hard-v0.1 in category 'hard'", "arena-hard-v0.1 in category 'soft'"]
    assert all("(3 models, 3 pairs" in line for line in out if line.startswith("Benchmark quality of "))
    assert f"--reference: delta, {BASELINE} not mapped to a model of arena.csv by map.json" in err
    (bench / "map.json").write_text(json.dumps({"ALPHA": "alpha", "beta": "BETA"}))
    with pytest.raises(UserError, match=r"2 model\(s\) are in both the leaderboard and arena.csv"):
        show_result.main(["--num-rounds", "20", "--reference", "arena.csv", "--name-map", "map.json"])


def test_v2_each_category_and_the_overall_line(tmp_path, monkeypatch, capsys):
    write_v2_bench(tmp_path, ["alpha", "beta", "gamma", "delta"], {"hard_prompt": 30, "creative_writing": 20})
    (tmp_path / "ref.jsonl").write_text("".join(json.dumps({"model": m, "score": s, "lower": s - 1, "upper": s + 1})
                                                + "\n" for m, s in [("alpha", 5), ("beta", 4), ("gamma", 3),
                                                                    ("delta", 2), ("o3-mini-2025-01-31", 1)]))
    monkeypatch.chdir(tmp_path)
    args = ["-b", V2_BENCH, "-c", "hard_prompt", "creative_writing", "--num-rounds", "20", "--output"]
    assert show_result.main(args) == 0
    plain = capsys.readouterr().out
    assert show_result.main([*args, "--reference", "ref.jsonl"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(plain)
    reports = report_lines(captured.out.splitlines(), "ref.jsonl")
    # creative_writing's baseline (gemini-2.0-flash-001) is not in the reference; the overall line has no baseline
    assert {title: len(values) for title, values in reports.items()} == {
        "arena-hard-v2.0 hard_prompt": 10, "arena-hard-v2.0 creative_writing": 10, "arena-hard-v2.0 overall": 10}
    assert "--reference: gemini-2.0-flash-001 not in ref.jsonl" in captured.err
    for name, models in (("hard_prompt", 5), ("creative_writing", 4), ("overall", 4)):
        document = json.loads(next((tmp_path / "leaderboard").glob(f"*_{name}.json")).read_text())
        assert document["benchmark_quality"]["models"] == models
        assert reports[f"arena-hard-v2.0 {name}"]["strict agreement"] == \
            f"{document['benchmark_quality']['strict_agreement']:.4f}"
        # what depends on the shown scores alone is what benchmark_quality.py finds in the board's CSV
        from_csv, _ = quality_report(capsys, "--scores", next((tmp_path / "leaderboard").glob(f"*_{name}.csv")),
                                     "--reference", "ref.jsonl")
        for key in ("models", "strict_agreement", "spearman", "kendall"):
            assert document["benchmark_quality"][key] == pytest.approx(from_csv[key])


def test_v2_board_with_too_few_matched_models_gets_a_note(tmp_path, monkeypatch, capsys):
    write_v2_bench(tmp_path, ["alpha", "beta", "gamma"], {"hard_prompt": 20, "creative_writing": 10})
    (tmp_path / "ref.csv").write_text("model,score,lower,upper\nalpha,3,2.5,3.5\nbeta,2,1.5,2.5\n"
                                      "o3-mini-2025-01-31,1,0.5,1.5\n")
    monkeypatch.chdir(tmp_path)
    assert show_result.main(["-b", V2_BENCH, "-c", "hard_prompt", "creative_writing", "--num-rounds", "20",
                             "--reference", "ref.csv"]) == 0
    captured = capsys.readouterr()
    assert list(report_lines(captured.out.splitlines(), "ref.csv")) == ["arena-hard-v2.0 hard_prompt"]
    assert "arena-hard-v2.0 creative_writing: no benchmark quality report, only 2 of its models" in captured.err


@pytest.mark.parametrize("files, args, fragment", [
    ({"ref.csv": ""}, ["--reference", "ref.csv"], "ref.csv: empty file"),
    ({"ref.csv": "model,rating\na,1\n"}, ["--reference", "ref.csv"], "no 'lower'/'upper'"),
    ({"ref.csv": "model,rating,lower,upper\nalpha,nan,0,1\n"}, ["--reference", "ref.csv"], "rating of 'alpha' is nan"),
    ({"ref.csv": "model,score,lower,upper\nalpha,1,0,2\n", "map.json": "{"},
     ["--reference", "ref.csv", "--name-map", "map.json"], "map.json: not a valid name map"),
    ({"ref.csv": "model,score,lower,upper\nalpha,1,0,2\nbeta,2,1,3\nzeta,3,2,4\n"}, ["--reference", "ref.csv"],
     "2 model(s) are in both the leaderboard and ref.csv (alpha, beta)"),
    ({"map.json": "{}"}, ["--name-map", "map.json"], "--name-map maps names for --reference"),
])
def test_bad_reference_is_one_line_and_nothing_is_scored_or_written(bench, files, args, fragment):
    for name, content in files.items():
        (bench / name).write_text(content)
    before = sorted(p.relative_to(bench) for p in bench.rglob("*"))
    result = run_script(bench, "--output", *args)
    assert_one_line_error(result, fragment)
    assert result.stdout == ""
    assert sorted(p.relative_to(bench) for p in bench.rglob("*")) == before


def test_shown_rounds_are_the_rounds_win_rates():
    from arena_hard.scoring.v01.table import shown_rounds, win_rate_percent

    bootstrap = np.array([[1000.0, 1100.0, np.nan], [1000.0, 900.0, 1000.0]])
    assert np.array_equal(shown_rounds(bootstrap, 0, True), bootstrap, equal_nan=True)
    rates = shown_rounds(bootstrap, 0, False)
    assert rates[0, 0] == rates[1, 2] == 50.0 and rates[0, 1] == win_rate_percent(1100.0, 1000.0) == 64.01
    assert np.isnan(rates[0, 2])
