"""Per-client token bucket for the API, in memory (each replica limits on its own).

Pure ASGI middleware: it runs on the event loop thread, so the buckets need no lock.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_CLIENTS = 50_000  # buckets kept before idle ones are dropped


@dataclass
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(self, rate: float, burst: int, clock=time.monotonic) -> None:
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


def client_ip(scope: Scope, trust_proxy: bool) -> str:
    if trust_proxy:
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                first = value.decode("latin-1").split(",")[0].strip()
                if first:
                    return first
    client = scope.get("client")
    return client[0] if client else "unknown"


class RateLimitMiddleware:
    """Limits requests whose path starts with one of `prefixes`; answers 429 in the API's
    error shape with a Retry-After header."""

    def __init__(self, app: ASGIApp, *, rate: float, burst: int, trust_proxy: bool = False,
                 prefixes: tuple[str, ...] = ("/api/",)) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None
        self.trust_proxy = trust_proxy
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.buckets is None or scope["type"] != "http"
                or not scope["path"].startswith(self.prefixes) or scope.get("method") == "OPTIONS"):
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client_ip(scope, self.trust_proxy))
        if wait == 0.0:
            await self.app(scope, receive, send)
            return
        retry = max(1, int(wait + 0.999))
        body = json.dumps({
            "error": "rate_limited",
            "detail": f"Too many requests from your address; try again in {retry} s.",
        }).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry).encode()),
            (b"cache-control", b"no-store"),
        ]})
        await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuses request bodies over `limit` bytes with 413 before the app reads them."""

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
                    await _too_large(send, self.limit)
                    return
        seen = 0
        started = False

        async def guarded_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({
        "error": "payload_too_large",
        "detail": f"The request body is larger than {limit // 1024} kB.",
    }).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]})
    await send({"type": "http.response.body", "body": body})
