"""benchmark_quality.py: the seed notebook's printed statistics reproduced from its own input files (Arena-Hard,
AlpacaEval 2.0 LC, MT-Bench against Chatbot Arena of 2024-03-29), hand-checked cases (identical and reversed
rankings, overlapping intervals, ties, a model on one side only, name maps both ways, case-insensitive
names), and bad input as one line with exit status 2."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT
from pipeline_helpers import run_script_in_process

# What benchmark_statistics.ipynb printed (its outputs as stored in the seed repository), for the 20 models
# its name maps share with Chatbot Arena.
NOTEBOOK = {
    "arena_hard": ("arena_to_arena_hard.json", {
        "separability_95": 0.8421, "separability_80": 0.9105, "agreement": 0.903954802259887,
        "strict_agreement": 0.9157894736842105, "spearman": 0.932330827067669, "brier": 0.07047865504650436,
        "log_loss": 0.3950460397256576}),
    "alpaca_LC": ("alpaca_to_arena.json", {
        "separability_95": 0.8789, "separability_80": 0.9316, "agreement": 0.8728813559322034,
        "strict_agreement": 0.8526315789473684, "spearman": 0.8781954887218045, "brier": 0.13472585300420672,
        "log_loss": 1.9652927160512885}),
    "mt_bench": ("arena_to_mt_bench.json", {
        "separability_95": 0.3632, "separability_80": 0.5526, "agreement": 0.6949152542372882,
        "strict_agreement": 0.868421052631579, "spearman": 0.8932330827067668, "brier": 0.10082905842501223,
        "log_loss": 0.3310536497002041}),
}
CHATBOT_ARENA_SEPARABILITY_OF_THE_20 = 0.9158  # "Chatbot Arena: 20 models ... Confidence: 91.58%"


def run_script(*args, cwd=None):
    return subprocess.run([sys.executable, str(REPO_ROOT / "benchmark_quality.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})


def run_in_process(*args, cwd):
    """run_script's result from benchmark_quality's main in this process (no interpreter start per case)."""
    return run_script_in_process("benchmark_quality.py", *map(str, args), cwd=cwd)


def run(capsys, *args):
    import benchmark_quality

    assert benchmark_quality.main([str(a) for a in args]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def report(capsys, *args):
    out, err = run(capsys, *args, "--json")
    return json.loads(out), err


def shown_values(out):
    """{statistic: value as shown} of the table's lines."""
    return {line[2:28].strip(): line[28:37].strip() for line in out.splitlines()[1:]}


def write_table(path, rows, columns=("model", "score", "lower", "upper")):
    """JSON lines of rows given as tuples in `columns` order."""
    path.write_text("".join(json.dumps(dict(zip(columns, row))) + "\n" for row in rows))
    return path


def compared(tmp_path, capsys, scores, reference, reference_columns=("model", "score", "lower", "upper")):
    """The --json report of two small tables given as rows."""
    got, _ = report(capsys, "--scores", write_table(tmp_path / "s.jsonl", scores),
                    "--reference", write_table(tmp_path / "r.jsonl", reference, reference_columns))
    return got


