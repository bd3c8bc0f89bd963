"""A loopback fake of the OpenAI files + batches API (also at Azure's /openai/ paths) and of
Anthropic's message batches API, for tests and benchmarks of batch mode through the real SDK clients.

  POST /v1/files  GET /v1/files/{id}/content                        OpenAI files (multipart upload)
  POST /v1/batches  GET /v1/batches  GET /v1/batches/{id}  POST /v1/batches/{id}/cancel
  /openai/files..., /openai/batches...                              the same, as Azure OpenAI names them
  POST /v1/messages/batches  GET /v1/messages/batches/{id}  POST .../{id}/cancel  GET .../{id}/results

Time is the number of status polls, never the clock: a batch's status moves one step along `steps`
(validating, in_progress, finalizing, completed for OpenAI; in_progress..., ended for Anthropic) on
each retrieve, unless `hold` is set (then it stays in_progress). When it finishes, each request is
answered by a responder of tests/fake_api_server.py, unless its conversation contains a text of
`faults`: "400" (an error line), "expired" (an expired request), "malformed" (an output line that is
not JSON), "missing" (no line at all). `expire_batches` (1-based creation numbers) end as expired
with half their requests done; `fail_batches` fail validation (OpenAI). A cancelled batch ends on
the `cancel_polls`-th poll after the cancel. Faults of the API itself: the next `fail_polls` status
polls answer 500; `forget(batch)` makes every call about a batch answer 404 (a provider-side cleanup);
leaving the `with` block closes the port (connections are refused) and entering it again serves the
same batches on the same port. Observability: `calls` (method, path in arrival order), `batches`
(each created batch's custom ids), `submitted_ids()`. Reads and writes no files."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

from fake_api_server import ANTHROPIC, OPENAI, Reply, answer_responder, error_body, parse_request, success_body

OPENAI_STEPS = ("validating", "in_progress", "finalizing", "completed")
ANTHROPIC_STEPS = ("in_progress", "in_progress", "in_progress", "ended")


@dataclass
class FakeBatch:
    number: int
    id: str
    protocol: str
    lines: list[dict[str, Any]]  # the input lines
    endpoint: str = ""
    input_file_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    polls: int = 0
    cancelled: bool = False
    polls_since_cancel: int = 0
    status: str = ""
    output: bytes = b""
    errors: bytes = b""
    kinds: dict[str, int] = field(default_factory=dict)  # Anthropic's request counts once ended

    @property
    def custom_ids(self) -> list[str]:
        return [line["custom_id"] for line in self.lines]


class FakeBatchServer:
    def __init__(self, responder: Callable[[Any], Reply] = answer_responder, *,
                 faults: tuple[tuple[str, str], ...] = (), expire_batches: tuple[int, ...] = (),
                 fail_batches: tuple[int, ...] = ()):
        self.responder = responder
        self.faults = faults
        self.expire_batches = set(expire_batches)
        self.fail_batches = set(fail_batches)
        self.hold = False
        self.fail_polls = 0
        self.cancel_polls = 1
        self.forgotten: set[str] = set()
        self.polled = threading.Event()  # set by every status poll, for tests that act while a run polls
        self.calls: list[tuple[str, str]] = []
        self.versions: list[str | None] = []  # each call's anthropic-version header
        self.batches: list[FakeBatch] = []
        self.files: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self.answered = 0

    # --- lifecycle and addresses ---
    def __enter__(self) -> "FakeBatchServer":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", self._port), handler)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openai_base_url(self) -> str:
        """base_url for AsyncOpenAI; AsyncAzureOpenAI and AsyncAnthropic take `url`."""
        return f"{self.url}/v1"

    def submitted_ids(self) -> list[str]:
        return [custom_id for batch in self.batches for custom_id in batch.custom_ids]

    def forget(self, batch: FakeBatch) -> None:
        self.forgotten.add(batch.id)

    def count(self, method: str, path_part: str) -> int:
        return sum(1 for m, p in self.calls if m == method and path_part in p)

    # --- the API ---
    def handle(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, bytes, str]:
        with self._lock:
            self.calls.append((method, path))
            self.versions.append(headers.get("anthropic-version"))
            path = urlsplit(path).path
            if path.startswith("/openai/"):
                path = "/v1/" + path[len("/openai/"):]
            parts = path.strip("/").split("/")
            if parts[:3] == ["v1", "messages", "batches"]:
                return self._anthropic(method, parts[3:], body)
            if parts[:2] == ["v1", "files"]:
                return self._files(method, parts[2:], headers, body)
            if parts[:2] == ["v1", "batches"]:
                return self._openai(method, parts[2:], body)
            return 404, json.dumps(error_body(OPENAI, 404, f"no route {path}")).encode(), "application/json"

    def _files(self, method: str, rest: list[str], headers: Any, body: bytes) -> tuple[int, bytes, str]:
        if method == "POST" and not rest:
            content = _multipart_file(headers.get("content-type", ""), body)
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = content
            return _json({"id": file_id, "object": "file", "bytes": len(content), "created_at": 0,
                          "filename": "requests.jsonl", "purpose": "batch", "status": "processed"})
        if method == "GET" and len(rest) == 2 and rest[1] == "content" and rest[0] in self.files:
            return 200, self.files[rest[0]], "application/octet-stream"
        return 404, json.dumps(error_body(OPENAI, 404, "no such file")).encode(), "application/json"

    def _new_batch(self, protocol: str, lines: list[dict[str, Any]]) -> FakeBatch:
        number = len(self.batches) + 1
        prefix = "batch_" if protocol == OPENAI else "msgbatch_"
        batch = FakeBatch(number, f"{prefix}{number:04d}", protocol, lines)
        self.batches.append(batch)
        return batch

    def _find(self, batch_id: str) -> FakeBatch | None:
        return next((b for b in self.batches if b.id == batch_id and b.id not in self.forgotten), None)

    def _poll_fails(self) -> bool:
        self.polled.set()
        if self.fail_polls > 0:
            self.fail_polls -= 1
            return True
        return False

    def _openai(self, method: str, rest: list[str], body: bytes) -> tuple[int, bytes, str]:
        if method == "POST" and not rest:
            params = json.loads(body)
            lines = [json.loads(line) for line in self.files[params["input_file_id"]].splitlines() if line.strip()]
            batch = self._new_batch(OPENAI, lines)
            batch.endpoint, batch.input_file_id = params["endpoint"], params["input_file_id"]
            batch.metadata = params.get("metadata") or {}
            batch.status = OPENAI_STEPS[0]
            return _json(self._openai_object(batch))
        if method == "GET" and not rest:
            return _json({"object": "list", "data": [self._openai_object(b) for b in reversed(self.batches)
                                                     if b.protocol == OPENAI], "has_more": False})
        batch = self._find(rest[0]) if rest else None
        if batch is None:
            return 404, json.dumps(error_body(OPENAI, 404, "no such batch")).encode(), "application/json"
        if method == "GET" and len(rest) == 1 and self._poll_fails():
            return 500, json.dumps(error_body(OPENAI, 500, "fake: status unavailable")).encode(), "application/json"
        if method == "POST" and rest[1:] == ["cancel"]:
            batch.cancelled = True
            batch.status = "cancelling"
        elif method == "GET" and len(rest) == 1:
            self._advance(batch)
        return _json(self._openai_object(batch))

    def _anthropic(self, method: str, rest: list[str], body: bytes) -> tuple[int, bytes, str]:
        if method == "POST" and not rest:
            batch = self._new_batch(ANTHROPIC, json.loads(body)["requests"])
            batch.status = ANTHROPIC_STEPS[0]
            return _json(self._anthropic_object(batch))
        batch = self._find(rest[0]) if rest else None
        if batch is None:
            return 404, json.dumps(error_body(ANTHROPIC, 404, "no such batch")).encode(), "application/json"
        if method == "GET" and len(rest) == 1 and self._poll_fails():
            return 500, json.dumps(error_body(ANTHROPIC, 500, "fake: status unavailable")).encode(), "application/json"
        if method == "POST" and rest[1:] == ["cancel"]:
            batch.cancelled = True
            batch.status = "canceling"
        elif method == "GET" and rest[1:] == ["results"]:
            return 200, batch.output, "application/binary"
        elif method == "GET" and len(rest) == 1:
            self._advance(batch)
        return _json(self._anthropic_object(batch))

    # --- time, by polls ---
    def _advance(self, batch: FakeBatch) -> None:
        if batch.status in ("completed", "failed", "expired", "cancelled", "ended"):
            return
        steps = OPENAI_STEPS if batch.protocol == OPENAI else ANTHROPIC_STEPS
        if batch.cancelled:
            batch.polls_since_cancel += 1
            if batch.polls_since_cancel >= self.cancel_polls:
                self._finish(batch, len(batch.lines) // 2, "cancelled" if batch.protocol == OPENAI else "ended")
            return
        if batch.number in self.fail_batches and batch.protocol == OPENAI:
            batch.status = "failed"
            return
        if self.hold:
            batch.status = "in_progress"
            return
        batch.polls += 1
        if batch.polls < len(steps) - 1:
            batch.status = steps[batch.polls]
        elif batch.number in self.expire_batches:
            self._finish(batch, len(batch.lines) // 2, "expired" if batch.protocol == OPENAI else "ended")
        else:
            self._finish(batch, len(batch.lines), steps[-1])

    def _finish(self, batch: FakeBatch, run: int, status: str) -> None:
        """Answer the first `run` requests; the rest expired (or were cancelled)."""
        ended = "batch_cancelled" if batch.cancelled else "batch_expired"
        output, errors = [], []
        for index, line in enumerate(batch.lines):
            fault = next((kind for text, kind in self.faults if text in json.dumps(line)), None)
            if index >= run:
                fault = "cancelled" if batch.cancelled else "expired"
            if fault == "missing":
                continue
            if batch.protocol == OPENAI:
                target, text = self._openai_line(line, fault, ended)
                (errors if target == "errors" else output).append(text)
            else:
                output.append(self._anthropic_line(line, fault))
                kind = {"expired": "expired", "cancelled": "canceled", None: "succeeded"}.get(fault, "errored")
                batch.kinds[kind] = batch.kinds.get(kind, 0) + 1
        batch.output = "".join(output).encode()
        batch.errors = "".join(errors).encode()
        batch.status = status

    def _reply(self, protocol: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        self.answered += 1
        request = parse_request(self.answered, protocol, path, {}, params)
        return success_body(request, self.responder(request))

    def _openai_line(self, line: dict[str, Any], fault: str | None, ended: str) -> tuple[str, str]:
        custom_id = line["custom_id"]
        if fault in ("expired", "cancelled"):
            return "errors", json.dumps({"id": f"req-{custom_id}", "custom_id": custom_id, "response": None,
                                         "error": {"code": ended, "message": f"request not run ({ended})"}}) + "\n"
        if fault == "400":
            return "errors", json.dumps({"id": f"req-{custom_id}", "custom_id": custom_id, "error": None, "response": {
                "status_code": 400, "body": error_body(OPENAI, 400, "fake: invalid request")}}) + "\n"
        if fault == "malformed":
            return "output", f'{{"id": "req-{custom_id}", "custom_id": "{custom_id}", "response": {{"status_co\n'
        body = self._reply(OPENAI, line["url"], line["body"])
        return "output", json.dumps({"id": f"req-{custom_id}", "custom_id": custom_id, "error": None,
                                     "response": {"status_code": 200, "request_id": "r", "body": body}}) + "\n"

    def _anthropic_line(self, line: dict[str, Any], fault: str | None) -> str:
        custom_id = line["custom_id"]
        if fault in ("expired", "cancelled"):
            result: dict[str, Any] = {"type": "canceled" if fault == "cancelled" else "expired"}
        elif fault == "400":
            result = {"type": "errored", "error": error_body(ANTHROPIC, 400, "fake: invalid request")}
        elif fault == "malformed":
            return f'{{"custom_id": "{custom_id}", "result": {{"type": "succ\n'
        else:
            result = {"type": "succeeded", "message": self._reply(ANTHROPIC, "/v1/messages", line["params"])}
        return json.dumps({"custom_id": custom_id, "result": result}) + "\n"

    # --- wire objects ---
    def _openai_object(self, batch: FakeBatch) -> dict[str, Any]:
        total = len(batch.lines)
        finished = batch.status in ("completed", "expired", "cancelled")
        failed = batch.errors.count(b"\n") if finished else 0
        errors = None
        if batch.status == "failed":
            errors = {"object": "list", "data": [{"code": "invalid_request", "message": "fake: the input file is "
                                                  "not valid", "param": None, "line": 1}]}
        return {"id": batch.id, "object": "batch", "endpoint": batch.endpoint, "errors": errors,
                "input_file_id": batch.input_file_id, "completion_window": "24h", "status": batch.status,
                "output_file_id": self._store(batch, "output") if finished else None,
                "error_file_id": self._store(batch, "errors") if finished and batch.errors else None,
                "created_at": 0, "metadata": batch.metadata,
                "request_counts": {"total": total, "completed": (total - failed) if finished else
                                   total * max(0, batch.polls - 1) // len(OPENAI_STEPS), "failed": failed}}

    def _store(self, batch: FakeBatch, which: str) -> str:
        file_id = f"file-{batch.id}-{which}"
        self.files[file_id] = batch.output if which == "output" else batch.errors
        return file_id

    def _anthropic_object(self, batch: FakeBatch) -> dict[str, Any]:
        ended = batch.status == "ended"
        kinds = {kind: batch.kinds.get(kind, 0) for kind in ("succeeded", "errored", "canceled", "expired")}
        return {"id": batch.id, "type": "message_batch", "processing_status": batch.status,
                "request_counts": {"processing": 0 if ended else len(batch.lines), **kinds},
                "created_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-02T00:00:00Z", "ended_at": None,
                "archived_at": None, "cancel_initiated_at": None,
                "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results" if ended else None}


def _json(value: Any) -> tuple[int, bytes, str]:
    return 200, json.dumps(value).encode(), "application/json"


def _multipart_file(content_type: str, body: bytes) -> bytes:
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, _, content = part.partition(b"\r\n\r\n")
        if b'name="file"' in head:
            return content[:-2] if content.endswith(b"\r\n") else content
    raise ValueError("no file in the upload")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-response (at the end of a run) is not the fake's error


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBatchServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, content_type = self.fake.handle(self.command, self.path, self.headers, body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _serve

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    """Serve until SIGTERM or SIGINT, the base URL as the first line of stdout (for benchmarks)."""
    import signal
    import sys

    with FakeBatchServer() as server:
        print(server.url, flush=True)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
