"""The loopback fake API (tests/fake_api_server.py) against the real openai and anthropic SDK clients:
replies and usage parse, each injected fault surfaces as the SDK exception the retry classifier expects,
faults follow the seeded plan, and the observability the other tests rely on is exact."""
from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import astuple
from collections import Counter
from pathlib import Path

import anthropic
import openai
import pytest

from arena_hard.models import retry
from fake_api_server import (DROP, EMPTY, MALFORMED, OK, RETRY_AFTER_429, STALL, TRANSIENT_MIX, AnswerMarkers,
                             FaultPlan, JudgeResponder, LognormalLatency, ParsedRequest, Reply, answer_text,
                             parse_request)

API_KEY = "sk-fake-secret-0123456789"


def openai_client(server, timeout=5.0):
    return openai.AsyncOpenAI(api_key=API_KEY, base_url=server.openai_base_url, max_retries=0, timeout=timeout)


def azure_client(server, timeout=5.0):
    return openai.AsyncAzureOpenAI(api_key=API_KEY, azure_endpoint=server.url, api_version="2024-10-21",
                                   max_retries=0, timeout=timeout)


def anthropic_client(server, timeout=5.0):
    return anthropic.AsyncAnthropic(api_key=API_KEY, base_url=server.url, max_retries=0, timeout=timeout)


async def ask(protocol, client, question, *, model="m", history=(), **params):
    """One request through the real SDK; OpenAI and Azure share the chat-completions call."""
    messages = [*history, {"role": "user", "content": question}]
    async with client:
        if protocol == "anthropic":
            return await client.messages.create(model=model, max_tokens=256, system="Be brief.", messages=messages,
                                                **params)
        return await client.chat.completions.create(
            model=model, messages=[{"role": "system", "content": "Be brief."}, *messages], **params)


CLIENTS = {"openai": openai_client, "azure": azure_client, "anthropic": anthropic_client}


def call(server, protocol, question="What is 2+2?", timeout=5.0, **kwargs):
    return asyncio.run(ask(protocol, CLIENTS[protocol](server, timeout), question, **kwargs))


def reply_text(protocol, response):
    if protocol == "anthropic":
        return "".join(block.text for block in response.content if block.type == "text")
    return response.choices[0].message.content


# --- replies ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", ["openai", "azure", "anthropic"])
def test_real_sdk_client_gets_the_answer_and_usage(fake_api, protocol):
    server = fake_api()
    question = "Explain how a hash map resolves collisions, please."
    # anthropic 2.14's messages.create has no `temperature` argument: it travels in extra_body
    sampling = {"extra_body": {"temperature": 0.2}} if protocol == "anthropic" else {"temperature": 0.2}
    response = call(server, protocol, question, model="deploy-1", **sampling)

    expected = answer_text(question)
    assert reply_text(protocol, response) == expected
    prompt_words, answer_words = len("Be brief.".split()) + len(question.split()), len(expected.split())
    if protocol == "anthropic":
        assert (response.usage.input_tokens, response.usage.output_tokens) == (prompt_words, answer_words)
        assert response.stop_reason == "end_turn" and response.model == "deploy-1"
    else:
        usage = response.usage
        assert (usage.prompt_tokens, usage.completion_tokens) == (prompt_words, answer_words)
        assert usage.total_tokens == prompt_words + answer_words
        assert response.choices[0].finish_reason == "stop" and response.model == "deploy-1"

    [record] = server.requests
    request = record.request
    assert record.outcome == OK and request.number == 1
    assert request.protocol == ("anthropic" if protocol == "anthropic" else "openai")
    assert request.model == "deploy-1" and request.system == "Be brief." and request.temperature == 0.2
    assert [(m.role, m.content) for m in request.messages] == [("user", question)]
    if protocol == "azure":
        assert request.path == "/openai/deployments/deploy-1/chat/completions"
    assert request.has_api_key and API_KEY not in repr(server.requests)


def test_reasoning_comes_back_apart_from_the_answer(fake_api):
    server = fake_api()
    question = "Prove that there are infinitely many primes."
    chat = call(server, "openai", question, reasoning_effort="high", max_completion_tokens=500)
    message = chat.choices[0].message
    assert message.content == answer_text(question)
    assert message.reasoning_content.startswith("Thinking about: Prove that")

    claude = call(server, "anthropic", question, thinking={"type": "enabled", "budget_tokens": 100})
    assert [block.type for block in claude.content] == ["thinking", "text"]
    assert claude.content[0].thinking == message.reasoning_content and claude.content[0].signature
    assert claude.content[1].text == answer_text(question)

    first, second = (record.request for record in server.requests)
    assert first.params["reasoning_effort"] == "high" and first.max_tokens == 500
    assert second.params["thinking"] == {"type": "enabled", "budget_tokens": 100} and second.max_tokens == 256
    plain = call(server, "openai", question)
    assert getattr(plain.choices[0].message, "reasoning_content", None) is None


