"""Upstream's pre-generated data on the Hugging Face Hub, through huggingface_hub.

`HubDataset` resolves the dataset's revision to a commit once (HfApi.dataset_info), so the listing
and every file come from one snapshot even if the branch moves, and lists the files under
data/<bench>/ at that commit (HfApi.list_repo_tree), each with its size and checksum (sha256 for LFS
files, the git blob sha1 otherwise). `HubTransfer` downloads one file with hf_hub_download into a
temporary folder beside its destination; file_sync renames nothing that did not verify. The Hub is
--hf-base-url, else $HF_ENDPOINT (huggingface_hub's own variable), else https://huggingface.co; a token
in $HF_TOKEN is used as huggingface_hub uses it. Failures worth another attempt (dropped connections,
timeouts, 408/425/429/5xx) are tried again under the --retries policy; a 404 is the user's to fix.
Which files to fetch is hub_selection; writes only the files file_sync asks for."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from tqdm import tqdm

from arena_hard.core.errors import UserError
from arena_hard.download.file_sync import GIT_SHA1, SHA256, Checksum, RemoteFile, file_digest
from arena_hard.download.http_client import FetchError, NotFound, Retrying, Transient, describe, status_error
from arena_hard.download.hub_selection import ListedFile, Selection, select_pregenerated

HF_ROOT = "https://huggingface.co"
HF_DATASET = "lmarena-ai/arena-hard-auto"
HF_DEFAULT_REVISION = "main"
_COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
# httpx's (and httpx2's) transport failures, matched by name so no HTTP library has to be imported here.
_TRANSIENT_NAMES = {"TransportError", "TimeoutException", "LocalEntryNotFoundError"}
T = TypeVar("T")


def _http_status(error: BaseException) -> tuple[int, str] | None:
    """The HTTP status and URL behind `error`, following the chain of causes (huggingface_hub wraps
    a failed metadata request in LocalEntryNotFoundError)."""
    while error is not None:
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return status, str(getattr(response, "url", ""))
        error = error.__cause__ or error.__context__
    return None


def as_fetch_error(error: Exception, what: str) -> FetchError:
    """The FetchError that `error` from huggingface_hub stands for: NotFound for a 404, Transient for
    what may pass if tried again, FetchError otherwise."""
    status = _http_status(error)
    if status is not None:
        code, url = status
        return status_error(code, url or what, f"HTTP {code} from {url or what}")
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & _TRANSIENT_NAMES or "Consistency check failed" in str(error):  # a short body
        return Transient(f"cannot fetch {what} ({describe(error)})")
    return FetchError(f"cannot fetch {what} ({type(error).__name__}: {describe(error)})")


def _hub_call(retrying: Retrying, what: str, action: Callable[[], T]) -> T:
    """`action()`, a call into huggingface_hub, its failures turned into FetchErrors (`what` names the
    request) and tried again when Transient."""
    def attempt() -> T:
        try:
            return action()
        except Exception as error:  # huggingface_hub raises many kinds; as_fetch_error sorts them all
            raise as_fetch_error(error, what) from None
    return retrying.call(attempt)


@dataclass(frozen=True)
class HubDataset:
    """A Hugging Face dataset repository at a revision."""

    base_url: str = HF_ROOT
    repo: str = HF_DATASET
    revision: str = HF_DEFAULT_REVISION
    timeout: float = 60.0

    def _api(self) -> Any:
        from huggingface_hub import HfApi  # here: a second of import time that only --pregenerated needs
        return HfApi(endpoint=self.base_url)

    def _user_error(self, error: NotFound, flags: str) -> UserError:
        return UserError(f"{str(error).removeprefix('not found (HTTP 404): ')}: not found (HTTP 404) on the Hugging "
                         f"Face Hub at {self.base_url}; check {flags} (or --hf-base-url)")

    def resolve_commit(self, retrying: Retrying) -> str:
        """The commit the revision points at now."""
        if _COMMIT_SHA.fullmatch(self.revision):
            return self.revision
        what = f"revision {self.revision} of {self.repo}"
        try:
            info = _hub_call(retrying, what, lambda: self._api().dataset_info(self.repo, revision=self.revision,
                                                                        timeout=self.timeout))
        except NotFound as error:
            raise self._user_error(error, "--hf-repo or --hf-revision") from None
        if not (isinstance(info.sha, str) and _COMMIT_SHA.fullmatch(info.sha)):
            raise FetchError(f"unexpected answer about {what} from {self.base_url}: no commit `sha`")
        return info.sha

    def list_files(self, retrying: Retrying, commit: str, folder: str) -> list[ListedFile]:
        """Every file under `folder` at `commit`."""
        def listing() -> list[ListedFile]:
            entries = self._api().list_repo_tree(self.repo, folder, recursive=True, repo_type="dataset",
                                                 revision=commit)
            return [_listed(entry) for entry in entries if hasattr(entry, "blob_id")]  # files, not folders
        try:
            return _hub_call(retrying, f"the listing of {folder} in {self.repo}", listing)
        except NotFound as error:
            raise self._user_error(error, "--bench, --hf-repo or --hf-revision") from None

    def file_url(self, commit: str, path: str) -> str:
        return f"{self.base_url}/datasets/{self.repo}/resolve/{commit}/{urllib.parse.quote(path)}"


def _listed(entry: Any) -> ListedFile:
    if entry.lfs is not None:
        return ListedFile(entry.path, entry.lfs.size, Checksum(SHA256, entry.lfs.sha256))
    return ListedFile(entry.path, entry.size, Checksum(GIT_SHA1, entry.blob_id))


class _NoProgressBar(tqdm):
    """huggingface_hub's per-file progress bar, off: download_data.py prints one line per file."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **{**kwargs, "disable": True})


