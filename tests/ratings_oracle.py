"""The slow, straightforward references for the scores, used by the tests and the benchmark:

- upstream's per-battle logistic regression written out (one design row per battle copy, Newton's
  method on the full matrix) and its bootstrap (a fresh fit on each `choice(n, n)` resample of the
  battle rows), to check the fast paths in arena_hard.scoring.v01.fit and style_control;
- `upstream_leaderboard_lines`: upstream v0.1's whole show_result computation with its own libraries,
  written here from the math (docs: ../shared/notes/upstream-scoring.md): judgment files read with
  pandas, battles expanded record by record, `np.random.seed(42)` then `DataFrame.sample(frac=1.0,
  replace=True)` per round, scikit-learn's LogisticRegression on the doubled design (no penalty, no
  intercept, tol 1e-8), gpt-4-0314 anchored at 1000, the win rate against the baseline rounded to 2
  decimals, and upstream's line format. Feed it the judgment files in the order show_result reads them
  (sorted by name)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np

LN10 = math.log(10.0)


def design(model_a, model_b, winner, n_models, features=None):
    """Upstream's matrices: each battle twice; +ln10 for model_a, -ln10 for model_b; Y = 1 when
    model_a won (both copies), a tie is 1 in the first copy and 0 in the second."""
    n = len(winner)
    rows = np.arange(2 * n)
    a = np.concatenate([model_a, model_a])
    b = np.concatenate([model_b, model_b])
    x = np.zeros((2 * n, n_models))
    x[rows, a] = LN10
    x[rows, b] = -LN10
    w = np.concatenate([winner, winner])
    y = (w == "model_a").astype(float)
    y[:n][winner == "tie"] = 1.0
    if features is not None:
        x = np.concatenate([x, np.concatenate([features, features])], axis=1)
    return x, y


def logistic_newton(x, y, penalty=0.0, tolerance=1e-12, max_steps=200):
    """Coefficients maximising sum(y log p + (1 - y) log(1 - p)) - penalty/2 |w|^2, p = sigmoid(x w).
    Without a penalty the solution is unique up to a common shift of the model columns; pinv picks one."""
    w = np.zeros(x.shape[1])
    for _ in range(max_steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (y - p) - penalty * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty * np.eye(x.shape[1])
        step = np.linalg.pinv(hessian) @ gradient
        w = w + step
        if np.max(np.abs(step)) < tolerance:
            break
    return w


def oracle_ratings(model_a, model_b, winner, n_models, anchor):
    """Ratings (anchor = 1000) by the per-battle regression; NaN for models without battles."""
    x, y = design(model_a, model_b, winner, n_models)
    ratings = 400 * logistic_newton(x, y) + 1000
    ratings += 1000 - ratings[anchor]
    present = np.zeros(n_models, dtype=bool)
    present[model_a] = present[model_b] = True
    return np.where(present, ratings, np.nan)


def oracle_style(model_a, model_b, winner, n_models, anchor, features):
    """(ratings, feature coefficients) of the L2 (C = 1) style-controlled regression."""
    x, y = design(model_a, model_b, winner, n_models, features)
    w = logistic_newton(x, y, penalty=1.0)
    ratings = 400 * w[:n_models] + 1000
    return ratings + 1000 - ratings[anchor], w[n_models:]


def oracle_bootstrap(model_a, model_b, winner, n_models, anchor, rounds, fit=oracle_ratings, seed=42):
    """Upstream's bootstrap: np.random.seed(42), then per round the battle rows at choice(n, n)."""
    state = np.random.RandomState(seed)
    n = len(winner)
    results = []
    for _ in range(rounds):
        rows = state.choice(n, size=n, replace=True)
        results.append(fit(model_a[rows], model_b[rows], winner[rows], n_models, anchor))
    return np.array(results)


def win_rate(rating, baseline_rating):
    return 1.0 / (1.0 + 10.0 ** ((baseline_rating - rating) / 400.0))


# --- upstream v0.1's show_result, with pandas and scikit-learn -----------------------------------

UPSTREAM_ANCHOR = "gpt-4-0314"
# Game 1 has the baseline as model_a; game 2 swaps. Label -> (winner, strong).
_GAME1 = {"A=B": ("tie", False), "A>B": ("model_a", False), "A>>B": ("model_a", True),
          "B>A": ("model_b", False), "B>>A": ("model_b", True)}
_GAME2 = {"A=B": ("tie", False), "A>B": ("model_b", False), "A>>B": ("model_b", True),
          "B>A": ("model_a", False), "B>>A": ("model_a", True)}


