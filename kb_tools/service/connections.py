"""Connections that cannot starve the server: read timeouts and a connection cap for uvicorn.

uvicorn closes idle keep-alive connections but waits forever for a request that never ends:
a client that sends half a header line, or a Content-Length it never delivers ("slowloris"),
holds a connection and a file descriptor for as long as it likes, and a few hundred of them
exhaust the open-file limit so nobody else is answered. `GuardedH11Protocol` is uvicorn's
h11 protocol with:

- a header timeout: a request's headers must be complete `header_timeout` seconds after its
  first byte (or after the connection opened); else 408 and the connection is closed;
- a body timeout: the body must be complete `body_timeout` seconds after the headers;
- a send timeout: a client that reads nothing of a response for `send_timeout` seconds is
  disconnected;
- a cap on open connections, below the process's open-file limit. At the cap, a new
  connection first evicts the connection that has been waiting on its client the longest
  (for headers, a body, or to read); only when every connection has a request being
  answered is the new one refused. A shopper's request arrives in one packet, so it is
  never the one waiting longest; an attacker's half-open connections are. An idle
  keep-alive connection whose next request is already in the socket, not yet read (a
  browser's beacon sent as the flood arrives), is passed over while another can go.

`server(app, settings)` builds the uvicorn server `kb serve` runs.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import resource
import struct
import termios
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("kb.serve")

RESERVED_FILES = 64  # descriptors kept for the store, the index, static files and logs
IN_FLIGHT_BURSTS = 3  # accepted-but-unseen and closed-but-not-yet-released bursts (connection_limits)


def _timeout_response(detail: str) -> bytes:
    body = json.dumps({"error": "request_timeout", "detail": detail}).encode()
    return (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


HEADER_TIMEOUT = _timeout_response("The request headers did not arrive in time.")
BODY_TIMEOUT = _timeout_response("The request body did not arrive in time.")


def open_file_limit(raise_to: int = 65536) -> int:
    """The soft limit on open files, raised towards the hard limit first (as servers do)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = raise_to if hard == resource.RLIM_INFINITY else min(hard, raise_to)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else raise_to


