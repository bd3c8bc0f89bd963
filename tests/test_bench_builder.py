"""build_bench.py end to end on a synthetic log with planted topics (tests/fake_bench_builder.py): the
real openai SDK over HTTP to the loopback fakes, which give embeddings by topic and criteria by
prompt. The bench it writes goes through gen_answer.py, gen_judgment.py and show_result.py unchanged;
a rerun asks nothing; bad input is one line and exit status 2 with nothing written."""
from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

import build_bench
import gen_answer
import gen_judgment
import show_result
from arena_hard.browser.data import BenchData
from arena_hard.core.records import Bench
from fake_api_server import AnswerMarkers, FaultPlan, JudgeResponder
from fake_batch_server import FakeBatchServer
from fake_bench_builder import (CHEAP, HARD, NAMER, STRONG, TOPICS, PlantedEmbedder, bench_builder_responder,
                                planted_log, topic_of)
from pipeline_helpers import (A_END, A_START, B_END, B_START, Workspace, model_entry, read_jsonl, run_in_process,
                              write_jsonl, write_yaml)

SCRIPTS = {"build_bench.py": build_bench.main, "gen_answer.py": gen_answer.main,
           "gen_judgment.py": gen_judgment.main, "show_result.py": show_result.main}
BENCH = "my-bench"
LOG = "logs/arena.jsonl"
PER_TOPIC = 40
PRICES = {"embedder": {"input": 0.02, "output": 0}, "cheap": {"input": 0.15, "output": 0.6},
          "strong": {"input": 2.5, "output": 10.0}, "namer": {"input": 0.4, "output": 1.6}}  # USD per million tokens


