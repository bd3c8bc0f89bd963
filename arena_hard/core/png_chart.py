"""What every --plot chart shares: matplotlib, imported only when a chart is asked for (it is in
requirements-optional.txt; without it, one line saying how to install it), and writing a figure as a
PNG, atomically."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from arena_hard.core.errors import UserError
from arena_hard.core.atomic_write import atomic_write_bytes


def require_pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UserError("--plot needs matplotlib: pip install -r requirements-optional.txt") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def save_png(pyplot: Any, figure: Any, path: Path) -> None:
    """Lay the figure out and write it as a PNG, atomically; the figure is closed."""
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=120)
    pyplot.close(figure)
    atomic_write_bytes(Path(path), [buffer.getvalue()])
