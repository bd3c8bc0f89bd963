"""gen_judgment.py against the loopback fake judge, through the real SDK clients; and the whole
pipeline gen_answer.py -> gen_judgment.py -> show_result.py checked against numbers computed here."""
from __future__ import annotations

import json
import shutil

import pytest

import gen_answer
import gen_judgment
from arena_hard.generate.judge_game import CONTINUE_PROMPT
from fake_api_server import (AnswerMarkers, FaultPlan, JudgeResponder, Reply, length_verdict)
from pipeline_helpers import (A_END, A_START, B_END, B_START, BENCH, TEMPLATE, Workspace, model_entry, question,
                              questions, read_jsonl, run_script, run_script_in_process, write_jsonl)

MARKERS = AnswerMarkers(A_START, A_END, B_START, B_END)
JUDGE = "judge-x"


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Workspace(tmp_path)


def answer_row(qid, model, text, **turn_extra):
    return {"question_id": qid, "answer_id": f"{model}-{qid}", "model_id": model, "tstamp": 0.0,
            "choices": [{"index": 0, "turns": [{"content": text, **turn_extra}]}]}


def setup(ws, server, count=8, models=("model-1",), baseline="base", settings=None, answers=None, **entry):
    rows = questions(count)
    ws.write_questions(rows)
    for model in (*models, baseline):
        texts = answers(model, rows) if answers else [f"{model} says: " + "word " * (3 + i % 4) for i in range(count)]
        write_jsonl(ws.answer_file(model), [answer_row(r["question_id"], model, t) for r, t in zip(rows, texts)])
    ws.write_api_config({JUDGE: model_entry(server.openai_base_url, **entry)})
    ws.write_judge_config(JUDGE, baseline, list(models), **(settings or {}))
    return rows


def expected_prompt(question_text, answer_a, answer_b):
    return TEMPLATE.replace("{question_1}", question_text).replace("{answer_1}", answer_a).replace("{answer_2}", answer_b)


def test_two_games_with_swapped_positions_in_v01_format(ws, fake_api):
    server = fake_api(JudgeResponder(MARKERS))
    rows = setup(ws, server)
    assert gen_judgment.main([]) == 0
    records = read_jsonl(ws.judgment_file(JUDGE, "model-1"))
    assert [r["question_id"] for r in records] == [r["question_id"] for r in rows]
    base = {r["question_id"]: r["choices"][0]["turns"][0]["content"] for r in read_jsonl(ws.answer_file("base"))}
    mine = {r["question_id"]: r["choices"][0]["turns"][0]["content"] for r in read_jsonl(ws.answer_file("model-1"))}
    for record, row in zip(records, rows):
        qid, text = row["question_id"], row["turns"][0]["content"]
        assert set(record) == {"question_id", "model", "judge", "baseline", "games", "usage"}
        assert (record["model"], record["judge"], record["baseline"]) == ("model-1", JUDGE, "base")
        game1, game2 = record["games"]
        assert game1["user_prompt"] == expected_prompt(text, base[qid], mine[qid])
        assert game2["user_prompt"] == expected_prompt(text, mine[qid], base[qid])
        assert game1["score"] == length_verdict(base[qid], mine[qid])
        assert game2["score"] == length_verdict(mine[qid], base[qid])
        assert game1["judgment"] == f"\nComparing the two answers.\n\nVerdict: [[{game1['score']}]]"
    assert {r.request.system for r in server.requests} == {"You are a test judge. End with a verdict label."}
    assert len(server.requests) == 16


