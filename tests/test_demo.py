"""The README's first command ends with `python demo.py`: the whole pipeline offline on the demo bench."""
from __future__ import annotations

import re
import subprocess
import sys
import time

from tests.conftest import REPO_ROOT

LINE = re.compile(r"^(demo-\S+)\s+\| score: [ \d.]{5} \| 95% CI: .{12} \| average #tokens: \d+$")


def test_demo_prints_a_leaderboard_of_every_demo_model_quickly():
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(REPO_ROOT / "demo.py")], capture_output=True, text=True, timeout=120,
                            cwd=REPO_ROOT.parent)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    rows = [LINE.match(line) for line in result.stdout.splitlines()]
    assert sorted(m.group(1) for m in rows if m) == ["demo-baseline", "demo-detailed", "demo-terse"]
    assert "demo-baseline                  | score: 50.0  | 95% CI:  (0.0, 0.0)" in result.stdout
    assert "not any model" in result.stdout  # labelled as a demonstration, not a result
    assert elapsed < 60
