"""Cohere, Meta, Vertex AI and Bedrock through gen_answer.py against the loopback fake of their APIs
(tests/fake_cloud_api.py): the real openai SDK (Cohere), httpx (Meta, Vertex AI), google-auth
(service-account credentials refreshed at the fake's token endpoint) and boto3 (SigV4-signed Converse
calls). Each request is upstream's for the same messages and settings (compared with upstream v2.0's
own functions where they can be run), and replies, reasoning, usage, throttling (retried), 400
(reported) and 401 (the endpoint dropped; for Vertex AI after one refresh of its token) are handled as
for OpenAI."""
from __future__ import annotations

import asyncio
import io
import json
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest

import gen_answer
import gen_judgment
from arena_hard.core.api_types import missing_package
from arena_hard.core.endpoints import model_config
from arena_hard.core.errors import UserError
from arena_hard.models.client import ModelClient
from arena_hard.models.providers import ChatRequest
from cloud_helpers import (API_TYPES, AWS_KEYS, MODELS, REGIONS, endpoint_of, entry, isolate_credentials,
                           service_account_file, upstream_completion)
from fake_api_server import FaultPlan, Reply, answer_responder, answer_text, word_count
from fake_cloud_api import FakeCloudServer
from pipeline_helpers import Workspace, question, questions, read_jsonl

SYSTEM = "Be brief."
CONVERSATION = ({"role": "system", "content": SYSTEM}, {"role": "user", "content": "First turn?"},
                {"role": "assistant", "content": "An earlier answer."}, {"role": "user", "content": "Second turn?"})


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Every connection and name lookup of the test stays on 127.0.0.1 (none is made, and the test fails)."""
    escaped = []
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def checked_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1"):
            escaped.append(address)
            raise ConnectionRefusedError(f"the test refuses a connection to {address}")
        return connect(sock, address)

    def checked_getaddrinfo(host, *args, **kwargs):
        if host not in (None, "127.0.0.1", "::1", "localhost"):
            escaped.append(host)
            raise socket.gaierror(f"the test refuses to look up {host}")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", checked_connect)
    monkeypatch.setattr(socket, "getaddrinfo", checked_getaddrinfo)
    yield
    assert escaped == []


@pytest.fixture
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    isolate_credentials(monkeypatch, tmp_path)
    return Workspace(tmp_path)


@pytest.fixture
def cloud(ws, monkeypatch):
    """`cloud(responder, **options)`: a running FakeCloudServer, Google's credentials pointed at its /token."""
    servers = []

    def start(responder=answer_responder, **options):
        server = FakeCloudServer(responder, **options)
        server.start()
        servers.append(server)
        if missing_package("vertex") is None:  # its key is made with cryptography, which google-auth brings
            key_file = service_account_file(ws.root / "service-account.json", f"{server.url}/token")
            monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
        return server

    yield start
    for server in servers:
        server.stop()


def run(ws, server, api_type, rows, endpoints=1, settings=None, **extra):
    ws.write_questions(rows)
    ws.write_api_config({"m": entry(api_type, server.url, endpoints, **extra)})
    ws.write_answer_config(["m"], **(settings or {}))
    return gen_answer.main([])


def turns(ws):
    return {r["question_id"]: r["choices"][0]["turns"] for r in read_jsonl(ws.answer_file("m"))}


@pytest.mark.parametrize("api_type", API_TYPES)
def test_conversation_settings_answers_and_usage(ws, cloud, api_type):
    server = cloud()
    rows = [question("q0", "First turn?", "Second turn?"), question("q1", "Only turn?")]
    status = run(ws, server, api_type, rows, settings={"temperature": 0.25, "max_tokens": 300}, sys_prompt=SYSTEM)
    assert status == 0
    answers = turns(ws)
    assert [t["content"] for t in answers["q0"]] == [answer_text("First turn?"), answer_text("Second turn?")]
    assert [t["content"] for t in answers["q1"]] == [answer_text("Only turn?")]
    requests = [r.request for r in server.requests]
    assert len(requests) == 3 and {r.outcome for r in server.requests} == {"ok"}
    assert {(r.protocol, r.model, r.system, r.temperature, r.max_tokens, r.has_api_key) for r in requests} == \
        {("openai" if api_type == "cohere" else api_type, MODELS[api_type], SYSTEM, 0.25, 300, True)}
    [second] = [r for r in requests if len(r.messages) == 3]
    assert [(m.role, m.content) for m in second.messages] == [
        ("user", "First turn?"), ("assistant", answer_text("First turn?")), ("user", "Second turn?")]
    usage = {r["question_id"]: r["usage"] for r in read_jsonl(ws.answer_file("m"))}
    expected = word_count(SYSTEM, "Only turn?") if api_type != "meta" else 0  # Meta's stream counts nothing
    assert usage["q1"]["prompt_tokens"] == expected
    assert usage["q1"]["completion_tokens"] == (word_count(answer_text("Only turn?")) if api_type != "meta" else 0)
    if api_type == "vertex":
        assert {(r.params["project"], r.params["location"]) for r in requests} == {("test-project", REGIONS[0])}
        assert server.bearers and set(server.bearers) <= set(server.tokens_issued)  # google-auth's tokens, no other
    if api_type == "bedrock":
        assert set(server.aws_scopes) == {(AWS_KEYS[0], "eu-west-1", "bedrock")}  # signed as boto3 signs