def test_custom_responder_sees_the_whole_conversation(fake_api):
    seen: list[ParsedRequest] = []

    def responder(request: ParsedRequest) -> Reply:
        seen.append(request)
        return Reply(f"turn {len(request.user_turns)}")

    server = fake_api(responder)
    history = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "one"}]
    response = call(server, "anthropic", "second", history=history)
    assert reply_text("anthropic", response) == "turn 2"
    assert [(m.role, m.content) for m in seen[0].messages] == [("user", "first"), ("assistant", "one"),
                                                               ("user", "second")]


# --- faults and the exceptions the SDKs raise for them ----------------------------------------------

# fault -> (openai exception, anthropic exception, retry.classify kind); the retry code depends on these.
FAULT_EXCEPTIONS = {
    RETRY_AFTER_429: (openai.RateLimitError, anthropic.RateLimitError, retry.RETRY),
    "429": (openai.RateLimitError, anthropic.RateLimitError, retry.RETRY),
    "500": (openai.InternalServerError, anthropic.InternalServerError, retry.RETRY),
    "502": (openai.InternalServerError, anthropic.InternalServerError, retry.RETRY),
    "503": (openai.InternalServerError, anthropic.ServiceUnavailableError, retry.RETRY),
    "529": (openai.InternalServerError, anthropic.OverloadedError, retry.RETRY),
    STALL: (openai.APITimeoutError, anthropic.APITimeoutError, retry.RETRY),
    DROP: (openai.APIConnectionError, anthropic.APIConnectionError, retry.RETRY),
    MALFORMED: (json.JSONDecodeError, json.JSONDecodeError, retry.RETRY),
    "400": (openai.BadRequestError, anthropic.BadRequestError, retry.REQUEST),
    "401": (openai.AuthenticationError, anthropic.AuthenticationError, retry.MODEL),
    "403": (openai.PermissionDeniedError, anthropic.PermissionDeniedError, retry.MODEL),
    "404": (openai.NotFoundError, anthropic.NotFoundError, retry.MODEL),
}


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_each_fault_raises_the_expected_sdk_exception_and_is_classified(fake_api, protocol):
    kinds = list(FAULT_EXCEPTIONS)
    server = fake_api(faults=FaultPlan(schedule=dict(enumerate(kinds, start=1)), retry_after=2))
    for kind in kinds:
        expected = FAULT_EXCEPTIONS[kind][0 if protocol == "openai" else 1]
        with pytest.raises(Exception) as caught:
            call(server, protocol, timeout=0.5 if kind == STALL else 5.0)
        assert type(caught.value) is expected, kind  # exact: APITimeoutError subclasses APIConnectionError
        failure = retry.classify(caught.value)
        assert failure.kind == FAULT_EXCEPTIONS[kind][2], kind
        if kind.isdigit():
            assert failure.status == int(kind)
        assert failure.retry_after == (2.0 if kind == RETRY_AFTER_429 else None), kind
    assert [record.outcome for record in server.requests] == kinds


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_retry_after_header_reaches_the_sdk_exception(fake_api, protocol):
    server = fake_api(faults=FaultPlan(schedule={1: RETRY_AFTER_429, 2: "429"}, retry_after=7))
    errors = []
    for _ in range(2):
        with pytest.raises((openai.RateLimitError, anthropic.RateLimitError)) as caught:
            call(server, protocol)
        errors.append(caught.value)
    assert errors[0].response.headers["retry-after"] == "7"
    assert "retry-after" not in errors[1].response.headers


def test_dropped_connection_is_a_connection_error_not_a_timeout(fake_api):
    server = fake_api(faults=FaultPlan(schedule={1: DROP}))
    with pytest.raises(openai.APIConnectionError) as caught:
        call(server, "openai")
    assert not isinstance(caught.value, openai.APITimeoutError)
    assert "complete message body" in str(caught.value.__cause__)
    assert reply_text("openai", call(server, "openai", "after the drop")) == answer_text("after the drop")


def test_stall_times_out_the_client_and_the_server_lets_go(fake_api):
    server = fake_api(faults=FaultPlan(rate=1.0, mix={STALL: 1}))
    with pytest.raises(anthropic.APITimeoutError):
        call(server, "anthropic", timeout=0.3)
    assert server.outcomes == Counter({STALL: 1})


def test_stop_does_not_wait_for_a_stalled_request(fake_api):
    server = fake_api(faults=FaultPlan(rate=1.0, mix={STALL: 1}))
    with socket.create_connection((server.host, server.port)) as connection:
        connection.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: fake\r\nContent-Length: 2\r\n\r\n{}")
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopper.join(timeout=10)
        assert not stopper.is_alive()
        try:
            assert connection.recv(1) == b""  # closed without an answer
        except ConnectionResetError:
            pass  # or reset, had the server not accepted the connection yet


