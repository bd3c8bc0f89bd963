"""The loopback fake API (tests/fake_api_server.py) speaking three more protocols, for the providers
without an OpenAI-compatible API, with the same responders, faults and request log:
  POST .../chat_stream_completions?access_token=K                           Meta: newline-delimited JSON chunks
  POST /v1/projects/{p}/locations/{r}/publishers/google/models/{m}:generateContent   Vertex AI (Bearer token)
  POST /token                                                               the OAuth token endpoint google-auth
                                                                            refreshes credentials at (test-made ADC)
  POST /model/{modelId}/converse                                            Bedrock's Converse API (SigV4-signed)
Cohere needs nothing more: its OpenAI-compatible API is POST /compatibility/v1/chat/completions.

Errors are each API's own: Vertex's {"error": {code, message, status}}, Bedrock's x-amzn-ErrorType
header (ThrottlingException for 429, ValidationException for 400, ...) that botocore reads. Besides
the log, `bodies` keeps each request's JSON body by number (to compare with upstream's), `bearers` the
Bearer tokens Vertex requests carried, `tokens_issued` the tokens /token gave out (a Vertex request
carrying one of `revoked` is answered 401, as for a token revoked before it expires), and `aws_scopes` the
SigV4 credential scopes (key id, region, service) of Bedrock requests. A Reply's `stop` is Vertex's
finishReason (default STOP) or Bedrock's stopReason (default end_turn). Reads and writes no files."""
from __future__ import annotations

import json
import re
import threading
from typing import Any, Mapping, Sequence
from urllib.parse import parse_qs, unquote, urlsplit

from fake_api_server import OPENAI, FakeAPIServer, Message, ParsedRequest, Reply, http_response, word_count

META, VERTEX, BEDROCK = "meta", "vertex", "bedrock"
_VERTEX_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/google/"
                          r"models/(?P<model>[^/:]+):generateContent$")
_BEDROCK_PATH = re.compile(r"^/model/(?P<model>[^/]+)/converse$")
_SIGV4_SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
_VERTEX_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
_BEDROCK_ERRORS = {400: "ValidationException", 401: "UnrecognizedClientException", 403: "AccessDeniedException",
                   404: "ResourceNotFoundException", 408: "ModelTimeoutException", 429: "ThrottlingException",
                   500: "InternalServerException", 503: "ServiceUnavailableException"}


def _texts(parts: Any) -> str:
    return "".join(part.get("text", "") for part in parts or [] if isinstance(part, dict))


def _without(body: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in keys}