@pytest.mark.parametrize("api_type", ["cohere", "vertex", "bedrock"])
def test_reasoning_is_kept_apart_from_the_answer(ws, cloud, api_type):
    server = cloud(lambda request: Reply(answer_responder(request).text, "Step by step."))
    assert run(ws, server, api_type, questions(2)) == 0
    for rows in turns(ws).values():
        assert rows[0]["reasoning"] == "Step by step." and "Step by step." not in rows[0]["content"]


@pytest.mark.parametrize("api_type, stop", [("vertex", "MAX_TOKENS"), ("bedrock", "max_tokens")])
def test_a_reply_cut_at_the_token_limit_is_kept_and_reported(ws, cloud, capsys, api_type, stop):
    server = cloud(lambda request: Reply(answer_responder(request).text, stop=stop))
    assert run(ws, server, api_type, questions(2)) == 0
    assert len(turns(ws)) == 2
    assert "truncated: 2 question(s) of m (q000, q001) got a reply cut at the token limit" in capsys.readouterr().err


@pytest.mark.parametrize("api_type", API_TYPES)
def test_throttling_is_retried(ws, cloud, api_type):
    server = cloud(faults=FaultPlan(schedule={1: "429", 3: "503", 5: "drop", 6: "malformed"}))
    assert run(ws, server, api_type, questions(4), parallel=1) == 0
    assert len(turns(ws)) == 4
    assert [r.outcome for r in server.requests].count("ok") == 4 and len(server.requests) == 8


@pytest.mark.parametrize("api_type", API_TYPES)
def test_bad_request_is_reported_not_retried(ws, cloud, api_type, capsys):
    server = cloud(faults=FaultPlan(matching=(("number 2:", "400"),)))
    assert run(ws, server, api_type, questions(4), parallel=2) == 1
    assert server.count_containing("number 2:") == 1
    assert sorted(turns(ws)) == ["q000", "q001", "q003"]
    assert "failed: m question q002: 400" in capsys.readouterr().err


def unauthorized(api_type):
    """How many 401s in a row an endpoint answers before it is dropped: Vertex AI's first one makes the
    credentials refresh and the request go once more (issue 22)."""
    return 2 if api_type == "vertex" else 1


@pytest.mark.parametrize("api_type", API_TYPES)
def test_unauthorized_endpoint_is_dropped_and_the_other_carries_on(ws, cloud, api_type):
    refused = unauthorized(api_type)
    server = cloud(faults=FaultPlan(schedule=dict.fromkeys(range(1, refused + 1), "401")))
    assert run(ws, server, api_type, questions(6), endpoints=2, parallel=1) == 0
    assert len(turns(ws)) == 6
    dropped = endpoint_of(server, server.requests[0])
    assert {endpoint_of(server, r) for r in server.requests[:refused]} == {dropped}
    assert [endpoint_of(server, r) for r in server.requests[refused:]] == [next(
        e for e in (endpoint_of(server, r) for r in server.requests[refused:]) if e != dropped)] * 6


@pytest.mark.parametrize("api_type", API_TYPES)
def test_unauthorized_only_endpoint_stops_the_model(ws, cloud, api_type, capsys):
    server = cloud(faults=FaultPlan(rate=1.0, mix={"401": 1.0}))
    assert run(ws, server, api_type, questions(5), parallel=1) == 1
    assert len(server.requests) == unauthorized(api_type)
    assert "not sent: 4 question(s)" in capsys.readouterr().err
    if api_type == "vertex":  # refreshed once, then given up: the second 401 came with the new token
        assert len(server.tokens_issued) == 2 and server.bearers == server.tokens_issued