def test_official_config_works_unchanged(ws, fake_api, upstream_dir):
    """Upstream's judge_config.yaml as --setting-file: the judge gets exactly its system prompt and template."""
    import yaml

    official = upstream_dir / "config" / "judge_config.yaml"
    config = yaml.safe_load(official.read_text(encoding="utf-8"))
    source = upstream_dir / "data" / "arena-hard-v0.1"
    bench = ws.root / "data" / "arena-hard-v0.1"
    picked = read_jsonl(source / "question.jsonl")[:3]
    write_jsonl(bench / "question.jsonl", picked)
    ids = {q["question_id"] for q in picked}
    for model in ("gpt-4-0314", "gpt-3.5-turbo-0125"):
        write_jsonl(bench / "model_answer" / f"{model}.jsonl",
                    [r for r in read_jsonl(source / "model_answer" / f"{model}.jsonl") if r["question_id"] in ids])
    server = fake_api(JudgeResponder())
    ws.write_api_config({"gpt-4-1106-preview": model_entry(server.openai_base_url)})
    assert gen_judgment.main(["--setting-file", str(official)]) == 0
    answers = {m: {r["question_id"]: r["choices"][0]["turns"][0]["content"]
                   for r in read_jsonl(bench / "model_answer" / f"{m}.jsonl")} for m in ("gpt-4-0314", "gpt-3.5-turbo-0125")}
    template = config["prompt_template"][0]
    expected = set()
    for q in picked:
        qid, text = q["question_id"], q["turns"][0]["content"]
        base, model = answers["gpt-4-0314"][qid], answers["gpt-3.5-turbo-0125"][qid]
        expected |= {template.format(question_1=text, answer_1=base, answer_2=model),
                     template.format(question_1=text, answer_1=model, answer_2=base)}
    assert {r.request.user_turns[0] for r in server.requests} == expected
    assert {r.request.system for r in server.requests} == {config["system_prompt"]}
    assert len(read_jsonl(bench / "model_judgment" / "gpt-4-1106-preview" / "gpt-3.5-turbo-0125.jsonl")) == 3


def test_judge_is_asked_to_continue_when_no_label(ws, fake_api):
    server = fake_api(JudgeResponder(MARKERS, label_on_continue=True))
    setup(ws, server, count=2)
    assert gen_judgment.main([]) == 0
    for record in read_jsonl(ws.judgment_file(JUDGE, "model-1")):
        for game in record["games"]:
            assert game["score"] in ("A>>B", "A>B", "A=B", "B>A", "B>>A")
            assert game["judgment"].startswith("\nBoth answers address the question.")
            assert game["judgment"].endswith(f"\nComparing the two answers.\n\nVerdict: [[{game['score']}]]")
    continued = [r.request for r in server.requests if len(r.request.user_turns) == 2]
    assert len(continued) == 4 and all(r.user_turns[1] == CONTINUE_PROMPT for r in continued)
    assert all(r.messages[1].role == "assistant" for r in continued)


def test_reask_prompt_comes_from_the_judge_config(ws, fake_api):
    server = fake_api(JudgeResponder(MARKERS, label_on_continue=True))
    setup(ws, server, count=1, settings={"reask_prompt": "Verdict, please."})
    assert gen_judgment.main([]) == 0
    continued = [r.request for r in server.requests if len(r.request.user_turns) == 2]
    assert len(continued) == 2 and all(r.user_turns[1] == "Verdict, please." for r in continued)


def test_contradicting_or_missing_labels_give_no_verdict(ws, fake_api):
    def judge(request):
        if "number 0:" in request.user_turns[0]:
            return Reply("Maybe [[A>B]], or rather [[B>A]].")
        return Reply("I cannot decide.")

    server = fake_api(judge)
    setup(ws, server, count=2)
    assert gen_judgment.main([]) == 1  # a record with no verdict in any game counts as not judged
    first, second = read_jsonl(ws.judgment_file(JUDGE, "model-1"))
    assert [g["score"] for g in first["games"] + second["games"]] == [None] * 4
    assert len(server.requests) == 2 + 4  # contradiction: no re-ask; no label: asked again once (2 attempts)


