"""The bootstrap rounds as upstream saves them, in `data/bootstrapping_results.jsonl` (one file per
category with --category): one JSON line per round mapping each model to its rating, the models
ordered by median rating as upstream's columns. `save_bootstrap` writes the file atomically;
`load_bootstrap` reads it back for --load-bootstrap, re-anchored to the chosen baseline (upstream v0.1
anchored the rounds to its own baseline); a file of fewer rounds than --num-rounds allows, or with a
rating that is not finite, is refused, as it would print an interval that may exclude the score.
Beside each file, a record of what its rounds were computed from (saved_source: the battles' SHA-256,
the category and the style control), checked on loading."""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from arena_hard.core.errors import UserError
from arena_hard.core.atomic_write import atomic_write_bytes
from arena_hard.core.jsonl import dumps_line, iter_jsonl
from arena_hard.scoring.result_files import MIN_ROUNDS
from arena_hard.scoring.v01.battles import Battles
from arena_hard.scoring.v01.fit import INIT_RATING
from arena_hard.scoring.v01.saved_source import check_rounds_source, digest, write_source


def load_bootstrap(path: Path, battles: Battles, anchor: int, source: dict[str, Any]) -> np.ndarray:
    """Saved rounds as (rounds, models), re-anchored to the baseline; refused when their record says they
    were computed from something else than `source` describes."""
    check_rounds_source(path, source)
    position = {name: i for i, name in enumerate(battles.models)}
    rounds = []
    for lineno, row in iter_jsonl(path):
        ratings = np.full(len(battles.models), np.nan)
        for name, value in row.items():
            if name in position and isinstance(value, (int, float)) and not isinstance(value, bool):
                if not math.isfinite(value):
                    raise UserError(f"{path}:{lineno}: the rating of {name} is {value}; a round holds finite "
                                    "ratings (null for a model it lacks): rerun without --load-bootstrap")
                ratings[position[name]] = value
        if not np.isfinite(ratings[anchor]):
            raise UserError(f"{path}:{lineno}: no rating for the baseline {battles.models[anchor]}; rerun without "
                            "--load-bootstrap to recompute the rounds")
        rounds.append(ratings - ratings[anchor] + INIT_RATING)
    if len(rounds) < MIN_ROUNDS:
        raise UserError(f"{path}: holds {len(rounds)} bootstrap round(s), fewer than the {MIN_ROUNDS} an interval needs "
                        "(as --num-rounds); rerun without --load-bootstrap to recompute them")
    rounds = np.array(rounds)
    unrated = [battles.models[m] for m in battles.present_models() if not np.isfinite(rounds[:, m]).any()]
    if unrated:
        raise UserError(f"{path}: no round rates {', '.join(unrated[:3])}, which the battles hold; rerun without "
                        "--load-bootstrap to recompute the rounds")
    return rounds


def save_bootstrap(path: Path, battles: Battles, bootstrap: np.ndarray, source: dict[str, Any]) -> None:
    """One JSON line per round, model -> rating, models by median rating as upstream's columns; then the
    record that the rounds came from `source`."""
    present = battles.present_models()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a model absent from every round has no median
        medians = dict(zip(present, np.nanmedian(bootstrap[:, present], axis=0).tolist()))
    order = sorted(present, key=lambda m: (np.isnan(medians[m]), -medians[m]))
    data = b"".join(dumps_line({battles.models[m]: (float(r[m]) if np.isfinite(r[m]) else None) for m in order})
                    for r in bootstrap)
    atomic_write_bytes(path, [data])
    write_source(path, digest([data]), source)
