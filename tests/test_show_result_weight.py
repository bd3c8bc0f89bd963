"""--weight without copies (issue 26): a strong verdict's battles (v0.1) or score rows (v2.0) are one row
standing for `weight` copies, and the bootstrap draws upstream's stream over the expanded list, counted
back onto the rows. The numbers equal those of the copying implementation (the same rows repeated), for
weights 1..5 on random inputs: exactly without style control; with it, every printed digit, the fits
differing in the last bits only (the features' mean and std are summed per row with its copies). A large
weight stays small in memory (tracemalloc's peak), a weight past the bound is one line, and
--load-battles refuses the flags that shape battles it does not make."""
from __future__ import annotations

import io
import json
import tracemalloc
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import show_result
from arena_hard.core.errors import UserError
from arena_hard.scoring import weighted_rows
from arena_hard.scoring.judgment_records import Records
from arena_hard.scoring.v01 import full_stats, style_control
from arena_hard.scoring.v01 import run as v01_run
from arena_hard.scoring.v01.battles import Battles, battle_lines, records_to_battles
from arena_hard.scoring.v01.fit import bootstrap_ratings, fit_ratings
from arena_hard.scoring.v2 import run as v2_run
from arena_hard.scoring.v2.battles import ScoreRows, score_rows
from arena_hard.scoring.v2.board import style_board, winrate_board
from arena_hard.scoring.verdict_labels import LABELS, NO_VERDICT, v2_code
from show_result_fixtures import BASELINE, age_files, write_answers, write_judgments, write_questions
from test_show_result import assert_one_line_error, run_script
from v2_fixtures import BENCH as V2_BENCH, write_v2_bench

PROPERTIES = settings(max_examples=40, deadline=None, database=None, derandomize=True)


def copied_battles(battles: Battles) -> Battles:
    """The copying implementation's battles: each row repeated `copies` times."""
    rows = np.repeat(np.arange(len(battles.outcome)), battles.copies)
    return Battles(battles.models, battles.question_ids, battles.question[rows], battles.model_a[rows],
                   battles.model_b[rows], battles.outcome[rows])


def copied_rows(rows: ScoreRows) -> ScoreRows:
    index = np.repeat(np.arange(len(rows.copies)), rows.copies)
    return ScoreRows(rows.records, rows.models, rows.record[index], rows.model[index], rows.halves[index],
                     np.ones(len(index), dtype=np.int64))


def random_records(seed: int, questions: int, n_models: int, star: bool, codes: int) -> Records:
    """Every model judged on every question against `base` (and, off the star, some against m0)."""
    rng = np.random.default_rng(seed)
    pairs = [(f"m{m}", f"q{q}") for m in range(n_models) for q in range(questions)]
    baselines = [None if star or rng.random() < 0.7 or model == "m0" else "m0" for model, _ in pairs]
    return Records([q for _, q in pairs], [m for m, _ in pairs], baselines, ["c"] * len(pairs),
                   rng.integers(0, codes, len(pairs)).astype(np.int8), rng.integers(0, codes, len(pairs)).astype(np.int8))


# --- v0.1 ---------------------------------------------------------------------------------------------

@PROPERTIES
@given(seed=st.integers(0, 2 ** 32 - 1), weight=st.integers(1, 5), star=st.booleans(), first_game_only=st.booleans(),
       questions=st.integers(3, 25), n_models=st.integers(1, 4))
def test_v01_weighted_battles_score_as_their_copies(seed, weight, star, first_game_only, questions, n_models):
    records = random_records(seed, questions, n_models, star, NO_VERDICT + 1)
    battles = records_to_battles(records, BASELINE, weight, first_game_only)
    assume(len(battles.outcome) > 0 and BASELINE in battles.models)
    copied = copied_battles(battles)
    assert len(battles) == len(copied) and len(battles.outcome) <= len(copied.outcome)
    assert list(battle_lines(battles)) == list(battle_lines(copied))
    assert full_stats.battle_counts(battles) == full_stats.battle_counts(copied)
    anchor = battles.models.index(BASELINE)
    try:
        expected = fit_ratings(copied, anchor)
    except UserError:  # a model linked to the baseline by no battle: the same refusal either way
        with pytest.raises(UserError):
            fit_ratings(battles, anchor)
        return
    np.testing.assert_array_equal(fit_ratings(battles, anchor), expected)
    np.testing.assert_array_equal(bootstrap_ratings(battles, anchor, 7), bootstrap_ratings(copied, anchor, 7))

    rng = np.random.default_rng(seed)
    counts = {m: {q: rng.integers(0, 900, 4).tolist() for q in battles.question_ids} for m in battles.models}
    a, b = style_control.battle_counts(battles, counts.get)
    z, constant = style_control.style_features(a, b, "style", battles.copies)
    z_copied, constant_copied = style_control.style_features(*style_control.battle_counts(copied, counts.get), "style")
    assert constant == constant_copied
    np.testing.assert_allclose(np.repeat(z, battles.copies, axis=0), z_copied, rtol=0, atol=1e-12)
    problem, theta, fitted = style_control.fit_style(battles, z, anchor)
    problem_copied, theta_copied, fitted_copied = style_control.fit_style(copied, z_copied, anchor)
    np.testing.assert_allclose(fitted, fitted_copied, rtol=0, atol=1e-8)
    np.testing.assert_allclose(style_control.bootstrap_style(problem, battles, theta, 3),
                               style_control.bootstrap_style(problem_copied, copied, theta_copied, 3), rtol=0, atol=1e-8)


