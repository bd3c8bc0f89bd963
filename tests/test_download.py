"""download_data.py against a loopback server that plays GitHub's raw files (serving upstream's files
from ../shared/upstream-efc012e) and the Hugging Face Hub as huggingface_hub calls it (revision,
paginated tree listing, HEAD and GET of resolve, LFS files redirected to a CDN on another origin),
with faults injected per path: 404, altered bytes, a connection cut mid-file, a 503, a stalled
response. The script runs as users run it: a subprocess in a fresh directory."""
from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest

from arena_hard.core.config import load_judge_settings
from arena_hard.core.errors import UserError
from arena_hard.download.file_sync import GIT_SHA1, SHA256, Checksum
from arena_hard.download.hub_selection import ListedFile, Selection, select_pregenerated
from arena_hard.download.official_kit import UPSTREAM_COMMIT
from conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "download_data.py"
RAW_PREFIX = f"/lm-sys/arena-hard-auto/{UPSTREAM_COMMIT}/"
QUESTION = "data/arena-hard-v0.1/question.jsonl"
BASELINE = "data/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl"
JUDGE_CONFIG = "config/judge_config.yaml"
KIT_DESTINATIONS = {QUESTION: QUESTION, BASELINE: BASELINE, JUDGE_CONFIG: "config/official/judge_config.yaml"}
HUB_REPO = "lmarena-ai/arena-hard-auto"
HUB_COMMIT = "0123456789abcdef0123456789abcdef01234567"
HUB_PAGE_SIZE = 3


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _jsonl(records: list[dict]) -> bytes:
    return b"".join(json.dumps(record).encode() + b"\n" for record in records)


def fake_hub_files() -> tuple[dict[str, bytes], set[str]]:
    """A small dataset in the current upstream format; model answers are LFS files, the rest not."""
    uids = ["q1", "q2"]
    files = {"data/arena-hard-v0.1/question.jsonl": _jsonl(
        [{"uid": uid, "category": "arena-hard-v0.1", "cluster": "c", "prompt": f"question {uid}"} for uid in uids])}
    for model in ("gpt-4-0314", "model-a", "model-b"):
        files[f"data/arena-hard-v0.1/model_answer/{model}.jsonl"] = _jsonl(
            [{"uid": uid, "model": model, "messages": [{"role": "user", "content": f"question {uid}"},
                                                       {"role": "assistant", "content": {"answer": f"{model} says"}}],
              "metadata": {"token_len": 3}} for uid in uids])
    for judge, models in (("gpt-4-1106-preview", ("model-a", "model-b")), ("other-judge", ("model-a",))):
        for model in models:
            files[f"data/arena-hard-v0.1/model_judgment/{judge}/{model}.jsonl"] = _jsonl(
                [{"uid": uid, "model": model, "judge": judge,
                  "games": [{"score": "A>B", "judgment": {"answer": "[[A>B]]"}},
                            {"score": "B>A", "judgment": {"answer": "[[B>A]]"}}]} for uid in uids])
    files["data/arena-hard-v2.0/question.jsonl"] = _jsonl([{"uid": "v2", "prompt": "other bench"}])
    lfs = {path for path in files if "/model_answer/" in path}
    return files, lfs


class FakeServer(http.server.ThreadingHTTPServer):
    def __init__(self, upstream_dir: Path):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.raw_roots = {RAW_PREFIX: upstream_dir}  # raw-file path prefix -> the folder serving it
        self.hub_files, self.hub_lfs = fake_hub_files()
        # request path -> "404" | "corrupt" | "cut" | "cut-once" | "503-once" | "stall"
        self.faults: dict[str, str] = {}
        self.requests: list[str] = []
        self.failed_once: set[str] = set()
        self.release = threading.Event()
        self.cdn = _CdnServer(self)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def file_requests(self) -> list[str]:
        return [path for path in self.requests if not path.startswith("/api/")]

    def tree(self, folder: str) -> list[dict]:
        entries, folders = [], set()
        for path in sorted(self.hub_files):
            if not path.startswith(folder + "/"):
                continue
            parent = path.rsplit("/", 1)[0]
            while parent != folder and parent not in folders:
                folders.add(parent)
                entries.append({"type": "directory", "oid": git_blob_sha1(parent.encode()), "size": 0, "path": parent})
                parent = parent.rsplit("/", 1)[0]
            data = self.hub_files[path]
            entry = {"type": "file", "oid": git_blob_sha1(data), "size": len(data), "path": path}
            if path in self.hub_lfs:
                pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256(data)}\nsize {len(data)}\n"
                entry.update(oid=git_blob_sha1(pointer.encode()), size=len(data),
                             lfs={"oid": sha256(data), "size": len(data), "pointerSize": len(pointer)})
            entries.append(entry)
        return entries


