"""Pure pieces of pairwise judging: filling the judge's prompt template and reading its verdict.

`game_prompt_args` lays out one game as upstream does: `question_i` for each turn, then the answers
of assistant A (the baseline in game 1, the model in game 2) as answer_1..answer_k and assistant B's
as answer_k+1..; `ref_answer_i` for reference answers. `fill_template` substitutes them without
interpreting braces inside the values. `parse_verdict` applies the regex patterns to the judge's
text: one distinct label is the verdict, none asks for a continuation, several mean no verdict."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from arena_hard.core.errors import UserError

# Sent, in the same conversation, when the judge's text holds no verdict label (unless the judge config
# sets `reask_prompt`).
CONTINUE_PROMPT = "Please continue your evaluation and finish with your final verdict label."
_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def game_prompt_args(question_turns: Sequence[str], answers_in_order: Sequence[Sequence[str]],
                     references: Sequence[Sequence[str]] = ()) -> dict[str, str]:
    """Template fields for one game; `answers_in_order` is (assistant A's turns, assistant B's turns)."""
    args = {f"question_{i}": turn for i, turn in enumerate(question_turns, 1)}
    answer_turns = [turn for answer in answers_in_order for turn in answer]
    args.update({f"answer_{i}": turn for i, turn in enumerate(answer_turns, 1)})
    reference_turns = [turn for reference in references for turn in reference]
    args.update({f"ref_answer_{i}": turn for i, turn in enumerate(reference_turns, 1)})
    return args


def template_fields(template: str) -> set[str]:
    return {match.group(1) for match in _FIELD.finditer(template) if match.group(1)}


def fill_template(template: str, args: Mapping[str, str]) -> str:
    """str.format's result for `{name}`, `{{` and `}}`, but other braces stay as they are and the
    values are inserted verbatim (braces in questions or answers never matter)."""
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        if name not in args:
            raise UserError(f"`prompt_template` uses {{{name}}}, which this question does not provide "
                            f"(it provides {', '.join(sorted(args))})")
        return args[name]
    return _FIELD.sub(substitute, template)


def check_fields(templates: Sequence[str], args: Mapping[str, str]) -> None:
    """A UserError unless the templates together use every field of a game (each question turn, both
    assistants' answers, each reference) and no other: a judge never shown an answer cannot judge it."""
    used = set().union(*(template_fields(t) for t in templates))
    unknown = sorted(used - set(args))
    if unknown:
        raise UserError(f"`prompt_template` uses {{{unknown[0]}}}, which this question does not provide "
                        f"(it provides {', '.join(sorted(args))})")
    unused = [name for name in args if name not in used]
    if unused:
        raise UserError(f"`prompt_template` never shows {', '.join('{' + n + '}' for n in unused)}, which the "
                        f"judge needs to see (a game provides {', '.join(args)}); add it to the template")


@dataclass(frozen=True)
class Verdict:
    label: str | None  # the judge's label, or None
    ask_again: bool  # True when no label was found at all


def parse_verdict(text: str, patterns: Sequence[re.Pattern[str]]) -> Verdict:
    """The first pattern that matches decides: one distinct label is the verdict; several distinct
    labels are no verdict (the judge contradicted itself); no match at all asks the judge again."""
    for pattern in patterns:
        matches = [m if isinstance(m, str) else next((g for g in m if g), "") for m in pattern.findall(text)]
        labels = {m for m in matches if m != ""}
        if len(labels) == 1:
            return Verdict(labels.pop().strip("\n"), False)
        if len(labels) > 1:
            return Verdict(None, False)
    return Verdict(None, True)