def write_v01_bench(root, questions: int = 40, strong_only: bool = False, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    ids = [f"q{i:03d}" for i in range(questions)]
    write_questions(root, ids, [("math", "code")[i % 2] for i in range(questions)])
    write_answers(root, BASELINE, ids, rng.integers(100, 900, questions).tolist())
    for model in ("m0", "m1", "m2"):
        write_answers(root, model, ids, rng.integers(100, 900, questions).tolist())
        labels = ["A>>B", "B>>A"] if strong_only else LABELS + (None,)
        write_judgments(root, model, [(q, labels[rng.integers(len(labels))], labels[rng.integers(len(labels))])
                                      for q in ids])
    age_files(root)


def run_quietly(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert show_result.main(list(args)) == 0
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("weight", [1, 2, 3, 4, 5])
def test_v01_leaderboards_and_saved_battles_equal_the_copying_implementation(tmp_path, monkeypatch, weight):
    write_v01_bench(tmp_path)
    monkeypatch.chdir(tmp_path)
    flag_sets = (["--num-rounds", "30"], ["--num-rounds", "20", "--style-control", "-c", "math", "code"])
    ours = [(run_quietly("--weight", str(weight), *flags), (tmp_path / "data" / "arena_hard_battles.jsonl").read_bytes())
            for flags in flag_sets]
    monkeypatch.setattr(v01_run, "records_to_battles", lambda *args: copied_battles(records_to_battles(*args)))
    copying = [(run_quietly("--weight", str(weight), *flags), (tmp_path / "data" / "arena_hard_battles.jsonl").read_bytes())
               for flags in flag_sets]
    assert ours == copying


# --- v2.0 ---------------------------------------------------------------------------------------------

@PROPERTIES
@given(seed=st.integers(0, 2 ** 32 - 1), weight=st.integers(1, 5), questions=st.integers(20, 40),
       n_models=st.integers(2, 4))
def test_v2_weighted_rows_score_as_their_copies(seed, weight, questions, n_models):
    records = random_records(seed, questions, n_models, True, len(LABELS))
    records.baselines = ["base"] * len(records)
    rows = score_rows(records, weight)
    copied = copied_rows(rows)
    board, board_copied = winrate_board(rows, "base", "t", 20, 42), winrate_board(copied, "base", "t", 20, 42)
    assert board.rows == board_copied.rows
    for name, rounds in board.rounds.items():
        np.testing.assert_array_equal(rounds, board_copied.rounds[name])
    rng = np.random.default_rng(seed)
    counts = {m: {q: rng.integers(1, 900, 4).tolist() for q in set(records.question_ids)}
              for m in set(records.models) | {"base"}}
    styled = style_board(rows, "base", "t", 10, 42, ["length", "markdown"], counts.get)
    styled_copied = style_board(copied, "base", "t", 10, 42, ["length", "markdown"], counts.get)
    assert [(r.model, r.score, r.interval) for r in styled.rows] == \
        [(r.model, r.score, r.interval) for r in styled_copied.rows]
    for name, rounds in styled.rounds.items():
        np.testing.assert_allclose(rounds, styled_copied.rounds[name], rtol=0, atol=1e-9)


@pytest.mark.parametrize("weight", [1, 2, 3, 4, 5])
def test_v2_leaderboards_equal_the_copying_implementation(tmp_path, monkeypatch, weight):
    write_v2_bench(tmp_path, ["alpha", "beta", "gamma"], {"hard_prompt": 30, "creative_writing": 20}, seed=weight)
    monkeypatch.chdir(tmp_path)
    flag_sets = (["-c", "hard_prompt", "creative_writing", "--num-rounds", "30"],
                 ["-f", "length", "markdown", "--num-rounds", "20"])
    ours = [run_quietly("-b", V2_BENCH, "--weight", str(weight), *flags) for flags in flag_sets]
    monkeypatch.setattr(v2_run, "score_rows", lambda *args: copied_rows(score_rows(*args)))
    assert ours == [run_quietly("-b", V2_BENCH, "--weight", str(weight), *flags) for flags in flag_sets]


# --- memory, bounds and flags ---------------------------------------------------------------------------

@pytest.mark.parametrize("bench, flags", [("v0.1", []), ("v0.1", ["--style-control"]),
                                          ("v2.0", ["-f", "length", "markdown"])])
def test_a_large_weight_stays_small_in_memory(tmp_path, monkeypatch, bench, flags):
    # every verdict strong: --weight 1000 makes 240,000 battles (v0.1) or ~70,000 score rows (v2.0); copying
    # them peaked at 71 MB (v0.1), 174 MB (v0.1 --style-control) and 55 MB (v2.0 -f length markdown)
    if bench == "v0.1":
        write_v01_bench(tmp_path, strong_only=True)
    else:
        write_v2_bench(tmp_path, ["m0", "m1", "m2"], {"hard_prompt": 40}, seed=1)
        flags = ["-b", V2_BENCH, *flags]
    monkeypatch.chdir(tmp_path)
    run_quietly(*flags, "--num-rounds", "20")  # the parse cache, so that the measured run only scores
    tracemalloc.start()
    try:
        run_quietly(*flags, "--num-rounds", "20", "--weight", "1000")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16e6
    if bench == "v0.1":  # upstream's battles file all the same: one line per battle
        assert sum(1 for _ in open(tmp_path / "data" / "arena_hard_battles.jsonl", "rb")) == 40 * 3 * 2 * 1000


@pytest.mark.parametrize("bench", ["v0.1", "v2.0"])
def test_a_weight_making_too_many_battles_is_refused_before_any_work(tmp_path, monkeypatch, bench):
    monkeypatch.setattr(weighted_rows, "MAX_EXPANDED", 1000)
    if bench == "v0.1":
        write_v01_bench(tmp_path, strong_only=True)
        flags = []
    else:
        write_v2_bench(tmp_path, ["m0", "m1", "m2"], {"hard_prompt": 40}, seed=1)
        flags = ["-b", V2_BENCH]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=r"^--weight 50 makes [\d,]+ (battles|score rows) \(a strong verdict counts 50 "
                                        r"times\), over the 1,000 a run allows .*; lower --weight$"):
        run_quietly(*flags, "--weight", "50")
    assert not (tmp_path / "data" / "arena_hard_battles.jsonl").exists()
    assert not (tmp_path / "data" / "bootstrapping_results.jsonl").exists()


def test_weight_is_bounded_and_load_battles_refuses_what_shapes_battles(tmp_path):
    write_v01_bench(tmp_path, questions=6)
    assert_one_line_error(run_script(tmp_path, "--weight", "1001"), "--weight must be at most 1,000")
    assert run_script(tmp_path, "--num-rounds", "20").returncode == 0  # saves the battles
    for flags, named in ((["--weight", "3"], "--weight"), (["--first-game-only"], "--first-game-only"),
                         (["--weight", "2", "--first-game-only"], "--weight and --first-game-only")):
        assert_one_line_error(run_script(tmp_path, "--load-battles", *flags), f"{named} shape the battles made "
                              "from the judgments; --load-battles scores data/arena_hard_battles.jsonl as saved")
    assert run_script(tmp_path, "--load-battles", "--num-rounds", "20").returncode == 0


def test_saved_battles_of_a_weight_load_back_as_rows_with_copies(tmp_path, monkeypatch):
    write_v01_bench(tmp_path, questions=10, strong_only=True)
    monkeypatch.chdir(tmp_path)
    first, _ = run_quietly("--weight", "5", "--num-rounds", "20")
    lines = (tmp_path / "data" / "arena_hard_battles.jsonl").read_text().splitlines()
    assert len(lines) == 10 * 3 * 2 * 5 and len(set(lines)) < len(lines) / 5  # every strong verdict 5 lines
    assert json.loads(lines[0]).keys() == {"question_id", "model_a", "model_b", "winner"}
    reloaded, _ = run_quietly("--load-battles", "--num-rounds", "20")
    assert reloaded == first
    battles, _ = v01_run.read_battles(v01_run.BATTLES_FILE)
    assert len(battles) == len(lines) and len(battles.outcome) <= len(lines) / 5
    assert v2_code("A>>B") == LABELS.index("A>>B")  # the labels the bench was written with
