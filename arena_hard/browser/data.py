"""What qa_browser.py shows, without gradio: a bench's questions, answers and judgments, the verdict of
each game told as who won and how strongly, the question filters, and the markdown for each panel.

Reads `data/<bench>/question.jsonl` at start, and `model_answer/<model>.jsonl` and
`model_judgment/<judge>/<model>.jsonl` the first time a model is shown (either record format; a cut-off
last line left by a run still writing is skipped). Writes nothing.

A judgment record holds two games. In game 1 the baseline is assistant A and the judged model is B;
game 2 swaps them, so its labels are read with the sides exchanged."""
from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from arena_hard.scoring import verdict_labels
from arena_hard.core.errors import UserError
from arena_hard.scoring.verdict_labels import DEFAULT_WEIGHT, GAME_WINNER, LABELS, STRONG, label_code
from arena_hard.core.records import (DOWNLOAD_HINT, Answer, Bench, Game, Judgment, Question, load_answers,
                                load_judgments, load_questions)

GAME_COUNT = 2
QUESTION_LABEL_CHARS = 100
# Judgment files hold the judge prompt with both answers: keep only the models being looked at.
JUDGMENT_CACHE_MODELS = 8
ANSWER_CACHE_MODELS = 128


class Winner(enum.Enum):
    MODEL = verdict_labels.MODEL_WINS
    BASELINE = verdict_labels.BASELINE_WINS
    TIE = verdict_labels.TIE
    NONE = verdict_labels.NO_WINNER


@dataclass(frozen=True)
class Verdict:
    label: str | None  # as recorded
    winner: Winner
    strong: bool

    @property
    def points(self) -> int:
        """The judged model's gain: +3 / +1 for a strong / slight win (show_result's default weight),
        negative for a loss."""
        size = DEFAULT_WEIGHT if self.strong else 1
        return {Winner.MODEL: size, Winner.BASELINE: -size}.get(self.winner, 0)


def game_verdict(label: str | None, game_number: int) -> Verdict:
    """Who won game 1 or 2 of a judgment record: the judged model is B in game 1 and A in game 2."""
    code = label_code(label)
    return Verdict(label, Winner(GAME_WINNER[game_number - 1][code]), STRONG[code])


def record_games(judgment: Judgment) -> tuple[Game | None, ...]:
    """The record's first two games, None standing for a missing one."""
    return judgment.games[:GAME_COUNT] + (None,) * (GAME_COUNT - len(judgment.games))


def record_verdicts(judgment: Judgment) -> tuple[Verdict, ...]:
    """The verdicts of the record's two games (a missing game has no verdict)."""
    return tuple(game_verdict(game.score if game else None, number)
                 for number, game in enumerate(record_games(judgment), 1))


def model_preferred(verdicts: tuple[Verdict, ...]) -> bool:
    """The games together favour the judged model (strong verdicts weighted as in the score)."""
    return sum(verdict.points for verdict in verdicts) > 0


def games_disagree(verdicts: tuple[Verdict, ...]) -> bool:
    """Two games with a verdict name different winners (a tie counts as an outcome of its own)."""
    winners = {verdict.winner for verdict in verdicts if verdict.winner is not Winner.NONE}
    return len(winners) > 1


class Show(enum.Enum):
    ALL = "All questions"
    MODEL_B_PREFERRED = "Judge preferred model B"
    GAMES_DISAGREE = "The two games disagree"


@dataclass(frozen=True)
class QuestionFilter:
    category: str = ""  # "" = any
    cluster: str = ""
    search: str = ""  # words that must all appear in the question, any case
    show: Show = Show.ALL


@dataclass(frozen=True)
class View:
    """The markdown of each panel for one question and two models."""

    question: str
    answer_a: str
    answer_b: str
    judgment: str  # who was compared and the overall verdict, or why there is no judgment
    games: tuple[str, ...]  # GAME_COUNT panels: each game's verdict and the judge's text


# Fenced code blocks (an unclosed one runs to the end) and inline code spans: their text is shown as is.
_CODE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*(?P=fence)[ \t]*$|\Z)|`[^`\n]+`",
                   re.MULTILINE | re.DOTALL)
_NAME_SPECIALS = re.compile(r"([\\`*_\[\]<>|#])")


