"""Fetching the official Arena-Hard-Auto v0.1 kit and, on request, upstream's pre-generated data.

Reads over HTTP (urllib only):
  - the kit, from upstream's GitHub repository pinned at commit efc012e: the question set, the
    baseline gpt-4-0314's official answers and the official judge configuration, each checked
    against its sha256 written below;
  - with a `Selection`, answers and judgments of many models from the Hugging Face dataset
    lmarena-ai/arena-hard-auto: the revision is resolved to a commit once, the files are listed
    through the Hub's tree API and each is checked against that listing (sha256 for LFS files, the
    git blob sha1 otherwise).
Writes data/<bench>/question.jsonl, data/<bench>/model_answer/<model>.jsonl,
data/<bench>/model_judgment/<judge>/<model>.jsonl and config/official/judge_config.yaml (where the
default config/judge_config.yaml reads the official prompt from). Every file goes through a
temporary file in its folder that is renamed into place only once its checksum verified, so a cut
connection or a wrong checksum leaves no file, no temporary file and any earlier file untouched. A
file already there and verified is not fetched again; one there with other content is left alone
unless `force`."""
from __future__ import annotations

import fnmatch
import functools
import hashlib
import http.client
import itertools
import json
import os
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator, TypeVar

from arena_hard.errors import UserError
from arena_hard.jsonl import atomic_write_bytes
from arena_hard.records import Bench
from arena_hard.retry import RetryPolicy, parse_retry_after

UPSTREAM_REPO = "lm-sys/arena-hard-auto"
UPSTREAM_COMMIT = "efc012e192b88024a5203f5a28ec8fc0342946df"
GITHUB_RAW_ROOT = "https://raw.githubusercontent.com"
OFFICIAL_BENCH = "arena-hard-v0.1"
BASELINE_MODEL = "gpt-4-0314"
QUESTION_SHA256 = "4daad38811161c3ba5c248f26b90c3cef89634f4c772002ed9138c1e13f63e9f"
BASELINE_SHA256 = "245109b8fe7c3bef0304f1c559d29da377f97f61535ad1170b46a61a08eb9ac7"
JUDGE_CONFIG_SHA256 = "6e001736bacacdb1591ffca7eec953a7089f8f5604872d1ca4f9a6f9de1ee451"

HF_ROOT = "https://huggingface.co"
HF_DATASET = "lmarena-ai/arena-hard-auto"
HF_DEFAULT_REVISION = "main"
DEFAULT_JUDGE = "gpt-4-1106-preview"  # the judge of the official v0.1 configuration

SHA256, GIT_SHA1 = "sha256", "git-sha1"
DOWNLOADED, SKIPPED, FAILED, WOULD_DOWNLOAD = "downloaded", "verified, skipped", "failed", "would download"
_CHUNK = 1 << 16
_RETRYABLE_STATUS = {408, 425, 429}
_NOT_RETRYABLE_5XX = {501, 505}
_COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
_HEX_LENGTH = {SHA256: 64, GIT_SHA1: 40}
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')
T = TypeVar("T")


# ---------------------------------------------------------------- what to fetch and how to check it

@dataclass(frozen=True)
class Checksum:
    algorithm: str  # SHA256, or GIT_SHA1: sha1 over b"blob <size>\0" + content (git's object id)
    hexdigest: str

    def new_digest(self, size: int) -> Any:
        """A hashlib object to feed the content of a file of `size` bytes to."""
        if self.algorithm == SHA256:
            return hashlib.sha256()
        digest = hashlib.sha1()
        digest.update(b"blob %d\0" % size)
        return digest

    def short(self) -> str:
        return f"{self.algorithm} {self.hexdigest[:12]}"


@dataclass(frozen=True)
class RemoteFile:
    url: str
    destination: Path
    checksum: Checksum
    size: int | None = None  # bytes, when the source lists it; required with GIT_SHA1, which hashes it


