"""Fetch the official Arena-Hard-Auto files of a bench, and on request upstream's pre-generated data.

    python download_data.py                   # the v0.1 kit: questions, baseline answers, judge config
    python download_data.py --pregenerated    # + answers of many models and their judgments
    python download_data.py --pregenerated --judge '*' --model 'claude-3*'
    python download_data.py --bench arena-hard-v2.0 [--pregenerated]   # the v2.0 kit (+ published data)
    python download_data.py --bench-builder   # + BenchBuilder's labelling criteria, for build_bench.py

Writes, relative to the working directory: data/arena-hard-v0.1/question.jsonl,
data/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl and config/official/judge_config.yaml (read by
the default config/judge_config.yaml), all from lm-sys/arena-hard-auto at commit efc012e; with
--bench arena-hard-v2.0 instead data/arena-hard-v2.0/question.jsonl, its model_answer/o3-mini-2025-01-31.jsonl,
config/official/arena-hard-v2.0.yaml and config/official/judge_utils.py from lmarena/arena-hard-auto
at commit 196f6b8, and config/official/judge_settings.yaml derived from the latter; with
--pregenerated also data/<bench>/model_answer/*.jsonl and data/<bench>/model_judgment/<judge>/*.jsonl
from the Hugging Face dataset lmarena-ai/arena-hard-auto; with --bench-builder also
config/official/category.py (BenchBuilder/category.py of lmarena/arena-hard-auto at commit 196f6b8,
whose criteria build_bench.py reads). Every file is verified against its checksum
before it is renamed into place; files already there and verified are skipped. Prints one line per
file and a summary; exits 0 only if everything requested is present and verified, 1 on network or
server failures, 2 on failures the user can fix (a wrong address, a local file with other content)."""
from __future__ import annotations

import argparse
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from arena_hard.core.bench_builder_criteria import parse_category_file
from arena_hard.core.bench_version import V0_1, version_for
from arena_hard.download.derive import derive_judge_settings
from arena_hard.core.errors import ArgumentParser, run_main
from arena_hard.download.file_sync import FAILED, sync_files
from arena_hard.download.http_client import FetchError, HttpClient, Retrying
from arena_hard.download.hub import HF_DATASET, HF_DEFAULT_REVISION, HF_ROOT, HubDataset, plan_pregenerated
from arena_hard.download.hub_selection import Selection
from arena_hard.download.official_kit import (GITHUB_RAW_ROOT, JUDGE_UTILS, KITS, UPSTREAM_REPO, V2_COMMIT,
                                              V2_REPO, UrlTransfer, bench_builder_files, kit_files)
from arena_hard.download.sync_report import exit_status, outcome_line, summary
from arena_hard.core.retry_policy import RetryPolicy

BASE_URL_ENV = "ARENA_HARD_BASE_URL"
HF_BASE_URL_ENV = "HF_ENDPOINT"  # the variable huggingface_hub itself reads for a mirror
T = TypeVar("T")


def _is_url(text: str) -> bool:
    parts = urllib.parse.urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _checked(convert: Callable[[str], T], valid: Callable[[T], bool], what: str) -> Callable[[str], T]:
    """An argparse `type` that converts a flag's text and names what was expected if it is wrong."""
    def parse(text: str) -> T:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value
    return parse


_url = _checked(lambda text: text.rstrip("/"), _is_url, "an http(s) URL")
_positive_int = _checked(int, lambda n: n >= 1, "an integer >= 1")
_count = _checked(int, lambda n: n >= 0, "an integer >= 0")
_seconds = _checked(float, lambda x: x > 0, "a number of seconds > 0")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="download_data.py",
        description="Fetch a bench's official Arena-Hard-Auto kit (pinned upstream commit, checksums "
                    "verified) and, with --pregenerated, official answers and judgments of many models.")
    parser.add_argument("--data-dir", type=Path, default=Path("data"),
                        help="where data/<bench>/... goes (default: %(default)s)")
    parser.add_argument("--config-dir", type=Path, default=Path("config"),
                        help="the judge configuration goes to CONFIG_DIR/official/judge_config.yaml "
                             "(default: %(default)s)")
    parser.add_argument("--base-url", type=_url, default=None,
                        help=f"raw-file root serving <repo>/<commit>/<path>, e.g. {UPSTREAM_REPO}/... (default: ${BASE_URL_ENV} "
                             f"or {GITHUB_RAW_ROOT})")
    parser.add_argument("--pregenerated", action="store_true",
                        help=f"also fetch pre-generated answers and judgments from the Hugging Face dataset "
                             f"{HF_DATASET}")
    parser.add_argument("--bench", default=V0_1.default_bench,
                        help=f"the bench: its official kit ({', '.join(KITS)}) and, with --pregenerated, its "
                             "folder on the Hub (default: %(default)s)")
    parser.add_argument("--bench-builder", action="store_true",
                        help="also fetch BenchBuilder's labelling criteria (BenchBuilder/category.py, pinned) to "
                             "CONFIG_DIR/official/category.py, which build_bench.py reads")
    parser.add_argument("--judge", action="append", metavar="GLOB",
                        help="with --pregenerated: judgments by judges matching GLOB; repeatable; '*' for all "
                             f"(default: the bench's official judge, {V0_1.default_judge} for v0.1)")
    parser.add_argument("--model", action="append", metavar="GLOB",
                        help="with --pregenerated: answers and judgments of models matching GLOB; repeatable "
                             "(default: all)")
    parser.add_argument("--hf-base-url", type=_url, default=None,
                        help=f"Hugging Face Hub root (default: ${HF_BASE_URL_ENV} or {HF_ROOT})")
    parser.add_argument("--hf-repo", default=HF_DATASET, help="dataset repository (default: %(default)s)")
    parser.add_argument("--hf-revision", default=HF_DEFAULT_REVISION,
                        help="branch, tag or commit of the dataset (default: %(default)s; the commit it "
                             "points at is printed, pass it here to fetch the same files again)")
    parser.add_argument("--force", action="store_true",
                        help="replace local files whose content differs (only once the new copy verifies); "
                             "without it they are left untouched and reported")
    parser.add_argument("--dry-run", action="store_true",
                        help="check local files and list what would be downloaded, download nothing")
    parser.add_argument("--parallel", type=_positive_int, default=4, help="downloads at once (default: %(default)s)")
    parser.add_argument("--timeout", type=_seconds, default=60.0,
                        help="seconds to wait for a connection or for data (default: %(default)s)")
    parser.add_argument("--retries", type=_count, default=3,
                        help="further attempts after a transient failure: dropped connection, timeout, "
                             "HTTP 408/429/5xx; never after a 404 (default: %(default)s)")
    return parser


