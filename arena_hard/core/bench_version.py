"""What a bench version is, in one place: the record format its scripts write, its default judge and
bench name, its baseline per question category (the judge prompts come from the downloaded kit), how
a judge's verdict is read, the tokenizer of its answers' token counts, and which leaderboard
computation scores it.

`version_for(bench_name)` picks the definition of a bench folder under data/: names that begin with
`arena-hard-v2` are v2.0, every other name (arena-hard-v0.1, the demo, a user's own) is v0.1. The
v0.1 defaults (arena-hard-v0.1, gpt-4-1106-preview, gpt-4-0314) live here and nowhere else.
Reads and writes nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RecordFormat = Literal["v0.1", "v2"]
VerdictRule = Literal["v0.1", "v2"]
LeaderboardMethod = Literal["bradley-terry", "bootstrap-winrate"]


@dataclass(frozen=True)
class BenchVersion:
    version: str
    default_bench: str
    record_format: RecordFormat
    default_judge: str
    default_baseline: str
    # v0.1: one baseline for every question; v2.0: keyed by the question's category. The judge system
    # prompt of each category comes from the downloaded judge settings, never from this repository.
    category_baselines: dict[str, str] = field(default_factory=dict)
    # v0.1: the first pattern's single match, re-asking the judge when there is none or several;
    # v2: the upper-cased text, the first pattern with any match, its last match, no re-ask.
    verdict_rule: VerdictRule = "v0.1"
    token_encoding: str = "cl100k_base"
    leaderboard: LeaderboardMethod = "bradley-terry"
    default_category: str | None = None

    def baseline_for(self, category: str | None) -> str:
        return self.category_baselines.get(category or "", self.default_baseline)


V0_1 = BenchVersion(
    version="v0.1",
    default_bench="arena-hard-v0.1",
    record_format="v0.1",
    default_judge="gpt-4-1106-preview",
    default_baseline="gpt-4-0314",
)

V2_0 = BenchVersion(
    version="v2.0",
    default_bench="arena-hard-v2.0",
    record_format="v2",
    default_judge="gpt-4.1",
    default_baseline="o3-mini-2025-01-31",
    category_baselines={
        "hard_prompt": "o3-mini-2025-01-31",
        "coding": "o3-mini-2025-01-31",
        "math": "o3-mini-2025-01-31",
        "creative_writing": "gemini-2.0-flash-001",
        "arena-hard-v0.1": "gpt-4-0314",
    },
    verdict_rule="v2",
    token_encoding="o200k_base",
    leaderboard="bootstrap-winrate",
    default_category="hard_prompt",
)

VERSIONS = (V0_1, V2_0)


def version_for(bench_name: str) -> BenchVersion:
    return V2_0 if bench_name.startswith("arena-hard-v2") else V0_1
