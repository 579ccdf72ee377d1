"""`POST /api/events`: the event collector, as a FastAPI router the service mounts.

An event is acknowledged (204) only after the transaction holding it is committed, so an
acknowledged event survives the server being killed right after. To reach thousands of events
per second anyway, concurrent requests are grouped: each request hands its rows to one writer
thread and waits; the writer commits everything queued so far in one transaction and then
wakes all of them (group commit).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from kb_tools.analytics.events import MAX_BODY_BYTES, parse_batch
from kb_tools.analytics.store import EventStore
from kb_tools.errors import AnalyticsError
from kb_tools.service.ratelimit import TokenBuckets, client_ip

MAX_ROWS_PER_TRANSACTION = 5000


class BatchWriter:
    """One thread that writes queued batches of rows, many requests per transaction."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._queue: queue.Queue[tuple[list[dict[str, Any]], Future[int]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, rows: list[dict[str, Any]]) -> Future[int]:
        fut: Future[int] = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kb-events-writer", daemon=True)
                self._thread.start()
        self._queue.put((rows, fut))
        return fut

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            pending = [item]
            size = len(item[0])
            while size < MAX_ROWS_PER_TRANSACTION:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                pending.append(nxt)
                size += len(nxt[0])
            rows = [row for batch, _ in pending for row in batch]
            try:
                self.store.add_events(rows)
            except Exception as e:  # noqa: BLE001 - every waiting request must hear about it
                for _, fut in pending:
                    fut.set_exception(e)
            else:
                for batch, fut in pending:
                    fut.set_result(len(batch))

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)


def _error(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def router(
    store_or_settings: Any,
    *,
    rate_limit: float | None = None,
    rate_burst: int | None = None,
    trust_proxy: bool | None = None,
) -> APIRouter:
    """The collector. `store_or_settings` is an `EventStore`, or the service's settings (an
    object with `database_url`, `rate_limit`, `rate_burst`, `trust_proxy`) from which one is
    made. The route is `POST /api/events`: include the router without a prefix."""
    if isinstance(store_or_settings, EventStore):
        store = store_or_settings
    else:
        store = EventStore(getattr(store_or_settings, "database_url", None))
    if rate_limit is None:
        # Events are batched by the browser (one request every few seconds), so the service's
        # per-IP API limit is ample; a shop behind one NAT gets the burst.
        rate_limit = float(getattr(store_or_settings, "rate_limit", 20.0))
    if rate_burst is None:
        rate_burst = int(getattr(store_or_settings, "rate_burst", 40))
    if trust_proxy is None:
        trust_proxy = bool(getattr(store_or_settings, "trust_proxy", False))
    writer = BatchWriter(store)
    # The same token buckets as the service's API limit (the handler runs on the event loop,
    # so they need no lock). The client IP is a key in memory only, never stored.
    buckets = TokenBuckets(rate_limit, rate_burst) if rate_limit > 0 else None
    api = APIRouter()
    api.kb_store = store  # type: ignore[attr-defined]
    api.kb_writer = writer  # type: ignore[attr-defined]

    @api.post(
        "/api/events",
        status_code=204,
        summary="Record a batch of anonymous usage events",
        responses={
            204: {"description": "Stored (committed) — safe to forget"},
            400: {"description": "Not JSON, or an event does not follow the contract"},
            413: {"description": "More than 64 kB"},
            415: {"description": "Not application/json or text/plain"},
            429: {"description": "Too many requests from this client"},
        },
    )
    async def post_events(request: Request) -> Response:
        wait = buckets.take(client_ip(request.scope, trust_proxy)) if buckets is not None else 0.0
        if wait:
            return JSONResponse(
                {"error": "rate_limited", "detail": "too many event requests: retry in a few seconds"},
                status_code=429, headers={"Retry-After": str(max(1, int(wait + 0.999)))},
            )
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/json", "text/plain", ""):
            return _error(415, "unsupported_media_type",
                          f"content type {ctype!r}: send application/json (or text/plain from sendBeacon)")
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            return _error(413, "too_large", f"body over {MAX_BODY_BYTES} bytes: send at most 100 events per request")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return _error(413, "too_large", f"body over {MAX_BODY_BYTES} bytes: send at most 100 events per request")
        try:
            rows = parse_batch(bytes(body))
        except AnalyticsError as e:
            return _error(400, "bad_events", str(e))
        try:
            await asyncio.wrap_future(writer.submit(rows))
        except AnalyticsError as e:
            return _error(503, "store_unavailable", str(e))
        return Response(status_code=204)

    return api


def standalone_app() -> Any:
    """A FastAPI app with only the collector, for tests and benchmarks:
    `uvicorn --factory kb_tools.analytics.collector:standalone_app` (store from KB_DATABASE_URL,
    rate limit from KB_RATE_LIMIT, 0 = off)."""
    import os

    from fastapi import FastAPI

    app = FastAPI(title="kb events collector")
    api = router(EventStore(os.environ.get("KB_DATABASE_URL")),
                 rate_limit=float(os.environ.get("KB_RATE_LIMIT", "20")),
                 rate_burst=int(os.environ.get("KB_RATE_BURST", "40")))
    app.include_router(api)
    return app
