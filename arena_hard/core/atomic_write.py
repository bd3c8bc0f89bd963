"""Writing a file whole: through a temporary file in the same folder, then a rename, so that readers
see the old file or the new one, never a half-written one (`atomic_write_bytes`, `atomic_write_text`);
and an OSError named by the file it concerns (`named_error`). Writes the files it is given."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from arena_hard.core.data_files import write_target


def named_error(error: OSError, path: Path) -> OSError:
    """`error` with the file it concerns, so that a full disk ("No space left on device", "File too
    large") is reported against the file being written."""
    if error.filename is None:
        return OSError(error.errno, error.strerror or str(error), str(path))
    return error


def atomic_write_bytes(path: Path, chunks: Iterable[bytes]) -> None:
    """Write `path` through a temporary file in the same folder and a rename: readers see the old
    file or the new one, never a half-written one. A symlink is written through: its target is replaced."""
    path = write_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException as error:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        if isinstance(error, OSError):
            raise named_error(error, path) from None
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, [text.encode("utf-8")])
