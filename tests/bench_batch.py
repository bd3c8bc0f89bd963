"""Benchmark of batch mode at scale: judging 2 models x N questions x 2 games through the batch API of
the fake (tests/fake_batch_server.py, run as a separate process so the figures are the client's alone).

For N = 500 (2,000 requests) and N = 2,500 (10,000 requests), each in a fresh gen_judgment.py process:
CPU milliseconds per request for planning (replaying the jobs and streaming the request file to
disk), submission (upload + create), collection (download, reading the results into the store) and
writing the records (the second replay, then the sorted rewrite); the size of the request files; and
the peak RSS of the process, whose ratio between the two sizes shows whether memory stays flat.

Run: .venv/bin/python tests/bench_batch.py   (about a minute)"""
from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]

from bench_helpers import cpu_seconds, server_process  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "tests" / "fake_batch_server.py"
WORDS = 150  # per answer: a judge prompt of about 2 x 150 words, as short v0.1 answers
SIZES = (500, 2500)


def fake_server():
    return server_process(SERVER, cwd=SERVER.parent)


def workspace(root: Path, url: str, count: int):
    from pipeline_helpers import TEMPLATE, Workspace, model_entry, questions, write_jsonl

    ws = Workspace(root)
    ws.write_questions(questions(count))
    for n, model in enumerate(("base", "model-1", "model-2")):
        write_jsonl(ws.answer_file(model), [{"question_id": f"q{i:03d}", "model_id": model, "choices": [{
            "index": 0, "turns": [{"content": " ".join(f"w{(i + j + n) % 97}" for j in range(WORDS + n))}]}]}
            for i in range(count)])
    ws.write_api_config({"judge": model_entry(f"{url}/v1")})
    ws.write_judge_config("judge", "base", ["model-1", "model-2"], prompt_template=[TEMPLATE])
    return ws


def child(url: str, count: int) -> None:
    """One measured run in this process; prints its figures as JSON on the last line of stdout."""
    import gen_judgment
    from arena_hard.generate.batch import poll, runner
    from arena_hard.generate.pipeline import finish_output

    phases = {"planning": 0.0, "submission": 0.0, "collection": 0.0, "records": 0.0}
    peaks: dict[str, float] = {}  # peak RSS (kB) at the end of each phase
    replays = []

    def timed_sync(name, function):
        def wrapper(*args, **kwargs):
            start = cpu_seconds()
            try:
                return function(*args, **kwargs)
            finally:
                phase = name if name != "replay" else ("planning" if not replays else "records")
                phases[phase] += cpu_seconds() - start
                peaks[phase] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                if name == "replay":
                    replays.append(1)
        return wrapper

    request_bytes = []

    def timed_async(name, function):
        async def wrapper(*args, **kwargs):
            if name == "submission":
                request_bytes.append(args[2].size)  # submit(store, clients, entry)
            start = cpu_seconds()
            try:
                return await function(*args, **kwargs)
            finally:
                phases[name] += cpu_seconds() - start
                peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return wrapper

    runner._replay_outputs = timed_sync("replay", runner._replay_outputs)
    runner.RoundWriter.finish = timed_sync("planning", runner.RoundWriter.finish)
    runner.submit = timed_async("submission", runner.submit)
    poll.collect = timed_async("collection", poll.collect)
    runner.finish_output = timed_sync("records", finish_output)
    with tempfile.TemporaryDirectory() as tmp:
        ws = workspace(Path(tmp), url, count)
        os.chdir(tmp)
        before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        wall = time.perf_counter()
        with contextlib.redirect_stderr(open(os.devnull, "w")), contextlib.redirect_stdout(open(os.devnull, "w")):
            status = gen_judgment.main(["--batch", "--poll-interval", "0"])
        wall = time.perf_counter() - wall
        judged = sum(1 for m in ("model-1", "model-2")
                     for _ in open(ws.judgment_file("judge", m), encoding="utf-8"))
    print(json.dumps({"status": status, "requests": 4 * count, "judged": judged, "wall": wall, "phases": phases,
                      "request_bytes": sum(request_bytes), "rss_before_kb": before_rss, "peaks": peaks,
                      "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def main() -> None:
    results = []
    with fake_server() as url:
        for count in SIZES:
            run = subprocess.run([sys.executable, __file__, "--child", url, str(count)], capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"the run with {count} questions failed:\n{run.stdout}{run.stderr}")
            results.append(json.loads(run.stdout.strip().splitlines()[-1]))
    print(f"batch mode, judging 2 models x N questions x 2 games ({WORDS}-word answers), one fresh process each")
    for result in results:
        n = result["requests"]
        assert result["status"] == 0 and result["judged"] == n // 2, result
        per = {name: 1000 * seconds / n for name, seconds in result["phases"].items()}
        print(f"  {n:>6,} requests: " + ", ".join(f"{name} {ms:.3f} ms" for name, ms in per.items())
              + f" CPU per request; request files {result['request_bytes'] / 1e6:.1f} MB; wall {result['wall']:.1f} s")
        print(f"          peak RSS: {result['rss_before_kb'] / 1024:.0f} MB after imports, "
              f"{result['peaks']['submission'] / 1024:.0f} MB once planned and submitted, "
              f"{result['peaks']['collection'] / 1024:.0f} MB once collected, "
              f"{result['peak_rss_kb'] / 1024:.0f} MB at exit (records written, verdict statistics printed)")
    small, large = results
    ratio = large["requests"] / small["requests"]
    print(f"  {ratio:.0f}x the requests: peak RSS x{large['peak_rss_kb'] / small['peak_rss_kb']:.2f}, "
          f"CPU per request x{sum(large['phases'].values()) / large['requests'] / (sum(small['phases'].values()) / small['requests']):.2f}, "
          f"request files x{large['request_bytes'] / small['request_bytes']:.2f}")

if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
