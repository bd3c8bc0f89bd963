"""Where show_result.py writes, relative to the folder it runs in, the names of the --output files (both
bench versions), and the bound on its bootstrap rounds (each round is a fit, and the saved rounds file
grows with them). Kept apart from the leaderboards so that show_result.py can name them in its --help
without importing either leaderboard."""
from __future__ import annotations

import re
from pathlib import Path

BATTLES_FILE = Path("data") / "arena_hard_battles.jsonl"
BOOTSTRAP_FILE = Path("data") / "bootstrapping_results.jsonl"
LEADERBOARD_DIR = Path("leaderboard")
MAX_ROUNDS = 10_000


def output_stem(date: str, category: str | None, mode: str | None) -> str:
    """arena_hard_leaderboard_<YYYYMMDD>[_<category>][_<mode>_control], safe as a file name."""
    parts = [date] + ([re.sub(r"[^A-Za-z0-9._-]+", "-", category)] if category else []) + \
        ([f"{mode}_control"] if mode else [])
    return "arena_hard_leaderboard_" + "_".join(parts)