def run(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_in_process(SCRIPTS[script], *args, cwd=cwd)


def settings(**changes) -> dict:
    return {"bench_name": BENCH, "input_file": LOG, "language": "English", "embedding_model": "embedder",
            "topic_model": "namer", "min_topic_size": 10,
            "stages": [{"label_model": "cheap", "prompt_threshold": 5, "cluster_threshold": 3},
                       {"label_model": "strong", "prompt_threshold": 6, "cluster_threshold": 6}],
            "size": 30, "per_topic": 20, "seed": 7, "embedding_batch_size": 16, **changes}


def workspace(root: Path, category_dir: Path, url: str, log: list[dict] | None = None, label_url: str | None = None,
              **changes) -> Path:
    """A working folder: the downloaded criteria, the log, api_config.yaml and bench_builder.yaml; the
    chat models (labellers, topic namer) at `label_url` when given."""
    (root / "config" / "official").mkdir(parents=True, exist_ok=True)
    shutil.copy(category_dir / "BenchBuilder" / "category.py", root / "config" / "official" / "category.py")
    write_jsonl(root / LOG, planted_log(PER_TOPIC) if log is None else log)
    labels = label_url or f"{url}/v1"
    write_yaml(root / "config" / "api_config.yaml", {
        "embedder": model_entry(f"{url}/v1", model_name="planted-embedder", parallel=4, price=PRICES["embedder"]),
        "cheap": model_entry(labels, model_name=CHEAP, price=PRICES["cheap"]),
        "strong": model_entry(labels, model_name=STRONG, price=PRICES["strong"]),
        "namer": model_entry(labels, model_name=NAMER, price=PRICES["namer"])})
    write_yaml(root / "config" / "bench_builder.yaml", settings(**changes))
    return root


@pytest.fixture
def planted(fake_api):
    return fake_api(bench_builder_responder, embedder=PlantedEmbedder())


def questions_of(root: Path, bench: str = BENCH) -> list[dict]:
    return read_jsonl(root / "data" / bench / "question.jsonl")


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_the_bench_holds_only_hard_topics_sampled_evenly_and_the_benchmark_scripts_take_it(
        planted, fake_api, upstream_bench_builder_dir, tmp_path):
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url)
    built = run("build_bench.py", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    questions = questions_of(root)
    assert len(questions) == 30
    planted_topics = Counter(topic_of(q["turns"][0]["content"]).word for q in questions)
    assert set(planted_topics) == set(HARD) and sorted(planted_topics.values()) == [15, 15]
    names = {topic.word: topic.name for topic in TOPICS}
    assert all(q["cluster"] == names[topic_of(q["turns"][0]["content"]).word] for q in questions)
    assert all(q["category"] == BENCH and len(q["question_id"]) == 32 for q in questions)
    assert "dropped 1 without a prompt, 1 not in English, 1 of 32 characters or fewer, 1 duplicates" in built.stdout
    report = json.loads((root / "data" / BENCH / "bench_builder_report.json").read_text())
    assert [s["kept"] for s in report["stages"]] == [3 * PER_TOPIC, 2 * PER_TOPIC]
    assert {row["name"]: (row["size"], row["mean_score"], row["kept"], row["sampled"]) for row in report["topics"]} == {
        "Rust Lifetimes": (40, 6.0, 40, 15), "SQL Query Tuning": (40, 6.0, 40, 15),
        "Proofs by Induction": (40, 5.0, 0, 0), "Poems about Cats": (40, 3.0, 0, 0), "Greetings": (40, 0.0, 0, 0)}
    assert report["criteria_share"]["creativity"] == pytest.approx(1 / 5)

    # a rerun with the same config and log asks nothing, and writes the same bench
    before, content = len(planted.requests), (root / "data" / BENCH / "question.jsonl").read_bytes()
    again = run("build_bench.py", cwd=root)
    assert again.returncode == 0 and len(planted.requests) == before
    assert (root / "data" / BENCH / "question.jsonl").read_bytes() == content

    # the built bench through the benchmark scripts, unchanged
    answers = fake_api(JudgeResponder(AnswerMarkers(A_START, A_END, B_START, B_END)))
    ws = Workspace(root, BENCH)
    ws.write_api_config({name: model_entry(f"{answers.url}/v1") for name in ("base", "model-a", "judge")})
    ws.write_answer_config(["base", "model-a"])
    ws.write_judge_config("judge", "base", ["model-a"])
    assert run("gen_answer.py", cwd=root).returncode == 0
    judged = run("gen_judgment.py", cwd=root)
    assert judged.returncode == 0, judged.stdout + judged.stderr
    assert len(read_jsonl(ws.judgment_file("judge", "model-a"))) == 30
    board = run("show_result.py", "--bench-name", BENCH, "--judge-name", "judge", "--baseline", "base", cwd=root)
    assert board.returncode == 0, board.stderr
    assert any(line.startswith("model-a") and "score:" in line for line in board.stdout.splitlines())
    browsed = BenchData(Bench(BENCH, root / "data"), "judge", "base")  # qa_browser.py's clusters
    assert {value for _, value in browsed.cluster_choices()} == {"", "Rust Lifetimes", "SQL Query Tuning"}


def test_the_labeller_sends_upstreams_request(planted, upstream_bench_builder_dir, tmp_path):
    from test_download_bench_builder import criteria_oracle

    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url)
    assert run("build_bench.py", cwd=root).returncode == 0
    system_prompt, _ = criteria_oracle((root / "config" / "official" / "category.py").read_text())
    record = planted_log(PER_TOPIC)[0]

    def upstream_prompt(conversation):  # label.py's _get_prompt: every other turn from the first, each + "\n"
        return "".join(f"{conversation[i]['content']}\n" for i in range(0, len(conversation), 2))

    sent = [r.request for r in planted.requests if r.request.model == CHEAP
            and r.request.user_turns == (upstream_prompt(record["conversation_a"]),)]
    assert len(sent) == 1
    assert (sent[0].system, sent[0].temperature, sent[0].max_tokens) == (system_prompt, 0.0, 32)
    assert [m.role for m in sent[0].messages] == ["user"]


def test_a_larger_log_embeds_and_labels_only_its_new_prompts(planted, upstream_bench_builder_dir, tmp_path):
    log = planted_log(PER_TOPIC)
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url, log=log[:100])
    assert run("build_bench.py", "--allow-smaller", cwd=root).returncode == 0
    first = {r.request.number for r in planted.requests}
    write_jsonl(root / LOG, log)
    assert run("build_bench.py", cwd=root).returncode == 0
    later = [r.request for r in planted.requests if r.request.number not in first]
    embedded = [text for r in later if r.path.endswith("/embeddings") for text in r.user_turns]
    labelled = [r.last_user for r in later if r.model in (CHEAP, STRONG)]
    old = {text for r in planted.requests if r.request.number in first for text in r.request.user_turns}
    assert len(embedded) == 100 and not set(embedded) & old
    assert labelled and not set(labelled) & old