class _CdnServer(http.server.ThreadingHTTPServer):
    """Another origin, as the Hub's CDN is another host: serves /cdn/<path> with the main fake's files,
    faults and request log."""

    def __init__(self, hub: FakeServer):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hub = hub

    def __getattr__(self, name: str):
        return getattr(self.hub, name)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeServer
    head = False

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        fault = self.server.faults.get(self._path)
        if status == 200 and fault == "corrupt":
            body = body[:-2] + b"!\n"
        cut = status == 200 and (fault == "cut" or (fault == "cut-once" and self._first_failure()))
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.head:
            return
        if cut:  # promise the whole body, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(body)

    def _first_failure(self) -> bool:
        if self._path in self.server.failed_once:
            return False
        self.server.failed_once.add(self._path)
        return True

    def do_HEAD(self) -> None:
        self.head = True
        self.do_GET()

    def do_GET(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        self._path = path = urllib.parse.unquote(split.path)
        query = urllib.parse.parse_qs(split.query)
        server = self.server
        server.requests.append(path)
        fault = server.faults.get(path)
        if fault == "404":
            return self._send(404, b"Not Found")
        if fault == "503-once" and self._first_failure():
            return self._send(503, b"busy", {"Retry-After": "0"})
        if fault == "stall":
            server.release.wait(30)
            return None
        hub_api = f"/api/datasets/{HUB_REPO}/"
        resolve = f"/datasets/{HUB_REPO}/resolve/{HUB_COMMIT}/"
        for prefix, root in server.raw_roots.items():
            if path.startswith(prefix):
                local = root / path[len(prefix):]
                return self._send(200, local.read_bytes()) if local.is_file() else self._send(404, b"Not Found")
        if path == hub_api + "revision/main":
            return self._send(200, json.dumps({"id": HUB_REPO, "sha": HUB_COMMIT}).encode())
        if path.startswith(hub_api + f"tree/{HUB_COMMIT}/") and query.get("recursive") == ["true"]:
            entries = server.tree(path[len(hub_api + f"tree/{HUB_COMMIT}/"):])
            if not entries:
                return self._send(404, b'{"error": "not found"}')
            cursor = int(query.get("cursor", ["0"])[0])
            headers = {}
            if cursor + HUB_PAGE_SIZE < len(entries):
                next_page = f"{server.url}{split.path}?recursive=true&cursor={cursor + HUB_PAGE_SIZE}"
                headers["Link"] = f'<{next_page}>; rel="next"'
            return self._send(200, json.dumps(entries[cursor: cursor + HUB_PAGE_SIZE]).encode(), headers)
        if path.startswith(resolve) and path[len(resolve):] in server.hub_files:
            repo_path = path[len(resolve):]
            data = server.hub_files[repo_path]
            if repo_path in server.hub_lfs:  # like the Hub: LFS files redirect to a CDN, on another origin
                cdn = f"http://127.0.0.1:{server.cdn.server_address[1]}"
                return self._send(302, b"", {"Location": f"{cdn}/cdn/{repo_path}", "X-Repo-Commit": HUB_COMMIT,
                                             "X-Linked-Etag": f'"{sha256(data)}"', "X-Linked-Size": str(len(data))})
            return self._send(200, data, {"X-Repo-Commit": HUB_COMMIT, "ETag": f'"{git_blob_sha1(data)}"'})
        if path.startswith("/cdn/") and path[len("/cdn/"):] in server.hub_lfs:
            return self._send(200, server.hub_files[path[len("/cdn/"):]])
        return self._send(404, b"Not Found")


@pytest.fixture
def server(upstream_dir):
    fake = FakeServer(upstream_dir)
    threads = [threading.Thread(target=origin.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
               for origin in (fake, fake.cdn)]
    for thread in threads:
        thread.start()
    yield fake
    fake.release.set()
    for origin in (fake, fake.cdn):
        origin.shutdown()
        origin.server_close()
    for thread in threads:
        thread.join()


def run_script(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("ARENA_HARD_BASE_URL", "HF_ENDPOINT", "HF_TOKEN")}
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=60, check=False)


def file_lines(result: subprocess.CompletedProcess) -> dict[str, str]:
    """Destination -> status of the per-file lines."""
    lines = {}
    for line in result.stdout.splitlines():
        for status in ("downloaded", "verified, skipped", "failed", "would download"):
            if line.startswith(status + " "):
                lines[line[len(status):].split()[0].rstrip(":")] = status
    return lines


def temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.endswith(".tmp")]


