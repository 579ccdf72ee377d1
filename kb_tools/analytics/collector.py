"""`POST /api/events`: the event collector, which `kb serve` installs (and ``collector_app``
serves alone, for tests and benchmarks).

An event is acknowledged (204) only after the transaction holding it is committed, so an
acknowledged event survives the server being killed right after. To reach thousands of events
per second anyway, concurrent requests are grouped: each request hands its rows to one writer
thread and waits; the writer commits everything queued so far in one transaction and then
wakes all of them (group commit). A batch the database refuses fails alone: the store retries
the others one by one (`EventStore.add_batches`), so one client's odd events never fail another
shopper's. Parsing and scrubbing run on a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import Future
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect

from kb_tools.analytics.events import MAX_BODY_BYTES, Batch, parse_request
from kb_tools.analytics.store import EventStore
from kb_tools.errors import AnalyticsError
from kb_tools.httpapi import (
    BodyLimitMiddleware,
    RateLimitMiddleware,
    error_response,
    install_error_handlers,
)

MAX_ROWS_PER_TRANSACTION = 5000
log = logging.getLogger(__name__)


class BatchWriter:
    """One thread that writes queued batches of rows, many requests per transaction."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._queue: queue.Queue[tuple[Batch, Future[int]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, batch: Batch) -> Future[int]:
        """Queue one request's batch; the future gives the number of events stored (0 for a
        batch id stored before) or raises the AnalyticsError that stopped this batch."""
        fut: Future[int] = Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kb-events-writer", daemon=True)
                self._thread.start()
        self._queue.put((batch, fut))
        return fut

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            pending = [item]
            size = len(item[0].rows)
            while size < MAX_ROWS_PER_TRANSACTION:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                pending.append(nxt)
                size += len(nxt[0].rows)
            try:
                results: list[int | Exception] = list(self.store.add_batches([(b.id, b.rows) for b, _ in pending]))
            except Exception as e:  # noqa: BLE001 - every waiting request must hear about it
                results = [e] * len(pending)
            for (_, fut), result in zip(pending, results, strict=True):
                if isinstance(result, Exception):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)


class EventCollector:
    """Accepts event batches into ``store``. ``clock`` (seconds since the epoch) is what an
    event's timestamp is checked against. ``install(app)`` mounts ``POST /api/events``; the app
    that installs it also applies the limits (``BodyLimitMiddleware`` and
    ``RateLimitMiddleware`` from kb_tools.httpapi): `kb serve` and ``collector_app`` do."""

    def __init__(self, store: EventStore, clock: Callable[[], float] = time.time,
                 allowed_origins: Iterable[str] = ("*",)) -> None:
        self.store = store
        self.clock = clock
        self.writer = BatchWriter(store)
        origins = {o.rstrip("/").lower() for o in allowed_origins}
        self.allowed_origins: frozenset[str] | None = None if "*" in origins else frozenset(origins)

    def origin_allowed(self, request: Request) -> bool:
        """Whether a browser may write events from the page that sent them. CORS alone does not
        stop a text/plain POST (no preflight): any website could write events, so with a list
        of allowed origins the collector also checks the Origin header itself. The help site
        served by this server (the same origin) and clients that send no Origin (not a
        browser, or a same-origin GET-style beacon) are accepted."""
        if self.allowed_origins is None:
            return True
        origin = request.headers.get("origin")
        if origin is None:
            return True
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        host = request.headers.get("host", "").lower()
        return bool(host) and origin.split("://", 1)[-1] == host

    def install(self, app: FastAPI) -> None:
        app.state.event_collector = self
        app.include_router(router)

    def close(self) -> None:
        """Stop the writer thread (after it committed what was queued)."""
        self.writer.close()


router = APIRouter()


