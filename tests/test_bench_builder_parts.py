"""build_bench.py's pure parts against hand-computed values and slow oracles: the labeller's parse of
every answer shape against upstream's get_score (an oracle written here, and upstream's own code run from
the reference file, with its request and stored tag), the stratified sample, the
log's formats and filters, the class-based TF-IDF keywords, topic names, and the vector cache."""
from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from arena_hard.benchbuilder import criteria as labelling
from arena_hard.benchbuilder.cluster import OUTLIER, by_size
from arena_hard.benchbuilder.read_log import MAX_CHARACTERS, read_prompts
from arena_hard.benchbuilder.select import allocate, filter_stage, stratified_sample
from arena_hard.benchbuilder.topic_names import clean_name, keywords
from arena_hard.benchbuilder.vectors import VectorStore
from arena_hard.core.bench_builder_criteria import Criteria, load_criteria, parse_category_file
from arena_hard.core.errors import UserError
from pipeline_helpers import write_jsonl

NAMES = ("specificity", "domain_knowledge", "complexity", "problem_solving", "creativity", "technical_accuracy",
         "real_world")
CRITERIA = Criteria("criteria_v0.1", "system", tuple(enumerate(NAMES, 1)))


# ------------------------------------------------------------------------- the labeller's parse

def upstream_get_score(judgment: str) -> list | list[str]:
    """The oracle: what upstream's CategoryHardPrompt.get_score returns, written out by hand. A list is
    "[" d ("," whitespace d)* "]" with d in 1..7; matches do not overlap and are found left to right;
    one distinct list is read as its numbers, none is ['No Match'], several different ['Multiple Match']."""
    found, i = [], 0
    while i < len(judgment):
        if judgment[i] == "[" and i + 1 < len(judgment) and judgment[i + 1] in "1234567":
            j = i + 2
            while j + 2 < len(judgment) and judgment[j] == "," and judgment[j + 1].isspace() \
                    and judgment[j + 2] in "1234567":
                j += 3
            if j < len(judgment) and judgment[j] == "]":
                found.append(judgment[i:j + 1])
                i = j + 1
                continue
        i += 1
    distinct = set(found)
    if not distinct:
        return ["No Match"]
    if len(distinct) > 1:
        return ["Multiple Match"]
    return [int(found[0][k]) for k in range(1, len(found[0]), 3)]


@pytest.mark.parametrize("answer, expected", [
    ("[1, 2, 4, 6, 7]", [1, 2, 4, 6, 7]),                 # a list
    ("The prompt satisfies: [3]", [3]),
    ("I cannot judge this.", ["No Match"]),               # no list
    ("[]", ["No Match"]),
    ("[1,2,3]", ["No Match"]),                            # no space after the comma: not upstream's list
    ("[1, 8]", ["No Match"]),                             # 8 is not a criterion
    ("[1, 2] or maybe [1, 2, 3]", ["Multiple Match"]),    # two different lists
    ("[5, 6] ... so: [5, 6]", [5, 6]),                    # a repeated list
    ("[2, 2, 1]", [2, 2, 1]),
    ("[1,\n2]", [1, 2]),                                  # any whitespace after the comma
    ("[1,\xa02]", [1, 2]),                                # Unicode's too, as Python's \s
    ("[[1, 2]]", [1, 2]),
])
def test_the_parse_of_each_answer_shape_is_upstreams(answer, expected):
    assert upstream_get_score(answer) == expected
    parsed = labelling.parse_answer(CRITERIA, answer)
    assert (parsed if isinstance(parsed, list) else [parsed]) == expected


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="[]1234567890, \n\tab", max_size=40))
def test_the_parse_equals_upstreams_on_any_text(answer):
    parsed = labelling.parse_answer(CRITERIA, answer)
    assert (parsed if isinstance(parsed, list) else [parsed]) == upstream_get_score(answer)