def test_dry_run_counts_what_each_stage_would_send_and_calls_nothing(planted, upstream_bench_builder_dir, tmp_path):
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url)
    dry = run("build_bench.py", "--dry-run", cwd=root)
    assert dry.returncode == 0, dry.stderr
    assert "200 to embed in 13 requests to embedder" in dry.stdout
    assert "stage 2: would label at most 200 prompts" in dry.stdout
    assert planted.requests == [] and written(root) == []

    assert run("build_bench.py", cwd=root).returncode == 0
    shutil.rmtree(root / "data" / BENCH / ".bench_builder" / "labels")
    before = len(planted.requests)
    dry = run("build_bench.py", "--dry-run", cwd=root)
    assert "stage 1: 0 of 200 prompts already labelled by cheap; 200 to label" in dry.stdout
    assert "stage 2: would label at most 200 prompts (those the stages before keep) with strong" in dry.stdout
    assert len(planted.requests) == before


def test_failed_labels_write_no_bench_and_only_they_are_asked_again(planted, fake_api, upstream_bench_builder_dir,
                                                                    tmp_path):
    failing = fake_api(bench_builder_responder, faults=FaultPlan(matching=(("Question 3 about theorem", "400"),)))
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url, label_url=f"{failing.url}/v1", topic_model=None)
    first = run("build_bench.py", cwd=root)
    assert first.returncode == 1 and "nothing written" in first.stdout
    assert "failed: stage 1 (cheap)" in first.stderr and "400" in first.stderr
    assert not (root / "data" / BENCH / "question.jsonl").exists()
    assert failing.outcomes["400"] == 1  # a 400 is not retried
    healthy = fake_api(bench_builder_responder)
    workspace(root, upstream_bench_builder_dir, planted.url, label_url=f"{healthy.url}/v1", topic_model=None)
    second = run("build_bench.py", cwd=root)
    assert second.returncode == 0, second.stdout + second.stderr
    cheap = [r.request.last_user for r in healthy.requests if r.request.model == CHEAP]
    assert len(cheap) == 1 and cheap[0].startswith("Question 3 about theorem")
    assert sum(r.request.model == STRONG for r in healthy.requests) == 3 * PER_TOPIC


def test_labels_go_through_the_batch_api(planted, upstream_bench_builder_dir, tmp_path):
    with FakeBatchServer(bench_builder_responder) as batches:
        root = workspace(tmp_path, upstream_bench_builder_dir, planted.url, label_url=batches.openai_base_url)
        result = run("build_bench.py", "--batch", "--poll-interval", "0", cwd=root)
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(batches.submitted_ids()) == len(TOPICS) + 5 * PER_TOPIC + 3 * PER_TOPIC  # names, stages 1, 2
        shutil.rmtree(root / "data" / BENCH / ".bench_builder" / "labels")
        dry = run("build_bench.py", "--batch", "--dry-run", cwd=root)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        assert f"round 1: {5 * PER_TOPIC} requests in 1 batch(es)" in dry.stdout
        assert len(batches.submitted_ids()) == len(TOPICS) + 8 * PER_TOPIC
    assert {topic_of(q["turns"][0]["content"]).word for q in questions_of(root)} == set(HARD)
    assert {r.request.path for r in planted.requests} == {"/v1/embeddings"}


def test_a_direct_run_refuses_while_a_batch_holds_its_labels(planted, upstream_bench_builder_dir, tmp_path):
    with FakeBatchServer(bench_builder_responder) as batches:
        root = workspace(tmp_path, upstream_bench_builder_dir, planted.url, label_url=batches.openai_base_url,
                         topic_model=None)
        batches.hold = True  # the labels' batch stays in progress past the poll timeout: left open, recorded
        left = run("build_bench.py", "--batch", "--poll-interval", "0", "--poll-timeout", "0.05", cwd=root)
        assert left.returncode == 1 and len(batches.batches) == 1, left.stdout + left.stderr
        line = one_line_error(run("build_bench.py", cwd=root))  # without --batch: it would label them again
        assert "holds requests of stage 1 (cheap)" in line and "a direct run would pay for them again" in line
        assert len(batches.submitted_ids()) == 5 * PER_TOPIC and not any(
            r.request.model == CHEAP for r in planted.requests)
        batches.hold = False
        collected = run("build_bench.py", "--batch", "--poll-interval", "0", cwd=root)
        assert collected.returncode == 0, collected.stdout + collected.stderr
        assert batches.count("POST", "/batches") == 2  # stage 1's batch collected, stage 2's sent: none twice


