"""The shared run loop's file handling (arena_hard.generate.pipeline): what a resume finds and cleans up."""
from __future__ import annotations

from arena_hard.generate.pipeline import finish_output, open_output


def test_resume_repairs_the_tail_and_removes_a_killed_rewrites_temp_file(tmp_path, capsys):
    path = tmp_path / "m.jsonl"
    path.write_bytes(b'{"question_id": "q2", "games": [1, 2]}\n{"question_id": "q1", "games": [1]}\n{"question_id": "q3", "ga')
    leftover = tmp_path / ".m.jsonl.abc123.tmp"  # what atomic_write_bytes leaves when killed before its rename
    leftover.write_bytes(b'{"question_id": "q1"}\n')
    done = open_output(path, lambda record: len(record["games"]) == 2)
    assert done == {"q2"}
    assert not leftover.exists()
    assert "removed an incomplete last line" in capsys.readouterr().err
    finish_output(path)
    assert path.read_bytes() == b'{"question_id": "q1", "games": [1]}\n{"question_id": "q2", "games": [1, 2]}\n'