@pytest.fixture(scope="module")
def upstream_category(upstream_bench_builder_dir):
    """Upstream's own CategoryHardPrompt, run from the reference file (it imports only ast and re)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("upstream_category", upstream_bench_builder_dir / "BenchBuilder" /
                                                  "category.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CategoryHardPrompt()


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="[]1234567890, \n\t\xa0\x1c\u2003ab", max_size=40))  # \s: Unicode whitespace too
def test_the_parse_request_and_tag_equal_upstreams_own_code(upstream_category, answer):
    criteria = Criteria(upstream_category.name_tag, upstream_category.sys_prompt,
                        tuple(sorted(upstream_category.tags.items())))
    parsed = labelling.parse_answer(criteria, answer)
    assert (parsed if isinstance(parsed, list) else [parsed]) == upstream_category.get_score(answer)
    assert labelling.label_record(criteria, "k", answer)["category_tag"] == \
        {upstream_category.name_tag: upstream_category.post_process(answer)}
    assert list(labelling.label_request(criteria, answer).messages) == upstream_category.pre_process(answer)


def test_the_stored_label_is_upstreams_category_tag():
    record = labelling.label_record(CRITERIA, "k", "[1, 3, 3]")
    assert record["category_tag"] == {"criteria_v0.1": {name: name in ("specificity", "complexity") for name in NAMES}}
    assert labelling.score(CRITERIA, record) == 2
    for shape in ("no list", "[1, 2] [3, 4]"):
        unparsed = labelling.label_record(CRITERIA, "k", shape)
        assert labelling.score(CRITERIA, unparsed) == 0 and unparsed["parsed"] in ("No Match", "Multiple Match")


def test_the_request_is_upstreams_settings(upstream_bench_builder_dir):
    criteria = load_criteria(upstream_bench_builder_dir / "BenchBuilder" / "category.py")
    request = labelling.label_request(criteria, "Write a parser.\n")
    assert request.messages == ({"role": "system", "content": criteria.system_prompt},
                                {"role": "user", "content": "Write a parser.\n"})
    assert (request.temperature, request.max_tokens) == (0.0, 32)
    assert criteria.names == NAMES


def test_a_category_file_of_another_shape_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no class sets self.name_tag"):
        parse_category_file("class C:\n    def __init__(self):\n        self.name_tag = 'other'\n")
    with pytest.raises(ValueError, match="sets no self.tags"):
        parse_category_file("class C:\n    def __init__(self):\n        self.name_tag = 'criteria_v0.1'\n"
                            "        self.sys_prompt = 'p'\n")
    bad = tmp_path / "category.py"
    bad.write_text("not python (")
    with pytest.raises(UserError, match="download_data.py --bench-builder --force"):
        load_criteria(bad)


# ------------------------------------------------------------------------ filter and sample

def test_the_filter_is_upstreams_two_thresholds():
    topics = [0, 0, 0, 1, 1, OUTLIER]
    scores = {0: 7, 1: 6, 2: 2, 3: 6, 4: 6, 5: 7}
    result = filter_stage(range(6), topics, scores, prompt_threshold=6, cluster_threshold=5)
    assert result.topic_means == {0: 5.0, 1: 6.0}
    assert result.kept == [0, 1, 3, 4]  # the outlier never
    assert filter_stage(range(6), topics, scores, 6, 5.5).kept == [3, 4]


def test_allocation_fills_evenly_within_each_topic_and_the_cap():
    rng = random.Random(0)
    assert allocate({0: 10, 1: 1, 2: 4}, 9, None, rng) == {0: 4, 1: 1, 2: 4}
    assert allocate({0: 10, 1: 10}, 30, 2, rng) == {0: 2, 1: 2}
    shares = allocate({0: 5, 1: 5, 2: 5}, 7, None, rng)
    assert sorted(shares.values()) == [2, 2, 3]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=8), st.integers(1, 40), st.one_of(st.none(), st.integers(1, 6)),
       st.integers(0, 5))
def test_the_sample_is_stratified(counts, size, per_topic, seed):
    topics = [topic for topic, count in enumerate(counts) for _ in range(count)]
    chosen = stratified_sample(range(len(topics)), topics, size, per_topic, seed)
    got = Counter(topics[i] for i in chosen)
    capacity = {t: min(c, per_topic or c) for t, c in enumerate(counts)}
    assert len(chosen) == min(size, sum(capacity.values())) and len(set(chosen)) == len(chosen)
    assert all(got[t] <= capacity[t] for t in capacity)
    # no topic could have given one more while another got two more than it
    assert not any(got[a] < capacity[a] and got[b] >= got[a] + 2 for a in capacity for b in capacity)
    assert chosen == stratified_sample(range(len(topics)), topics, size, per_topic, seed)


def test_topics_are_numbered_by_size():
    assert by_size(np.array([5, 5, -1, 2, 2, 2, 9])).tolist() == [1, 1, -1, 0, 0, 0, 2]


# ------------------------------------------------------------------------------------ the log

def test_each_log_format_and_filter(tmp_path):
    long = "x" * (MAX_CHARACTERS + 50)
    records = [
        {"conversation_a": [{"role": "user", "content": "First turn of a conversation, long enough"},
                            {"role": "assistant", "content": "reply"},
                            {"role": "user", "content": ["Second <|endoftext|> turn", ["image-hash"]]}],
         "language": "English"},
        {"messages": [{"role": "system", "content": "sys"},
                      {"role": "user", "content": [{"type": "text", "text": "OpenAI parts, "},
                                                   {"type": "image_url", "image_url": {}},
                                                   {"type": "text", "text": "joined together here"}]}]},
        {"prompt": long},
        {"turns": [{"content": "A v0.1 question with its one turn of text"}]},
        {"prompt": "A v0.1 question   with its one turn of text\n"},  # a duplicate, after whitespace
        {"prompt": "too short"},
        {"prompt": "Ein deutscher Satz, der lang genug ist, um zu zählen", "language": "German"},
        {"other": 1},
    ]
    write_jsonl(tmp_path / "log.jsonl", records)
    report = read_prompts(tmp_path / "log.jsonl", "English")
    assert [p.text for p in report.prompts] == [
        "First turn of a conversation, long enough\nSecond <| endoftext |> turn\n",
        "OpenAI parts, joined together here\n", long[:MAX_CHARACTERS], "A v0.1 question with its one turn of text\n"]
    assert (report.records, report.no_prompt, report.other_language, report.too_short, report.duplicates,
            report.cut) == (8, 1, 1, 1, 1, 1)
    assert report.prompts[1].question == "OpenAI parts, joined together here"
    assert len(read_prompts(tmp_path / "log.jsonl", None).prompts) == 5

    (tmp_path / "log.json").write_text(__import__("json").dumps(records))
    assert [p.key for p in read_prompts(tmp_path / "log.json", "English").prompts] == [p.key for p in report.prompts]


def test_a_parquet_log_reads_as_its_json(tmp_path):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    records = [{"conversation_a": [{"role": "user", "content": f"Parquet prompt number {i} with enough text"}],
                "language": "English"} for i in range(3)]
    pandas.DataFrame(records).to_parquet(tmp_path / "log.parquet")
    assert [p.text for p in read_prompts(tmp_path / "log.parquet", "English").prompts] == [
        f"Parquet prompt number {i} with enough text\n" for i in range(3)]


def test_a_record_without_a_language_is_kept_whether_the_field_is_absent_null_or_a_parquet_gap(tmp_path):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    records = [{"prompt": f"A prompt in English, number {i}, long enough", "language": "English"} for i in range(2)]
    records += [{"prompt": "A prompt of a record that names no language", "language": None},
                {"prompt": "A prompt of a record without the language field"},
                {"prompt": "Ein deutscher Satz, der lang genug ist, um zu zählen", "language": "German"}]
    write_jsonl(tmp_path / "log.jsonl", records)
    pandas.DataFrame(records).to_parquet(tmp_path / "log.parquet")  # the missing field becomes a gap (NaN)
    for name in ("log.jsonl", "log.parquet"):
        report = read_prompts(tmp_path / name, "English")
        assert (len(report.prompts), report.other_language) == (4, 1), name


def test_a_json_array_saved_with_a_byte_order_mark_is_read(tmp_path):
    records = [{"prompt": f"A prompt saved by a Windows editor, number {i}"} for i in range(3)]
    (tmp_path / "log.json").write_bytes(b"\xef\xbb\xbf" + __import__("json").dumps(records, indent=1).encode())
    assert len(read_prompts(tmp_path / "log.json", None).prompts) == 3


def test_an_unreadable_log_is_one_line(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_prompts(tmp_path / "missing.jsonl", None)
    (tmp_path / "bad.json").write_text("[{\"prompt\": ")
    with pytest.raises(UserError, match="not a valid JSON array"):
        read_prompts(tmp_path / "bad.json", None)
    write_jsonl(tmp_path / "short.jsonl", [{"prompt": "hi"}, {"prompt": "hello"}])
    with pytest.raises(UserError, match="2 of 2 records were 32 characters or fewer"):
        read_prompts(tmp_path / "short.jsonl", None)


# ----------------------------------------------------------------------------- topic names

def test_keywords_are_class_based_tfidf():
    topics = [["apple apple banana", "apple cherry"], ["banana cherry cherry", "cherry dates"]]
    # counts: t0 apple 3, banana 1, cherry 1 (5 words); t1 banana 1, cherry 3, dates 1 (5 words); mean 5
    frequency = {"apple": 3, "banana": 2, "cherry": 4, "dates": 1}
    t0 = {w: c / 5 * math.log(1 + 5 / frequency[w]) for w, c in (("apple", 3), ("banana", 1), ("cherry", 1))}
    t1 = {w: c / 5 * math.log(1 + 5 / frequency[w]) for w, c in (("banana", 1), ("cherry", 3), ("dates", 1))}
    expected = [sorted(t, key=lambda w: (-t[w], w)) for t in (t0, t1)]
    assert keywords(topics, count=3) == expected
    assert expected[0][0] == "apple" and expected[1][0] == "cherry"


@pytest.mark.parametrize("reply, name", [
    ("Topic: Rust Lifetimes", "Rust Lifetimes"), ("**Rust Lifetimes**\nbecause ...", "Rust Lifetimes"),
    ('"SQL Query Tuning."', "SQL Query Tuning"), ("## topic name: Cats", "Cats"), ("\n\n  Plain  name ", "Plain name"),
])
def test_the_topic_models_reply_becomes_a_name(reply, name):
    assert clean_name(reply) == name


# ------------------------------------------------------------------------------ vector cache

def test_vectors_are_read_as_base64_or_as_lists_in_index_order():
    from types import SimpleNamespace

    from arena_hard.models.embeddings import vectors_of

    packed = __import__("base64").b64encode(np.array([1.5, -2.0], dtype="<f4").tobytes()).decode()
    response = SimpleNamespace(data=[SimpleNamespace(index=1, embedding=[3.0, 4.0]),
                                     SimpleNamespace(index=0, embedding=packed)], usage=SimpleNamespace(prompt_tokens=7))
    result = vectors_of(response, 2)
    assert [v.tolist() for v in result.vectors] == [[1.5, -2.0], [3.0, 4.0]] and result.prompt_tokens == 7
    with pytest.raises(ValueError, match="1 vectors for 2 texts"):
        vectors_of(SimpleNamespace(data=response.data[:1]), 2)


def test_the_vector_cache_keeps_whole_records_and_refuses_another_model(tmp_path):
    store = VectorStore(tmp_path, "emb")
    keys = ["%064x" % i for i in range(3)]
    store.append(keys[:2], [np.full(4, 1.0, np.float32), np.full(4, 2.0, np.float32)])
    with (tmp_path / "vectors.bin").open("ab") as handle:
        handle.write(b"\x01" * 10)  # a record cut off by a kill
    again = VectorStore(tmp_path, "emb")
    assert len(again) == 2 and keys[2] not in again
    again.append(keys[2:], [np.full(4, 3.0, np.float32)])
    assert VectorStore(tmp_path, "emb").matrix([keys[2], keys[0]]).tolist() == [[3.0] * 4, [1.0] * 4]
    with pytest.raises(UserError, match="returned vectors of 4 and 5 dimensions"):
        again.check_lengths([np.zeros(5, np.float32)], "the model")
    with pytest.raises(UserError, match="holds vectors of 'emb', not of 'other'"):
        VectorStore(tmp_path, "other")
