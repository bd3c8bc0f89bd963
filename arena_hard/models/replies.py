"""A provider's reply as a ChatResult, whatever shape a server gives it.

`openai_result` reads a chat completion, `anthropic_result` a message (from a call or a batch's
output). Content as a list of parts is read as its text parts joined (thinking parts are the
reasoning); a reply cut at the token limit is kept and marked `truncated`; usage that is no token
count (NaN, negative, overflowing, text) is dropped with a note and the answer kept, since it was
paid for; the parts of the counts read from a prompt cache or spent on reasoning (OpenAI's
`*_tokens_details`, Anthropic's cache reads, which it counts apart from input_tokens) are kept too;
a reply with no answer in it is an exception arena_hard.models.retry classifies: the
provider's own error sent with status 200 (ProviderError, showing its message), a choice without a
message or content that is not text (BadReply), no text at all (EmptyResponse), a body that is not
the API's (NotAnApi). Reads and writes nothing."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from arena_hard.core.usage import Tokens
from arena_hard.models.retry import API_BASE_HINT, BadReply, EmptyResponse, NotAnApi, ProviderError

_THINK = re.compile(r"^\s*<think>(.*?)</think>\s*", re.DOTALL)
MAX_TOKEN_COUNT = 2**31 - 1  # more tokens than any request takes: a larger count is an overflow


@dataclass(frozen=True)
class ChatResult:
    content: str  # the answer, without any reasoning
    reasoning: str | None
    prompt_tokens: int
    completion_tokens: int
    truncated: bool = False  # stopped at the token limit (finish_reason length, stop_reason max_tokens)
    usage_note: str | None = None  # why the usage the API reported was not counted (then it counts as 0)
    cached_tokens: int = 0  # of prompt_tokens, read from the provider's prompt cache
    reasoning_tokens: int = 0  # of completion_tokens, spent on reasoning

    @property
    def tokens(self) -> Tokens:
        return Tokens(self.prompt_tokens, self.completion_tokens, self.cached_tokens, self.reasoning_tokens)


def split_reasoning(content: str, reasoning: str | None) -> tuple[str, str | None]:
    """Separate a leading <think>...</think> block (reasoning models served as plain chat) from the answer."""
    match = _THINK.match(content)
    if match:
        inline = match.group(1).strip()
        reasoning = "\n\n".join(part for part in (reasoning, inline) if part)
        content = content[match.end():]
    return content, reasoning or None


def _token_count(value: Any) -> int | None:
    """A usage count as reported, or None when it is none (NaN, negative, fractional, overflowing, text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_TOKEN_COUNT else None
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MAX_TOKEN_COUNT:
        return int(value)
    return None


def usage_counts(**counts: Any) -> tuple[int, int, str | None]:
    """(prompt tokens, completion tokens, note) of the usage a reply reports: a missing count is 0, a
    count that is not one is dropped (0) and named in the note. A paid answer is never refused for it."""
    read = {name: 0 if value is None else _token_count(value) for name, value in counts.items()}
    bad = [f"{name} {str(counts[name])[:40]}" for name, value in read.items() if value is None]
    note = (f"the API reported usage {', '.join(bad)}, which is no token count: the answer is kept, that usage is "
            "not counted") if bad else None
    prompt, completion = (value or 0 for value in read.values())
    return prompt, completion, note


def chat_result(content: str | None, reasoning: str | None, usage: tuple[int, int, str | None],
                truncated: bool, parts: tuple[int, int] = (0, 0)) -> ChatResult:
    """`parts`: (cached, reasoning) tokens, the parts of the prompt and completion counts the API
    reports on their own (`_usage_parts`)."""
    content, reasoning = split_reasoning(content or "", reasoning)
    if not content.strip():
        raise EmptyResponse("the API returned no answer text")
    prompt_tokens, completion_tokens, note = usage
    cached, reasoning_tokens = (min(part, whole) for part, whole in zip(parts, (prompt_tokens, completion_tokens)))
    return ChatResult(content, reasoning, prompt_tokens, completion_tokens, truncated, note, cached, reasoning_tokens)


def _usage_parts(usage: Any, cached: tuple[str, str], reasoning: tuple[str, str]) -> tuple[int, int]:
    """(cached, reasoning) tokens of a usage object, each at `(details field, count field)`; a part
    not reported, or not a count, is 0 (it only shifts tokens between two prices of one count)."""
    def part(path: tuple[str, str]) -> int:
        details = _field(usage, path[0]) if usage is not None else None
        return (_token_count(_field(details, path[1])) or 0) if details is not None else 0
    return part(cached), part(reasoning)


def _field(value: Any, name: str) -> Any:
    """`name` of an SDK object or of a plain dict (what the SDKs leave of a shape they do not model)."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


_JSON_KINDS = ((bool, "a boolean"), ((int, float), "a number"), (dict, "an object"), (list, "a list"), (str, "text"))


def _kind(value: Any) -> str:
    """What a value read from JSON is, for a message: `a number (5)`."""
    if value is None:
        return "null"
    name = next((name for types, name in _JSON_KINDS if isinstance(value, types)), f"a {type(value).__name__}")
    return f"{name} ({str(value)[:40]})"


def _parts_text(parts: list[Any], kind: str, what: str) -> str:
    """The text of the parts of type `kind` (a part without a type counts as text), joined."""
    texts = []
    for part in parts:
        if isinstance(part, str) and kind == "text":
            texts.append(part)
        elif (_field(part, "type") or "text") == kind:
            text = _field(part, kind)
            if isinstance(text, list):
                text = _parts_text(text, "text", what)
            if not isinstance(text, str):
                raise BadReply(f"a {kind} part of the reply's {what} holds {_kind(text)}, not text")
            texts.append(text)
    return "".join(texts)


def _provider_error(response: Any) -> None:
    """Raise the provider's own error when a 200's body is `{"error": {...}}` instead of a reply."""
    error = _field(response, "error")
    if error is None:
        return
    message = _field(error, "message") or str(error)
    code = _field(error, "code")
    code = int(code) if isinstance(code, (int, str)) and str(code).isdigit() and 400 <= int(code) <= 599 else None
    raise ProviderError(f"the API answered status 200 with an error instead of a reply: {message}"
                        + (f" (code {code})" if code else ""), code)


def _expect(response: Any, attribute: str, api: str) -> Any:
    """The SDK's parsed response, or NotAnApi when the server's 200 was not JSON (the SDK then hands back
    the body as a string), or the provider's error when the body is one."""
    if isinstance(response, (str, bytes)) or not hasattr(response, attribute):
        if not isinstance(response, (str, bytes)):
            _provider_error(response)
        body = " ".join(str(response).split())[:60]
        raise NotAnApi(f"the endpoint answered 200 with something that is not an {api} API response "
                       f"({body!r}...): {API_BASE_HINT}")
    _provider_error(response)
    return response


def openai_result(response: Any) -> ChatResult:
    """The ChatResult of a chat completion (an SDK ChatCompletion, from a call or a batch's output)."""
    response = _expect(response, "choices", "OpenAI-compatible")
    choices = response.choices
    if not choices:
        raise EmptyResponse("the API returned no choices")
    if not isinstance(choices, list):
        raise BadReply(f"the reply's `choices` is {_kind(choices)}, not a list")
    message = _field(choices[0], "message")
    if message is None:
        raise BadReply("the reply's first choice has no `message`")
    content = _field(message, "content")
    if isinstance(content, list):  # content parts, as some servers send: the text parts are the answer
        content, thinking = _parts_text(content, "text", "content"), _parts_text(content, "thinking", "content")
    else:
        thinking = None
    if content is not None and not isinstance(content, str):
        raise BadReply(f"the reply's content is {_kind(content)}, not text")
    reasoning = _field(message, "reasoning_content") or _field(message, "reasoning") or thinking
    usage = response.usage
    return chat_result(content, reasoning if isinstance(reasoning, str) else None,
                       usage_counts(prompt_tokens=_field(usage, "prompt_tokens"), completion_tokens=_field(usage, "completion_tokens")),
                       _field(choices[0], "finish_reason") == "length",
                       _usage_parts(usage, ("prompt_tokens_details", "cached_tokens"),
                                    ("completion_tokens_details", "reasoning_tokens")))


def anthropic_result(response: Any) -> ChatResult:
    """The ChatResult of an SDK Message, from a call or a batch's results."""
    response = _expect(response, "content", "Anthropic")
    blocks = response.content
    if not isinstance(blocks, list):
        raise BadReply(f"the reply's content is {_kind(blocks)}, not a list of content blocks")
    usage = response.usage
    # Anthropic counts cache reads and writes apart from input_tokens; prompt_tokens holds all three
    cache_read, cache_write = (_token_count(_field(usage, name) or 0) or 0 for name in
                               ("cache_read_input_tokens", "cache_creation_input_tokens"))
    prompt, completion, note = usage_counts(input_tokens=_field(usage, "input_tokens"), output_tokens=_field(usage, "output_tokens"))
    return chat_result(_parts_text(blocks, "text", "content"), _parts_text(blocks, "thinking", "content") or None,
                       (prompt + cache_read + cache_write, completion, note),
                       _field(response, "stop_reason") in ("max_tokens", "model_context_window_exceeded"),
                       (cache_read, 0))
