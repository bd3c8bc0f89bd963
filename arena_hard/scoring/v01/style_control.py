"""Style-controlled Bradley-Terry, as upstream's --style-control: the logistic regression gets, beside
the model columns, one column per style feature of the battle's two answers, and an L2 penalty
(sklearn's default C = 1.0) on every coefficient, no intercept.

Per battle and feature, with a = model_a's (the baseline's) count and b = model_b's:
d = (a - b) / (a + b + 1), standardised over all battles, each row with its copies (mean 0, population
std 1). Features:
token length, headers (h1..h6), list items (ordered + unordered), bold spans (** and __); modes
`style` (all four), `length` (token length), `markdown` (the other three). Battles with the same two
models and features are pooled, and the penalised likelihood is maximised by Newton's method
(newton.minimize); the
bootstrap resamples battles with the same random stream as without style control (both copies of a
battle move together, as upstream). Pure functions; reads and writes nothing."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from arena_hard.core.errors import UserError
from arena_hard.scoring import newton
from arena_hard.scoring.v01.battles import A_WINS, B_WINS, TIE, Battles
from arena_hard.scoring.v01.fit import INIT_RATING, SCALE, SEED, anchor_and_cap, resample_counts, sigmoid

MODES = {"style": (0, 1, 2, 3), "length": (0,), "markdown": (1, 2, 3)}
# Upstream's names for the printed coefficients (each is the coefficient of the a-vs-b difference).
COEFFICIENT_NAMES = ("sum_assistant_a_tokens", "header_count_a", "list_count_a", "bold_count_a")
_METADATA_KEYS = (("sum_assistant_a_tokens", "sum_assistant_b_tokens"), ("header_count_a", "header_count_b"),
                  ("list_count_a", "list_count_b"), ("bold_count_a", "bold_count_b"))
_LN_BASE = math.log(10.0)
_NEWTON_TOLERANCE = 1e-10


def battle_counts(battles: Battles,
                  answer_counts: Callable[[str], dict[str, list[int]]]) -> tuple[np.ndarray, np.ndarray]:
    """Style counts (battles x 4) of model_a's and of model_b's answer to each battle's question;
    `answer_counts(model)` gives {question_id: [token_len, headers, lists, bold]}."""
    n_models = len(battles.models)
    sides = []
    for models in (battles.model_a, battles.model_b):
        keys, inverse = np.unique(battles.question.astype(np.int64) * n_models + models, return_inverse=True)
        table = np.empty((len(keys), 4))
        for row, key in enumerate(keys.tolist()):
            question_id, model = battles.question_ids[key // n_models], battles.models[key % n_models]
            counts = answer_counts(model).get(question_id)
            if counts is None:
                raise UserError(f"style control needs {model}'s answer to question {question_id}, which its answer "
                                "file lacks; answer that question with gen_answer.py or drop --style-control")
            table[row] = counts
        sides.append(table[inverse])
    return sides[0], sides[1]


def _metadata_count(value: Any) -> float:
    if isinstance(value, dict):
        return float(sum(v for v in value.values() if isinstance(v, (int, float))))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError(value)


def counts_from_metadata(metadata: Sequence[dict[str, Any]], where: str) -> tuple[np.ndarray, np.ndarray]:
    """The same counts from upstream's per-battle conv_metadata (saved battles)."""
    a, b = np.empty((len(metadata), 4)), np.empty((len(metadata), 4))
    for i, row in enumerate(metadata):
        try:
            for j, (key_a, key_b) in enumerate(_METADATA_KEYS):
                a[i, j], b[i, j] = _metadata_count(row[key_a]), _metadata_count(row[key_b])
        except (KeyError, ValueError):
            raise UserError(f"{where}: battle {i + 1}'s conv_metadata lacks the style counts "
                            f"({', '.join(k for pair in _METADATA_KEYS for k in pair)})") from None
    return a, b


def metadata_json(a_counts: np.ndarray, b_counts: np.ndarray) -> list[str]:
    """Each battle's conv_metadata as upstream saves it with the battles, encoded as JSON."""
    both = np.concatenate([a_counts, b_counts], axis=1).astype(np.int64)
    unique, inverse = np.unique(both, axis=0, return_inverse=True)
    encoded = [json.dumps({key: int(row[j + 4 * side]) for j, keys in enumerate(_METADATA_KEYS)
                           for side, key in enumerate(keys)}, separators=(",", ":")) for row in unique]
    return [encoded[i] for i in inverse.ravel().tolist()]