def escape_html_outside_code(text: str) -> str:
    """Markdown whose `<` outside code is shown, not taken as HTML: the renderer drops unknown tags, so
    prose such as "#include <vector>" would otherwise lose words."""
    pieces: list[str] = []
    last = 0
    for match in _CODE.finditer(text):
        pieces.append(text[last:match.start()].replace("<", "&lt;"))
        pieces.append(match.group())
        last = match.end()
    pieces.append(text[last:].replace("<", "&lt;"))
    return "".join(pieces)


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


class BenchData:
    """One bench as the browser sees it: questions read at start, each model's files on first use."""

    def __init__(self, bench: Bench, judge: str, baseline: str):
        if not bench.directory.is_dir():
            raise UserError(f"{bench.directory}: no such bench folder; check --bench-name "
                            f"(run from the folder that holds data/), or {DOWNLOAD_HINT}")
        self.bench, self.judge, self.baseline = bench, judge, baseline
        question_file = bench.question_file
        has_questions = question_file.is_file() and bool(question_file.read_bytes().strip())
        self.questions: list[Question] = load_questions(question_file) if has_questions else []
        self._by_id = {question.question_id: question for question in self.questions}
        self._search_text = {q.question_id: "\n".join(q.turns).casefold() for q in self.questions}
        answered = _jsonl_stems(bench.answer_dir)
        self.judged_models = frozenset(_jsonl_stems(bench.judgment_dir(judge)))
        self.models = tuple(sorted(set(answered) | self.judged_models))
        self.answers = functools.lru_cache(maxsize=ANSWER_CACHE_MODELS)(self._read_answers)
        self.judgments = functools.lru_cache(maxsize=JUDGMENT_CACHE_MODELS)(self._read_judgments)

    def _read_answers(self, model: str) -> dict[str, Answer]:
        path = self.bench.answer_file(model)
        return load_answers(path, skip_truncated_tail=True) if path.is_file() else {}

    def _read_judgments(self, model: str) -> dict[str, Judgment]:
        """The model's judgment per question; a later line for a question replaces an earlier one."""
        path = self.bench.judgment_file(self.judge, model)
        if not path.is_file():
            return {}
        return {judgment.question_id: judgment for judgment in load_judgments(path, skip_truncated_tail=True)}

    @property
    def problem(self) -> str | None:
        """Why there is nothing to browse, or None."""
        if not self.questions:
            return (f"**No questions yet:** {md_path(self.bench.question_file)} is missing or empty; "
                    f"{DOWNLOAD_HINT}, or write your questions there.")
        if not self.models:
            return (f"**No answers yet:** {md_path(self.bench.answer_dir)} holds no `<model>.jsonl` file; "
                    "run gen_answer.py to create them.")
        return None

    @property
    def status(self) -> str:
        judge_dir = self.bench.judgment_dir(self.judge)
        if self.judged_models:
            judged = (f"judgments by {md_name(self.judge)} for {len(self.judged_models)} of them "
                      f"against the baseline {md_name(self.baseline)}")
        else:
            others = _subfolders(judge_dir.parent)
            judged = f"no judgments by {md_name(self.judge)} yet ({md_path(judge_dir)} is missing or empty)"
            if others:
                judged += "; judges with a folder: " + ", ".join(map(md_name, others)) + " (see --judge-name)"
        status = f"{len(self.questions)} questions · {len(self.models)} models · {judged}"
        if self.models and self.baseline not in self.models:
            status += f" · **the baseline {md_name(self.baseline)} has no answers here** (see --baseline)"
        return status

    def default_models(self) -> tuple[str | None, str | None]:
        """Model A: the baseline if present; model B: the first judged model, else another model."""
        model_a = self.baseline if self.baseline in self.models else next(iter(self.models), None)
        others = [model for model in self.models if model != model_a]
        judged = [model for model in others if model in self.judged_models]
        return model_a, next(iter(judged or others), model_a)

    def category_choices(self) -> list[tuple[str, str]]:
        return [("All categories", "")] + _counted(q.category for q in self.questions)

    def cluster_choices(self) -> list[tuple[str, str]]:
        return [("All clusters", "")] + _counted(q.cluster for q in self.questions)

    def question_choices(self, question_filter: QuestionFilter, model_b: str | None) -> list[tuple[str, str]]:
        """(label, question id) of the questions passing the filter, in file order. The show filter
        reads model B's judgments."""
        words = question_filter.search.casefold().split()
        judgments = self.judgments(model_b) if model_b and question_filter.show is not Show.ALL else {}
        choices = []
        for number, question in enumerate(self.questions, 1):
            if question_filter.category and question.category != question_filter.category:
                continue
            if question_filter.cluster and question.cluster != question_filter.cluster:
                continue
            if words and not all(word in self._search_text[question.question_id] for word in words):
                continue
            if question_filter.show is not Show.ALL:
                judgment = judgments.get(question.question_id)
                if judgment is None:
                    continue
                verdicts = record_verdicts(judgment)
                keep = (model_preferred(verdicts) if question_filter.show is Show.MODEL_B_PREFERRED
                        else games_disagree(verdicts))
                if not keep:
                    continue
            choices.append((question_label(number, question), question.question_id))
        return choices

    def view(self, question_id: str | None, model_a: str | None, model_b: str | None) -> View:
        question = self._by_id.get(question_id) if question_id is not None else None
        if question is None:
            return View("*No question matches the category, cluster, search and show filters.*",
                        "", "", "", ("",) * GAME_COUNT)
        judgment, games = self._judgment_panels(question.question_id, model_a, model_b)
        return View(question_markdown(question), self._answer_panel("A", model_a, question.question_id),
                    self._answer_panel("B", model_b, question.question_id), judgment, games)

    def _answer_panel(self, side: str, model: str | None, question_id: str) -> str:
        if not model:
            return f"*Choose model {side}.*"
        try:
            answers = self.answers(model)
        except UserError as error:
            return f"### Model {side}: {md_name(model)}\n\n**Cannot read the answers:** {md_name(str(error))}"
        return answer_markdown(side, model, answers.get(question_id))

    def _judgment_panels(self, question_id: str, model_a: str | None,
                         model_b: str | None) -> tuple[str, tuple[str, ...]]:
        no_games = ("",) * GAME_COUNT
        if not model_b:
            return "*Choose model B to see the judge's games.*", no_games
        if model_b == self.baseline:
            return (f"*Model B is the baseline {md_name(self.baseline)}: the judge compared the other "
                    "models with it. Choose another model B to see its judgment.*", no_games)
        path = self.bench.judgment_file(self.judge, model_b)
        if model_b not in self.judged_models:
            return (f"**No judgment yet** of {md_name(model_b)} by {md_name(self.judge)}: {md_path(path)} does not "
                    "exist; run gen_judgment.py.", no_games)
        try:
            judgment = self.judgments(model_b).get(question_id)
        except UserError as error:
            return f"**Cannot read the judgments:** {md_name(str(error))}", no_games
        if judgment is None:
            return (f"**No judgment yet** of {md_name(model_b)} on this question by {md_name(self.judge)} "
                    f"({md_path(path)} has none for it).", no_games)
        baseline = judgment.baseline or self.baseline
        verdicts = record_verdicts(judgment)
        return (judgment_summary(judgment, verdicts, self.judge, baseline, model_a),
                tuple(game_markdown(number, game, verdict, judgment.model, baseline)
                      for number, (game, verdict) in enumerate(zip(record_games(judgment), verdicts, strict=True), 1)))

    def select(self, question_filter: QuestionFilter, question_id: str | None,
               model_b: str | None) -> tuple[list[tuple[str, str]], str | None]:
        """The choices passing the filter and the question to show: the current one if it passes,
        else the first."""
        choices = self.question_choices(question_filter, model_b)
        if any(value == question_id for _, value in choices):
            return choices, question_id
        return choices, choices[0][1] if choices else None


def _jsonl_stems(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(path.name.removesuffix(".jsonl") for path in directory.glob("*.jsonl") if path.is_file())


def _subfolders(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(path.name for path in directory.iterdir() if path.is_dir())


def _counted(values: Iterable[str]) -> list[tuple[str, str]]:
    counts: dict[str, int] = {}
    for value in values:
        if value:
            counts[value] = counts.get(value, 0) + 1
    return [(f"{value} ({count})", value) for value, count in sorted(counts.items())]
