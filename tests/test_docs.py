"""The manual matches the scripts: every flag a script's --help lists is explained there (with its default
when it has one) and appears in docs/; every relative link in README.md and docs/*.md reaches an existing
file and, when it names one, an existing heading (GitHub's anchor for it). The scripts' parsers are the
ones their main() builds, caught as main() hands them its arguments. The recipe docs/testing.md gives for
upstream's reference files (download_data.py into a folder) gives what the tests read."""
from __future__ import annotations

import argparse
import importlib
import re
import shutil
from pathlib import Path
from unittest import mock

import pytest

from conftest import (HOW_BENCH_BUILDER, REPO_ROOT, UPSTREAM_BENCH_BUILDER_FILES, UPSTREAM_FILES, UPSTREAM_V2_FILES,
                      reference_folder)
from test_download import run_script as run_download, server  # noqa: F401 (fixture)
from test_download_v2 import V2_PREFIX

SCRIPTS = ("gen_answer", "gen_judgment", "show_result", "qa_browser", "download_data", "demo", "benchmark_quality",
           "build_bench")
DOCS = REPO_ROOT / "docs"
MANUAL = [REPO_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")


class _Parsed(Exception):
    def __init__(self, parser: argparse.ArgumentParser):
        super().__init__(parser.prog)
        self.parser = parser


def script_parser(name: str) -> argparse.ArgumentParser:
    """The parser `name`.main() builds: main runs until it parses its arguments, and stops there."""
    def caught(parser, args=None, namespace=None):
        raise _Parsed(parser)

    module = importlib.import_module(name)
    with mock.patch.object(argparse.ArgumentParser, "parse_args", caught):
        try:
            module.main([])
        except _Parsed as parsed:
            return parsed.parser
    raise AssertionError(f"{name}.main() returned without parsing its arguments")


def flags(parser: argparse.ArgumentParser) -> list[str]:
    return [option for action in parser._actions for option in action.option_strings if option.startswith("--")]


def prose(path: Path) -> list[tuple[int, str]]:
    """The lines of a Markdown file outside fenced code blocks, with their line numbers."""
    lines, fenced = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text lower-cased, punctuation dropped, spaces as '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    text = re.sub(r"[`*]", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose(path):
        heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            slug = github_anchor(heading.group(1))
            found.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
            seen[slug] = seen.get(slug, 0) + 1
    return found


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_flag_of_the_scripts_help_is_in_the_docs(script):
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md")))
    missing = [flag for flag in flags(script_parser(script))
               if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text)]
    assert missing == [], f"{script}.py flags not in docs/*.md"


def shows_default(help_text: str, default: object) -> bool:
    shown = {str(default)} | ({f"{default:g}"} if isinstance(default, float) else set())
    return "default" in help_text and any(value in help_text for value in shown)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_flag_is_explained_with_its_default(script):
    parser = script_parser(script)
    formatter = parser._get_formatter()
    unexplained = [action.option_strings for action in parser._actions if not (action.help or "").strip()]
    assert unexplained == [], f"{script}.py: flags without help"
    hidden = [action.option_strings for action in parser._actions
              if action.option_strings and action.default not in (None, False, argparse.SUPPRESS)
              and not shows_default(formatter._expand_help(action), action.default)]
    assert hidden == [], f"{script}.py: defaults not shown in --help"


def test_show_result_takes_bench_as_download_data_spells_it():
    show_result = importlib.import_module("show_result")
    assert show_result.parse_args(["--bench", "arena-hard-v2.0"]).bench_name == "arena-hard-v2.0"
    assert show_result.parse_args(["--bench", "arena-hard-v0.1"]).bench_name == "arena-hard-v0.1"


def test_the_link_checker_knows_githubs_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Arena-Hard v2.0\n## 3. Answers: `gen_answer.py`\n```\n# not a heading\n```\n## Notes\n## Notes\n")
    assert anchors(page) == {"arena-hard-v20", "3-answers-gen_answerpy", "notes", "notes-1"}