def test_empty_answer_is_a_well_formed_reply_with_no_text(fake_api):
    server = fake_api(faults=FaultPlan(schedule={1: EMPTY, 2: EMPTY}))
    assert reply_text("openai", call(server, "openai")) == ""
    assert reply_text("anthropic", call(server, "anthropic")) == ""


# --- the fault plan ---------------------------------------------------------------------------------

def test_fault_plan_is_seeded_and_keyed_by_request_number():
    plan = FaultPlan(rate=0.3, seed=11)
    faults = [plan.fault_for_number(n) for n in range(1, 2001)]
    assert faults == [FaultPlan(rate=0.3, seed=11).fault_for_number(n) for n in range(1, 2001)]
    assert faults != [FaultPlan(rate=0.3, seed=12).fault_for_number(n) for n in range(1, 2001)]
    failed = [kind for kind in faults if kind is not None]
    assert 0.25 < len(failed) / len(faults) < 0.35
    assert set(failed) == set(TRANSIENT_MIX)

    weighted = FaultPlan(rate=1.0, mix={"429": 3, "500": 1, "503": 0})
    drawn = Counter(weighted.fault_for_number(n) for n in range(1, 2001))
    assert set(drawn) == {"429", "500"} and 2.5 < drawn["429"] / drawn["500"] < 3.5

    first = FaultPlan(first_n=5, mix={"503": 1}, schedule={2: "401", 9: DROP})
    assert [first.fault_for_number(n) for n in range(1, 11)] == ["503", "401", "503", "503", "503",
                                                                  None, None, None, DROP, None]
    assert all(FaultPlan(rate=1.0).fault_for_number(n) for n in range(1, 500))
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultPlan(mix={"timeout": 1})


def test_server_applies_the_plan_by_arrival_number(fake_api):
    plan = FaultPlan(rate=0.5, seed=3, mix={"429": 1, "500": 1, MALFORMED: 1, DROP: 1})
    server = fake_api(faults=plan)
    for n in range(1, 21):
        try:
            call(server, "openai", f"question {n}")
        except (openai.APIError, json.JSONDecodeError):
            pass
    assert [record.outcome for record in server.requests] == [plan.fault_for_number(n) or OK for n in range(1, 21)]
    assert server.outcomes == Counter(plan.fault_for_number(n) or OK for n in range(1, 21))


def test_matching_text_fails_that_conversation_every_time(fake_api):
    server = fake_api(faults=FaultPlan(matching=(("poison", "400"),)))
    for _ in range(2):
        with pytest.raises(anthropic.BadRequestError):
            call(server, "anthropic", "a poison question")
    assert reply_text("anthropic", call(server, "anthropic", "a fine question")) == answer_text("a fine question")


# --- judges -----------------------------------------------------------------------------------------

MARKERS = AnswerMarkers("<<first answer>>", "<</first answer>>", "<<second answer>>", "<</second answer>>")


def judge_prompt(answer_a: str, answer_b: str) -> str:
    return (f"Question: pick one.\n<<first answer>>{answer_a}<</first answer>>\n"
            f"<<second answer>>{answer_b}<</second answer>>\nReply with a label.")


@pytest.mark.parametrize("length_a, length_b, label", [
    (10, 10, "A=B"), (30, 10, "A>>B"), (15, 10, "A>B"), (10, 15, "B>A"), (10, 20, "B>>A")])
def test_judge_labels_by_answer_length(fake_api, length_a, length_b, label):
    server = fake_api(JudgeResponder(MARKERS))
    response = call(server, "openai", judge_prompt("a" * length_a, "b" * length_b))
    assert reply_text("openai", response).endswith(f"[[{label}]]")


def test_judge_without_markers_is_deterministic_per_prompt(fake_api):
    server = fake_api(JudgeResponder())
    labels = [reply_text("anthropic", call(server, "anthropic", prompt)) for prompt in ("p1", "p2", "p1")]
    assert labels[0] == labels[2] and "[[" in labels[0]
    assert labels[0][labels[0].index("[[") + 2:-2] in ("A>>B", "A>B", "A=B", "B>A", "B>>A")


def test_judge_gives_the_label_only_when_asked_to_continue(fake_api):
    server = fake_api(JudgeResponder(MARKERS, label_on_continue=True))
    prompt = judge_prompt("short", "a much longer answer")
    first = reply_text("openai", call(server, "openai", prompt))
    assert "[[" not in first
    history = [{"role": "user", "content": prompt}, {"role": "assistant", "content": first}]
    second = reply_text("openai", call(server, "openai", "Continue and give your final label.", history=history))
    assert second.endswith("[[B>>A]]")


