"""The event contract shared by the help site's JavaScript, the widget and the collector.

One batch is ``{"batch": id, "events": [event, ...]}``; CONTRIBUTING.md lists the names and
their props. Validation is strict (types are not coerced, strings have maximum lengths) so
that a bad client is told exactly which field of which event is wrong, and nothing of a bad
batch is stored. Unknown props are dropped, so a newer client can add props without breaking.

What is kept is what the store can hold and may hold (`privacy`): every string loses NUL and
other characters a database refuses, every URL its query string and fragment, and free text
(queries, comments, video ids) e-mail addresses and phone numbers, before the rows go near a
transaction.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from kb_tools.analytics.privacy import clean_url, scrub, storable
from kb_tools.errors import AnalyticsError

MAX_EVENTS = 100
MAX_BODY_BYTES = 64 * 1024
# 2020-01-01 .. now + 1 day: a client clock may be a little ahead, never years off.
MIN_TS = 1_577_836_800_000

BATCH_ID = r"^[A-Za-z0-9_-]{16,64}$"


def _url(value: str) -> str:
    value = storable(value)
    try:
        urlsplit(value)
    except ValueError:
        raise ValueError("not a URL that can be read: send the page's URL or path") from None
    return clean_url(value)


Url = Annotated[str, Field(strict=True, max_length=2000), AfterValidator(_url)]
Text = Annotated[str, AfterValidator(storable)]
Query = Annotated[Text, Field(strict=True, max_length=500)]


class _Props(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class SearchProps(_Props):
    """One settled search (the shopper paused, pressed Enter or clicked a result), sent once
    what happened next is known. The outcome props are optional: an old client's event has
    none of them, and a missing `answered` means unknown, not "no answer"."""

    query: Query
    results: Annotated[StrictInt, Field(ge=0, le=10_000)]
    top: Annotated[list[Url], Field(max_length=5)] = []
    answered: StrictBool | None = None
    confidence: Annotated[float, Field(ge=0, le=1, strict=False)] | None = None
    settled: Literal["pause", "enter", "click"] | None = None
    next: Literal["open", "contact", "refine", "leave"] | None = None


class ResultClickProps(_Props):
    query: Query
    rank: Annotated[StrictInt, Field(ge=1, le=1000)]
    url: Url


class PageViewProps(_Props):
    url: Url
    from_: Literal["search", "widget", "direct"] = Field("direct", alias="from")


class VideoPlayProps(_Props):
    video: Annotated[Text, Field(strict=True, min_length=1, max_length=200)]
    url: Url = ""


class VideoProgressProps(_Props):
    video: Annotated[Text, Field(strict=True, min_length=1, max_length=200)]
    percent: Literal[25, 50, 75, 100]


class FeedbackProps(_Props):
    url: Url
    helpful: StrictBool
    comment: Annotated[Text, Field(strict=True, max_length=1000)] = ""


class ContactClickProps(_Props):
    channel: Literal["email", "phone", "whatsapp", "messenger", "chat"]
    url: Url = ""
    query: Query = ""  # the question carried to the person
    topic: Annotated[Text, Field(strict=True, max_length=100)] = ""  # the article's contact_topic
    from_: Literal["widget", "feedback", "search"] | None = Field(None, alias="from")


PROPS: dict[str, type[_Props]] = {
    "search": SearchProps,
    "result_click": ResultClickProps,
    "page_view": PageViewProps,
    "video_play": VideoPlayProps,
    "video_progress": VideoProgressProps,
    "feedback": FeedbackProps,
    "contact_click": ContactClickProps,
}


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    name: Literal[
        "search", "result_click", "page_view", "video_play", "video_progress", "feedback", "contact_click"
    ]
    session: Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9_-]{16,64}$")]
    ts: Annotated[StrictInt, Field(ge=MIN_TS)]
    source: Literal["site", "widget"] = "site"
    url: Url = ""
    lang: Annotated[str, Field(strict=True, max_length=16, pattern=r"^[A-Za-z]{0,8}(-[A-Za-z0-9]{1,8})*$")] = ""
    props: dict[str, Any] = {}

    @field_validator("ts")
    @classmethod
    def _not_in_future(cls, ts: int, info: ValidationInfo) -> int:
        now = (info.context or {}).get("now") or time.time()  # parse_batch's clock
        if ts > now * 1000 + 86_400_000:
            raise ValueError("timestamp is more than a day in the future: send Date.now() in milliseconds")
        return ts


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    # Random per batch and kept by the client when it sends the batch again: a retried batch
    # is stored once. Optional, for older clients.
    batch: Annotated[str | None, Field(strict=True, pattern=BATCH_ID)] = None
    events: Annotated[list[Event], Field(min_length=1, max_length=MAX_EVENTS)]


class Batch(NamedTuple):
    """A validated request: its id (None from older clients) and the rows for the store."""

    id: str | None
    rows: list[dict[str, Any]]


def page_path(url: str) -> str:
    """`https://help.shop/returns/policy/?q=x#a` -> `/returns/policy/`: the key metrics use."""
    if not url:
        return ""
    path = urlsplit(url).path or "/"
    if path.endswith("/index.html"):
        path = path[: -len("index.html")]
    if not path.startswith("/"):
        path = "/" + path
    if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
        path += "/"
    return path[:500]


def _describe(err: ValidationError, prefix: str = "") -> str:
    parts = []
    for e in err.errors()[:5]:
        loc = prefix + ".".join(str(p) for p in e["loc"])
        parts.append(f"{loc}: {e['msg']}" if loc else f"the body must be an object like {{\"events\": [...]}}: {e['msg']}")
    return "; ".join(parts)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def parse_request(body: bytes, *, now: float | None = None) -> Batch:
    """Validate a request body and return its batch id and rows for the store. Raises
    AnalyticsError with every problem named by its place (`events.3.props.percent: ...`).
    ``now`` (seconds since the epoch, default the system clock) is what "in the future" is
    measured against. CPU grows with the body (64 kB at most): call it off the event loop."""
    if len(body) > MAX_BODY_BYTES:
        raise AnalyticsError(f"body is {len(body)} bytes: send at most {MAX_BODY_BYTES} bytes per request")
    try:
        # Python's parser, not pydantic's: a browser's JSON.stringify writes a lone surrogate
        # (an emoji cut in half by a length limit) as "\\ud83d", which is valid JSON; the
        # character is then dropped like any other the store cannot hold.
        data = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:
        where = f" (line {e.lineno}, column {e.colno})" if isinstance(e, json.JSONDecodeError) else ""
        raise AnalyticsError(f"the body is not valid JSON{where}: send {{\"events\": [...]}}") from None
    try:
        batch = EventBatch.model_validate(data, context={"now": now})
    except ValidationError as e:
        raise AnalyticsError(_describe(e)) from None
    rows = []
    for i, event in enumerate(batch.events):
        try:
            props = PROPS[event.name].model_validate(event.props)
        except ValidationError as e:
            raise AnalyticsError(_describe(e, f"events.{i}.props.")) from None
        rows.append(to_row(event, props))
    return Batch(batch.batch, rows)


def parse_batch(body: bytes, *, now: float | None = None) -> list[dict[str, Any]]:
    """The rows of a request body (see `parse_request`)."""
    return parse_request(body, now=now).rows


def to_row(event: Event, props: _Props) -> dict[str, Any]:
    p = props.model_dump(by_alias=True)
    for key in ("comment", "query", "video"):  # free text a shopper may type their e-mail or phone into
        if key in p:
            p[key] = scrub(p[key])
    page = p.get("url") or ""
    return {
        "ts": event.ts,
        "name": event.name,
        "session": event.session,
        "source": event.source,
        "lang": event.lang.lower()[:16],
        "url": page_path(event.url),
        "page": page_path(page) if page else page_path(event.url),
        "video": p.get("video"),
        "query": _norm_query(p["query"]) if p.get("query") else None,
        "results": p.get("results"),
        "rank": p.get("rank"),
        "origin": p.get("from"),
        "helpful": None if "helpful" not in p else int(p["helpful"]),
        "channel": p.get("channel"),
        "percent": p.get("percent"),
        "comment": p.get("comment") or None,
        "answered": None if p.get("answered") is None else int(p["answered"]),
        "confidence": p.get("confidence"),
        "settled": p.get("settled"),
        "outcome": p.get("next"),
        "topic": p.get("topic") or None,
        "props": json.dumps(p, ensure_ascii=False, separators=(",", ":")),
    }


def _norm_query(q: str) -> str:
    return " ".join(q.split()).lower()[:500]

