"""Config loading: one-line errors naming file and key, ${ENV} keys, the official prompt's from_file."""
from __future__ import annotations

import hashlib
import shutil

import pytest

from arena_hard.core.config import load_answer_settings, load_judge_settings
from arena_hard.core.endpoints import load_model_configs
from arena_hard.core.errors import UserError
from tests.conftest import REPO_ROOT

OFFICIAL_SHA256 = "6e001736bacacdb1591ffca7eec953a7089f8f5604872d1ca4f9a6f9de1ee451"


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_repository_answer_config_has_v01_defaults():
    settings = load_answer_settings(REPO_ROOT / "config" / "gen_answer_config.yaml")
    assert (settings.bench_name, settings.temperature, settings.max_tokens, settings.num_choices) == \
        ("arena-hard-v0.1", 0.0, 4096, 1)


def test_default_judge_config_needs_the_download_and_says_so(tmp_path):
    config = tmp_path / "judge_config.yaml"
    shutil.copy(REPO_ROOT / "config" / "judge_config.yaml", config)
    with pytest.raises(UserError, match=r"official/judge_config.yaml, which is not there yet; run `python download_data.py`"):
        load_judge_settings(config)


def test_default_judge_config_reads_the_official_wording_after_download(tmp_path, upstream_dir):
    official = upstream_dir / "config" / "judge_config.yaml"
    assert hashlib.sha256(official.read_bytes()).hexdigest() == OFFICIAL_SHA256
    (tmp_path / "official").mkdir()
    shutil.copy(official, tmp_path / "official" / "judge_config.yaml")  # what download_data.py writes
    shutil.copy(REPO_ROOT / "config" / "judge_config.yaml", tmp_path / "judge_config.yaml")
    ours = load_judge_settings(tmp_path / "judge_config.yaml")
    theirs = load_judge_settings(official)
    assert ours == theirs
    assert (ours.judge_model, ours.baseline_model, ours.number_of_judgment_attempts) == \
        ("gpt-4-1106-preview", "gpt-4-0314", 2)
    assert ours.regex_patterns[0].pattern == r"\[\[([AB<>=]+)\]\]"


@pytest.mark.parametrize("text, message", [
    ("bench_name: x\nmodel_list: [a\n", r"cfg.yaml:\d+: YAML syntax error"),
    ("", r"cfg.yaml: the file is empty"),
    ("- a\n- b\n", r"cfg.yaml: expected a mapping"),
    ("model_list: [a]\n", r"cfg.yaml: `bench_name` is missing"),
    ("bench_name: x\nmodel_list: [a]\nmax_tokens: lots\n", r"`max_tokens` must be an integer >= 1, found 'lots'"),
    ("bench_name: x\nmodel_list: [a]\nnum_choices: 0\n", r"`num_choices` must be an integer >= 1"),
    ("bench_name: x\nmodel_list: 5\n", r"`model_list` must be a list of names"),
])
def test_answer_config_errors(tmp_path, text, message):
    with pytest.raises(UserError, match=message):
        load_answer_settings(write(tmp_path / "cfg.yaml", text))


def test_missing_config_file(tmp_path):
    with pytest.raises(UserError, match="config file not found"):
        load_answer_settings(tmp_path / "nope.yaml")


@pytest.mark.parametrize("entry, message", [
    ("  api_type: bard\n", r"`m.api_type` is 'bard', which is not supported; use one of: openai, azure, anthropic, cohere, meta, vertex, bedrock, sglang, vllm, mock"),
    ("  parallel: 0\n", r"`m.parallel` must be an integer >= 1, found 0"),
    ("  parallel: -3\n", r"`m.parallel` must be an integer >= 1, found -3"),
    ("  endpoints: {api_base: x}\n", r"`m.endpoints` must be null or a list"),
    ("  api_type: mock\n  mock: {style: chatty}\n", r"`m.mock.style` must be one of terse, concise, detailed"),
])
def test_endpoint_entry_errors(tmp_path, entry, message):
    path = write(tmp_path / "api.yaml", "m:\n  model_name: x\n" + entry)
    with pytest.raises(UserError, match=message):
        load_model_configs(path, ("m",))


def test_model_missing_from_endpoint_file(tmp_path):
    path = write(tmp_path / "api.yaml", "other:\n  api_type: mock\n")
    with pytest.raises(UserError, match=r"api.yaml: no entry for 'm'"):
        load_model_configs(path, ("m",))


def test_env_interpolation_and_no_value_in_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_TEST_KEY", "sk-secret-value-123")
    path = write(tmp_path / "api.yaml", "m:\n  endpoints:\n    - api_base: http://127.0.0.1:1/v1\n"
                                        "      api_key: ${MY_TEST_KEY}\n")
    model = load_model_configs(path, ("m",))["m"]
    assert model.endpoints[0].api_key == "sk-secret-value-123"
    assert "sk-secret" not in repr(model)
    monkeypatch.delenv("MY_TEST_KEY")
    with pytest.raises(UserError, match=r"uses \$\{MY_TEST_KEY\}, which is not set") as error:
        load_model_configs(path, ("m",))
    assert "sk-secret" not in str(error.value)


def test_unknown_key_warns(tmp_path, capsys):
    path = write(tmp_path / "api.yaml", "m:\n  api_type: mock\n  paralel: 8\n")
    load_model_configs(path, ("m",))
    assert "`m.paralel` is not a known key" in capsys.readouterr().err


def test_every_environment_value_is_a_secret_and_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH_SECRET", "sk-in-the-path-42")
    monkeypatch.setenv("BAD_TIMEOUT", "sk-not-a-number-42")
    path = write(tmp_path / "api.yaml", "m:\n  endpoints:\n    - api_base: http://127.0.0.1:1/${PATH_SECRET}/v1\n")
    model = load_model_configs(path, ("m",))["m"]
    assert "sk-in-the-path-42" in model.secrets
    path.write_text("m:\n  timeout: ${BAD_TIMEOUT}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"`m.timeout` must be a number") as error:
        load_model_configs(path, ("m",))
    assert "sk-not-a-number" not in str(error.value)


def test_number_of_judgment_attempts_defaults_to_two(tmp_path):
    path = write(tmp_path / "judge.yaml", "bench_name: b\njudge_model: j\nbaseline_model: base\n"
                                          "system_prompt: s\nprompt_template: ['{question_1}']\n")
    assert load_judge_settings(path).number_of_judgment_attempts == 2
