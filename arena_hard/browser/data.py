"""What qa_browser.py shows, without gradio: a bench's questions, answers and judgments, read the
first time a model is shown, the question filters, and the View of one question and two models
(its panels' markdown comes from browser.markdown, the games' verdicts from browser.game_verdicts).

Reads `data/<bench>/question.jsonl` at start, and `model_answer/<model>.jsonl` and
`model_judgment/<judge>/<model>.jsonl` the first time a model is shown (either record format; a cut-off
last line left by a run still writing is skipped). Writes nothing."""
from __future__ import annotations

import copy
import enum
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from arena_hard.browser.game_verdicts import GAME_COUNT, games_disagree, model_preferred, record_games, record_verdicts
from arena_hard.browser.markdown import (answer_markdown, game_markdown, judgment_summary, md_name, md_path,
                                         prompt_markdown, question_label, question_markdown, thought_markdown)
from arena_hard.core.bench_version import version_for
from arena_hard.core.data_files import jsonl_files
from arena_hard.core.errors import UserError
from arena_hard.core.judgments import Judgment, load_judgments
from arena_hard.core.records import (DOWNLOAD_HINT, Answer, Bench, Question, load_answers, load_questions,
                                     model_of_file)
from arena_hard.scoring.verdict_labels import label_code, v2_verdict_code

# Judgment files hold the judge prompt with both answers: keep only the models being looked at.
JUDGMENT_CACHE_MODELS = 8
ANSWER_CACHE_MODELS = 128
# The questions' second grouping (Question.cluster) by record format, as the question files name it:
# the filter's label and its "any" choice.
CLUSTER_WORDS = {"v0.1": ("Cluster", "All clusters"), "v2": ("Subcategory", "All subcategories")}


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
    thoughts: tuple[str, str] = ("", "")  # models A's and B's reasoning, shown collapsed apart from the answers
    prompts: tuple[str, ...] = ("",) * GAME_COUNT  # per game, the messages the judge was sent
    # An empty text is a panel not shown (no question, no thought, no judgment: nothing to show there).


