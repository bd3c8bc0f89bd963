"""Names the user chooses (models, judges, benches) as file names, and lists of names without repeats.

One rule for every name that becomes a file or folder name under data/: `file_stem` keeps the name
as it is, except that `/`, `\\`, `%`, control characters and a leading `.` are percent-encoded
(`meta-llama/Llama-3-8B` -> `meta-llama%2FLlama-3-8B`, `../x` -> `%2E.%2Fx`), so no name can reach
outside its folder or hide from a `*.jsonl` listing, and every name that was a plain file name
before keeps its file. `name_from_stem` reverses it, so readers show the real name. Records keep the
real name. A name that is empty or too long for a file name is refused.

Where a name enters (a config's names, a --model-list, an endpoint file's entry, a record's `model`, a
file's name) `check_name` refuses one holding a control character (a newline or tab would split the
one-model-per-line output), an invisible format character (zero-width, bidi controls) or a lone
surrogate (a `\\ud800` escape, or bytes that are not UTF-8: no output line or chart can hold it), and
`unique` and `refuse_twins` refuse two spellings that look the same (`looks_like`: Unicode NFKC, no
spaces around): such twins would be two leaderboard rows nobody can tell apart. Reads and writes nothing."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping
from urllib.parse import unquote

from arena_hard.core.errors import UserError, note

_UNSAFE = re.compile(r"^\.|[/\\%\x00-\x1f\x7f]")
# 255 bytes per file name, less ".jsonl" and the ".<name>.XXXXXXXX.tmp" of an atomic rewrite.
MAX_STEM_BYTES = 200


def file_stem(name: str) -> str:
    """The file (or folder) name for `name`: itself, with path characters percent-encoded."""
    if not name:
        raise UserError("an empty name cannot name a model, judge or bench; give it a name")
    stem = _UNSAFE.sub(lambda match: "".join(f"%{byte:02X}" for byte in match.group(0).encode("utf-8")), name)
    if len(stem.encode("utf-8", "surrogateescape")) > MAX_STEM_BYTES:
        raise UserError(f"the name {name[:40]!r}... is too long for a file name (over {MAX_STEM_BYTES} bytes); "
                        "use a shorter name")
    return stem


def name_from_stem(stem: str) -> str:
    """The name a file stem written by `file_stem` stands for."""
    return unquote(stem, errors="surrogateescape") if "%" in stem else stem


# Cc: control characters (newline, tab, ...); Cf: invisible format characters (zero-width, bidi
# controls); Zl, Zp: the line and paragraph separators, which end a line for many readers.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def check_name(name: str, where: str) -> str:
    """`name`, or a UserError naming `where` when it holds a control or invisible character or a lone
    surrogate."""
    surrogate = next((c for c in name if unicodedata.category(c) == "Cs"), None)
    if surrogate is not None:
        raise UserError(f"{where}: the name {ascii(name)} holds U+{ord(surrogate):04X}, a lone surrogate (an escape "
                        "such as \\ud800, or bytes that are not UTF-8), which is not text; rename it")
    hidden = next((c for c in name if unicodedata.category(c) in _HIDDEN_CATEGORIES), None)
    if hidden is not None:
        raise UserError(f"{where}: the name {ascii(name)} holds the control or invisible character "
                        f"U+{ord(hidden):04X}, which would break or disguise the output lines; rename it")
    return name


def looks_like(name: str) -> str:
    """What `name` looks like when printed: the same for two spellings nobody can tell apart."""
    return unicodedata.normalize("NFKC", name).strip()


def refuse_twins(sources: Mapping[str, str], what: str = "the model") -> None:
    """A UserError naming both spellings and where each comes from (`sources`: name -> file) when two
    names of `sources` look the same."""
    seen: dict[str, str] = {}
    for name in sources:
        twin = seen.setdefault(looks_like(name), name)
        if twin != name:
            both = (f"{sources[name]}: {ascii(twin)} and {ascii(name)}" if sources[twin] == sources[name] else
                    f"{sources[twin]} names {what} {ascii(twin)} and {sources[name]} names {ascii(name)}")
            raise UserError(f"{both}: they print the same (they differ only in Unicode normalisation or spaces "
                            "around them); rename one of them")


def unique(names: Iterable[str], where: str) -> tuple[str, ...]:
    """`names` in order without repeats; each repeat dropped with a note on stderr naming `where`. A
    name with a control or invisible character, or two spellings that look the same, are refused."""
    kept: list[str] = []
    for name in names:
        check_name(name, where)
        if name in kept:
            note(f"{where} lists {name!r} more than once; it is used once")
        else:
            kept.append(name)
    refuse_twins({name: where for name in kept})
    return tuple(kept)
