"""Analytics benchmarks: collector ingest over HTTP, and `kb report` at a million events.

    .venv/bin/python bench/bench_analytics.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/bench_analytics.py --backends sqlite --events 1000000
    .venv/bin/python bench/bench_analytics.py --backends sqlite --skip-ingest --keep /tmp/kb-1m.db
    .venv/bin/python bench/bench_analytics.py --phases sqlite:////tmp/kb-1m.db.1000000  # CPU per part

Ingest: a real uvicorn server with only the collector router (a subprocess), and a client
process posting batches of 50 events from several keep-alive connections (bounded loop, loopback
only); events/s counts acknowledged (committed) events. Report: demo traffic scaled to about a
million events, then `build_report` + `write_report` timed end to end (content gaps included,
model load included). Prints Markdown tables. Generating a million events takes minutes: `--keep FILE`
saves the generated SQLite store there, and a later run with the same FILE and --events copies it
instead of generating again (its embedding cache emptied, so the first report is still cold).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
       "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def client_main(port: int, requests: int, threads: int, batch: int) -> None:
    """Runs in its own process: post `requests` batches over `threads` connections, print JSON."""
    import httpx

    now = int(time.time() * 1000)
    names = ["search", "page_view", "result_click", "video_progress"]

    def body(worker: int, n: int) -> bytes:
        evs = []
        for i in range(batch):
            kind = names[i % 4]
            props = {"search": {"query": f"return blender {i}", "results": 3, "top": ["/returns/start/"]},
                     "page_view": {"url": f"/page/{i % 40}/", "from": "search"},
                     "result_click": {"query": "return blender", "rank": 1, "url": "/returns/start/"},
                     "video_progress": {"video": "blender-x2-assembly", "percent": 50}}[kind]
            evs.append({"name": kind, "session": f"bench{worker:04d}session{n % 500:05d}", "ts": now + i,
                        "source": "site", "url": "/returns/start/", "lang": "en", "props": props})
        return json.dumps({"events": evs}).encode()

    bodies = [body(w, n) for w in range(threads) for n in range(8)]
    ok = [0] * threads
    failed = [0] * threads

    def work(w: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            for n in range(requests // threads):
                r = c.post("/api/events", content=bodies[(w * 8 + n) % len(bodies)],
                           headers={"content-type": "text/plain"})
                if r.status_code == 204:
                    ok[w] += batch
                else:
                    failed[w] += 1

    started = time.perf_counter()
    ts = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - started
    print(json.dumps({"events": sum(ok), "failed_requests": sum(failed), "seconds": elapsed}))


def wait_up(port: int, proc: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"collector exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("collector did not start")


def bench_ingest(url: str, requests: int, threads: int, batch: int, env: dict | None = None) -> dict:
    from kb_tools.analytics.store import EventStore
    from tests.servers import free_port

    EventStore(url).close()  # schema first, outside the timing
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "kb_tools.analytics.collector:standalone_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env={**ENV, **(env or {}), "KB_DATABASE_URL": url, "KB_RATE_LIMIT": "0"}, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_up(port, server)
        out = subprocess.run([sys.executable, __file__, "--client", str(port), str(requests), str(threads), str(batch)],
                             env=ENV, capture_output=True, text=True, check=True, timeout=900)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=30)
    store = EventStore(url)
    result["stored"] = store.count()
    store.close()
    return result


def bench_report(url: str, target_events: int, keep: Path | None = None) -> dict:
    import sqlalchemy as sa

    from kb_tools.analytics import demo
    from kb_tools.analytics.store import EventStore, calls, query_vectors, sessions

    kept = keep.with_name(f"{keep.name}.{target_events}") if keep else None
    if kept is not None and kept.exists() and url.startswith("sqlite:///"):
        shutil.copyfile(kept, url.removeprefix("sqlite:///"))
        store = EventStore(url)  # an older schema is migrated here, outside the timing
        with store.engine.begin() as conn:
            conn.execute(sa.delete(query_vectors))  # the first report must embed, as on a new store
        totals = {"events": store.count(), "sessions": store.count(sessions), "calls": store.count(calls)}
        gen = None
    else:
        store = EventStore(url)
        t = time.perf_counter()
        totals = demo.generate(store, scale=target_events / 88_000, replace=True)
        gen = time.perf_counter() - t
        if kept is not None and url.startswith("sqlite:///"):
            with store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copyfile(url.removeprefix("sqlite:///"), kept)
    store.close()
    # A new process, as `kb report` would be: nothing warm but the OS file cache.
    code = (
        "import time,sys,json,resource;t=time.perf_counter();"
        "from kb_tools.analytics.store import EventStore;from kb_tools.analytics.metrics import build_report;"
        "from kb_tools.analytics.report import write_report;from pathlib import Path;"
        f"s=EventStore({url!r});r=build_report(s);write_report(r,Path(sys.argv[1]));"
        "print(json.dumps({'seconds':time.perf_counter()-t,'cpu':resource.getrusage(resource.RUSAGE_SELF).ru_utime,"
        "'change':[i.change_pct for i in r.items if i.kind=='video'][0],'gaps':len(r.gaps)}))"
    )
    runs = []
    # First run: the failing queries were never embedded, so the model loads (numpy, no torch).
    # Second run: the embeddings come from the store's cache, no model load.
    for _ in range(2):
        with tempfile.TemporaryDirectory() as out:
            t = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", code, out + "/report"], env=ENV, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t
        runs.append((wall, json.loads(res.stdout.strip().splitlines()[-1])))
    (cold, cold_inner), (warm, warm_inner) = runs
    return {"events": totals["events"], "sessions": totals["sessions"], "calls": totals["calls"],
            "generate_s": gen, "cold_s": cold, "cold_cpu_s": cold_inner["cpu"], "warm_s": warm,
            "warm_cpu_s": warm_inner["cpu"], "video_change": warm_inner["change"], "gaps": warm_inner["gaps"]}


def report_phases(url: str) -> list[tuple[str, float, float]]:
    """Each part of `build_report` run one after the other in this thread: (phase, CPU s, wall s).
    The report itself runs the search tables and gaps, and the articles' outcomes, on threads
    of their own beside the rest; this says what each costs. Imports are timed as a phase."""
    marks: list[tuple[str, float, float]] = []
    clock = [time.thread_time(), time.perf_counter()]

    def mark(name: str) -> None:
        c, w = time.thread_time(), time.perf_counter()
        marks.append((name, c - clock[0], w - clock[1]))
        clock[:] = [c, w]

    from kb_tools.analytics import gaps as g
    from kb_tools.analytics import metrics as m
    from kb_tools.analytics import searches as se
    from kb_tools.analytics.report import write_report
    from kb_tools.analytics.store import EventStore

    mark("imports (SQLAlchemy, the report)")
    store = EventStore(url)
    data = m.data_range(store)
    period = m.Period.of(data, None, None, 24.0)
    with store.connect() as conn:
        m.item_metadata(conn, None)
        report = m.DeflectionReport(period.since, period.until, 24.0, "")
        report.topic_weeks = m.topic_weeks(conn, period)
        report.topic_days = m.topic_days(conn, period)
        report.weeks = m.week_table(conn, period, report.topic_weeks)
        mark("data range, calls per topic, weeks")
        feedback = list(m.feedback_counts(conn, period))
        mark("feedback answers per item")
        articles = m._outcome_rows(conn, period, "article")
        mark(f"viewing outcomes, articles ({sum(r[3] for r in articles):,} viewings)")
        videos = m._outcome_rows(conn, period, "video")
        mark("viewing outcomes, videos")
    assert feedback is not None and videos is not None
    m.feedback_table(store, period.params, {})
    mark("readers' comments, No reasons grouped (imports scipy)")
    with store.connect() as conn:
        tables = se.search_tables(conn, period.params)
    mark("search tables (one pass over the settled searches)")
    rows = g.content_gaps(store, since=period.since, until=period.until, window=period.window,
                          failures=tables.failures)
    mark(f"content gaps ({len(rows)} rows; embeds queries not cached)")
    report = m.build_report(store)
    mark("(build_report as a whole, its threads together: CPU of this thread only)")
    with tempfile.TemporaryDirectory() as out:
        write_report(report, Path(out) / "report")
    mark("write_report (HTML, CSV, JSON)")
    store.close()
    return marks


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(*(int(a) for a in sys.argv[2:6]))
        return
    ap = argparse.ArgumentParser(description="Analytics benchmarks (Markdown tables)")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--requests", type=int, default=2000, help="ingest requests (batches) per backend")
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--threads", type=int, default=8, help="concurrent client connections")
    ap.add_argument("--events", type=int, default=1_000_000, help="events for the report benchmark")
    ap.add_argument("--skip-report", action="store_true")
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--keep", type=Path, help="SQLite only: keep the generated report store in FILE.<events> "
                                              "and reuse it when it exists (generation takes minutes)")
    ap.add_argument("--phases", metavar="URL", help="only: CPU and wall per part of the report on this store "
                                                     "(run them one after the other in one thread)")
    args = ap.parse_args()
    if args.phases:
        print(f"`{' '.join(['bench/bench_analytics.py', *sys.argv[1:]])}`\n")
        print("| phase | CPU s | wall s |\n|---|---:|---:|")
        for name, cpu, wall in report_phases(args.phases):
            print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
        return
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    ingest_rows, report_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        pg = None
        counter = iter(range(1000))

        def fresh(backend: str) -> str:
            if backend == "postgresql":
                assert pg is not None
                return pg.create_database()
            return f"sqlite:///{tmp}/bench-{next(counter)}.db"

        try:
            for backend in backends:
                if backend == "postgresql" and pg is None:
                    from tests.pg_server import TemporaryPostgres

                    pg = TemporaryPostgres(fsync=True)  # durable commits, as in production
                    pg.start()
                if not args.skip_ingest:
                    r = bench_ingest(fresh(backend), args.requests, args.threads, args.batch)
                    ingest_rows.append((backend + (" (synchronous=FULL)" if backend == "sqlite" else ""), r))
                    print(f"ingest {backend}: {r}", file=sys.stderr, flush=True)
                if backend == "sqlite" and not args.skip_ingest:
                    r = bench_ingest(fresh(backend), args.requests, args.threads, args.batch,
                                     env={"KB_SQLITE_SYNCHRONOUS": "NORMAL"})
                    ingest_rows.append(("sqlite (synchronous=NORMAL)", r))
                    print(f"ingest sqlite NORMAL: {r}", file=sys.stderr, flush=True)
                if not args.skip_report:
                    rr = bench_report(fresh(backend), args.events, args.keep if backend == "sqlite" else None)
                    report_rows.append((backend, rr))
                    print(f"report {backend}: {rr}", file=sys.stderr, flush=True)
        finally:
            if pg is not None:
                pg.stop()
    print(f"`{' '.join(['bench/bench_analytics.py', *sys.argv[1:]])}`")
    if ingest_rows:
        print(f"\n### Collector ingest (HTTP on loopback, batches of {args.batch}, {args.threads} connections, "
              f"{os.cpu_count()} CPU cores)\n")
        print("| store | events acknowledged | seconds | events/s | failed requests | stored |")
        print("|---|---:|---:|---:|---:|---:|")
        for backend, r in ingest_rows:
            print(f"| {backend} | {r['events']:,} | {r['seconds']:.1f} | {r['events'] / r['seconds']:,.0f} | "
                  f"{r['failed_requests']} | {r['stored']:,} |")
    if report_rows:
        print("\n### `kb report` on demo traffic (a new process: imports, SQL, gaps, HTML/CSV/JSON)\n")
        print("| store | events | sessions | calls | first report s (CPU s) | next report s (CPU s) "
              "| video's change in calls | demo generation s |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for backend, r in report_rows:
            gen = "reused (--keep)" if r["generate_s"] is None else f"{r['generate_s']:.0f}"
            print(f"| {backend} | {r['events']:,} | {r['sessions']:,} | {r['calls']:,} | {r['cold_s']:.1f} "
                  f"({r['cold_cpu_s']:.1f}) | {r['warm_s']:.1f} ({r['warm_cpu_s']:.1f}) | {r['video_change']:+.1f}% | "
                  f"{gen} |")
        print("\nFirst report: the failing queries are embedded (all-MiniLM-L6-v2 in numpy, no torch); "
              "next reports read the embeddings cached in the store. CPU s: user time of the report process.")


if __name__ == "__main__":
    main()
