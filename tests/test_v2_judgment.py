"""Judging a v2.0 bench as upstream v2.0 does, with upstream's config/arena-hard-v2.0.yaml unchanged,
through the real OpenAI SDK client against the loopback fake judge.

The expected system prompts are read in this file from upstream's utils/judge_utils.py by a
straightforward walk of its syntax tree (never executing it), and the expected user prompts are
filled with str.format, as upstream's gen_judgment.py fills them."""
from __future__ import annotations

import ast
import json
import re
import shutil

import pytest
import yaml

import gen_judgment
from arena_hard.core.judge_settings import OFFICIAL_FILE, parse_judge_utils, settings_yaml
from arena_hard.core.judgments import load_judgments
from arena_hard.generate.judging_v2 import parse_verdict_v2
from arena_hard.scoring.verdict_labels import NO_VERDICT, read_verdicts
from fake_api_server import FaultPlan, Reply, hashed_verdict
from pipeline_helpers import read_jsonl, run_script_in_process, write_jsonl, write_yaml
from v2_helpers import V2Workspace, v2_answer, v2_question

JUDGE = "gpt-4.1"
MODEL = "my-model"
UPSTREAM_PATTERNS = (re.compile(r"\[\[([AB<>=]+)\]\]"), re.compile(r"\[([AB<>=]+)\]"))


def upstream_judge_settings(path):
    """{category: (baseline, system prompt)} from upstream's judge_utils.py: the oracle of this file."""
    strings, settings = {}, None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            name = node.targets[0].id
            if name == "JUDGE_SETTINGS":
                settings = node.value
            elif isinstance(node.value, ast.Constant):
                strings[name] = node.value.value

    def text(value):
        return strings[value.id] if isinstance(value, ast.Name) else value.value

    return {key.value: tuple(text(v) for v in entry.values) for key, entry in zip(settings.keys, settings.values)}


def judge_reply(request):
    label = hashed_verdict(request.last_user)
    return Reply(f"Assistant A is fine. Early thought: [[A=B]].\n\nMy final verdict is [[{label}]]", "judge musing")


@pytest.fixture
def ws(tmp_path, monkeypatch, upstream_v2_dir):
    monkeypatch.chdir(tmp_path)
    workspace = V2Workspace(tmp_path)
    workspace.upstream = upstream_v2_dir
    shutil.copy(upstream_v2_dir / "config" / "arena-hard-v2.0.yaml", tmp_path / "arena-hard-v2.0.yaml")
    return workspace


def install_official_settings(ws):
    source = (ws.upstream / "utils" / "judge_utils.py").read_text(encoding="utf-8")
    path = ws.root / OFFICIAL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(settings_yaml(parse_judge_utils(source), "test"), encoding="utf-8")


def setup(ws, server, categories=("hard_prompt", "creative_writing", "arena-hard-v0.1"), per_category=2,
          official=True, skip_baselines=()):
    """Questions of each category; the model's answers carry a thought the judge must never see."""
    upstream_questions = [json.loads(line) for line in
                          (ws.upstream / "data" / "arena-hard-v2.0" / "question.jsonl").read_text().split("\n") if line]
    rows = []
    for category in categories:
        pool = [q for q in upstream_questions if q["category"] == category]
        if not pool:  # upstream's v0.1 converted to v2, or a category named like a subcategory
            pool = [v2_question(f"{category}-{i}", f"Question {i} of {category}?", category, category)
                    for i in range(per_category)]
        rows += pool[:per_category]
    ws.write_questions(rows)
    o3 = {json.loads(line)["uid"]: json.loads(line) for line in
          (ws.upstream / "data" / "arena-hard-v2.0" / "model_answer" / "o3-mini-2025-01-31.jsonl").read_text().split("\n") if line}
    baselines = {"o3-mini-2025-01-31": [], "gemini-2.0-flash-001": [], "gpt-4-0314": []}
    for row in rows:
        uid = row["uid"]
        baselines["o3-mini-2025-01-31"].append(o3[uid] if uid in o3 else v2_answer(uid, "o3-mini-2025-01-31", f"o3 on {uid}"))
        baselines["gemini-2.0-flash-001"].append(v2_answer(uid, "gemini-2.0-flash-001", f"Gemini {{braces}} on {uid}"))
        baselines["gpt-4-0314"].append(v2_answer(uid, "gpt-4-0314", f"GPT-4 on {uid}"))
    for name, answers in baselines.items():
        if name not in skip_baselines:
            ws.write_answers(name, answers)
    ws.write_answers(MODEL, [v2_answer(r["uid"], MODEL, f"My answer to {r['uid']}.", thought="SECRET-THOUGHT")
                             for r in rows])
    # the judge entry's own temperature and max_tokens are overridden by the bench config's
    ws.write_api_config({JUDGE: {"model": "gpt-4.1", "api_type": "openai", "parallel": 4, "temperature": 0.7,
                                 "max_tokens": 100, "max_attempts": 2, "backoff_base": 0.01, "backoff_max": 0.02,
                                 "endpoints": [{"api_base": server.openai_base_url, "api_key": "k"}]}})
    if official:
        install_official_settings(ws)
    return rows


