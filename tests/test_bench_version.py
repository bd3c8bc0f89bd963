"""The bench definitions: which version a bench folder is, and each version's per-category baselines."""
from arena_hard.core.bench_version import V0_1, V2_0, version_for


def test_bench_names_pick_their_version():
    assert version_for("arena-hard-v0.1") is V0_1
    assert version_for("arena-hard-demo") is V0_1
    assert version_for("arena-hard-v2.0") is V2_0


def test_v2_baselines_follow_the_question_category():
    assert V2_0.baseline_for("coding") == "o3-mini-2025-01-31"
    assert V2_0.baseline_for("creative_writing") == "gemini-2.0-flash-001"
    assert V2_0.baseline_for("arena-hard-v0.1") == "gpt-4-0314"
    assert V0_1.baseline_for("anything") == "gpt-4-0314"
