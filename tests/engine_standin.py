"""A stand-in for an inference engine's server (`vllm serve MODEL ...`, `python -m sglang.launch_server
--model-path MODEL ...`), for the local-engine tests: it serves the loopback fake OpenAI API
(tests/fake_api_server.py, with GET /health) on the --port it is given, after starting a "worker"
process in its process group that ignores SIGTERM (as engines' GPU workers may), and stops on SIGTERM
leaving the worker behind, so that only a stop of the whole group leaves nothing running.

Environment: STANDIN_RECORD_DIR (required): where it writes <pid>.json (its argv, CUDA_VISIBLE_DEVICES,
port, its pid and the worker's) and, when stopped, <pid>.stats (the fake's stats); STANDIN_MODE: `serve`
(default), `exit` (prints a few log lines and exits with status 3 before listening) or `hang` (never
listens); STANDIN_LATENCY: seconds before each reply; STANDIN_CRASH_AFTER=N: dies (status 4) at the N-th
request; STANDIN_THINK=1: replies `<thought></think>\\n\\n<answer>`, as QwQ served with its template."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_api_server import FakeAPIServer, Reply, answer_responder  # noqa: E402

WORKER = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(3600)\n"


def thinking_responder(request):
    return Reply(f"Let me think about: {request.last_user}</think>\n\n{answer_responder(request).text}")


def crashing(responder, after: int):
    """`responder`, until request number `after`, at which the whole server dies, as an engine may."""
    def respond(request):
        if request.number >= after:
            print("stand-in: Fatal Python error: Segmentation fault (a stand-in's crash)", file=sys.stderr, flush=True)
            os._exit(4)
        return responder(request)
    return respond


def wait_for(stop: threading.Event) -> None:
    """Until SIGTERM sets `stop`. A timed wait: the kernel may hand the signal to the fake server's
    thread, and Python runs the handler only once the main thread wakes, which an untimed wait never
    does (the stand-in then outlived a killed run's parent-death signal)."""
    while not stop.wait(0.2):
        pass


def main(engine: str, argv: list[str]) -> int:
    port = int(argv[argv.index("--port") + 1])
    print(f"stand-in {engine}: loading {argv[0] if engine == 'vllm' else argv[argv.index('--model-path') + 1]}",
          flush=True)
    mode = os.environ.get("STANDIN_MODE", "serve")
    if mode == "exit":
        print("stand-in: torch.OutOfMemoryError: CUDA out of memory (a stand-in's failure)", file=sys.stderr,
              flush=True)
        return 3
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = subprocess.Popen([sys.executable, "-c", WORKER])
    record = {"engine": engine, "argv": argv, "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"), "port": port,
              "pid": os.getpid(), "worker": worker.pid}
    record_dir = Path(os.environ["STANDIN_RECORD_DIR"])
    (record_dir / f"{os.getpid()}.json.tmp").write_text(json.dumps(record))
    os.replace(record_dir / f"{os.getpid()}.json.tmp", record_dir / f"{os.getpid()}.json")
    if mode == "hang":
        wait_for(stop)
        return 0
    responder = thinking_responder if os.environ.get("STANDIN_THINK") == "1" else answer_responder
    crash_after = int(os.environ.get("STANDIN_CRASH_AFTER", "0"))
    if crash_after:
        responder = crashing(responder, crash_after)
    with FakeAPIServer(responder, latency=float(os.environ.get("STANDIN_LATENCY", "0")), port=port) as server:
        print(f"stand-in {engine}: serving on port {port}", flush=True)
        wait_for(stop)
        (record_dir / f"{os.getpid()}.stats").write_text(json.dumps(server.stats()))
    print(f"stand-in {engine}: stopped", flush=True)
    return 0
