"""The README's "Is the benchmark any good?" section and docs/benchmark_quality.md show the numbers
benchmark_quality.py gives on the seed notebook's own files: each table row, as the script's --json
values rounded the way the table shows them (percentages to 2 decimals, the rest to 4)."""
from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from conftest import REPO_ROOT
from test_benchmark_quality import NOTEBOOK

# (row label in the tables, JSON key, shown as a percentage)
ROWS = (("separability (95%)", "separability_95", True), ("separability (80%)", "separability_80", True),
        ("agreement with confidence", "agreement", False), ("strict agreement", "strict_agreement", False),
        ("Spearman correlation", "spearman", False), ("Brier score", "brier", False),
        ("log loss", "log_loss", False))
HEADING = "## Is the benchmark any good?"


def section(path, heading):
    """The lines of a Markdown file from `heading` to the next heading of the same or a higher level (outside
    code blocks, where `# ` starts a comment)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert heading in lines, f"{path.name} has no {heading!r} section"
    start = lines.index(heading) + 1
    level, fenced = len(heading.split()[0]), False
    for end in range(start, len(lines)):
        fenced ^= lines[end].startswith("```")
        if not fenced and re.match(rf"#{{1,{level}}} ", lines[end]):
            return lines[start:end]
    return lines[start:]


@pytest.fixture
def reproduced(seed_notebook_dir):
    """{row label: "| label | Arena-Hard | AlpacaEval 2.0 LC | MT-Bench |"} from the script's --json."""
    import benchmark_quality

    values = {}
    for benchmark, (name_map, _) in NOTEBOOK.items():
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert benchmark_quality.main([
                "--scores", str(seed_notebook_dir / f"bootstrap_stats_{benchmark}.jsonl"),
                "--reference", str(seed_notebook_dir / "chatbot_arena_20240329.csv"),
                "--name-map", str(seed_notebook_dir / name_map), "--json"]) == 0
        values[benchmark] = json.loads(out.getvalue())
    return {label: "| " + " | ".join([label] + [f"{values[b][key] * 100:.2f}%" if percent else f"{values[b][key]:.4f}"
                                               for b in NOTEBOOK]) + " |"
            for label, key, percent in ROWS}


@pytest.mark.parametrize("path, heading", [(REPO_ROOT / "README.md", HEADING),
                                           (REPO_ROOT / "docs" / "benchmark_quality.md",
                                            "## The notebook's numbers, reproduced")])
def test_the_documented_numbers_are_the_scripts(reproduced, path, heading):
    lines = section(path, heading)
    assert "| | Arena-Hard | AlpacaEval 2.0 LC | MT-Bench |" in lines
    assert [row for row in reproduced.values() if row not in lines] == []


def test_the_readme_section_gives_the_commands_and_what_each_number_means():
    text = "\n".join(section(REPO_ROOT / "README.md", HEADING))
    for command in ("python benchmark_quality.py --scores", "--reference", "--name-map", "--json", "--plot",
                    "python show_result.py --reference"):
        assert command in text
    for meaning in ("separability", "agreement with confidence", "strict agreement", "Spearman", "Kendall",
                    "Brier", "log loss"):
        assert meaning.lower() in text.lower()
    assert "(docs/benchmark_quality.md)" in text