# ------------------------------------------------------------------------------ the official kit

def test_full_download_verifies_then_second_run_fetches_nothing(server, upstream_dir, tmp_path):
    first = run_script(tmp_path, "--base-url", server.url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert file_lines(first) == {destination: "downloaded" for destination in KIT_DESTINATIONS.values()}
    for upstream_path, destination in KIT_DESTINATIONS.items():
        assert (tmp_path / destination).read_bytes() == (upstream_dir / upstream_path).read_bytes()
    assert {d: sha256((tmp_path / d).read_bytes()) for d in KIT_DESTINATIONS.values()} == {
        QUESTION: "4daad38811161c3ba5c248f26b90c3cef89634f4c772002ed9138c1e13f63e9f",
        BASELINE: "245109b8fe7c3bef0304f1c559d29da377f97f61535ad1170b46a61a08eb9ac7",
        "config/official/judge_config.yaml": "6e001736bacacdb1591ffca7eec953a7089f8f5604872d1ca4f9a6f9de1ee451"}
    assert not (tmp_path / "config/judge_config.yaml").exists()  # the repository's own default stays its own
    assert "3 files: 3 downloaded" in first.stdout
    assert temp_files(tmp_path) == []

    server.requests.clear()
    second = run_script(tmp_path, env={"ARENA_HARD_BASE_URL": server.url})  # the base URL from the environment
    assert second.returncode == 0, second.stdout + second.stderr
    assert file_lines(second) == {destination: "verified, skipped" for destination in KIT_DESTINATIONS.values()}
    assert server.requests == []


def test_the_default_judge_config_reads_the_official_wording_once_downloaded(server, upstream_dir, tmp_path):
    config = tmp_path / "config" / "judge_config.yaml"
    config.parent.mkdir()
    shutil.copy(REPO_ROOT / "config" / "judge_config.yaml", config)
    with pytest.raises(UserError, match="download_data.py"):
        load_judge_settings(config)
    assert run_script(tmp_path, "--base-url", server.url).returncode == 0
    official = load_judge_settings(upstream_dir / JUDGE_CONFIG)
    settings = load_judge_settings(config)
    assert (settings.system_prompt, settings.prompt_template) == (official.system_prompt, official.prompt_template)


def test_wrong_checksum_leaves_no_file_and_exits_1(server, tmp_path):
    server.faults[RAW_PREFIX + QUESTION] = "corrupt"
    result = run_script(tmp_path, "--base-url", server.url)
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and QUESTION in failed[0] and "sha256 mismatch: expected 4daad388" in failed[0]
    assert not (tmp_path / QUESTION).exists()
    assert (tmp_path / BASELINE).exists() and (tmp_path / "config/official/judge_config.yaml").exists()
    assert temp_files(tmp_path) == []
    assert server.requests.count(RAW_PREFIX + QUESTION) == 1  # a wrong checksum is not retried


def test_404_is_one_line_naming_the_url_and_exits_2(server, tmp_path):
    server.faults[RAW_PREFIX + JUDGE_CONFIG] = "404"
    result = run_script(tmp_path, "--base-url", server.url)
    assert result.returncode == 2
    lines_404 = [line for line in (result.stdout + result.stderr).splitlines() if "HTTP 404" in line]
    assert len(lines_404) == 1
    assert lines_404[0].startswith("failed") and f"{server.url}{RAW_PREFIX}{JUDGE_CONFIG}" in lines_404[0]
    assert "a 404 means --base-url" in result.stdout.splitlines()[-1]  # the summary says which flag to check
    assert "Traceback" not in result.stderr
    assert server.requests.count(RAW_PREFIX + JUDGE_CONFIG) == 1  # never retried
    assert not (tmp_path / "config/official/judge_config.yaml").exists()


def test_a_wrong_base_url_fails_every_file_with_status_2(server, tmp_path):
    result = run_script(tmp_path, "--base-url", server.url + "/no/such/mirror")
    assert result.returncode == 2
    assert file_lines(result) == {destination: "failed" for destination in KIT_DESTINATIONS.values()}
    assert not (tmp_path / "data").exists() or list((tmp_path / "data").rglob("*.jsonl")) == []


def test_connection_cut_mid_file_leaves_no_partial_or_temp_file(server, tmp_path):
    server.faults[RAW_PREFIX + BASELINE] = "cut"
    result = run_script(tmp_path, "--base-url", server.url, "--retries", "1")
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if BASELINE in line)
    assert line.startswith("failed") and "connection closed after" in line and "gave up after 2 attempts" in line
    assert server.requests.count(RAW_PREFIX + BASELINE) == 2
    assert not (tmp_path / BASELINE).exists()
    assert temp_files(tmp_path) == []


