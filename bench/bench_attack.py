"""Shoppers under attack: `kb serve` with legitimate searches and events while attackers run
in parallel, on SQLite and on PostgreSQL (issue 11).

    .venv/bin/python -m bench.bench_attack [--chunks 10000] [--duration 20] [--backends sqlite,postgresql]

For each store, `kb serve` runs as in production (rate limit on at its defaults, behind a
trusted proxy: KB_TRUST_PROXY, every client has its own address in X-Forwarded-For) over
bench_load's scaled index, hybrid search ready. Phases of --duration seconds each, in the same
run: shoppers alone, then the same shoppers with each attack alone, then all three at once:

- regex payload: 15 requests/s of 57 comments of "a" * 1000 (64 kB; the pattern that froze
  the server for 14.8 s), from one address;
- NUL events: 4 connections posting batches with a NUL byte in every text field, from 4
  addresses, as fast as they are answered;
- slowloris: 300 connections that send half a request and never finish it, reopened (at most
  50 a second) when the server closes them.

A probe asks /healthz every 0.2 s (5 s timeout). Shoppers: 4 closed-loop search clients (every query different, each request from one of 200
shopper addresses) and 2 event senders (a batch of 10 events every 0.25 s each). Every role
runs in its own process, all on loopback, everything bounded by --duration. Prints a Markdown
table: the shoppers' p50/p99 and errors, events accepted and rejected, and what the attackers
got.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.bench_load import (
    cpu_seconds,
    free_port,
    index_of,
    percentile,
    varied_queries,
    wait_hybrid,
)
from bench.search_common import search_clients

ROOT = Path(__file__).resolve().parent.parent
SHOPPERS = [f"198.51.100.{i}" for i in range(1, 201)]
P99_BUDGET_MS = 300


def event(query: str, session: str, **props: object) -> dict:
    return {"name": "search", "session": session, "ts": int(time.time() * 1000), "source": "widget",
            "url": "/", "lang": "en", "props": {"query": query, "results": 3, **props}}


# -- the roles, each in its own process ------------------------------------------------------

def searcher(base: str, duration: float, clients: int, seed: int) -> dict:
    """Shoppers searching, each request from one of many addresses (the rate limit is per address)."""
    def addresses(i: int):
        rng = random.Random(seed * 100 + i)
        return lambda: {"x-forwarded-for": rng.choice(SHOPPERS)}

    res = search_clients(base, clients, duration, varied_queries(20_000, seed=seed), headers=addresses, timeout=30)
    return {**res, "samples": res["error_samples"]}


def event_sender(base: str, duration: float, clients: int, seed: int) -> dict:
    import httpx

    counts = {"sent": 0, "accepted": 0, "rejected": 0, "events": 0}
    samples: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker(i: int) -> None:
        rng = random.Random(seed * 100 + i)
        with httpx.Client(base_url=base, timeout=30) as c:
            n = 0
            while time.perf_counter() < deadline:
                session = f"shopper{i:02d}x{n:08d}abcdef"
                batch = {"batch": f"b{seed}-{i}-{n}-{rng.getrandbits(40):x}".ljust(16, "0"),
                         "events": [event(f"refund status {n} {k}", session) for k in range(10)]}
                n += 1
                try:
                    r = c.post("/api/events", content=json.dumps(batch),
                               headers={"content-type": "text/plain", "x-forwarded-for": rng.choice(SHOPPERS)})
                    ok = r.status_code == 204
                except httpx.HTTPError as e:
                    ok, r = False, None
                    samples.append(repr(e))
                with lock:
                    counts["sent"] += 1
                    counts["accepted" if ok else "rejected"] += 1
                    counts["events"] += 10 if ok else 0
                    if not ok and r is not None and len(samples) < 3:
                        samples.append(f"{r.status_code} {r.text[:100]}")
                time.sleep(0.25)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {**counts, "samples": samples}


def regex_payload(base: str, duration: float, rate: float = 15.0) -> dict:
    """The issue's freeze: 57 comments of 'a' * 1000 per request, 15 requests/s, one address."""
    import httpx

    session = "attacker_regex_0000001"
    body = json.dumps({"events": [{"name": "feedback", "session": session, "ts": int(time.time() * 1000),
                                   "url": "/", "props": {"url": "/", "helpful": False, "comment": "a" * 1000}}] * 57})
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + duration
    with httpx.Client(base_url=base, timeout=30) as c:
        next_at = time.perf_counter()
        while time.perf_counter() < deadline:
            try:
                r = c.post("/api/events", content=body,
                           headers={"content-type": "text/plain", "x-forwarded-for": "203.0.113.66"})
                key = str(r.status_code)
            except httpx.HTTPError as e:
                key = type(e).__name__
            statuses[key] = statuses.get(key, 0) + 1
            next_at += 1 / rate
            time.sleep(max(0.0, next_at - time.perf_counter()))
    return {"statuses": statuses, "bytes": len(body)}


