"""One writer per output file: an OS-level lock (fcntl.flock) that a run holds on each file it writes.

The lock is taken on a hidden file beside the output, `.<name>.lock`, holding the owner's process id,
not on the output itself: the sorted rewrite replaces the output by a rename, and a lock on the old
inode would not keep a second run from locking the new one. The kernel drops a flock when its
process ends, however it ends, so a lock left by a killed run never blocks the next one (its file is
merely reused). An output that is a symlink is locked beside the file it points to (data_files.write_target),
so two links to one file are one writer. Reads and writes only the lock files."""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sys
from pathlib import Path
from typing import Iterator, Sequence

from arena_hard.core.data_files import require_folders, write_target
from arena_hard.core.errors import UserError


def lock_path(output: Path) -> Path:
    return output.parent / f".{output.name}.lock"


def _holder(path: Path) -> str:
    """'process 1234' as written in the lock file, or a vaguer name when it has not written it yet."""
    try:
        pid = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return f"process {pid}" if pid.isdigit() else "another process"


def _try_lock(path: Path, wait: bool) -> int | None:
    """A descriptor of `path` locked by us, or None when another process holds it (and not `wait`).
    A file system error (a full disk) names the lock file."""
    try:
        return _lock(path, wait)
    except OSError as error:
        if error.filename is None:
            raise OSError(error.errno, error.strerror or str(error), str(path)) from None
        raise


def _lock(path: Path, wait: bool) -> int | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            try:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            except OSError:
                _release(path, fd)
                raise
            return fd
        os.close(fd)  # the holder we waited for removed this file on release: lock the path's new file


def _release(path: Path, fd: int) -> None:
    # Removed while still locked, so a waiter that then gets this inode sees it is stale and retries.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    os.close(fd)


@contextlib.contextmanager
def lock_outputs(outputs: Sequence[Path], wait: bool = False) -> Iterator[None]:
    """Hold the lock of every file in `outputs` for the duration. When another run holds one: without
    `wait`, a UserError naming the file and the other process; with `wait`, wait for it (the caller
    then reads what that run wrote before deciding what to ask). Locks are taken in path order so two
    waiting runs never wait on each other."""
    held: list[tuple[Path, int]] = []
    try:
        targets: dict[Path, Path] = {}  # the file each output's writes change -> the output, for messages
        for output in sorted(set(outputs)):
            require_folders(output)
            targets.setdefault(write_target(output), output)
        for target, output in sorted(targets.items()):
            path = lock_path(target)
            fd = _try_lock(path, wait=False)
            if fd is None and wait:
                print(f"{output}: being written by {_holder(path)}; waiting for it to finish (--wait)",
                      file=sys.stderr)
                fd = _try_lock(path, wait=True)
            if fd is None:
                raise UserError(f"{output}: being written by {_holder(path)}, another run of this script; "
                                "wait for it to end, or pass --wait to wait and then ask only what is missing")
            held.append((path, fd))
        yield
    finally:
        for path, fd in reversed(held):
            _release(path, fd)