def file_digest(path: Path, checksum: Checksum) -> str:
    """The hex digest of a local file under `checksum`'s algorithm (FileNotFoundError if none)."""
    with open(path, "rb") as handle:
        digest = checksum.new_digest(os.fstat(handle.fileno()).st_size)
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def kit_files(base_url: str, data_dir: Path, config_dir: Path) -> list[RemoteFile]:
    """The official v0.1 kit: the question set, the baseline's answers and the judge configuration.

    The judge configuration goes to <config_dir>/official/, not over the repository's default
    config/judge_config.yaml, which reads its prompt from there."""
    root = f"{base_url.rstrip('/')}/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}"
    bench = Bench(OFFICIAL_BENCH, Path(data_dir))
    kit = [("data/arena-hard-v0.1/question.jsonl", QUESTION_SHA256, bench.question_file),
           ("data/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl", BASELINE_SHA256,
            bench.answer_file(BASELINE_MODEL)),
           ("config/judge_config.yaml", JUDGE_CONFIG_SHA256, Path(config_dir) / "official" / "judge_config.yaml")]
    return [RemoteFile(f"{root}/{path}", destination, Checksum(SHA256, sha256))
            for path, sha256, destination in kit]


# ------------------------------------------------------------------------------------ HTTP

class FetchError(Exception):
    """A file or a listing could not be fetched; the message says why in one line."""

    user_fixable = False
    hint = ""  # what to check, said once in the summary


class NotFound(FetchError):
    """HTTP 404: the address is wrong (a base URL, repository, revision or bench name)."""

    user_fixable = True
    hint = "a 404 means --base-url, --hf-base-url, --hf-repo or --hf-revision does not point at the files"


class Transient(FetchError):
    """A failure worth another attempt: dropped or cut connection, timeout, 408/429/5xx."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _describe(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    text = str(reason if reason is not None else error) or type(error).__name__
    return " ".join(text.split())


def body_chunks(response: http.client.HTTPResponse, url: str) -> Iterator[bytes]:
    """The body of `response` in chunks; a connection that breaks or closes before the declared
    Content-Length raises Transient (http.client itself returns a short body without a word)."""
    declared = response.headers.get("Content-Length", "")
    expected = int(declared) if declared.strip().isdigit() else None
    received = 0
    while True:
        try:
            chunk = response.read(_CHUNK)
        except (OSError, http.client.HTTPException) as error:
            raise Transient(f"connection broke after {received} bytes from {url} ({_describe(error)})") from None
        if not chunk:
            break
        received += len(chunk)
        yield chunk
    if expected is not None and received < expected:
        raise Transient(f"connection closed after {received} of {expected} bytes from {url}")


class HttpClient:
    """GET requests with a timeout and a bounded number of attempts: transient failures are tried
    again after a backoff (or the server's Retry-After); a 404 or another 4xx is final."""

    def __init__(self, timeout: float = 60.0, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.timeout = timeout
        self.policy = policy or RetryPolicy(max_attempts=4, backoff_base=1.0, backoff_max=30.0,
                                            retry_after_max=60.0)
        self._sleep = sleep
        self._rng = random.Random()

    def _open(self, url: str) -> http.client.HTTPResponse:
        request = urllib.request.Request(url, headers={"User-Agent": "arena-hard-download_data"})
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            status, headers = error.code, error.headers
            error.close()
            if status == 404:
                raise NotFound(f"not found (HTTP 404): {url}") from None
            message = f"HTTP {status} {error.reason} from {url}"
            if status in _RETRYABLE_STATUS or (status >= 500 and status not in _NOT_RETRYABLE_5XX):
                raise Transient(message, parse_retry_after(headers)) from None
            raise FetchError(message) from None
        except (OSError, http.client.HTTPException) as error:  # URLError, refused, reset, timeout
            raise Transient(f"cannot fetch {url} ({_describe(error)})") from None

    def fetch(self, url: str, consume: Callable[[http.client.HTTPResponse], T]) -> T:
        """`consume(response)` for a GET of `url`; Transient from opening or from `consume`
        starts the request again, up to the policy's number of attempts."""
        for attempt in itertools.count(1):
            try:
                with self._open(url) as response:
                    return consume(response)
            except Transient as error:
                if attempt >= self.policy.max_attempts:
                    tries = f"{attempt} attempts" if attempt > 1 else "1 attempt, no retries"
                    raise FetchError(f"{error} (gave up after {tries})") from None
                self._sleep(self.policy.delay(attempt, error.retry_after, self._rng))
        raise AssertionError("unreachable")


def _read_json(response: http.client.HTTPResponse, url: str) -> Any:
    body = b"".join(body_chunks(response, url))
    try:
        return json.loads(body)
    except ValueError:
        raise Transient(f"garbled JSON from {url}") from None


def _tree_page(response: http.client.HTTPResponse, url: str) -> tuple[list[ListedFile], str | None]:
    """One page of the Hub's tree listing, and the next page's URL if there is one."""
    return parse_tree_page(_read_json(response, url), url), next_page_url(response, url)


def next_page_url(response: http.client.HTTPResponse, url: str) -> str | None:
    """The `rel="next"` target of the Link header(s) (the Hub's pagination), made absolute."""
    for header in response.headers.get_all("Link") or ():
        match = _LINK_NEXT.search(header)
        if match:
            return urllib.parse.urljoin(url, match.group(1))
    return None


# ---------------------------------------------------------------- one file: check, fetch, verify

@dataclass(frozen=True)
class Outcome:
    file: RemoteFile
    status: str  # DOWNLOADED, SKIPPED, FAILED or WOULD_DOWNLOAD
    detail: str = ""
    user_fixable: bool = False  # for FAILED: the user can fix it (flags, local files)
    hint: str = ""  # for FAILED: what to check, for the summary

    def line(self) -> str:
        text = f"{self.status:<18} {self.file.destination}"
        if not self.detail:
            return text
        return f"{text}: {self.detail}" if self.status == FAILED else f"{text} ({self.detail})"


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1 << 20:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1 << 20):.1f} MiB"


