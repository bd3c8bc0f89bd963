"""Each script run from a folder without data/ or config/ says, in its one-line error, which folder it
looked in and to run from the one that holds them (issue 24, item 12)."""
from __future__ import annotations

import shutil

import pytest

from conftest import REPO_ROOT
from pipeline_helpers import run_script


@pytest.mark.parametrize("script, missing", [("gen_answer.py", "config/gen_answer_config.yaml"),
                                             ("gen_judgment.py", "config/judge_config.yaml"),
                                             ("show_result.py", "data/arena-hard-v0.1/model_judgment")])
def test_a_script_run_elsewhere_says_where_it_looked(tmp_path, script, missing):
    result = run_script(script, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {missing}")
    assert line.endswith(f"(looked in {tmp_path}: run from the folder that holds {missing.split('/')[0]}/)")


def test_gen_answer_with_configs_but_no_data_says_where_it_looked_for_the_questions(tmp_path):
    (tmp_path / "config").mkdir()
    for name in ("gen_answer_config.yaml", "api_config.yaml"):
        shutil.copy2(REPO_ROOT / "config" / name, tmp_path / "config" / name)
    result = run_script("gen_answer.py", cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "question.jsonl: question file not found" in line
    assert line.endswith(f"(looked in {tmp_path}: run from the folder that holds data/)")


def test_the_hint_is_left_out_where_the_folder_is_there(tmp_path):
    (tmp_path / "data").mkdir()
    result = run_script("show_result.py", cwd=tmp_path)
    assert result.returncode == 2 and "looked in" not in result.stderr
