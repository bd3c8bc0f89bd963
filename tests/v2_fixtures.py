"""Writers of generated Arena-Hard v2.0 benches for the tests and benchmarks: questions
({uid, category, subcategory, prompt}), answers with upstream's `metadata`, and judgment records
({uid, category, judge, model, baseline, games: [{score, judgment, prompt}, ...]}) under
<root>/data/<bench>/, with model strengths, upstream's ten labels and a few null games."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from show_result_fixtures import age_files, write_lines

BENCH = "arena-hard-v2.0"
JUDGE = "gpt-4.1"
BASELINES = {"hard_prompt": "o3-mini-2025-01-31", "creative_writing": "gemini-2.0-flash-001"}
# labels by the judged model's outcome: strong loss, loss, tie, win, strong win; game 2 has the model as A
GAME1_LABELS = (("A>>B", "B<<A"), ("A>B", "B<A"), ("A=B", "B=A"), ("B>A", "A<B"), ("B>>A", "A<<B"))
GAME2_LABELS = (("B>>A", "A<<B"), ("B>A", "A<B"), ("A=B", "B=A"), ("A>B", "B<A"), ("A>>B", "B<<A"))


def question_ids(categories: dict[str, int]) -> dict[str, list[str]]:
    return {category: [f"{category[:2]}{i:04d}" for i in range(count)] for category, count in categories.items()}


def metadata(rng: np.random.Generator) -> dict:
    token_len = int(rng.integers(1, 3000))
    return {"token_len": token_len,
            "header_count": {f"h{k}": int(rng.integers(0, 4 if k < 4 else 2)) for k in range(1, 7)},
            "list_count": {"ordered": int(rng.integers(0, 12)), "unordered": int(rng.integers(0, 15))},
            "bold_count": {"**": int(rng.integers(0, 10)), "__": int(rng.integers(0, 2))}}


def write_v2_bench(root: Path, models: Sequence[str], categories: dict[str, int] | None = None,
                   judges: Sequence[str] = (JUDGE,), seed: int = 0, null_share: float = 0.01,
                   text_chars: int = 200, bench: str = BENCH, age: bool = True) -> dict[str, list[str]]:
    """Write a bench; returns the question ids per category."""
    categories = categories or {"hard_prompt": 40, "creative_writing": 20}
    rng = np.random.default_rng(seed)
    uids = question_ids(categories)
    directory = Path(root) / "data" / bench
    write_lines(directory / "question.jsonl", (
        {"uid": q, "category": c, "subcategory": "coding" if i % 2 else "math", "prompt": f"question {q}"}
        for c, qs in uids.items() for i, q in enumerate(qs)))
    filler = "x" * text_chars
    everyone = sorted(set(models) | {BASELINES[c] for c in categories if c in BASELINES})
    for model in everyone:
        write_lines(directory / "model_answer" / f"{model}.jsonl", (
            {"uid": q, "ans_id": f"{model}-{q}", "model": model,
             "messages": [{"role": "user", "content": f"question {q}"},
                          {"role": "assistant", "content": {"answer": f"answer of {model} to {q}. {filler}",
                                                             "thought": "hidden reasoning"}}],
             "tstamp": 0.0, "metadata": metadata(rng)}
            for qs in uids.values() for q in qs))
    strengths = {model: rng.normal(0, 1) for model in models}
    for j, judge in enumerate(judges):
        for model in models:
            records = []
            for category, qs in uids.items():
                baseline = BASELINES.get(category, "o3-mini-2025-01-31")
                p = np.exp(np.array([-2, -1, 0, 1, 2]) * (strengths[model] + 0.2 * j) * 0.6)
                p /= p.sum()
                for q in qs:
                    games = []
                    for table in (GAME1_LABELS, GAME2_LABELS):
                        synonyms = table[int(rng.choice(5, p=p))]
                        label = synonyms[int(rng.integers(2))] if rng.random() < 0.3 else synonyms[0]
                        games.append({"score": label, "judgment": {"answer": f"verdict [[{label}]] {filler}"},
                                      "prompt": [{"role": "system", "content": "system"},
                                                 {"role": "user", "content": f"question {q}"}]})
                    if rng.random() < null_share:
                        games[int(rng.integers(2))] = None if rng.random() < 0.5 else {"score": None,
                                                                                        "judgment": None, "prompt": []}
                    records.append({"uid": q, "category": category, "judge": judge, "model": model,
                                    "baseline": baseline, "games": games})
            write_lines(directory / "model_judgment" / judge / f"{model}.jsonl", records)
    if age:
        age_files(root)
    return uids
