"""The local inference servers of `local_engine: true` models (api_type sglang or vllm, as upstream's
qwq-32b entry), started by the run and stopped when it ends.

`check(model)` says, before anything is asked, whether the engine is installed (--dry-run included).
`serving(model, log_dir)` starts the model's `replicas` servers, `python -m sglang.launch_server` or
`vllm serve` with the entry's model (a Hugging Face id or a path), each on its own share of the visible
GPUs (CUDA_VISIBLE_DEVICES, else nvidia-smi's list) with tensor parallelism over that share, as
upstream's default over all of them, and on a free port of 127.0.0.1, its output in
`log_dir/<model>[.<replica>].log`; waits until each answers GET /health; gives the model back with
those servers as its endpoints; and stops them when the block ends, however it ends: SIGTERM to each
server's process group (its workers too), SIGKILL after STOP_GRACE_SECONDS. A SIGTERM or SIGHUP of the
run meanwhile ends it as Ctrl-C does (through the same stop), and a run killed outright takes its
servers with it (Linux's parent-death signal). A server that exits, or is not healthy within
`startup_timeout`, stops the run with its log's last lines; one that dies while answering has them
printed when its turn ends (its requests fail meanwhile, and the client stops asking). `run_in_turns`
runs gen_answer's runs with one local model's servers up at a time (they take every GPU), the API
models alongside the first. Writes the servers' logs."""
from __future__ import annotations

import ctypes
import dataclasses
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from arena_hard.core.endpoints import Endpoint, ModelConfig
from arena_hard.core.errors import UserError, handling, terminate
from arena_hard.core.names import file_stem
from arena_hard.generate.cost import Budget
from arena_hard.generate.pipeline import ModelRun, RunReport, run_models

HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 30.0
GROUP_EXIT_SECONDS = 5.0  # how long a killed group may take to be gone
LOG_TAIL_LINES = 20
_TP_FLAGS = {"--tp-size", "--tp", "--tensor-parallel-size", "-tp"}
_HEALTH = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


@dataclass
class _Server:
    process: subprocess.Popen
    port: int
    log: Path


def check(model: ModelConfig) -> None:
    """A UserError when the model is a local one (local_engine: true) whose engine is not installed here."""
    if model.engine is None:
        return
    engine = model.engine.engine
    found = importlib.util.find_spec("sglang") is not None if engine == "sglang" else shutil.which("vllm")
    if not found:
        how = ("`python -m sglang.launch_server` needs SGLang in this Python: pip install 'sglang[all]'"
               if engine == "sglang" else "`vllm serve` needs vLLM on PATH: pip install vllm")
        raise UserError(f"{model.source}: `{model.name}` has local_engine: true; {how}")


def command(model: ModelConfig, port: int, gpus: Sequence[str] | None) -> list[str]:
    """The server's command line; tensor parallelism over `gpus` unless engine_args sets its own."""
    engine = model.engine
    if engine.engine == "sglang":
        args = [sys.executable, "-m", "sglang.launch_server", "--model-path", model.model_name]
        tp_flag = "--tp-size"
    else:
        args, tp_flag = ["vllm", "serve", model.model_name], "--tensor-parallel-size"
    args += ["--host", HOST, "--port", str(port)]
    if gpus and not any(arg.split("=")[0] in _TP_FLAGS for arg in engine.args):
        args += [tp_flag, str(len(gpus))]
    return args + list(engine.args)


def visible_gpus() -> list[str]:
    """CUDA_VISIBLE_DEVICES's GPUs when set, else those nvidia-smi lists (none without it)."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        smi = shutil.which("nvidia-smi")
        try:
            result = subprocess.run([smi, "--query-gpu=index", "--format=csv,noheader"], capture_output=True,
                                    text=True, timeout=60) if smi else None
        except (OSError, subprocess.TimeoutExpired):
            result = None
        listed = ",".join(result.stdout.split()) if result is not None and result.returncode == 0 else ""
    return [gpu.strip() for gpu in listed.split(",") if gpu.strip()]


def gpu_shares(model: ModelConfig, gpus: Sequence[str]) -> list[list[str] | None]:
    """Each replica's GPUs (an equal share, in order), or None each when no GPU is visible."""
    replicas = model.engine.replicas
    if not gpus:
        return [None] * replicas
    size = len(gpus) // replicas
    if size == 0:
        raise UserError(f"{model.source}: `{model.name}.replicas` is {replicas}, but only {len(gpus)} GPU(s) are "
                        "visible; each replica needs at least one")
    return [list(gpus[i * size:(i + 1) * size]) for i in range(replicas)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _parent_death_signal(parent: int) -> None:  # runs in the child, between fork and exec
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the run died before the line above
            os.kill(os.getpid(), signal.SIGTERM)


def _start(model: ModelConfig, gpus: list[str] | None, log: Path) -> _Server:
    port = free_port()
    args = command(model, port, gpus)
    env = {**os.environ, **({"CUDA_VISIBLE_DEVICES": ",".join(gpus)} if gpus else {})}
    print(f"{model.name}: starting {' '.join(args)}" + (f" on GPU {','.join(gpus)}" if gpus else "")
          + f"; log: {log}", file=sys.stderr)
    log.parent.mkdir(parents=True, exist_ok=True)
    parent = os.getpid()
    with open(log, "wb") as output:
        try:
            process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                       env=env, start_new_session=True, preexec_fn=lambda: _parent_death_signal(parent))
        except OSError as error:
            raise UserError(f"{model.name}: cannot start {args[0]}: {error.strerror or error}") from None
    return _Server(process, port, log)