def upstream_battles(judgment_files: Sequence[Path], weight: int = 3, first_game_only: bool = False,
                     baseline: str = UPSTREAM_ANCHOR):
    """The battles DataFrame, record by record, game 1 then game 2, a strong verdict `weight` rows."""
    import pandas as pd

    rows = []
    for path in judgment_files:
        for _, record in pd.read_json(path, lines=True).iterrows():
            for game, table in enumerate((_GAME1, _GAME2)[:1 if first_game_only else 2]):
                score = record["games"][game]["score"]
                if score in table:
                    winner, strong = table[score]
                    row = {"question_id": record["question_id"], "model_a": baseline, "model_b": record["model"],
                           "winner": winner}
                    rows.extend([row] * (weight if strong else 1))
    return pd.DataFrame(rows)


def upstream_mle_elo(battles):
    """Ratings (a Series by model) from sklearn's unpenalised logistic regression on each battle twice."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    models = pd.concat([battles["model_a"], battles["model_b"]]).unique()
    models = pd.Series(np.arange(len(models)), index=models)
    doubled = pd.concat([battles, battles], ignore_index=True)
    n = doubled.shape[0]
    x = np.zeros([n, len(models)])
    x[np.arange(n), models[doubled["model_a"]]] = LN10
    x[np.arange(n), models[doubled["model_b"]]] = -LN10
    y = np.zeros(n)
    y[doubled["winner"] == "model_a"] = 1.0
    tie = (doubled["winner"] == "tie").to_numpy().copy()
    tie[n // 2:] = False
    y[tie] = 1.0
    # upstream: penalty=None; scikit-learn 1.8 deprecates that spelling of the same unpenalised fit
    fit = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-8).fit(x, y)
    elo = 400 * fit.coef_[0] + 1000
    if UPSTREAM_ANCHOR in models.index:
        elo += 1000 - elo[models[UPSTREAM_ANCHOR]]
    return pd.Series(elo, index=models.index).sort_values(ascending=False)


def upstream_ratings(judgment_files: Sequence[Path], num_rounds: int = 100, weight: int = 3,
                     first_game_only: bool = False, baseline: str = UPSTREAM_ANCHOR):
    """(point ratings, bootstrap rounds) as upstream computes them: seed 42, then one `sample(frac=1.0,
    replace=True)` per round, so the first k rounds of a longer run are the rounds of --num-rounds k."""
    import pandas as pd

    battles = upstream_battles(judgment_files, weight, first_game_only, baseline)
    point = upstream_mle_elo(battles)
    np.random.seed(42)
    rounds = pd.DataFrame([upstream_mle_elo(battles.sample(frac=1.0, replace=True)) for _ in range(num_rounds)])
    return point, rounds


def upstream_lines(point, rounds, answer_files: dict[str, Path], show_elo: bool = False,
                   baseline: str = UPSTREAM_ANCHOR) -> list[str]:
    """The lines upstream v0.1's show_result.py prints for these ratings (every model present in every
    bootstrap round, as upstream assumes)."""
    import pandas as pd

    rows = []
    for model in point.index:
        lengths = [json.loads(line)["choices"][0]["turns"][0]["token_len"]
                   for line in Path(answer_files[model]).read_text(encoding="utf-8").splitlines() if line.strip()]
        rows.append({"model": model, "score": point[model], "lower": np.percentile(rounds[model], 2.5),
                     "upper": np.percentile(rounds[model], 97.5), "avg_tokens": int(sum(lengths) / len(lengths))})
    stats = pd.DataFrame(rows)
    if show_elo:
        decimal = 0
        stats = stats.astype({"score": int, "lower": int, "upper": int})
    else:
        decimal = 1
        stats = stats.sort_values(by="model")
        for column in ("score", "lower", "upper"):
            ratings = dict(zip(stats["model"], stats[column]))
            stats[column] = [0.5 * 100 if model == baseline else
                             round(win_rate(ratings[model], ratings[baseline]) * 100, 2) for model in stats["model"]]
    stats = stats.sort_values(by="score", ascending=False)
    lines = []
    for _, row in stats.iterrows():
        interval = str((round(row["lower"] - row["score"], decimal), round(row["upper"] - row["score"], decimal)))
        lines.append(f"{row['model'] : <30} | score: {round(row['score'], decimal) : ^5} | 95% CI: {interval : ^12} "
                     f"| average #tokens: {int(row['avg_tokens'])}")
    return lines


def upstream_leaderboard_lines(judgment_files: Sequence[Path], answer_files: dict[str, Path], num_rounds: int = 100,
                               weight: int = 3, first_game_only: bool = False, show_elo: bool = False,
                               baseline: str = UPSTREAM_ANCHOR) -> list[str]:
    """What upstream v0.1's show_result.py prints for these judgment files, read in the order given."""
    point, rounds = upstream_ratings(judgment_files, num_rounds, weight, first_game_only, baseline)
    return upstream_lines(point, rounds, answer_files, show_elo, baseline)
