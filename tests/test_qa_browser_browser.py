"""qa_browser.py as users run it: the script serves a small bench on a free loopback port and headless
Chromium (Debian's `chromium`, driven by Playwright) picks a question and models and reads the page.
Also the command line: defaults that keep the app on this machine, and one-line errors (exit 2).

The browser tests skip when chromium is missing, unless ARENA_REQUIRE_BROWSER=1 (CI), where they fail.
A screenshot is saved as tests/output/qa_browser.png."""
from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

import qa_browser
from conftest import REPO_ROOT
from test_qa_browser_data import BASELINE, JUDGE, JUDGED, UNJUDGED, write_demo_bench

SCRIPT = REPO_ROOT / "qa_browser.py"
OUTPUT_DIR = REPO_ROOT / "tests" / "output"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
READY_PREFIX = "qa_browser: serving "
STARTUP_TIMEOUT = 90  # seconds; gradio's import alone takes a few on a busy machine
UI_TIMEOUT_MS = 15_000
# Loopback only: urllib would otherwise honour proxy variables from the environment.
LOCAL_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _child_env() -> dict[str, str]:
    return {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}


@contextmanager
def serve(cwd: Path, *flags: str) -> Iterator[tuple[str, str]]:
    """Run qa_browser.py in `cwd` on a free port; yield (URL, its ready line) once it answers HTTP."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, str(SCRIPT), *flags, "--port", str(port)], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_child_env())
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # drains the pipe so the server never blocks on a full one
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    try:
        seen: list[str] = []
        while True:
            try:
                line = lines.get(timeout=STARTUP_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"qa_browser.py printed no ready line in {STARTUP_TIMEOUT} s: {''.join(seen)}")
            if line is None:
                pytest.fail(f"qa_browser.py exited with {process.wait()} before serving: {''.join(seen)}")
            seen.append(line)
            if line.startswith(READY_PREFIX):
                break
        url = f"http://127.0.0.1:{port}/"
        assert f"at {url} " in line
        with LOCAL_HTTP.open(url, timeout=30) as response:
            assert response.status == 200
        yield url, line
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("qa_browser")
    write_demo_bench(root / "data", "demo")
    with serve(root, "--bench-name", "demo", "--judge-name", JUDGE) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        reason = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("ARENA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and ARENA_REQUIRE_BROWSER=1 requires the browser tests to run")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def open_page(browser: Browser, url: str) -> Iterator[Page]:
    """A page on `url` whose requests anywhere but the app are blocked, and asserted to be none."""
    app_origin = urlparse(url).netloc
    elsewhere: list[str] = []

    def route(request_route) -> None:
        if urlparse(request_route.request.url).netloc == app_origin:
            request_route.continue_()
        else:
            elsewhere.append(request_route.request.url)
            request_route.abort()

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.route("**/*", route)
    try:
        page.goto(url)
        yield page
    finally:
        page.close()
    assert elsewhere == [], "the page tried to reach other hosts"


def choose(page: Page, dropdown_id: str, typed: str, option_text: str) -> None:
    """Pick an option of a gradio dropdown as a user does: type into it, click the match."""
    box = page.locator(f"#{dropdown_id} input")
    box.click()
    box.fill("")
    box.press_sequentially(typed)
    page.get_by_role("option").filter(has_text=option_text).click()


def test_picking_a_question_and_models_shows_answers_judgments_and_verdicts(browser: Browser, demo_server):
    url, _ = demo_server
    with open_page(browser, url) as page:
        expect(page.locator("#status")).to_contain_text("4 questions · 3 models")
        expect(page.locator("#model-a input")).to_have_value(BASELINE)
        expect(page.locator("#model-b input")).to_have_value(JUDGED)

        choose(page, "question", "vector", "#include <vector>")
        game_1, game_2 = page.locator("#game-1"), page.locator("#game-2")
        expect(game_1).to_contain_text("JUDGE-VECTOR-1")
        expect(game_1).to_contain_text(f"A>B: {BASELINE} (baseline) wins, slightly")
        expect(game_2).to_contain_text(f"A>B: {JUDGED} wins, slightly")  # game 2's A is the model
        expect(page.locator("#judgment")).to_contain_text("Overall: even · the two games disagree")
        expect(page.locator("#question-text")).to_contain_text("What does #include <vector> do in C++?")
        answer_b = page.locator("#answer-b")
        code = answer_b.locator("pre code")  # the indented block is code, its `<` shown as written
        expect(code).to_contain_text("#include <vector>")
        expect(code).to_contain_text("std::vector<int> numbers;")
        expect(answer_b).not_to_contain_text("&lt;")
        expect(answer_b.locator("p", has_text="X:1").locator("br")).to_have_count(3)  # lines as written
        for side in "ab":  # v0.1 answers hold no thought: no panel for one
            expect(page.locator(f"#thought-{side}-panel")).to_be_hidden()
        expect(page.locator("#cluster input")).to_have_value("All clusters")

        choose(page, "question", "sort a list", "How do I sort a list")
        expect(game_1).to_contain_text(f"B>>A: {JUDGED} wins, strongly")
        expect(game_1).to_contain_text("JUDGE-SORT-1")
        expect(game_2).to_contain_text(f"A>>B: {JUDGED} wins, strongly")
        expect(page.locator("#answer-a")).to_contain_text("BASELINE-ANSWER-q-sort")
        expect(answer_b.locator("pre code")).to_contain_text("print(sorted(numbers))")  # markdown rendered
        expect(answer_b.locator("ol > li")).to_have_text(["ALPHA-STEP-ONE call sorted",
                                                          "ALPHA-STEP-TWO print the result"])
        expect(page.locator("#question-text ul > li")).to_have_count(2)
        expect(page.get_by_role("listbox")).to_have_count(0)  # the option list has closed
        OUTPUT_DIR.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT_DIR / "qa_browser.png"), full_page=True)

        choose(page, "model-b", "beta", UNJUDGED)
        expect(page.locator("#judgment")).to_contain_text(f"No judgment yet of {UNJUDGED}")
        expect(answer_b).to_contain_text("BETA-ANSWER-q-sort")  # current-format answers
        for hidden in ("#game-1", "#game-2", "#prompt-1-panel", "#prompt-2-panel"):  # one message, no empty panels
            expect(page.locator(hidden)).to_be_hidden()

        page.get_by_label("The two games disagree").check()
        expect(page.locator("#question-text")).to_contain_text("No question matches")
        choose(page, "model-b", "alpha", JUDGED)
        expect(page.locator("#question input")).to_have_value("2: What does #include <vector> do in C++?")
        expect(game_1).to_contain_text("JUDGE-VECTOR-1")
        expect(game_1).to_be_visible()
        expect(page.locator("#prompt-1-panel")).to_be_visible()


def test_the_server_listens_on_loopback_only_by_default(demo_server):
    url, ready_line = demo_server
    assert "(this machine only; --share adds a public link)" in ready_line
    port = urlparse(url).port
    listening = [line.split()[1] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                 if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port]
    listening6 = [line.split()[1] for line in Path("/proc/net/tcp6").read_text().splitlines()[1:]
                  if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port]
    assert listening == ["0100007F:" + f"{port:04X}"] and listening6 == []  # 127.0.0.1, nothing else


def test_an_empty_bench_shows_what_is_missing(tmp_path: Path, browser: Browser):
    (tmp_path / "data" / "fresh").mkdir(parents=True)
    with serve(tmp_path, "--bench-name", "fresh") as (url, _):
        with open_page(browser, url) as page:
            expect(page.locator("#problem")).to_contain_text("No questions yet")
            expect(page.locator("#problem")).to_contain_text("data/fresh/question.jsonl")
            expect(page.locator("#question")).to_have_count(0)


# --- the command line ---------------------------------------------------------------------------

def test_defaults_keep_the_app_on_this_machine():
    args = qa_browser.parse_args([])
    assert (args.host, args.share, args.port) == ("127.0.0.1", False, None)
    assert qa_browser.resolve_settings(args) == ("arena-hard-v0.1", "gpt-4-1106-preview", "gpt-4-0314")


def test_a_config_file_fills_in_the_flags_not_given(tmp_path: Path):
    config = tmp_path / "judge_config.yaml"
    config.write_text("bench_name: b1\njudge_model: j1\nbaseline_model: m1\n", encoding="utf-8")
    assert qa_browser.resolve_settings(qa_browser.parse_args(["--config-file", str(config)])) == ("b1", "j1", "m1")
    given = qa_browser.parse_args(["--config-file", str(config), "--baseline", "m2", "--bench-name", "b2"])
    assert qa_browser.resolve_settings(given) == ("b2", "j1", "m2")


def test_upstreams_judge_config_names_bench_judge_and_baseline(upstream_dir: Path):
    args = qa_browser.parse_args(["--config-file", str(upstream_dir / "config" / "judge_config.yaml")])
    assert qa_browser.resolve_settings(args) == ("arena-hard-v0.1", "gpt-4-1106-preview", "gpt-4-0314")


def _run_script(cwd: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *flags], cwd=cwd, capture_output=True, text=True,
                          env=_child_env(), timeout=120)


@pytest.mark.parametrize("flags, message", [
    (["--bench-name", "nope"], "error: data/nope: no such bench folder; check --bench-name"),
    (["--port", "0"], "error: argument --port: 0 is not a port number (1-65535)"),
    (["--port", "web"], "error: argument --port: invalid int value: 'web'"),
    (["--config-file", "missing.yaml"], "error: missing.yaml: config file not found"),
    (["--config-file", "bad.yaml"], "error: bad.yaml: `baseline_model` must be a non-empty string, found 3"),
    (["--bench-name", "broken"], "error: data/broken/question.jsonl:1: not valid JSON"),
    (["--bench-name", "demo", "--host", "192.0.2.1"],  # an address of no interface here
     "error: cannot listen on 192.0.2.1: Cannot assign requested address; choose another --port or --host"),
])
def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, flags: list[str], message: str):
    (tmp_path / "bad.yaml").write_text("baseline_model: 3\n", encoding="utf-8")
    (tmp_path / "data" / "broken").mkdir(parents=True)
    (tmp_path / "data" / "broken" / "question.jsonl").write_text("{oops\n", encoding="utf-8")
    write_demo_bench(tmp_path / "data", "demo")
    result = _run_script(tmp_path, *flags)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_a_port_in_use_is_a_user_error(tmp_path: Path):
    write_demo_bench(tmp_path / "data", "demo")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_script(tmp_path, "--bench-name", "demo", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr == (f"error: cannot listen on 127.0.0.1:{port}: Address already in use; "
                             "choose another --port or --host\n")


# --- a v2.0 bench -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def v2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    from v2_fixtures import BENCH, write_v2_bench
    root = tmp_path_factory.mktemp("qa_browser_v2")
    write_v2_bench(root, ["alpha", "beta"], {"hard_prompt": 3, "creative_writing": 2},
                   judges=("gpt-4.1", "gemini-2.5"), null_share=0.0)
    with serve(root, "--bench-name", BENCH) as (url, _):
        yield url, root / "data" / BENCH


def _record(bench_dir: Path, judge: str, model: str, uid: str) -> dict:
    import json
    lines = (bench_dir / "model_judgment" / judge / f"{model}.jsonl").read_text().splitlines()
    return next(record for record in map(json.loads, lines) if record["uid"] == uid)


def test_a_v2_bench_by_judge_and_category_with_thoughts_and_prompts_apart(browser: Browser, v2_server):
    url, bench_dir = v2_server
    with open_page(browser, url) as page:
        expect(page.locator("#status")).to_contain_text(
            "against the baselines gemini-2.0-flash-001, o3-mini-2025-01-31")
        # model A is the first question's category baseline: hard_prompt's
        expect(page.locator("#model-a input")).to_have_value("o3-mini-2025-01-31", timeout=UI_TIMEOUT_MS)
        expect(page.locator("#model-b input")).to_have_value("alpha", timeout=UI_TIMEOUT_MS)
        expect(page.locator("#cluster")).to_contain_text("Subcategory", timeout=UI_TIMEOUT_MS)
        expect(page.locator("#cluster input")).to_have_value("All subcategories")

        choose(page, "category", "creative", "creative_writing")
        expect(page.locator("#question input")).to_have_value("4: question cr0000", timeout=UI_TIMEOUT_MS)
        # model A follows the question's category to its baseline
        expect(page.locator("#model-a input")).to_have_value("gemini-2.0-flash-001", timeout=UI_TIMEOUT_MS)
        record = _record(bench_dir, "gpt-4.1", "alpha", "cr0000")
        game_1, game_2 = page.locator("#game-1"), page.locator("#game-2")
        expect(game_1).to_contain_text("Game 1 · A: gemini-2.0-flash-001 (baseline), B: alpha", timeout=UI_TIMEOUT_MS)
        expect(game_1).to_contain_text(f"Verdict {record['games'][0]['score']}: ", timeout=UI_TIMEOUT_MS)
        expect(game_2).to_contain_text(f"Verdict {record['games'][1]['score']}: ", timeout=UI_TIMEOUT_MS)
        expect(game_2).to_contain_text("Game 2 · A: alpha, B: gemini-2.0-flash-001 (baseline)", timeout=UI_TIMEOUT_MS)

        answer_b = page.locator("#answer-b")
        expect(answer_b).to_contain_text("answer of alpha to cr0000", timeout=UI_TIMEOUT_MS)
        expect(answer_b).not_to_contain_text("hidden reasoning", timeout=UI_TIMEOUT_MS)  # the thought is never mixed in
        expect(page.locator("#thought-b")).to_be_hidden()  # collapsed
        page.locator("#thought-b-panel").get_by_text("Model B's thought").click()
        expect(page.locator("#thought-b")).to_contain_text("hidden reasoning", timeout=UI_TIMEOUT_MS)

        page.locator("#prompt-1-panel").get_by_text("the prompt as sent").click()
        expect(page.locator("#prompt-1")).to_contain_text("System", timeout=UI_TIMEOUT_MS)
        expect(page.locator("#prompt-1")).to_contain_text("question cr0000", timeout=UI_TIMEOUT_MS)

        choose(page, "judge", "gemini", "gemini-2.5")
        expect(page.locator("#judgment")).to_contain_text("Judge gemini-2.5: alpha against the baseline "
                                                          "gemini-2.0-flash-001")
        other = _record(bench_dir, "gemini-2.5", "alpha", "cr0000")
        expect(game_1).to_contain_text(f"Verdict {other['games'][0]['score']}: ", timeout=UI_TIMEOUT_MS)
