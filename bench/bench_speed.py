"""Search speed: query latency at 1k/10k/100k chunks next to the floor (encode the query +
top-k over the same vectors), cold build throughput next to raw model.encode, and the warm
rebuild next to a plain mkdocs-material build.

    .venv/bin/python -m bench.bench_speed [--sizes 1000,10000,100000] [--skip-build] [--skip-latency]
        [--skip-rebuild] [--build-pages N]

Prints Markdown tables. The sample index is scaled synthetically: perturbed copies of the
real chunks (a tenth of the words dropped, a copy number added) with their real vectors
plus small noise, so the lexical and vector sides both do realistic work.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

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

    from kb_tools.search.build import CHUNKS, MANIFEST, _write
    from kb_tools.search.chunking import Chunk

    manifest = json.loads((index_dir / MANIFEST).read_text())
    out = WORK / f"synthetic-{n}"
    if (out / MANIFEST).exists():
        m = json.loads((out / MANIFEST).read_text())
        if m.get("chunks") == n and m.get("source") == manifest["fingerprint"] and m.get("schema") == manifest["schema"]:
            return out
    base = [Chunk.from_json(d) for d in json.loads((index_dir / CHUNKS).read_text())]
    vecs = np.load(index_dir / "vectors.npy")
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
    _write(out, chunks, matrix.astype("float32"), {**manifest, "source": manifest["fingerprint"]}, t)
    print(f"built a synthetic index of {n} chunks in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return out


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
        for _ in range(rounds):
            for q in queries:
                t = time.perf_counter()
                qv = enc.encode_queries([q])[0]
                scores = vectors @ qv
                np.argpartition(-scores, min(50, len(scores) - 1))[:50]
                floor.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                s.search(q)
                hybrid.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                s.search(q, mode="lexical")
                lexical.append((time.perf_counter() - t) * 1000)
        f50, h50 = percentile(floor, 50), percentile(hybrid, 50)
        rows.append([n, len(hybrid), round(f50, 1), round(percentile(floor, 99), 1), round(h50, 1),
                     round(percentile(hybrid, 99), 1), f"{h50 / f50:.2f}×", round(percentile(lexical, 50), 1),
                     round(percentile(lexical, 99), 1)])
        s.close()
    return table(["chunks", "queries", "floor p50 ms", "floor p99 ms", "hybrid p50 ms", "hybrid p99 ms",
                  "hybrid p50 / floor", "lexical p50 ms", "lexical p99 ms"], rows)


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
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-rebuild", action="store_true")
    ap.add_argument("--build-pages", type=int, default=0,
                    help="cold build on the first N pages only (default: the whole sample)")
    args = ap.parse_args()
    import os

    os.environ["KB_SEARCH"] = "true"
    project = project_copy("site")
    index_dir = sample_index(project)
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