def test_transient_failures_are_retried_until_the_file_verifies(server, upstream_dir, tmp_path):
    server.faults[RAW_PREFIX + BASELINE] = "cut-once"
    server.faults[RAW_PREFIX + QUESTION] = "503-once"
    result = run_script(tmp_path, "--base-url", server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.requests.count(RAW_PREFIX + BASELINE) == 2 and server.requests.count(RAW_PREFIX + QUESTION) == 2
    assert (tmp_path / BASELINE).read_bytes() == (upstream_dir / BASELINE).read_bytes()
    assert (tmp_path / QUESTION).read_bytes() == (upstream_dir / QUESTION).read_bytes()


def test_a_stalled_server_times_out(server, tmp_path):
    server.faults[RAW_PREFIX + QUESTION] = "stall"
    result = run_script(tmp_path, "--base-url", server.url, "--timeout", "0.5", "--retries", "0")
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if QUESTION in line)
    assert line.startswith("failed") and "timed out" in line
    assert not (tmp_path / QUESTION).exists() and temp_files(tmp_path) == []


def test_a_local_file_with_other_content_is_kept_unless_forced_and_replaced_only_by_a_verified_copy(
        server, upstream_dir, tmp_path):
    question = tmp_path / QUESTION
    question.parent.mkdir(parents=True)
    question.write_bytes(b'{"question_id": "edited by hand"}\n')

    refused = run_script(tmp_path, "--base-url", server.url)
    assert refused.returncode == 2
    line = next(line for line in refused.stdout.splitlines() if QUESTION in line)
    assert line.startswith("failed") and "other content" in line and "--force" in line
    assert question.read_bytes() == b'{"question_id": "edited by hand"}\n'
    assert RAW_PREFIX + QUESTION not in server.requests

    server.faults[RAW_PREFIX + QUESTION] = "corrupt"
    forced_bad = run_script(tmp_path, "--base-url", server.url, "--force")
    assert forced_bad.returncode == 1
    assert question.read_bytes() == b'{"question_id": "edited by hand"}\n'  # a bad copy replaces nothing
    assert temp_files(tmp_path) == []

    del server.faults[RAW_PREFIX + QUESTION]
    forced = run_script(tmp_path, "--base-url", server.url, "--force")
    assert forced.returncode == 0, forced.stdout
    assert question.read_bytes() == (upstream_dir / QUESTION).read_bytes()
    assert "replaces a copy with other content" in forced.stdout


