"""Where show_result.py writes, relative to the folder it runs in, the names of the --output files (both
bench versions), and the bound on its bootstrap rounds (each round is a fit, and the saved rounds file
grows with them). Kept apart from the leaderboards so that show_result.py can name them in its --help
without importing either leaderboard."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

BATTLES_FILE = Path("data") / "arena_hard_battles.jsonl"
BOOTSTRAP_FILE = Path("data") / "bootstrapping_results.jsonl"
LEADERBOARD_DIR = Path("leaderboard")
MIN_ROUNDS = 20  # fewer resamples pin a 95% (or 90%) interval's ends to single rounds, which can exclude the score
MAX_ROUNDS = 10_000


def output_stem(date: str, category: str | None, mode: str | None) -> str:
    """arena_hard_leaderboard_<YYYYMMDD>[_<category>][_<mode>_control], safe as a file name."""
    parts = [date] + ([re.sub(r"[^A-Za-z0-9._-]+", "-", category)] if category else []) + \
        ([f"{mode}_control"] if mode else [])
    return "arena_hard_leaderboard_" + "_".join(parts)


def replaced_judges(json_path: Path, judges: Sequence[str]) -> str | None:
    """A note when --output is about to replace another judge's board of the same day: the file names
    carry no judge (upstream's names), so the second run's files take the first's place."""
    try:
        previous = json.loads(Path(json_path).read_text(encoding="utf-8")).get("judges")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(previous, list) or previous == list(judges):
        return None
    return (f"{Path(json_path).with_suffix('')}.csv/.json held the board judged by {', '.join(map(str, previous))}; "
            f"replaced by the board judged by {', '.join(judges)} (rename the earlier files to keep both)")
