"""A loopback fake of the OpenAI chat-completions and Anthropic messages APIs, for tests and benchmarks.

It speaks HTTP/1.1 with keep-alive on 127.0.0.1, so the real `openai` and `anthropic` SDK clients
(AsyncOpenAI, AsyncAzureOpenAI, AsyncAnthropic) talk to it unmodified:
  POST /v1/chat/completions                                  OpenAI and OpenAI-compatible servers
  POST /openai/deployments/{deployment}/chat/completions     Azure OpenAI (?api-version=... is ignored)
  POST /v1/messages                                          Anthropic
  POST /v1/embeddings                                        OpenAI embeddings, when given an `embedder` (else 404)
  GET  /_fake/stats                                          `FakeAPIServer.stats()` as JSON (subprocess mode)
  GET  /_fake/requests                                       the request log as JSON (`FakeAPIServer.request_log()`)
  GET  /health                                               200 (what a local SGLang/vLLM server's start waits for)
Other protocols plug in by overriding `protocol_of`, `parse`, `success_payload`, `error_response` and
`route` (tests/fake_cloud_api.py: Meta, Vertex AI, Bedrock).

Each API request gets a number in arrival order (1, 2, ...). After its latency (an asyncio.sleep: a fixed
`latency`, or a function of the request such as `LognormalLatency`, the same for every client that sends
the same request) it is answered by a responder, any callable `ParsedRequest -> Reply` (`answer_responder`, `JudgeResponder`),
unless the seeded `FaultPlan` turns it into a fault. A Reply may set its stop reason (finish_reason
`length`), its usage, or the whole body (content parts, an `{"error": ...}` with status 200, usage as
NaN: shapes real servers send now and then); any other path gets a 404, as a base URL without /v1 does.
Faults: any HTTP status (429 with or without Retry-After, 5xx, 400/401/403/404...), an error whose message quotes the API key the request sent (as OpenAI's 401
"Incorrect API key provided: sk-..." does), a connection dropped mid-body, a malformed JSON body or an
empty answer, a web page with status 200 (a wrong api_base) (all sent after the same latency), or a stall (nothing is sent).
An embeddings request is logged like a chat request whose user messages are its input texts, and
answered by the `embedder` (texts -> one vector each; tests/fake_bench_builder.py has one), base64 or
as lists of floats as the request's encoding_format asks. Every request is logged (never the API key, only whether one was sent) with its outcome; the server
also tracks the most requests it had in flight at once.

In a test: `with FakeAPIServer(responder, latency=..., faults=FaultPlan(...)) as server:` runs it in a
background thread (or use the `fake_api` fixture of tests/conftest.py). As a subprocess, so that a
benchmark measures its client alone: `python tests/fake_api_server.py --port 0 --latency 0.5 ...` prints
the base URL as the first line of stdout and serves until SIGTERM or SIGINT. Reads and writes no files."""
from __future__ import annotations

import argparse
import array
import asyncio
import base64
import hashlib
import http
import json
import math
import random
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

OPENAI, ANTHROPIC = "openai", "anthropic"
OK = "ok"
BAD_REQUEST = "bad_request"  # the body was not a JSON object (the SDKs never send one)
RESPONDER_ERROR = "responder_error"  # the responder raised; answered 500 so the test sees it in outcomes

# Faults besides plain HTTP statuses. Any status 400-599 written as digits ("429", "503", "401") is a
# fault too: that status with an error body in the protocol's format.
RETRY_AFTER_429 = "429_retry_after"  # 429 with a Retry-After header of FaultPlan.retry_after seconds
STALL = "stall"  # read the request, send nothing for FaultPlan.stall_seconds, then close the connection
DROP = "drop"  # send the headers and half of a good body, then close the connection
MALFORMED = "malformed"  # status 200, Content-Type application/json, a body cut off mid-JSON
EMPTY = "empty"  # status 200, a well-formed reply whose text is ""
HTML = "html"  # status 200, Content-Type text/html, a web page: what a wrong api_base often answers
# An error whose message quotes the API key the request sent, the way OpenAI's 401 does; the 500 variant
# is retried by clients, so the key passes through their retry path too.
ECHO_KEY_401, ECHO_KEY_500 = "401_echo_key", "500_echo_key"
ECHO_KEY_STATUS = {ECHO_KEY_401: 401, ECHO_KEY_500: 500}
NAMED_FAULTS = (RETRY_AFTER_429, STALL, DROP, MALFORMED, EMPTY, HTML, ECHO_KEY_401, ECHO_KEY_500)
TRANSIENT_MIX = ("429_retry_after", "429", "500", "502", "503", STALL, DROP, MALFORMED)


