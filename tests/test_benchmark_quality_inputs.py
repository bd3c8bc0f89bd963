"""benchmark_quality.py reads this project's own leaderboards: show_result.py's --output CSV and JSON of a
v0.1 bench (win rates with their interval) and of each v2.0 board, and the bootstrap file (ratings per
round); and one table written as CSV, JSON lines or a JSON array reads the same."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from arena_hard.scoring.quality_inputs import read_table
from show_result_fixtures import BASELINE, run, write_answers, write_judgments, write_questions
from test_benchmark_quality import report
from v2_fixtures import BENCH as V2_BENCH, write_v2_bench

QUESTIONS = [f"q{i}" for i in range(8)]


@pytest.fixture
def v01_outputs(tmp_path, monkeypatch, capsys):
    write_questions(tmp_path, QUESTIONS)
    for model, tokens in ((BASELINE, 400), ("alpha", 500), ("beta", 100)):
        write_answers(tmp_path, model, QUESTIONS, tokens)
    write_judgments(tmp_path, "alpha", [(q, "B>A", "A>B" if i % 3 else "B>A") for i, q in enumerate(QUESTIONS)])
    write_judgments(tmp_path, "beta", [(q, "A>B", "B>A" if i % 3 else "A>B") for i, q in enumerate(QUESTIONS)])
    monkeypatch.chdir(tmp_path)
    out, _ = run(capsys, "--num-rounds", "20", "--output")
    [csv_path] = (tmp_path / "leaderboard").glob("*.csv")
    return out, csv_path, csv_path.with_suffix(".json"), tmp_path / "data" / "bootstrapping_results.jsonl"


def test_v01_leaderboard_csv_and_json_give_the_shown_win_rates(v01_outputs):
    out, csv_path, json_path, _ = v01_outputs
    rows = {row["model"]: row for row in csv.DictReader(csv_path.open())}
    from_csv, from_json = read_table(csv_path).entries, read_table(json_path).entries
    assert list(from_csv) == [line.split()[0] for line in out] == ["alpha", BASELINE, "beta"]
    for model, row in rows.items():
        shown = (float(row["score"]), float(row["rating_q025"]), float(row["rating_q975"]))
        assert (from_csv[model].score, from_csv[model].lower, from_csv[model].upper) == shown
        assert (from_json[model].score, from_json[model].lower, from_json[model].upper) == shown
    assert from_csv[BASELINE].score == 50.0 and from_csv["alpha"].results is None


def test_v01_bootstrap_file_gives_each_models_rounds(v01_outputs, capsys):
    _, csv_path, json_path, bootstrap = v01_outputs
    rounds = [json.loads(line) for line in bootstrap.read_text().splitlines()]
    entries = read_table(bootstrap).entries
    alpha = [r["alpha"] for r in rounds]
    assert entries["alpha"].results == tuple(alpha) and entries["alpha"].score == np.median(alpha)
    assert (entries["alpha"].lower, entries["alpha"].upper) == tuple(np.percentile(alpha, [2.5, 97.5]))
    assert set(entries[BASELINE].results) == {1000.0}
    got, _ = report(capsys, "--scores", bootstrap, "--reference", json_path)
    assert got["models"] == 3 and got["strict_agreement"] == 1 and got["separability_80"] is not None
    got, _ = report(capsys, "--scores", csv_path, "--reference", json_path)
    assert got["strict_agreement"] == got["agreement"] == got["spearman"] == 1


def test_v2_outputs_of_each_board(tmp_path, monkeypatch, capsys):
    write_v2_bench(tmp_path, ["alpha", "beta", "gamma"], {"hard_prompt": 30, "creative_writing": 20})
    monkeypatch.chdir(tmp_path)
    run(capsys, "-b", V2_BENCH, "-c", "hard_prompt", "creative_writing", "--output", "--num-rounds", "20")
    written = sorted((tmp_path / "leaderboard").glob("*.csv"))
    assert [p.stem.split("_", 4)[-1] for p in written] == ["creative_writing", "hard_prompt", "overall"]
    for csv_path in written:
        document = json.loads(csv_path.with_suffix(".json").read_text())
        entries = read_table(csv_path.with_suffix(".json")).entries
        assert read_table(csv_path).entries == entries
        assert [(e.model, e.score, e.lower, e.upper) for e in entries.values()] == \
            [(m["model"], m["score"], m["lower"], m["upper"]) for m in document["models"]]


def test_one_table_in_every_format_reads_the_same(tmp_path):
    rows = [{"model": "a", "score": 1.5, "lower": 1, "upper": 2, "results": [1, 2, 2]},
            {"model": "b", "score": 3, "lower": 2, "upper": 4, "var": 0.25},
            {"model": "c, the third", "score": 5, "lower": 4.5, "upper": 6, "variance": 1}]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (tmp_path / "t.json").write_text(json.dumps(rows, indent=1))
    with open(tmp_path / "t.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["model", "score", "lower", "upper", "results", "var", "variance"])
        writer.writeheader()
        writer.writerows({**row, "results": json.dumps(row["results"])} if "results" in row else row for row in rows)
    tables = [read_table(tmp_path / name).entries for name in ("t.jsonl", "t.json", "t.csv")]
    assert tables[0] == tables[1] == tables[2]
    assert tables[0]["a"].results == (1.0, 2.0, 2.0) and tables[0]["b"].variance == 0.25
    assert tables[0]["c, the third"].variance == 1.0


def test_a_round_without_a_model_and_a_model_in_no_round(tmp_path):
    path = tmp_path / "rounds.jsonl"
    path.write_text('{"a": 1010.0, "b": 1000.0, "c": null}\n{"a": null, "b": 1000.0, "c": null}\n'
                    '{"a": 1030.0, "b": 1000.0, "c": null}\n')
    entries = read_table(path).entries
    assert list(entries) == ["a", "b"] and entries["a"].results == (1010.0, 1030.0) and entries["a"].score == 1020.0
