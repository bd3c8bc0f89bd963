"""Which of the Hub's pre-generated files to fetch, and where each goes: a `Selection` (globs over judge
and model names) applied to the dataset's listing (`ListedFile`s: path, size, checksum) gives the
bench's question.jsonl, model_answer/<model>.jsonl and model_judgment/<judge>/<model>.jsonl under
data/<bench>/, as file_sync.RemoteFiles. Names that could leave the bench folder are skipped. Pure;
reads and writes nothing."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

from arena_hard.core.bench_version import V0_1
from arena_hard.core.errors import UserError
from arena_hard.core.records import Bench
from arena_hard.download.file_sync import Checksum, RemoteFile


@dataclass(frozen=True)
class Selection:
    """Which pre-generated files to fetch: globs over judge names and model names."""

    bench: str = V0_1.default_bench
    judges: tuple[str, ...] = (V0_1.default_judge,)
    models: tuple[str, ...] = ("*",)


@dataclass(frozen=True)
class ListedFile:
    path: str  # in the repository
    size: int
    checksum: Checksum


def _safe_name(name: str) -> bool:
    return name not in ("", ".", "..") and not name.startswith(".") and "\\" not in name


def _matches(name: str, globs: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in globs)


def _examples(names: set[str], limit: int = 12) -> str:
    shown = sorted(names)[:limit]
    return ", ".join(shown) + (f", ... ({len(names)} in all)" if len(names) > limit else "") if names else "none"


def select_pregenerated(listed: Iterable[ListedFile], selection: Selection, data_dir: Path,
                        resolve_url: Callable[[str], str], keep: Iterable[Path] = ()) -> list[RemoteFile]:
    """The listed files the selection asks for, with their local destinations: the bench's
    question.jsonl, model_answer/<model>.jsonl and model_judgment/<judge>/<model>.jsonl whose names
    match. Destinations in `keep` (the pinned kit, which wins) are left out. A judge or model glob
    that matches nothing is a UserError naming what there is."""
    bench = Bench(selection.bench, Path(data_dir))
    keep = set(keep)
    judges_seen: set[str] = set()
    models_seen: set[str] = set()
    chosen: list[RemoteFile] = []
    matched_judges = matched_models = False
    for item in sorted(listed, key=lambda f: f.path):
        parts = PurePosixPath(item.path).parts
        if parts[:2] != ("data", selection.bench) or not all(_safe_name(p) for p in parts):
            continue
        rest = parts[2:]
        if rest == ("question.jsonl",):
            destination = bench.question_file
        elif len(rest) == 2 and rest[0] == "model_answer" and rest[1].endswith(".jsonl"):
            model = rest[1][: -len(".jsonl")]
            models_seen.add(model)
            if not _matches(model, selection.models):
                continue
            matched_models = True
            destination = bench.answer_file(model)
        elif len(rest) == 3 and rest[0] == "model_judgment" and rest[2].endswith(".jsonl"):
            judge, model = rest[1], rest[2][: -len(".jsonl")]
            judges_seen.add(judge)
            models_seen.add(model)
            if not _matches(judge, selection.judges):
                continue
            matched_judges = True
            if not _matches(model, selection.models):
                continue
            matched_models = True
            destination = bench.judgment_file(judge, model)
        else:
            continue
        if destination not in keep:
            chosen.append(RemoteFile(resolve_url(item.path), destination, item.checksum, item.size))
    where = f"data/{selection.bench}"
    if not matched_judges:
        raise UserError(f"--judge {' '.join(selection.judges)} matches no judge in {where}/model_judgment/ "
                        f"(there: {_examples(judges_seen)}); pass --judge NAME or a glob such as --judge '*'")
    if not matched_models:
        raise UserError(f"--model {' '.join(selection.models)} matches no model in {where} "
                        f"(there: {_examples(models_seen)})")
    return chosen
