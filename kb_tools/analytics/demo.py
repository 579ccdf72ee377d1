"""Demo traffic with a known answer: eight weeks of shoppers and calls for the sample shop.

Built-in effects the report must recover:
- the video `blender-x2-assembly`, published at the start of week 4, cuts calls on its topic
  `product-blender-x2` by 30 % (both calls from help-center visitors and from other shoppers);
- the article `orders/change-an-order/`, published at the same time, changes nothing;
- some searches fail (EMI/instalments, gift wrapping, in English, Bengali and Gujarati), and
  "change my order" fails until that article exists.

Counts (sessions per topic, contacting sessions, calls) are drawn by carry rounding — the
expected value, with the fractional part carried to the next day — rather than independent
coin flips, so the effect is recoverable to within a point at demo volume; the seed decides
who, when, which page, which words, which channel.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kb_tools.analytics.store import EventStore

DAY = 86_400_000
WEEK = 7 * DAY
START = datetime(2026, 9, 28, tzinfo=UTC)  # a Monday
EFFECT_WEEK = 4
VIDEO_EFFECT = 0.70  # calls on the video's topic are multiplied by this after publication


@dataclass(frozen=True)
class Topic:
    name: str
    share: float  # of help-center sessions
    contact: float  # probability that a visiting session then contacts support
    offline: float  # calls per 1,000 help-center sessions from shoppers who never visit
    pages: dict[str, str]  # lang -> page path
    queries: dict[str, tuple[str, ...]]


TOPICS = [
    Topic("order-tracking", 0.24, 0.08, 30.0,
          {"en": "/orders/track-your-order/", "bn": "/bn/orders/track-your-order/", "gu": "/gu/orders/track-your-order/"},
          {"en": ("where is my order", "track order", "order status", "tracking number"),
           "bn": ("আমার অর্ডার কোথায়", "অর্ডার ট্র্যাক"), "gu": ("મારો ઓર્ડર ક્યાં છે", "ઓર્ડર ટ્રેક")}),
    Topic("returns", 0.17, 0.10, 22.0,
          {"en": "/returns/start-a-return/", "bn": "/bn/returns/start-a-return/", "gu": "/gu/returns/start-a-return/"},
          {"en": ("return an item", "how to return", "return policy", "exchange size"),
           "bn": ("পণ্য ফেরত", "ফেরত দিতে চাই"), "gu": ("વસ્તુ પરત કરવી",)}),
    Topic("refund-status", 0.14, 0.12, 18.0,
          {"en": "/refunds/refund-status/", "bn": "/bn/refunds/refund-status/", "gu": "/gu/refunds/refund-status/"},
          {"en": ("refund status", "where is my refund", "refund not received"),
           "bn": ("টাকা ফেরত কবে পাব",), "gu": ("રિફંડ ક્યારે મળશે",)}),
    Topic("delivery-time", 0.12, 0.06, 14.0,
          {"en": "/shipping/delivery-times/", "bn": "/bn/shipping/delivery-times/", "gu": "/gu/shipping/delivery-times/"},
          {"en": ("delivery time", "how long does shipping take", "delivery to chittagong"),
           "bn": ("ডেলিভারি কত দিন",), "gu": ("ડિલિવરી કેટલા દિવસ",)}),
    Topic("payment-failed", 0.09, 0.14, 12.0,
          {"en": "/payments/payment-failed/", "bn": "/bn/payments/payment-failed/", "gu": "/gu/payments/payment-failed/"},
          {"en": ("payment failed", "bkash payment failed", "card declined", "upi payment failed"),
           "bn": ("বিকাশ পেমেন্ট হয়নি",), "gu": ("ચુકવણી નિષ્ફળ",)}),
    Topic("product-blender-x2", 0.14, 0.16, 20.0,
          {"en": "/products/blender-x2-assembly/", "bn": "/products/blender-x2-assembly/", "gu": "/products/blender-x2-assembly/"},
          {"en": ("blender x2 assembly", "blender jar leaking", "how to assemble blender", "blender blade"),
           "bn": ("ব্লেন্ডার জোড়া লাগানো",), "gu": ("બ્લેન્ડર જોડવું",)}),
    Topic("order-change", 0.06, 0.10, 10.0,
          {"en": "/orders/change-an-order/", "bn": "/orders/change-an-order/", "gu": "/orders/change-an-order/"},
          {"en": ("change my order", "change delivery address", "edit order"),
           "bn": ("অর্ডার পরিবর্তন",), "gu": ("ઓર્ડર બદલવો",)}),
]

# Searches nothing answers: the content gaps the report must surface.
GAPS = {
    "en": ("emi on blender", "can i pay in emi", "blender on installments", "gift wrapping",
           "do you gift wrap", "gift wrap my order"),
    "bn": ("কিস্তিতে কেনা যাবে", "কিস্তিতে ব্লেন্ডার", "গিফট র‍্যাপ"),
    "gu": ("હપ્તેથી ખરીદી", "ગિફ્ટ રેપ"),
}
GAP_SHARE = 0.04

VIDEO = {"id": "blender-x2-assembly", "topic": "product-blender-x2", "url": "/videos/blender-x2-assembly/",
         "title": "Assembling the Nodi Blender X2"}
CHANGED_ARTICLE = "/orders/change-an-order/"

TITLES = {  # as in the sample help center's docs/
    "/orders/track-your-order/": "Track your order",
    "/returns/start-a-return/": "Start a return",
    "/refunds/refund-status/": "Where is my refund?",
    "/shipping/delivery-times/": "Delivery times by region",
    "/payments/payment-failed/": "Payment failed, declined or money deducted",
    "/products/blender-x2-assembly/": "Assemble and use the Blender X2",
    "/orders/change-an-order/": "Change an order",
    "/bn/orders/track-your-order/": "অর্ডার ট্র্যাক করুন",
    "/bn/returns/start-a-return/": "রিটার্ন শুরু করুন",
    "/bn/refunds/refund-status/": "আমার রিফান্ড কোথায়?",
    "/bn/shipping/delivery-times/": "কত দিনে ডেলিভারি পাবেন",
    "/bn/payments/payment-failed/": "পেমেন্ট ফেইল বা টাকা কেটে গেছে",
    "/gu/orders/track-your-order/": "તમારો ઓર્ડર ટ્રેક કરો",
    "/gu/returns/start-a-return/": "રિટર્ન શરૂ કરો",
    "/gu/refunds/refund-status/": "મારું રિફંડ ક્યાં છે?",
    "/gu/shipping/delivery-times/": "ડિલિવરી કેટલા દિવસમાં થશે",
    "/gu/payments/payment-failed/": "પેમેન્ટ ફેલ થયું કે પૈસા કપાઈ ગયા",
}
LANGS = (("en", 0.70), ("bn", 0.20), ("gu", 0.10))
CHANNELS = (("phone", 0.45), ("whatsapp", 0.25), ("email", 0.20), ("chat", 0.10))


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


class _Carry:
    """Integer counts whose running total tracks the running expected total."""

    def __init__(self) -> None:
        self.acc: dict[Any, float] = defaultdict(float)

    def take(self, key: Any, expected: float) -> int:
        self.acc[key] += expected
        n = int(self.acc[key])
        self.acc[key] -= n
        return n


def content_items(start_ms: int) -> list[dict[str, Any]]:
    published = start_ms + EFFECT_WEEK * WEEK
    items = []
    for page, title in TITLES.items():
        topic = next((t.name for t in TOPICS if page in t.pages.values()), "")
        lang = page.split("/")[1] if page.split("/")[1] in ("bn", "gu") else "en"
        items.append({"kind": "article", "key": page, "title": title, "contact_topic": topic, "lang": lang,
                      "url": page, "published": published if page == CHANGED_ARTICLE else start_ms - 30 * DAY})
    items.append({"kind": "video", "key": VIDEO["id"], "title": VIDEO["title"], "contact_topic": VIDEO["topic"],
                  "lang": "en", "url": VIDEO["url"], "published": published})
    return items


class _Session:
    def __init__(self, rng: random.Random, ts: int, lang: str, out: list[dict[str, Any]]) -> None:
        self.rng, self.ts, self.lang, self.out = rng, ts, lang, out
        self.id = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", k=22))
        self.source = "site"
        self.url = "/"

    def tick(self, low: int = 5, high: int = 90) -> int:
        self.ts += self.rng.randint(low, high) * 1000
        return self.ts

    def emit(self, name: str, **cols: Any) -> None:
        props = {k: v for k, v in cols.items() if v is not None and k != "page"}
        if "origin" in props:
            props["from"] = props.pop("origin")
        if "outcome" in props:
            props["next"] = props.pop("outcome")
        if "helpful" in props:
            props["helpful"] = bool(props["helpful"])
        if "answered" in props:
            props["answered"] = bool(props["answered"])
            cols["answered"] = int(props["answered"])
        row = {"ts": self.tick(), "name": name, "session": self.id, "source": self.source, "lang": self.lang,
               "url": self.url, "page": cols.get("page") or cols.get("url") or self.url, "video": None,
               "query": None, "results": None, "rank": None, "origin": None, "helpful": None,
               "channel": None, "percent": None, "comment": None, "answered": None, "confidence": None,
               "settled": None, "outcome": None, "topic": None,
               "props": json.dumps(props, ensure_ascii=False, separators=(",", ":"))}
        row.update({k: v for k, v in cols.items() if k in row and k not in ("url",)})
        self.out.append(row)


RUSH_WEEKS = (EFFECT_WEEK, EFFECT_WEEK + 1)  # an Eid rush in the two weeks after the publications
RUSH_CALLS, RUSH_SESSIONS = 1.4, 1.1
SALE_DAYS = ((11, 10), (11, 11), (11, 12))  # an 11.11 sale: (month, day)
SALE_FACTOR = 1.5


def season(day_ms: int, week: int) -> tuple[float, float]:
    """(sessions factor, calls factor) of a day: the Eid rush raises calls on every topic by
    40 % and help-center sessions by 10 % (shoppers in a hurry call rather than read); the
    11.11 sale raises both by half."""
    sessions, calls = 1.0, 1.0
    if week in RUSH_WEEKS:
        sessions, calls = RUSH_SESSIONS, RUSH_CALLS
    d = datetime.fromtimestamp(day_ms / 1000, tz=UTC)
    if (d.month, d.day) in SALE_DAYS:
        sessions, calls = sessions * SALE_FACTOR, calls * SALE_FACTOR
    return sessions, calls


def generate(store: EventStore, *, weeks: int = 8, seed: int = 42, scale: float = 1.0,
             start: datetime = START, replace: bool = False, progress: bool = False,
             seasons: bool = True) -> dict[str, int]:
    """Write the simulated traffic into `store`. Returns counts of what was written.
    `seasons`: the Eid rush and the 11.11 sale (see `season`)."""
    rng = random.Random(seed)
    start_ms = int(start.timestamp() * 1000)
    if replace:
        store.clear()
    store.set_content(content_items(start_ms))
    carry = _Carry()
    totals = {"sessions": 0, "events": 0, "calls": 0}
    call_n = 0
    for day in range(weeks * 7):
        day_ms = start_ms + day * DAY
        week = day // 7
        weekday = day % 7
        busy_sessions, busy_calls = season(day_ms, week) if seasons else (1.0, 1.0)
        sessions_today = 520 * scale * (0.8 if weekday >= 5 else 1.0) * (1 + 0.04 * week) * busy_sessions
        after = week >= EFFECT_WEEK
        rows: list[dict[str, Any]] = []
        call_rows: list[dict[str, Any]] = []
        plan: list[tuple[str, bool]] = []  # (topic name or "gap", contacts)
        for t in TOPICS:
            factor = (VIDEO_EFFECT if (after and t.name == VIDEO["topic"]) else 1.0) * busy_calls / busy_sessions
            n = carry.take(("s", t.name), sessions_today * t.share)
            k = min(n, carry.take(("c", t.name), n * t.contact * factor))
            flags = [True] * k + [False] * (n - k)
            rng.shuffle(flags)
            plan += [(t.name, f) for f in flags]
            for _ in range(carry.take(("o", t.name), sessions_today / 1000 * t.offline * factor)):
                call_n += 1
                call_rows.append(_call(rng, day_ms + rng.randint(0, DAY - 1), t.name, None, call_n))
        n_gap = carry.take("gap", sessions_today * GAP_SHARE)
        plan += [("gap", rng.random() < 0.35 * busy_calls / busy_sessions) for _ in range(n_gap)]
        rng.shuffle(plan)
        for topic_name, contacts in plan:
            lang = _pick(rng, LANGS)
            s = _Session(rng, day_ms + rng.randint(0, DAY - 3_600_000), lang, rows)
            if topic_name == "gap":
                _gap_session(s, contacts)
            else:
                topic = next(t for t in TOPICS if t.name == topic_name)
                _topic_session(s, topic, contacts, after)
            if contacts:
                call_n += 1
                captured = rng.random() < 0.5
                call_rows.append(_call(rng, s.tick(60, 1800), topic_name if topic_name != "gap" else "payments-emi",
                                       s.id if captured else None, call_n))
        store.add_events(rows)
        store.add_calls(call_rows)
        totals["sessions"] += len(plan)
        totals["events"] += len(rows)
        totals["calls"] += len(call_rows)
        if progress and day % 7 == 6:
            print(f"week {week + 1}/{weeks}: {totals['sessions']} sessions, {totals['events']} events, "
                  f"{totals['calls']} calls", flush=True)
    return totals


def _call(rng: random.Random, ts: int, topic: str, session: str | None, n: int) -> dict[str, Any]:
    return {"row_hash": f"demo-{n:08d}", "ts": ts, "topic": topic, "channel": _pick(rng, CHANNELS + (("ticket", 0.1),)),
            "session": session, "order_ref": f"NODI-{100000 + rng.randint(0, 899999)}" if rng.random() < 0.6 else None}


NO_REASONS = {
    "en": ("did not answer my question", "too long", "steps are unclear", "the steps are not clear",
           "my case is not covered", "does not say how long it takes"),
    "bn": ("প্রশ্নের উত্তর পাইনি", "ধাপগুলো পরিষ্কার না"),
    "gu": ("મારા પ્રશ્નનો જવાબ નથી", "પગલાં સ્પષ્ટ નથી"),
}


def _topic_session(s: _Session, topic: Topic, contacts: bool, after: bool) -> None:
    rng = s.rng
    page = topic.pages[s.lang]
    published = page != CHANGED_ARTICLE or after
    clicks_contact = contacts and rng.random() < 0.6
    entry = rng.random()
    if entry < 0.75:
        query = rng.choice(topic.queries[s.lang])
        if entry < 0.35:
            s.source = "widget"
        gives_up = entry >= 0.35 and rng.random() < 0.08  # results that did not look right
        if not published or gives_up:
            s.emit("search", query=query, results=5 if published else 0, answered=int(published),
                   top=[page] if published else None, settled="enter",
                   outcome="contact" if clicks_contact else "leave")
            return _contact(s, clicks_contact, topic.name, query)
        s.emit("search", query=query, results=5, answered=1, top=[page], settled="click", outcome="open")
        s.emit("result_click", query=query, rank=rng.choice((1, 1, 1, 2, 3) if entry < 0.35 else (1, 1, 2, 4)), url=page)
        origin = "widget" if entry < 0.35 else "search"
        s.source, s.url = "site", page
        s.emit("page_view", url=page, origin=origin)
    else:
        if not published:
            page = "/orders/track-your-order/"
        s.url = page
        s.emit("page_view", url=page, origin="direct")
    if rng.random() < 0.2:  # back to the page later, or a reload: a second view, same session
        s.emit("page_view", url=page, origin="direct")
    if after and topic.name == VIDEO["topic"] and rng.random() < 0.7:
        s.emit("video_play", video=VIDEO["id"], url=page)
        for pct in (25, 50, 75, 100):
            if rng.random() < 0.8:
                s.emit("video_progress", video=VIDEO["id"], percent=pct, page=page)
            else:
                break
    if rng.random() < 0.3:
        helpful = rng.random() < (0.3 if contacts else 0.85)
        comment = None
        if not helpful and rng.random() < 0.3:
            comment = rng.choice(NO_REASONS[s.lang])
        s.emit("feedback", url=page, helpful=int(helpful), comment=comment, page=page)
    _contact(s, clicks_contact, topic.name, None, page)


def _contact(s: _Session, clicks: bool, topic: str, query: str | None, page: str | None = None) -> None:
    if clicks:
        s.emit("contact_click", channel=_pick(s.rng, CHANNELS), url=page or s.url, page=page or s.url,
               query=query, topic=topic if page else None)


def _gap_session(s: _Session, contacts: bool) -> None:
    if s.rng.random() < 0.4:
        s.source = "widget"
    clicks_contact = contacts and s.rng.random() < 0.6
    query = s.rng.choice(GAPS[s.lang])
    if s.rng.random() < 0.5:
        s.emit("search", query=query, results=0, answered=0, settled="pause", outcome="refine")
        query = s.rng.choice(GAPS[s.lang])
    s.emit("search", query=query, results=0, answered=0, settled="enter",
           outcome="contact" if clicks_contact else "leave")
    _contact(s, clicks_contact, "payments-emi", query)
