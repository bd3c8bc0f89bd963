"""What the scripts may read and where they write, for files a user or another program put under data/.

- Only regular files are read (`open_regular`, `read_regular`, `jsonl_files`): a FIFO, socket or device
  named `*.jsonl` (or given as --scores, --reference, a saved battles file, a prompt log...) would block
  a reader forever or stream without end. One given by name is refused in one line; one found in a
  folder listing is skipped with one note line.
- An output's folder must be a folder (`require_folders`): a regular file in its place is one line,
  not "File exists".
- A write follows symlinks (`write_target`): an output that is a symlink is appended to, rewritten and
  locked at the file it points to, so the link stays a link and there is one copy of the data.
Reads directory listings and file types; writes nothing."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from arena_hard.core.errors import UserError, note

_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading if it is a regular file (or a symlink to one). A folder raises
    IsADirectoryError and a missing file FileNotFoundError, as open() does; anything else is a
    UserError. The open never blocks: a FIFO with no writer would otherwise hang here."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        raise UserError(f"{path}: is {_kind(mode)}, not a regular file; only regular files are read: "
                        "remove it or put the file itself there")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_regular(path: Path) -> bytes:
    """The bytes of `path`, read as open_regular opens it (same errors)."""
    with open_regular(path) as handle:
        return handle.read()


def jsonl_files(directory: Path) -> list[Path]:
    """The regular `*.jsonl` files of `directory` (symlinks to regular files included), sorted; each
    other entry with that ending is left out with one note line on stderr."""
    files, skipped = [], []
    for path in sorted(Path(directory).glob("*.jsonl")):
        (files if path.is_file() else skipped).append(path)
    if skipped:
        names = ", ".join(path.name for path in skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        note(f"{directory}: skipped {len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} named *.jsonl "
             f"that {'is not a regular file' if len(skipped) == 1 else 'are not regular files'} ({names})")
    return files


def require_folders(path: Path) -> None:
    """A UserError naming the first existing parent of the output `path` that is not a folder."""
    for parent in reversed(Path(path).parents):
        if parent.exists() and not parent.is_dir():
            raise UserError(f"{parent}: is a file, where a folder is needed for {path}; move or rename that file")


def write_target(path: Path) -> Path:
    """The file a write to `path` changes: `path` itself, or when it is a symlink the file it points to
    (a rename onto the link would replace the link, leaving its target behind as a stale copy)."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