@router.post(
    "/api/events",
    status_code=204,
    summary="Record a batch of anonymous usage events",
    responses={
        204: {"description": "Stored (committed) — safe to forget"},
        400: {"description": "Not JSON, or an event does not follow the contract"},
        403: {"description": "Sent from a page whose origin is not allowed (KB_ALLOWED_ORIGINS)"},
        413: {"description": f"More than {MAX_BODY_BYTES // 1024} kB"},
        415: {"description": "Not application/json or text/plain"},
        429: {"description": "Too many requests from this client"},
        503: {"description": "The store cannot be written now: send the same batch again later"},
    },
)
async def post_events(request: Request) -> Response:
    collector: EventCollector = request.app.state.event_collector
    if not collector.origin_allowed(request):
        return error_response(403, "forbidden_origin",
                              "events are accepted only from the help site and the shops in the allowed origins")
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/json", "text/plain", ""):
        return error_response(415, "unsupported_media_type",
                              f"content type {ctype!r}: send application/json (or text/plain from sendBeacon)")
    try:
        body = await request.body()
    except ClientDisconnect:  # the client left (or was cut off by a read timeout) mid-body
        return Response(status_code=400)
    try:
        # CPU that grows with the body (JSON, validation, scrubbing): off the event loop, so one
        # client's large batches never stall the other requests.
        batch = await anyio.to_thread.run_sync(lambda: parse_request(body, now=collector.clock()))
    except AnalyticsError as e:
        return error_response(400, "bad_events", str(e))
    try:
        await asyncio.wrap_future(collector.writer.submit(batch))
    except AnalyticsError as e:
        # The message names the database and the driver's words: for the log, not the client.
        log.warning("events not stored: %s", e)
        return error_response(503, "store_unavailable",
                              "the event store cannot be written right now: send the same batch again later",
                              {"Retry-After": "5"})
    return Response(status_code=204)


def collector_app(store: EventStore, *, clock: Callable[[], float] = time.time, rate_limit: float = 20.0,
                  rate_burst: int = 40, trust_proxy: bool = False, trusted_hops: int = 1,
                  allowed_origins: Iterable[str] = ("*",)) -> FastAPI:
    """A FastAPI app with only the collector, limited like `kb serve`'s /api/ paths by the same
    code: `RateLimitMiddleware` keyed by `httpapi.client_ip` (behind ``trust_proxy``, the
    address ``trusted_hops`` entries from the right of X-Forwarded-For), the collector's own
    Origin check and CORS for ``allowed_origins`` ("*": any), and the body limit
    (``rate_limit`` 0 = no limit). Closes the collector when the app stops."""
    origins = tuple(allowed_origins)
    collector = EventCollector(store, clock, origins)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            collector.close()

    app = FastAPI(title="kb events collector", lifespan=lifespan)
    install_error_handlers(app)
    collector.install(app)
    # Last added runs first, as in kb serve: CORS decorates the limits' 413/429 too.
    app.add_middleware(RateLimitMiddleware, rate=rate_limit, burst=rate_burst, trust_proxy=trust_proxy,
                       trusted_hops=trusted_hops)
    app.add_middleware(BodyLimitMiddleware, limit=MAX_BODY_BYTES)
    app.add_middleware(CORSMiddleware, allow_origins=list(origins), allow_methods=["POST"],
                       allow_headers=["content-type"], max_age=86400)
    return app


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise AnalyticsError(f"{name}={value!r}: use true or false")


def standalone_app() -> FastAPI:
    """For tests and benchmarks: `uvicorn --factory kb_tools.analytics.collector:standalone_app`
    with kb serve's variables: the store from KB_DATABASE_URL, the limit from KB_RATE_LIMIT /
    KB_RATE_BURST (0 = off), KB_ALLOWED_ORIGINS (comma-separated, default *), KB_TRUST_PROXY
    and KB_TRUSTED_HOPS (1-10)."""
    hops = os.environ.get("KB_TRUSTED_HOPS", "1")
    if not hops.strip().isdigit() or not 1 <= int(hops) <= 10:
        raise AnalyticsError(f"KB_TRUSTED_HOPS={hops!r}: give the number of your proxies in front of it, 1-10")
    origins = [o.strip().rstrip("/") for o in os.environ.get("KB_ALLOWED_ORIGINS", "*").split(",") if o.strip()]
    return collector_app(EventStore(os.environ.get("KB_DATABASE_URL")),
                         rate_limit=float(os.environ.get("KB_RATE_LIMIT", "20")),
                         rate_burst=int(os.environ.get("KB_RATE_BURST", "40")),
                         trust_proxy=_env_flag("KB_TRUST_PROXY", False), trusted_hops=int(hops),
                         allowed_origins=origins or ["*"])