def run(*extra):
    return gen_judgment.main(["--setting-file", "arena-hard-v2.0.yaml", "--model-list", MODEL, *extra])


def test_each_category_gets_upstreams_prompt_baseline_and_template(ws, fake_api):
    server = fake_api(judge_reply)
    rows = setup(ws, server, categories=("hard_prompt", "creative_writing", "arena-hard-v0.1", "math", "coding"))
    assert run() == 0
    expected_settings = upstream_judge_settings(ws.upstream / "utils" / "judge_utils.py")
    config = ws.root / "arena-hard-v2.0.yaml"
    template = yaml.safe_load(config.read_text())["prompt_template"]
    answers = {name: {r["uid"]: r["messages"][-1]["content"]["answer"] for r in read_jsonl(ws.answer_file(name))}
               for name in ("o3-mini-2025-01-31", "gemini-2.0-flash-001", "gpt-4-0314", MODEL)}
    records = {r["uid"]: r for r in read_jsonl(ws.judgment_file(JUDGE, MODEL))}
    assert sorted(records) == sorted(r["uid"] for r in rows)
    sent = [(r.request.system, r.request.messages[0].content) for r in server.requests]
    assert len(sent) == 2 * len(rows)
    for row in rows:
        baseline, system_prompt = expected_settings[row["category"]]
        record = records[row["uid"]]
        assert set(record) == {"uid", "category", "judge", "model", "baseline", "games", "usage"}
        assert (record["category"], record["judge"], record["model"], record["baseline"]) == \
            (row["category"], JUDGE, MODEL, baseline)
        mine, base = answers[MODEL][row["uid"]], answers[baseline][row["uid"]]
        game1 = template.format(QUESTION=row["prompt"], ANSWER_A=base, ANSWER_B=mine)
        game2 = template.format(QUESTION=row["prompt"], ANSWER_A=mine, ANSWER_B=base)
        for game, user_prompt in zip(record["games"], (game1, game2)):
            assert game["prompt"] == [{"role": "system", "content": system_prompt},
                                      {"role": "user", "content": user_prompt}]
            assert (system_prompt, user_prompt) in sent
            assert game["judgment"] == {"answer": f"Assistant A is fine. Early thought: [[A=B]].\n\nMy final verdict "
                                                  f"is [[{hashed_verdict(user_prompt)}]]", "thought": "judge musing"}
            assert game["score"] == hashed_verdict(user_prompt)  # the last label, not the first
    assert not any("SECRET-THOUGHT" in text for pair in sent for text in pair)
    assert {(r.request.temperature, r.request.max_tokens, r.request.model) for r in server.requests} == \
        {(0.0, 16000, "gpt-4.1")}
    assert len({s for s, _ in sent}) == 2  # the creative-writing prompt differs from the original one


@pytest.mark.parametrize("text, label", [
    ("[[A>B]] then on reflection [[B>A]]", "B>A"),          # the last match of the first pattern
    ("no double brackets, but [A=B] here", "A=B"),           # the second pattern
    ("[A>B] early, final [[B>>A]]", "B>>A"),                 # the first pattern that matches wins
    ("my verdict: [[b>a]]", "B>A"),                          # the text is upper-cased first
    ("[[B<<A]]", "B<<A"),                                    # any label of the class is kept as written
    ("[[A>B]] [[A>B]] [[A=B]]", "A=B"),                      # several labels: the last
    ("no verdict at all", None),
    ("[[]] and []", None),                                   # empty matches do not count
])
def test_verdict_rule(text, label):
    assert parse_verdict_v2(text, UPSTREAM_PATTERNS) == label


def test_missing_creative_writing_baseline_stops_before_any_call(ws, fake_api):
    server = fake_api(judge_reply)
    setup(ws, server, skip_baselines=("gemini-2.0-flash-001",))
    result = run_script_in_process("gen_judgment.py", "--setting-file", "arena-hard-v2.0.yaml", "--model-list", MODEL,
                                   cwd=ws.root)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "gemini-2.0-flash-001.jsonl" in line and "creative_writing" in line
    assert "download_data.py --pregenerated --bench arena-hard-v2.0 --model gemini-2.0-flash-001" in line
    assert "or judge only the other categories: --category hard_prompt arena-hard-v0.1" in line
    assert server.requests == []