def nul_events(base: str, duration: float, connections: int = 4) -> dict:
    import httpx

    statuses: dict[str, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker(i: int) -> None:
        batch = json.dumps({"events": [event("x\u0000y", f"attacker_nul_{i:010d}", top=["/a\u0000b/"])] * 10})
        with httpx.Client(base_url=base, timeout=30) as c:
            while time.perf_counter() < deadline:
                try:
                    r = c.post("/api/events", content=batch,
                               headers={"content-type": "application/json", "x-forwarded-for": f"203.0.113.{10 + i}"})
                    key = str(r.status_code)
                except httpx.HTTPError as e:
                    key = type(e).__name__
                with lock:
                    statuses[key] = statuses.get(key, 0) + 1
                if key == "429":
                    time.sleep(0.05)  # the limit said so; come back for the next token

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"statuses": statuses}


def slowloris(base: str, duration: float, connections: int = 300, reopen_per_s: float = 50.0) -> dict:
    host, port = base.removeprefix("http://").split(":")
    start = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
    socks: list[socket.socket] = []
    opened = closed = 0
    deadline = time.perf_counter() + duration
    budget = 0.0
    last = time.perf_counter()
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        budget = min(connections, budget + (now - last) * reopen_per_s if socks else connections)
        last = now
        while len(socks) < connections and budget >= 1:
            try:
                s = socket.create_connection((host, int(port)), timeout=5)
                s.sendall(start)
                s.setblocking(False)
                socks.append(s)
                opened += 1
            except OSError:
                break
            budget -= 1
        alive = []
        for s in socks:  # a closed connection reads b"" (or a 408 and then b"")
            try:
                data = s.recv(4096)
            except BlockingIOError:
                alive.append(s)
                continue
            except OSError:
                data = b""
            if data and not data.startswith(b"HTTP"):
                alive.append(s)
                continue
            s.close()
            closed += 1
        socks = alive
        time.sleep(0.1)
    for s in socks:
        s.close()
    return {"opened": opened, "closed_by_server": closed}


def healthz(base: str, duration: float, every: float = 0.2) -> dict:
    """Whether the server still answers: /healthz every `every` s (5 s timeout each)."""
    import httpx

    answered, failed, slowest = 0, 0, 0.0
    deadline = time.perf_counter() + duration
    with httpx.Client(base_url=base, timeout=5) as c:
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            try:
                ok = c.get("/healthz").status_code == 200
            except httpx.HTTPError:
                ok = False
            slowest = max(slowest, (time.perf_counter() - t) * 1000)
            answered += ok
            failed += not ok
            time.sleep(max(0.0, every - (time.perf_counter() - t)))
    return {"answered": answered, "failed": failed, "slowest_ms": slowest}


ROLES = {"search": searcher, "events": event_sender, "regex": regex_payload, "nul": nul_events,
         "slowloris": slowloris, "healthz": healthz}
ATTACKS = {"none": [], "regex payload": ["regex"], "NUL events": ["nul"], "slowloris": ["slowloris"],
           "all three": ["regex", "nul", "slowloris"]}


def spawn(role: str, **kwargs: object) -> subprocess.Popen:
    # The role's settings travel on the command line: a closed stdin pipe makes communicate() fail.
    return subprocess.Popen([sys.executable, "-m", "bench.bench_attack", "--role", role, "--spec", json.dumps(kwargs)],
                            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def collect(proc: subprocess.Popen, timeout: float) -> dict:
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        sys.exit(f"a bench process failed:\n{err[-3000:]}")
    return json.loads(out)


# -- the orchestrator -------------------------------------------------------------------------

def start_server(index: Path, port: int, db_url: str) -> subprocess.Popen:
    env = {**os.environ, "KB_TRUST_PROXY": "true", "KB_DATABASE_URL": db_url}
    env.pop("KB_RATE_LIMIT", None)  # the defaults, as shipped
    cmd = [str(Path(sys.executable).with_name("kb")), "serve", "--index-dir", str(index),
           "--site-dir", str(ROOT / "site"), "--port", str(port), "--log-level", "error"]
    # The server's log goes to a file: an unread pipe fills up and then blocks the server.
    log = open(Path(tempfile.mkdtemp(prefix="kb-bench-attack-log-")) / "kb-serve.log", "wb")  # noqa: SIM115
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)


