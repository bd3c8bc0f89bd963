"""One reading of judgment records: the leaderboard's lean scan (scoring.verdict_labels.read_verdicts)
and the reader every other part uses (core.records.load_judgments) agree, record by record, on every
judgment fixture of the suite and on records at the edges of both formats; and fail on the same line
of a file that is not judgments."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from arena_hard.core.errors import UserError
from arena_hard.core.judgments import load_judgments
from arena_hard.scoring.verdict_labels import NO_VERDICT, NOT_PLAYED, label_code, read_verdicts
from show_result_fixtures import write_judgments
from test_download import fake_hub_files
from test_qa_browser_data import write_demo_bench

EDGE_RECORDS = [
    {"question_id": None, "uid": "q-null-id", "games": [{"score": "A>B"}, {"score": "B>A"}]},  # v2 with a null v0.1 id
    {"question_id": 7, "model": "", "games": [{"score": "A>>B"}]},  # an int id, an empty model, one game
    {"uid": "q-empty-names", "baseline": "", "category": "", "games": []},
    {"uid": "q-named", "model": "other", "baseline": "base", "category": "coding",
     "games": [None, {"score": "C>D"}, {"score": "A=B"}]},
    {"question_id": "q-no-score", "games": [{"judgment": "text only"}, {"score": 3}]},
]
BAD_RECORDS = [
    {"question_id": True, "games": []},
    {"question_id": None, "games": []},
    {"question_id": "q", "games": {"score": "A>B"}},
    {"uid": "q"},
]


def judgment_files(tmp_path: Path) -> list[Path]:
    demo = write_demo_bench(tmp_path / "browser")
    files = sorted(demo.judgment_dir("judge-x").glob("*.jsonl"))
    for name, data in fake_hub_files()[0].items():  # the current upstream format, as the Hub serves it
        if "/model_judgment/" in name:
            files.append(tmp_path / "hub" / name)
            files[-1].parent.mkdir(parents=True, exist_ok=True)
            files[-1].write_bytes(data)
    files.append(write_judgments(tmp_path / "scores", "m", [("q1", "A>B", "B>>A"), ("q2", None, "A=B"),
                                                           ("q1", "B>A", "weird")]))
    edge = tmp_path / "edge" / "model-x.jsonl"
    edge.parent.mkdir()
    edge.write_text("".join(json.dumps(record) + "\n" for record in EDGE_RECORDS), encoding="utf-8")
    return files + [edge]


def game_code(games: tuple, index: int) -> int:
    """The label code of a game as the records reader sees it; the second game of a record holding one
    (pairwise: False) was not played, which is not a game without a verdict."""
    if index >= len(games):
        return NOT_PLAYED if index and games else NO_VERDICT
    return label_code(games[index].score if games[index] else None)


def test_the_lean_scan_reads_every_fixture_as_the_reader_does(tmp_path):
    files = judgment_files(tmp_path)
    assert len(files) == 6
    for path in files:
        table = read_verdicts(path)
        judgments = load_judgments(path)
        codes = [(game_code(judgment.games, 0), game_code(judgment.games, 1)) for judgment in judgments]
        assert list(zip(table.question_ids, table.models, table.baselines, table.categories,
                        table.game1, table.game2)) == [
            (j.question_id, j.model, j.baseline, j.category, *code) for j, code in zip(judgments, codes)], path


def test_the_edge_records_read_as_documented(tmp_path):
    table = read_verdicts(judgment_files(tmp_path)[-1])
    assert table.question_ids == ["q-null-id", "7", "q-empty-names", "q-named", "q-no-score"]
    assert table.models == ["model-x", "model-x", "model-x", "other", "model-x"]
    assert table.baselines == [None, None, None, "base", None]
    assert table.categories == [None, None, None, "coding", None]


@pytest.mark.parametrize("record", BAD_RECORDS)
def test_both_readers_reject_the_same_line(tmp_path, record):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(EDGE_RECORDS[0]) + "\n" + json.dumps(record) + "\n", encoding="utf-8")
    messages = []
    for read in (read_verdicts, load_judgments):
        with pytest.raises(UserError, match=r"m\.jsonl:2: ") as error:
            read(path)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