@pytest.mark.parametrize("page", MANUAL, ids=lambda path: path.relative_to(REPO_ROOT).as_posix())
def test_every_relative_link_resolves(page):
    broken = []
    for number, line in prose(page):
        for target in LINK.findall(line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
                continue
            path_part, _, anchor = target.partition("#")
            linked = (page.parent / path_part).resolve() if path_part else page
            if not linked.exists():
                broken.append(f"line {number}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"line {number}: {target} (no heading with that anchor)")
    assert broken == []


def test_the_manual_has_its_pages():
    assert {path.name for path in DOCS.glob("*.md")} >= {
        "configuration.md", "generation.md", "batch.md", "leaderboard.md", "v2.md", "browser.md", "performance.md",
        "reliability.md", "differences.md", "layout.md"}


def test_a_folder_download_data_filled_serves_as_the_upstream_reference_files(server, upstream_dir, upstream_v2_dir,
                                                                             tmp_path, tmp_path_factory):
    server.raw_roots[V2_PREFIX] = upstream_v2_dir
    folder = tmp_path / "reference"
    for bench, extra in (("arena-hard-v0.1", ()), ("arena-hard-v2.0", ("--bench-builder",))):
        result = run_download(tmp_path, "--bench", bench, "--base-url", server.url, *extra,
                              "--data-dir", str(folder / "data"), "--config-dir", str(folder / "config"))
        assert result.returncode == 0, result.stdout + result.stderr
    for model in ("gpt-4-0613", "gpt-3.5-turbo-0125"):  # from the Hub with --pregenerated; not in the fake Hub
        path = f"data/arena-hard-v0.1/model_answer/{model}.jsonl"
        shutil.copy(upstream_dir / path, folder / path)
    for files, variable, reference, how in ((UPSTREAM_FILES, "ARENA_UPSTREAM_DIR", upstream_dir, None),
                                            (UPSTREAM_V2_FILES, "ARENA_UPSTREAM_V2_DIR", upstream_v2_dir, None),
                                            (UPSTREAM_BENCH_BUILDER_FILES, "ARENA_UPSTREAM_V2_DIR", upstream_v2_dir,
                                             HOW_BENCH_BUILDER)):
        view = reference_folder(folder, files, variable, tmp_path_factory, how)
        assert [path for path in files if (view / path).read_bytes() != (reference / path).read_bytes()] == []


def test_without_the_reference_files_the_skip_says_how_to_provide_them(tmp_path, tmp_path_factory):
    with pytest.raises(pytest.skip.Exception) as skipped:
        reference_folder(tmp_path, UPSTREAM_V2_FILES, "ARENA_UPSTREAM_V2_DIR", tmp_path_factory)
    assert (f"not at {tmp_path} (no data/arena-hard-v2.0/question.jsonl): set ARENA_UPSTREAM_V2_DIR=DIR after "
            "python download_data.py --bench arena-hard-v2.0 --data-dir DIR/data --config-dir DIR/config "
            "(see docs/testing.md)") in str(skipped.value)


def test_without_the_seed_notebook_files_the_skip_says_how_to_provide_them(tmp_path):
    from conftest import SEED_NOTEBOOK_FILES, seed_notebook_folder

    (tmp_path / "chatbot_arena_20240329.csv").write_text("model,rating\n")  # one file alone is not enough
    with pytest.raises(pytest.skip.Exception) as skipped:
        seed_notebook_folder(tmp_path)
    assert (f"the seed notebook's files are not at {tmp_path} (no {SEED_NOTEBOOK_FILES[0]}): set "
            "ARENA_SEED_NOTEBOOK_DIR=DIR holding the seed repository's notebook/ files and Chatbot Arena's table "
            "as CSV (see docs/testing.md)") in str(skipped.value)
    testing = (DOCS / "testing.md").read_text(encoding="utf-8")
    assert all(name in testing for name in ("seed_notebook_dir", "ARENA_SEED_NOTEBOOK_DIR", *SEED_NOTEBOOK_FILES))