class FakeCloudServer(FakeAPIServer):
    """FakeAPIServer with Meta's, Vertex AI's and Bedrock's protocols besides OpenAI's and Anthropic's."""

    def __init__(self, *args: Any, token_lifetime: int = 3600, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token_lifetime = token_lifetime  # seconds, in /token's expires_in
        self._cloud_lock = threading.Lock()
        self.bodies: dict[int, dict[str, Any]] = {}
        self.bearers: list[str] = []
        self.tokens_issued: list[str] = []
        self.revoked: set[str] = set()  # tokens Vertex requests are answered 401 for (revoked before they expire)
        self._bearer_of: dict[int, str] = {}
        self.aws_scopes: list[tuple[str, str, str]] = []

    def protocol_of(self, method: str, path: str) -> str | None:
        if method == "POST" and path.endswith("/chat_stream_completions"):
            return META
        if method == "POST" and _VERTEX_PATH.match(path):
            return VERTEX
        if method == "POST" and _BEDROCK_PATH.match(path):
            return BEDROCK
        if method == "POST" and path.endswith("/compatibility/v1/chat/completions"):  # Cohere's, under any prefix
            return OPENAI
        return super().protocol_of(method, path)

    def route(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Any] | None:
        if method == "POST" and path == "/token":
            with self._cloud_lock:
                token = f"fake-access-token-{len(self.tokens_issued) + 1}"
                self.tokens_issued.append(token)
            return 200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        return super().route(method, path, headers, body)

    def parse(self, number: int, protocol: str, target: str, headers: Mapping[str, str],
              body: Mapping[str, Any]) -> ParsedRequest:
        with self._cloud_lock:
            self.bodies[number] = dict(body)
        url = urlsplit(target)
        if protocol == META:
            options = body.get("options") or {}
            system = [m.get("text", "") for m in body.get("messages") or [] if m.get("role") == "system"]
            messages = tuple(Message(m.get("role", ""), m.get("text", "")) for m in body.get("messages") or []
                             if m.get("role") != "system")
            return ParsedRequest(number, META, url.path, str(body.get("model", "")), "\n\n".join(system) or None,
                                 messages, options.get("temperature"), options.get("max_tokens"),
                                 _without(body, "model", "messages"), "access_token" in parse_qs(url.query))
        if protocol == VERTEX:
            match = _VERTEX_PATH.match(url.path)
            bearer = headers.get("authorization", "")
            with self._cloud_lock:
                self.bearers.append(bearer.removeprefix("Bearer "))
                self._bearer_of[number] = bearer.removeprefix("Bearer ")
            config = body.get("generationConfig") or {}
            roles = {"model": "assistant"}
            messages = tuple(Message(roles.get(c.get("role"), c.get("role", "")), _texts(c.get("parts")))
                             for c in body.get("contents") or [])
            system = _texts((body.get("systemInstruction") or {}).get("parts")) or None
            params = {**_without(body, "contents"), "project": match["project"], "location": match["location"]}
            return ParsedRequest(number, VERTEX, url.path, match["model"], system, messages, config.get("temperature"),
                                 config.get("maxOutputTokens"), params, bearer.startswith("Bearer "))
        if protocol == BEDROCK:
            scope = _SIGV4_SCOPE.search(headers.get("authorization", ""))
            if scope:
                with self._cloud_lock:
                    self.aws_scopes.append(scope.groups())
            config = body.get("inferenceConfig") or {}
            messages = tuple(Message(m.get("role", ""), _texts(m.get("content"))) for m in body.get("messages") or [])
            return ParsedRequest(number, BEDROCK, url.path, unquote(_BEDROCK_PATH.match(url.path)["model"]),
                                 _texts(body.get("system")) or None, messages, config.get("temperature"),
                                 config.get("maxTokens"), _without(body, "messages", "system"),
                                 headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 ") and
                                 "x-amz-date" in headers)
        return super().parse(number, protocol, target, headers, body)

    def fault_for(self, request: ParsedRequest) -> str | None:
        if request.protocol == VERTEX and self._bearer_of.get(request.number) in self.revoked:
            return "401"
        return super().fault_for(request)

    def success_payload(self, request: ParsedRequest, reply: Reply) -> tuple[bytes, str]:
        prompt = word_count(request.system, *(m.content for m in request.messages))
        completion = word_count(reply.text, reply.reasoning)
        if request.protocol == META:  # the text in three chunks, one JSON object per line
            third = max(1, len(reply.text) // 3)
            chunks = [reply.text[i:i + third] for i in range(0, len(reply.text), third)] or [""]
            return "".join(json.dumps({"text": chunk}) + "\n" for chunk in chunks).encode(), "application/x-ndjson"
        if request.protocol == VERTEX:
            parts = ([{"text": reply.reasoning, "thought": True}] if reply.reasoning else []) + [{"text": reply.text}]
            usage = {"promptTokenCount": prompt, "candidatesTokenCount": word_count(reply.text),
                     "thoughtsTokenCount": word_count(reply.reasoning), "totalTokenCount": prompt + completion}
            candidate = {"content": {"role": "model", "parts": parts}, "finishReason": reply.stop or "STOP"}
            body = {"candidates": [candidate], "usageMetadata": usage, "modelVersion": request.model}
            return json.dumps(body).encode(), "application/json"
        if request.protocol == BEDROCK:
            content = ([{"reasoningContent": {"reasoningText": {"text": reply.reasoning, "signature": "fake"}}}]
                       if reply.reasoning else []) + [{"text": reply.text}]
            body = {"output": {"message": {"role": "assistant", "content": content}},
                    "stopReason": reply.stop or "end_turn",
                    "usage": {"inputTokens": prompt, "outputTokens": completion, "totalTokens": prompt + completion},
                    "metrics": {"latencyMs": 1}}
            return json.dumps(body).encode(), "application/json"
        return super().success_payload(request, reply)

    def error_response(self, protocol: str, status: int, message: str, *, keep_alive: bool,
                       extra_headers: Sequence[tuple[str, str]] = ()) -> bytes:
        if protocol == VERTEX:
            body = {"error": {"code": status, "message": message, "status": _VERTEX_STATUS.get(status, "UNKNOWN")}}
        elif protocol == BEDROCK:
            kind = _BEDROCK_ERRORS.get(status, "ServiceUnavailableException")
            body, extra_headers = {"message": message}, [("x-amzn-ErrorType", f"{kind}:http://internal.amazon.com/"),
                                                         *extra_headers]
        elif protocol == META:
            body = {"error": {"message": message, "code": status}}
        else:
            return super().error_response(protocol, status, message, keep_alive=keep_alive, extra_headers=extra_headers)
        return http_response(status, json.dumps(body).encode(), keep_alive=keep_alive, extra_headers=extra_headers)