def test_dry_run_downloads_nothing(server, tmp_path):
    result = run_script(tmp_path, "--base-url", server.url, "--dry-run")
    assert result.returncode == 0
    assert file_lines(result) == {destination: "would download" for destination in KIT_DESTINATIONS.values()}
    assert server.requests == [] and not (tmp_path / "data").exists()


# ----------------------------------------------------------------- pre-generated data from the Hub

def test_pregenerated_fetches_answers_and_default_judge_verified_against_the_listing(server, upstream_dir, tmp_path):
    result = run_script(tmp_path, "--base-url", server.url, "--pregenerated", "--hf-base-url", server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = {f"data/arena-hard-v0.1/model_answer/{m}.jsonl" for m in ("model-a", "model-b")} | \
               {f"data/arena-hard-v0.1/model_judgment/gpt-4-1106-preview/{m}.jsonl" for m in ("model-a", "model-b")}
    assert file_lines(result) == {**{d: "downloaded" for d in KIT_DESTINATIONS.values()},
                                  **{d: "downloaded" for d in expected}}
    for destination in expected:
        assert (tmp_path / destination).read_bytes() == server.hub_files[destination]
    assert not (tmp_path / "data/arena-hard-v0.1/model_judgment/other-judge").exists()
    # the pinned kit wins over the Hub's copies of the same paths
    assert (tmp_path / QUESTION).read_bytes() == (upstream_dir / QUESTION).read_bytes()
    assert (tmp_path / BASELINE).read_bytes() == (upstream_dir / BASELINE).read_bytes()
    assert not any(path.endswith(("/question.jsonl", "/gpt-4-0314.jsonl")) and "/resolve/" in path
                   for path in server.requests)
    assert sum("/tree/" in path for path in server.requests) > 1  # the listing was paginated
    assert any(path.startswith("/cdn/") for path in server.requests)  # LFS files followed the redirect
    assert f"commit {HUB_COMMIT}" in result.stdout

    server.requests.clear()
    again = run_script(tmp_path, "--base-url", server.url, "--pregenerated", "--hf-base-url", server.url)
    assert again.returncode == 0
    assert set(file_lines(again).values()) == {"verified, skipped"}
    assert server.file_requests() == []


def test_pregenerated_judge_and_model_globs(server, tmp_path):
    result = run_script(tmp_path, "--base-url", server.url, "--pregenerated", "--hf-base-url", server.url,
                        "--judge", "*", "--model", "model-a")
    assert result.returncode == 0, result.stdout + result.stderr
    hub_lines = {d for d in file_lines(result) if d not in KIT_DESTINATIONS.values()}
    assert hub_lines == {"data/arena-hard-v0.1/model_answer/model-a.jsonl",
                         "data/arena-hard-v0.1/model_judgment/gpt-4-1106-preview/model-a.jsonl",
                         "data/arena-hard-v0.1/model_judgment/other-judge/model-a.jsonl"}


def test_pregenerated_files_that_do_not_match_the_listing_are_not_kept(server, tmp_path):
    lfs_answer = "data/arena-hard-v0.1/model_answer/model-a.jsonl"
    plain_judgment = "data/arena-hard-v0.1/model_judgment/gpt-4-1106-preview/model-b.jsonl"
    server.faults["/cdn/" + lfs_answer] = "corrupt"
    server.faults[f"/datasets/{HUB_REPO}/resolve/{HUB_COMMIT}/{plain_judgment}"] = "corrupt"
    result = run_script(tmp_path, "--base-url", server.url, "--pregenerated", "--hf-base-url", server.url)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(lfs_answer in line and "sha256 mismatch" in line for line in lines)
    assert any(plain_judgment in line and "git-sha1 mismatch" in line for line in lines)
    assert not (tmp_path / lfs_answer).exists() and not (tmp_path / plain_judgment).exists()
    assert (tmp_path / "data/arena-hard-v0.1/model_answer/model-b.jsonl").exists()
    assert temp_files(tmp_path) == []


def test_pregenerated_unknown_judge_names_the_judges_there_before_downloading_anything(server, tmp_path):
    result = run_script(tmp_path, "--base-url", server.url, "--pregenerated", "--hf-base-url", server.url,
                        "--judge", "gpt-5*")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "gpt-4-1106-preview, other-judge" in result.stderr
    assert server.file_requests() == []


def test_pregenerated_unknown_revision_is_one_line(server, tmp_path):
    result = run_script(tmp_path, "--base-url", server.url, "--pregenerated", "--hf-base-url", server.url,
                        "--hf-revision", "no-such-branch")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "HTTP 404" in result.stderr and "--hf-revision" in result.stderr
    assert server.file_requests() == []


def test_pregenerated_finds_the_hub_through_HF_ENDPOINT(server, tmp_path):
    result = run_script(tmp_path, "--base-url", server.url, "--pregenerated", "--dry-run",
                        env={"HF_ENDPOINT": server.url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"from {server.url}: 4 files" in result.stdout
    assert set(file_lines(result).values()) == {"would download"} and len(file_lines(result)) == 7
    assert any(path.startswith(f"/api/datasets/{HUB_REPO}/tree/") for path in server.requests)


def test_pregenerated_hub_failures_are_retried_or_reported_per_file(server, tmp_path):
    server.faults[f"/api/datasets/{HUB_REPO}/revision/main"] = "503-once"
    missing = "data/arena-hard-v0.1/model_judgment/gpt-4-1106-preview/model-b.jsonl"
    server.faults[f"/datasets/{HUB_REPO}/resolve/{HUB_COMMIT}/{missing}"] = "404"
    result = run_script(tmp_path, "--base-url", server.url, "--pregenerated", "--hf-base-url", server.url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert server.requests.count(f"/api/datasets/{HUB_REPO}/revision/main") == 2  # the 503 was tried again
    line = next(line for line in result.stdout.splitlines() if missing in line)
    assert line.startswith("failed") and "HTTP 404" in line
    assert not (tmp_path / missing).exists() and temp_files(tmp_path) == []
    assert (tmp_path / "data/arena-hard-v0.1/model_judgment/gpt-4-1106-preview/model-a.jsonl").exists()


# ------------------------------------------------------------------------------------ pure parts

def test_git_blob_sha1_matches_git():
    # `git hash-object` of an empty file and of "hello\n"
    for content, oid in ((b"", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"),
                         (b"hello\n", "ce013625030ba8dba906f756967f9e9ca394464a")):
        digest = Checksum(GIT_SHA1, oid).new_digest(len(content))
        digest.update(content)
        assert digest.hexdigest() == oid


def test_selection_ignores_other_benches_unsafe_names_and_kept_paths(tmp_path):
    checksum = Checksum(SHA256, "0" * 64)
    listed = [ListedFile(path, 1, checksum) for path in (
        "data/arena-hard-v0.1/model_answer/m.jsonl",
        "data/arena-hard-v0.1/model_answer/../../../evil.jsonl",
        "data/arena-hard-v0.1/model_answer/.hidden.jsonl",
        "data/arena-hard-v0.1/model_judgment/j/m.jsonl",
        "data/arena-hard-v0.1/model_judgment/j/nested/m.jsonl",
        "data/arena-hard-v0.1/question.jsonl",
        "data/arena-hard-v2.0/model_answer/m.jsonl",
        "README.md")]
    keep = [tmp_path / "arena-hard-v0.1" / "question.jsonl"]
    chosen = select_pregenerated(listed, Selection(judges=("j",)), tmp_path, lambda path: "u/" + path, keep)
    assert [(f.url, f.destination) for f in chosen] == [
        ("u/data/arena-hard-v0.1/model_answer/m.jsonl", tmp_path / "arena-hard-v0.1/model_answer/m.jsonl"),
        ("u/data/arena-hard-v0.1/model_judgment/j/m.jsonl", tmp_path / "arena-hard-v0.1/model_judgment/j/m.jsonl")]
    with pytest.raises(UserError, match=r"--model x\* matches no model .*\(there: m\)"):
        select_pregenerated(listed, Selection(judges=("j",), models=("x*",)), tmp_path, str)