class BenchData:
    """One bench as the browser sees it: questions read at start, each model's files on first use."""

    def __init__(self, bench: Bench, judge: str, baseline: str):
        if not bench.directory.is_dir():
            raise UserError(f"{bench.directory}: no such bench folder; check --bench-name "
                            f"(run from the folder that holds data/), or {DOWNLOAD_HINT}")
        self.bench, self.judge, self.baseline = bench, judge, baseline
        self.version = version_for(bench.name)
        self.code_of = v2_verdict_code if self.version.verdict_rule == "v2" else label_code
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

    def judge_choices(self) -> list[str]:
        """The judges with a folder under model_judgment/ (and the current one)."""
        return sorted(set(_subfolders(self.bench.judgment_dir(self.judge).parent)) | {self.judge})

    def with_judge(self, judge: str) -> "BenchData":
        """The same bench seen through another judge's folder (questions and answers shared)."""
        if judge == self.judge:
            return self
        other = copy.copy(self)
        other.judge = judge
        other.judged_models = frozenset(_jsonl_stems(self.bench.judgment_dir(judge)))
        other.models = tuple(sorted(set(_jsonl_stems(self.bench.answer_dir)) | other.judged_models))
        other.judgments = functools.lru_cache(maxsize=JUDGMENT_CACHE_MODELS)(other._read_judgments)
        return other

    def baseline_for(self, question_id: str | None) -> str:
        """The baseline of the question's category on a bench with per-category baselines (v2.0),
        unless another baseline was asked for; else the bench's baseline."""
        question = self._by_id.get(question_id) if question_id is not None else None
        if question is None or self.baseline != self.version.default_baseline:
            return self.baseline
        return self.version.baseline_for(question.category)

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
        baselines = sorted({self.baseline_for(q.question_id) for q in self.questions} or {self.baseline})
        if self.judged_models:
            judged = (f"judgments by {md_name(self.judge)} for {len(self.judged_models)} of them "
                      f"against the baseline{'s' if len(baselines) > 1 else ''} {', '.join(map(md_name, baselines))}")
        else:
            others = _subfolders(judge_dir.parent)
            judged = f"no judgments by {md_name(self.judge)} yet ({md_path(judge_dir)} is missing or empty)"
            if others:
                judged += "; judges with a folder: " + ", ".join(map(md_name, others)) + " (see --judge-name)"
        status = f"{len(self.questions)} questions · {len(self.models)} models · {judged}"
        for baseline in baselines:
            if self.models and baseline not in self.models:
                status += f" · **the baseline {md_name(baseline)} has no answers here** (see --baseline)"
        return status

    def default_models(self) -> tuple[str | None, str | None]:
        """Model A: the (first question's) baseline if present; model B: the first judged model, else
        another model."""
        baseline = self.baseline_for(self.questions[0].question_id if self.questions else None)
        model_a = baseline if baseline in self.models else next(iter(self.models), None)
        others = [model for model in self.models if model != model_a]
        judged = [model for model in others if model in self.judged_models]
        return model_a, next(iter(judged or others), model_a)

    def category_choices(self) -> list[tuple[str, str]]:
        return [("All categories", "")] + _counted(q.category for q in self.questions)

    @property
    def cluster_label(self) -> str:
        return CLUSTER_WORDS[self.version.record_format][0]

    def cluster_choices(self) -> list[tuple[str, str]]:
        return [(CLUSTER_WORDS[self.version.record_format][1], "")] + _counted(q.cluster for q in self.questions)

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
                verdicts = record_verdicts(judgment, self.code_of)
                keep = (model_preferred(verdicts) if question_filter.show is Show.MODEL_B_PREFERRED
                        else games_disagree(verdicts))
                if not keep:
                    continue
            choices.append((question_label(number, question), question.question_id))
        return choices

    def view(self, question_id: str | None, model_a: str | None, model_b: str | None) -> View:
        question = self._by_id.get(question_id) if question_id is not None else None
        if question is None:
            filters = f"the category, {self.cluster_label.lower()}, search and show filters"
            return View(f"*No question matches {filters}.*", "", "", "", ("",) * GAME_COUNT)
        judgment, games, prompts = self._judgment_panels(question.question_id, model_a, model_b)
        return View(question_markdown(question), self._answer_panel("A", model_a, question.question_id),
                    self._answer_panel("B", model_b, question.question_id), judgment, games,
                    tuple(self._thought_panel(model, question.question_id) for model in (model_a, model_b)),
                    prompts)

    def _thought_panel(self, model: str | None, question_id: str) -> str:
        try:
            return thought_markdown(self.answers(model).get(question_id)) if model else ""
        except UserError:
            return ""  # the answer panel says why

    def _answer_panel(self, side: str, model: str | None, question_id: str) -> str:
        if not model:
            return f"*Choose model {side}.*"
        try:
            answers = self.answers(model)
        except UserError as error:
            return f"### Model {side}: {md_name(model)}\n\n**Cannot read the answers:** {md_name(str(error))}"
        return answer_markdown(side, model, answers.get(question_id))

    def _judgment_panels(self, question_id: str, model_a: str | None,
                         model_b: str | None) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        no_games = ("",) * GAME_COUNT
        if not model_b:
            return "*Choose model B to see the judge's games.*", no_games, no_games
        baseline = self.baseline_for(question_id)
        if model_b == baseline:
            return (f"*Model B is the baseline {md_name(baseline)}: the judge compared the other "
                    "models with it. Choose another model B to see its judgment.*", no_games, no_games)
        path = self.bench.judgment_file(self.judge, model_b)
        if model_b not in self.judged_models:
            return (f"**No judgment yet** of {md_name(model_b)} by {md_name(self.judge)}: {md_path(path)} does not "
                    "exist; run gen_judgment.py.", no_games, no_games)
        try:
            judgment = self.judgments(model_b).get(question_id)
        except UserError as error:
            return f"**Cannot read the judgments:** {md_name(str(error))}", no_games, no_games
        if judgment is None:
            return (f"**No judgment yet** of {md_name(model_b)} on this question by {md_name(self.judge)} "
                    f"({md_path(path)} has none for it).", no_games, no_games)
        baseline = judgment.baseline or baseline
        verdicts = record_verdicts(judgment, self.code_of)
        games = record_games(judgment)
        return (judgment_summary(judgment, verdicts, self.judge, baseline, model_a),
                tuple(game_markdown(number, game, verdict, judgment.model, baseline)
                      for number, (game, verdict) in enumerate(zip(games, verdicts, strict=True), 1)),
                tuple(prompt_markdown(game) for game in games))

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
    return sorted(model_of_file(path) for path in jsonl_files(directory))


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