@dataclass(frozen=True)
class Message:
    role: str
    content: str  # text parts joined; non-text parts (images, tool calls) are left out


@dataclass(frozen=True)
class ParsedRequest:
    number: int  # arrival order among API requests (POST .../chat/completions or .../messages), from 1
    protocol: str  # OPENAI or ANTHROPIC
    path: str
    model: str  # the body's model, else the Azure deployment in the path
    system: str | None  # system (and developer) messages of either protocol, joined
    messages: tuple[Message, ...]  # every other message, in order
    temperature: float | None
    max_tokens: int | None  # max_tokens, or OpenAI's max_completion_tokens
    params: Mapping[str, Any]  # the rest of the body: reasoning_effort, thinking, extra_body keys, ...
    has_api_key: bool  # an Authorization, x-api-key or api-key header was sent (its value is not kept)

    @property
    def user_turns(self) -> tuple[str, ...]:
        return tuple(m.content for m in self.messages if m.role == "user")

    @property
    def last_user(self) -> str:
        turns = self.user_turns
        return turns[-1] if turns else ""

    @property
    def wants_reasoning(self) -> bool:
        thinking = self.params.get("thinking")
        return bool(self.params.get("reasoning_effort")) or (
            isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"))

    @property
    def conversation_key(self) -> str:
        return conversation_key(self.messages, self.system)


@dataclass(frozen=True)
class Reply:
    text: str
    reasoning: str | None = None  # sent as message.reasoning_content (OpenAI) or a thinking block (Anthropic)
    stop: str | None = None  # finish_reason (OpenAI) or stop_reason (Anthropic); None: "stop" / "end_turn"
    usage: Mapping[str, Any] | None = None  # the usage object to send instead of the fake's word counts
    body: Any = None  # when not None, the whole status-200 body as is: shapes a well-formed reply never has


Responder = Callable[[ParsedRequest], Reply]


@dataclass(frozen=True)
class RequestRecord:
    request: ParsedRequest
    outcome: str  # OK, a fault kind, BAD_REQUEST or RESPONDER_ERROR
    latency: float = 0.0  # seconds the server waited before answering


@dataclass(frozen=True)
class LognormalLatency:
    """Heavy-tailed latency as real APIs have: lognormal with this median and sigma, capped, drawn from
    a hash of the request (model and conversation) and the seed, so that every client sending the same
    request waits the same time, whatever the order or concurrency of its requests."""
    median: float
    sigma: float
    cap: float
    seed: int = 0

    def __call__(self, request: ParsedRequest) -> float:
        rng = random.Random(f"{self.seed}:{request.model}:{request.conversation_key}")
        return min(self.cap, rng.lognormvariate(math.log(self.median), self.sigma))


# --- conversations --------------------------------------------------------------------------------

def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def split_conversation(messages: Sequence[Mapping[str, Any]],
                       system: Any = None) -> tuple[str | None, tuple[Message, ...]]:
    """(system text, other messages) of a request in either protocol; system messages inside
    `messages` (OpenAI's style) are joined with a separate `system` (Anthropic's) by blank lines."""
    system_parts = [_text(system)] if system else []
    others = []
    for message in messages:
        role, text = str(message.get("role", "")), _text(message.get("content"))
        if role in ("system", "developer"):
            system_parts.append(text)
        else:
            others.append(Message(role, text))
    return ("\n\n".join(system_parts) if system_parts else None), tuple(others)


def conversation_key(messages: Sequence[Message], system: str | None) -> str:
    canonical = json.dumps([system, [[m.role, m.content] for m in messages]], ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def word_count(*texts: str | None) -> int:
    """The fake's token count: whitespace-separated words."""
    return sum(len(text.split()) for text in texts if text)


def sent_api_key(headers: Mapping[str, str]) -> str:
    """The API key a request carried (Authorization: Bearer, x-api-key or api-key), or ""."""
    bearer = headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        return bearer[7:].strip()
    return headers.get("x-api-key") or headers.get("api-key") or ""


def parse_request(number: int, protocol: str, path: str, headers: Mapping[str, str],
                  body: Mapping[str, Any]) -> ParsedRequest:
    system, messages = split_conversation(body.get("messages") or [], body.get("system"))
    model = body.get("model")
    if not model and "/deployments/" in path:
        model = path.split("/deployments/", 1)[1].split("/", 1)[0]
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    skipped = {"model", "messages", "system", "temperature", "max_tokens", "max_completion_tokens"}
    return ParsedRequest(
        number=number, protocol=protocol, path=path, model=str(model or ""), system=system, messages=messages,
        temperature=body.get("temperature"), max_tokens=max_tokens,
        params={key: value for key, value in body.items() if key not in skipped},
        has_api_key=any(name in headers for name in ("authorization", "x-api-key", "api-key")))


# --- responders -----------------------------------------------------------------------------------

def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def answer_text(question: str) -> str:
    """A short markdown answer derived from the question alone: same question, same answer; its number
    of points (1-5) varies with the question so that answers differ in length and markdown counts."""
    digest = _digest(question)
    topic = " ".join(question.split()[:8]) or "an empty question"
    lines = ["## Answer", "", f"You asked about: {topic}", ""]
    lines += [f"{i}. **Point {i}**: a step towards the answer (ref {digest[i]:02x})."
              for i in range(1, 2 + digest[0] % 5)]
    lines += ["", "- checked once", "- done"]
    return "\n".join(lines)


def answer_responder(request: ParsedRequest) -> Reply:
    """Answers the last user message with `answer_text`; adds reasoning when the request asks for it
    (OpenAI's reasoning_effort, Anthropic's thinking {type: enabled or adaptive})."""
    reasoning = f"Thinking about: {' '.join(request.last_user.split()[:8])}" if request.wants_reasoning else None
    return Reply(answer_text(request.last_user), reasoning)


VERDICT_LABELS = ("A>>B", "A>B", "A=B", "B>A", "B>>A")


@dataclass(frozen=True)
class AnswerMarkers:
    """Where a judge prompt holds the two answers: assistant A's answer lies between a_start and a_end,
    B's between b_start and b_end. Tests choose the markers; none are built in."""
    a_start: str
    a_end: str
    b_start: str
    b_end: str


def _between(text: str, start: str, end: str) -> str | None:
    begin = text.find(start)
    if begin < 0:
        return None
    begin += len(start)
    finish = text.find(end, begin)
    return text[begin:finish] if finish >= 0 else None


def length_verdict(answer_a: str, answer_b: str) -> str:
    """The longer answer (stripped, in characters) wins; by >> when at least twice as long; A=B on a tie."""
    a, b = len(answer_a.strip()), len(answer_b.strip())
    if a == b:
        return "A=B"
    if a > b:
        return "A>>B" if a >= 2 * b else "A>B"
    return "B>>A" if b >= 2 * a else "B>A"


def hashed_verdict(prompt: str) -> str:
    return VERDICT_LABELS[int.from_bytes(_digest(prompt)[:4], "big") % len(VERDICT_LABELS)]


def judge_verdict(prompt: str, markers: AnswerMarkers | None) -> str:
    """`length_verdict` of the two answers when `markers` finds both in the prompt, else `hashed_verdict`."""
    if markers is not None:
        answer_a = _between(prompt, markers.a_start, markers.a_end)
        answer_b = _between(prompt, markers.b_start, markers.b_end)
        if answer_a is not None and answer_b is not None:
            return length_verdict(answer_a, answer_b)
    return hashed_verdict(prompt)


@dataclass(frozen=True)
class JudgeResponder:
    """A judge: its verdict is `judge_verdict` of the FIRST user message (the judge prompt), written as
    `[[label]]`. With label_on_continue, the first reply has no label; the label comes once the
    conversation holds a later user turn (a request to continue)."""
    markers: AnswerMarkers | None = None
    label_on_continue: bool = False

    def __call__(self, request: ParsedRequest) -> Reply:
        turns = request.user_turns
        if self.label_on_continue and len(turns) < 2:
            return Reply("Both answers address the question. Weighing their accuracy and detail next.")
        label = judge_verdict(turns[0] if turns else "", self.markers)
        return Reply(f"Comparing the two answers.\n\nVerdict: [[{label}]]")


# --- faults ---------------------------------------------------------------------------------------

def _is_status_fault(kind: str) -> bool:
    return kind.isdigit() and 400 <= int(kind) <= 599


def check_fault_kind(kind: str) -> str:
    if kind not in NAMED_FAULTS and not _is_status_fault(kind):
        raise ValueError(f"unknown fault kind {kind!r}: use one of {', '.join(NAMED_FAULTS)} or a status 400-599")
    return kind


@dataclass(frozen=True)
class FaultPlan:
    """Which requests fail, and how; deterministic given the seed and each request's arrival number.

    In order of precedence: `schedule` (request number -> kind), `matching` ((text, kind): every
    request whose conversation contains the text), the first `first_n` requests, then a `rate`
    fraction of the rest; the last two draw their kind from `mix` (kind -> weight)."""
    rate: float = 0.0
    mix: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(TRANSIENT_MIX, 1.0))
    seed: int = 0
    first_n: int = 0
    schedule: Mapping[int, str] = field(default_factory=dict)
    matching: tuple[tuple[str, str], ...] = ()
    retry_after: float = 1.0  # seconds, in the Retry-After header of RETRY_AFTER_429
    stall_seconds: float = 3600.0  # longer than any client timeout in the tests

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate {self.rate} is not within 0..1")
        if (self.rate > 0 or self.first_n > 0) and not any(weight > 0 for weight in self.mix.values()):
            raise ValueError("the fault mix has no kind with a positive weight")
        for kind in (*self.mix, *self.schedule.values(), *(kind for _, kind in self.matching)):
            check_fault_kind(kind)

    def fault_for_number(self, number: int) -> str | None:
        """The fault of request `number` by `schedule`, `first_n` and `rate` (None: answer it)."""
        if number in self.schedule:
            return self.schedule[number]
        rng = random.Random(f"{self.seed}:{number}")
        if rng.random() < self.rate or number <= self.first_n:
            return rng.choices(list(self.mix), weights=list(self.mix.values()))[0]
        return None

    def fault_for(self, request: ParsedRequest) -> str | None:
        if request.number not in self.schedule:
            texts = [request.system or "", *(m.content for m in request.messages)]
            for needle, kind in self.matching:
                if any(needle in text for text in texts):
                    return kind
        return self.fault_for_number(request.number)


# --- wire formats ---------------------------------------------------------------------------------

def success_body(request: ParsedRequest, reply: Reply) -> Any:
    if reply.body is not None:
        return reply.body
    prompt_tokens = word_count(request.system, *(m.content for m in request.messages))
    completion_tokens = word_count(reply.text, reply.reasoning)
    if request.protocol == OPENAI:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.reasoning is not None:
            message["reasoning_content"] = reply.reasoning
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        return {"id": f"chatcmpl-fake-{request.number}", "object": "chat.completion", "created": int(time.time()),
                "model": request.model,
                "choices": [{"index": 0, "message": message, "finish_reason": reply.stop or "stop", "logprobs": None}],
                "usage": usage if reply.usage is None else dict(reply.usage)}
    content: list[dict[str, Any]] = []
    if reply.reasoning is not None:
        content.append({"type": "thinking", "thinking": reply.reasoning, "signature": f"fake-signature-{request.number}"})
    content.append({"type": "text", "text": reply.text})
    usage = {"input_tokens": prompt_tokens, "output_tokens": completion_tokens}
    return {"id": f"msg_fake_{request.number}", "type": "message", "role": "assistant", "model": request.model,
            "content": content, "stop_reason": reply.stop or "end_turn", "stop_sequence": None,
            "usage": usage if reply.usage is None else dict(reply.usage)}


Embedder = Callable[[str, Sequence[str]], Sequence[Sequence[float]]]  # (model, texts) -> one vector per text


def parse_embedding_request(number: int, path: str, headers: Mapping[str, str],
                            body: Mapping[str, Any]) -> ParsedRequest:
    """An embeddings request as a ParsedRequest: its input texts are the user messages."""
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else list(texts or [])
    return ParsedRequest(number=number, protocol=OPENAI, path=path, model=str(body.get("model") or ""), system=None,
                         messages=tuple(Message("user", str(text)) for text in texts), temperature=None,
                         max_tokens=None, params={k: v for k, v in body.items() if k not in ("model", "input")},
                         has_api_key=any(name in headers for name in ("authorization", "x-api-key", "api-key")))


def embedding_body(request: ParsedRequest, embedder: Embedder) -> dict[str, Any]:
    texts = request.user_turns
    vectors = embedder(request.model, texts)
    as_base64 = request.params.get("encoding_format") == "base64"
    data = [{"object": "embedding", "index": i,
             "embedding": base64.b64encode(array.array("f", vector).tobytes()).decode("ascii") if as_base64
             else [float(x) for x in vector]} for i, vector in enumerate(vectors)]
    tokens = word_count(*texts)
    return {"object": "list", "data": data, "model": request.model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


_OPENAI_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_denied",
                       404: "invalid_request_error", 429: "rate_limit_exceeded"}
_ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                          404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                          529: "overloaded_error"}


