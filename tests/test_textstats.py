"""Token and markdown counts match upstream's (arena_hard.core.textstats)."""
from __future__ import annotations

import pytest

from arena_hard.core.records import load_answers
from arena_hard.core.textstats import conv_metadata, count_tokens, markdown_counts


@pytest.mark.parametrize("model, mean", [("gpt-4-0314", 423.262), ("gpt-4-0613", 354.886),
                                         ("gpt-3.5-turbo-0125", 329.728)])
def test_token_counts_equal_the_official_files(upstream_dir, model, mean):
    answers = load_answers(upstream_dir / "data" / "arena-hard-v0.1" / "model_answer" / f"{model}.jsonl")
    counted = [count_tokens(a.turns[0]) for a in answers.values()]
    assert counted == [a.token_len for a in answers.values()]
    assert sum(counted) / len(counted) == pytest.approx(mean, abs=1e-9)


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
