"""Where a `kb serve` request's time goes under load: per-request timestamps of each stage.

    .venv/bin/python -m bench.bench_load --trace [--clients 8 --duration 20]

`bench_load --trace` starts the server through ``python -m bench.load_trace OUT -- <kb serve
flags>``: `kb serve` itself, with its app, its handler, the search thread's work and the
encoder wrapped to stamp each /api/search request (``time.perf_counter``: CLOCK_MONOTONIC,
one clock for the client's process and the server's) and the garbage collector's pauses
recorded. On exit it writes one JSON line per request and one with the pauses. The client
stamps when it sent each query and when the answer was back; every query is different, so
the two sides are joined on the query's text. ``breakdown`` then splits each request into:

- ``to app``: client sent -> the ASGI app gets it (the client's own work, loopback, the
  event loop noticing the socket, h11 parsing);
- ``app to handler``: the middlewares, routing, validation;
- ``queued``: the handler asks for a search thread -> the search starts in one (the
  search-thread limiter, then the worker thread taking the GIL);
- ``before encode``: language detection, the lexical query and search, the encoder's text;
- ``encode``: the query's forward pass (``Encoder.encode_query``);
- ``after encode``: vector top-k, ranking, snippets, the decision, the JSON answer;
- ``back to loop``: the search returned -> the handler runs again on the event loop;
- ``send``: the handler resumed -> the response's last byte handed to the socket;
- ``to client``: that -> the client has the answer.

plus ``gc`` (collector pauses inside the request's lifetime, any thread: a pause stops every
thread), ``cpu`` (the search thread's own CPU during the search) and, from the encoder's
passes (``Encoder._pass``, stamped too): ``pass wait`` (the encode stage's part waiting for a
pass to take the query), ``in pass`` (that pass, start to end) and ``per pass`` (the queries
that shared it).
"""

from __future__ import annotations

import contextvars
import gc
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

STAGES = ("to app", "app to handler", "queued", "before encode", "encode", "after encode", "back to loop",
          "send", "to client")
_CURRENT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("kb_trace", default=None)


def _stamp(name: str) -> None:
    rec = _CURRENT.get()
    if rec is not None:
        rec[name] = time.perf_counter()


class TraceMiddleware:
    """Outermost ASGI layer: a record per /api/search request, its arrival and its last byte
    sent; the layers below add their stamps to it through a context variable (which anyio
    copies into the search thread)."""

    def __init__(self, app: Any, records: list[dict[str, Any]]) -> None:
        self.app, self.records = app, records

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/api/search":
            return await self.app(scope, receive, send)
        q = parse_qs(scope.get("query_string", b"").decode()).get("q", [""])[0]
        rec: dict[str, Any] = {"q": q, "arrive": time.perf_counter()}
        _CURRENT.set(rec)

        async def traced_send(message: dict[str, Any]) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                rec["sent"] = time.perf_counter()

        try:
            await self.app(scope, receive, traced_send)
        finally:
            self.records.append(rec)


def install(records: list[dict[str, Any]], pauses: list[tuple[float, float, int]],
            passes: list[tuple[float, float, list[str]]] | None = None) -> None:
    """Wrap what `kb serve` runs so each request is stamped (see the module's docstring)."""
    import kb_tools.service.app as app_mod
    from kb_tools.search.encoders import Encoder
    from kb_tools.search.searcher import Searcher

    make_app = app_mod.create_app
    app_mod.create_app = lambda settings: TraceMiddleware(make_app(settings), records)  # type: ignore[assignment]

    answer = app_mod.answer

    async def traced_answer(svc: Any, req: Any) -> Any:
        _stamp("handler")
        try:
            return await answer(svc, req)
        finally:
            _stamp("resumed")

    app_mod.answer = traced_answer  # type: ignore[assignment]

    search = app_mod.Service.search

    def traced_search(self: Any, query: Any) -> bytes:
        rec = _CURRENT.get()
        if rec is None:
            return search(self, query)
        rec["thread"], rec["start"], cpu = threading.get_ident(), time.perf_counter(), time.thread_time()
        try:
            return search(self, query)
        finally:
            rec["end"], rec["cpu"] = time.perf_counter(), (time.thread_time() - cpu) * 1000

    app_mod.Service.search = traced_search  # type: ignore[method-assign]

    encode_query = Encoder.encode_query

    def traced_encode(self: Any, text: str) -> Any:
        _stamp("encode_start")
        try:
            return encode_query(self, text)
        finally:
            _stamp("encode_end")
            rec = _CURRENT.get()
            if rec is not None:
                rec["encoded"] = text

    Encoder.encode_query = traced_encode  # type: ignore[method-assign]

    one_pass = getattr(Encoder, "_pass", None)
    if passes is not None and one_pass is not None:

        def traced_pass(self: Any, texts: list[str]) -> Any:
            t = time.perf_counter()
            try:
                return one_pass(self, texts)
            finally:
                passes.append((t, time.perf_counter(), list(texts)))

        Encoder._pass = traced_pass  # type: ignore[method-assign]

    encoder_text = Searcher.encoder_text

    def traced_encoder_text(self: Any, text: str, lang: str, lq: Any) -> str:
        rec = _CURRENT.get()
        if rec is not None:
            rec["lang"] = lang
        return encoder_text(self, text, lang, lq)

    Searcher.encoder_text = traced_encoder_text  # type: ignore[method-assign]

    started: dict[int, float] = {}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        ident = threading.get_ident()
        if phase == "start":
            started[ident] = time.perf_counter()
        elif ident in started:
            pauses.append((started.pop(ident), time.perf_counter(), int(info["generation"])))

    gc.callbacks.append(on_gc)