def error_body(protocol: str, status: int, message: str) -> dict[str, Any]:
    if protocol == ANTHROPIC:
        return {"type": "error", "error": {"type": _ANTHROPIC_ERROR_TYPES.get(status, "api_error"), "message": message}}
    return {"error": {"message": message, "type": _OPENAI_ERROR_TYPES.get(status, "server_error"),
                      "param": None, "code": None}}


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def http_response(status: int, body: bytes, *, keep_alive: bool, content_length: int | None = None,
                  extra_headers: Sequence[tuple[str, str]] = (), content_type: str = "application/json") -> bytes:
    """Status line, headers and body. `content_length` may announce more than `body` (a dropped response)."""
    headers = [("Content-Type", content_type),
               ("Content-Length", str(len(body) if content_length is None else content_length)),
               ("Connection", "keep-alive" if keep_alive else "close"), *extra_headers]
    head = f"HTTP/1.1 {status} {_reason(status)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def _json_bytes(value: Any) -> bytes:
    """JSON as UTF-8; a lone surrogate (legal JSON, not encodable as UTF-8) is sent as its \\u escape."""
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value).encode("ascii")


def api_protocol(path: str) -> str | None:
    """The protocol a path is served with, None for any other path (a base URL without /v1, or with
    /v1 twice, gets a 404 as from a real server)."""
    if path == "/v1/chat/completions" or (path.startswith("/openai/deployments/") and path.endswith("/chat/completions")):
        return OPENAI
    return ANTHROPIC if path == "/v1/messages" else None


