"""`kb calls import`, `kb demo-traffic` and `kb report` as a support lead runs them."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb_tools.analytics import gaps
from kb_tools.analytics.cli import calls, demo_traffic, report
from kb_tools.analytics.store import EventStore, events
from kb_tools.analytics.store import calls as calls_table
from tests.event_rows import make_event

GOOD = """timestamp,topic,channel,session,order
2026-03-01T14:05:00,returns,phone,,NODI-1001
2026-03-01T15:00:00+06:00,refund-status,whatsapp,Qx7_k3J9aZ-0p1r2,
2026-03-02,order-tracking,ticket,,
2026-03-02,order-tracking,ticket,,
"""


def run(cmd, args: list[str]):  # noqa: ANN001, ANN201
    return CliRunner().invoke(cmd, args, catch_exceptions=False)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'analytics.db'}"


def count_calls(db: str) -> int:
    store = EventStore(db)
    n = store.count(calls_table)
    store.close()
    return n


def test_import_then_import_again_adds_nothing(tmp_path: Path, db: str) -> None:
    f = tmp_path / "calls.csv"
    f.write_text(GOOD, encoding="utf-8")
    first = run(calls, ["import", str(f), "--db", db])
    assert first.exit_code == 0, first.output
    assert f"{f}: 4 call(s) imported" in first.output
    second = run(calls, ["import", str(f), "--db", db])
    assert second.exit_code == 0
    assert "0 call(s) imported, 4 already imported" in second.output
    assert count_calls(db) == 4


def test_bad_rows_reject_the_file_with_line_numbers(tmp_path: Path, db: str) -> None:
    f = tmp_path / "march.csv"
    f.write_text(GOOD + "2026-13-01,returns,phone,,\n2026-03-03T10:00:00,returns,fax,,\n"
                        "2026-03-03T11:00:00,Returns Desk,phone,,\n", encoding="utf-8")
    r = run(calls, ["import", str(f), "--db", db])
    assert r.exit_code == 1
    assert (f"{f}:6: error: bad timestamp '2026-13-01': use ISO 8601 like 2026-03-01T14:05:00"
            in r.output)
    assert f"{f}:7: error: bad channel 'fax': use one of phone, email, chat, whatsapp, ticket" in r.output
    assert f"{f}:8: error: bad topic 'Returns Desk'" in r.output
    assert "3 bad row(s), nothing imported" in r.output and "--skip-bad" in r.output
    assert count_calls(db) == 0
    r = run(calls, ["import", str(f), "--db", db, "--skip-bad"])
    assert r.exit_code == 0
    assert "4 call(s) imported, 3 bad row(s) skipped" in r.output
    assert count_calls(db) == 4


def test_a_file_without_the_needed_columns_says_which(tmp_path: Path, db: str) -> None:
    f = tmp_path / "export.csv"
    f.write_text("date,reason\n2026-03-01,returns\n", encoding="utf-8")
    r = run(calls, ["import", str(f), "--db", db])
    assert r.exit_code == 1
    assert f"{f}:1: missing columns timestamp, topic, channel" in r.output
    r = run(calls, ["import", str(tmp_path / "nope.csv"), "--db", db])
    assert r.exit_code == 1 and "no such file" in r.output


def test_demo_traffic_refuses_to_mix_with_real_data(db: str) -> None:
    assert run(demo_traffic, ["--db", db, "--scale", "0.05", "--weeks", "6"]).exit_code == 0
    again = run(demo_traffic, ["--db", db, "--scale", "0.05", "--weeks", "6"])
    assert again.exit_code == 1 and "pass --replace" in again.output


def test_report_writes_a_self_contained_dashboard(tmp_path: Path, db: str, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(gaps, "model_embed", gaps.trigram_embed)  # the model has its own test
    monkeypatch.chdir(tmp_path)  # no mkdocs.yml here: titles come from the demo traffic alone
    r = run(demo_traffic, ["--db", db, "--scale", "0.2", "--replace"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "report"
    r = run(report, ["--db", db, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert re.search(r"index.html: [\d,]+ sessions, [\d,]+ contacts, self-service score [\d.]+", r.output)
    html = (out / "index.html").read_text(encoding="utf-8")
    # Opens from disk: nothing is fetched from anywhere.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    for text in ("Help-center sessions", "Self-service score", "Estimated calls deflected",
                 "Assembling the Nodi Blender X2", "Change an order", "gift wrap", "<svg"):
        assert text in html
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    video = next(i for i in data["items"] if i["kind"] == "video")
    assert video["change_pct"] == pytest.approx(-30, abs=5)
    with (out / "items.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {"key", "views", "sessions", "contacted", "confirmed_deflections", "helpful_pct"} <= set(rows[0])
    assert {p.name for p in out.iterdir()} >= {"index.html", "report.json", "items.csv", "weeks.csv",
                                                "topic_weeks.csv", "publications.csv", "gaps.csv"}
    store = EventStore(db)
    assert store.count(events) > 0
    store.close()


def test_report_on_an_empty_store_still_renders(tmp_path: Path, db: str, monkeypatch) -> None:  # noqa: ANN001
    missing = run(report, ["--db", db, "--out", str(tmp_path / "r")])
    assert missing.exit_code == 1 and "no analytics store at" in missing.output
    assert not (tmp_path / "analytics.db").exists()
    EventStore(db).close()
    monkeypatch.chdir(tmp_path)  # no mkdocs.yml here
    r = run(report, ["--db", db, "--out", str(tmp_path / "r"), "--no-gaps"])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "No call log imported yet" in html


def test_gaps_group_english_queries_by_meaning_with_the_search_model() -> None:
    texts = ["gift wrapping", "do you gift wrap", "track order", "change my order", "edit order"]
    groups = gaps.cluster(gaps.model_embed(texts), [5, 4, 3, 2, 1], gaps.EMBED_THRESHOLD)
    named = sorted(sorted(texts[i] for i in g) for g in groups)
    assert named == [["change my order", "edit order"], ["do you gift wrap", "gift wrapping"], ["track order"]]


def test_a_real_site_gets_titles_from_front_matter_and_dates_from_first_views(tmp_path: Path, db: str) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: Shop help\n", encoding="utf-8")
    (tmp_path / "docs" / "returns").mkdir(parents=True)
    (tmp_path / "docs" / "returns" / "start-a-return.md").write_text(
        "---\ntitle: Start a return\ncontact_topic: returns\n---\n# Start a return\n", encoding="utf-8")
    (tmp_path / "docs" / "returns" / "gift-returns.md").write_text(
        "---\ntitle: Returning a gift\ncontact_topic: returns\n---\n# Gifts\n", encoding="utf-8")
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "start-a-return.yml").write_text("title: How to start a return\ncontact_topic: returns\n",
                                                            encoding="utf-8")
    week, t0 = 7 * 86_400_000, 1_777_852_800_000  # Monday 2026-05-04
    rows = []
    for w in range(10):
        for i in range(20):
            s = f"w{w:02d}s{i:02d}".ljust(16, "x")
            rows.append(make_event("page_view", s, t0 + w * week + i * 1000,
                                   {"url": "/returns/start-a-return/", "from": "direct"}))
            if w >= 5:  # a new page appears in week 5
                rows.append(make_event("page_view", s, t0 + w * week + i * 1000 + 500,
                                       {"url": "/returns/gift-returns/", "from": "search"}))
    store = EventStore(db)
    store.add_events(rows)
    store.close()
    out = tmp_path / "r"
    r = run(report, ["--db", db, "--out", str(out), "--no-gaps", "-f", str(tmp_path / "mkdocs.yml")])
    assert r.exit_code == 0, r.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    items = {i["key"]: i for i in data["items"]}
    assert items["/returns/start-a-return/"]["title"] == "Start a return"
    assert items["/returns/start-a-return/"]["published"] is None  # seen since tracking began
    assert items["/returns/gift-returns/"]["published"] == t0 + 5 * week + 500
    assert items["start-a-return"]["title"] == "How to start a return"
    assert [p["key"] for p in data["publications"]] == ["/returns/gift-returns/"]


def test_the_kb_command_reaches_the_analytics_commands(tmp_path: Path, db: str) -> None:
    from kb_tools.cli import main

    f = tmp_path / "calls.csv"
    f.write_text(GOOD, encoding="utf-8")
    r = CliRunner().invoke(main, ["calls", "import", str(f), "--db", db])
    assert r.exit_code == 0 and "4 call(s) imported" in r.output
    r = CliRunner().invoke(main, ["report", "--help"])
    assert r.exit_code == 0 and "--window-hours" in r.output


def test_query_embeddings_are_cached_in_the_store(db: str, monkeypatch) -> None:  # noqa: ANN001
    from kb_tools.analytics import demo
    from kb_tools.analytics.store import query_vectors

    embedded: list[str] = []

    def fake_model(texts):  # noqa: ANN001, ANN202
        embedded.extend(texts)
        return gaps.trigram_embed(texts)

    monkeypatch.setattr(gaps, "model_embed", fake_model)
    store = EventStore(db)
    demo.generate(store, scale=0.05, weeks=5)
    first = gaps.content_gaps(store, since=0, until=2**62, window=86_400_000)
    n = len(embedded)
    assert n > 5 and len(set(embedded)) == n
    second = gaps.content_gaps(store, since=0, until=2**62, window=86_400_000)
    assert len(embedded) == n  # nothing embedded the second time
    assert first == second
    assert store.count(query_vectors) == n
    store.close()
