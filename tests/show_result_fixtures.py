"""Writers of small benches for the show_result.py tests and benchmark: questions, answer files and
judgment files in the v0.1 record format (or the current one), laid out under <root>/data/<bench>/;
and show_result.py run in-process (`run`) or as a user runs it (`run_script`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Sequence

from conftest import REPO_ROOT

BENCH = "arena-hard-v0.1"
JUDGE = "gpt-4-1106-preview"
BASELINE = "gpt-4-0314"


def bench_dir(root: Path, bench: str = BENCH) -> Path:
    return Path(root) / "data" / bench


def write_lines(path: Path, records: Iterable[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    return path


def write_questions(root: Path, question_ids: Sequence[str], categories: Sequence[str] | None = None,
                    bench: str = BENCH) -> Path:
    return write_lines(bench_dir(root, bench) / "question.jsonl", (
        {"question_id": q, "category": categories[i] if categories else bench, "cluster": "c",
         "turns": [{"content": f"question {q}"}]} for i, q in enumerate(question_ids)))


def write_answers(root: Path, model: str, question_ids: Sequence[str], token_lens: Sequence[int] | int = 100,
                  text: str = "an answer", bench: str = BENCH) -> Path:
    lens = [token_lens] * len(question_ids) if isinstance(token_lens, int) else list(token_lens)
    return write_lines(bench_dir(root, bench) / "model_answer" / f"{model}.jsonl", (
        {"question_id": q, "answer_id": f"a{i}", "model_id": model, "tstamp": 0.0,
         "choices": [{"index": 0, "turns": [{"content": text, "token_len": n}]}]}
        for i, (q, n) in enumerate(zip(question_ids, lens))))


def judgment_record(question_id: str, model: str, label1: str | None, label2: str | None,
                    judge: str = JUDGE, text: str = "judgment") -> dict:
    return {"question_id": question_id, "model": model, "judge": judge,
            "games": [{"user_prompt": "prompt", "judgment": text, "score": label1},
                      {"user_prompt": "prompt", "judgment": text, "score": label2}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1}}


def write_judgments(root: Path, model: str, rows: Iterable[tuple[str, str | None, str | None]],
                    judge: str = JUDGE, bench: str = BENCH) -> Path:
    """rows: (question_id, game-1 label, game-2 label)."""
    return write_lines(bench_dir(root, bench) / "model_judgment" / judge / f"{model}.jsonl",
                       (judgment_record(q, model, a, b, judge) for q, a, b in rows))


def age_files(root: Path, seconds: float = 3600) -> None:
    """Set every file's mtime in the past, so the cache trusts it (see score_cache.RACY_SECONDS)."""
    for path in Path(root).rglob("*.jsonl"):
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


def run(capsys, *args):
    import show_result

    assert show_result.main(list(args)) == 0
    captured = capsys.readouterr()
    return captured.out.splitlines(), captured.err


def run_script(cwd, *args, env=None):
    return subprocess.run([sys.executable, str(REPO_ROOT / "show_result.py"), *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}, timeout=120)
