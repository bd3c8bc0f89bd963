"""Judgment records as typed records (`Judgment`, its `Game`s), read from either record format.

Reads `data/<bench>/model_judgment/<judge>/<model>.jsonl` in the v0.1 format (`question_id`, `model`,
`judge`, `games[*]` with `user_prompt`, `judgment`, `score`) or upstream v2.0's (`uid`, `model`,
`baseline`, `category`, `games[*]` with `prompt` messages and `judgment.answer`). The one interpretation:
`judgment_fields` / `game_score`, which `judgment_from_record` and the scoring's lean scan
(scoring.verdict_labels) both use. Writes nothing."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import iter_jsonl
from arena_hard.core.names import check_name
from arena_hard.core.records import model_of_file, record_id


@dataclass(frozen=True)
class Game:
    score: str | None
    judgment: str
    user_prompt: str
    system_prompt: str = ""  # the current format's system message, as sent to the judge


@dataclass(frozen=True)
class Judgment:
    question_id: str
    model: str
    judge: str
    games: tuple[Game | None, ...]
    baseline: str | None  # current format names the baseline; v0.1 leaves it to the config
    category: str | None


def game_score(game: Any) -> str | None:
    """A game's verdict label as recorded; None for a missing game or score."""
    score = game.get("score") if isinstance(game, dict) else None
    return score if isinstance(score, str) else None


def _game_from_record(game: Any) -> Game | None:
    if not isinstance(game, dict):
        return None
    judgment = game.get("judgment", "")
    if isinstance(judgment, dict):
        judgment = judgment.get("answer", "")
    user_prompt = game.get("user_prompt")
    if user_prompt is None and isinstance(game.get("prompt"), list):  # current format: the messages
        user_prompt = next((m.get("content") for m in game["prompt"]
                            if isinstance(m, dict) and m.get("role") == "user"), "")
    if isinstance(user_prompt, list):
        user_prompt = user_prompt[0] if user_prompt and isinstance(user_prompt[0], str) else ""
    messages = game.get("prompt") if isinstance(game.get("prompt"), list) else []
    system_prompt = next((m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "system"), "")
    return Game(game_score(game),
                judgment if isinstance(judgment, str) else "",
                user_prompt if isinstance(user_prompt, str) else "",
                system_prompt if isinstance(system_prompt, str) else "")


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def judgment_fields(record: dict[str, Any], default_model: str,
                    where: str) -> tuple[str, str, str | None, str | None, list[Any]]:
    """(question id, model, baseline, category, games) of a judgment record in either format. The model
    is the record's, else `default_model` (the file's name); baseline and category are what a
    current-format record names, else None."""
    question_id = record_id(record, where)
    games = record.get("games")
    if not isinstance(games, list):
        raise UserError(f"{where}: `games` must be the list of the judge's games; fix or delete that line")
    model = _name(record.get("model")) or default_model
    if model != default_model:
        check_name(model, where)
    return question_id, model, _name(record.get("baseline")), _name(record.get("category")), games


def judgment_from_record(record: dict[str, Any], default_model: str, where: str) -> Judgment:
    question_id, model, baseline, category, games = judgment_fields(record, default_model, where)
    return Judgment(question_id=question_id, model=model, judge=str(record.get("judge", "")),
                    games=tuple(_game_from_record(game) for game in games), baseline=baseline, category=category)


def load_judgments(path: Path, *, skip_truncated_tail: bool = False) -> list[Judgment]:
    """The judgment records of one file, in file order (duplicates are the caller's to resolve)."""
    path = Path(path)
    default_model = model_of_file(path)
    return [judgment_from_record(record, default_model, f"{path}:{lineno}")
            for lineno, record in iter_jsonl(path, skip_truncated_tail=skip_truncated_tail)]