# --- observability ----------------------------------------------------------------------------------

def test_max_in_flight_reaches_the_concurrency(fake_api):
    server = fake_api(latency=1.0)

    async def many():
        async with openai_client(server) as client:
            return await asyncio.gather(*(client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": f"q{i}"}]) for i in range(32)))

    replies = asyncio.run(many())
    assert [r.choices[0].message.content for r in replies] == [answer_text(f"q{i}") for i in range(32)]
    assert server.max_in_flight == 32 and server.stats()["in_flight"] == 0


def test_keep_alive_serves_many_requests_on_one_connection(fake_api):
    server = fake_api()

    async def sequential():
        async with anthropic_client(server) as client:
            for i in range(10):
                await client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": str(i)}])

    asyncio.run(sequential())
    assert server.stats()["requests"] == 10 and server.connections_opened == 1


def test_conversation_counts_show_duplicate_calls(fake_api):
    server = fake_api(faults=FaultPlan(schedule={1: "500"}))
    for question in ("alpha", "alpha", "beta"):
        try:
            call(server, "openai", question)
        except openai.InternalServerError:
            pass
    as_sent = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "alpha"}]
    assert server.calls_with_conversation(as_sent) == 2  # the failed attempt counts: it was a call
    assert server.calls_with_conversation([{"role": "user", "content": "alpha"}], system="Be brief.") == 2
    assert server.calls_with_conversation([{"role": "user", "content": "gamma"}]) == 0
    assert sorted(server.conversation_counts().values()) == [1, 2]
    assert server.count_containing("bet") == 1 and server.count_containing("Be brief.") == 3


def test_unknown_route_is_404_and_stats_are_served(fake_api):
    server = fake_api(faults=FaultPlan(schedule={1: "503"}))
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(urllib.request.Request(server.url + "/v1/embeddings", data=b"{}"))
    assert caught.value.code == 404
    with pytest.raises(openai.InternalServerError):
        call(server, "openai")
    stats = json.load(urllib.request.urlopen(server.url + "/_fake/stats"))
    assert stats["requests"] == 1 and stats["outcomes"] == {"503": 1} and stats["in_flight"] == 0


def test_lognormal_latency_is_fixed_per_request_heavy_tailed_and_capped():
    latency = LognormalLatency(median=0.3, sigma=1.0, cap=8.0, seed=5)

    def request(text, model="m"):
        return parse_request(1, "openai", "/v1/chat/completions", {},
                             {"model": model, "messages": [{"role": "user", "content": text}]})

    draws = sorted(latency(request(f"question {i}")) for i in range(4000))
    assert latency(request("question 7")) == latency(request("question 7"))  # any client, any order
    assert latency(request("question 7")) != latency(request("question 7", model="other"))
    assert 0.27 < draws[2000] < 0.33  # the median
    assert draws[-1] == 8.0 and 0.0 < draws[0] < 0.05  # capped; a long tail both ways


def test_request_log_gives_each_requests_latency(fake_api):
    server = fake_api(latency=lambda request: 0.01 * len(request.last_user))
    call(server, "openai", "abc")
    log = json.load(urllib.request.urlopen(server.url + "/_fake/requests"))
    assert [(e["number"], e["outcome"], e["first_user"]) for e in log] == [(1, OK, "abc")]
    assert log[0]["latency"] == pytest.approx(0.03)


def test_a_port_in_use_fails_at_start(fake_api):
    server = fake_api()
    with pytest.raises(OSError):
        fake_api(port=server.port)


# --- subprocess mode --------------------------------------------------------------------------------

def test_subprocess_prints_its_url_serves_and_stops_on_sigterm():
    script = Path(__file__).with_name("fake_api_server.py")
    command = [sys.executable, str(script), "--port", "0", "--fail-first", "1", "--fault-mix", "429_retry_after",
               "--retry-after", "3", "--responder", "judge", "--markers", *astuple(MARKERS)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")

            async def two_calls():
                async with openai.AsyncOpenAI(api_key=API_KEY, base_url=url + "/v1", max_retries=0) as client:
                    messages = [{"role": "user", "content": judge_prompt("xx", "x")}]
                    with pytest.raises(openai.RateLimitError) as caught:
                        await client.chat.completions.create(model="judge", messages=messages)
                    assert caught.value.response.headers["retry-after"] == "3"
                    return await client.chat.completions.create(model="judge", messages=messages)

            assert asyncio.run(two_calls()).choices[0].message.content.endswith("[[A>>B]]")
            stats = json.load(urllib.request.urlopen(url + "/_fake/stats"))
            assert stats["outcomes"] == {RETRY_AFTER_429: 1, OK: 1}
        finally:
            process.terminate()
        assert process.wait(timeout=10) == 0
