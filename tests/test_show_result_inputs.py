"""The inputs of the leaderboard: the lean JSONL reader accepts and rejects exactly what
jsonl.iter_jsonl does (with its file:line messages), the cache's validity rules, and the per-answer
figures (token_len precedence, counting when absent, style counts from conv_metadata or the text)."""
from __future__ import annotations

import json
import os

import pytest

from arena_hard.core import textstats
from arena_hard.scoring.answer_stats import style_table, token_lens
from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import decode_json, iter_jsonl, scan_jsonl
from arena_hard.core import parallel
from arena_hard.scoring.score_cache import FileCache
from show_result_fixtures import write_lines

GOOD = {
    "blank lines and CRLF": b'{"a": 1}\r\n\n  \n{"a": 2}\n',
    "no final newline": b'{"a": 1}\n{"a": 2}',
    "byte-order mark": b'\xef\xbb\xbf{"a": 1}\n',
    "wide characters": '{"a": "\u00e9\u4e2d\U0001F600"}\n'.encode(),
    # what json.loads takes and the fast decoder refuses or reads otherwise: it must come out as json.loads has it
    "NaN and Infinity": b'{"a": NaN, "b": -Infinity, "c": 1e400}\n',
    "lone surrogate": b'{"a": "\\ud800"}\n',
    "beyond 64 bits": b'{"a": 123456789012345678901234567890, "b": -0.0, "c": 0.1}\n',
    "repeated key": b'{"a": 1, "a": 2}\n',
}
BAD = {
    "bad JSON": b'{"a": 1}\n{"a": \n{"a": 3}\n',
    "not an object": b'{"a": 1}\n[1, 2]\n',
    "bad UTF-8": b'{"a": 1}\n{"a": "\xff"}\n',
    "cut-off last line": b'{"a": 1}\n{"a": "tru',
}


@pytest.mark.parametrize("content", GOOD.values(), ids=GOOD.keys())
def test_scan_reads_what_iter_jsonl_reads(tmp_path, content):
    path = tmp_path / "f.jsonl"
    path.write_bytes(content)
    assert list(scan_jsonl(path)) == list(iter_jsonl(path))


@pytest.mark.parametrize("content", GOOD.values(), ids=GOOD.keys())
def test_decode_json_reads_what_json_loads_reads(content):
    for line in content.splitlines():
        if line.strip():
            assert decode_json(line) == json.loads(line)


@pytest.mark.parametrize("line", [b'{"a": \n', b'{"a": "\xff"}', b"[1, 2"])
def test_decode_json_refuses_what_json_loads_refuses(line):
    with pytest.raises(ValueError):
        json.loads(line)
    with pytest.raises(ValueError):
        decode_json(line)


@pytest.mark.parametrize("content", BAD.values(), ids=BAD.keys())
def test_scan_rejects_with_iter_jsonls_message(tmp_path, content):
    path = tmp_path / "f.jsonl"
    path.write_bytes(content)
    with pytest.raises(UserError) as expected:
        list(iter_jsonl(path))
    with pytest.raises(UserError) as ours:
        list(scan_jsonl(path))
    assert str(ours.value) == str(expected.value) and f"{path}:2:" in str(ours.value)


def counting_builder(calls):
    def build(path):
        calls.append(path)
        return {"size": path.stat().st_size}
    return build


def aged(path, seconds=3600):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


def test_cache_hit_miss_and_racy_files(tmp_path):
    cache, calls = FileCache(tmp_path / "cache"), []
    source = tmp_path / "f.jsonl"
    source.write_text("{}\n")
    assert cache.get("k", source, counting_builder(calls)) == {"size": 3}
    assert cache.get("k", source, counting_builder(calls)) == {"size": 3}
    assert len(calls) == 2  # written just now: not trusted, parsed each time
    aged(source)
    cache.get("k", source, counting_builder(calls))
    assert cache.get("k", source, counting_builder(calls)) == {"size": 3} and len(calls) == 3
    assert cache.get("other-kind", source, counting_builder(calls)) and len(calls) == 4
    source.write_text("{}\n{}\n")
    aged(source)
    assert cache.get("k", source, counting_builder(calls)) == {"size": 6} and len(calls) == 5


def size_and_builder(path):
    return {"size": path.stat().st_size, "pid": os.getpid()}


def test_get_many_builds_only_the_misses_in_worker_processes_and_keeps_the_order(tmp_path):
    sources = [tmp_path / f"f{i}.jsonl" for i in range(4)]
    for i, source in enumerate(sources):
        source.write_text("{}\n" * (i + 1))
        aged(source)
    cache = FileCache(tmp_path / "cache")
    first = cache.get("k", sources[1], size_and_builder)  # built here and cached
    payloads = cache.get_many("k", sources, size_and_builder)
    assert [p["size"] for p in payloads] == [3, 6, 9, 12]
    assert payloads[1] == first  # taken from the cache, not built again
    if parallel.usable_cores() > 1:
        assert {payloads[i]["pid"] for i in (0, 2, 3)} - {os.getpid()}  # the misses: built by workers
    assert cache.get_many("k", sources, size_and_builder) == payloads  # now all cached


def test_corrupt_or_unwritable_cache_is_a_miss_not_an_error(tmp_path):
    source = tmp_path / "f.jsonl"
    source.write_text("{}\n")
    aged(source)
    cache, calls = FileCache(tmp_path / "cache"), []
    cache.get("k", source, counting_builder(calls))
    for entry in (tmp_path / "cache").iterdir():
        entry.write_text('{"version": 1, "sour')
    assert cache.get("k", source, counting_builder(calls)) == {"size": 3} and len(calls) == 2
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    assert FileCache(blocked / "cache").get("k", source, counting_builder(calls)) == {"size": 3}


def test_token_len_precedence_and_counting(tmp_path):
    path = write_lines(tmp_path / "m.jsonl", [
        {"question_id": "q1", "choices": [{"turns": [{"content": "x", "token_len": 10}]}],
         "conv_metadata": {"token_len": 99}},
        {"question_id": "q2", "choices": [{"turns": [{"content": "x"}]}], "conv_metadata": {"token_len": 20}},
        {"question_id": "q3", "choices": [{"turns": [{"content": "hello world, hello"}]}]},
        {"question_id": "q1", "choices": [{"turns": [{"content": "x", "token_len": 30}]}]},  # replaces line 1
    ])
    counted = textstats.count_tokens("hello world, hello")
    assert token_lens(path) == {"q1": 30, "q2": 20, "q3": counted}


def test_style_counts_from_metadata_or_from_the_text(tmp_path):
    text = "# Title\n\n- one\n- two\n1. first\n**bold** and __also__\n```\n# not a header\n```\n"
    path = write_lines(tmp_path / "m.jsonl", [
        {"question_id": "q1", "choices": [{"turns": [{"content": "x", "token_len": 5}]}],
         "conv_metadata": {"token_len": 7, "header_count": {"h1": 1, "h2": 2}, "list_count": {"ordered": 3,
                           "unordered": 1}, "bold_count": {"**": 2, "__": 0}}},
        {"question_id": "q2", "choices": [{"turns": [{"content": text, "token_len": 40}]}]},
    ])
    table = style_table(path)
    assert table["q1"] == [7, 3, 4, 2]
    assert table["q2"] == [40, 1, 3, 2]
    assert json.loads(json.dumps(table)) == table  # a cache payload
