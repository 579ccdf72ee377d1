"""What every HTTP endpoint of kb_tools shares — `kb serve` (service/) and the event collector
(analytics/) import it, and it imports neither, so neither imports the other:

* the one error body, ``{"error": code, "detail": message}``, built by ``error_body`` from a
  registry of codes (``ERROR_CODES``: one code per meaning, each with its one status), and the
  handlers that give FastAPI's own errors (validation, 404, 405, crashes) that shape;
* per-client limits as pure ASGI middleware: ``RateLimitMiddleware`` (token buckets keyed by
  ``client_ip``) and ``BodyLimitMiddleware`` (413 before the app reads a byte too many).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("kb.http")

# Every error code a kb_tools endpoint may send, with its status. A meaning has one code
# everywhere (the 413 from `kb serve` and from the collector is `payload_too_large`).
ERROR_CODES: dict[str, int] = {
    "bad_request": 400,  # the body cannot even be decoded
    "bad_events": 400,  # an event does not follow the events contract
    "forbidden_origin": 403,  # a browser on a site not in the allowed origins
    "not_found": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "invalid_json": 422,
    "missing_body": 422,
    "missing_parameter": 422,
    "invalid_parameter": 422,
    "missing_query": 422,
    "query_too_long": 422,
    "unknown_language": 422,
    "rate_limited": 429,
    "internal_error": 500,
    "index_unavailable": 503,
    "store_unavailable": 503,
}
# The code of an HTTPException raised by the framework (routing, body decoding) by its status.
STATUS_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
                415: "unsupported_media_type", 422: "invalid_parameter", 429: "rate_limited",
                500: "internal_error"}
NO_STORE = {"cache-control": "no-store"}
CRASHED = "Something went wrong on our side; the error was logged. Please try again."
WHERE = {"query": "Query parameter", "body": "Field", "path": "Path parameter", "header": "Header"}


def error_body(status: int, code: str, message: str, /, **extra: Any) -> dict[str, Any]:
    """The body of every 4xx/5xx: ``{"error": code, "detail": message, **extra}``. ``code``
    must be registered in ERROR_CODES with this status (a programming error otherwise)."""
    if ERROR_CODES.get(code) != status:
        raise ValueError(f"error code {code!r} is not registered for HTTP {status} in ERROR_CODES")
    return {"error": code, "detail": message, **extra}


def _encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None, /,
                   **extra: Any) -> Response:
    return Response(_encode(error_body(status, code, message, **extra)), status_code=status,
                    media_type="application/json", headers={**NO_STORE, **(headers or {})})


async def send_error(send: Send, status: int, code: str, message: str,
                     headers: dict[str, str] | None = None) -> None:
    """The same response written straight to an ASGI ``send`` (for middleware)."""
    body = _encode(error_body(status, code, message))
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in {**NO_STORE, **(headers or {})}.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


# -- FastAPI's own errors in the one shape ----------------------------------------------------

def describe_validation(exc: RequestValidationError) -> tuple[str, str]:
    """(code, one readable sentence) for the first problem; never echoes the input back."""
    errors = exc.errors()
    if not errors:
        return "invalid_parameter", "The request is not valid."
    err = errors[0]
    loc = [str(p) for p in err.get("loc", ())]
    kind = err.get("type", "")
    if kind == "json_invalid":
        ctx = err.get("ctx") or {}
        where = f" ({ctx['error']})" if isinstance(ctx.get("error"), str) else ""
        return "invalid_json", f"The request body is not valid JSON{where}."
    where = WHERE.get(loc[0], loc[0].capitalize()) if loc else "Request"
    name = ".".join(loc[1:])
    if kind == "missing":
        if loc[:1] == ["body"] and not name:
            return "missing_body", "The request needs a JSON body."
        return "missing_parameter", f"{where} '{name}' is required."
    msg = str(err.get("msg", "is not valid")).rstrip(".")
    if kind in ("model_attributes_type", "dict_type") and not name:
        return "invalid_json", "The request body must be a JSON object."
    return "invalid_parameter", f"{where} '{name}': {msg}." if name else f"{where}: {msg}."


Handler = Callable[[Request, Any], Awaitable[Response]]


def install_error_handlers(app: FastAPI, *, not_found_hint: str = "",
                           domain: dict[type[Exception], Handler] | None = None) -> None:
    """Every exception that reaches ``app`` answered in the one shape: ``domain`` maps the
    app's own exception types to handlers; the framework's errors and crashes are handled here
    (``not_found_hint`` follows the sentence of a 404)."""

    async def validation(request: Request, exc: RequestValidationError) -> Response:
        code, detail = describe_validation(exc)
        return error_response(422, code, detail)

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = STATUS_CODES.get(exc.status_code)
        if code is None:  # a status nothing here gives a meaning to: a bug, not the client's
            log.error("unexpected HTTP %s on %s %s", exc.status_code, request.method, request.url.path)
            return error_response(500, "internal_error", CRASHED)
        detail = exc.detail if isinstance(exc.detail, str) else "The request failed."
        if exc.status_code == 404:
            detail = f"Nothing at {request.url.path}.{' ' + not_found_hint if not_found_hint else ''}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return error_response(exc.status_code, code, detail, dict(exc.headers or {}))

    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", CRASHED)

    app.add_exception_handler(RequestValidationError, validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    for kind, handler in (domain or {}).items():
        app.add_exception_handler(kind, handler)
    app.add_exception_handler(Exception, crash)


# -- per-client limits ----------------------------------------------------------------------------

MAX_CLIENTS = 50_000  # buckets kept before idle ones are dropped


@dataclass
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One token bucket per client, in memory (each replica limits on its own). Not locked:
    used from the event loop thread only."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}

    def take(self, client: str) -> float:
        """Take one token for `client`. Returns 0 when allowed, else seconds until a token."""
        now = self.clock()
        b = self.buckets.get(client)
        if b is None:
            if len(self.buckets) >= MAX_CLIENTS:
                self._prune(now)
            b = self.buckets[client] = Bucket(self.burst, now)
        b.tokens = min(self.burst, b.tokens + (now - b.updated) * self.rate)
        b.updated = now
        if b.tokens >= 1.0:
            b.tokens -= 1.0
            return 0.0
        return (1.0 - b.tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = [c for c, b in self.buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for c in full:
            del self.buckets[c]
        if len(self.buckets) >= MAX_CLIENTS:  # all busy: start over rather than grow forever
            self.buckets.clear()


def client_ip(scope: Scope, trust_proxy: bool, trusted_hops: int = 1) -> str:
    """The client's address: a key for the limits in memory, never stored.

    Behind your own proxies (``trust_proxy``), X-Forwarded-For ends with the addresses they
    appended: the client is the ``trusted_hops``-th entry from the right. Everything to the
    left of it was written by the client and proves nothing (a client choosing its own key
    would choose a fresh bucket for every request)."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not trust_proxy:
        return peer
    hops: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":  # several headers are one list, in order
            hops += [h.strip() for h in value.decode("latin-1").split(",")]
    hops = [h for h in hops if h]
    if not hops:
        return peer
    chosen = hops[-min(trusted_hops, len(hops))]
    try:
        return str(ipaddress.ip_address(chosen))
    except ValueError:  # not what a proxy writes: the connection's address, then
        return peer


