"""How a benchmark-quality report (quality.Report) is shown: a text table of each statistic, what it
means in one phrase and its value; the same as a JSON-ready dict; and with --plot a chart of each model's
benchmark score against its reference rating, both intervals drawn.

Needs matplotlib only for the chart (leaderboard_plot). Writes the PNG atomically; reads nothing."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from arena_hard.scoring.leaderboard_plot import require_pyplot, save_png
from arena_hard.scoring.quality import Numbers, Report

# (field, name, what it means, shown as a percentage)
ROWS = (
    ("separability_95", "separability (95%)", "model pairs whose 95% intervals do not overlap", True),
    ("separability_80", "separability (80%)", "the same with 10th-90th percentile intervals of the bootstrap", True),
    ("agreement", "agreement with confidence",
     "pairs the reference separates: same order 1, overlapping 0.5, reversed 0", False),
    ("agreement_signed", "agreement (signed)", "the same pairs: same order 1, overlapping 0, reversed -1", False),
    ("strict_agreement", "strict agreement", "all pairs in the reference's order (a tie disagrees)", False),
    ("spearman", "Spearman correlation", "rank correlation of score with reference rating", False),
    ("kendall", "Kendall tau-b", "(concordant - discordant pairs) / all pairs, adjusted for ties", False),
    ("brier", "Brier score", "squared error of P(a below b) forecast from the scores; lower is better", False),
    ("log_loss", "log loss", "log loss of the same forecasts; lower is better", False),
    ("reference_separability_95", "reference separability", "the reference's own separability (95%)", True),
)


def report_dict(report: Report) -> dict[str, Any]:
    return asdict(report)


def _value_text(value: float | None, percent: bool) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:.2f}%" if percent else f"{value:.4f}"


def format_report(report: Report, title: str) -> list[str]:
    """The title, then one line per statistic: name, value, meaning."""
    pairs = report.models * (report.models - 1) // 2
    lines = [f"{title} ({report.models} models, {pairs} pairs; "
             f"{report.confident_reference_pairs} pairs the reference separates)"]
    width = max(len(name) for _, name, _, _ in ROWS)
    values = report_dict(report)
    for key, name, meaning, percent in ROWS:
        lines.append(f"  {name:<{width}}  {_value_text(values[key], percent):>7}  {meaning}")
    return lines


def plot_quality(path: Path, names: Sequence[str], bench: Numbers, reference: Numbers, title: str) -> None:
    """Benchmark score (y) against reference rating (x), one labelled point per model with both intervals."""
    pyplot = require_pyplot()
    figure, axes = pyplot.subplots(figsize=(9, 7))
    axes.errorbar(reference.score, bench.score,
                  xerr=[(reference.score - reference.lower).clip(0), (reference.upper - reference.score).clip(0)],
                  yerr=[(bench.score - bench.lower).clip(0), (bench.upper - bench.score).clip(0)],
                  fmt="o", color="tab:blue", ecolor="tab:gray", capsize=3, markersize=5)
    for name, x, y in zip(names, reference.score, bench.score):
        axes.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes.set_xlabel("reference rating")
    axes.set_ylabel("benchmark score")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    save_png(pyplot, figure, path)
