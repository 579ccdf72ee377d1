"""What a support lead must be able to trust in the report (issue 15): the true outcome of every
search, effects that survive a seasonal rush, Views and Sessions as named, and a digest that
arrives by e-mail. Written before the code (phase A of issue 15): these fail until it lands."""

from __future__ import annotations

import email
import json
from pathlib import Path

import pytest

from kb_tools.analytics import demo
from kb_tools.analytics.events import parse_batch
from kb_tools.analytics.gaps import trigram_embed
from kb_tools.analytics.metrics import build_report
from kb_tools.analytics.store import EventStore
from tests.event_rows import make_event
from tests.servers import free_port

T0 = 1_790_000_000_000
A, B, C = "a" * 16, "b" * 16, "c" * 16


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    s = EventStore(f"sqlite:///{tmp_path / 'analytics.db'}")
    yield s
    s.close()


def settled(session: str, ts: int, query: str, *, answered: bool | None, next_: str | None,
            lang: str = "en") -> dict:
    props = {"query": query, "results": 5, "top": ["/returns/start-a-return/"]}
    if answered is not None:
        props["answered"] = answered
    if next_ is not None:
        props.update({"next": next_, "settled": "enter"})
    return make_event("search", session, ts, props, lang=lang, source="widget")


def test_the_settled_search_contract_is_accepted_and_old_events_stay_valid() -> None:
    body = {"events": [
        {"name": "search", "session": A, "ts": T0, "source": "widget", "lang": "bn",
         "props": {"query": "কিস্তিতে কেনা যাবে", "results": 8, "top": ["/payments/emi/"], "answered": False,
                   "confidence": 0.21, "settled": "pause", "next": "contact"}},
        {"name": "search", "session": B, "ts": T0, "props": {"query": "refund", "results": 3}},
        {"name": "contact_click", "session": A, "ts": T0 + 1, "props": {
            "channel": "messenger", "url": "/", "query": "কিস্তিতে কেনা যাবে", "topic": "payments", "from": "widget"}},
    ]}
    rows = parse_batch(json.dumps(body).encode())
    assert (rows[0]["answered"], rows[0]["outcome"], rows[0]["settled"]) == (0, "contact", "pause")
    assert rows[1]["answered"] is None and rows[1]["outcome"] is None  # unknown, not "no answer"
    assert rows[2]["channel"] == "messenger"


def test_no_answer_rate_per_language_counts_only_known_outcomes(store: EventStore) -> None:
    store.add_events([
        settled(A, T0, "where is my refund", answered=True, next_="open"),
        settled(B, T0, "gift wrapping", answered=False, next_="contact"),
        settled(C, T0, "refund", answered=None, next_=None),  # an old client: unknown
        settled("d" * 16, T0, "কিস্তিতে কেনা যাবে", answered=False, next_="leave", lang="bn"),
    ])
    report = build_report(store, embed=trigram_embed)
    by_lang = {row["lang"]: row for row in report.languages}
    assert by_lang["en"]["searches"] == 3
    assert by_lang["en"]["no_answer_pct"] == 50.0  # 1 of the 2 searches whose outcome is known
    assert by_lang["bn"]["no_answer_pct"] == 100.0


def test_views_and_sessions_are_what_their_names_say(store: EventStore) -> None:
    view = {"url": "/returns/start-a-return/", "from": "direct"}
    store.add_events([make_event("page_view", A, T0, view), make_event("page_view", A, T0 + 60_000, view),
                      make_event("page_view", B, T0, view)])
    item = next(i for i in build_report(store, gaps=False).items if i.key == "/returns/start-a-return/")
    assert (item.views, item.sessions) == (3, 2)


def test_effects_survive_an_eid_rush_and_a_sale(store: EventStore) -> None:
    """Calls on every topic rise ~40 % in the two weeks after the publications and again in the
    sale week: the plain before/after is fooled, the estimate against the other topics is not."""
    demo.generate(store, scale=0.25, seed=7, seasons=True)
    report = build_report(store, gaps=False)
    video = next(i for i in report.items if i.kind == "video" and i.key == demo.VIDEO["id"])
    article = next(i for i in report.items if i.key == demo.CHANGED_ARTICLE)
    assert video.change_pct == pytest.approx(-30, abs=5)
    assert video.change_low <= -30 <= video.change_high
    assert video.verdict == "fewer calls"
    assert article.change_low <= 0 <= article.change_high
    assert article.verdict == "not distinguishable from noise"
    # The plain before/after on the same data is off by more than the tolerance.
    assert abs(video.plain_change_pct - (-30)) > 5
    assert abs(article.plain_change_pct) > 5


def test_feedback_comments_are_shown_per_article_with_no_reasons_grouped(store: EventStore) -> None:
    page = "/returns/start-a-return/"
    store.add_events([
        make_event("feedback", A, T0, {"url": page, "helpful": False, "comment": "steps are unclear"}),
        make_event("feedback", B, T0, {"url": page, "helpful": False, "comment": "the steps are unclear"}),
        make_event("feedback", C, T0, {"url": page, "helpful": True, "comment": "thanks"}),
    ])
    report = build_report(store, embed=trigram_embed)
    fb = next(f for f in report.feedback if f["page"] == page)
    assert (fb["yes"], fb["no"]) == (1, 2)
    assert fb["no_reasons"][0]["count"] == 2
    assert "steps are unclear" in fb["no_reasons"][0]["examples"]


