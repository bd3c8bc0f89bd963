"""show_result.py prints byte-identical lines to upstream v0.1's algorithm (ratings_oracle.upstream_leaderboard_lines:
pandas, scikit-learn, upstream's seed, win-rate formula and rounding) on generated judgments, for the default
flags, --show-elo, --first-game-only, --weight 1 and 5 and --num-rounds 20."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import show_result
from ratings_oracle import upstream_lines, upstream_ratings
from show_result_fixtures import BASELINE, JUDGE, bench_dir, write_answers, write_judgments, write_questions

pytest.importorskip("sklearn")

LABELS = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]
# Each model's leaning: probabilities of the five labels in game 1 (baseline as A); game 2 mirrored.
MODELS = {"m-strong": [0.05, 0.15, 0.15, 0.4, 0.25], "m-even": [0.15, 0.25, 0.2, 0.25, 0.15],
          "m-weak": [0.3, 0.35, 0.15, 0.15, 0.05]}
QUESTIONS = [f"{i:04x}" for i in range(40)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """40 questions, three models; some games without a verdict (null or an unknown label), a few records
    absent, all seeded."""
    root = tmp_path_factory.mktemp("oracle")
    rng = np.random.default_rng(2024)
    write_questions(root, QUESTIONS)
    write_answers(root, BASELINE, QUESTIONS, rng.integers(200, 900, len(QUESTIONS)).tolist())
    for model, leaning in MODELS.items():
        write_answers(root, model, QUESTIONS, rng.integers(100, 1200, len(QUESTIONS)).tolist())
        rows = []
        for question in QUESTIONS:
            if rng.random() < 0.05:
                continue  # no judgment for this question
            game1 = LABELS[rng.choice(5, p=leaning)]
            game2 = LABELS[4 - rng.choice(5, p=leaning)]  # the swap: the same leaning seen from the other side
            rows.append((question, None if rng.random() < 0.04 else game1, "A<B" if rng.random() < 0.03 else game2))
        write_judgments(root, model, rows)
    return root


@functools.lru_cache(maxsize=None)
def oracle_ratings(root, weight: int, first_game_only: bool):
    """Upstream's 100 rounds (sklearn is slow; the default and --show-elo share them, and --num-rounds 20
    takes the first 20, which is what upstream draws for 20 after the same seed)."""
    judgments = sorted((bench_dir(root) / "model_judgment" / JUDGE).glob("*.jsonl"))  # show_result's order
    return upstream_ratings(judgments, 100, weight, first_game_only)


@pytest.mark.parametrize("flags, weight, first_game_only, rounds, show_elo", [
    ([], 3, False, 100, False),
    (["--show-elo"], 3, False, 100, True),
    (["--first-game-only"], 3, True, 100, False),
    (["--weight", "1"], 1, False, 100, False),
    (["--weight", "5"], 5, False, 100, False),  # upstream copies a strong verdict's battle 5 times; we weight it
    (["--num-rounds", "20"], 3, False, 20, False),
])
def test_lines_are_byte_identical_to_upstreams_algorithm(generated, monkeypatch, capsys, flags, weight,
                                                         first_game_only, rounds, show_elo):
    monkeypatch.chdir(generated)
    assert show_result.main(flags) == 0
    printed = capsys.readouterr().out.splitlines()
    point, all_rounds = oracle_ratings(generated, weight, first_game_only)
    answers = {path.stem: path for path in (bench_dir(generated) / "model_answer").glob("*.jsonl")}
    expected = upstream_lines(point, all_rounds.iloc[:rounds], answers, show_elo)
    assert len(expected) == 1 + len(MODELS)
    assert printed == expected