class RateLimitMiddleware:
    """Limits requests whose path starts with one of `prefixes` to `rate` per second per client
    (bursts of `burst`; rate 0 = no limit); answers 429 with a Retry-After header."""

    def __init__(self, app: ASGIApp, *, rate: float, burst: int, trust_proxy: bool = False,
                 trusted_hops: int = 1, prefixes: tuple[str, ...] = ("/api/",)) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None
        self.trust_proxy = trust_proxy
        self.trusted_hops = trusted_hops
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.buckets is None or scope["type"] != "http"
                or not scope["path"].startswith(self.prefixes) or scope.get("method") == "OPTIONS"):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client_ip(scope, self.trust_proxy, self.trusted_hops))
        if wait == 0.0:
            await self.app(scope, receive, send)
            return
        retry = max(1, int(wait + 0.999))
        await send_error(send, 429, "rate_limited", f"Too many requests from your address; try again in {retry} s.",
                         {"retry-after": str(retry)})


class BodyLimitMiddleware:
    """Refuses request bodies over `limit` bytes with 413, by Content-Length before the app
    runs, or while the app reads a body sent without one."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await self._refuse(send)
                    return
        seen = 0
        started = False

        async def guarded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send_error(send, 413, "payload_too_large", f"The request body is larger than {self.limit // 1024} kB.")


class _BodyTooLarge(Exception):
    pass