def test_digest_is_sent_to_a_real_smtp_server(store: EventStore, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from aiosmtpd.controller import Controller
    from click.testing import CliRunner

    from kb_tools.analytics.cli import digest

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
            received.append(envelope.content)
            return "250 OK"

    demo.generate(store, scale=0.1, seed=3)
    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("KB_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("KB_SMTP_PORT", str(port))
        monkeypatch.setenv("KB_SMTP_FROM", "help@shop.example")
        # The demo's last week (its traffic ends on 2026-11-23).
        r = CliRunner().invoke(digest, ["--db", store.url, "--since", "2026-11-16", "--to", "lead@shop.example",
                                        "--no-gaps"], catch_exceptions=False)
    finally:
        controller.stop()
    assert r.exit_code == 0, r.output
    assert len(received) == 1
    msg = email.message_from_bytes(received[0])
    assert msg["To"] == "lead@shop.example" and msg["From"] == "help@shop.example"
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "Top failing searches" in html and "Stale content" in html
    assert "gift wrap" in html  # a search the demo's shoppers never get an answer for
    assert "lead@shop.example" in r.output


def test_digest_without_smtp_settings_says_what_to_set(store: EventStore, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from click.testing import CliRunner

    from kb_tools.analytics.cli import digest

    for name in ("KB_SMTP_HOST", "KB_SMTP_FROM"):
        monkeypatch.delenv(name, raising=False)
    store.add_events([make_event("page_view", A, T0, {"url": "/a/", "from": "direct"})])
    r = CliRunner().invoke(digest, ["--db", store.url, "--to", "lead@shop.example", "--no-gaps"])
    assert r.exit_code == 1
    assert "KB_SMTP_HOST and KB_SMTP_FROM not set" in r.output and "--out FILE" in r.output
    out = tmp_path / "digest.html"
    r = CliRunner().invoke(digest, ["--db", store.url, "--out", str(out), "--no-gaps", "--since", "2026-01-01"])
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_gaps_know_what_the_sample_help_center_already_says(store: EventStore, sample_build) -> None:  # noqa: ANN001
    """The sample has an EMI section and a refund-status article, and nothing on gift wrapping:
    EMI and refund searches that fail are never "write this", gift wrapping is."""
    demo.generate(store, scale=0.1, seed=5)
    report = build_report(store, index_dir=sample_build.index_dir)  # the search model groups English
    kinds = {q: g["kind"] for g in report.gaps if g["lang"] == "en" for q in g["examples"]}
    assert kinds.get("emi on blender") in ("not found", "failing")
    assert kinds.get("where is my refund") in ("not found", "failing")
    emi = next(g for g in report.gaps if "emi on blender" in g["examples"])
    assert emi["article"]["page"] == "/payments/payment-methods/"
    # Ranked by the contacts they caused per week, busiest first.
    per_week = [g["contacts_per_week"] for g in report.gaps]
    assert per_week == sorted(per_week, reverse=True)


def test_a_gap_no_page_answers_is_missing(store: EventStore, sample_build) -> None:  # noqa: ANN001
    """Nothing in the sample covers gift wrapping: its group of failing searches is "write this"."""
    demo.generate(store, scale=0.1, seed=5)
    report = build_report(store, index_dir=sample_build.index_dir)
    kinds = {q: g["kind"] for g in report.gaps if g["lang"] == "en" for q in g["examples"]}
    assert kinds.get("gift wrapping") == "missing"


def test_no_answer_searches_from_real_search_answers_reach_the_gap_table(sample_build, tmp_path: Path) -> None:  # noqa: ANN001
    """kb serve's app over the sample, a store filled with the events the widget sends for real
    /api/search answers: searches the help center has no answer for show up as no-answer gaps."""
    import httpx

    from kb_tools.service.app import create_app
    from tests.servers import serving
    from tests.service_site import settings_for

    db = f"sqlite:///{tmp_path / 'analytics.db'}"
    queries = ["where is my refund", "how do i return an item", "asdfgh", "do you sell iphones", "job vacancy"]
    app = create_app(settings_for(sample_build.index_dir, sample_build.site_dir, database_url=db, rate_limit=0))
    with serving(app) as base, httpx.Client(base_url=base, timeout=120) as client:
        for n in range(6):
            for q in queries:
                body = client.get("/api/search", params={"q": q}).json()
                assert isinstance(body["answered"], bool), body  # search's answer decision (issue 10)
                session = f"shopper{n:02d}{abs(hash(q)) % 10**8:08d}"
                ts = T0 + n * 3_600_000
                top = [h["url"] for h in body["hits"][:5]]
                events = [{"name": "search", "session": session, "ts": ts, "source": "widget", "lang": "en",
                           "props": {"query": q, "results": len(body["hits"]), "top": top,
                                     "answered": body["answered"], "settled": "enter",
                                     "next": "open" if body["answered"] else "contact"}}]
                if body["answered"]:
                    events.append({"name": "result_click", "session": session, "ts": ts + 1000, "source": "widget",
                                   "lang": "en", "props": {"query": q, "rank": 1, "url": top[0]}})
                else:
                    events.append({"name": "contact_click", "session": session, "ts": ts + 1000, "source": "widget",
                                   "lang": "en", "props": {"channel": "whatsapp", "url": "/", "query": q,
                                                           "from": "widget"}})
                assert client.post("/api/events", json={"events": events}).status_code == 204
    store = EventStore(db)
    report = build_report(store, index_dir=sample_build.index_dir)
    store.close()
    rows = {q: g for g in report.gaps for q in g["examples"]}
    for q in ("asdfgh", "do you sell iphones", "job vacancy"):
        assert rows[q]["no_result"] == rows[q]["searches"] >= 5, rows[q]
        assert rows[q]["kind"] == "missing"
    assert "where is my refund" not in rows or rows["where is my refund"]["no_result"] == 0
