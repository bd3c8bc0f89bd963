"""What download_data.py prints and returns: one line per file (`outcome_line`), the summary with the
hints of what to check, and the exit status. Pure functions over file_sync.Outcome; reads and writes
nothing."""
from __future__ import annotations

from arena_hard.download.file_sync import DOWNLOADED, FAILED, SKIPPED, WOULD_DOWNLOAD, Outcome


def outcome_line(outcome: Outcome) -> str:
    text = f"{outcome.status:<18} {outcome.file.destination}"
    if not outcome.detail:
        return text
    return f"{text}: {outcome.detail}" if outcome.status == FAILED else f"{text} ({outcome.detail})"


def summary(outcomes: list[Outcome]) -> str:
    counts = {status: sum(o.status == status for o in outcomes)
              for status in (DOWNLOADED, SKIPPED, WOULD_DOWNLOAD, FAILED)}
    parts = [f"{counts[DOWNLOADED]} downloaded", f"{counts[SKIPPED]} already there and verified"]
    if counts[WOULD_DOWNLOAD]:
        parts.append(f"{counts[WOULD_DOWNLOAD]} would be downloaded")
    parts.append(f"{counts[FAILED]} failed")
    text = f"{len(outcomes)} files: " + ", ".join(parts)
    hints = sorted({o.hint for o in outcomes if o.hint})
    if hints:
        text += "; " + "; ".join(hints)
    elif counts[FAILED] == 0 and counts[WOULD_DOWNLOAD] == 0:
        text += "; everything requested is present and verified"
    return text


def exit_status(outcomes: list[Outcome]) -> int:
    """0 if every file is present and verified (or, in a dry run, could be fetched); 1 if a failure
    may pass if tried later (network, server, corrupted download); 2 if every failure is the
    user's to fix (a wrong address: 404; a differing local file without --force; the local disk)."""
    failed = [o for o in outcomes if o.status == FAILED]
    if not failed:
        return 0
    return 2 if all(o.user_fixable for o in failed) else 1
