"""Faults of the API, end to end: gen_answer.py and gen_judgment.py run (as subprocesses; the outage
cases through each script's main in this process, no interpreter start per case) against the loopback
fake API, through the real SDK clients, with small backoffs and timeouts from api_config.yaml
(max_attempts, backoff_base, backoff_max, timeout).

- About 30% of requests fail, with every transient kind injected at least once: 429 with and without
  Retry-After, 500, 502, 503, a stall (read timeout), a connection dropped mid-response and a
  malformed JSON body. Each run ends with exit status 0, every record written with exactly the text a
  fault-free run gives (so no error text anywhere), and no conversation answered twice.
- Every request fails, one kind at a time: each script stops within its retry budget (the number of
  requests and the time are bounded by parallel, max_attempts and the stop rule), prints a truthful
  summary, exits 1 and leaves the records already on disk byte for byte as they were."""
from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from arena_hard.models.client import REQUESTS_FAILED_BEFORE_STOP
from arena_hard.generate.judge_game import CONTINUE_PROMPT
from fake_api_server import (DROP, MALFORMED, OK, RETRY_AFTER_429, STALL, TRANSIENT_MIX, AnswerMarkers, FaultPlan,
                             JudgeResponder, Reply, answer_responder, answer_text, length_verdict)
from pipeline_helpers import (A_END, A_START, B_END, B_START, Workspace, model_entry, questions, read_jsonl,
                              run_script, run_script_in_process, write_jsonl)

MARKERS = AnswerMarkers(A_START, A_END, B_START, B_END)
JUDGE, BASE, MODEL = "judge-f", "base", "model-1"
FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "timeout": 0.5}
FAULT_COUNTS: Counter[str] = Counter()  # every fault injected in this file, for the report
HOLD_FIRST = "Reasoning about the answers first; the verdict follows."


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def thirty_percent(seed: int) -> FaultPlan:
    """30% of requests fail with a kind drawn from every transient kind, each kind also forced once
    early on (spread out, so that no question meets them all), stalls held until the client gives up."""
    forced = {4 + 5 * i: kind for i, kind in enumerate(TRANSIENT_MIX)}
    return FaultPlan(rate=0.3, seed=seed, schedule=forced, retry_after=0.05, stall_seconds=30)


def record_faults(server) -> Counter[str]:
    faults = Counter({kind: n for kind, n in server.outcomes.items() if kind != OK})
    FAULT_COUNTS.update(faults)
    return faults


def everything_written(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file())


def answer_row(qid: str, model: str, text: str) -> dict:
    return {"question_id": qid, "answer_id": f"{model}-{qid}", "model_id": model, "tstamp": 0.0,
            "choices": [{"index": 0, "turns": [{"content": text}]}]}


def write_answers(ws: Workspace, count: int) -> dict[str, list[str]]:
    """Answers of the baseline and the model, of varied lengths, so that the verdicts vary."""
    texts = {BASE: [f"[{BASE}] " + "base " * (5 + (7 * i) % 11) for i in range(count)],
             MODEL: [f"[{MODEL}] " + "mine " * (2 + (5 * i) % 17) for i in range(count)]}
    for model, rows in texts.items():
        write_jsonl(ws.answer_file(model), [answer_row(f"q{i:03d}", model, t) for i, t in enumerate(rows)])
    return texts


def expected_judgment(label: str) -> str:
    return f"\n{HOLD_FIRST}\n" + f"Comparing the two answers.\n\nVerdict: [[{label}]]"


def two_step_judge(request):
    """The fake judge, holding its label until asked to continue, so that a fault can hit either call."""
    if len(request.user_turns) == 1:
        return Reply(HOLD_FIRST)
    assert request.user_turns[1] == CONTINUE_PROMPT
    return JudgeResponder(MARKERS)(request)


# --- about 30% of requests fail ------------------------------------------------------------------

def test_answers_are_all_written_and_true_under_30_percent_faults(ws, fake_api):
    server = fake_api(faults=thirty_percent(seed=11))
    rows = questions(16)
    ws.write_questions(rows)
    protocols = {"m-openai": ("openai", server.openai_base_url), "m-azure": ("azure", server.url),
                 "m-anthropic": ("anthropic", server.url)}
    ws.write_api_config({name: model_entry(base, api_type=api_type, model_name=f"served-{name}", parallel=4,
                                           max_attempts=8, **FAST)
                         for name, (api_type, base) in protocols.items()})
    ws.write_answer_config(list(protocols))
    result = run_script("gen_answer.py", cwd=ws.root)
    assert result.returncode == 0, result.stderr
    faults = record_faults(server)
    assert set(faults) == set(TRANSIENT_MIX)  # every kind was injected
    assert 0.25 <= sum(faults.values()) / len(server.requests) <= 0.45
    expected = [answer_text(row["turns"][0]["content"]) for row in rows]
    for name in protocols:
        records = read_jsonl(ws.answer_file(name))
        assert [r["question_id"] for r in records] == [r["question_id"] for r in rows]
        assert [r["choices"][0]["turns"][0]["content"] for r in records] == expected
    answered = Counter((r.request.model, r.request.last_user) for r in server.requests if r.outcome == OK)
    assert len(answered) == 3 * len(rows) and set(answered.values()) == {1}  # no answer was asked for twice
    assert b"fake fault" not in everything_written(ws.root) and "Traceback" not in result.stderr


