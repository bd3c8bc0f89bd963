"""The README's first command ends with `python demo.py`: the whole pipeline offline on the demo bench,
run in a temporary copy so that the test never writes into the working tree (tests/bench_generation.py
measures how long it takes)."""
from __future__ import annotations

import re
import subprocess
import sys

from pipeline_helpers import copy_for_demo

LINE = re.compile(r"^(demo-\S+)\s+\| score: [ \d.]{5} \| 95% CI: .{12} \| average #tokens: \d+$")


def test_demo_prints_a_leaderboard_of_every_demo_model(tmp_path):
    root = copy_for_demo(tmp_path / "repo")
    result = subprocess.run([sys.executable, str(root / "demo.py")], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [LINE.match(line) for line in result.stdout.splitlines()]
    assert sorted(m.group(1) for m in rows if m) == ["demo-baseline", "demo-detailed", "demo-terse"]
    assert "demo-baseline                  | score: 50.0  | 95% CI:  (0.0, 0.0)" in result.stdout
    assert "not any model" in result.stdout  # labelled as a demonstration, not a result
    judgments = root / "data" / "arena-hard-demo" / "model_judgment" / "demo-judge"
    assert sorted(p.name for p in judgments.iterdir()) == ["demo-detailed.jsonl", "demo-terse.jsonl"]
    assert (root / "data" / "arena_hard_battles.jsonl").exists()  # the leaderboard's files, in the copy
