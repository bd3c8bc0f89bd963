"""Fetching the official Arena-Hard-Auto v0.1 kit and syncing files against their checksums.

Reads over HTTP (through http_fetch.HttpClient) the kit, from upstream's GitHub repository pinned
at commit efc012e: the question set, the baseline gpt-4-0314's official answers and the official
judge configuration, each checked against its sha256 written below; and any other list of
`RemoteFile`s, such as the Hugging Face pre-generated data that hf_hub plans (checked against the
Hub's listing: sha256 for LFS files, the git blob sha1 otherwise).
Writes data/<bench>/question.jsonl, data/<bench>/model_answer/<model>.jsonl,
data/<bench>/model_judgment/<judge>/<model>.jsonl and config/official/judge_config.yaml (where the
default config/judge_config.yaml reads the official prompt from). Every file goes through a
temporary file in its folder that is renamed into place only once its checksum verified, so a cut
connection or a wrong checksum leaves no file, no temporary file and any earlier file untouched. A
file already there and verified is not fetched again; one there with other content is left alone
unless `force`. Also the one-line outcome per file, the summary and the exit status."""
from __future__ import annotations

import hashlib
import http.client
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from arena_hard.core.bench_version import V0_1
from arena_hard.download.http_client import FetchError, HttpClient, describe, body_chunks
from arena_hard.core.jsonl import atomic_write_bytes
from arena_hard.core.records import Bench

UPSTREAM_REPO = "lm-sys/arena-hard-auto"
UPSTREAM_COMMIT = "efc012e192b88024a5203f5a28ec8fc0342946df"
GITHUB_RAW_ROOT = "https://raw.githubusercontent.com"
QUESTION_SHA256 = "4daad38811161c3ba5c248f26b90c3cef89634f4c772002ed9138c1e13f63e9f"
BASELINE_SHA256 = "245109b8fe7c3bef0304f1c559d29da377f97f61535ad1170b46a61a08eb9ac7"
JUDGE_CONFIG_SHA256 = "6e001736bacacdb1591ffca7eec953a7089f8f5604872d1ca4f9a6f9de1ee451"

SHA256, GIT_SHA1 = "sha256", "git-sha1"
DOWNLOADED, SKIPPED, FAILED, WOULD_DOWNLOAD = "downloaded", "verified, skipped", "failed", "would download"


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
    upstream = Bench(V0_1.default_bench)  # the same layout in upstream's repository
    bench = Bench(V0_1.default_bench, Path(data_dir))
    kit = [(upstream.question_file, QUESTION_SHA256, bench.question_file),
           (upstream.answer_file(V0_1.default_baseline), BASELINE_SHA256, bench.answer_file(V0_1.default_baseline)),
           (Path("config/judge_config.yaml"), JUDGE_CONFIG_SHA256, Path(config_dir) / "official" / "judge_config.yaml")]
    return [RemoteFile(f"{root}/{path.as_posix()}", destination, Checksum(SHA256, sha256))
            for path, sha256, destination in kit]


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
        return Outcome(file, FAILED, f"cannot read it ({describe(error)})", user_fixable=True)
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
        return Outcome(file, FAILED, f"cannot write it ({describe(error)})", user_fixable=True)
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