def test_vertex_credentials_are_refreshed_as_they_expire(ws, cloud):
    server = cloud(token_lifetime=60)  # within google-auth's refresh margin: every request needs a new token
    assert run(ws, server, "vertex", questions(3), parallel=1) == 0
    assert len(server.tokens_issued) == 3 and server.bearers == server.tokens_issued


def test_vertex_refreshes_a_token_it_answers_401_for_and_asks_again(ws, cloud):
    """A token revoked (or expired early) while google-auth still holds it valid: one 401, a new token,
    the same request again; the endpoint stays, and later requests carry the new token."""
    server = cloud()
    server.revoked.add("fake-access-token-1")
    assert run(ws, server, "vertex", questions(4), parallel=1) == 0
    assert len(turns(ws)) == 4
    first, second = server.tokens_issued
    assert server.bearers == [first, second, second, second, second]
    assert [r.outcome for r in server.requests] == ["401", "ok", "ok", "ok", "ok"]
    assert server.requests[0].request.messages == server.requests[1].request.messages


def test_vertex_refreshes_once_for_requests_that_met_the_same_401_together(ws, cloud):
    server = cloud()
    server.revoked.add("fake-access-token-1")
    assert run(ws, server, "vertex", questions(8), parallel=4) == 0
    assert len(turns(ws)) == 8 and len(server.tokens_issued) == 2


@pytest.mark.parametrize("api_type, module, package", [("bedrock", "boto3", "boto3"),
                                                       ("vertex", "google.auth", "google-auth")])
def test_a_missing_sdk_is_one_line_before_anything_even_in_a_dry_run(ws, cloud, monkeypatch, api_type, module, package):
    server = cloud()
    ws.write_questions(questions(1))
    ws.write_api_config({"m": entry(api_type, server.url)})
    ws.write_answer_config(["m"])
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(UserError, match=rf"`m.api_type`: api_type {api_type} needs the {package}"):
        gen_answer.main(["--dry-run"])
    assert server.requests == []


@pytest.mark.parametrize("api_type, message", [("bedrock", "found no AWS credentials"),
                                               ("vertex", "found no Google credentials")])
def test_missing_cloud_credentials_are_one_line_before_any_call(ws, cloud, monkeypatch, api_type, message):
    server = cloud()
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(ws.root / "absent.json"))
    config = entry(api_type, server.url)
    for endpoint in config["endpoints"]:
        endpoint.pop("aws_access_key_id", None), endpoint.pop("aws_secret_access_key", None)
    ws.write_questions(questions(1))
    ws.write_api_config({"m": config})
    ws.write_answer_config(["m"])
    with pytest.raises(UserError, match=message):
        gen_answer.main([])
    assert server.requests == [] and server.tokens_issued == []


@pytest.mark.parametrize("api_type", API_TYPES)
def test_batch_for_another_provider_is_refused_up_front(ws, cloud, api_type):
    server = cloud()
    ws.write_questions(questions(2))
    openai = {"model_name": "gpt", "api_type": "openai", "endpoints": [{"api_base": server.url, "api_key": "k"}]}
    ws.write_api_config({"a": openai, "m": entry(api_type, server.url)})
    ws.write_answer_config(["a", "m"])
    with pytest.raises(UserError, match=rf"`m` \(api_type {api_type}\) has no batch API; batch mode works with "
                                        "api_type openai, azure, anthropic"):
        gen_answer.main(["--batch"])
    assert server.requests == [] and not ws.answer_file("a").exists()


def test_batch_judging_by_another_provider_is_refused_up_front(ws, cloud):
    server = cloud()
    ws.write_questions(questions(2))
    ws.write_api_config({"judge": entry("meta", server.url)})
    ws.write_judge_config("judge", "base", ["cand"])  # no answers yet: the refusal comes before they are read
    with pytest.raises(UserError, match=r"`judge` \(api_type meta\) has no batch API"):
        gen_judgment.main(["--batch"])
    assert server.requests == []


# --- the same request as upstream v2.0's functions -----------------------------------------------

