"""What a judgment run says about each model judged: before the judge is asked anything (`announce`),
as a direct run starts (`status_line`), and after it (`report_without_verdict`: the judgments that
count as not judged); and the plan of one model's judgments (`ModelPlan`). Reads the judgment file
and its game log; writes only to stdout and stderr."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from arena_hard.generate.game_log import GameLog
from arena_hard.generate.judged import JudgedCheck
from arena_hard.generate.pipeline import open_output


@dataclass(frozen=True)
class ModelPlan:
    model: str
    jobs: list[Any]
    missing: list[str]  # question ids without an answer from the model, the baseline or a reference
    output: Path
    check: JudgedCheck


def announce(plan: ModelPlan, log: GameLog, kept: int) -> None:
    """What is known about a model's judgments before the judge is asked anything; `kept`: the games
    of its judgments to make that an earlier run played."""
    model, output = plan.model, plan.output
    redo = plan.check.without_verdict_among(job.question.question_id for job in plan.jobs)
    if redo:
        print(f"{model}: {len(redo)} judgment(s) in {output} have no verdict in any game; they are judged "
              "again (check regex_pattern if this repeats)", file=sys.stderr)
    if plan.missing:
        shown = ", ".join(plan.missing[:5]) + (", ..." if len(plan.missing) > 5 else "")
        print(f"{model}: skipped {len(plan.missing)} question(s) with no answer from the model, the baseline or a "
              f"reference ({shown})", file=sys.stderr)
    if kept:
        print(f"{model}: {kept} game(s) played by an earlier run are kept in {log.path}; they are not asked again",
              file=sys.stderr)


def status_line(plan: ModelPlan, todo: Sequence[Any]) -> str:
    """Where a model's judgments stand as a direct run starts."""
    judged, total = len(plan.jobs) - len(todo), len(plan.jobs)
    if todo:
        return f"{plan.model}: {judged} of {total} already judged; output to {plan.output}"
    if not total:
        return (f"{plan.model}: nothing to judge: none of its {len(plan.missing)} question(s) has every answer a "
                "judgment needs (listed above)")
    lacking = f"; {len(plan.missing)} more question(s) lack an answer (listed above)" if plan.missing else ""
    return f"{plan.model}: all {total} judgments already made ({plan.output}){lacking}"


def report_without_verdict(plan: ModelPlan, is_verdict: Callable[[Any], bool]) -> bool:
    """After a run: say how many of the model's requested judgments have no verdict in any game (they
    count as not judged: `is_verdict(score)` is false for each); True when there are none."""
    check = JudgedCheck(plan.output, plan.check.games_per_record, is_verdict)
    open_output(plan.output, check, repair=False)
    lacking = check.without_verdict_among(job.question.question_id for job in plan.jobs)
    if lacking:
        shown = ", ".join(lacking[:5]) + (", ..." if len(lacking) > 5 else "")
        print(f"{plan.model}: {len(lacking)} judgment(s) have no verdict in any game ({shown}); they count as not "
              "judged, and the next run judges them again (check the judge's replies and regex_pattern)",
              file=sys.stderr)
    return not lacking