def test_judgments_are_all_written_and_true_under_30_percent_faults(ws, fake_api):
    server = fake_api(two_step_judge, faults=thirty_percent(seed=5))
    count = 14
    ws.write_questions(questions(count))
    texts = write_answers(ws, count)
    ws.write_api_config({JUDGE: model_entry(server.openai_base_url, parallel=4, max_attempts=8, **FAST)})
    ws.write_judge_config(JUDGE, BASE, [MODEL])
    result = run_script("gen_judgment.py", cwd=ws.root)
    assert result.returncode == 0, result.stderr
    faults = record_faults(server)
    assert set(faults) == set(TRANSIENT_MIX)
    assert 0.25 <= sum(faults.values()) / len(server.requests) <= 0.45
    records = read_jsonl(ws.judgment_file(JUDGE, MODEL))
    assert [r["question_id"] for r in records] == [f"q{i:03d}" for i in range(count)]
    for record, base, mine in zip(records, texts[BASE], texts[MODEL]):
        labels = [length_verdict(base, mine), length_verdict(mine, base)]
        assert [g["score"] for g in record["games"]] == labels
        assert [g["judgment"] for g in record["games"]] == [expected_judgment(label) for label in labels]
    calls = Counter(r.request.conversation_key for r in server.requests if r.outcome == OK)
    assert len(calls) == 2 * 2 * count and set(calls.values()) == {1}  # 2 games x (ask + continue), once each
    assert b"fake fault" not in everything_written(ws.root) and "Traceback" not in result.stderr


# --- every request fails ---------------------------------------------------------------------------

PARALLEL, MAX_ATTEMPTS, STALL_TIMEOUT = 2, 3, 0.25
KIND_IN_MESSAGE = {RETRY_AFTER_429: "429", "429": "429", "500": "500", "502": "502", "503": "503",
                   STALL: "APITimeoutError", DROP: "APIConnectionError", MALFORMED: "JSONDecodeError"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def outage_budget(calls_per_job: int) -> int:
    """Most requests a total outage can cost: the jobs under way (twice `parallel`) plus the ones started
    as the first failures freed their places before the model was stopped, each call spending every
    attempt."""
    jobs = 2 * PARALLEL + REQUESTS_FAILED_BEFORE_STOP - 1
    return jobs * calls_per_job * MAX_ATTEMPTS


@pytest.mark.parametrize("kind", TRANSIENT_MIX)
@pytest.mark.parametrize("script", ["gen_answer.py", "gen_judgment.py"])
def test_total_outage_stops_within_the_retry_budget_and_writes_nothing_false(ws, fake_api, script, kind):
    count = 30
    server = fake_api(JudgeResponder(MARKERS) if script == "gen_judgment.py" else answer_responder,
                      faults=FaultPlan(rate=1.0, mix={kind: 1.0}, retry_after=0.05, stall_seconds=30))
    ws.write_questions(questions(count))
    entry = model_entry(server.openai_base_url, parallel=PARALLEL, max_attempts=MAX_ATTEMPTS,
                        **{**FAST, "timeout": STALL_TIMEOUT})
    if script == "gen_answer.py":
        ws.write_api_config({MODEL: entry})
        ws.write_answer_config([MODEL])
        output, label, calls_per_job = ws.answer_file(MODEL), MODEL, 1
        write_jsonl(output, [answer_row(f"q{i:03d}", MODEL, answer_text(q["turns"][0]["content"]))
                             for i, q in enumerate(questions(3))])  # answers from an earlier, healthy run
    else:
        write_answers(ws, count)
        ws.write_api_config({JUDGE: entry})
        ws.write_judge_config(JUDGE, BASE, [MODEL])
        output, label, calls_per_job = ws.judgment_file(JUDGE, MODEL), MODEL, 2
        write_jsonl(output, [{"question_id": f"q{i:03d}", "model": MODEL, "judge": JUDGE,
                              "games": [{"user_prompt": "p", "judgment": "[[A>B]]", "score": "A>B"}] * 2}
                             for i in range(3)])
    before = digest(output)
    result = run_script_in_process(script, cwd=ws.root)
    record_faults(server)
    budget = outage_budget(calls_per_job)
    assert result.returncode == 1, result.stderr
    assert 1 <= len(server.requests) <= budget  # what an outage costs: a bounded number of requests
    verb = "answered" if script == "gen_answer.py" else "judged"
    assert f"{label}: 0 {verb}, {count - 3} failed; {len(server.requests)} calls" in result.stdout
    assert "stopped after 3 requests in a row failed every attempt" in result.stderr
    assert KIND_IN_MESSAGE[kind] in result.stderr
    assert "Traceback" not in result.stderr
    assert digest(output) == before  # the earlier records are untouched; no failure was written as a record


def test_every_kind_of_fault_was_injected():
    """The figures of the tests above (this test runs after them, in file order; pytest -s shows them)."""
    if not FAULT_COUNTS:
        pytest.skip("needs the fault tests of this file in the same run")
    assert set(FAULT_COUNTS) == set(TRANSIENT_MIX)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(FAULT_COUNTS.items()))
    print(f"\nfaults injected: {sum(FAULT_COUNTS.values())} ({kinds})")
