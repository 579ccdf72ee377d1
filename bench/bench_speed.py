"""Search speed: query latency at 1k/10k/100k chunks next to the floor (encode the query +
top-k over the same vectors), cold build throughput next to raw model.encode, and the warm
rebuild next to a plain mkdocs-material build.

    .venv/bin/python -m bench.bench_speed [--sizes 1000,10000,100000] [--skip-build] [--skip-latency]
        [--skip-rebuild] [--build-pages N] [--tail] [--own] [--dump FILE]

Prints Markdown tables. The sample index is scaled synthetically: perturbed copies of the
real chunks (a tenth of the words dropped, a copy number added) with their real vectors
plus small noise, so the lexical and vector sides both do realistic work; each copy keeps its
original's heading vector (headings.npy), so the answer decision compares the question with
the hits' headings as on a real index (before round 12 the synthetic index had none and its
searches left that step out).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.search_common import (
    WORK,
    percentile,
    project_copy,
    sample_index,
    site_records,
    table,
    timed_run,
)

QUERIES = [
    "how do I return an item", "where is my order", "refund not received", "change delivery address",
    "cancel my order", "cash on delivery fee", "bkash payment failed", "international shipping cost",
    "blender leaking", "reset password", "delete my account", "invoice for my order",
    "how long does delivery take outside dhaka", "warranty claim for ceiling fan", "wrong item delivered",
    "parcel missing", "refund to card how many days", "track order number", "newsletter unsubscribe",
    "speak to a human", "rice cooker not heating", "descale kettle", "change payment method",
    "damaged box on arrival", "customs duty", "ফেরত", "রিফান্ড কবে পাবো", "অর্ডার ট্র্যাক",
    "ઓર્ડર રદ કરો", "રિફંડ", "retrun polcy", "AND OR NOT * ?", "blender x2 speeds",
]


def _load_queries() -> list[str]:
    path = Path(__file__).with_name("queries.yaml")
    qs = list(QUERIES)
    if path.exists():
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if isinstance(data, dict):
            data = data.get("queries", [])
        qs += [d["q"] for d in data if isinstance(d, dict) and d.get("q")]
    return qs


def synthetic_index(index_dir: Path, n: int) -> Path:
    """An index of ``n`` chunks made of perturbed copies of the sample's chunks."""
    import numpy as np

    from kb_tools.search.build import CHUNKS, HEADINGS, MANIFEST, SiteWords, _write
    from kb_tools.search.chunking import Chunk

    manifest = json.loads((index_dir / MANIFEST).read_text())
    # An index of another encoder (--model) gets its own copy: the two do not rebuild each other's.
    model = str(manifest.get("model") or "")
    other = model and model != "multilingual-e5-small" and not Path(model).is_absolute()
    out = WORK / (f"synthetic-{n}-{model}" if other else f"synthetic-{n}")
    if (out / MANIFEST).exists():
        m = json.loads((out / MANIFEST).read_text())
        if (m.get("chunks") == n and m.get("source") == manifest["fingerprint"] and m.get("schema") == manifest["schema"]
                and _has_headings(out, n)):
            return out
    base = [Chunk.from_json(d) for d in json.loads((index_dir / CHUNKS).read_text())]
    vecs = np.load(index_dir / "vectors.npy")
    # Each chunk's heading vector, as a real index has them (build.HEADINGS): the searcher
    # compares the question with the hits' headings for the answer decision. Until round 12
    # the synthetic index had none, so its searches skipped that step (~0.16 ms a search).
    heads = np.load(index_dir / HEADINGS)
    if heads.shape != (len(base), vecs.shape[1]):
        sys.exit(f"{index_dir / HEADINGS} has shape {heads.shape}, not ({len(base)}, {vecs.shape[1]}): "
                 f"rebuild the sample index (delete {index_dir} and run this again)")
    rng = random.Random(42)
    nrng = np.random.default_rng(42)
    chunks, rows = [], []
    for i in range(n):
        j = i % len(base)
        copy = i // len(base)
        c = base[j]
        if copy == 0:
            chunks.append(c)
        else:
            ws = c.text.split()
            ws = [w for w in ws if rng.random() > 0.1] + [f"copy{copy}"]
            page = c.page_url.rstrip("/") + f"-{copy}/"
            chunks.append(Chunk(**{**c.__dict__, "text": " ".join(ws), "page_url": page,
                                   "url": c.url.replace(c.page_url, page, 1)}))
        rows.append(j)
    matrix = vecs[rows] + nrng.normal(0, 0.02, size=(n, vecs.shape[1])).astype("float32")
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    t = time.perf_counter()
    # A copy's heading is its original's (the same title and section): the same vector.
    _write(out, chunks, matrix.astype("float32"), {**manifest, "source": manifest["fingerprint"]}, t, SiteWords({}),
           heads[rows])
    print(f"built a synthetic index of {n} chunks in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return out


def _has_headings(folder: Path, n: int) -> bool:
    """The index in ``folder`` has a heading vector for each of its ``n`` chunks."""
    import numpy as np

    from kb_tools.search.build import HEADINGS, VECTORS

    try:
        heads = np.load(folder / HEADINGS, mmap_mode="r")
        vecs = np.load(folder / VECTORS, mmap_mode="r")
    except (OSError, ValueError):
        return False
    return bool(heads.shape == (n, vecs.shape[1]) and vecs.shape[1])


def latency(index_dir: Path, sizes: list[int], rounds: int) -> str:
    import numpy as np

    from kb_tools.search import Searcher

    rows = []
    queries = _load_queries()
    for n in sizes:
        folder = synthetic_index(index_dir, n)
        s = Searcher(folder)
        s.warm_up()
        enc = s.encoder
        enc.cache_size = 0  # every search encodes its query, as a new query would
        vectors = s.vectors
        floor, hybrid, lexical = [], [], []
        floor_cpu, hybrid_cpu = [], []  # process CPU ms (both encoder threads): what a busy machine inflates least
        for _ in range(rounds):
            for q in queries:
                t, c = time.perf_counter(), time.process_time()
                qv = enc.encode_queries([q])[0]
                scores = vectors @ qv
                np.argpartition(-scores, min(50, len(scores) - 1))[:50]
                floor.append((time.perf_counter() - t) * 1000)
                floor_cpu.append((time.process_time() - c) * 1000)
                t, c = time.perf_counter(), time.process_time()
                s.search(q)
                hybrid.append((time.perf_counter() - t) * 1000)
                hybrid_cpu.append((time.process_time() - c) * 1000)
                t = time.perf_counter()
                s.search(q, mode="lexical")
                lexical.append((time.perf_counter() - t) * 1000)
        f50, h50 = percentile(floor, 50), percentile(hybrid, 50)
        rows.append([n, len(hybrid), round(f50, 1), round(percentile(floor, 99), 1), round(h50, 1),
                     round(percentile(hybrid, 99), 1), f"{h50 / f50:.2f}×", round(percentile(lexical, 50), 1),
                     round(percentile(lexical, 99), 1), round(percentile(floor_cpu, 99), 1),
                     round(percentile(hybrid_cpu, 99), 1)])
        s.close()
    return table(["chunks", "queries", "floor p50 ms", "floor p99 ms", "hybrid p50 ms", "hybrid p99 ms",
                  "hybrid p50 / floor", "lexical p50 ms", "lexical p99 ms", "floor p99 CPU ms",
                  "hybrid p99 CPU ms"], rows)


def own_work(index_dir: Path, n: int, rounds: int) -> str:
    """Search's own work, the encoder left out: each query's vector is encoded first (of the
    text the search encodes), then the hybrid search runs with it (``candidates`` with
    ``query_vector``, ``rank``, ``answered``: what ``Searcher.search`` does besides encoding)
    and every stage is timed (wall and thread CPU). Per language as read; the CPU figures are
    what a busy machine inflates least."""
    from kb_tools.search import Searcher
    from kb_tools.search.query import SearchQuery

    s = Searcher(synthetic_index(index_dir, n) if n else index_dir)
    s.warm_up()
    texts = [SearchQuery.parse(q).text for q in _load_queries()]
    vectors = []
    for text in texts:
        lang = s.query_language(text)
        vectors.append(s.encoder.encode_query(s.encoder_text(text, lang, s.lexical.build_query(text, lang))))
    spent: dict[str, list[float]] = {}
    remove = _stage_timers(s, spent)
    per_query: list[tuple[str, float, float, dict[str, tuple[float, float]]]] = []
    try:
        for _ in range(rounds):
            for text, vector in zip(texts, vectors, strict=True):
                spent.clear()
                w, c = time.perf_counter(), time.thread_time()
                cands = s.candidates(text, "hybrid", query_vector=vector)
                features: list[dict[str, float]] = []
                hits = s.rank(cands, "hybrid", 10, features=features)
                s.answered(text, hits, features)
                per_query.append((cands.query_lang or "", (time.perf_counter() - w) * 1000,
                                  (time.thread_time() - c) * 1000, {k: (v[0], v[1]) for k, v in spent.items()}))
    finally:
        remove()
        s.close()
    labels = [label for label, _, _ in STAGES if label != "encode the query"]
    rows = []
    for label in labels:
        cpu = [p[3].get(label, (0.0, 0.0))[1] for p in per_query]
        rows.append([label, round(sum(cpu) / len(cpu), 3), round(percentile(cpu, 50), 3), round(percentile(cpu, 99), 3)])
    for lang in [None, *sorted({p[0] for p in per_query})]:
        ps = [p for p in per_query if lang is None or p[0] == lang]
        cpu, wall = [p[2] for p in ps], [p[1] for p in ps]
        rows.append([f"whole, {lang or 'every query'} ({len(ps)})", round(sum(cpu) / len(cpu), 3),
                     round(percentile(cpu, 50), 3), round(percentile(cpu, 99), 3),
                     round(percentile(wall, 50), 3), round(percentile(wall, 99), 3)])
    for r in rows:
        r += [""] * (6 - len(r))
    return (f"{len(per_query)} hybrid searches at {n or 'the sample'} chunks, query vectors given (the encoder "
            f"left out):\n\n" + table(["stage / searches", "CPU ms, mean", "CPU p50", "CPU p99", "wall p50", "wall p99"],
                                       rows))


def dump(index_dir: Path, sizes: list[int], path: Path) -> None:
    """Every result of every query at each size, in hybrid and lexical mode (hits with their
    score, confidence and snippet, ``answered``, the language read) and each hybrid hit's
    answer features unrounded, as JSON lines in ``path``: two revisions whose dumps are
    byte-identical rank, score and decide alike (a speed change must leave them so). Copy this
    file into an exported older revision to dump that one."""
    from kb_tools.search import Searcher

    queries = _load_queries()
    with path.open("w", encoding="utf-8") as out:
        for n in sizes:
            s = Searcher(synthetic_index(index_dir, n) if n else index_dir)
            s.warm_up()
            for q in queries:
                row: dict[str, Any] = {"chunks": n, "q": q}
                for mode in ("hybrid", "lexical"):
                    r = s.search(q, mode=mode)
                    row[mode] = {"answered": r.answered, "lang": r.query_lang, "hits": [h.to_dict() for h in r]}
                features: list[dict[str, float]] = []
                s.rank(s.candidates(q, "hybrid"), "hybrid", 10, features=features)
                row["features"] = [{k: repr(v) for k, v in sorted(f.items())} for f in features]
                out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            s.close()
    print(f"wrote {path}: {len(queries)} queries x {len(sizes)} sizes", file=sys.stderr)


# The stages of one hybrid search (as bench_load --stages names them), timed per query.
STAGES = (
    ("language detection", "searcher", "query_language"),
    ("lexical query (analysis, spelling, romanized)", "lexical", "build_query"),
    ("lexical search", "lexical", "search"),
    ("encoder text (loanwords, romanized reading)", "searcher", "encoder_text"),
    ("encode the query", "encoder", "encode_query"),
    ("vector top-k, centring", "searcher", "_semantic"),
    ("fusion, boosts, grouping, features", "searcher", "rank"),
    ("snippets", "module", "snippet"),
    ("answer decision", "searcher", "answered"),
)


def _stage_timers(s: Any, spent: dict[str, list[float]]) -> Callable[[], None]:
    """Wrap each stage of ``s``'s searches so every call adds (wall ms, thread CPU ms) to
    ``spent[stage]`` (nested stages are subtracted from their caller: ``rank`` excludes the
    snippets). Returns the function that removes the wrappers."""
    import kb_tools.search.searcher as searcher_mod

    owners = {"searcher": s, "lexical": s.lexical, "encoder": s.encoder, "module": searcher_mod}
    undo: list[Callable[[], None]] = []
    stack: list[list[float]] = []  # wall and CPU of nested stages, per open stage

    def wrap(owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*a: Any, **kw: Any) -> Any:
            stack.append([0.0, 0.0])
            w, c = time.perf_counter(), time.process_time()
            try:
                return inner(*a, **kw)
            finally:
                dw, dc = (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000
                nested = stack.pop()
                if stack:
                    stack[-1][0] += dw
                    stack[-1][1] += dc
                acc = spent.setdefault(label, [0.0, 0.0])
                acc[0] += dw - nested[0]
                acc[1] += dc - nested[1]

        setattr(owner, name, timed)
        if owner is s or owner is s.lexical or owner is s.encoder:
            undo.append(lambda: delattr(owner, name))
        else:
            undo.append(lambda: setattr(owner, name, inner))

    for label, owner, name in STAGES:
        wrap(owners[owner], name, label)

    def remove() -> None:
        for u in undo:
            u()

    return remove


def tail(index_dir: Path, n: int, rounds: int, share: float = 0.02) -> str:
    """Where the slowest ``share`` of hybrid searches spend their time: every stage of every
    query timed (wall and thread CPU), garbage-collector pauses counted per query, and the
    floor (encode + top-k) of the same query measured just before it."""
    import gc

    import numpy as np

    from kb_tools.search import Searcher
    from kb_tools.search.analyzer import detect_script

    queries = _load_queries()
    s = Searcher(synthetic_index(index_dir, n))
    s.warm_up()
    enc = s.encoder
    enc.cache_size = 0
    gc_ms: list[float] = [0.0]
    gc_gens: list[int] = []
    gc_start = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_ms[0] += (time.perf_counter() - gc_start[0]) * 1000
            gc_gens.append(info.get("generation", -1))

    def floor_of(text: str) -> float:
        t = time.perf_counter()
        qv = enc.encode_queries([text])[0]
        scores = s.vectors @ qv
        np.argpartition(-scores, min(50, len(scores) - 1))[:50]
        return (time.perf_counter() - t) * 1000

    def tokens(text: str) -> int | None:
        """How many tokens the encoder reads for ``text`` (None for an encoder that cannot say)."""
        count = getattr(getattr(enc, "model", None), "token_count", None)
        return int(count(text, True)) if callable(count) else None

    spent: dict[str, list[float]] = {}
    remove = _stage_timers(s, spent)
    encoded: list[str] = []  # what the search gave the encoder (a romanized query: + its reading)
    timed_encode = enc.encode_query
    enc.encode_query = lambda text: encoded.append(text) or timed_encode(text)
    gc.callbacks.append(on_gc)
    per_query = []
    try:
        for _ in range(rounds):
            for q in queries:
                floor = floor_of(q)
                spent.clear()
                encoded.clear()
                gc_ms[0] = 0.0
                gc_gens.clear()
                w, c = time.perf_counter(), time.process_time()
                r = s.search(q)
                wall, cpu = (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000
                # The floor of the text the search encoded, measured right after: the rest is search's own.
                floor_read = floor_of(encoded[0]) if encoded and encoded[0] != q else floor
                per_query.append({"q": q, "wall": wall, "cpu": cpu, "floor": floor, "floor_read": floor_read,
                                  "tokens": tokens(encoded[0] if encoded else q),
                                  "gc": gc_ms[0], "gens": tuple(gc_gens),
                                  "stages": {k: tuple(v) for k, v in spent.items()},
                                  "lang": r.query_lang, "script": detect_script(q)})
    finally:
        gc.callbacks.remove(on_gc)
        remove()
        s.close()
    labels = [label for label, _, _ in STAGES]
    for p in per_query:
        p["stages"]["other (SearchQuery, glue)"] = (p["wall"] - sum(v[0] for v in p["stages"].values()),
                                                     p["cpu"] - sum(v[1] for v in p["stages"].values()))
    labels.append("other (SearchQuery, glue)")
    # 1. Each stage's share of the median search and of the slow ones.
    walls = sorted(p["wall"] for p in per_query)
    cut = walls[max(0, int(len(walls) * (1 - share)) - 1)]
    slow = [p for p in per_query if p["wall"] >= cut]
    normal = [p for p in per_query if p["wall"] < cut]

    def mean(ps: list[dict[str, Any]], f: Callable[[dict[str, Any]], float]) -> float:
        return sum(f(p) for p in ps) / len(ps) if ps else float("nan")

    rows = []
    for label in labels:
        def w(p: dict[str, Any], lab: str = label) -> float:
            return p["stages"].get(lab, (0.0, 0.0))[0]

        def c(p: dict[str, Any], lab: str = label) -> float:
            return p["stages"].get(lab, (0.0, 0.0))[1]

        vals = [w(p) for p in per_query]
        rows.append([label, round(percentile(vals, 50), 2), round(percentile(vals, 99), 2),
                     round(mean(normal, w), 2), round(mean(slow, w), 2), round(mean(slow, c), 2)])
    rows.append(["garbage collection (inside the stages above)", round(percentile([p["gc"] for p in per_query], 50), 2),
                 round(percentile([p["gc"] for p in per_query], 99), 2), round(mean(normal, lambda p: p["gc"]), 2),
                 round(mean(slow, lambda p: p["gc"]), 2), ""])
    rows.append(["whole search", round(percentile(walls, 50), 2), round(percentile(walls, 99), 2),
                 round(mean(normal, lambda p: p["wall"]), 2), round(mean(slow, lambda p: p["wall"]), 2),
                 round(mean(slow, lambda p: p["cpu"]), 2)])
    rows.append(["floor (encode + top-k) of the same queries", round(percentile([p["floor"] for p in per_query], 50), 2),
                 round(percentile([p["floor"] for p in per_query], 99), 2), round(mean(normal, lambda p: p["floor"]), 2),
                 round(mean(slow, lambda p: p["floor"]), 2), ""])
    rows.append(["floor of the text the search encodes (a romanized query's reading added)",
                 round(percentile([p["floor_read"] for p in per_query], 50), 2),
                 round(percentile([p["floor_read"] for p in per_query], 99), 2),
                 round(mean(normal, lambda p: p["floor_read"]), 2), round(mean(slow, lambda p: p["floor_read"]), 2), ""])
    own = [p["wall"] - p["floor_read"] for p in per_query]
    rows.append(["search's own (whole search − that floor)", round(percentile(own, 50), 2), round(percentile(own, 99), 2),
                 round(mean(normal, lambda p: p["wall"] - p["floor_read"]), 2),
                 round(mean(slow, lambda p: p["wall"] - p["floor_read"]), 2), ""])
    head = (f"{len(per_query)} hybrid searches at {n} chunks; the slowest {share:.0%} ({len(slow)}, ≥ {cut:.1f} ms) "
            f"against the rest:\n\n")
    out = head + table(["stage", "p50 ms", "p99 ms", "mean ms, rest", f"mean ms, slowest {share:.0%}",
                        f"CPU ms, slowest {share:.0%}"], rows)
    # 2. The slow searches one by one: which stage made each slow (its excess over the stage's median).
    med = {label: percentile([p["stages"].get(label, (0.0, 0.0))[0] for p in per_query], 50) for label in labels}
    qrows = []
    for p in sorted(slow, key=lambda p: -p["wall"]):
        excess = sorted(((p["stages"].get(lab, (0.0, 0.0))[0] - med[lab], lab) for lab in labels), reverse=True)
        top = ", ".join(f"{lab} +{x:.1f}" for x, lab in excess[:2] if x > 0.5)
        gens = f" (gen {','.join(map(str, p['gens']))})" if p["gens"] else ""
        q = p["q"] if len(p["q"]) <= 40 else p["q"][:39] + "…"
        qrows.append([f"`{q}`", p["lang"], p["tokens"] if p["tokens"] is not None else "", round(p["wall"], 1),
                      round(p["cpu"], 1), round(p["floor"], 1), round(p["floor_read"], 1), f"{p['gc']:.1f}{gens}", top])
    out += "\n\n" + table(["query", "read as", "tokens encoded", "wall ms", "CPU ms", "floor ms",
                            "floor of the encoded text ms", "GC ms", "stages above their median (ms)"], qrows)
    # 3. Per language as read: how many tokens the encoder reads, how slow the searches are, and
    # how many of the slowest searches each language makes.
    langs: dict[str, list[dict[str, Any]]] = {}
    for p in per_query:
        langs.setdefault(p["lang"], []).append(p)
    slow_ids = {id(p) for p in slow}
    lrows = []
    for lang, ps in sorted(langs.items(), key=lambda kv: -len(kv[1])):
        toks = [p["tokens"] for p in ps if p["tokens"] is not None]
        lrows.append([lang, len(ps), f"{sum(toks) / len(toks):.1f}" if toks else "", max(toks) if toks else "",
                      round(percentile([p["wall"] for p in ps], 50), 1), round(percentile([p["wall"] for p in ps], 99), 1),
                      sum(id(p) in slow_ids for p in ps)])
    return out + "\n\n" + table(["read as", "searches", "tokens encoded, mean", "tokens encoded, max", "p50 ms", "p99 ms",
                                   f"in the slowest {share:.0%}"], lrows)


def build_speed(project: Path, max_pages: int = 0) -> str:
    from kb_tools.search import build_index
    from kb_tools.search.chunking import chunk_all
    from kb_tools.search.encoders import EncoderSpec, get_encoder

    pages, videos, kw = site_records(project)
    if max_pages:  # a slow encoder on a busy machine: the first pages only, and no videos
        pages, videos = pages[:max_pages], []
    chunks = chunk_all(pages, videos)
    texts = [c.embed_text() for c in chunks]
    t = time.perf_counter()
    encoder = get_encoder(EncoderSpec(kw["model"], kw.get("query_prefix", ""), kw.get("passage_prefix", "")))
    load = time.perf_counter() - t
    encoder.encode_passages(texts[:8])  # warm the kernels
    raw = []
    cold = []
    for _ in range(3):
        t = time.perf_counter()
        encoder.encode_passages(texts)
        raw.append(time.perf_counter() - t)
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            m = build_index(pages, videos, Path(tmp) / "idx", **{**kw, "cache_dir": Path(tmp) / "cache", "progress": False})
            cold.append(time.perf_counter() - t)
            assert m["embedded"] == len(set(texts)), m
    r, c = min(raw), min(cold)
    n = len(chunks)
    return table(
        ["chunks", "raw encode_passages s", "raw chunks/s", "cold build s", "cold build chunks/s", "ratio", "model load s"],
        [[n, round(r, 2), round(n / r, 1), round(c, 2), round(n / c, 1), f"{r / c:.2f}", round(load, 2)]],
    ) + "\n\n(best of 3, interleaved; the cold build starts with an empty embedding cache and the model already loaded)"


def rebuild_speed(project: Path) -> str:
    import yaml

    exe = [sys.executable, "-m", "mkdocs", "build"]
    sample_index(project)  # index and video caches warm
    manifest = project / "search_index" / "manifest.json"
    before = manifest.stat().st_mtime_ns
    kb_search = timed_run(exe, project)
    assert manifest.stat().st_mtime_ns == before, "the warm rebuild rewrote the index"
    import os

    os.environ["KB_SEARCH"] = "false"
    try:
        kb_plain = timed_run(exe, project)
    finally:
        os.environ["KB_SEARCH"] = "true"
    plain = WORK / "plain"
    shutil.rmtree(plain, ignore_errors=True)
    plain.mkdir(parents=True)
    shutil.copytree(project / "docs", plain / "docs")
    cfg = yaml.safe_load((project / "mkdocs.yml").read_text().replace("!ENV", "")) if False else None
    text = (project / "mkdocs.yml").read_text()
    # Same site, Material + its search plugin only.
    start = text.index("plugins:")
    end = text.index("markdown_extensions:")
    (plain / "mkdocs.yml").write_text(text[:start] + "plugins:\n  - search\n\n" + text[end:])
    del cfg
    material = timed_run(exe, plain)
    # The search step alone, in-process: chunk every page, fingerprint, compare, keep.
    from kb_tools.search import build_index

    pages, videos, kw = site_records(project)
    step = []
    for _ in range(5):
        t = time.perf_counter()
        m = build_index(pages, videos, project / "search_index", **{**kw, "progress": False})
        step.append(time.perf_counter() - t)
        assert m["reused"] and m["embedded"] == 0
    warm_step = min(step)
    return table(
        ["build", "median wall s (3 runs)", "vs plain Material"],
        [["plain mkdocs-material (search plugin only)", round(material, 2), "1.00×"],
         ["kb plugin, KB_SEARCH=false", round(kb_plain, 2), f"{kb_plain / material:.2f}×"],
         ["kb plugin, warm search index (0 embedded, not rewritten)", round(kb_search, 2), f"{kb_search / material:.2f}×"]],
    ) + (f"\n\nThe search step adds {kb_search - kb_plain:+.2f} s end to end ({(kb_search - kb_plain) / material:+.1%} of the "
         f"plain build); in-process, the warm `build_index` call takes {warm_step * 1000:.0f} ms "
         f"({warm_step / material:.1%} of the plain build), embeds 0 chunks (tests/test_search_semantic.py checks it imports no torch).")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--tail", action="store_true",
                    help="only the per-stage breakdown of the slowest 2%% of hybrid searches (at the first size)")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--own", action="store_true",
                    help="only search's own work (the encoder left out) per stage and language, at the first size")
    ap.add_argument("--dump", type=Path, metavar="FILE",
                    help="only write every result and answer feature of every query at each size (0: the sample "
                         "itself) to FILE, to compare two revisions byte for byte")
    ap.add_argument("--skip-rebuild", action="store_true")
    ap.add_argument("--model", default="",
                    help="the encoder of the sample's index (default: the site's), e.g. multilingual-e5-small-torch; "
                         "its own copy of the sample and of the synthetic indexes")
    ap.add_argument("--build-pages", type=int, default=0,
                    help="cold build on the first N pages only (default: the whole sample)")
    args = ap.parse_args()
    import os

    os.environ["KB_SEARCH"] = "true"
    project = project_copy(f"site-{args.model}" if args.model else "site")
    index_dir = sample_index(project, args.model or None)
    if args.dump:
        dump(index_dir, [int(x) for x in args.sizes.split(",")], args.dump)
        return
    if args.own:
        size = int(args.sizes.split(",")[0])
        print(f"## Search's own work (machine load average {os.getloadavg()[0]:.1f})\n")
        print(own_work(index_dir, size, args.rounds))
        return
    if args.tail:
        size = int(args.sizes.split(",")[0])
        print(f"## Where the slowest searches spend their time (machine load average {os.getloadavg()[0]:.1f})\n")
        print(tail(index_dir, size, args.rounds))
        return
    if not args.skip_latency:
        print(f"## Query latency (in-process, hybrid, k=10; machine load average {os.getloadavg()[0]:.1f})\n")
        print(latency(index_dir, [int(x) for x in args.sizes.split(",")], args.rounds))
        print()
    if not args.skip_build:
        print(f"## Cold build throughput (machine load average {os.getloadavg()[0]:.1f})\n")
        print(build_speed(project, args.build_pages))
        if not args.skip_rebuild:  # bench_rebuild compares rebuilds in more detail
            print("\n## Warm rebuild\n")
            print(rebuild_speed(project))


if __name__ == "__main__":
    main()
