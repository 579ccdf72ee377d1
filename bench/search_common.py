"""Shared helpers of the search benchmarks: a private copy of the sample site, its page
records as the plugin hands them to ``build_index``, and Markdown tables."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "results" / "search"  # gitignored; caches persist between runs

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

from kb_tools.search.encoders import DEFAULT_MODEL  # noqa: E402 (after the environment it reads)


def project_copy(name: str = "site") -> Path:
    """A fresh copy of the sample project's content (its caches are kept)."""
    dest = WORK / name
    dest.mkdir(parents=True, exist_ok=True)
    for folder in ("docs", "videos"):
        shutil.rmtree(dest / folder, ignore_errors=True)
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, dest / folder)
    for f in ("mkdocs.yml", "policy.yml"):
        if (ROOT / f).exists():
            shutil.copy2(ROOT / f, dest / f)
    return dest


def collect_records(project: Path) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Run `mkdocs build` in-process and capture what the kb plugin passes to build_index
    (without building the index)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    import kb_tools.search.build as build_mod

    captured: dict[str, Any] = {}

    def capture(pages, videos, out_dir, page_chunks=None, **kw):  # type: ignore[no-untyped-def]
        # The settings only: callers chunk the (possibly modified) pages themselves.
        captured.update(pages=list(pages), videos=list(videos), out_dir=out_dir, kw=kw)
        return {"chunks": 0}

    real = build_mod.build_index
    build_mod.build_index = capture  # type: ignore[assignment]
    cwd = os.getcwd()
    try:
        os.chdir(project)
        os.environ["KB_SEARCH"] = "true"
        cfg = load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"))
        build(cfg)
    finally:
        os.chdir(cwd)
        build_mod.build_index = real  # type: ignore[assignment]
    if not captured:
        sys.exit("the kb plugin did not call build_index: is `search: true` set for plugin kb?")
    return captured["pages"], captured["videos"], captured["kw"]


def records_from_docs(project: Path) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Fallback when the site does not build: render docs/ with Python-Markdown (same
    extensions), substitute policy facts, one PageRecord per article (no video records)."""
    import re

    import markdown
    import yaml

    from kb_tools.records import PageRecord

    policy = yaml.safe_load((project / "policy.yml").read_text(encoding="utf-8")) or {}
    digits = {"bn": "০১২৩৪৫৬৭৮৯", "gu": "૦૧૨૩૪૫૬૭૮૯"}

    def fact(m: re.Match[str], lang: str) -> str:
        value: Any = policy
        for key in m.group(1).split("."):
            value = value.get(key, "") if isinstance(value, dict) else ""
        text = str(value)
        if m.group(2) and lang in digits:
            text = "".join(digits[lang][int(ch)] if ch.isdigit() else ch for ch in text)
        return text

    docs = project / "docs"
    pages = []
    for path in sorted(docs.rglob("*.md")):
        rel = path.relative_to(docs).as_posix()
        if rel.endswith("index.md"):
            continue
        raw = path.read_text(encoding="utf-8")
        meta: dict[str, Any] = {}
        if raw.startswith("---"):
            _, fm, raw = raw.split("---", 2)
            meta = yaml.safe_load(fm) or {}
        lang = rel.split("/")[0] if rel.split("/")[0] in ("bn", "gu") else "en"
        raw = re.sub(r"^\s*\{\{\s*video\(.*?\)\s*\}\}\s*$", "", raw, flags=re.M)
        raw = re.sub(r"\{\{\s*policy\.([\w.]+)\s*(\|\s*digits)?\s*\}\}", lambda m, lang=lang: fact(m, lang), raw)
        html = markdown.markdown(raw, extensions=["toc", "admonition", "attr_list", "md_in_html", "tables", "def_list"])
        pages.append(PageRecord(
            url=rel[:-3] + "/", title=str(meta.get("title", rel)), html=html, lang=lang,
            summary=str(meta.get("summary", "")), category=str(meta.get("category", "")),
            products=tuple(meta.get("products") or ()), tags=tuple(meta.get("tags") or ()),
            contact_topic=str(meta.get("contact_topic", "")), src_path=rel,
        ))
    kw = {"model": DEFAULT_MODEL, "query_prefix": "", "passage_prefix": "",
          "cache_dir": project / ".kb_cache", "progress": True}
    return pages, [], kw


def site_records(project: Path) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """The plugin's records, or the fallback renderer's when the site does not build."""
    try:
        return collect_records(project)
    except (Exception, SystemExit) as e:  # the site is work in progress: say so, carry on
        print(f"note: mkdocs build failed ({str(e).splitlines()[-1][:200] if str(e) else type(e).__name__}); "
              "indexing docs/ rendered by the bench's fallback renderer (no videos)", file=sys.stderr)
        return records_from_docs(project)


def sample_index(project: Path, model: str | None = None) -> Path:
    """The sample site's index, built (or reused) with the site's settings, or with the
    encoder ``model`` instead of the site's."""
    from kb_tools.search import build_index

    pages, videos, kw = site_records(project)
    out = project / "search_index"
    kw = {**kw, "cache_dir": project / ".kb_cache", "progress": True}
    if model:
        kw["model"] = model
    build_index(pages, videos, out, **kw)
    return out


def timed_run(cmd: list[str], cwd: Path, repeat: int = 3) -> float:
    """Median wall time of a command (seconds)."""
    import time

    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, "KB_PROGRESS": "0"})
        times.append(time.perf_counter() - t)
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed in {cwd}:\n{r.stderr[-3000:]}")
    return statistics.median(times)


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile p (0–100); NaN for no values."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))] if s else float("nan")


def table(headers: list[str], rows: list[list[object]]) -> str:
    def fmt(v: object) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def search_clients(base: str, clients: int, duration: float, queries: list[str], *,
                   params: dict[str, Any] | None = None,
                   headers: Callable[[int], Callable[[], dict[str, str]]] | None = None,
                   timeout: float = 10, timeline: bool = False) -> dict:
    """`clients` threads, each on its own keep-alive connection, send /api/search one after
    another for `duration` seconds (bounded), each query its own (client i takes queries i,
    i + clients, ...). `headers(i)` gives client i a function returning each request's extra
    headers. Returns the latencies (ms) of answered requests and the failures (a status other
    than 200, a body without hits, a transport error); with `timeline`, also each answered
    request's [query, sent, received] (``time.perf_counter``, for bench.load_trace)."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    stamps: list[list[Any]] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + duration

    def worker(i: int) -> None:
        mine: list[float] = []
        bad: list[str] = []
        times: list[list[Any]] = []
        extra = headers(i) if headers else dict
        n = i
        with httpx.Client(base_url=base, timeout=timeout) as c:
            while time.perf_counter() < deadline:
                q = queries[n % len(queries)]
                n += clients
                t = time.perf_counter()
                try:
                    r = c.get("/api/search", params={"q": q, "k": 10, **(params or {})}, headers=extra())
                    if r.status_code != 200 or not isinstance(r.json().get("hits"), list):
                        bad.append(f"{r.status_code} {r.text[:100]}")
                except httpx.HTTPError as e:
                    bad.append(repr(e))
                    continue
                done = time.perf_counter()
                mine.append((done - t) * 1000)
                times.append([q, t, done])
        with lock:
            latencies.extend(mine)
            errors.extend(bad)
            stamps.extend(times)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = {"requests": len(latencies) + len(errors), "seconds": time.perf_counter() - start,
           "latencies": latencies, "errors": len(errors), "error_samples": errors[:3]}
    return {**out, "timeline": stamps} if timeline else out
