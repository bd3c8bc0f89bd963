"""A slow, straightforward oracle of upstream Arena-Hard v2.0's show_result.py (lmarena/arena-hard-auto
196f6b8), written here from its algorithm for the tests: pandas reads every judgment file, rows with a
null game are dropped, labels become per-row scores and are exploded; the leaderboard is pandas'
group-wise bootstrap (`groupby("model").sample(frac=1.0, replace=True)`), or, with control features,
per-row style features and one logistic fit per bootstrap resample of the rows (scipy, per row, to
convergence, in place of upstream's 50 LBFGS iterations in torch). The table is printed by pandas.

Differences from upstream, all deliberate and shared with show_result.py: judgment files are read in
sorted order, the global numpy stream is seeded before each category, `-f length` / `-f markdown`
select the columns upstream means to select."""
from __future__ import annotations

import os
from glob import glob
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import minimize

BASELINES = {"hard_prompt": "o3-mini-2025-01-31", "coding": "o3-mini-2025-01-31", "math": "o3-mini-2025-01-31",
             "creative_writing": "gemini-2.0-flash-001", "arena-hard-v0.1": "gpt-4-0314"}
LABEL_TO_SCORE = {"A>B": [1], "A>>B": [1] * 3, "A=B": [0.5], "A<<B": [0] * 3, "A<B": [0], "B>A": [0],
                  "B>>A": [0] * 3, "B=A": [0.5], "B<<A": [1] * 3, "B<A": [1]}


def load_battles(root: str, bench: str, judges: Sequence[str]) -> tuple[pd.DataFrame, int]:
    frames = []
    for judge in judges:
        for path in sorted(glob(os.path.join(root, "data", bench, "model_judgment", judge, "*.jsonl"))):
            frames.append(pd.read_json(path, lines=True))
    data = pd.concat(frames).reset_index(drop=True)
    null = data.games.map(lambda g: g[0] is None or g[1] is None or g[0]["score"] is None or g[1]["score"] is None)
    kept = data[~null].reset_index(drop=True)
    kept["scores"] = kept.games.map(lambda g: LABEL_TO_SCORE[g[1]["score"]] +
                                    [1 - s for s in LABEL_TO_SCORE[g[0]["score"]]])
    battles = kept[["uid", "model", "category", "scores"]].explode("scores").reset_index(drop=True)
    return battles, int(null.sum())


def confidence_table(mean: pd.DataFrame, lower: pd.DataFrame, upper: pd.DataFrame, baseline: str | None) -> str:
    board = pd.merge(mean, lower, on="model").merge(upper, on="model")
    board["Scores (%)"] = board["scores"].map(lambda x: round(x * 100, 1))
    board["CI (%)"] = board.apply(lambda r: f"(-{round((r['scores'] - r['lower']) * 100, 1)} / "
                                            f"+{round((r['upper'] - r['scores']) * 100, 1)})", axis=1)
    board = board.rename(columns={"model": "Model"}).drop(columns=["lower", "upper", "scores"])
    if baseline:
        board = pd.concat([board, pd.DataFrame({"Model": baseline, "Scores (%)": 50.0, "CI (%)": "(-0.0 / +0.0)"},
                                               index=[0])])
    return board.sort_values(by="Scores (%)", ascending=False).reset_index(drop=True).to_string()


def winrate_table(battles: pd.DataFrame, category: str, rounds: int = 100) -> str:
    frame = battles[["model", "scores"]]
    boots = pd.concat([frame.groupby("model").sample(frac=1.0, replace=True).groupby("model").mean()
                       for _ in range(rounds)])
    boots["scores"] = boots["scores"].astype(float)
    mean = boots.groupby("model").mean().reset_index()
    lower = boots.groupby("model").quantile(0.05).reset_index().rename(columns={"scores": "lower"})
    upper = boots.groupby("model").quantile(0.95).reset_index().rename(columns={"scores": "upper"})
    return confidence_table(mean, lower, upper, BASELINES[category])


