"""Which models benchmark_quality.py (and show_result.py --reference) compares: the models of a scores file
and a reference file paired up by a name map (its keys naming either file's models, found case-insensitively),
or else by the same name, then the same name but for case. A map entry naming no model of either file, a
model mapped twice, or fewer than 3 models on both sides is a UserError. `compare` then gives the report
of the compared models. Reads and writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from arena_hard.core.errors import UserError
from arena_hard.scoring.quality import Numbers, Report, numbers, quality_report
from arena_hard.scoring.quality_inputs import Entry, Table


@dataclass(frozen=True)
class Match:
    """The models compared, (scores name, reference name) in the scores file's order, and the others."""

    pairs: list[tuple[str, str]]
    scores_only: list[str]
    reference_only: list[str]


def _finder(names: Iterable[str]) -> Callable[[str], str | None]:
    """Look a name up exactly, else case-insensitively when that finds exactly one."""
    exact = set(names)
    folded: dict[str, list[str]] = {}
    for name in exact:
        folded.setdefault(name.casefold(), []).append(name)

    def find(name: str) -> str | None:
        if name in exact:
            return name
        found = folded.get(name.casefold(), [])
        return found[0] if len(found) == 1 else None
    return find


def _mapped_pairs(scores: Table, reference: Table, name_map: dict[str, str], map_path: Path
                  ) -> list[tuple[str, str]]:
    """The map's entries found on both sides, its keys taken as the side where more entries are found."""
    in_scores, in_reference = _finder(scores.entries), _finder(reference.entries)
    forward = [(in_scores(key), in_reference(value)) for key, value in name_map.items()]
    backward = [(in_scores(value), in_reference(key)) for key, value in name_map.items()]
    complete = [[(s, r) for s, r in links if s is not None and r is not None] for links in (forward, backward)]
    for key, value in name_map.items():
        if not any(find(name) for find in (in_scores, in_reference) for name in (key, value)):
            raise UserError(f"{map_path}: {key!r}: {value!r} names a model in neither {scores.source} nor "
                            f"{reference.source}; fix or remove that entry")
    pairs = complete[1] if len(complete[1]) > len(complete[0]) else complete[0]
    for side, other in ((0, 1), (1, 0)):
        seen: dict[str, str] = {}
        for pair in pairs:
            if pair[side] in seen:
                raise UserError(f"{map_path}: {pair[side]!r} is mapped to both {seen[pair[side]]!r} and "
                                f"{pair[other]!r}; keep one")
            seen[pair[side]] = pair[other]
    return pairs


def _name_pairs(scores: Table, reference: Table) -> list[tuple[str, str]]:
    """Same names, then names equal but for case (where that is unambiguous on both sides)."""
    pairs = [(name, name) for name in scores.entries if name in reference.entries]
    taken = {name for name, _ in pairs}
    left_scores = [name for name in scores.entries if name not in taken]
    in_reference = _finder(name for name in reference.entries if name not in taken)
    in_scores = _finder(left_scores)
    for name in left_scores:
        found = in_reference(name)
        if found is not None and in_scores(found) == name:
            pairs.append((name, found))
    return pairs


def match_models(scores: Table, reference: Table, name_map: dict[str, str] | None = None,
                 map_path: Path | None = None, minimum: int = 3) -> list[tuple[str, str]]:
    """The models on both sides, (scores name, reference name) in the scores' order: with a name map exactly the mapped ones (as the seed notebook compares),
    without one the same names, then the same names but for case. Fewer than `minimum` is a UserError."""
    pairs = _mapped_pairs(scores, reference, name_map, map_path) if name_map else _name_pairs(scores, reference)
    order = {name: position for position, name in enumerate(scores.entries)}
    pairs.sort(key=lambda pair: order[pair[0]])
    if len(pairs) < minimum:
        shared = ", ".join(s for s, _ in pairs) or "none"
        raise UserError(f"{len(pairs)} model(s) are in both {scores.source} and {reference.source} ({shared}); at least "
                        f"{minimum} are needed: check the model names, or map them with --name-map")
    return pairs


@dataclass(frozen=True)
class Comparison:
    match: Match
    bench: Numbers
    reference: Numbers
    report: Report


def _numbers(entries: list[Entry]) -> Numbers:
    return numbers([e.score for e in entries], [e.lower for e in entries], [e.upper for e in entries],
                   [e.results for e in entries], [e.variance for e in entries])


def compare_pairs(pairs: list[tuple[str, str]], scores: Table, reference: Table) -> Comparison:
    """The report of the paired models (scores name, reference name); the forecast's pairs are ordered by
    the reference's names (the notebook renames the benchmark's models to Chatbot Arena's)."""
    compared = {s for s, _ in pairs}, {r for _, r in pairs}
    match = Match(pairs, [m for m in scores.entries if m not in compared[0]],
                  [m for m in reference.entries if m not in compared[1]])
    bench = _numbers([scores.entries[s] for s, _ in pairs])
    rated = _numbers([reference.entries[r] for _, r in pairs])
    return Comparison(match, bench, rated, quality_report(bench, rated, [r for _, r in pairs]))


def compare(scores: Table, reference: Table, name_map: dict[str, str] | None = None,
            map_path: Path | None = None) -> Comparison:
    """Match the models (match_models), then report on them."""
    return compare_pairs(match_models(scores, reference, name_map, map_path), scores, reference)