def _verified_body(response: http.client.HTTPResponse, file: RemoteFile) -> Iterator[bytes]:
    """The body, hashed on the way; raises before the end if it is not the expected file, so the
    atomic writer drops its temporary file instead of renaming it into place."""
    digest = file.checksum.new_digest(file.size or 0)
    received = 0
    for chunk in body_chunks(response, file.url):
        received += len(chunk)
        if file.size is not None and received > file.size:
            raise FetchError(f"{file.url} sends more than the {file.size} bytes listed for it")
        digest.update(chunk)
        yield chunk
    if file.size is not None and received != file.size:
        raise FetchError(f"{file.url} sent {received} bytes, the listing says {file.size}")
    if digest.hexdigest() != file.checksum.hexdigest:
        raise FetchError(f"{file.checksum.algorithm} mismatch: expected {file.checksum.hexdigest}, "
                         f"got {digest.hexdigest()} from {file.url}")


def sync_file(client: HttpClient, file: RemoteFile, *, force: bool = False, dry_run: bool = False) -> Outcome:
    """Make `file.destination` hold the verified file, fetching it only if needed."""
    try:
        present = file_digest(file.destination, file.checksum)
    except FileNotFoundError:
        present = None
    except OSError as error:
        return Outcome(file, FAILED, f"cannot read it ({_describe(error)})", user_fixable=True)
    if present == file.checksum.hexdigest:
        return Outcome(file, SKIPPED)
    if present is not None and not force:
        return Outcome(file, FAILED, f"already there with other content ({file.checksum.algorithm} "
                       f"{present[:12]}, expected {file.checksum.hexdigest[:12]}); left untouched, rerun "
                       "with --force to replace it once the new copy verifies", user_fixable=True)
    replacing = "; replaces a copy with other content" if present is not None else ""
    if dry_run:
        size = human_size(file.size) if file.size is not None else "size unknown"
        return Outcome(file, WOULD_DOWNLOAD, size + replacing)
    try:
        client.fetch(file.url, lambda response: atomic_write_bytes(file.destination, _verified_body(response, file)))
        size = file.destination.stat().st_size
    except FetchError as error:
        return Outcome(file, FAILED, str(error), error.user_fixable, error.hint)
    except OSError as error:  # network errors are FetchError by now: this is the local disk
        return Outcome(file, FAILED, f"cannot write it ({_describe(error)})", user_fixable=True)
    return Outcome(file, DOWNLOADED, f"{human_size(size)}, {file.checksum.short()} verified{replacing}")