def test_a_judge_that_never_gives_a_verdict_leaves_the_judgments_not_judged(ws, fake_api, capsys):
    server = fake_api(lambda request: Reply("Both answers are fine."))
    setup(ws, server, count=3)
    assert gen_judgment.main([]) == 1
    captured = capsys.readouterr()
    assert "model-1: 3 judgment(s) have no verdict in any game (q000, q001, q002); they count as not judged" \
        in captured.err
    assert "some judgments are missing" in captured.err
    assert len(read_jsonl(ws.judgment_file(JUDGE, "model-1"))) == 3  # the paid replies are kept, for reading
    calls = len(server.requests)
    assert gen_judgment.main([]) == 1  # not "all judged": judged again, and still without a verdict
    captured = capsys.readouterr()
    assert "model-1: 0 of 3 already judged" in captured.out and "already made" not in captured.out
    assert "3 judgment(s) in" in captured.err and "have no verdict in any game; they are judged again" in captured.err
    assert len(server.requests) == 2 * calls
    assert not (ws.bench_dir / "model_judgment" / JUDGE / ".games").exists()  # the games went into the records


def test_category_judges_only_the_questions_of_those_categories(ws, fake_api, capsys):
    server = fake_api(JudgeResponder(MARKERS))
    rows = setup(ws, server, count=6)
    for i, row in enumerate(rows):
        row["category"] = ("coding", "math", "writing")[i % 3]
    ws.write_questions(rows)
    assert gen_judgment.main(["--category", "math", "coding", "math"]) == 0
    assert "--category lists 'math' more than once" in capsys.readouterr().err
    assert [r["question_id"] for r in read_jsonl(ws.judgment_file(JUDGE, "model-1"))] == \
        ["q000", "q001", "q003", "q004"]
    assert len(server.requests) == 8
    assert gen_judgment.main(["--category", "writing", "--dry-run"]) == 0
    assert "2 judgeable questions, 0 already judged, 2 to judge" in capsys.readouterr().out


