"""Helpers for tests that run the scripts on a small bench in a temporary directory: writing the
bench and the configs, and running a script as a user would (a subprocess in that directory)."""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from unittest import mock

import yaml

from arena_hard.core.errors import run_main
from tests.conftest import REPO_ROOT

BENCH = "tiny-bench"
# Judge prompt markers of our own; the fake judge finds the two answers between them.
A_START, A_END = "<<answer A>>", "<</answer A>>"
B_START, B_END = "<<answer B>>", "<</answer B>>"
TEMPLATE = f"Question: {{question_1}}\n{A_START}\n{{answer_1}}\n{A_END}\n{B_START}\n{{answer_2}}\n{B_END}"
# The warnings a new interpreter shows by default: all but these (and a script's own DeprecationWarnings).
INTERPRETER_IGNORES = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)
FAST_RETRY = {"max_attempts": 6, "backoff_base": 0.01, "backoff_max": 0.05, "timeout": 2.0}


def question(qid: str, *turns: str, category: str = "tiny", cluster: str = "Topic") -> dict[str, Any]:
    return {"question_id": qid, "category": category, "cluster": cluster, "turns": [{"content": t} for t in turns]}


def questions(count: int, category: str = "tiny") -> list[dict[str, Any]]:
    return [question(f"q{i:03d}", f"Question number {i}: how would you approach problem {i * 7 % 13}?",
                     category=category) for i in range(count)]


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]  # not splitlines: U+2028 may be inside a string


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def model_entry(base_url: str, *, api_type: str = "openai", parallel: int = 8, **extra: Any) -> dict[str, Any]:
    endpoint = {"api_base": base_url, "api_key": "test-key"}
    if api_type == "azure":
        endpoint["api_version"] = "2024-06-01"
    return {"model_name": extra.pop("model_name", "served-model"), "endpoints": [endpoint], "api_type": api_type,
            "parallel": parallel, **FAST_RETRY, **extra}


@dataclass
class Workspace:
    """A working directory holding data/<bench>/ and config/, as a user's checkout would."""

    root: Path
    bench: str = BENCH

    @property
    def bench_dir(self) -> Path:
        return self.root / "data" / self.bench

    def answer_file(self, model: str) -> Path:
        return self.bench_dir / "model_answer" / f"{model}.jsonl"

    def judgment_file(self, judge: str, model: str) -> Path:
        return self.bench_dir / "model_judgment" / judge / f"{model}.jsonl"

    def write_questions(self, rows: list[dict[str, Any]]) -> None:
        write_jsonl(self.bench_dir / "question.jsonl", rows)

    def write_answers(self, model: str, rows: list[dict[str, Any]]) -> None:
        write_jsonl(self.answer_file(model), rows)

    def write_answer_config(self, models: list[str], **settings: Any) -> Path:
        return write_yaml(self.root / "config" / "gen_answer_config.yaml",
                          {"bench_name": self.bench, "temperature": 0.0, "max_tokens": 256, "num_choices": 1,
                           "model_list": models, **settings})

    def write_judge_config(self, judge: str, baseline: str, models: list[str], **settings: Any) -> Path:
        return write_yaml(self.root / "config" / "judge_config.yaml", {
            "bench_name": self.bench, "judge_model": judge, "reference": False, "ref_model": None,
            "baseline": True, "baseline_model": baseline, "pairwise": True, "temperature": 0,
            "max_tokens": 512, "regex_pattern": r"\[\[([AB<>=]+)\]\]", "number_of_judgment_attempts": 2,
            "system_prompt": "You are a test judge. End with a verdict label.",
            "prompt_template": [TEMPLATE], "model_list": models, **settings})

    def write_api_config(self, entries: dict[str, dict[str, Any]]) -> Path:
        return write_yaml(self.root / "config" / "api_config.yaml", entries)


def run_script(script: str, *args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a top-level script as a user would: `python <repo>/<script> args` in `cwd`."""
    return subprocess.run([sys.executable, str(REPO_ROOT / script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def interrupt(process: subprocess.Popen[str], signum: int = signal.SIGINT, timeout: float = 60) -> tuple[str, str]:
    """Send `signum` to a started script and wait for it to end (its stdout and stderr); one still running
    after `timeout` is killed, so that a failing test leaves no run behind it."""
    process.send_signal(signum)
    try:
        return process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def run_in_process(main: Callable[[Sequence[str] | None], int], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A script's main as `python <script> args` in `cwd` runs it (exit status, stdout, stderr), in this
    process: the SDKs are imported once for the whole test file."""
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            run_main(main, list(args))
    except SystemExit as exit_:
        status = exit_.code
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess([main.__module__, *args], status, out.getvalue(), err.getvalue())


def run_script_in_process(script: str, *args: str, cwd: Path, env: dict[str, str] | None = None,
                          unset: Iterable[str] = ()) -> subprocess.CompletedProcess[str]:
    """What `run_script` returns, from the script's main in this process (no new interpreter and no SDK
    imports per run), with `env` set and `unset` removed from the environment meanwhile. Warnings reach
    stderr as in a new interpreter (pytest would otherwise keep them out of it)."""
    main = importlib.import_module(Path(script).stem).main
    with mock.patch.dict(os.environ, env or {}), warnings.catch_warnings():
        for name in unset:
            os.environ.pop(name, None)
        warnings.resetwarnings()
        for quiet in INTERPRETER_IGNORES:
            warnings.simplefilter("ignore", quiet)
        warnings.simplefilter("default", append=True)
        warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: sys.stderr.write(
            warnings.formatwarning(message, category, filename, lineno, line))
        return run_in_process(main, *args, cwd=cwd)


def copy_for_demo(destination: Path) -> Path:
    """What `python demo.py` needs (the scripts, the package, config/, the demo questions), copied to
    `destination`, so that running the demo there never touches the working tree."""
    destination = Path(destination)
    destination.mkdir(parents=True)
    for script in REPO_ROOT.glob("*.py"):
        shutil.copy2(script, destination / script.name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "arena_hard", destination / "arena_hard", ignore=ignore)
    shutil.copytree(REPO_ROOT / "config", destination / "config", ignore=ignore)
    questions_file = Path("data") / "arena-hard-demo" / "question.jsonl"
    (destination / questions_file).parent.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / questions_file, destination / questions_file)
    return destination
