"""What an output file already holds when a run resumes it, and what about it the user should know.

`completed_questions` reads an answer or judgment file once: the questions it holds a complete record
for (the last line of a question decides, as every reader takes the last), with one note line for
questions holding more than one complete record (the sorted rewrite keeps the last and drops the
others) and one for a file mixing both record formats. `AnswerCheck` is gen_answer.py's completeness
test: every answer already there counts as done (it is never paid for twice), and it notes, one line
each, answers written under other settings: fewer choices than `num_choices`, fewer turns than the
question now has, or the other record format than the bench's. Reads the file it is given."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from arena_hard.core.errors import note
from arena_hard.core.jsonl import iter_jsonl
from arena_hard.core.records import Question, mixed_formats, record_format, record_id

SHOWN = 3  # questions named in a note; the rest are counted


def _listed(items: Sequence[str]) -> str:
    return ", ".join(items[:SHOWN]) + (", ..." if len(items) > SHOWN else "")


def completed_questions(path: Path, is_complete: Callable[[dict[str, Any]], bool], *,
                        skip_truncated_tail: bool) -> set[str]:
    complete: dict[str, bool] = {}
    lines: dict[str, list[int]] = {}  # question -> the lines of its complete records
    formats = {"v0.1": 0, "v2.0": 0}
    for lineno, record in iter_jsonl(path, skip_truncated_tail=skip_truncated_tail):
        question_id = record_id(record, f"{path}:{lineno}")
        formats[record_format(record)] += 1
        complete[question_id] = is_complete(record)
        if complete[question_id]:
            lines.setdefault(question_id, []).append(lineno)
    repeated = [f"{question_id} at lines {', '.join(map(str, numbers))}"
                for question_id, numbers in lines.items() if len(numbers) > 1]
    if repeated:
        note(f"{path}: {len(repeated)} question(s) have more than one record ({_listed(repeated)}); the last "
             "of each is used, and the earlier ones are dropped when the file is rewritten sorted")
    mixed = mixed_formats(formats, path)
    if mixed:
        note(mixed)
    return {question_id for question_id, done in complete.items() if done}


class AnswerCheck:
    """gen_answer.py's `is_complete` for one answer file: always True, noting what differs from the
    current settings in the last record of each question; `report()` prints the notes."""

    def __init__(self, path: Path, questions: Sequence[Question], num_choices: int, version: str):
        self.path, self.num_choices, self.version = path, num_choices, version
        self.turns = {question.question_id: len(question.turns) for question in questions}
        self.shape: dict[str, tuple[int, int]] = {}  # question -> (choices, turns) of its last v0.1 record
        self.records = self.other_format = 0

    def __call__(self, record: dict[str, Any]) -> bool:
        question_id = record_id(record, str(self.path))
        self.records += 1
        self.other_format += record_format(record) != self.version
        choices = record.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict) \
                and isinstance(choices[0].get("turns"), list):
            self.shape[question_id] = (len(choices), len(choices[0]["turns"]))
        else:
            self.shape.pop(question_id, None)
        return True

    def report(self) -> None:
        few_choices = [f"{q}: {choices}" for q, (choices, _) in self.shape.items() if choices < self.num_choices]
        few_turns = [f"{q}: {turns} of {self.turns[q]}" for q, (_, turns) in self.shape.items()
                     if q in self.turns and turns < self.turns[q]]
        keep = "they are kept as they are and not asked again (delete those lines to ask anew)"
        if few_choices and self.version == "v0.1":
            note(f"{self.path}: {len(few_choices)} answer(s) hold fewer choices than num_choices "
                 f"{self.num_choices} ({_listed(few_choices)}); {keep}")
        if few_turns:
            note(f"{self.path}: {len(few_turns)} answer(s) answer fewer turns than their question now has "
                 f"({_listed(few_turns)}); {keep}")
        if self.other_format and self.other_format == self.records:  # a file mixing both has had its note
            note(f"{self.path}: its answers are not in the {self.version} record format this bench's answers "
                 "are written in; new answers are, so the file will mix both (both are read)")