def sync_files(client: HttpClient, files: Iterable[RemoteFile], *, force: bool = False, dry_run: bool = False,
               parallel: int = 4, report: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """`sync_file` for each file, `parallel` at a time; `report` sees outcomes in the given order."""
    outcomes = []
    executor = ThreadPoolExecutor(max_workers=parallel)
    try:
        for outcome in executor.map(lambda file: sync_file(client, file, force=force, dry_run=dry_run), files):
            report(outcome)
            outcomes.append(outcome)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return outcomes


def summary(outcomes: list[Outcome]) -> str:
    counts = {status: sum(o.status == status for o in outcomes)
              for status in (DOWNLOADED, SKIPPED, WOULD_DOWNLOAD, FAILED)}
    parts = [f"{counts[DOWNLOADED]} downloaded", f"{counts[SKIPPED]} already there and verified"]
    if counts[WOULD_DOWNLOAD]:
        parts.append(f"{counts[WOULD_DOWNLOAD]} would be downloaded")
    parts.append(f"{counts[FAILED]} failed")
    text = f"{len(outcomes)} files: " + ", ".join(parts)
    hints = sorted({o.hint for o in outcomes if o.hint})
    if hints:
        text += "; " + "; ".join(hints)
    elif counts[FAILED] == 0 and counts[WOULD_DOWNLOAD] == 0:
        text += "; everything requested is present and verified"
    return text


def exit_status(outcomes: list[Outcome]) -> int:
    """0 if every file is present and verified (or, in a dry run, could be fetched); 1 if a failure
    may pass if tried later (network, server, corrupted download); 2 if every failure is the
    user's to fix (a wrong address: 404; a differing local file without --force; the local disk)."""
    failed = [o for o in outcomes if o.status == FAILED]
    if not failed:
        return 0
    return 2 if all(o.user_fixable for o in failed) else 1


# ------------------------------------------------------------ the Hugging Face pre-generated data

@dataclass(frozen=True)
class Selection:
    """Which pre-generated files to fetch: globs over judge names and model names."""

    bench: str = OFFICIAL_BENCH
    judges: tuple[str, ...] = (DEFAULT_JUDGE,)
    models: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class ListedFile:
    path: str  # in the repository
    size: int
    checksum: Checksum


def parse_tree_page(entries: Any, url: str) -> list[ListedFile]:
    """The files of one page of the Hub's tree listing: LFS files carry `lfs.oid` (sha256), the
    others only `oid` (git blob sha1); folders are left out."""
    if not isinstance(entries, list):
        raise FetchError(f"unexpected file listing from {url}: expected a JSON list")
    files = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != "file":
            continue
        lfs = entry.get("lfs")
        if isinstance(lfs, dict) and "oid" in lfs:
            checksum, size = Checksum(SHA256, lfs["oid"]), lfs.get("size", entry.get("size"))
        else:
            checksum, size = Checksum(GIT_SHA1, entry.get("oid")), entry.get("size")
        path = entry.get("path")
        if not (isinstance(path, str) and isinstance(size, int) and size >= 0 and isinstance(checksum.hexdigest, str)
                and re.fullmatch(f"[0-9a-f]{{{_HEX_LENGTH[checksum.algorithm]}}}", checksum.hexdigest)):
            raise FetchError(f"unexpected file listing from {url}: entry {json.dumps(entry)[:200]}")
        files.append(ListedFile(path, size, checksum))
    return files


def _safe_name(name: str) -> bool:
    return name not in ("", ".", "..") and not name.startswith(".") and "\\" not in name


def _matches(name: str, globs: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in globs)


def _examples(names: set[str], limit: int = 12) -> str:
    shown = sorted(names)[:limit]
    return ", ".join(shown) + (f", ... ({len(names)} in all)" if len(names) > limit else "") if names else "none"


def select_pregenerated(listed: Iterable[ListedFile], selection: Selection, data_dir: Path,
                        resolve_url: Callable[[str], str], keep: Iterable[Path] = ()) -> list[RemoteFile]:
    """The listed files the selection asks for, with their local destinations: the bench's
    question.jsonl, model_answer/<model>.jsonl and model_judgment/<judge>/<model>.jsonl whose names
    match. Destinations in `keep` (the pinned kit, which wins) are left out. A judge or model glob
    that matches nothing is a UserError naming what there is."""
    bench = Bench(selection.bench, Path(data_dir))
    keep = set(keep)
    judges_seen: set[str] = set()
    models_seen: set[str] = set()
    chosen: list[RemoteFile] = []
    matched_judges = matched_models = False
    for item in sorted(listed, key=lambda f: f.path):
        parts = PurePosixPath(item.path).parts
        if parts[:2] != ("data", selection.bench) or not all(_safe_name(p) for p in parts):
            continue
        rest = parts[2:]
        if rest == ("question.jsonl",):
            destination = bench.question_file
        elif len(rest) == 2 and rest[0] == "model_answer" and rest[1].endswith(".jsonl"):
            model = rest[1][: -len(".jsonl")]
            models_seen.add(model)
            if not _matches(model, selection.models):
                continue
            matched_models = True
            destination = bench.answer_file(model)
        elif len(rest) == 3 and rest[0] == "model_judgment" and rest[2].endswith(".jsonl"):
            judge, model = rest[1], rest[2][: -len(".jsonl")]
            judges_seen.add(judge)
            models_seen.add(model)
            if not _matches(judge, selection.judges):
                continue
            matched_judges = True
            if not _matches(model, selection.models):
                continue
            matched_models = True
            destination = bench.judgment_file(judge, model)
        else:
            continue
        if destination not in keep:
            chosen.append(RemoteFile(resolve_url(item.path), destination, item.checksum, item.size))
    where = f"data/{selection.bench}"
    if not matched_judges:
        raise UserError(f"--judge {' '.join(selection.judges)} matches no judge in {where}/model_judgment/ "
                        f"(there: {_examples(judges_seen)}); pass --judge NAME or a glob such as --judge '*'")
    if not matched_models:
        raise UserError(f"--model {' '.join(selection.models)} matches no model in {where} "
                        f"(there: {_examples(models_seen)})")
    return chosen


@dataclass(frozen=True)
class HubDataset:
    """A Hugging Face dataset repository at a revision, read through the Hub's HTTP API."""

    base_url: str = HF_ROOT
    repo: str = HF_DATASET
    revision: str = HF_DEFAULT_REVISION

    @property
    def _root(self) -> str:
        return self.base_url.rstrip("/")

    def resolve_commit(self, client: HttpClient) -> str:
        """The commit the revision points at now, so the listing and every file come from one
        snapshot even if the branch moves during the download."""
        if _COMMIT_SHA.fullmatch(self.revision):
            return self.revision
        url = f"{self._root}/api/datasets/{self.repo}/revision/{urllib.parse.quote(self.revision, safe='')}"
        info = self._get(client, url, lambda response: _read_json(response, url), "--hf-repo or --hf-revision")
        sha = info.get("sha") if isinstance(info, dict) else None
        if not (isinstance(sha, str) and _COMMIT_SHA.fullmatch(sha)):
            raise FetchError(f"unexpected answer from {url}: no commit `sha`")
        return sha

    def list_files(self, client: HttpClient, commit: str, folder: str) -> list[ListedFile]:
        """Every file under `folder` at `commit`, following the listing's pages."""
        url: str | None = (f"{self._root}/api/datasets/{self.repo}/tree/{commit}/"
                           f"{urllib.parse.quote(folder)}?recursive=true")
        files: list[ListedFile] = []
        seen: set[str] = set()
        while url is not None:
            if url in seen:
                raise FetchError(f"the file listing's pages loop back to {url}")
            seen.add(url)
            page, url = self._get(client, url, functools.partial(_tree_page, url=url),
                                  "--bench, --hf-repo or --hf-revision")
            files.extend(page)
        return files

    def file_url(self, commit: str, path: str) -> str:
        return f"{self._root}/datasets/{self.repo}/resolve/{commit}/{urllib.parse.quote(path)}"

    def _get(self, client: HttpClient, url: str, consume: Callable[[http.client.HTTPResponse], T], flags: str) -> T:
        try:
            return client.fetch(url, consume)
        except NotFound:
            raise UserError(f"{url}: not found (HTTP 404) on the Hugging Face Hub at {self._root}; "
                            f"check {flags} (or --hf-base-url)") from None


def plan_pregenerated(client: HttpClient, hub: HubDataset, selection: Selection, data_dir: Path,
                      keep: Iterable[Path] = ()) -> tuple[str, list[RemoteFile]]:
    """(the commit used, the files to sync) for a selection of the dataset's pre-generated data."""
    commit = hub.resolve_commit(client)
    listed = hub.list_files(client, commit, f"data/{selection.bench}")
    files = select_pregenerated(listed, selection, data_dir, lambda path: hub.file_url(commit, path), keep)
    return commit, files
