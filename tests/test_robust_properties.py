"""Property-based tests (hypothesis, derandomized so every run tries the same inputs): the readers and
builders that see user data never crash on any input (a UserError is the only exception allowed, and
only for bad input), and keep their invariants.

- verdict parsing (judge_game.parse_verdict) and template filling (judge_game.fill_template);
- the JSONL reader (jsonl.iter_jsonl, repair_tail, rewrite_sorted_unique, scan_jsonl) and
  the record readers built on it (records.load_questions / load_answers / load_judgments,
  verdict_labels.read_verdicts);
- the battles builder (battles.combine_judges, records_to_battles) against a slow oracle."""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from arena_hard.scoring.judgment_records import combine_judges
from arena_hard.scoring.v01.battles import battle_lines, records_to_battles
from arena_hard.core.errors import UserError
from arena_hard.scoring.verdict_labels import LABELS, NO_VERDICT, VerdictTable, read_verdicts
from arena_hard.generate.judge_game import fill_template, parse_verdict
from arena_hard.core.jsonl import iter_jsonl, repair_tail, rewrite_sorted_unique
from arena_hard.core.jsonl import scan_jsonl
from arena_hard.core.judgments import load_judgments
from arena_hard.core.records import load_answers, load_questions, record_id

settings.register_profile("robust", max_examples=150, deadline=None, database=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
ROBUST = settings.get_profile("robust")
DEFAULT_PATTERN = re.compile(r"\[\[([AB<>=]+)\]\]")
PATTERN_SETS = [
    (DEFAULT_PATTERN,),
    (re.compile(r"\[\[([AB<>=]+)\]\]"), re.compile(r"\[([AB<>=]+)\]")),  # a list tried in order
    (re.compile(r"\[\[([AB<>=]+)\]\]|\[([AB<>=]+)\]"),),  # alternatives: findall gives tuples
    (re.compile(r"verdict: (\w+)", re.IGNORECASE),),
]
BIG_NUMBER = b'{"question_id": "q1", "n": ' + b"7" * 5000 + b"}\n"
DEEP = b"[" * 50_000 + b"\n"
FIELD_NAMES = ["question_id", "uid", "turns", "prompt", "content", "choices", "messages", "role", "model",
               "model_id", "games", "score", "judgment", "user_prompt", "baseline", "category", "cluster",
               "token_len", "conv_metadata", "metadata", "answer"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) |
    st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=5), children, max_size=5),
    max_leaves=12)
json_records = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=5), json_values, max_size=6)
record_lines = json_records.map(lambda record: json.dumps(record).encode("utf-8"))
junk_lines = st.binary(max_size=40) | st.sampled_from([b"", b"  ", b"{", b"[1, 2]", b'"text"', b"\xff\xfe",
                                                      b'{"a": 1', b"\x00\x00", b"{}", b"null"])
jsonl_bytes = (st.binary(max_size=200)
               | st.lists(record_lines | junk_lines, max_size=6).map(lambda lines: b"\n".join(lines))
               | st.lists(record_lines, max_size=6).map(lambda lines: b"".join(line + b"\n" for line in lines)))


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def write(directory: Path, data: bytes, name: str = "file.jsonl") -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def outcome(function, *args, **kwargs):
    """function(...) materialised, or the UserError it raised; any other exception fails the test."""
    try:
        result = function(*args, **kwargs)
        return list(result) if hasattr(result, "__next__") else result
    except UserError as error:
        return error


# --- verdict parsing and templates -----------------------------------------------------------------

@ROBUST
@given(st.text(), st.sampled_from(PATTERN_SETS))
@example("[[A>B]] and [[B>A]]", PATTERN_SETS[0])
@example("[[]] [A>B]", PATTERN_SETS[1])
def test_parse_verdict_never_crashes_and_reads_only_what_is_there(text, patterns):
    verdict = parse_verdict(text, patterns)
    matched = [m if isinstance(m, str) else next((g for g in m if g), "") for p in patterns for m in p.findall(text)]
    assert verdict.ask_again == (not any(matched))
    if verdict.label is not None:
        assert verdict.label in {m.strip("\n") for m in matched}
        assert not verdict.ask_again


label_free_text = st.text(alphabet=st.characters(blacklist_characters="[]"), max_size=40)


@ROBUST
@given(st.lists(label_free_text, min_size=2, max_size=6), st.sampled_from(LABELS), st.sampled_from(LABELS))
def test_one_distinct_label_is_the_verdict_two_are_none_zero_asks_again(pieces, label, other):
    repeated = f"[[{label}]]".join(pieces)
    assert (parse_verdict(repeated, [DEFAULT_PATTERN]).label, parse_verdict(repeated, [DEFAULT_PATTERN]).ask_again) \
        == (label, False)
    both = repeated + f"[[{other}]]" + pieces[0]
    expected = (label, False) if label == other else (None, False)
    assert (parse_verdict(both, [DEFAULT_PATTERN]).label, parse_verdict(both, [DEFAULT_PATTERN]).ask_again) == expected
    none = "".join(pieces)
    assert parse_verdict(none, [DEFAULT_PATTERN]).ask_again and parse_verdict(none, [DEFAULT_PATTERN]).label is None