def send(config_entry, server, temperature=0.3, max_tokens=77):
    """One chat of CONVERSATION through our client for `config_entry`; the fake's body for it."""
    config = model_config(Path("api_config.yaml"), "m", config_entry)
    before = len(server.requests)

    async def chat():
        client = ModelClient(config)
        try:
            return await client.chat(ChatRequest(CONVERSATION, temperature, max_tokens))
        finally:
            await client.aclose()

    asyncio.run(chat())
    [record] = server.requests[before:]
    return record.request, server.bodies[record.request.number]


@pytest.fixture
def upstream(monkeypatch):
    module = upstream_completion(monkeypatch)
    if module is None:
        pytest.skip("upstream v2.0's utils/completion.py is not in the reference folder (see docs/testing.md)")
    return module


def test_meta_request_is_upstreams(ws, cloud, upstream):
    server = cloud()
    upstream.chat_completion_meta(model=MODELS["meta"], messages=list(CONVERSATION), temperature=0.3, max_tokens=77,
                                  api_dict={"api_base": server.url, "api_key": "meta-test-token"})
    theirs = server.bodies[1]
    endpoint = {"api_base": server.url, "api_key": "meta-test-token"}
    ours, body = send({**entry("meta", server.url), "endpoints": [endpoint]}, server)
    assert body == theirs
    assert ours.path == server.requests[0].request.path == "/chat_stream_completions" and ours.has_api_key


def test_vertex_request_is_upstreams(ws, cloud, upstream, monkeypatch):
    server = cloud()
    sent = {}

    def post(url, json, headers):  # upstream's requests.post, caught before it leaves the machine
        sent.update(url=url, body=json, headers=headers)
        return types.SimpleNamespace(json=lambda: {"candidates": [{"content": {"parts": [{"text": "ok"}]}}]})

    monkeypatch.setattr(subprocess, "check_output", lambda *args, **kwargs: "gcloud-token\n")  # upstream's gcloud
    monkeypatch.setattr(upstream.requests, "post", post)
    upstream.vertex_completion_gemini(model=MODELS["vertex"], messages=list(CONVERSATION), project_id="test-project",
                                      regions=REGIONS[0], temperature=0.3, max_tokens=77)
    ours, body = send(entry("vertex", server.url), server)
    assert body == sent["body"]
    assert sent["url"].endswith(ours.path)  # upstream's host is us-central1's for every region; ours the region's


def test_cohere_request_is_the_seeds_conversation(ws, cloud, upstream, monkeypatch):
    server = cloud()
    calls = []
    fake_sdk = types.ModuleType("cohere")
    fake_sdk.Client = lambda key: types.SimpleNamespace(chat=lambda **kwargs: calls.append(kwargs) or
                                                        types.SimpleNamespace(text="ok"))
    monkeypatch.setitem(sys.modules, "cohere", fake_sdk)
    upstream.chat_completion_cohere(model=MODELS["cohere"], messages=list(CONVERSATION), temperature=0.3, max_tokens=77)
    [theirs] = calls
    roles = {"SYSTEM": "system", "USER": "user", "CHATBOT": "assistant"}
    conversation = [{"role": roles[m["role"]], "content": m["message"]} for m in theirs["chat_history"]]
    conversation.append({"role": "user", "content": theirs["message"]})
    ours, body = send(entry("cohere", server.url), server)
    assert body["messages"] == conversation == list(CONVERSATION)
    assert (body["model"], body["temperature"], body["max_tokens"]) == \
        (theirs["model"], theirs["temperature"], theirs["max_tokens"])


def test_bedrock_claude_request_says_what_upstreams_does(ws, cloud, upstream, monkeypatch):
    server = cloud()
    invoked = []

    def invoke_model(body, modelId, accept, contentType):
        invoked.append((modelId, json.loads(body)))
        return {"body": io.BytesIO(json.dumps({"content": [{"text": "ok"}]}).encode())}

    monkeypatch.setattr(upstream.boto3, "client", lambda **kwargs: types.SimpleNamespace(invoke_model=invoke_model))
    upstream.chat_completion_aws_bedrock_claude(messages=list(CONVERSATION), model_id=MODELS["bedrock"],
                                                temperature=0.3, max_tokens=77)
    [(model_id, theirs)] = invoked
    ours, body = send(entry("bedrock", server.url), server)
    assert body["system"] == [{"text": theirs["system"]}]
    assert body["messages"] == [{"role": m["role"], "content": [{"text": m["content"]}]} for m in theirs["messages"]]
    assert body["inferenceConfig"] == {"maxTokens": theirs["max_tokens"], "temperature": theirs["temperature"]}
    assert ours.model == model_id
