"""Analytics store rows for tests, built from plain values and validated exactly as the
collector validates a request (`POST /api/events`)."""

from __future__ import annotations

from typing import Any

from kb_tools.analytics.events import PROPS, Event, to_row


def make_event(name: str, session: str, ts: int, props: dict[str, Any], *, source: str = "site",
               url: str = "", lang: str = "en") -> dict[str, Any]:
    event = Event.model_validate(
        {"name": name, "session": session, "ts": ts, "source": source, "url": url, "lang": lang, "props": props})
    return to_row(event, PROPS[name].model_validate(props))
