"""User-facing errors: a problem the user can fix (a config, a data file, a flag) is raised as
UserError and printed by `run_main` as one line on stderr with exit status 2, never as a traceback.
A file system error (disk full, no permission) and a run stopped before its end (Unfinished) are one
line too, with exit status 1. SIGTERM stops a run as Ctrl-C does (`terminate`): one line, and exit
status 128 + the signal's number; what the run finished is on disk already."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn, Sequence

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in the user's input; the message names the file, line or key and what to do."""


def looked_in(path: str | os.PathLike) -> str:
    """The end of a not-found message: when `path` is relative and its first folder is not in the working
    directory, where it was looked for (the scripts read data/ and config/ from there); else nothing."""
    path = Path(path)
    if path.is_absolute() or len(path.parts) < 2 or Path(path.parts[0]).is_dir():
        return ""
    return f" (looked in {Path.cwd()}: run from the folder that holds {path.parts[0]}/)"


def note(message: str) -> None:
    """A remark on stderr that does not stop the run (what was left out, what a number rests on)."""
    print(f"note: {message}", file=sys.stderr)


class Unfinished(Exception):
    """A run that stopped before its end for a cause outside the user's input (a provider that does not
    answer in time); what it did so far is kept, and the message says how to go on."""


_STOPPED_BY: list[int] = []  # the signals `terminate` turned into a Ctrl-C during this run


def terminate(signum: int, frame: Any) -> None:
    """SIGTERM (or SIGHUP) stops the run as Ctrl-C does, through the SIGINT handler in force: inside
    asyncio.run, asyncio's, which cancels the main task so that every await unwinds as it does for
    Ctrl-C (an exception raised at whatever line was running could be lost in an HTTP library's
    cancel scope, and the run go on); elsewhere Python's, which raises KeyboardInterrupt. Where Ctrl-C
    is ignored (a background job of a shell script), the signal's default action ends the process."""
    handler = signal.getsignal(signal.SIGINT)
    if not callable(handler):
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _STOPPED_BY.append(signum)
    handler(signal.SIGINT, frame)


@contextmanager
def handling(handler: Any, signums: Sequence[int]) -> Iterator[None]:
    """`handler` for `signums` meanwhile (only the main thread may set one; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error (exit status 2) instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def run_main(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> NoReturn:
    """Run a script's main(argv) and exit with its status; a UserError becomes one line and status 2."""
    _STOPPED_BY.clear()
    try:
        with handling(terminate, (signal.SIGTERM,)):
            status = main(argv)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        status = EXIT_USER_ERROR
    except Unfinished as error:
        print(f"error: {error}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        signum = _STOPPED_BY[-1] if _STOPPED_BY else signal.SIGINT
        print("interrupted" if signum == signal.SIGINT else f"terminated ({signal.Signals(signum).name})",
              file=sys.stderr)
        status = 128 + signum
    except BrokenPipeError:  # the reader of our output went away (`... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    except OSError as error:  # a full disk, a folder without write permission, ...
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}", file=sys.stderr)
        status = 1
    sys.exit(status)
