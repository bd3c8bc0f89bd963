"""Questions and answers as typed records, read from either record format in the wild (judgments:
core/judgments.py), and the bench's folders.

Reads `data/<bench>/question.jsonl` and `data/<bench>/model_answer/<model>.jsonl` in the v0.1 format (`question_id`, `turns`,
`model_id`, `choices`, `conv_metadata`) or the current upstream one (`uid`, `prompt`, `model`,
`messages`, `metadata`); data/README.md documents both. The one interpretation of each record kind:
`question_from_record`, `answer_from_record`. Questions and
answers remember the file:line they came from, so that `unsendable` can name it when their text holds
what no API can be sent (a lone surrogate). Writes nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena_hard.core.bench_version import V0_1, VERSIONS
from arena_hard.core.errors import UserError, looked_in
from arena_hard.core.jsonl import iter_jsonl, lone_surrogate
from arena_hard.core.names import check_name, file_stem, name_from_stem

DOWNLOAD_HINT = f"run `python download_data.py` to fetch the official {V0_1.default_bench} files"


@dataclass(frozen=True)
class Bench:
    """Where a bench's files live, relative to the working directory as upstream. Every bench, model
    and judge name becomes a file name through names.file_stem, so none can lead outside `root`."""

    name: str
    root: Path = Path("data")

    @property
    def directory(self) -> Path:
        return self.root / file_stem(self.name)

    @property
    def question_file(self) -> Path:
        return self.directory / "question.jsonl"

    @property
    def answer_dir(self) -> Path:
        return self.directory / "model_answer"

    @property
    def reference_dir(self) -> Path:
        return self.directory / "reference_answer"

    def answer_file(self, model: str) -> Path:
        return self.answer_dir / f"{file_stem(model)}.jsonl"

    def reference_file(self, model: str) -> Path:
        return self.reference_dir / f"{file_stem(model)}.jsonl"

    def judgment_dir(self, judge: str) -> Path:
        return self.directory / "model_judgment" / file_stem(judge)

    def judgment_file(self, judge: str, model: str) -> Path:
        return self.judgment_dir(judge) / f"{file_stem(model)}.jsonl"


def model_of_file(path: Path) -> str:
    """The model a `<model>.jsonl` answer or judgment file is named for."""
    return check_name(name_from_stem(Path(path).name.removesuffix(".jsonl")), str(path))


@dataclass(frozen=True)
class Question:
    question_id: str
    turns: tuple[str, ...]
    category: str
    cluster: str
    where: str = field(default="", compare=False)  # "file:line" it was read from


@dataclass(frozen=True)
class Answer:
    question_id: str
    model: str
    turns: tuple[str, ...]  # the first choice's assistant turns, reasoning excluded
    token_len: int | None  # of the first turn, as recorded
    metadata: dict[str, Any] | None  # conv_metadata (v0.1) / metadata (current): style counts
    thought: str | None = None  # the current format's reasoning ({answer, thought}), kept apart from turns
    where: str = field(default="", compare=False)  # "file:line" it was read from


def _where(path: Path, lineno: int) -> str:
    return f"{path}:{lineno}"


def record_format(record: dict[str, Any]) -> str:
    """The record format a question, answer or judgment record is in: "v0.1" (`question_id`) or "v2.0" (`uid`)."""
    return "v0.1" if "question_id" in record else "v2.0"


def mixed_formats(counts: dict[str, int], path: Path | str) -> str | None:
    """A note when a file's records (`counts`: format -> records) are in both formats, else None."""
    if not all(counts.values()):
        return None
    return (f"{path}: mixes {counts['v0.1']} v0.1-format record(s) (`question_id`) and {counts['v2.0']} "
            "v2.0-format (`uid`), as if written by both versions; both are read")


def record_id(record: dict[str, Any], where: str) -> str:
    """The question id of any record: `question_id` (v0.1) or `uid` (current format)."""
    for key in ("question_id", "uid"):
        value = record.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    raise UserError(f"{where}: no question_id (v0.1 format) or uid (current format); fix that line")


def _text(value: Any, where: str, what: str) -> str:
    """Message content as text: a string, or the current format's {"answer": ...} object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("answer"), str):
        return value["answer"]
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]  # upstream's (text, images) pairs
    raise UserError(f"{where}: {what} is not text; fix that line")


def question_from_record(record: dict[str, Any], where: str) -> Question:
    question_id = record_id(record, where)
    if "turns" in record:
        turns = record["turns"]
        if not isinstance(turns, list) or not turns:
            raise UserError(f"{where}: `turns` must be a non-empty list of {{\"content\": ...}}")
        texts = tuple(_text(turn.get("content") if isinstance(turn, dict) else None, where, "a turn's content")
                      for turn in turns)
    elif "prompt" in record:
        texts = (_text(record["prompt"], where, "`prompt`"),)
    else:
        raise UserError(f"{where}: no `turns` (v0.1 format) or `prompt` (current format)")
    category = record.get("category")
    cluster = record.get("cluster", record.get("subcategory"))
    return Question(question_id, texts, str(category) if category is not None else "",
                    str(cluster) if cluster is not None else "", where)


MAX_TOKEN_LEN = 10_000_000  # far beyond any model's output; a larger (or negative) recorded length is not one


def plausible_token_len(value: Any) -> int | None:
    """A recorded token length, or None where it is missing or impossible (not an integer, negative,
    absurdly large): readers then count the text instead of trusting the number."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKEN_LEN:
        return value
    return None


