"""The v2.0 judge settings, derived from upstream's utils/judge_utils.py once the kit verified it.

Reads <config_dir>/official/judge_utils.py (fetched and checked against its sha256 by the kit) and
writes <config_dir>/official/judge_settings.yaml: each category's baseline and judge system prompt,
taken from the file's syntax tree (arena_hard.core.judge_settings; upstream's code is never
executed). The file is rewritten only when its content would change, atomically."""
from __future__ import annotations

from pathlib import Path

from arena_hard.core.atomic_write import atomic_write_bytes
from arena_hard.core.judge_settings import OFFICIAL_FILE, parse_judge_utils, settings_yaml
from arena_hard.download.official_kit import JUDGE_UTILS, KITS, V2_BENCH

SETTINGS_NAME = OFFICIAL_FILE.name  # gen_judgment.py reads config/official/<this>


def derive_judge_settings(config_dir: Path, dry_run: bool = False) -> tuple[str, bool]:
    """(the line to print, whether it went well). Run only after judge_utils.py verified."""
    source = Path(config_dir) / "official" / JUDGE_UTILS
    target = source.with_name(SETTINGS_NAME)
    if dry_run:
        return f"{'would derive':<18} {target} (from {source})", True
    try:
        settings = parse_judge_utils(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as error:
        return f"{'failed':<18} {target}: cannot read the judge settings out of {source} ({error})", False
    kit = KITS[V2_BENCH]
    text = settings_yaml(settings, f"{kit.repo} at {kit.commit}, utils/{JUDGE_UTILS}").encode("utf-8")
    if target.exists() and target.read_bytes() == text:
        return f"{'up to date':<18} {target}", True
    atomic_write_bytes(target, iter([text]))
    return f"{'derived':<18} {target} ({len(settings)} categories: {', '.join(settings)})", True