def test_a_v2_bench_is_written_in_upstream_v2s_format_and_keyword_names_without_a_topic_model(
        planted, upstream_bench_builder_dir, tmp_path):
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url, bench_name="arena-hard-v2-mine",
                     topic_model=None)
    assert run("build_bench.py", "--plot", "topics.png", cwd=root).returncode == 0
    questions = questions_of(root, "arena-hard-v2-mine")
    assert {tuple(q) for q in questions} == {("uid", "category", "subcategory", "prompt")}
    assert {q["category"] for q in questions} == {"hard_prompt"}
    assert all(len(q["uid"]) == 16 and topic_of(q["prompt"]).word in q["subcategory"] for q in questions)
    assert not any(r.request.model == NAMER for r in planted.requests)
    browsed = BenchData(Bench("arena-hard-v2-mine", root / "data"), "judge", "base")
    assert browsed.cluster_label == "Subcategory"
    assert {value for _, value in browsed.cluster_choices()} == {""} | {q["subcategory"] for q in questions}
    assert (root / "topics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------------- bad input

def test_bad_input_is_one_line_and_writes_nothing(planted, upstream_bench_builder_dir, tmp_path):
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url)
    (root / LOG).write_text('{"prompt": "a fine prompt of more than thirty-two characters"}\n{"prompt": \n')
    assert f"{LOG}:2: not valid JSON" in one_line_error(run("build_bench.py", cwd=root))

    write_jsonl(root / LOG, [{"language": "German", "prompt": "Wie spät ist es bitte in Berlin gerade jetzt?"}] * 3)
    assert "3 of 3 records were not in English (set `language: null`" in one_line_error(run("build_bench.py", cwd=root))

    write_jsonl(root / LOG, planted_log(2))
    assert "has 10 usable prompts, fewer than `size` 30; lower `size`, or rerun with --allow-smaller" in \
        one_line_error(run("build_bench.py", cwd=root))
    write_yaml(root / "config" / "bench_builder.yaml", settings(min_topic_size=50, size=5))
    assert "`min_topic_size` is 50, more than the 10 prompts" in one_line_error(run("build_bench.py", cwd=root))

    (root / "config" / "official" / "category.py").unlink()
    assert "download_data.py --bench-builder" in one_line_error(run("build_bench.py", cwd=root))
    assert planted.requests == [] and written(root) == []


def written(root: Path) -> list[Path]:
    """The files under data/ other than the lock a run holds on the question file."""
    return [path for path in (root / "data").rglob("*") if path.is_file() and not path.name.endswith(".lock")]


def test_too_few_prompts_need_allow_smaller(planted, upstream_bench_builder_dir, tmp_path):
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url, size=100)
    error = one_line_error(run("build_bench.py", cwd=root))
    assert "only 40 prompts pass the filter stages, at most 20 per topic, fewer than `size` 100" in error
    assert not (root / "data" / BENCH / "question.jsonl").exists()
    smaller = run("build_bench.py", "--allow-smaller", cwd=root)
    assert smaller.returncode == 0 and len(questions_of(root)) == 40


def test_a_bench_of_no_prompt_is_refused_even_with_allow_smaller(planted, upstream_bench_builder_dir, tmp_path):
    stages = [{"label_model": "cheap", "prompt_threshold": 5, "cluster_threshold": 6.5},
              {"label_model": "strong", "prompt_threshold": 6, "cluster_threshold": 6}]
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url, stages=stages, topic_model=None)
    for flags in (("--allow-smaller",), ("--allow-smaller", "--dry-run")):  # the dry run: every label cached
        error = one_line_error(run("build_bench.py", *flags, cwd=root))
        assert "no prompt passes stage 1 (cheap: score >= 5 in topics whose mean is >= 6.5)" in error
        assert not (root / "data" / BENCH / "question.jsonl").exists()
        assert not (root / "data" / BENCH / "bench_builder_report.json").exists()


def test_vectors_of_different_lengths_are_refused(planted, upstream_bench_builder_dir, tmp_path):
    planted.embedder.ragged_from = 3
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url)
    error = one_line_error(run("build_bench.py", cwd=root))
    assert "`embedder` returned vectors of 63 and 64 dimensions" in error
    assert not (root / "data" / BENCH / "question.jsonl").exists()


def test_an_answered_bench_gets_other_questions_only_with_force(planted, upstream_bench_builder_dir, tmp_path):
    root = workspace(tmp_path, upstream_bench_builder_dir, planted.url)
    write_jsonl(root / "data" / BENCH / "question.jsonl", [{"question_id": "mine", "turns": [{"content": "x"}]}])
    write_jsonl(root / "data" / BENCH / "model_answer" / "m.jsonl", [{"question_id": "mine"}])
    assert "rerun with --force" in one_line_error(run("build_bench.py", cwd=root))
    assert questions_of(root) == [{"question_id": "mine", "turns": [{"content": "x"}]}]
    assert run("build_bench.py", "--force", cwd=root).returncode == 0 and len(questions_of(root)) == 30