def _base_url(parser: ArgumentParser, given: str | None, env_name: str, default: str) -> str:
    if given is not None:
        return given
    from_env = os.environ.get(env_name, "").strip()
    if not from_env:
        return default
    if not _is_url(from_env):
        parser.error(f"${env_name} is {from_env!r}, not an http(s) URL")
    return from_env.rstrip("/")


def criteria_line(path: Path) -> tuple[str, bool]:
    """(the line to print, whether BenchBuilder's criteria can be read out of the verified file)."""
    try:
        criteria = parse_category_file(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as error:
        return f"{'failed':<18} {path}: cannot read BenchBuilder's criteria out of it ({error})", False
    return f"{'criteria':<18} {path}: {criteria.name_tag}, {len(criteria.tags)} criteria ({', '.join(criteria.names)})", True


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.pregenerated:
        for flag, value in (("--judge", args.judge), ("--model", args.model)):
            if value is not None:
                parser.error(f"{flag} selects pre-generated data: add --pregenerated")
        if args.bench not in KITS:
            parser.error(f"--bench {args.bench}: no official kit (there are: {', '.join(KITS)}); add --pregenerated "
                         "to fetch that bench's published data from the Hub")
    base_url = _base_url(parser, args.base_url, BASE_URL_ENV, GITHUB_RAW_ROOT)
    retrying = Retrying(RetryPolicy(max_attempts=args.retries + 1, backoff_base=1.0, backoff_max=60.0))
    kit = KITS.get(args.bench)
    kit_list = kit_files(base_url, args.data_dir, args.config_dir, args.bench) if kit else []
    criteria_files = bench_builder_files(base_url, args.config_dir) if args.bench_builder else []
    kit_list += criteria_files
    headers = [f"official kit: {kit.repo} at commit {kit.commit[:7]} from {base_url}" if kit else
               f"official kit: none for {args.bench}"]
    if criteria_files:
        headers.append(f"BenchBuilder's criteria: {V2_REPO} at commit {V2_COMMIT[:7]} from {base_url}")
    batches = [(UrlTransfer(HttpClient(args.timeout, retrying)), kit_list)]
    if args.pregenerated:
        hub = HubDataset(_base_url(parser, args.hf_base_url, HF_BASE_URL_ENV, HF_ROOT), args.hf_repo,
                         args.hf_revision, args.timeout)
        selection = Selection(args.bench, tuple(args.judge or (version_for(args.bench).default_judge,)),
                              tuple(args.model or ("*",)))
        try:
            commit, pregenerated, transfer = plan_pregenerated(retrying, hub, selection, args.data_dir,
                                                               keep=[file.destination for file in kit_list])
        except FetchError as error:
            print(f"error: cannot list the pre-generated files: {error}", file=sys.stderr)
            return 1
        headers.append(f"pre-generated: {hub.repo} at {hub.revision} (commit {commit}) from {hub.base_url}: "
                       f"{len(pregenerated)} files for bench {selection.bench}, judges "
                       f"{' '.join(selection.judges)}, models {' '.join(selection.models)}")
        batches.append((transfer, pregenerated))
    print("\n".join(headers), flush=True)
    outcomes = [outcome for transfer, files in batches
                for outcome in sync_files(transfer, files, force=args.force, dry_run=args.dry_run,
                                          parallel=args.parallel,
                                          report=lambda outcome: print(outcome_line(outcome), flush=True))]
    status = exit_status(outcomes)
    judge_utils = [o for o in outcomes if o.file.destination.name == JUDGE_UTILS and o.status != FAILED]
    if judge_utils:  # verified (or, in a dry run, to be fetched): the judge settings follow from it
        line, derived = derive_judge_settings(args.config_dir, dry_run=args.dry_run)
        print(line, flush=True)
        status = status or (0 if derived else 1)
    criteria = [o for o in outcomes if o.file in criteria_files and o.status != FAILED]
    if criteria and not args.dry_run:  # verified: the criteria must read out of it
        line, read = criteria_line(criteria[0].file.destination)
        print(line, flush=True)
        status = status or (0 if read else 1)
    print(summary(outcomes))
    return status


if __name__ == "__main__":
    run_main(main)