def serve(out: Path, argv: list[str]) -> None:
    """`kb serve argv`, traced; the records are written to ``out`` when it exits."""
    from kb_tools.service.cli import serve as kb_serve

    records: list[dict[str, Any]] = []
    pauses: list[tuple[float, float, int]] = []
    passes: list[tuple[float, float, list[str]]] = []
    install(records, pauses, passes)
    # uvicorn re-raises the SIGTERM it stopped on, under the handler it found: make that an exit
    # that runs the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        kb_serve.main(argv, standalone_mode=False)
    finally:
        with out.open("w") as f:
            for rec in records:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.write(json.dumps({"gc": pauses}) + "\n")
            f.write(json.dumps({"passes": passes}, ensure_ascii=False) + "\n")


Pass = tuple[float, float, list[str]]


def load(out: Path) -> tuple[list[dict[str, Any]], list[tuple[float, float, int]], list[Pass]]:
    """The server's records, its collector pauses and its encoder passes (start, end, texts)."""
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    pauses = [tuple(p) for line in lines if "gc" in line for p in line["gc"]]
    passes = [tuple(p) for line in lines if "passes" in line for p in line["passes"]]
    return [line for line in lines if "q" in line], pauses, passes  # type: ignore[return-value]


def own_pass(r: dict[str, Any], passes: list[Pass]) -> Pass | None:
    """The pass that encoded request ``r``'s text inside its encode stage (None: the query
    vector came from the cache, or the server stamps no passes)."""
    text, a, b = r.get("encoded"), r.get("encode_start", 0.0), r.get("encode_end", 0.0)
    found = [p for p in passes if a <= p[0] and p[1] <= b and text in p[2]]
    return found[-1] if found else None


def breakdown(server: list[dict[str, Any]], client: list[list[Any]],
              pauses: list[tuple[float, float, int]], passes: list[Pass] = ()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    """One row per request answered (the client's [query, sent, received] joined with the
    server's record): ``total`` and each of STAGES in ms, ``gc`` ms, ``cpu`` ms, ``lang``,
    ``encoded`` (the encoder's text), ``ahead`` (requests already arrived and not yet sent when
    it arrived), ``pass wait`` / ``in pass`` ms and ``per pass`` (queries in its pass)."""
    by_q = {r["q"]: r for r in server if "sent" in r and "start" in r}
    arrivals = sorted((r["arrive"], r["sent"]) for r in by_q.values())
    rows = []
    for q, sent, received in client:
        r = by_q.get(q)
        if r is None or "encode_start" not in r:
            continue
        points = [sent, r["arrive"], r["handler"], r["start"], r["encode_start"], r["encode_end"], r["end"],
                  r["resumed"], r["sent"], received]
        row: dict[str, Any] = {name: (b - a) * 1000 for name, a, b in zip(STAGES, points[:-1], points[1:], strict=True)}
        row["total"] = (received - sent) * 1000
        row["gc"] = sum(max(0.0, min(e, received) - max(s, sent)) for s, e, _ in pauses) * 1000
        row.update(q=q, cpu=r.get("cpu", 0.0), lang=r.get("lang", ""), encoded=r.get("encoded", ""),
                   ahead=sum(1 for a, s in arrivals if a < r["arrive"] < s))
        p = own_pass(r, passes)
        row["pass wait"] = (p[0] - r["encode_start"]) * 1000 if p else 0.0
        row["in pass"] = (p[1] - p[0]) * 1000 if p else row["encode"]
        row["per pass"] = len(set(p[2])) if p else 1
        rows.append(row)
    return rows


def report(rows: list[dict[str, Any]], pauses: list[tuple[float, float, int]], slowest: float = 0.01) -> str:
    """Markdown: the median request's stages against the slowest ``slowest`` share's (mean of
    each stage over them, and over the requests around the median), then the slowest ones."""
    import statistics

    if not rows:
        return "no traced requests"
    rows = sorted(rows, key=lambda r: r["total"])
    n = len(rows)
    tail = rows[max(0, n - max(1, round(n * slowest))):]
    mid = rows[max(0, n // 2 - max(1, n // 20)): n // 2 + max(1, n // 20)]
    cols = [*STAGES, "pass wait", "in pass", "per pass", "gc", "cpu", "ahead", "total"]

    def mean(part: list[dict[str, Any]], c: str) -> float:
        return statistics.fmean(r[c] for r in part)

    out = [f"{n} requests traced; garbage collections {len(pauses)} (by generation "
           + ", ".join(f"{g}: {sum(1 for p in pauses if p[2] == g)}" for g in (0, 1, 2))
           + f"), longest {max((e - s for s, e, _ in pauses), default=0) * 1000:.1f} ms\n",
           "| ms (mean) | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for name, part in ((f"around the median ({len(mid)})", mid), (f"slowest {len(tail)}", tail),
                       (f"all {n}", rows)):
        out.append(f"| {name} | " + " | ".join(f"{mean(part, c):.1f}" for c in cols) + " |")
    out.append("\nThe slowest requests:\n")
    out.append("| total | queued | encode | before/after encode | back/send | gc | cpu | ahead | lang | encoded |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in reversed(tail[-10:]):
        out.append(f"| {r['total']:.1f} | {r['queued']:.1f} | {r['encode']:.1f} | {r['before encode']:.1f} / "
                   f"{r['after encode']:.1f} | {r['back to loop']:.1f} / {r['send']:.1f} | {r['gc']:.1f} | "
                   f"{r['cpu']:.1f} | {r['ahead']} | {r['lang']} | {r['encoded'][:60]} |")
    return "\n".join(out)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), sys.argv[3:] if sys.argv[2:3] == ["--"] else sys.argv[2:])