brace_free = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=20)
FIELDS = ["question_1", "answer_1", "answer_2", "ref_answer_1"]


@ROBUST
@given(st.lists(st.tuples(brace_free, st.sampled_from(FIELDS)), max_size=6), brace_free,
       st.fixed_dictionaries({name: st.text(max_size=30) | st.sampled_from(["{answer_2}", "{", "}}", "{0}", "{x"])
                              for name in FIELDS}))
def test_fill_template_equals_format_whatever_braces_the_values_hold(pieces, tail, values):
    template = "".join(text + "{" + name + "}" for text, name in pieces) + tail
    assert fill_template(template, values) == template.format(**values)


@ROBUST
@given(st.text(max_size=60), st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=10)))
def test_fill_template_on_any_template_returns_text_or_names_the_missing_field(template, values):
    result = outcome(fill_template, template, values)
    if isinstance(result, UserError):
        assert "prompt_template uses {" in str(result)
    else:
        assert isinstance(result, str)


# --- JSONL reading, repairing and rewriting --------------------------------------------------------

@ROBUST
@given(jsonl_bytes, st.booleans())
@example(BIG_NUMBER, False)
@example(DEEP, False)
@example(b'{"a": 1}\n{"b":', True)
def test_iter_jsonl_yields_objects_or_a_user_error(scratch, data, skip_tail):
    path = write(scratch, data)
    result = outcome(iter_jsonl, path, skip_truncated_tail=skip_tail)
    if isinstance(result, UserError):
        assert str(result).startswith(f"{path}:")
    else:
        assert all(isinstance(record, dict) for _, record in result)
        assert [n for n, _ in result] == sorted({n for n, _ in result})


@ROBUST
@given(jsonl_bytes)
@example(BIG_NUMBER)
@example(DEEP)
@example(b'{\x00}\x00\n')  # UTF-16 that json.loads detects on the bare line, not on the line with its newline
def test_scan_jsonl_reads_what_iter_jsonl_reads(scratch, data):
    path = write(scratch, data)
    scanned, iterated = outcome(scan_jsonl, path), outcome(iter_jsonl, path)
    if not isinstance(iterated, UserError):
        assert scanned == iterated
    elif b"\x00" not in data:
        assert isinstance(scanned, UserError)
    else:  # the one known difference: scan_jsonl may accept a line of UTF-16 that iter_jsonl calls invalid UTF-8
        assert isinstance(scanned, (UserError, list))


def expected_repair(data: bytes) -> bytes:
    """The oracle: a last line with no newline stays (with one added) only if it is a JSON object."""
    if not data or data.endswith(b"\n"):
        return data
    start = data.rfind(b"\n") + 1
    try:
        keep = isinstance(json.loads(data[start:]), dict)
    except (ValueError, RecursionError):
        keep = False
    return data + b"\n" if keep else data[:start]


@ROBUST
@given(jsonl_bytes)
@example(BIG_NUMBER.rstrip(b"\n"))
@example(b'{"a": 1}\n' + DEEP.rstrip(b"\n"))
def test_repair_tail_leaves_only_complete_lines_and_touches_nothing_before(scratch, data):
    path = write(scratch, data)
    did = repair_tail(path)
    repaired = path.read_bytes()
    assert repaired == expected_repair(data)
    assert repaired == b"" or repaired.endswith(b"\n")
    assert (did is None) == (repaired == data)
    assert repair_tail(path) is None and path.read_bytes() == repaired  # idempotent


@ROBUST
@given(st.lists(json_records.map(lambda record: json.dumps(record).encode()), max_size=8), st.integers(0, 400))
def test_a_cut_off_append_is_repaired_to_the_records_before_it(scratch, lines, cut):
    """Complete records, then a record cut anywhere: iter_jsonl skips the cut when asked, repair_tail
    removes it, and what remains reads back as exactly the complete records."""
    complete = b"".join(line + b"\n" for line in lines[:-1])
    data = complete + (lines[-1] + b"\n")[:cut] if lines else b""
    path = write(scratch, data)
    whole = outcome(iter_jsonl, path, skip_truncated_tail=True)
    repair_tail(path)
    expected = [json.loads(line) for line in lines[:-1]]
    if lines and cut > len(lines[-1]):  # nothing was cut: the last record is there in full
        expected.append(json.loads(lines[-1]))
    elif lines and cut == len(lines[-1]) and isinstance(json.loads(lines[-1]), dict):  # only its newline is missing
        expected.append(json.loads(lines[-1]))
    assert [record for _, record in iter_jsonl(path)] == expected
    assert [record for _, record in whole] == expected


