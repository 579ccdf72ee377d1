"""bench/subsites.py: a shop's index with pages removed is the index a build of the pages left
writes (bench_shops --subsites measures the answer decision on it, so it must be a real one), and
a question whose pages are all gone counts as one the shop does not cover."""

from __future__ import annotations

import json
from pathlib import Path

from bench.subsites import relabel, subset_index, with_live_overviews
from kb_tools.records import PageRecord
from kb_tools.search.build import build_lexical_index

PAGES = [
    PageRecord(url="", title="Help", html="<p>Answers for our shoppers.</p>", lang="en"),
    PageRecord(url="returns/", title="Returns", html="<p>Returns and refunds.</p>", lang="en"),
    PageRecord(url="returns/refunds/", title="Refunds", html="<h2 id='when'>When</h2><p>Refunds reach bKash in five days.</p>",
               lang="en"),
    PageRecord(url="delivery/charges/", title="Delivery charges",
               html="<p>Delivery inside Dhaka costs 60 taka; outside Dhaka 120 taka.</p>", lang="en"),
    PageRecord(url="bn/delivery/charges/", title="ডেলিভারি চার্জ", html="<p>ঢাকার ভেতরে ৬০ টাকা।</p>", lang="bn"),
]


def index_files(folder: Path) -> dict[str, object]:
    return {name: json.loads((folder / name).read_text(encoding="utf-8")) for name in ("chunks.json", "vocab.json", "surface.json")}


def test_an_index_with_pages_removed_is_what_a_build_of_the_rest_writes(tmp_path: Path) -> None:
    build_lexical_index(PAGES, [], tmp_path / "full")
    kept = {"", "returns/", "returns/refunds/"}
    subset_index(tmp_path / "full", kept, tmp_path / "sub")
    build_lexical_index([p for p in PAGES if p.url in kept], [], tmp_path / "rebuilt")
    sub, rebuilt = index_files(tmp_path / "sub"), index_files(tmp_path / "rebuilt")
    assert sub == rebuilt
    # the removed pages' words are gone from the word statistics the decision reads
    assert "dhaka" in json.dumps(index_files(tmp_path / "full")["vocab.json"])
    assert "dhaka" not in json.dumps(sub["vocab.json"])


def test_a_question_whose_pages_are_all_removed_is_one_the_shop_does_not_cover() -> None:
    queries = [
        {"q": "delivery charge outside dhaka", "expect": ["delivery/charges/"]},
        {"q": "refund kobe pabo", "expect": ["returns/refunds/", "delivery/charges/"]},
        {"q": "weather today", "expect": []},
    ]
    origins = [q["origin"] for q in relabel(queries, {"", "returns/", "returns/refunds/"})]
    assert origins == ["uncovered", "kept", "none"]
    assert relabel(queries, {"returns/refunds/"})[1]["expect"] == ["returns/refunds/"]


def test_a_section_index_stays_only_while_a_page_under_it_does() -> None:
    overviews = {"", "bn/", "returns/"}
    homes = {"", "bn/"}
    assert with_live_overviews({"delivery/charges/"}, overviews, homes) == {"delivery/charges/", "", "bn/"}
    assert "returns/" in with_live_overviews({"returns/refunds/"}, overviews, homes)
