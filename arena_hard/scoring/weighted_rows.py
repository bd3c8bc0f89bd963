"""Battles (v0.1) and score rows (v2.0) weighted instead of copied. Upstream turns a strong verdict into
`--weight` identical rows and draws its bootstrap over that expanded list. Here a row carries its number
of copies and the list is never built: a bootstrap still draws `randint(0, n, n)` over the n expanded
rows (upstream's random stream, hence its numbers), and each draw is counted back onto its row, a draw
of any copy of row i counting for row i. Memory then grows with the rows and with one round's draw, not
with the weight. Also the bound on the expansion: every round draws n indices, and v0.1's battles file
holds a line per expanded battle. Pure functions; reads and writes nothing."""
from __future__ import annotations

import numpy as np

from arena_hard.core.errors import UserError

MAX_EXPANDED = 5_000_000  # rows after the --weight expansion: each bootstrap round draws this many


def first_copies(copies: np.ndarray) -> np.ndarray:
    """Each row's position in the expanded list (every row has at least one copy)."""
    starts = np.zeros(len(copies), dtype=np.int64)
    np.cumsum(copies[:-1], out=starts[1:])
    return starts


def drawn_counts(draws: np.ndarray, starts: np.ndarray, n: int) -> np.ndarray:
    """Per row, how many of `draws` (positions in the expanded list of n rows) fall on its copies."""
    if not len(starts):
        return np.zeros(0, dtype=np.int64)
    return np.add.reduceat(np.bincount(draws, minlength=n), starts)


def check_expansion(n: int, weight: int, what: str) -> None:
    """A one-line UserError when the expanded list would be over MAX_EXPANDED rows."""
    if n > MAX_EXPANDED:
        raise UserError(f"--weight {weight} makes {n:,} {what} (a strong verdict counts {weight} times), over the "
                        f"{MAX_EXPANDED:,} a run allows (each bootstrap round draws that many); lower --weight")
