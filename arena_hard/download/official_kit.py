"""The official Arena-Hard-Auto v0.1 kit, and fetching files from plain URLs.

The kit comes from upstream's GitHub repository pinned at commit efc012e: the question set, the v0.1
baseline's official answers and the official judge configuration, each with its sha256 written below.
`kit_files` says where each goes: data/<bench>/question.jsonl, data/<bench>/model_answer/<baseline>.jsonl
and config/official/judge_config.yaml (where the default config/judge_config.yaml reads the official
prompt from). `UrlTransfer` fetches a file over HTTP (http_client.HttpClient, with its retries) and
hashes it on the way, writing it through a temporary file that is renamed into place only once the
checksum verified (file_sync does the rest)."""
from __future__ import annotations

import http.client
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from arena_hard.core.bench_version import V0_1
from arena_hard.core.jsonl import atomic_write_bytes
from arena_hard.core.records import Bench
from arena_hard.download.file_sync import SHA256, Checksum, RemoteFile
from arena_hard.download.http_client import FetchError, HttpClient, body_chunks

UPSTREAM_REPO = "lm-sys/arena-hard-auto"
UPSTREAM_COMMIT = "efc012e192b88024a5203f5a28ec8fc0342946df"
GITHUB_RAW_ROOT = "https://raw.githubusercontent.com"
QUESTION_SHA256 = "4daad38811161c3ba5c248f26b90c3cef89634f4c772002ed9138c1e13f63e9f"
BASELINE_SHA256 = "245109b8fe7c3bef0304f1c559d29da377f97f61535ad1170b46a61a08eb9ac7"
JUDGE_CONFIG_SHA256 = "6e001736bacacdb1591ffca7eec953a7089f8f5604872d1ca4f9a6f9de1ee451"


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
