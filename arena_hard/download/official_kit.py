"""The official Arena-Hard-Auto kits, and fetching files from plain URLs.

A bench's kit comes from upstream's GitHub repository pinned at a commit, each file with its sha256
written below: for arena-hard-v0.1 (lm-sys/arena-hard-auto at efc012e) the question set, the baseline
gpt-4-0314's official answers and the official judge configuration; for arena-hard-v2.0
(lmarena/arena-hard-auto at 196f6b8) the question set, the baseline o3-mini-2025-01-31's official
answers, the judge configuration and utils/judge_utils.py (from which download.derive writes the
per-category judge settings); and, for BenchBuilder (download_data.py --bench-builder),
BenchBuilder/category.py of the v2.0 repository, whose labelling criteria build_bench.py reads out of it
(`bench_builder_files`). `kit_files` says where each goes: data/<bench>/question.jsonl,
data/<bench>/model_answer/<baseline>.jsonl and config/official/ (where the repository's own configs
read the official wording from). `UrlTransfer` fetches a file over HTTP (http_client.HttpClient, with its retries) and
hashes it on the way, writing it through a temporary file that is renamed into place only once the
checksum verified (file_sync does the rest)."""
from __future__ import annotations

import http.client
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from arena_hard.core.bench_version import V0_1, V2_0
from arena_hard.core.atomic_write import atomic_write_bytes
from arena_hard.core.records import Bench
from arena_hard.download.file_sync import SHA256, Checksum, RemoteFile
from arena_hard.download.http_client import FetchError, HttpClient, body_chunks

UPSTREAM_REPO = "lm-sys/arena-hard-auto"
UPSTREAM_COMMIT = "efc012e192b88024a5203f5a28ec8fc0342946df"
GITHUB_RAW_ROOT = "https://raw.githubusercontent.com"
V2_REPO = "lmarena/arena-hard-auto"
V2_COMMIT = "196f6b826783b3da7310e361a805fa36f0be83f3"
V2_BENCH = V2_0.default_bench
JUDGE_UTILS = "judge_utils.py"  # under config/official/: the source of the v2.0 judge settings
# BenchBuilder's criteria: (upstream path, sha256), placed at config/official/category.py
BENCH_BUILDER_FILE = ("BenchBuilder/category.py", "a67229302cba196e1e613446a1db341b5bbf95534a20c6c0d534e018786ba969")


@dataclass(frozen=True)
class Kit:
    """A bench's official files at a pinned commit of upstream's repository: the questions and the
    baseline's answers (at the same paths under data/ there as here), and config files, each
    (upstream path, sha256, destination under the config folder)."""

    repo: str
    commit: str
    bench: str
    baseline: str
    question_sha256: str
    baseline_sha256: str
    configs: tuple[tuple[str, str, str], ...]


KITS = {kit.bench: kit for kit in (
    Kit(UPSTREAM_REPO, UPSTREAM_COMMIT, V0_1.default_bench, V0_1.default_baseline,
        "4daad38811161c3ba5c248f26b90c3cef89634f4c772002ed9138c1e13f63e9f",
        "245109b8fe7c3bef0304f1c559d29da377f97f61535ad1170b46a61a08eb9ac7",
        (("config/judge_config.yaml", "6e001736bacacdb1591ffca7eec953a7089f8f5604872d1ca4f9a6f9de1ee451",
          "official/judge_config.yaml"),)),
    Kit(V2_REPO, V2_COMMIT, V2_BENCH, V2_0.default_baseline,
        "a75cef6623db6b27aec810497b059f0659705d7ff48dcbccc5bd5b130728ac73",
        "c23a7c255eead99f7f86ad48aa1d8ccdb5b3334f2097e0e1e09184df87265e03",
        (("config/arena-hard-v2.0.yaml", "ee68e5c6ac98a79720bf11014fc3f7fc3c3e5899153b3b08efe3db0e174215a0",
          "official/arena-hard-v2.0.yaml"),
         ("utils/judge_utils.py", "cbb093f4fc27408d8447e946392f26f98538b1e3950f574aca91a0f7595167b4",
          f"official/{JUDGE_UTILS}"))),
)}


def kit_files(base_url: str, data_dir: Path, config_dir: Path, bench: str = V0_1.default_bench) -> list[RemoteFile]:
    """A bench's official kit: the question set, the baseline's answers and the judge configuration.

    Configuration goes to <config_dir>/official/, never over the repository's own configs in
    config/, which read the official wording from there."""
    kit = KITS[bench]
    root = f"{base_url.rstrip('/')}/{kit.repo}/{kit.commit}"
    upstream, local = Bench(kit.bench), Bench(kit.bench, Path(data_dir))  # the same layout in upstream's repository
    files = [(upstream.question_file.as_posix(), kit.question_sha256, local.question_file),
             (upstream.answer_file(kit.baseline).as_posix(), kit.baseline_sha256, local.answer_file(kit.baseline))]
    files += [(path, sha256, Path(config_dir) / destination) for path, sha256, destination in kit.configs]
    return [RemoteFile(f"{root}/{path}", destination, Checksum(SHA256, sha256)) for path, sha256, destination in files]


def bench_builder_files(base_url: str, config_dir: Path) -> list[RemoteFile]:
    """BenchBuilder's category.py at the pinned v2.0 commit, to <config_dir>/official/category.py."""
    path, sha256 = BENCH_BUILDER_FILE
    return [RemoteFile(f"{base_url.rstrip('/')}/{V2_REPO}/{V2_COMMIT}/{path}",
                       Path(config_dir) / "official" / Path(path).name, Checksum(SHA256, sha256))]


@dataclass(frozen=True)
class UrlTransfer:
    """Files whose `url` is a plain download URL, fetched with `client`."""

    client: HttpClient

    def place(self, file: RemoteFile) -> None:
        self.client.fetch(file.url, lambda response: atomic_write_bytes(file.destination,
                                                                           _verified_body(response, file)))


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
        raise file.checksum.mismatch(digest.hexdigest(), file.url)