def connection_limits(requested: int) -> tuple[int, int]:
    """(connection cap, listen backlog) for `requested` connections (0 = automatic).

    asyncio accepts up to `backlog` + 1 waiting connections in one go, and a connection it
    accepted is only seen by the cap two turns of the event loop later (the task that makes
    its transport, then `connection_made`); a connection closed at the cap gives its
    descriptor back one turn after that. Under a flood, three bursts are in flight at once
    beside the capped connections, so the cap leaves room for three: the process never runs
    out of file descriptors (asyncio would stop accepting for a second each time it did, and
    log an error)."""
    usable = max(32, open_file_limit() - RESERVED_FILES)
    backlog = min(2048, max(8, usable // 8))
    room = max(4, usable - IN_FLIGHT_BURSTS * (backlog + 1))
    return (min(requested, room) if requested else min(1024, room)), backlog


@dataclass
class ConnectionGuard:
    """Timeouts and the cap, shared by every connection of one server."""

    header_timeout: float = 10.0
    body_timeout: float = 20.0
    send_timeout: float = 60.0
    max_connections: int = 1024
    # Connections waiting on their client, the longest-waiting first.
    waiting: OrderedDict[GuardedH11Protocol, None] = field(default_factory=OrderedDict)
    evicted: int = 0
    refused: int = 0


class GuardedH11Protocol(H11Protocol):
    guard: ConnectionGuard  # set on the subclass `protocol_for` makes

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_for: str = ""
        self._send_timer: asyncio.TimerHandle | None = None

    # -- waiting on the client ---------------------------------------------------------------
    def _waiting(self, on: bool) -> None:
        waiting = self.guard.waiting
        if on:
            if self not in waiting:
                waiting[self] = None
        else:
            waiting.pop(self, None)

    def _arm(self, phase: str) -> None:
        """Start the timer of `phase` unless it is running: "idle" (a new connection, nothing
        received yet), "headers" (part of a request is in) or "body"."""
        if self._timer_for == phase:
            return
        self._disarm()
        seconds = self.guard.body_timeout if phase == "body" else self.guard.header_timeout
        self._timer = self.loop.call_later(seconds, self._expired, phase)
        self._timer_for = phase
        self._waiting(True)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_for = None, ""

    def _expired(self, phase: str) -> None:
        self._timer, self._timer_for = None, ""
        if self.transport.is_closing():
            return
        answering = self.cycle is not None and self.cycle.response_started and not self.cycle.response_complete
        if phase != "idle" and not answering:  # a connection that sent nothing is just closed
            self.transport.write(HEADER_TIMEOUT if phase == "headers" else BODY_TIMEOUT)
        self._drop()

    def _request_pending(self) -> bool:
        """Nothing of a request consumed yet, but bytes of one are in the socket unread: a
        keep-alive (or new) connection about to be used, not one a client is holding open."""
        if self.conn.their_state is not h11.IDLE or self._timer_for == "headers":
            return False
        sock = self.transport.get_extra_info("socket")
        try:
            ready = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
        except (AttributeError, OSError, ValueError):
            return False
        return struct.unpack("i", ready)[0] > 0

    def _drop(self) -> None:
        """Close now; a request handler still reading sees the client go away."""
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()

    def _track(self, arrived: bool) -> None:
        """After h11 has consumed what arrived: which timer applies now."""
        if self.transport.is_closing():
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            if arrived:  # part of the next request is in, not all of its headers
                self._arm("headers")
            else:  # idle keep-alive: uvicorn's keep-alive timer closes it
                self._disarm()
                self._waiting(True)
        elif state is h11.SEND_BODY:
            self._arm("body")
        else:  # the whole request is in: it is being answered
            self._disarm()
            self._waiting(False)

    # -- uvicorn's protocol hooks ------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        guard = self.guard
        if len(self.connections) > guard.max_connections:
            passed_over: list[GuardedH11Protocol] = []
            while guard.waiting and len(self.connections) > guard.max_connections:
                oldest, _ = guard.waiting.popitem(last=False)
                if oldest._request_pending():
                    passed_over.append(oldest)
                    continue
                guard.evicted += 1
                oldest._drop()
                self.connections.discard(oldest)  # its connection_lost comes later
            for kept in reversed(passed_over):  # still the longest waiting, in their order
                guard.waiting[kept] = None
                guard.waiting.move_to_end(kept, last=False)
            if len(self.connections) > guard.max_connections:
                guard.refused += 1
                if guard.refused % 100 == 1:
                    log.warning("connection cap (%d) reached with every connection busy: refusing new ones",
                                guard.max_connections)
                transport.close()
                return
        self._arm("idle")

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._track(arrived=bool(data))

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._track(arrived=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._waiting(False)
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.guard.send_timeout, self._drop)
            self._waiting(True)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
            self._track(arrived=False)


def protocol_for(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """A protocol class bound to `guard` (uvicorn instantiates the class it is given)."""
    return type("KbH11Protocol", (GuardedH11Protocol,), {"guard": guard})


def server(app: Any, settings: Any, **config: Any) -> uvicorn.Server:
    """The uvicorn server of `kb serve` for `app`, with the limits of `settings`."""
    cap, backlog = connection_limits(settings.max_connections)
    guard = ConnectionGuard(header_timeout=settings.header_timeout, body_timeout=settings.body_timeout,
                            send_timeout=settings.send_timeout, max_connections=cap)
    return uvicorn.Server(uvicorn.Config(
        app, host=settings.host, port=settings.port, http=protocol_for(guard), backlog=backlog,
        # A 100 kB query string must reach the app to get the API's error shape rather than
        # h11's bare "Invalid HTTP request".
        h11_max_incomplete_event_size=256 * 1024,
        proxy_headers=False,  # the client address behind a proxy is the rate limiter's business
        **config,
    ))
