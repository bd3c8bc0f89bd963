"""What the benchmark scripts share: a loopback fake server run as a separate process (it prints its
URL as its first line), and the CPU seconds this process has used. Not collected by pytest."""
from __future__ import annotations

import contextlib
import resource
import subprocess
import sys
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def server_process(script: Path, *args: str, cwd: Path | None = None) -> Iterator[str]:
    """Start `python script args` and yield the URL it prints; stop it on the way out."""
    process = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True, cwd=cwd)
    try:
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