def style_features(a_counts: np.ndarray, b_counts: np.ndarray, mode: str,
                   copies: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Standardised features (battle rows x k) for the mode, row i counted copies[i] times in the mean
    and std, and the names of any feature that is the same in every battle (its column is set to 0, so
    it takes no part; upstream would divide by zero, or by the rounding error of the mean, which
    numpy's std returns for most constants)."""
    columns = list(MODES[mode])
    a, b = a_counts[:, columns], b_counts[:, columns]
    d = (a - b) / (a + b + 1.0)
    weights = np.ones(len(d)) if copies is None else copies  # with all 1, np.mean's and np.std's very digits
    mean = np.average(d, axis=0, weights=weights)
    std = np.sqrt(np.average((d - mean) ** 2, axis=0, weights=weights))
    constant = np.ptp(d, axis=0) == 0 if len(d) else np.zeros(len(columns), dtype=bool)
    z = np.where(constant, 0.0, (d - mean) / np.where(constant, 1.0, std))
    return z, [COEFFICIENT_NAMES[c] for c, flat in zip(columns, constant) if flat]


@dataclass
class StyleProblem:
    """Battles pooled into groups with the same (model_a, model_b, features)."""

    n_models: int
    anchor: int
    group: np.ndarray  # group of each battle
    ga: np.ndarray
    gb: np.ndarray
    z: np.ndarray  # features of each group

    @classmethod
    def build(cls, battles: Battles, z: np.ndarray, anchor: int) -> "StyleProblem":
        keys = np.column_stack([battles.model_a, battles.model_b, z]).astype(np.float64)
        unique, group = np.unique(keys, axis=0, return_inverse=True)
        return cls(len(battles.models), anchor, group.ravel(), unique[:, 0].astype(np.intp),
                   unique[:, 1].astype(np.intp), unique[:, 2:])

    def counts(self, outcome: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """counts[group, outcome], battle row i counted weights[i] times."""
        return np.bincount(self.group.astype(np.int64) * 3 + outcome, weights,
                           minlength=3 * len(self.ga)).reshape(-1, 3)

    def _objective(self, theta: np.ndarray, won: np.ndarray, lost: np.ndarray) -> float:
        eta = self._eta(theta)
        return float(won @ np.logaddexp(0.0, -eta) + lost @ np.logaddexp(0.0, eta) + 0.5 * theta @ theta)

    def _eta(self, theta: np.ndarray) -> np.ndarray:
        beta = theta[:self.n_models]
        return _LN_BASE * (beta[self.ga] - beta[self.gb]) + self.z @ theta[self.n_models:]

    def fit(self, counts: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """Coefficients [models..., features...] minimising the logistic loss over the duplicated
        battles (a tie = one row each way) plus half the squared norm."""
        m, k = self.n_models, self.z.shape[1]
        won = 2.0 * counts[:, A_WINS] + counts[:, TIE]
        lost = 2.0 * counts[:, B_WINS] + counts[:, TIE]
        total = won + lost
        theta = np.zeros(m + k) if start is None else start.copy()

        def derivatives(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            p = sigmoid(self._eta(theta))
            residual = total * p - won
            gradient = theta.copy()
            gradient[:m] += _LN_BASE * newton.pair_gradient(self.ga, self.gb, residual, m)
            gradient[m:] += self.z.T @ residual
            w = total * p * (1.0 - p)
            hessian = np.eye(m + k)
            hessian[:m, :m] += _LN_BASE ** 2 * newton.pair_hessian(self.ga, self.gb, w, m)
            wz = w[:, None] * self.z
            cross = _LN_BASE * np.stack([newton.pair_gradient(self.ga, self.gb, wz[:, j], m) for j in range(k)], axis=1)
            hessian[:m, m:] += cross
            hessian[m:, :m] += cross.T
            hessian[m:, m:] += self.z.T @ wz
            return gradient, hessian

        return newton.minimize(lambda theta: self._objective(theta, won, lost), derivatives, theta, _NEWTON_TOLERANCE)

    def ratings(self, theta: np.ndarray, counts: np.ndarray) -> np.ndarray:
        total = counts.sum(axis=1).astype(np.float64)
        present = (np.bincount(self.ga, total, self.n_models) + np.bincount(self.gb, total, self.n_models)) > 0
        present[self.anchor] = True
        return anchor_and_cap(INIT_RATING + SCALE * theta[:self.n_models], self.anchor, present)


def fit_style(battles: Battles, z: np.ndarray, anchor: int) -> tuple[StyleProblem, np.ndarray, np.ndarray]:
    """The problem, its coefficients and the models' ratings (anchor = 1000)."""
    problem = StyleProblem.build(battles, z, anchor)
    counts = problem.counts(battles.outcome, battles.copies)
    theta = problem.fit(counts)
    return problem, theta, problem.ratings(theta, counts)


def bootstrap_style(problem: StyleProblem, battles: Battles, theta: np.ndarray, rounds: int,
                    seed: int = SEED) -> np.ndarray:
    """Ratings refitted on each resample of the battles (features stay as standardised on all)."""
    results = []
    for drawn in resample_counts(battles.copies, rounds, seed):
        counts = problem.counts(battles.outcome, drawn)
        results.append(problem.ratings(problem.fit(counts, theta), counts))
    return np.array(results)