def _assistant_turns(record: dict[str, Any], where: str) -> tuple[tuple[str, ...], int | None]:
    if "choices" in record:
        choices = record["choices"]
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise UserError(f"{where}: `choices` must be a non-empty list")
        turns = choices[0].get("turns")
        if not isinstance(turns, list) or not turns or not all(isinstance(t, dict) for t in turns):
            raise UserError(f"{where}: choices[0].turns must be a non-empty list of turns")
        texts = tuple(_text(turn.get("content"), where, "an answer turn's content") for turn in turns)
        return texts, plausible_token_len(turns[0].get("token_len"))
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list):
            raise UserError(f"{where}: `messages` must be a list")
        texts = tuple(_text(m.get("content"), where, "an assistant message")
                      for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
        if not texts:
            raise UserError(f"{where}: `messages` holds no assistant message")
        return texts, None
    raise UserError(f"{where}: no `choices` (v0.1 format) or `messages` (current format)")


def answer_from_record(record: dict[str, Any], model: str, where: str) -> Answer:
    question_id = record_id(record, where)
    for key in ("model_id", "model"):
        if isinstance(record.get(key), str) and record[key] != model:
            check_name(record[key], where)
    turns, token_len = _assistant_turns(record, where)
    metadata = record.get("conv_metadata", record.get("metadata"))
    if not isinstance(metadata, dict):
        metadata = None
    if token_len is None and metadata is not None:
        token_len = plausible_token_len(metadata.get("token_len"))
    return Answer(question_id, model, turns, token_len, metadata, _thought(record), where)


def unsendable(item: Question | Answer) -> str | None:
    """Why `item`'s turns cannot be sent to an API (jsonl.lone_surrogate), naming the line it was read
    from, or None."""
    for number, text in enumerate(item.turns, 1):
        problem = lone_surrogate(text)
        if problem:
            what = "question" if isinstance(item, Question) else f"{item.model}'s answer to question"
            return f"{item.where}: {what} {item.question_id}, turn {number}, {problem}; replace it (with U+FFFD, say)"
    return None


def _thought(record: dict[str, Any]) -> str | None:
    """The last assistant message's `thought` (current format), if any."""
    messages = record.get("messages")
    if not isinstance(messages, list):
        return None
    contents = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]
    last = contents[-1] if contents else None
    thought = last.get("thought") if isinstance(last, dict) else None
    return thought if isinstance(thought, str) and thought else None


def load_questions(path: Path) -> list[Question]:
    """All questions of a bench, in file order; a missing file or a repeated id is a UserError."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: question file not found; {DOWNLOAD_HINT}, or check bench_name{looked_in(path)}")
    questions: list[Question] = []
    first_line: dict[str, int] = {}
    for lineno, record in iter_jsonl(path):
        question = question_from_record(record, _where(path, lineno))
        if question.question_id in first_line:
            raise UserError(f"{path}:{lineno}: question id {question.question_id!r} already appears at "
                            f"line {first_line[question.question_id]}; question ids must be unique")
        first_line[question.question_id] = lineno
        questions.append(question)
    if not questions:
        official = name_from_stem(path.parent.name) in {version.default_bench for version in VERSIONS}
        empty = "the file is empty" if path.stat().st_size == 0 else "only blank lines"
        raise UserError(f"{path}: holds no questions ({empty}); " + (
            DOWNLOAD_HINT if official else "write the bench's questions into it, one JSON object per line"))
    return questions


def load_answers(path: Path, *, skip_truncated_tail: bool = False) -> dict[str, Answer]:
    """One model's answers by question id (the file name is the model name); a later line for the
    same question replaces an earlier one, as upstream."""
    path = Path(path)
    model = model_of_file(path)
    answers: dict[str, Answer] = {}
    for lineno, record in iter_jsonl(path, skip_truncated_tail=skip_truncated_tail):
        answer = answer_from_record(record, model, _where(path, lineno))
        answers[answer.question_id] = answer
    return answers


def load_model_answers(bench: Bench, model: str) -> dict[str, Answer]:
    """The answers of a model to judge; its answer file must exist (else a typo in the model list)."""
    path = bench.answer_file(model)
    if not path.exists():
        raise UserError(f"{path}: no answers from {model!r}; check the name in model_list (or --model-list), "
                        "or run gen_answer.py for it first")
    return load_answers(path)