def test_category_judges_hard_prompt_without_the_creative_writing_baseline(ws, fake_api, capsys):
    server = fake_api(judge_reply)
    rows = setup(ws, server, skip_baselines=("gemini-2.0-flash-001",))
    assert run("--category", "hard_prompt") == 0
    hard = sorted(r["uid"] for r in rows if r["category"] == "hard_prompt")
    assert [r["uid"] for r in read_jsonl(ws.judgment_file(JUDGE, MODEL))] == hard
    assert len(server.requests) == 2 * len(hard)
    assert run("--category", "hard_prompt", "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"{MODEL}: {len(hard)} judgeable questions, {len(hard)} already judged, 0 to judge" in out


def test_an_unknown_category_is_one_line_listing_the_categories(ws, fake_api):
    server = fake_api(judge_reply)
    setup(ws, server)
    result = run_script_in_process("gen_judgment.py", "--setting-file", "arena-hard-v2.0.yaml", "--model-list", MODEL,
                        "--category", "hard-prompt", cwd=ws.root)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "--category 'hard-prompt'" in line
    assert "its categories: arena-hard-v0.1, creative_writing, hard_prompt" in line
    assert server.requests == []


def test_a_judge_that_never_gives_a_verdict_leaves_the_judgments_not_judged(ws, fake_api, capsys):
    server = fake_api(lambda request: Reply("Both are fine; I will not pick one."))
    setup(ws, server, categories=("hard_prompt",), per_category=2)
    assert run() == 1
    assert f"{MODEL}: 2 judgment(s) have no verdict in any game" in capsys.readouterr().err
    assert all(g["score"] is None for r in read_jsonl(ws.judgment_file(JUDGE, MODEL)) for g in r["games"])
    assert run() == 1  # judged again, not "all judged"
    out = capsys.readouterr().out
    assert f"{MODEL}: 0 of 2 already judged" in out and "already made" not in out
    assert len(server.requests) == 8


def test_v2_labels_count_as_verdicts(ws, fake_api):
    server = fake_api(lambda request: Reply("My final verdict is [[B<A]]"))
    setup(ws, server, categories=("hard_prompt",), per_category=2)
    assert run() == 0
    assert run() == 0 and len(server.requests) == 4  # B<A is v2.0's A>B: judged, not asked again


def test_a_model_without_answers_is_one_line_and_one_without_any_answer_says_nothing_to_judge(ws, fake_api, capsys):
    server = fake_api(judge_reply)
    setup(ws, server, categories=("hard_prompt",), per_category=2)
    result = run_script_in_process("gen_judgment.py", "--setting-file", "arena-hard-v2.0.yaml", "--model-list",
                                   "typo-model", cwd=ws.root)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "typo-model.jsonl: no answers from 'typo-model'; check the name" in line
    ws.write_answers("other-model", [v2_answer("not-a-question", "other-model", "hello")])
    assert gen_judgment.main(["--setting-file", "arena-hard-v2.0.yaml", "--model-list", "other-model"]) == 1
    captured = capsys.readouterr()
    assert "other-model: nothing to judge: none of its 2 question(s) has every answer a judgment needs" in captured.out
    assert "already made" not in captured.out and "some judgments are missing" in captured.err
    assert server.requests == []


def test_a_failing_game_2_never_makes_the_next_run_pay_for_game_1(ws, fake_api):
    game_2 = "<|The Start of Assistant A's Answer|>\nMy answer to"
    server = fake_api(judge_reply, faults=FaultPlan(matching=((game_2, "503"),)))
    rows = setup(ws, server, categories=("hard_prompt", "creative_writing"), per_category=2)
    assert run() == 1
    first = [r for r in server.requests if game_2 not in r.request.last_user]
    assert len(first) == 4 and all(r.outcome == "ok" for r in first)
    server.faults = FaultPlan()
    since = len(server.requests)
    assert run() == 0
    assert [game_2 in r.request.last_user for r in server.requests[since:]] == [True] * 4
    records = read_jsonl(ws.judgment_file(JUDGE, MODEL))
    assert [r["uid"] for r in records] == sorted(r["uid"] for r in rows)
    for record in records:  # the kept game 1 is the record's game 1, as a direct run writes it
        assert record["games"][0]["prompt"][1]["content"] in {r.request.last_user for r in first}
        assert record["games"][0]["judgment"]["thought"] == "judge musing"
    assert not (ws.bench_dir / "model_judgment" / JUDGE / ".games").exists()


@pytest.mark.parametrize("problem, expected", [
    ("no_category", "has no `category`"),
    ("unknown_category", "has no judge settings"),
    ("no_official_file", "download_data.py --bench arena-hard-v2.0"),
    ("regex_without_group", "has 0 capture groups; it needs exactly one"),
])
def test_bad_input_stops_before_any_call(ws, fake_api, problem, expected):
    server = fake_api(judge_reply)
    rows = setup(ws, server, categories=("hard_prompt",), official=problem != "no_official_file")
    if problem == "no_category":
        del rows[1]["category"]
    if problem == "unknown_category":
        rows[1]["category"] = "poetry"
    if problem == "regex_without_group":
        config = ws.root / "arena-hard-v2.0.yaml"
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["regex_patterns"] = [r"\[\[[AB<>=]+\]\]"]
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
    ws.write_questions(rows)
    result = run_script_in_process("gen_judgment.py", "--setting-file", "arena-hard-v2.0.yaml", "--model-list", MODEL,
                                   cwd=ws.root)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert expected in line
    assert server.requests == []


def test_category_settings_override_baseline_and_prompt(ws, fake_api):
    server = fake_api(judge_reply)
    setup(ws, server, categories=("hard_prompt", "creative_writing"))
    write_jsonl(ws.answer_file("my-baseline"), [v2_answer(r["uid"], "my-baseline", "mine")
                                                for r in read_jsonl(ws.bench_dir / "question.jsonl")])
    config = yaml.safe_load((ws.root / "arena-hard-v2.0.yaml").read_text())
    config["category_settings"] = {"hard_prompt": {"baseline": "my-baseline", "system_prompt": "Judge hard."}}
    write_yaml(ws.root / "own.yaml", config)
    assert gen_judgment.main(["--setting-file", "own.yaml", "--model-list", MODEL]) == 0
    records = read_jsonl(ws.judgment_file(JUDGE, MODEL))
    expected = upstream_judge_settings(ws.upstream / "utils" / "judge_utils.py")
    for record in records:
        system = record["games"][0]["prompt"][0]["content"]
        if record["category"] == "hard_prompt":
            assert (record["baseline"], system) == ("my-baseline", "Judge hard.")
        else:  # the official settings for the categories the override leaves alone
            assert (record["baseline"], system) == expected["creative_writing"]


def test_failed_game_is_not_stored_and_is_retried_next_run(ws, fake_api):
    server = fake_api(judge_reply, faults=FaultPlan(matching=(("My answer to", "503"),)))
    rows = setup(ws, server, categories=("hard_prompt",), per_category=3)
    assert run() == 1
    output = ws.judgment_file(JUDGE, MODEL)
    assert not output.exists() or read_jsonl(output) == []  # never a record with a null game
    server.faults = FaultPlan()
    assert run() == 0
    assert [r["uid"] for r in read_jsonl(ws.judgment_file(JUDGE, MODEL))] == sorted(r["uid"] for r in rows)


def test_upstream_records_with_null_games_are_read_and_judged_again(ws, fake_api):
    server = fake_api(judge_reply)
    rows = setup(ws, server, categories=("hard_prompt",), per_category=2)
    good_game = {"score": "A>B", "judgment": {"answer": "[[A>B]]"}, "prompt": []}
    write_jsonl(ws.judgment_file(JUDGE, MODEL), [
        {"uid": rows[0]["uid"], "category": "hard_prompt", "judge": JUDGE, "model": MODEL,
         "baseline": "o3-mini-2025-01-31", "games": [good_game, None]},
        {"uid": rows[1]["uid"], "category": "hard_prompt", "judge": JUDGE, "model": MODEL,
         "baseline": "o3-mini-2025-01-31", "games": [good_game, good_game]}])
    judgments = load_judgments(ws.judgment_file(JUDGE, MODEL))
    assert judgments[0].games[1] is None and judgments[1].games[1].score == "A>B"
    table = read_verdicts(ws.judgment_file(JUDGE, MODEL))
    assert table.game2[0] == NO_VERDICT and table.baselines[0] == "o3-mini-2025-01-31"
    assert run() == 0
    assert len(server.requests) == 2  # only the record with a null game is judged again
    records = read_jsonl(ws.judgment_file(JUDGE, MODEL))
    assert all(isinstance(g, dict) for r in records for g in r["games"])


def test_dry_run_calls_nothing(ws, fake_api, capsys):
    server = fake_api(judge_reply)
    setup(ws, server, categories=("hard_prompt",), per_category=2)
    assert run("--dry-run") == 0
    out = capsys.readouterr().out
    assert "2 to judge, skipped 0: no answer, 4 judge calls" in out
    assert server.requests == []