@dataclass(frozen=True)
class HubTransfer:
    """Files of one commit of a HubDataset, whose RemoteFile.url is HubDataset.file_url."""

    dataset: HubDataset
    commit: str
    retrying: Retrying

    def place(self, file: RemoteFile) -> None:
        from huggingface_hub import hf_hub_download
        path = urllib.parse.unquote(file.url.removeprefix(self.dataset.file_url(self.commit, "")))
        file.destination.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{file.destination.name}.", suffix=".tmp",
                                        dir=file.destination.parent))
        try:
            fetched = Path(_hub_call(self.retrying, file.url, lambda: hf_hub_download(
                self.dataset.repo, path, repo_type="dataset", revision=self.commit, local_dir=staging,
                endpoint=self.dataset.base_url, etag_timeout=self.dataset.timeout, tqdm_class=_NoProgressBar)))
            size = fetched.stat().st_size
            if file.size is not None and size != file.size:
                raise FetchError(f"{file.url} sent {size} bytes, the listing says {file.size}")
            digest = file_digest(fetched, file.checksum)
            if digest != file.checksum.hexdigest:
                raise file.checksum.mismatch(digest, file.url)
            with open(fetched, "rb") as handle:
                os.fsync(handle.fileno())
            os.chmod(fetched, 0o644)
            os.replace(fetched, file.destination)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _configure_library(timeout: float) -> None:
    """huggingface_hub's settings for this process: a transfer waits `timeout` seconds for data (the
    library reads HF_HUB_DOWNLOAD_TIMEOUT at each request), and its warnings about each attempt to
    resume a transfer stay quiet, since each file's outcome line says what happened in the end."""
    from huggingface_hub import constants
    from huggingface_hub.utils import logging

    constants.HF_HUB_DOWNLOAD_TIMEOUT = timeout
    logging.set_verbosity_error()


def plan_pregenerated(retrying: Retrying, hub: HubDataset, selection: Selection, data_dir: Path,
                      keep: Iterable[Path] = ()) -> tuple[str, list[RemoteFile], HubTransfer]:
    """(the commit used, the files to sync, how to fetch them) for a selection of the dataset's
    pre-generated data."""
    _configure_library(hub.timeout)
    commit = hub.resolve_commit(retrying)
    listed = hub.list_files(retrying, commit, f"data/{selection.bench}")
    files = select_pregenerated(listed, selection, data_dir, lambda path: hub.file_url(commit, path), keep)
    return commit, files, HubTransfer(hub, commit, retrying)