def test_an_unknown_category_is_one_line_listing_the_categories(ws, fake_api, tmp_path):
    server = fake_api(JudgeResponder(MARKERS))
    setup(ws, server, count=2)
    result = run_script_in_process("gen_judgment.py", "--category", "poetry", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "--category 'poetry': no question in" in result.stderr and "its categories: tiny" in result.stderr
    assert server.requests == []


def test_help_explains_category_with_its_default(capsys):
    with pytest.raises(SystemExit):
        gen_judgment.main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--category C [C ...] judge only the questions of these categories" in help_text
    assert "(default: every question)" in help_text


def test_braces_and_reasoning_in_answers(ws, fake_api):
    server = fake_api(JudgeResponder(MARKERS))
    ws.write_questions([question("q1", "Format {this} as JSON: {\"a\": 1}")])
    write_jsonl(ws.answer_file("base"), [answer_row("q1", "base", "Use {\"a\": 1} and {answer_2}.")])
    write_jsonl(ws.answer_file("model-1"), [answer_row("q1", "model-1", "It is {x}.", reasoning="SECRET CHAIN")])
    ws.write_api_config({JUDGE: model_entry(server.openai_base_url)})
    ws.write_judge_config(JUDGE, "base", ["model-1"])
    assert gen_judgment.main([]) == 0
    prompts = [r.request.user_turns[0] for r in server.requests]
    assert ('Question: Format {this} as JSON: {"a": 1}\n<<answer A>>\nUse {"a": 1} and {answer_2}.\n<</answer A>>\n'
            '<<answer B>>\nIt is {x}.\n<</answer B>>') in prompts
    assert server.count_containing("SECRET CHAIN") == 0


def test_reference_answers_fill_ref_answer(ws, fake_api):
    server = fake_api(JudgeResponder(MARKERS))
    rows = setup(ws, server, count=2, settings={"reference": True, "ref_model": "oracle",
                                                "prompt_template": [TEMPLATE + "\nReference: {ref_answer_1}"]})
    write_jsonl(ws.bench_dir / "reference_answer" / "oracle.jsonl",
                [answer_row(r["question_id"], "oracle", f"REF-{r['question_id']}") for r in rows])
    assert gen_judgment.main([]) == 0
    assert all(r.request.user_turns[0].endswith(f"Reference: REF-q00{i}")
               for r in server.requests for i in [int(r.request.user_turns[0].split("number ")[1][0])])


def test_missing_answers_are_listed_once_and_skipped(ws, fake_api, capsys):
    server = fake_api(JudgeResponder(MARKERS))
    setup(ws, server, count=4, models=("model-1", "model-2"))
    lines = ws.answer_file("model-1").read_text().splitlines(keepends=True)
    ws.answer_file("model-1").write_text("".join(lines[:2]))
    ws.answer_file("model-2").write_text("")  # no answer file at all is a typo: refused (test_robust_bad_input)
    assert gen_judgment.main([]) == 1
    err = capsys.readouterr().err
    assert "model-1: skipped 2 question(s) with no answer" in err and "(q002, q003)" in err
    assert "model-2: skipped 4 question(s)" in err
    assert len(read_jsonl(ws.judgment_file(JUDGE, "model-1"))) == 2
    assert not ws.judgment_file(JUDGE, "model-2").exists()
    assert len(server.requests) == 4


def test_baseline_without_answers_is_one_line(ws, fake_api, tmp_path):
    server = fake_api(JudgeResponder(MARKERS))
    setup(ws, server, count=2)
    ws.answer_file("base").unlink()
    result = run_script_in_process("gen_judgment.py", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "the baseline 'base' has no answers" in result.stderr


def test_resume_and_faults_judge_each_pair_once(ws, fake_api):
    server = fake_api(JudgeResponder(MARKERS), faults=FaultPlan(rate=0.3, seed=3, stall_seconds=30))
    setup(ws, server, count=20, timeout=0.5, max_attempts=8)
    path = ws.judgment_file(JUDGE, "model-1")
    assert gen_judgment.main([]) == 0
    records = read_jsonl(path)
    assert len(records) == 20 and all(g["score"] for r in records for g in r["games"])
    assert all("fake fault" not in g["judgment"] for r in records for g in r["games"])
    path.write_text("".join(json.dumps(r) + "\n" for r in records[:15]), encoding="utf-8")
    before = sum(1 for r in server.requests if r.outcome == "ok")
    assert gen_judgment.main([]) == 0
    assert sum(1 for r in server.requests if r.outcome == "ok") - before == 2 * 5
    assert read_jsonl(path) == records


def test_judge_and_model_overrides(ws, fake_api):
    server = fake_api(JudgeResponder(MARKERS))
    setup(ws, server, count=2, models=("model-1", "model-2"))
    ws.write_api_config({JUDGE: model_entry(server.openai_base_url), "judge-y": model_entry(server.openai_base_url)})
    assert gen_judgment.main(["--judge-model", "judge-y", "--model-list", "model-2"]) == 0
    assert len(read_jsonl(ws.judgment_file("judge-y", "model-2"))) == 2
    assert not ws.judgment_file("judge-y", "model-1").exists() and not (ws.bench_dir / "model_judgment" / JUDGE).exists()


def test_dry_run_counts_calls_and_prompt_tokens(ws, fake_api, capsys):
    from arena_hard.core.textstats import count_tokens

    server = fake_api(JudgeResponder(MARKERS))
    rows = setup(ws, server, count=3)
    assert gen_judgment.main(["--dry-run"]) == 0
    base = {r["question_id"]: r["choices"][0]["turns"][0]["content"] for r in read_jsonl(ws.answer_file("base"))}
    mine = {r["question_id"]: r["choices"][0]["turns"][0]["content"] for r in read_jsonl(ws.answer_file("model-1"))}
    system = count_tokens("You are a test judge. End with a verdict label.")
    tokens = sum(2 * system + count_tokens(expected_prompt(r["turns"][0]["content"], base[r["question_id"]], mine[r["question_id"]]))
                 + count_tokens(expected_prompt(r["turns"][0]["content"], mine[r["question_id"]], base[r["question_id"]]))
                 for r in rows)
    out = capsys.readouterr().out
    assert (f"model-1: 3 judgeable questions, 0 already judged, 3 to judge, skipped 0: no answer, 6 judge calls "
            f"(up to 12 with re-asks), ~{tokens:,}") in out
    assert server.requests == []


def test_dry_run_counts_questions_skipped_for_want_of_an_answer(ws, fake_api, capsys):
    server = fake_api(JudgeResponder(MARKERS))
    setup(ws, server, count=4)
    lines = ws.answer_file("model-1").read_text().splitlines(keepends=True)
    ws.answer_file("model-1").write_text("".join(lines[:3]))
    assert gen_judgment.main(["--dry-run"]) == 1
    assert "model-1: 3 judgeable questions, 0 already judged, 3 to judge, skipped 1: no answer," in capsys.readouterr().out
    assert server.requests == []


def test_end_of_run_summary_counts_labels_per_game(ws, fake_api, capsys):
    server = fake_api(JudgeResponder(MARKERS))
    setup(ws, server, count=8)
    assert gen_judgment.main([]) == 0
    records = read_jsonl(ws.judgment_file(JUDGE, "model-1"))
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("model-1: game 1:"))
    for game_number in (1, 2):
        scores = [r["games"][game_number - 1]["score"] for r in records]
        counts = ", ".join(f"{label} {scores.count(label)}" for label in ("A>>B", "A>B", "A=B", "B>A", "B>>A"))
        assert f"game {game_number}: {counts}, no verdict 0" in line


def test_pipeline_end_to_end_leaderboard(ws, fake_api, tmp_path):
    """Answers and judgments over real HTTP, then show_result.py; the expected score is computed here
    from the fake's deterministic answers and its length rule (win rate = (wins + ties/2) / battles)."""
    answers_server = fake_api()
    judge_server = fake_api(JudgeResponder(MARKERS, label_on_continue=True))
    rows = questions(30)
    ws.write_questions(rows)
    short = model_entry(answers_server.openai_base_url, model_name="short", system_prompt="Be brief.")
    ws.write_api_config({"base": model_entry(answers_server.openai_base_url, model_name="base"),
                         "contender": short, JUDGE: model_entry(judge_server.openai_base_url)})
    ws.write_answer_config(["base", "contender"])
    assert gen_answer.main([]) == 0
    ws.write_judge_config(JUDGE, "base", ["contender"])
    assert gen_judgment.main([]) == 0
    # Both models get the fake's answer_text (the system prompt does not change it): every game is a tie,
    # so make the contender's answers longer on some questions to get a real spread.
    path = ws.answer_file("contender")
    records = read_jsonl(path)
    for i, record in enumerate(records):
        if i % 3 == 0:
            record["choices"][0]["turns"][0]["content"] += "\n\nA much longer closing section. " * 8
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    shutil.rmtree(ws.bench_dir / "model_judgment")
    assert gen_judgment.main([]) == 0

    weight = {"A>>B": 3, "A>B": 1, "A=B": 1, "B>A": 1, "B>>A": 3}
    wins = total = 0.0
    base = {r["question_id"]: r["choices"][0]["turns"][0]["content"] for r in read_jsonl(ws.answer_file("base"))}
    mine = {r["question_id"]: r["choices"][0]["turns"][0]["content"] for r in read_jsonl(path)}
    for row in rows:
        qid = row["question_id"]
        for label, model_is_b in ((length_verdict(base[qid], mine[qid]), True), (length_verdict(mine[qid], base[qid]), False)):
            n = weight[label]
            total += n
            if label == "A=B":
                wins += n / 2
            elif (label.startswith("B") if model_is_b else label.startswith("A")):
                wins += n
    expected = round(round(100 * wins / total, 2), 1)
    # no --baseline: the judgment records name the baseline they were judged against
    result = run_script("show_result.py", "--bench-name", BENCH, "--judge-name", JUDGE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if l.startswith("contender "))
    assert f"| score: {expected:^5} |" in line
    tokens = int(sum(r["choices"][0]["turns"][0]["token_len"] for r in records) / len(records))
    assert line.endswith(f"average #tokens: {tokens}")
    assert any(l.startswith("base ") and "| score: 50.0  | 95% CI:  (0.0, 0.0)" in l for l in result.stdout.splitlines())