def _style_metadata(root: str, bench: str) -> dict:
    metadata = {}
    for path in glob(os.path.join(root, "data", bench, "model_answer", "*.jsonl")):
        frame = pd.read_json(path, lines=True)
        metadata[frame.iloc[0]["model"]] = frame.set_index("uid")["metadata"].to_dict()
    return metadata


def _counts(meta: dict) -> list[float]:
    return [float(v if isinstance(v, int) else sum(v.values())) for v in meta.values()]


def _fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    def loss(theta):
        eta = x @ theta
        p = 1 / (1 + np.exp(-eta))
        return float(np.sum(np.logaddexp(0, eta) - y * eta)), x.T @ (p - y)
    return minimize(loss, np.full(x.shape[1], 0.5), jac=True, method="L-BFGS-B",
                    options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 20000, "maxcor": 30}).x


def style_table(battles: pd.DataFrame, root: str, bench: str, category: str, features: Sequence[str],
                rounds: int = 100) -> tuple[str, np.ndarray]:
    metadata = _style_metadata(root, bench)
    baseline = BASELINES[category]
    rows = []
    for _, row in battles.iterrows():
        m = _counts(metadata[row["model"]][row["uid"]])
        b = _counts(metadata[baseline][row["uid"]])
        feature = [(m[0] - b[0]) / (m[0] + b[0])]
        for k in (1, 2, 3):
            dm, db = m[k] / (m[0] + 1), b[k] / (b[0] + 1)
            feature.append((dm - db) / (dm + db + 1))
        rows.append(feature)
    raw = np.array(rows)
    z = (raw - raw.mean(axis=0)) / raw.std(axis=0, ddof=1)
    columns = ([0] if "length" in features else []) + ([1, 2, 3] if "markdown" in features else [])
    names = sorted(set(battles.model.tolist() + [baseline]))
    onehot = np.zeros((len(battles), len(names)))
    for i, model in enumerate(battles.model):
        onehot[i, names.index(model)] = 1
        onehot[i, names.index(baseline)] = -1
    x = np.concatenate([onehot, z[:, columns]], axis=1)
    y = battles.scores.astype(float).to_numpy()
    picks = np.random.randint(low=0, high=len(x), size=(rounds, len(x)))
    coefs = np.array([_fit(x[p], y[p]) for p in picks])
    c = coefs[:, :len(names)]
    b = names.index(baseline)
    probs = np.exp(c) / (np.exp(c) + np.exp(c[:, [b]]))
    table = pd.DataFrame(columns=names, data=probs)
    text = confidence_table(table.quantile(0.5).to_frame("scores").reset_index().rename(columns={"index": "model"}),
                            table.quantile(0.05).to_frame("lower").reset_index().rename(columns={"index": "model"}),
                            table.quantile(0.95).to_frame("upper").reset_index().rename(columns={"index": "model"}),
                            None)
    return text, np.median(coefs[:, len(names):], axis=0)


def oracle_output(root: str, judges: Sequence[str], categories: Sequence[str], features: Sequence[str] = (),
                  bench: str = "arena-hard-v2.0", seed: int = 42, rounds: int = 100) -> tuple[str, list]:
    """The lines show_result.py prints for these categories (overall and notes aside), and the style
    coefficients per category."""
    battles, null = load_battles(root, bench, judges)
    lines, coefficients = [f"Number of null judgments found: {null}"], []
    for category in categories:
        scoped = battles[battles.category == category].reset_index(drop=True)
        np.random.seed(seed)
        if features:
            lines.append(f"INFO: Control features: {list(features)}")
            text, coefs = style_table(scoped, root, bench, category, features, rounds)
            coefficients.append(coefs)
        else:
            text = winrate_table(scoped, category, rounds)
        lines += [f"##### Category: {category} #####", text]
    return "\n".join(lines), coefficients
