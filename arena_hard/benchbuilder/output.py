"""What build_bench.py writes: the bench's question file, its report, and the --plot chart.

data/<bench>/question.jsonl in the bench version's record format (core.bench_version): v0.1's
`question_id`, `category` (the bench name), `cluster` (the topic's name), `turns`; for a bench named
arena-hard-v2*, upstream v2.0's `uid`, `category` (hard_prompt, the category whose judge settings
v2.0 ships), `subcategory` (the topic's name), `prompt`. A question's id is the start of its prompt's
sha256, so it does not change between runs. data/<bench>/bench_builder_report.json: the stages'
counts, every topic with its size, mean score, prompts kept and sampled, and each criterion's share.
Every file is written atomically. matplotlib is imported only for --plot (core.png_chart).
May import: arena_hard.core; matplotlib (through core.png_chart, for --plot)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from arena_hard.core.bench_version import version_for
from arena_hard.core.errors import UserError
from arena_hard.core.atomic_write import atomic_write_bytes, atomic_write_text
from arena_hard.core.jsonl import dumps_line
from arena_hard.core.png_chart import require_pyplot, save_png

V2_CATEGORY = "hard_prompt"
REPORT_NAME = "bench_builder_report.json"


@dataclass
class TopicRow:
    topic: int
    name: str
    size: int
    mean_score: float | None = None  # the first stage's
    kept: int = 0  # after the last stage
    sampled: int = 0


@dataclass
class Report:
    bench_name: str
    input_file: str
    read: dict[str, int]
    stages: list[dict[str, Any]] = field(default_factory=list)
    topics: list[TopicRow] = field(default_factory=list)
    outliers: int = 0
    criteria_share: dict[str, float] = field(default_factory=dict)
    sampled: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"bench_name": self.bench_name, "input_file": self.input_file, "read": self.read,
                "stages": self.stages, "outliers": self.outliers, "sampled": self.sampled,
                "criteria_share": self.criteria_share, "topics": [row.__dict__ for row in self.topics]}


def question_record(bench_name: str, key: str, text: str, topic_name: str) -> dict[str, Any]:
    if version_for(bench_name).record_format == "v2":
        return {"uid": key[:16], "category": V2_CATEGORY, "subcategory": topic_name, "prompt": text}
    return {"question_id": key[:32], "category": bench_name, "cluster": topic_name, "turns": [{"content": text}]}


def question_bytes(records: Sequence[dict[str, Any]]) -> bytes:
    return b"".join(dumps_line(record) for record in records)


def check_replaceable(path: Path, answer_dir: Path, content: bytes, force: bool) -> None:
    """Once the bench has answers, its question file is replaced by other questions only with --force:
    the answers and judgments were made for it."""
    answered = answer_dir.is_dir() and any(answer_dir.glob("*.jsonl"))
    if not force and answered and path.exists() and path.read_bytes() != content:
        raise UserError(f"{path} holds other questions, and {answer_dir} answers to them; rerun with --force to "
                        "replace it, or choose another bench_name")


def write_bench(path: Path, content: bytes, report_path: Path, report: Report) -> None:
    atomic_write_bytes(path, [content])
    atomic_write_text(report_path, json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n")


def summary_lines(report: Report, shown: int = 15) -> list[str]:
    rows = sorted(report.topics, key=lambda row: (-row.sampled, -row.kept, row.topic))
    lines = [f"{'topic':>5}  {'size':>7}  {'mean':>5}  {'kept':>6}  {'sampled':>7}  name"]
    for row in rows[:shown]:
        mean = f"{row.mean_score:5.2f}" if row.mean_score is not None else "    -"
        lines.append(f"{row.topic:>5}  {row.size:>7,}  {mean}  {row.kept:>6,}  {row.sampled:>7,}  {row.name}")
    if len(rows) > shown:
        lines.append(f"  ... and {len(rows) - shown} more topics (all in the report file)")
    shares = ", ".join(f"{name} {share:.0%}" for name, share in report.criteria_share.items())
    lines.append(f"criteria met (first stage's labels): {shares}")
    return lines


def plot_topics(path: Path, report: Report) -> None:
    """Each topic as a dot: its size against its mean score, filled when prompts of it were sampled."""
    pyplot = require_pyplot()
    rows = [row for row in report.topics if row.mean_score is not None]
    figure, axes = pyplot.subplots(figsize=(9, 6))
    for sampled, style in ((False, {"facecolors": "none", "edgecolors": "tab:gray"}), (True, {"color": "tab:blue"})):
        chosen = [row for row in rows if (row.sampled > 0) == sampled]
        axes.scatter([row.size for row in chosen], [row.mean_score for row in chosen], s=18, alpha=0.8,
                     label="sampled from" if sampled else "not sampled", **style)
    for row in sorted(rows, key=lambda row: -row.size)[:12]:
        axes.annotate(row.name[:40], (row.size, row.mean_score), textcoords="offset points", xytext=(4, 3), fontsize=7)
    axes.set_xscale("log")
    axes.set_xlabel("prompts in the topic")
    axes.set_ylabel("mean score (criteria met, first stage)")
    axes.set_title(f"{report.bench_name}: {len(report.topics)} topics, {report.sampled} prompts sampled")
    axes.grid(alpha=0.3)
    axes.legend()
    save_png(pyplot, figure, path)