def phase(base: str, duration: float, attackers: list[str], seed: int) -> dict:
    procs = {"search": spawn("search", base=base, duration=duration, clients=4, seed=seed),
             "events": spawn("events", base=base, duration=duration, clients=2, seed=seed),
             "healthz": spawn("healthz", base=base, duration=duration)}
    for role in attackers:
        procs[role] = spawn(role, base=base, duration=duration)
    return {role: collect(p, duration + 300) for role, p in procs.items()}


def stored_events(db_url: str) -> int:
    """Shoppers' events in the store (the attackers' sanitised events are stored too)."""
    import sqlalchemy as sa

    from kb_tools.analytics.store import EventStore, events

    store = EventStore(db_url)
    try:
        with store.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(events)
                                .where(events.c.session.like("shopper%"))).scalar_one()
    finally:
        store.close()


def run_backend(name: str, db_url: str, index: Path, duration: float) -> list[list[object]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(index, port, db_url)
    rows = []
    try:
        wait_hybrid(base, proc)
        for n, (attack, attackers) in enumerate(ATTACKS.items()):
            before = stored_events(db_url)
            cpu0 = cpu_seconds(proc.pid)
            res = phase(base, duration, attackers, seed=7 + n)
            cpu = cpu_seconds(proc.pid) - cpu0
            lat = res["search"]["latencies"]
            ev, hz = res["events"], res["healthz"]
            for role in ("search", "events"):
                if res[role].get("samples"):
                    print(f"{name} {attack} {role} errors, e.g.: {res[role]['samples']}", file=sys.stderr)
            got = []
            if "regex" in res:
                got.append(f"regex {sum(res['regex']['statuses'].values())} ({_codes(res['regex']['statuses'])})")
            if "nul" in res:
                got.append(f"NUL {sum(res['nul']['statuses'].values())} ({_codes(res['nul']['statuses'])})")
            if "slowloris" in res:
                sl = res["slowloris"]
                got.append(f"slowloris {sl['opened']} opened, {sl['closed_by_server']} closed by the server")
            rows.append([name, attack, f"{hz['answered']}/{hz['answered'] + hz['failed']}", f"{hz['slowest_ms']:.0f}",
                         len(lat), f"{percentile(lat, 50):.1f}", f"{percentile(lat, 99):.1f}",
                         res["search"]["errors"], ev["sent"], ev["rejected"], stored_events(db_url) - before,
                         f"{cpu / duration * 100:.0f} %", "; ".join(got) or "—"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return rows


def _codes(statuses: dict[str, int]) -> str:
    return ", ".join(f"{n}× {code}" for code, n in sorted(statuses.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--role", choices=sorted(ROLES), help=argparse.SUPPRESS)
    ap.add_argument("--spec", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.role:
        spec = json.loads(args.spec)
        spec["duration"] = min(float(spec["duration"]), 600)  # bounded, whatever the caller asks
        print(json.dumps(ROLES[args.role](**spec)))
        return

    load_before = os.getloadavg()[0]
    index = index_of(args.chunks)
    chunks = json.loads((index / "manifest.json").read_text())["chunks"]
    rows: list[list[object]] = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            db = Path(tempfile.mkdtemp(prefix="kb-bench-attack-")) / "analytics.db"
            rows += run_backend("SQLite", f"sqlite:///{db}", index, args.duration)
        elif backend == "postgresql":
            from tests.pg_server import TemporaryPostgres

            with TemporaryPostgres(fsync=True) as pg:
                rows += run_backend("PostgreSQL", pg.url, index, args.duration)
        else:
            sys.exit(f"unknown backend {backend!r}: use sqlite and/or postgresql")

    print(f"\n`kb serve` with attackers in parallel: {chunks} chunks, hybrid search, rate limit on "
          f"(defaults), {os.cpu_count()} CPU cores, {args.duration:.0f} s per phase, load average of the "
          f"machine before the run {load_before:.1f}\n")
    headers = ["store", "attack", "/healthz answered", "slowest /healthz ms", "searches", "p50 ms", "p99 ms",
               "search errors", "event batches sent", "rejected", "events stored", "server CPU", "attackers got"]
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for r in rows:
        print("| " + " | ".join(str(v) for v in r) + " |")
    worst = max(float(r[6]) for r in rows)
    failed = sum(int(r[7]) for r in rows) + sum(int(r[9]) for r in rows)
    failed += sum(int(str(r[2]).split("/")[1]) - int(str(r[2]).split("/")[0]) for r in rows)
    verdict = "holds" if worst <= P99_BUDGET_MS and failed == 0 else "FAILS"
    print(f"\nBudget (issue 11): /healthz always answers, shoppers' p99 ≤ {P99_BUDGET_MS} ms, 0 errors, "
          f"0 events rejected — {verdict} "
          f"(worst p99 {worst:.1f} ms, {failed} failed).")


if __name__ == "__main__":
    main()
