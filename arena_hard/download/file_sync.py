"""Syncing files against their checksums: each file is checked where it should be, fetched only if
needed, verified, and placed atomically.

A `RemoteFile` says where a file goes and what its checksum must be (sha256, or git's blob sha1 for
the Hub's small files); a `Transfer` (official_kit.UrlTransfer for plain URLs, hub.HubTransfer for the
Hugging Face Hub) fetches it to a temporary file in the destination's folder, which is renamed into
place only once its checksum verified, so a cut connection or a wrong checksum leaves no file, no
temporary file and any earlier file untouched. A file already there and verified is not fetched
again; one there with other content is left alone unless `force`. Writes the destinations it is given;
reads them to check them."""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from arena_hard.download.http_client import FetchError, describe

SHA256, GIT_SHA1 = "sha256", "git-sha1"
DOWNLOADED, SKIPPED, FAILED, WOULD_DOWNLOAD = "downloaded", "verified, skipped", "failed", "would download"


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

    def mismatch(self, got: str, source: str) -> FetchError:
        return FetchError(f"{self.algorithm} mismatch: expected {self.hexdigest}, got {got} from {source}")


@dataclass(frozen=True)
class RemoteFile:
    url: str  # where the file comes from
    destination: Path
    checksum: Checksum
    size: int | None = None  # bytes, when the source lists it; required with GIT_SHA1, which hashes it


class Transfer(Protocol):
    def place(self, file: RemoteFile) -> None:
        """Fetch `file.url` and rename it to `file.destination` once it verified; FetchError (or an
        OSError of the local disk) otherwise, leaving no temporary file behind."""


def file_digest(path: Path, checksum: Checksum) -> str:
    """The hex digest of a local file under `checksum`'s algorithm (FileNotFoundError if none)."""
    with open(path, "rb") as handle:
        digest = checksum.new_digest(os.fstat(handle.fileno()).st_size)
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Outcome:
    file: RemoteFile
    status: str  # DOWNLOADED, SKIPPED, FAILED or WOULD_DOWNLOAD
    detail: str = ""
    user_fixable: bool = False  # for FAILED: the user can fix it (flags, local files)
    hint: str = ""  # for FAILED: what to check, for the summary


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1 << 20:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1 << 20):.1f} MiB"


def sync_file(transfer: Transfer, file: RemoteFile, *, force: bool = False, dry_run: bool = False) -> Outcome:
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
        transfer.place(file)
        size = file.destination.stat().st_size
    except FetchError as error:
        return Outcome(file, FAILED, str(error), error.user_fixable, error.hint)
    except OSError as error:  # network errors are FetchError by now: this is the local disk
        return Outcome(file, FAILED, f"cannot write it ({describe(error)})", user_fixable=True)
    return Outcome(file, DOWNLOADED, f"{human_size(size)}, {file.checksum.short()} verified{replacing}")


def sync_files(transfer: Transfer, files: Iterable[RemoteFile], *, force: bool = False, dry_run: bool = False,
               parallel: int = 4, report: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """`sync_file` for each file, `parallel` at a time; `report` sees outcomes in the given order."""
    outcomes = []
    executor = ThreadPoolExecutor(max_workers=parallel)
    try:
        for outcome in executor.map(lambda file: sync_file(transfer, file, force=force, dry_run=dry_run), files):
            report(outcome)
            outcomes.append(outcome)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return outcomes