@pytest.mark.parametrize("benchmark", NOTEBOOK)
def test_the_notebook_numbers_are_reproduced(seed_notebook_dir, benchmark):
    name_map, expected = NOTEBOOK[benchmark]
    result = run_script("--scores", seed_notebook_dir / f"bootstrap_stats_{benchmark}.jsonl",
                        "--reference", seed_notebook_dir / "chatbot_arena_20240329.csv",
                        "--name-map", seed_notebook_dir / name_map, "--json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["models"] == 20 and got["confident_reference_pairs"] == 177
    assert {key: round(got[key], 4) for key in expected} == {key: round(value, 4) for key, value in expected.items()}
    assert round(got["reference_separability_95"], 4) == CHATBOT_ARENA_SEPARABILITY_OF_THE_20
    assert "not compared, only in" in result.stderr and "(56)" in result.stderr  # the 56 unmapped arena models


def test_the_table_shows_each_number_with_its_meaning(seed_notebook_dir, capsys):
    out, _ = run(capsys, "--scores", seed_notebook_dir / "bootstrap_stats_arena_hard.jsonl",
                 "--reference", seed_notebook_dir / "chatbot_arena_20240329.csv",
                 "--name-map", seed_notebook_dir / "arena_to_arena_hard.json")
    assert "(20 models, 190 pairs; 177 pairs the reference separates)" in out.splitlines()[0]
    shown = shown_values(out)
    assert shown["separability (95%)"] == "84.21%" and shown["separability (80%)"] == "91.05%"
    assert shown["agreement with confidence"] == "0.9040" and shown["strict agreement"] == "0.9158"
    assert shown["Spearman correlation"] == "0.9323" and shown["Brier score"] == "0.0705"
    assert shown["log loss"] == "0.3950"


def test_identical_rankings(tmp_path, capsys):
    rows = [("a", 10, 8.04, 11.96), ("b", 20, 18.04, 21.96), ("c", 30, 28.04, 31.96), ("d", 40, 38.04, 41.96)]
    scores = write_table(tmp_path / "s.jsonl", rows)
    got, err = report(capsys, "--scores", scores, "--reference", scores)
    assert err == ""
    assert got["separability_95"] == got["reference_separability_95"] == 1.0 and got["separability_80"] is None
    assert got["agreement"] == got["agreement_signed"] == got["strict_agreement"] == 1.0
    assert got["spearman"] == pytest.approx(1) and got["kendall"] == pytest.approx(1)
    # sigma = 1 for every model, so P(a < b) = Phi(gap / sqrt 2) with gaps of 10, 20, 30: all near 1
    assert got["brier"] < 1e-12 and got["confident_reference_pairs"] == 6


def test_forecast_of_close_models_by_hand(tmp_path, capsys):
    # sigma = (upper - lower) / 3.92 = 1; gaps of 1 and 2: P = Phi(1 / sqrt 2), Phi(2 / sqrt 2), all labels 1
    got = compared(tmp_path, capsys, [("a", 1, -0.96, 2.96), ("b", 2, 0.04, 3.96), ("c", 3, 1.04, 4.96)],
                   [("a", 100, 99, 101), ("b", 200, 199, 201), ("c", 300, 299, 301)],
                   ("model", "rating", "rating_q025", "rating_q975"))
    phi = [0.5 * (1 + math.erf(gap / math.sqrt(2) / math.sqrt(2))) for gap in (1, 2, 1)]
    assert got["brier"] == pytest.approx(sum((1 - p) ** 2 for p in phi) / 3)
    assert got["log_loss"] == pytest.approx(-sum(math.log(p) for p in phi) / 3)
    # every benchmark interval overlaps the others, while the reference separates all 3 pairs
    assert got["separability_95"] == 0 and got["reference_separability_95"] == 1
    assert got["agreement"] == 0.5 and got["agreement_signed"] == 0 and got["strict_agreement"] == 1


def test_reversed_ranking(tmp_path, capsys):
    got = compared(tmp_path, capsys, [("a", 3, 2.5, 3.5), ("b", 2, 1.5, 2.5), ("c", 1, 0.5, 1.5)],
                   [("a", 1, 0.5, 1.4), ("b", 2, 1.6, 2.4), ("c", 3, 2.6, 3.5)])
    assert got["strict_agreement"] == 0 and got["agreement"] == 0 and got["agreement_signed"] == -1
    assert got["spearman"] == pytest.approx(-1) and got["kendall"] == pytest.approx(-1)
    assert got["separability_95"] == 1  # touching ends (2.5, 2.5) do not overlap
    assert got["brier"] > 0.9 and got["log_loss"] > 5


def test_all_intervals_overlapping(tmp_path, capsys):
    got = compared(tmp_path, capsys, [("a", 1, 0, 10), ("b", 2, 0.5, 9), ("c", 3, 1, 8), ("d", 4, 2, 12)],
                   [("a", 1, 0, 1), ("b", 2, 1.5, 2.5), ("c", 3, 3, 4), ("d", 4, 5, 6)])
    assert got["separability_95"] == 0 and got["reference_separability_95"] == 1
    assert got["agreement"] == 0.5 and got["agreement_signed"] == 0 and got["strict_agreement"] == 1


def test_ties_in_scores(tmp_path, capsys):
    got = compared(tmp_path, capsys, [("a", 1, 0, 2), ("b", 1, 0, 2), ("c", 2, 1, 3)],
                   [("a", 1, 0, 1), ("b", 2, 1, 2), ("c", 3, 2, 3)])
    assert got["strict_agreement"] == pytest.approx(2 / 3)  # the tied pair a-b disagrees
    assert got["spearman"] == pytest.approx(1.5 / math.sqrt(1.5 * 2))  # ranks 1.5, 1.5, 3 against 1, 2, 3
    assert got["kendall"] == pytest.approx(2 / math.sqrt(2 * 3))  # tau-b: 2 concordant, 1 pair tied in score
    assert got["agreement"] == 0.5  # identical benchmark intervals, and overlapping ones, count as overlapping


def test_a_model_on_one_side_only_is_named_on_stderr(tmp_path, capsys):
    scores = write_table(tmp_path / "s.jsonl", [("a", 1, 0, 2), ("b", 2, 1, 3), ("c", 3, 2, 4), ("x", 5, 4, 6)])
    reference = write_table(tmp_path / "r.jsonl", [("y", 1, 0, 2), ("c", 3, 2, 4), ("b", 2, 1, 3), ("a", 1, 0, 2)])
    got, err = report(capsys, "--scores", scores, "--reference", reference)
    assert got["models"] == 3
    assert err.splitlines() == [f"note: not compared, only in {scores} (1): x",
                                f"note: not compared, only in {reference} (1): y"]


def test_names_match_exactly_then_case_insensitively(tmp_path, capsys):
    scores = write_table(tmp_path / "s.jsonl", [("GPT-4", 9, 8, 10), ("Llama", 5, 4, 6), ("mixtral", 7, 6, 8)])
    reference = write_table(tmp_path / "r.jsonl", [("gpt-4", 1200, 1190, 1210), ("llama", 1000, 990, 1010),
                                                   ("mixtral", 1100, 1090, 1110), ("Mixtral", 900, 890, 910)])
    got, err = report(capsys, "--scores", scores, "--reference", reference)
    assert got["models"] == 3 and got["strict_agreement"] == 1  # mixtral is mixtral, not Mixtral
    assert err == f"note: not compared, only in {reference} (1): Mixtral\n"


@pytest.mark.parametrize("name_map", [
    {"gpt-4": "GPT-4-0613", "LLAMA-2": "llama", "mixtral": "Mixtral-HF"},  # reference names -> score names
    {"gpt-4-0613": "GPT-4", "llama": "llama-2", "mixtral-hf": "Mixtral"},  # score names -> reference names
])
def test_a_name_map_in_either_direction_compares_exactly_the_mapped_models(tmp_path, capsys, name_map):
    scores = write_table(tmp_path / "s.jsonl", [("gpt-4-0613", 9, 8, 10), ("llama", 5, 4, 6), ("mixtral-hf", 7, 6, 8),
                                                ("gpt-4", 1, 0, 2)])
    reference = write_table(tmp_path / "r.jsonl", [("GPT-4", 1200, 1190, 1210), ("llama-2", 1000, 990, 1010),
                                                   ("Mixtral", 1100, 1090, 1110), ("other", 900, 890, 910)])
    (tmp_path / "map.json").write_text(json.dumps(name_map))
    got, err = report(capsys, "--scores", scores, "--reference", reference, "--name-map", tmp_path / "map.json")
    assert got["models"] == 3 and got["strict_agreement"] == 1 and got["agreement"] == 1
    assert err.splitlines() == [f"note: not compared, only in {scores} (1): gpt-4",
                                f"note: not compared, only in {reference} (1): other"]


def test_project_outputs_and_a_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    scores = write_table(tmp_path / "s.csv", [])
    scores.write_text("model,score,rating_q025,rating_q975,CI,avg_tokens,date\n"
                      "a,80.5,75.0,85.0,\"(-5.50, +4.50)\",100,2024-01-01\n"
                      "b,50.0,50.0,50.0,\"(-0.00, +0.00)\",90,2024-01-01\n"
                      "c,20.0,15.0,26.0,\"(-5.00, +6.00)\",80,2024-01-01\n")
    out, err = run(capsys, "--scores", scores, "--reference", scores, "--plot", tmp_path / "q.png")
    assert shown_values(out)["separability (95%)"] == "100.00%" and err == f"wrote {tmp_path / 'q.png'}\n"
    assert (tmp_path / "q.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "error: " in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


GOOD = [("a", 1, 0, 2), ("b", 2, 1, 3), ("c", 3, 2, 4)]


@pytest.mark.parametrize("content, fragments", [
    ("", ["empty file"]),
    ("model,score,lower,upper\n", ["holds no models"]),
    ("name,score,lower,upper\na,1,0,2\n", ["no 'model' column", "found: name, score, lower, upper"]),
    ("model,lower,upper\na,0,2\n", ["no 'score' or 'rating' column"]),
    ("model,score\na,1\n", ["no 'lower'/'upper'"]),
    ("model,score,lower,upper\na,NaN,0,2\nb,2,1,3\nc,3,2,4\n", [":2:", "score of 'a' is NaN"]),
    ("model,score,lower,upper\na,1,0,2\nb,inf,1,3\nc,3,2,4\n", [":3:", "score of 'b' is inf"]),
    ('{"model": "a", "score": 1, "lower": 0, "upper": Infinity}\n', [":1:", "upper of 'a' is inf"]),
    ("model,score,lower,upper\na,1,2,0\nb,2,1,3\nc,3,2,4\n", [":2:", "lower bound 2 above its upper bound 0"]),
    ("model,score,lower,upper\na,1,0,2\nb,2,1,3\na,3,2,4\n", [":4:", "'a' appears twice", ":2)"]),
    ("model,score,lower,upper\na,x,0,2\n", ["score is 'x', not a number"]),
    ('{"model": "a", "score": 1, "lower": 0, "upper": 2}\n{"model": "b", \n', [":2:", "not valid JSON"]),
    ('{"model": "a", "score": 1, "lower": 0, "upper": 2, "results": []}\n', ["results must be a non-empty list"]),
])
def test_bad_scores_file_is_one_line(tmp_path, content, fragments):
    scores = tmp_path / "scores.csv"
    scores.write_text(content)
    reference = write_table(tmp_path / "r.jsonl", GOOD)
    assert_one_line_error(run_in_process("--scores", scores, "--reference", reference, cwd=tmp_path), str(scores),
                          *fragments)


@pytest.mark.parametrize("name_map, fragments", [
    ({"a": "a", "zzz": "yyy"}, ["'zzz': 'yyy' names a model in neither"]),
    ({"a": "b", "b": "b", "c": "c"}, ["'b' is mapped to both"]),
    ([], ["expected a non-empty JSON object"]),
    ({"a": 1}, ["'a' maps to 1, not a model name"]),
])
def test_bad_name_map_is_one_line(tmp_path, name_map, fragments):
    scores = write_table(tmp_path / "s.jsonl", GOOD)
    (tmp_path / "map.json").write_text(json.dumps(name_map))
    result = run_in_process("--scores", scores, "--reference", scores, "--name-map", tmp_path / "map.json",
                            cwd=tmp_path)
    assert_one_line_error(result, "map.json", *fragments)


def test_fewer_than_three_shared_models_and_missing_files_are_one_line(tmp_path):
    scores = write_table(tmp_path / "s.jsonl", GOOD)
    reference = write_table(tmp_path / "r.jsonl", [("a", 1, 0, 2), ("b", 2, 1, 3), ("x", 3, 2, 4)])
    assert_one_line_error(run_in_process("--scores", scores, "--reference", reference, cwd=tmp_path),
                          "2 model(s) are in both", "(a, b); at least 3 are needed")
    assert_one_line_error(run_in_process("--scores", tmp_path / "nope.csv", "--reference", reference, cwd=tmp_path),
                          "nope.csv: file not found")
    assert_one_line_error(run_script("--scores", scores), "the following arguments are required: --reference")