ids = st.sampled_from(["q1", "q2", "q10", "Q1", "é", "q 1"]) | st.integers(0, 20)


@ROBUST
@given(st.lists(st.tuples(ids, st.text(max_size=10)), max_size=10), st.booleans())
def test_rewrite_sorted_unique_keeps_the_last_line_of_each_id_sorted(scratch, rows, newline_at_end):
    lines = [json.dumps({"question_id": qid, "text": text}).encode() for qid, text in rows]
    data = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
    path = write(scratch, data)
    rewrite_sorted_unique(path, record_id)
    last = {}
    for qid, line in zip((str(qid) for qid, _ in rows), lines):
        last[qid] = line
    assert path.read_bytes() == b"".join(last[qid] + b"\n" for qid in sorted(last))


@ROBUST
@given(jsonl_bytes)
@example(BIG_NUMBER)
def test_rewrite_sorted_unique_on_any_bytes_rewrites_or_leaves_the_file_as_it_was(scratch, data):
    path = write(scratch, data)
    result = outcome(rewrite_sorted_unique, path, record_id)
    if isinstance(result, UserError):
        assert path.read_bytes() == data
    else:
        kept = [record_id(record, "") for _, record in iter_jsonl(path)]
        assert kept == sorted(set(kept))


@ROBUST
@given(st.lists(json_records, max_size=5), st.sampled_from([load_questions, load_answers, load_judgments,
                                                              read_verdicts]))
def test_record_readers_return_records_or_name_the_line(scratch, records, reader):
    path = write(scratch, b"".join(json.dumps(record).encode() + b"\n" for record in records), "model-x.jsonl")
    result = outcome(reader, path)
    if isinstance(result, UserError):
        assert str(result).startswith(str(path))


# --- battles ---------------------------------------------------------------------------------------

MODELS = ["m1", "m2", "base", "other"]
verdict_rows = st.tuples(st.sampled_from(["q1", "q2", "q3"]), st.sampled_from(MODELS),
                         st.none() | st.sampled_from(MODELS), st.integers(0, NO_VERDICT), st.integers(0, NO_VERDICT))


def table(rows, name: str) -> VerdictTable:
    return VerdictTable(name, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [None] * len(rows),
                        [r[3] for r in rows], [r[4] for r in rows], list(range(1, len(rows) + 1)))


def oracle_battles(judges, default_baseline, weight, first_game_only):
    """Upstream's expansion written out plainly: within a judge the last record of a (model, question,
    baseline) wins and takes the later position; game 1 has the baseline as A, game 2 swaps; a strong
    verdict is `weight` battles, a plain one or a tie one, no verdict none."""
    battles = []
    for tables in judges:
        kept = {}
        for rows in tables:
            for question, model, baseline, game1, game2 in rows:
                kept.pop((model, question, baseline), None)
                kept[(model, question, baseline)] = (question, model, baseline, game1, game2)
        for question, model, baseline, game1, game2 in kept.values():
            model_a = baseline if baseline is not None else default_baseline
            for game, code in ((1, game1), (2, game2)):
                if code == NO_VERDICT or (game == 2 and first_game_only):
                    continue
                label = LABELS[code]
                a_wins, tie = label.startswith("A>"), label == "A=B"
                winner = "tie" if tie else ("model_a" if a_wins == (game == 1) else "model_b")
                battles += [(question, model_a, model, winner)] * (weight if ">>" in label else 1)
    return battles


@ROBUST
@given(st.lists(st.lists(st.lists(verdict_rows, max_size=6), max_size=3), max_size=3),
       st.sampled_from(MODELS), st.integers(1, 5), st.booleans())
def test_battles_equal_the_oracle_and_count_the_weights(judges, default_baseline, weight, first_game_only):
    tables = [[table(rows, f"judge{j}/file{t}.jsonl") for t, rows in enumerate(files)]
              for j, files in enumerate(judges)]
    records, notes = combine_judges(tables)
    battles = records_to_battles(records, default_baseline, weight, first_game_only)
    got = [tuple(json.loads(line)[k] for k in ("question_id", "model_a", "model_b", "winner"))
           for line in battle_lines(battles)]
    assert got == oracle_battles(judges, default_baseline, weight, first_game_only)
    copies = [0 if code == NO_VERDICT else weight if LABELS[code] in ("A>>B", "B>>A") else 1
              for game in (records.game1, records.game2 if not first_game_only else []) for code in game]
    assert len(battles) == sum(copies)
    repeats = sum(len(rows) for files in judges for rows in files) - len(records)
    assert bool(notes) == (repeats > 0)