# --- the server -----------------------------------------------------------------------------------

class _ClientGone(Exception):
    """The connection closed or sent something that is not HTTP/1.1; stop serving it."""


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, str, dict[str, str], bytes] | None:
    """(method, target, version, lower-cased headers, body) of the next request; None at a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None
        raise _ClientGone() from error
    except asyncio.LimitOverrunError as error:
        raise _ClientGone() from error
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3:
        raise _ClientGone()
    headers = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise _ClientGone()  # the SDKs send JSON bodies with a Content-Length
    try:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    except (ValueError, asyncio.IncompleteReadError) as error:
        raise _ClientGone() from error
    return parts[0], parts[1], parts[2], headers, body


class FakeAPIServer:
    """The fake API on 127.0.0.1, served from a background thread while used as a context manager.

    Observability (safe to read from any thread): `requests` (RequestRecords in arrival order),
    `outcomes` (Counter of OK and fault kinds), `max_in_flight`, `connections_opened`, `conversation_counts()`,
    `calls_with_conversation()`, `count_containing()`, `stats()`."""

    def __init__(self, responder: Responder = answer_responder, *,
                 latency: float | Callable[[ParsedRequest], float] = 0.0,
                 faults: FaultPlan = FaultPlan(), port: int = 0, embedder: Embedder | None = None) -> None:
        self.responder = responder
        self.embedder = embedder
        self.latency = latency
        self.faults = faults
        self.host = "127.0.0.1"
        self.port = port  # the real port once started
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._outcomes: Counter[str] = Counter()
        self._conversations: Counter[str] = Counter()
        self._received = 0
        self._connections_opened = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._startup_error: BaseException | None = None

    # --- addresses for the SDK clients ---
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """base_url for AsyncOpenAI; AsyncAzureOpenAI takes `url` as azure_endpoint, AsyncAnthropic as base_url."""
        return f"{self.url}/v1"

    # --- lifecycle ---
    def __enter__(self) -> FakeAPIServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve(ready)), name="fake-api-server",
                                        daemon=True)
        self._thread.start()
        ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise self._startup_error

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join()
        self._thread = None

    async def _serve(self, ready: threading.Event) -> None:
        try:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            listener = socket.create_server((self.host, self.port), backlog=2048)
            listener.setblocking(False)
            self.port = listener.getsockname()[1]
        except BaseException as error:  # handed to start(), which raises it in the caller's thread
            self._startup_error = error
            ready.set()
            return
        ready.set()
        # Our own accept loop (not asyncio.start_server): every accepted socket is known from the
        # moment it exists, so stopping closes each one, even if its task never got to start.
        connections: dict[asyncio.Task[None], socket.socket] = {}
        accepting = self._loop.create_task(self._accept(listener, connections))
        await self._stopping.wait()
        accepting.cancel()
        listener.close()
        still_open = list(connections.items())
        for task, _ in still_open:
            task.cancel()
        await asyncio.gather(accepting, *connections, return_exceptions=True)
        for _, connection in still_open:
            connection.close()

    async def _accept(self, listener: socket.socket, connections: dict[asyncio.Task[None], socket.socket]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            connection, _ = await loop.sock_accept(listener)
            task = loop.create_task(self._serve_connection(connection))
            connections[task] = connection
            task.add_done_callback(connections.pop)
            with self._lock:
                self._connections_opened += 1

    async def _serve_connection(self, connection: socket.socket) -> None:
        reader, writer = await asyncio.open_connection(sock=connection)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                method, target, version, headers, body = request
                keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                keep_alive = await self._answer(method, target, headers, body, keep_alive, reader, writer)
                if not keep_alive:
                    break
        except (_ClientGone, ConnectionError):
            pass
        finally:
            writer.close()

    # --- protocol hooks (a subclass adds protocols) ---
    def protocol_of(self, method: str, path: str) -> str | None:
        """The protocol of an API request, or None (404)."""
        if method == "POST" and self.embedder is not None and path.endswith("/embeddings"):
            return OPENAI
        return api_protocol(path) if method == "POST" else None

    def route(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Any] | None:
        """(status, JSON) for a request that is not an API call, or None."""
        if method == "GET" and path == "/_fake/stats":
            return 200, self.stats()
        if method == "GET" and path == "/_fake/requests":
            return 200, self.request_log()
        if method == "GET" and path == "/health":
            return 200, {}
        return None

    def parse(self, number: int, protocol: str, target: str, headers: Mapping[str, str],
              body: Mapping[str, Any]) -> ParsedRequest:
        path = urlsplit(target).path
        if self.embedder is not None and path.endswith("/embeddings"):
            return parse_embedding_request(number, path, headers, body)
        return parse_request(number, protocol, path, headers, body)

    def success_payload(self, request: ParsedRequest, reply: Reply) -> tuple[bytes, str]:
        """The body and content type of a good reply."""
        if request.path.endswith("/embeddings"):
            return _json_bytes(embedding_body(request, self.embedder)), "application/json"
        return _json_bytes(success_body(request, reply)), "application/json"

    def error_response(self, protocol: str, status: int, message: str, *, keep_alive: bool,
                       extra_headers: Sequence[tuple[str, str]] = ()) -> bytes:
        return http_response(status, _json_bytes(error_body(protocol, status, message)), keep_alive=keep_alive,
                             extra_headers=extra_headers)

    async def _answer(self, method: str, target: str, headers: dict[str, str], body: bytes, keep_alive: bool,
                      reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; returns whether the connection stays open."""
        path = urlsplit(target).path
        routed = self.route(method, path, headers, body)
        if routed is not None:
            return await self._send(writer, http_response(routed[0], _json_bytes(routed[1]), keep_alive=keep_alive),
                                    keep_alive)
        protocol = self.protocol_of(method, path)
        if protocol is None:
            message = (f"the fake API serves POST /v1/chat/completions, /openai/deployments/{{deployment}}/chat/completions "
                       f"and /v1/messages, not {method} {path}")
            return await self._send(writer, http_response(404, _json_bytes(error_body(OPENAI, 404, message)),
                                                          keep_alive=keep_alive), keep_alive)
        with self._lock:
            self._received += 1
            number = self._received
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            with self._lock:
                self._outcomes[BAD_REQUEST] += 1
            return await self._send(writer, self.error_response(protocol, 400, "the request body is not a JSON object",
                                                                keep_alive=keep_alive), keep_alive)
        request = self.parse(number, protocol, target, headers, payload)
        fault = self.fault_for(request)
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            if fault == STALL:
                self._log(request, STALL)
                await self._stall(reader)
                return False
            latency = self.latency(request) if callable(self.latency) else self.latency
            await asyncio.sleep(latency)
            response, outcome = self._response(request, fault, keep_alive, sent_api_key(headers))
            self._log(request, outcome, latency)
            return await self._send(writer, response, keep_alive and fault != DROP)
        finally:
            with self._lock:
                self._in_flight -= 1

    def fault_for(self, request: ParsedRequest) -> str | None:
        """The fault `request` meets (None: it is answered); FaultPlan's, unless a subclass knows better."""
        return self.faults.fault_for(request)

    def _response(self, request: ParsedRequest, fault: str | None, keep_alive: bool,
                  api_key: str) -> tuple[bytes, str]:
        """The bytes to send for `request` (`api_key`: the key it sent, quoted only by the echo faults)
        and the outcome to log."""
        if fault in ECHO_KEY_STATUS:
            status = ECHO_KEY_STATUS[fault]
            message = (f"Incorrect API key provided: {api_key}. You can find your API key at "
                       "https://platform.openai.com/account/api-keys.")
            return self.error_response(request.protocol, status, message, keep_alive=keep_alive), fault
        if fault is not None and (fault == RETRY_AFTER_429 or _is_status_fault(fault)):
            status = 429 if fault == RETRY_AFTER_429 else int(fault)
            extra = [("Retry-After", f"{self.faults.retry_after:g}")] if fault == RETRY_AFTER_429 else []
            message = f"fake fault {fault} on request {request.number}"
            return self.error_response(request.protocol, status, message, keep_alive=keep_alive,
                                       extra_headers=extra), fault
        if fault == HTML:
            page = b"<!doctype html><html><body><h1>Welcome</h1></body></html>"
            return http_response(200, page, keep_alive=keep_alive, content_type="text/html"), HTML
        try:
            reply = Reply("") if fault == EMPTY or request.path.endswith("/embeddings") else self.responder(request)
            good, content_type = self.success_payload(request, reply)
        except Exception as error:  # a bug in a test's responder or embedder: a 500 the test finds in `outcomes`
            return self.error_response(request.protocol, 500, f"responder failed: {error!r}",
                                       keep_alive=keep_alive), RESPONDER_ERROR
        if fault == DROP:
            return http_response(200, good[:len(good) // 2], keep_alive=False, content_length=len(good),
                                 content_type=content_type), DROP
        if fault == MALFORMED:
            return http_response(200, good[:len(good) // 2], keep_alive=keep_alive, content_type=content_type), MALFORMED
        return http_response(200, good, keep_alive=keep_alive, content_type=content_type), fault or OK

    async def _stall(self, reader: asyncio.StreamReader) -> None:
        """Wait until the client gives up (closes) or the stall ends, whichever is first."""
        try:
            await asyncio.wait_for(reader.read(1), timeout=self.faults.stall_seconds)
        except (ConnectionError, asyncio.TimeoutError):
            pass

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, response: bytes, keep_alive: bool) -> bool:
        writer.write(response)
        await writer.drain()
        return keep_alive

    def _log(self, request: ParsedRequest, outcome: str, latency: float = 0.0) -> None:
        with self._lock:
            self._records.append(RequestRecord(request, outcome, latency))
            self._outcomes[outcome] += 1
            self._conversations[request.conversation_key] += 1

    # --- observability ---
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    @property
    def outcomes(self) -> Counter[str]:
        with self._lock:
            return Counter(self._outcomes)

    @property
    def max_in_flight(self) -> int:
        with self._lock:
            return self._max_in_flight

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far; far fewer than requests when clients keep connections alive."""
        with self._lock:
            return self._connections_opened

    def conversation_counts(self) -> Counter[str]:
        """How many requests carried each conversation (by `conversation_key`), whatever their outcome."""
        with self._lock:
            return Counter(self._conversations)

    def calls_with_conversation(self, messages: Sequence[Mapping[str, Any]], system: str | None = None) -> int:
        """How many requests carried exactly this conversation, given as the client sent it
        (OpenAI-style system messages inside `messages`, or Anthropic-style `system`)."""
        system_text, parsed = split_conversation(messages, system)
        with self._lock:
            return self._conversations[conversation_key(parsed, system_text)]

    def count_containing(self, text: str) -> int:
        """How many requests had `text` in their system prompt or any message."""
        return sum(1 for record in self.requests
                   if text in (record.request.system or "") or any(text in m.content for m in record.request.messages))

    def request_log(self) -> list[dict[str, Any]]:
        """Each logged request in arrival order: number, model, outcome, latency and its first user message."""
        return [{"number": r.request.number, "model": r.request.model, "outcome": r.outcome, "latency": r.latency,
                 "first_user": (r.request.user_turns or ("",))[0]} for r in self.requests]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": self._received, "outcomes": dict(self._outcomes), "in_flight": self._in_flight,
                    "max_in_flight": self._max_in_flight, "connections_opened": self._connections_opened}


# --- subprocess mode --------------------------------------------------------------------------------

def _parse_mix(text: str) -> dict[str, float]:
    """"429,500" or "429_retry_after:2,500:1" -> {kind: weight}."""
    mix = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, _, weight = item.partition(":")
        mix[check_fault_kind(kind)] = float(weight or 1)
    return mix


def _parse_matching(text: str) -> tuple[str, str]:
    needle, sep, kind = text.rpartition("=")
    if not sep or not needle:
        raise ValueError(f"--fail-matching wants TEXT=KIND, not {text!r}")
    return needle, check_fault_kind(kind)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Serve the fake OpenAI/Anthropic API on 127.0.0.1; the first "
                                                 "stdout line is its base URL. Stop it with SIGTERM or SIGINT.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each reply")
    parser.add_argument("--latency-lognormal", type=float, nargs=3, metavar=("MEDIAN", "SIGMA", "CAP"),
                        help="instead of --latency: lognormal seconds, fixed per request (seeded by --seed)")
    parser.add_argument("--responder", choices=("answer", "judge", "judge-continue"), default="answer")
    parser.add_argument("--markers", nargs=4, metavar=("A_START", "A_END", "B_START", "B_END"),
                        help="judge by answer length, finding the answers between these markers")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--fault-mix", type=_parse_mix, default=None, help="KIND[:WEIGHT],... e.g. 429:1,500:1")
    parser.add_argument("--fail-first", type=int, default=0, metavar="N")
    parser.add_argument("--fail-matching", type=_parse_matching, action="append", default=[], metavar="TEXT=KIND")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--stall-seconds", type=float, default=3600.0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    markers = AnswerMarkers(*args.markers) if args.markers else None
    responder = answer_responder if args.responder == "answer" else JudgeResponder(
        markers, label_on_continue=args.responder == "judge-continue")
    plan_options: dict[str, Any] = {"mix": args.fault_mix} if args.fault_mix else {}
    faults = FaultPlan(rate=args.fault_rate, seed=args.seed, first_n=args.fail_first,
                       matching=tuple(args.fail_matching), retry_after=args.retry_after,
                       stall_seconds=args.stall_seconds, **plan_options)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    latency = LognormalLatency(*args.latency_lognormal, seed=args.seed) if args.latency_lognormal else args.latency
    with FakeAPIServer(responder, latency=latency, faults=faults, port=args.port) as server:
        print(server.url, flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
