"""Token and markdown counts match upstream's (arena_hard.core.textstats).

The markdown counts are checked against `upstream_counts`, an independent implementation of upstream's
procedure (utils/add_markdown_info.py) written here with scans and line splits instead of regular
expressions: take the content between each pair of triple-backtick fences (leftmost first, content
without backticks), delete every occurrence of that content anywhere in the answer (the fences stay),
then count headers, list items and bold spans in what is left."""
from __future__ import annotations

import pytest

from arena_hard.core.records import load_answers
from arena_hard.core.textstats import conv_metadata, count_tokens, markdown_counts

MODELS = ("gpt-4-0314", "gpt-4-0613", "gpt-3.5-turbo-0125")
FENCE = "```"


def fenced_contents(text: str) -> list[str]:
    """Contents of the fenced blocks as upstream's scan finds them: from the leftmost fence, the run of
    non-backtick characters must end in another fence; if not, try the next fence after that position."""
    contents, start = [], text.find(FENCE)
    while start != -1:
        end = start + len(FENCE)
        while end < len(text) and text[end] != "`":
            end += 1
        if text.startswith(FENCE, end):
            contents.append(text[start + len(FENCE):end])
            start = text.find(FENCE, end + len(FENCE))
        else:
            start = text.find(FENCE, start + 1)
    return contents


def lines_with_ends(text: str) -> list[tuple[str, bool]]:
    """Each line (split at '\\n' only) and whether a newline follows it."""
    parts = text.split("\n")
    return [(part, i < len(parts) - 1) for i, part in enumerate(parts)]


def whitespace_after(line: str, position: int, newline_follows: bool) -> bool:
    return line[position].isspace() if position < len(line) else newline_follows


def header_level(line: str, newline_follows: bool) -> int | None:
    hashes = len(line) - len(line.lstrip("#"))
    return hashes if 1 <= hashes <= 6 and whitespace_after(line, hashes, newline_follows) else None


def list_kind(line: str, newline_follows: bool) -> str | None:
    body = line.lstrip()  # leading whitespace, and whitespace-only lines before, never matter
    indent = len(line) - len(body)
    if body[:1] in ("-", "*", "+") and whitespace_after(line, indent + 1, newline_follows):
        return "unordered"
    digits = 0
    while digits < len(body) and body[digits].isdecimal():
        digits += 1
    if digits and body[digits:digits + 1] == "." and whitespace_after(line, indent + digits + 1, newline_follows):
        return "ordered"
    return None


def count_spans(text: str, marker: str) -> int:
    """Non-overlapping `marker`, one or more characters other than the marker's and newline, `marker`."""
    count, i = 0, 0
    while i < len(text):
        if text.startswith(marker, i):
            end = i + 2
            while end < len(text) and text[end] not in (marker[0], "\n"):
                end += 1
            if end > i + 2 and text.startswith(marker, end):
                count += 1
                i = end + 2
                continue
        i += 1
    return count


def upstream_counts(text: str) -> dict[str, dict[str, int]]:
    for content in fenced_contents(text):
        text = text.replace(content, "")
    headers = {f"h{k}": 0 for k in range(1, 7)}
    lists = {"ordered": 0, "unordered": 0}
    for line, newline_follows in lines_with_ends(text):
        level = header_level(line, newline_follows)
        if level:
            headers[f"h{level}"] += 1
        kind = list_kind(line, newline_follows)
        if kind:
            lists[kind] += 1
    return {"header_count": headers, "list_count": lists,
            "bold_count": {"**": count_spans(text, "**"), "__": count_spans(text, "__")}}


@pytest.mark.parametrize("model, mean", [("gpt-4-0314", 423.262), ("gpt-4-0613", 354.886),
                                         ("gpt-3.5-turbo-0125", 329.728)])
def test_token_counts_equal_the_official_files(upstream_dir, model, mean):
    answers = load_answers(upstream_dir / "data" / "arena-hard-v0.1" / "model_answer" / f"{model}.jsonl")
    counted = [count_tokens(a.turns[0]) for a in answers.values()]
    assert counted == [a.token_len for a in answers.values()]
    assert sum(counted) / len(counted) == pytest.approx(mean, abs=1e-9)


def test_markdown_counts_equal_upstreams_procedure_on_all_official_answers(upstream_dir):
    texts = [answer.turns[-1] for model in MODELS for answer in
             load_answers(upstream_dir / "data" / "arena-hard-v0.1" / "model_answer" / f"{model}.jsonl").values()]
    assert len(texts) == 1500
    differing = [text[:60] for text in texts if markdown_counts(text) != upstream_counts(text)]
    assert differing == []
    # upstream's quirk is exercised: some answers repeat a block's content outside the block
    assert any(text.count(content) > 1 for text in texts for content in fenced_contents(text) if content)


@pytest.mark.parametrize("text", [
    "# a\n```\n# a\n```\n",  # the block's content also occurs outside it: both copies go
    "```x`y```\n# h\n```\n## z\n```",  # a backtick inside: that "block" does not match
    "````\n# h\n```\n- a\n",  # four backticks open
    "```\n```\n**b**",  # an empty block deletes nothing
    "#\n##\t\n1.\n2.x\n-\n\n\n  * a\n__a__ **a*b** ****\n",
    "## x\r\n\u00a0- a\n\u0663. arabic-indic digit\n",
])
def test_markdown_counts_match_upstreams_procedure_on_its_quirks(text):
    assert markdown_counts(text) == upstream_counts(text)


def test_a_block_content_found_elsewhere_is_deleted_there_too():
    text = "Intro\n- item\n```\n- item\n```\n* other\n"  # the content "\n- item\n" occurs twice
    assert markdown_counts(text)["list_count"] == {"ordered": 0, "unordered": 1}


def test_special_tokens_count_as_plain_text():
    assert count_tokens("<|endoftext|>") > 1


def test_markdown_counts_by_hand():
    text = ("# Title\n## Part\n###NoSpace\n#### Deep\n"
            "1. one\n  2. two\n10.ten\n- a\n* b\n+ c\n-not\n"
            "**bold** and __also__ and **not\nbold**\n"
            "```\n# not a header\n- not a list\n**not bold**\n```\n")
    counts = markdown_counts(text)
    assert counts["header_count"] == {"h1": 1, "h2": 1, "h3": 0, "h4": 1, "h5": 0, "h6": 0}
    assert counts["list_count"] == {"ordered": 2, "unordered": 3}
    assert counts["bold_count"] == {"**": 1, "__": 1}


def test_conv_metadata_counts_tokens_over_the_whole_text():
    text = "Intro\n```python\nprint('x')\n```\n## After"
    meta = conv_metadata(text)
    assert meta["token_len"] == count_tokens(text)
    assert meta["header_count"]["h2"] == 1
