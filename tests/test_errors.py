"""run_main: one line and an exit status, never a traceback, for what users run into."""
from __future__ import annotations

import subprocess
import sys

import pytest

from arena_hard.core.errors import UserError, run_main


def run(main, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_main(main, [])
    return exit_info.value.code, capsys.readouterr().err


def test_user_error_is_one_line_and_status_2(capsys):
    def main(argv):
        raise UserError("config/x.yaml: `parallel` must be an integer >= 1, found 0")
    assert run(main, capsys) == (2, "error: config/x.yaml: `parallel` must be an integer >= 1, found 0\n")


def test_file_system_error_is_one_line_naming_the_file(capsys):
    def main(argv):
        raise PermissionError(13, "Permission denied", "data/x/model_answer/m.jsonl")
    assert run(main, capsys) == (1, "error: data/x/model_answer/m.jsonl: Permission denied\n")


def test_a_closed_pipe_ends_quietly():
    code = ("import sys; from arena_hard.core.errors import run_main\n"
            "def main(argv):\n    [print('line ' * 50) for _ in range(100000)]\n    return 0\n"
            "run_main(main)")
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writer.stdout.readline()
    writer.stdout.close()  # like `| head -1`
    stderr = writer.stderr.read().decode()
    assert writer.wait() == 1 and "Traceback" not in stderr
