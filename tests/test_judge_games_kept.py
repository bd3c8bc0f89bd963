"""Every finished judge game is kept on disk until its judgment record is written (issue 26, item 2).

gen_judgment.py against the loopback fake judge through the real openai SDK: a game 2 that keeps
failing never makes the next run pay for game 1 again; Ctrl-C (SIGINT to a real subprocess) loses no
game whose reply had arrived; a changed config never reuses a stale game; the side file
(`<judge>/.games/<model>.jsonl`) is never read as judgments and is removed once every record is
written; a batch run reuses what a direct run left there; what a kill leaves is sorted out by the next run."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

import gen_judgment
from arena_hard.browser.data import BenchData
from arena_hard.core.records import Bench
from arena_hard.generate.game_log import GameLog, Played, games_path
from arena_hard.generate.judged import JudgedCheck
from arena_hard.scoring.verdict_labels import label_code
from fake_api_server import STALL, AnswerMarkers, FakeAPIServer, FaultPlan, JudgeResponder, length_verdict
from fake_batch_server import FakeBatchServer
from pipeline_helpers import (A_END, A_START, B_END, B_START, Workspace, model_entry, questions, read_jsonl,
                              run_script, write_jsonl)
from tests.conftest import REPO_ROOT

MARKERS = AnswerMarkers(A_START, A_END, B_START, B_END)
JUDGE, BASE, MODEL = "judge-g", "base", "model-1"
GAME_2 = f"{A_START}\n{MODEL} says"  # game 2 shows the model as assistant A
GAME_1 = f"{A_START}\n{BASE} says"


def workspace(root, url, count=4, **entry):
    ws = Workspace(root)
    rows = questions(count)
    ws.write_questions(rows)
    for model in (BASE, MODEL):
        write_jsonl(ws.answer_file(model), [
            {"question_id": r["question_id"], "model_id": model,
             "choices": [{"index": 0, "turns": [{"content": f"{model} says: " + "word " * (3 + i % 4)}]}]}
            for i, r in enumerate(rows)])
    ws.write_api_config({JUDGE: model_entry(url, **entry)})
    ws.write_judge_config(JUDGE, BASE, [MODEL])
    return ws


def side_file(ws):
    return ws.bench_dir / "model_judgment" / JUDGE / ".games" / f"{MODEL}.jsonl"


def served(server, text):
    """The first user turns of the requests containing `text` that the fake answered."""
    return [r.request.user_turns[0] for r in server.requests if r.outcome == "ok" and text in r.request.user_turns[0]]


def asked(server, text, since=0):
    return [r.request.user_turns[0] for r in server.requests[since:] if text in r.request.user_turns[0]]


def expected_scores(ws):
    answers = {m: [r["choices"][0]["turns"][0]["content"] for r in read_jsonl(ws.answer_file(m))]
               for m in (BASE, MODEL)}
    return [[length_verdict(b, m), length_verdict(m, b)] for b, m in zip(answers[BASE], answers[MODEL])]


def test_a_failing_game_2_never_makes_the_next_run_pay_for_game_1(tmp_path, fake_api, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    server = fake_api(JudgeResponder(MARKERS), faults=FaultPlan(matching=((GAME_2, "503"),)))
    ws = workspace(tmp_path, server.openai_base_url, max_attempts=1)
    assert gen_judgment.main([]) == 1
    output = ws.judgment_file(JUDGE, MODEL)
    assert not output.exists() or read_jsonl(output) == []
    first = served(server, GAME_1)
    assert len(first) == 4 and len(read_jsonl(side_file(ws))) == 4
    assert gen_judgment.main(["--dry-run"]) == 0
    assert ("4 judge calls (up to 8 with re-asks) (4 game(s) played by an earlier run are kept and not asked "
            "again)") in capsys.readouterr().out
    for _ in range(2):  # game 2 still fails: game 1 is never asked again
        since = len(server.requests)
        assert gen_judgment.main([]) == 1
        assert asked(server, GAME_1, since) == [] and len(asked(server, GAME_2, since)) >= 1
        assert "model-1: 4 game(s) played by an earlier run are kept in" in capsys.readouterr().err
    server.faults = FaultPlan()
    since = len(server.requests)
    assert gen_judgment.main([]) == 0
    assert asked(server, GAME_1, since) == [] and len(asked(server, GAME_2, since)) == 4
    records = read_jsonl(ws.judgment_file(JUDGE, MODEL))
    assert [[g["score"] for g in r["games"]] for r in records] == expected_scores(ws)
    assert all(set(r) == {"question_id", "model", "judge", "baseline", "games", "usage"} for r in records)
    assert all(r["usage"]["prompt_tokens"] > 0 for r in records)
    assert not side_file(ws).parent.exists()  # every record written: the kept games are gone
    again = len(server.requests)
    assert gen_judgment.main([]) == 0 and len(server.requests) == again


def test_a_changed_config_never_reuses_a_kept_game(tmp_path, fake_api, monkeypatch):
    monkeypatch.chdir(tmp_path)
    server = fake_api(JudgeResponder(MARKERS), faults=FaultPlan(matching=((GAME_2, "503"),)))
    ws = workspace(tmp_path, server.openai_base_url, max_attempts=1)
    assert gen_judgment.main([]) == 1
    ws.write_judge_config(JUDGE, BASE, [MODEL], system_prompt="Another judge prompt. End with a verdict label.")
    server.faults = FaultPlan()
    since = len(server.requests)
    assert gen_judgment.main([]) == 0
    assert len(asked(server, GAME_1, since)) == 4  # the kept games answered another prompt
    assert {r.request.system for r in server.requests[since:]} == {"Another judge prompt. End with a verdict label."}
    assert not side_file(ws).parent.exists()


def test_the_kept_games_are_never_read_as_judgments(tmp_path, fake_api):
    server = fake_api(JudgeResponder(MARKERS), faults=FaultPlan(matching=((GAME_2, "503"),)))
    ws = workspace(tmp_path, server.openai_base_url, max_attempts=1)
    assert run_script("gen_judgment.py", cwd=tmp_path).returncode == 1
    assert side_file(ws).exists()
    result = run_script("show_result.py", "--bench-name", ws.bench, "--judge-name", JUDGE, cwd=tmp_path)
    assert result.returncode == 2 and "hold no records" in result.stderr  # the 4 kept games are not judgments
    browsed = BenchData(Bench(ws.bench, root=tmp_path / "data"), JUDGE, BASE)
    assert browsed.judge_choices() == [JUDGE] and browsed.judgments(MODEL) == {}


def wait_until(process, condition, what):
    """Poll `condition` until it holds; the process must still be running (it stalls on game 2)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert process.poll() is None, f"the run ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def test_a_script_the_suite_starts_takes_ctrl_c():
    """Even in a suite started as a background job of a script (SIGINT ignored, which children inherit),
    a started run must stop on SIGINT, or the Ctrl-C tests could not stop theirs (tests/conftest.py)."""
    probe = "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip() == "True"


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGKILL, -signal.SIGKILL)])
def test_ctrl_c_or_kill_9_loses_no_finished_game(tmp_path, signum, status):
    """Game 2 stalls (the fake never answers it) while game 1 is answered at once. With `parallel: 4`,
    once 4 game-2 requests hang at the fake, every slot is held by one: no game-1 reply is then
    waiting to be read (a reply's slot is freed only after it is handled), and nothing else moves.
    SIGINT (or SIGKILL) then; every game 1 the fake answered must be on disk, and a rerun asks none of
    them again."""
    with FakeAPIServer(JudgeResponder(MARKERS), faults=FaultPlan(matching=((GAME_2, STALL),))) as server:
        ws = workspace(tmp_path, server.openai_base_url, count=12, parallel=4, timeout=120)
        process = subprocess.Popen([sys.executable, str(REPO_ROOT / "gen_judgment.py")], cwd=tmp_path,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(process, lambda: server.outcomes[STALL] == 4, "4 game-2 requests hang at the fake")
            answered = served(server, GAME_1)
            assert len(answered) >= 4
            process.send_signal(signum)
            _, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == status, stderr
        kept = read_jsonl(side_file(ws))
        assert sorted(g["played"]["user_prompt"] for g in kept) == sorted(answered)
        server.faults = FaultPlan()
        since = len(server.requests)
        result = run_script("gen_judgment.py", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert not set(asked(server, GAME_1, since)) & set(answered)
        assert len(asked(server, GAME_1, since)) == 12 - len(answered)
    assert [[g["score"] for g in r["games"]] for r in read_jsonl(ws.judgment_file(JUDGE, MODEL))] == expected_scores(ws)
    assert not side_file(ws).parent.exists()


def test_a_batch_run_reuses_the_games_a_direct_run_kept(tmp_path, fake_api):
    live = fake_api(JudgeResponder(MARKERS), faults=FaultPlan(matching=((GAME_2, "503"),)))
    ws = workspace(tmp_path, live.openai_base_url, max_attempts=1)
    assert run_script("gen_judgment.py", cwd=tmp_path).returncode == 1
    with FakeBatchServer(JudgeResponder(MARKERS)) as fake:
        ws.write_api_config({JUDGE: model_entry(fake.openai_base_url, max_attempts=1)})
        result = run_script("gen_judgment.py", "--batch", "--poll-interval", "0", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert [len(b.lines) for b in fake.batches] == [4]  # game 2 only
    assert [[g["score"] for g in r["games"]] for r in read_jsonl(ws.judgment_file(JUDGE, MODEL))] == expected_scores(ws)
    assert not side_file(ws).parent.exists()


@pytest.mark.parametrize("first_game", [True, False])
def test_games_are_played_concurrently(tmp_path, fake_api, monkeypatch, first_game):
    """The two games of a question are independent: with `parallel: 2` and one question, both are in
    flight at once (the fake saw 2 requests at a time), whichever of them fails."""
    monkeypatch.chdir(tmp_path)
    failing = GAME_1 if first_game else GAME_2
    server = fake_api(JudgeResponder(MARKERS), latency=0.2, faults=FaultPlan(matching=((failing, "503"),)))
    workspace(tmp_path, server.openai_base_url, count=1, parallel=2, max_attempts=1)
    assert gen_judgment.main([]) == 1
    assert server.max_in_flight == 2
    assert len(served(server, GAME_2 if first_game else GAME_1)) == 1  # the other game was paid and is kept


def test_opening_the_log_keeps_only_the_games_no_record_has_used(tmp_path, capsys):
    """What a run killed anywhere leaves is sorted out by the next: a game its record holds is dropped
    (even a record without a verdict: it is judged again from scratch), as are the games of a question
    judged otherwise; a game still waiting for its partner is kept; a line cut by the kill is repaired."""
    output = tmp_path / JUDGE / f"{MODEL}.jsonl"
    check = JudgedCheck(output, 2, gen_judgment.verdict_test(label_code))
    log = GameLog(output, check.judged, write=True)

    def game(label, text):
        return Played({"user_prompt": text, "judgment": f"\n{text}", "score": label}, 3, 1)

    games = {"k1": ("q1", 1, game("A>B", "q1 one")), "k2": ("q1", 2, game("B>A", "q1 two")),  # q1: judged
             "k3": ("q2", 1, game(None, "q2 one")), "k4": ("q2", 2, game(None, "q2 two")),  # q2: no verdict
             "k5": ("q3", 1, game("A=B", "q3 one")),  # q3: its game 2 failed, no record
             "k6": ("q4", 1, game("A>B", "q4 under another config"))}  # q4: judged from other games
    for key, (qid, number, played) in games.items():
        log.add(key, qid, number, played)
    log.settle()  # no record yet: all kept
    assert [line["key"] for line in read_jsonl(games_path(output))] == list(games)

    def record(qid, *played):
        return {"question_id": qid, "model": MODEL, "judge": JUDGE, "games": [p.game for p in played]}

    write_jsonl(output, [record("q1", games["k1"][2], games["k2"][2]), record("q2", games["k3"][2], games["k4"][2]),
                         record("q4", game("A>B", "q4 one"), game("A>B", "q4 two"))])
    with games_path(output).open("ab") as handle:
        handle.write(b'{"key": "k7", "question_id": "q5", "ga')  # a write cut by kill -9
    reopened = GameLog(output, check.judged, write=True)
    assert "removed an incomplete last line" in capsys.readouterr().err
    assert [line["key"] for line in read_jsonl(games_path(output))] == ["k5"]
    assert reopened.get("k5") == games["k5"][2] and reopened.get("k1") is None and reopened.get("k3") is None
    write_jsonl(output, [record("q3", games["k5"][2], game("B>A", "q3 two"))])
    reopened.settle()
    assert not games_path(output).parent.exists()
