"""Where show_result.py writes, relative to the folder it runs in, and the bound on its bootstrap rounds
(each round is a fit, and the saved rounds file grows with them). Kept apart from the leaderboards so
that show_result.py can name them in its --help without importing either leaderboard."""
from __future__ import annotations

from pathlib import Path

BATTLES_FILE = Path("data") / "arena_hard_battles.jsonl"
BOOTSTRAP_FILE = Path("data") / "bootstrapping_results.jsonl"
LEADERBOARD_DIR = Path("leaderboard")
MAX_ROUNDS = 10_000
