"""The markdown of the browser's panels: a question, an answer, a game with its verdict, the summary of
a judgment record, and the question selector's labels. Text from the files is shown as written: `<`
outside code is escaped (the renderer would drop it as an unknown tag) and code blocks, fenced or
indented, and code spans are left as they are; model and judge names are escaped as literal text.
Pure functions; reads and writes nothing."""
from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from arena_hard.browser.game_verdicts import Verdict, Winner, games_disagree
from arena_hard.core.judgments import Game, Judgment
from arena_hard.core.records import Answer, Question
from arena_hard.scoring.verdict_labels import LABELS

QUESTION_LABEL_CHARS = 100
# The block structure of a text as gradio's renderer (GFM) reads it, for where its code blocks are
# (fenced or indented, in lists and quotes too). Raw HTML is not looked for: once escaped there is none.
_BLOCKS = MarkdownIt("commonmark", {"html": False}).enable("table").disable("inline")
_CODE_BLOCKS = {"fence", "code_block"}
_LINE_END = re.compile(r"\r\n?|\n")  # the line ends the renderer reads
# An inline code span (its text is shown as is), or a `<` to escape.
_INLINE_CODE_OR_LT = re.compile(r"(`[^`\n]+`)|<")
_NAME_SPECIALS = re.compile(r"([\\`*_\[\]<>|#])")


def escape_html_outside_code(text: str) -> str:
    """Markdown whose `<` outside code is shown, not taken as HTML: the renderer drops unknown tags, so
    prose such as "#include <vector>" would otherwise lose words. Code blocks and spans are shown as
    written, where an escape would show as `&lt;`."""
    pieces: list[str] = []
    last = 0
    for start, end in _code_block_spans(text):
        pieces += [_escape_text(text[last:start]), text[start:end]]
        last = end
    pieces.append(_escape_text(text[last:]))
    return "".join(pieces)


def _code_block_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the lines of each code block in `text` (an unclosed fence runs to
    the end of the text)."""
    line_starts = [0, *(match.end() for match in _LINE_END.finditer(text)), len(text)]
    return [(line_starts[token.map[0]], line_starts[token.map[1]])
            for token in _BLOCKS.parse(text) if token.type in _CODE_BLOCKS and token.map]


def _escape_text(text: str) -> str:
    return _INLINE_CODE_OR_LT.sub(lambda match: match.group(1) or "&lt;", text)


def md_name(name: str) -> str:
    """A model or judge name as literal markdown text (names may hold `_` or `*`)."""
    return _NAME_SPECIALS.sub(r"\\\1", name)


def md_path(path: Path) -> str:
    return f"`{path}`"


def verdict_text(verdict: Verdict, model: str, baseline: str) -> str:
    strength = "strongly" if verdict.strong else "slightly"
    if verdict.winner is Winner.MODEL:
        return f"{md_name(model)} wins, {strength}"
    if verdict.winner is Winner.BASELINE:
        return f"{md_name(baseline)} (baseline) wins, {strength}"
    if verdict.winner is Winner.TIE:
        return "tie"
    if verdict.label is None:
        return "no verdict (the judge gave no label)"
    return f"no verdict (label {md_name(repr(verdict.label))} is not one of {', '.join(map(md_name, LABELS))})"


def question_label(number: int, question: Question) -> str:
    """The question's entry in the selector: its number and the start of its text on one line."""
    text = " ".join(question.turns[0].split())
    if len(text) > QUESTION_LABEL_CHARS:
        text = text[:QUESTION_LABEL_CHARS - 1] + "…"
    return f"{number}: {text}"


def question_markdown(question: Question) -> str:
    where = " · ".join(md_name(part) for part in (question.category, question.cluster) if part)
    lines = [f"### Question {md_name(question.question_id)}" + (f" ({where})" if where else "")]
    for number, turn in enumerate(question.turns, 1):
        if len(question.turns) > 1:
            lines.append(f"**User, turn {number}**")
        lines.append(escape_html_outside_code(turn))
    return "\n\n".join(lines)


def answer_markdown(side: str, model: str, answer: Answer | None) -> str:
    heading = f"### Model {side}: {md_name(model)}"
    if answer is None:
        return f"{heading}\n\n*No answer from {md_name(model)} to this question.*"
    if answer.token_len is not None:
        heading += f" ({answer.token_len} token{'' if answer.token_len == 1 else 's'})"
    parts = [heading]
    for number, turn in enumerate(answer.turns, 1):
        if len(answer.turns) > 1:
            parts.append(f"**Assistant, turn {number}**")
        parts.append(escape_html_outside_code(turn))
    return "\n\n".join(parts)


def thought_markdown(answer: Answer | None) -> str:
    """The answer's reasoning (`thought`), for its own collapsed panel: never mixed into the answer.
    Empty when the answer has none (all v0.1 answers), and the panel is not shown."""
    return escape_html_outside_code(answer.thought) if answer is not None and answer.thought else ""


def _literal(text: str) -> str:
    """Text shown exactly as written: a fenced block longer than any backtick run inside it."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence}text\n{text}\n{fence}"


def prompt_markdown(game: Game | None) -> str:
    """The messages the judge was sent for a game: the system prompt (current format) and the user prompt."""
    if game is None:
        return ""
    parts = [f"**System**\n\n{_literal(game.system_prompt)}"] if game.system_prompt else []
    parts.append(f"**User**\n\n{_literal(game.user_prompt)}" if game.user_prompt else "*No prompt recorded.*")
    return "\n\n".join(parts)


def game_markdown(number: int, game: Game | None, verdict: Verdict, model: str, baseline: str) -> str:
    sides = (baseline, model) if number == 1 else (model, baseline)
    names = [md_name(name) + (" (baseline)" if name == baseline else "") for name in sides]
    heading = f"#### Game {number} · A: {names[0]}, B: {names[1]}"
    if game is None:
        return f"{heading}\n\n*The record holds no game {number}.*"
    label = f"{md_name(verdict.label)}: " if verdict.winner is not Winner.NONE else ""
    return (f"{heading}\n\n**Verdict {label}{verdict_text(verdict, model, baseline)}**\n\n"
            f"{escape_html_outside_code(game.judgment)}")


def judgment_summary(judgment: Judgment, verdicts: tuple[Verdict, ...], judge: str, baseline: str,
                     model_a: str | None) -> str:
    model = judgment.model
    total = sum(verdict.points for verdict in verdicts)
    if all(verdict.winner is Winner.NONE for verdict in verdicts):
        overall = "no verdict in either game"
    elif total > 0:
        overall = f"{md_name(model)} preferred"
    elif total < 0:
        overall = f"the baseline {md_name(baseline)} preferred"
    else:
        overall = "even"
    lines = [f"### Judge {md_name(judge)}: {md_name(model)} against the baseline {md_name(baseline)}",
             f"**Overall: {overall}**" + (" · the two games disagree" if games_disagree(verdicts) else "")]
    if model_a and model_a != baseline:
        lines.append(f"*Model A ({md_name(model_a)}) is not the baseline: these games compare model B "
                     f"with {md_name(baseline)}.*")
    return "\n\n".join(lines)
