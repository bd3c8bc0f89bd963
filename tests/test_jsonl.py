"""JSONL reading errors, crash repair, one-write-per-line appending and atomic rewrites."""
from __future__ import annotations

import json
import os

import pytest

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import JsonlAppender, atomic_write_jsonl, iter_jsonl, repair_tail


def read_jsonl(path, skip_truncated_tail=False):
    return [record for _, record in iter_jsonl(path, skip_truncated_tail=skip_truncated_tail)]


def write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_reads_objects_and_skips_blank_lines(tmp_path):
    path = write(tmp_path / "a.jsonl", b'{"a": 1}\n\n{"a": 2}\n')
    assert [(n, r["a"]) for n, r in iter_jsonl(path)] == [(1, 1), (3, 2)]


@pytest.mark.parametrize("data, message", [
    (b'{"a": 1}\n{"a": \n{"a": 3}\n', r"a.jsonl:2: not valid JSON"),
    (b'{"a": 1}\n[1, 2]\n', r"a.jsonl:2: expected a JSON object, found list"),
    (b'{"a": "\xff"}\n', r"a.jsonl:1: not valid UTF-8"),
    (b'{"a": 1}\n{"a": 2, "b"', r"a.jsonl:2: the last line is cut short"),
])
def test_errors_name_file_and_line(tmp_path, data, message):
    path = write(tmp_path / "a.jsonl", data)
    with pytest.raises(UserError, match=message):
        read_jsonl(path)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        read_jsonl(tmp_path / "nope.jsonl")


def test_truncated_tail_can_be_skipped_and_is_repaired(tmp_path):
    path = write(tmp_path / "a.jsonl", b'{"a": 1}\n{"a": 2}\n{"a": 3, "b": "cut')
    assert [r["a"] for r in read_jsonl(path, skip_truncated_tail=True)] == [1, 2]
    assert "removed an incomplete last line" in repair_tail(path)
    assert path.read_bytes() == b'{"a": 1}\n{"a": 2}\n'
    assert repair_tail(path) is None


def test_complete_last_record_without_newline_gets_one(tmp_path):
    path = write(tmp_path / "a.jsonl", b'{"a": 1}\n{"a": 2}')
    assert [r["a"] for r in read_jsonl(path)] == [1, 2]
    assert "missing newline" in repair_tail(path)
    assert path.read_bytes() == b'{"a": 1}\n{"a": 2}\n'


def test_repair_finds_a_line_start_beyond_one_read_block(tmp_path):
    long_cut = b'{"text": "' + b"x" * 200_000
    path = write(tmp_path / "a.jsonl", b'{"a": 1}\n' + long_cut)
    repair_tail(path)
    assert path.read_bytes() == b'{"a": 1}\n'
    only_cut = write(tmp_path / "b.jsonl", long_cut)
    repair_tail(only_cut)
    assert only_cut.read_bytes() == b""


def test_appender_writes_whole_lines_and_appends(tmp_path):
    path = tmp_path / "sub" / "out.jsonl"
    with JsonlAppender(path) as out:
        out.write({"q": "1", "text": "héllo\nworld"})
    with JsonlAppender(path) as out:
        out.write({"q": "2"})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["q"] for line in lines] == ["1", "2"]
    assert "héllo" in lines[0]  # UTF-8, not \u escapes, as upstream


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    path = write(tmp_path / "a.jsonl", b'{"old": 1}\n')
    atomic_write_jsonl(path, [{"new": 1}, {"new": 2}])
    assert [r["new"] for r in read_jsonl(path)] == [1, 2]
    assert sorted(os.listdir(tmp_path)) == ["a.jsonl"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path):
    path = write(tmp_path / "a.jsonl", b'{"old": 1}\n')

    def records():
        yield {"new": 1}
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write_jsonl(path, records())
    assert path.read_bytes() == b'{"old": 1}\n'
    assert sorted(os.listdir(tmp_path)) == ["a.jsonl"]


def test_rewrite_sorted_unique_keeps_the_last_line_of_each_key_byte_for_byte(tmp_path):
    from arena_hard.core.jsonl import rewrite_sorted_unique

    path = write(tmp_path / "a.jsonl", b'{"id": "b", "v": 1}\n{"id":"a",  "v": 1}\n\n{"id": "b", "v": 2}\n')
    rewrite_sorted_unique(path, lambda record, where: record["id"])
    assert path.read_bytes() == b'{"id":"a",  "v": 1}\n{"id": "b", "v": 2}\n'
    assert sorted(os.listdir(tmp_path)) == ["a.jsonl"]


BOM = "\ufeff".encode()


@pytest.mark.parametrize("data", [BOM, BOM + b"\n", BOM + b"  \r\n\n ", "\u00a0\u3000\n".encode(), BOM * 2 + b"\n"])
def test_a_file_of_white_space_and_byte_order_marks_holds_no_record_nor_a_cut_line(tmp_path, data):
    from arena_hard.core.jsonl import rewrite_sorted_unique, scan_jsonl

    path = write(tmp_path / "a.jsonl", data)
    assert read_jsonl(path) == [] and list(scan_jsonl(path)) == []
    rewrite_sorted_unique(path, lambda record, where: record["id"])
    assert path.read_bytes() == b""


def test_a_record_after_a_byte_order_mark_and_a_blank_line_of_them_are_read(tmp_path):
    from arena_hard.core.jsonl import rewrite_sorted_unique, scan_jsonl

    path = write(tmp_path / "a.jsonl", BOM + b'{"id": "b"}\n' + BOM + b"\n" + b'{"id": "a"}\n')
    assert [(n, r["id"]) for n, r in iter_jsonl(path)] == [(n, r["id"]) for n, r in scan_jsonl(path)] == [(1, "b"), (3, "a")]
    rewrite_sorted_unique(path, lambda record, where: record["id"])
    assert path.read_bytes() == b'{"id": "a"}\n' + BOM + b'{"id": "b"}\n'