def _healthy(server: _Server) -> bool:
    try:
        with _HEALTH.open(f"http://{HOST}:{server.port}/health", timeout=5) as response:
            return response.status == 200
    except OSError:  # not listening yet, an error status, a timeout
        return False


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_bytes()[-64_000:].decode("utf-8", "replace")
    except OSError:
        return "    (no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:]) or "    (the log is empty)"


def _wait_until_healthy(model: ModelConfig, servers: Sequence[_Server]) -> None:
    deadline = time.monotonic() + model.engine.startup_timeout
    waiting, pause = list(servers), 0.1
    while waiting:
        for server in list(waiting):
            status = server.process.poll()
            if status is not None:
                raise _failed(model, server, f"exited with status {status} before it was ready")
            if _healthy(server):
                waiting.remove(server)
        if waiting and time.monotonic() > deadline:
            raise _failed(model, waiting[0], f"was not healthy after {model.engine.startup_timeout:g} s "
                                             f"(raise `{model.name}.startup_timeout` if it needs longer)")
        if waiting:
            time.sleep(pause)
            pause = min(2 * pause, 2.0)


def _failed(model: ModelConfig, server: _Server, what: str) -> UserError:
    return UserError(f"{model.name}: the {model.engine.engine} server on port {server.port} {what}; the last lines "
                     f"of its log {server.log}:\n{log_tail(server.log)}")


def _signal_group(server: _Server, signum: int) -> None:
    try:
        os.killpg(server.process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _stop(servers: Sequence[_Server]) -> None:
    for server in servers:
        _signal_group(server, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for server in servers:
        try:
            server.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _signal_group(server, signal.SIGKILL)  # what is left of its group: workers that outlived it, or itself
        server.process.wait()
        _wait_until_gone(server.process.pid, time.monotonic() + GROUP_EXIT_SECONDS)


def _group_members(group: int) -> list[int]:
    """The live (not zombie) processes of a process group, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue
        if int(pgrp) == group and state != "Z":
            members.append(int(stat.parent.name))
    return members


def _wait_until_gone(group: int, deadline: float) -> None:
    """SIGKILL is delivered asynchronously: wait (boundedly) until no worker of the group still runs, so
    that a run never ends while its GPU processes do."""
    while _group_members(group) and time.monotonic() < deadline:
        time.sleep(0.01)


@contextmanager
def serving(model: ModelConfig, log_dir: Path) -> Iterator[ModelConfig]:
    """`model` with its started servers as endpoints; they are stopped when the block ends."""
    servers: list[_Server] = []
    shares = gpu_shares(model, visible_gpus())
    stem = Path(log_dir) / file_stem(model.name)
    try:
        with handling(terminate, (signal.SIGTERM, signal.SIGHUP)):
            for index, gpus in enumerate(shares):
                servers.append(_start(model, gpus, Path(f"{stem}.{index}.log" if len(shares) > 1 else f"{stem}.log")))
            _wait_until_healthy(model, servers)
            print(f"{model.name}: {len(servers)} {model.engine.engine} server(s) ready", file=sys.stderr)
            try:
                yield dataclasses.replace(model, endpoints=tuple(Endpoint(api_base=f"http://{HOST}:{server.port}/v1")
                                                                 for server in servers))
            finally:
                for server in servers:  # one that died while answering: the client stopped asking it; say why
                    status = server.process.poll()
                    if status is not None:
                        print(f"error: {_failed(model, server, f'exited with status {status} during the run')}",
                              file=sys.stderr)
    finally:
        with handling(signal.SIG_IGN, (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)):  # a stop is not cut short
            _stop(servers)


@contextmanager
def serving_runs(runs: Sequence[ModelRun], log_dir: Path) -> Iterator[list[ModelRun]]:
    """`runs`, each local model that has work among them served meanwhile (its runs given its servers)."""
    with ExitStack() as stack:
        served: dict[str, ModelConfig] = {}
        for run in runs:
            if run.model.engine is not None and run.jobs and run.model.name not in served:
                served[run.model.name] = stack.enter_context(serving(run.model, log_dir))
        yield [dataclasses.replace(run, model=served.get(run.model.name, run.model)) for run in runs]


def run_in_turns(runs: Sequence[ModelRun], sequential: bool, log_dir: Path,
                 budget: Budget | None = None) -> list[RunReport]:
    """run_models over `runs`, a local model's servers up only for its turn: the API models together with
    the first local model, then each other local model alone (--sequential: every run alone); `budget`
    (--max-cost) spans every turn. Reports come back in the order of `runs`."""
    local = [run for run in runs if run.model.engine is not None]
    remote = [run for run in runs if run.model.engine is None]
    turns = [[run] for run in runs] if sequential else [remote + local[:1], *([run] for run in local[1:])]
    reports: dict[int, RunReport] = {}
    for turn in turns:
        with serving_runs(turn, log_dir) as started:
            for run, report in zip(turn, run_models(started, budget=budget)):
                reports[id(run)] = report
    return [reports[id(run)] for run in runs]
