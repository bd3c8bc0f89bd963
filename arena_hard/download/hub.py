"""Upstream's pre-generated data on the Hugging Face Hub: listing the dataset and choosing files.

Reads over HTTP (through http_fetch.HttpClient) from the dataset lmarena-ai/arena-hard-auto (or
another repository and revision): the revision is resolved to a commit once, and the files under
data/<bench>/ are listed through the Hub's tree API, page by page, each with its size and checksum
(sha256 for LFS files, the git blob sha1 otherwise). A `Selection` (globs over judge and model
names) picks which to fetch; the result is a list of download.RemoteFile with their destinations
under data/<bench>/. Writes nothing: download.sync_files fetches and verifies the files."""
from __future__ import annotations

import fnmatch
import functools
import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, TypeVar

from arena_hard.core.bench_version import V0_1
from arena_hard.download.kit import GIT_SHA1, SHA256, Checksum, RemoteFile
from arena_hard.core.errors import UserError
from arena_hard.download.http_client import FetchError, HttpClient, NotFound, read_json, next_page_url
from arena_hard.core.records import Bench

HF_ROOT = "https://huggingface.co"
HF_DATASET = "lmarena-ai/arena-hard-auto"
HF_DEFAULT_REVISION = "main"

_COMMIT_SHA = re.compile(r"[0-9a-f]{40}")
_HEX_LENGTH = {SHA256: 64, GIT_SHA1: 40}
T = TypeVar("T")


@dataclass(frozen=True)
class Selection:
    """Which pre-generated files to fetch: globs over judge names and model names."""

    bench: str = V0_1.default_bench
    judges: tuple[str, ...] = (V0_1.default_judge,)
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


def _tree_page(response: http.client.HTTPResponse, url: str) -> tuple[list[ListedFile], str | None]:
    """One page of the Hub's tree listing, and the next page's URL if there is one."""
    return parse_tree_page(read_json(response, url), url), next_page_url(response, url)


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
        info = self._get(client, url, lambda response: read_json(response, url), "--hf-repo or --hf-revision")
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
