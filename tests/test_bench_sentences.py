"""bench/bench_sentences.py: a page read sentence by sentence (in every script the shop writes),
and the round-12 questions it reports on found in bench/queries.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml

from bench.bench_relevance import HERE
from bench.bench_sentences import round12_questions, sentences


def test_a_page_is_read_one_sentence_at_a_time_in_every_script() -> None:
    text = ("We deliver Saturday to Thursday. No deliveries on Friday! Cash on delivery?\n"
            "শুক্রবারে ডেলিভারি হয় না। ঢাকার ভেতরে ৬০ টাকা। OK.")
    assert sentences(text) == ["We deliver Saturday to Thursday.", "No deliveries on Friday!", "Cash on delivery?",
                               "শুক্রবারে ডেলিভারি হয় না।", "ঢাকার ভেতরে ৬০ টাকা।"]  # "OK." is too short to state anything


def test_the_round_12_questions_are_the_56_of_their_block() -> None:
    questions = round12_questions()
    entries = {d["q"]: d for d in yaml.safe_load((HERE / "queries.yaml").read_text(encoding="utf-8"))}
    assert len(questions) == 56
    assert sum(not entries[q]["expect"] for q in questions) == 32
    assert {"do you deliver at midnight", "do you deliver on friday"} <= questions
    assert all(entries[q]["split"] == "tune" for q in questions)


def test_a_queries_file_without_the_block_is_named(tmp_path: Path) -> None:
    other = tmp_path / "queries.yaml"
    other.write_text('- {q: "refund", lang: en, kind: native, split: tune, expect: ["refunds/"]}\n', encoding="utf-8")
    try:
        round12_questions(other)
    except SystemExit as e:
        assert str(other) in str(e) and "Round 12" in str(e)
    else:  # pragma: no cover - the assertion below says what went wrong
        raise AssertionError("a file without the round-12 block was read as having it")
