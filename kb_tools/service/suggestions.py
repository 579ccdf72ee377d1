"""What the widget suggests before the shopper types: up to five articles and videos for the
shop page they are on, else the answers most read in their language.

A page's signals are the widget's `data-context` (`product:blender-x2`, `category:orders`,
`order:with-courier`, `page:checkout`...) and the words of the shop page's path
(`/products/blender-x2`, `/checkout/`). They are matched against what writers put in each
article's and video's front matter, as the search index keeps it for every chunk: `products`
(a product slug named by the context or found in the path counts most), `category`, then the
words of `tags` and titles. Without a match, the most viewed help pages in the shopper's
language over the last 30 days come from the analytics store (`page_view` events).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("kb.serve")

WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words of shop URLs and contexts that say nothing about a topic.
STOP = {"html", "htm", "php", "asp", "aspx", "index", "www", "example", "examples", "shop", "store", "the",
        "and", "for", "with", "page", "your", "you", "how", "what", "can", "are", "not", "item", "items"}
POPULAR_DAYS = 30
POPULAR_TTL = 600.0  # seconds a language's most-viewed list is kept


@dataclass(frozen=True)
class HelpPage:
    """One article or video as suggestions see it (from its chunks' metadata)."""

    url: str
    key: str  # the URL without its language folder: translations share it
    title: str
    kind: str
    lang: str
    summary: str
    category: str
    products: frozenset[str]
    words: frozenset[str]  # of its tags and title

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "title": self.title, "section": "", "kind": self.kind, "lang": self.lang,
                "start": 0.0 if self.kind == "video" else None, "snippet": "", "summary": self.summary}


def words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.casefold()) if len(w) > 2 and w not in STOP}


def parse_context(context: str | None) -> dict[str, list[str]]:
    """`product:blender-x2,order:with-courier` -> {"product": ["blender-x2"], "order": [...]}."""
    out: dict[str, list[str]] = {}
    for part in (context or "").split(","):
        name, sep, value = part.partition(":")
        if sep and name.strip() and value.strip():
            out.setdefault(name.strip().lower(), []).append(value.strip().lower())
    return out


class Suggester:
    """Suggestions from the chunks of one loaded index (their metadata, never their text)."""

    def __init__(self, chunks: Sequence[Any], languages: Sequence[str] = ()) -> None:
        pages: dict[str, HelpPage] = {}
        langs = set(languages) | {getattr(c, "lang", "") for c in chunks}
        for c in chunks:
            url = getattr(c, "page_url", "") or getattr(c, "url", "")
            if not url or url in pages:
                continue
            first, _, rest = url.partition("/")
            key = rest if first in langs and rest else url
            pages[url] = HelpPage(
                url=url, key=key, title=c.title, kind=c.kind, lang=c.lang, summary=getattr(c, "summary", ""),
                category=getattr(c, "category", "") or "", products=frozenset(getattr(c, "products", ()) or ()),
                words=frozenset(words(" ".join([c.title, *(getattr(c, "tags", ()) or ())]))),
            )
        self.pages = list(pages.values())
        self.by_url = pages

    def for_page(self, context: str | None, page: str | None, lang: str | None, k: int = 5) -> list[dict[str, Any]]:
        """The best `k` pages for a shop page (its context and path), in `lang` where a
        translation exists; [] when nothing matches."""
        ctx = parse_context(context)
        path = (page or "").casefold()
        products = set(ctx.get("product", []))
        categories = set(ctx.get("category", []))
        signal = words(path) | {w for name, values in ctx.items() if name != "lang" for v in values for w in words(v)}
        scored: dict[str, tuple[float, HelpPage]] = {}
        for p in self.pages:
            score = 0.0
            if p.products & products or any(_named_in(slug, path) for slug in p.products):
                score += 4
            if p.category and (p.category in categories or _named_in(p.category, path)):
                score += 2
            score += len(p.words & signal)
            if score <= 0:
                continue
            best = scored.get(p.key)
            better = best is None or (p.lang == lang) > (best[1].lang == lang) or (
                (p.lang == lang) == (best[1].lang == lang) and score > best[0])
            if better:
                scored[p.key] = (score, p)
        ranked = sorted(scored.values(), key=lambda sp: (-sp[0], sp[1].kind != "article", sp[1].title))
        return [p.to_dict() for _, p in ranked[:k]]

    def by_urls(self, urls: Sequence[str], lang: str | None, k: int = 5) -> list[dict[str, Any]]:
        """The pages at `urls` (best first) that the index knows, one per translation."""
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for url in urls:
            p = self.by_url.get(url.lstrip("/"))
            if p is None or p.key in seen or (lang and p.lang != lang):
                continue
            seen.add(p.key)
            out.append(p.to_dict())
            if len(out) == k:
                break
        return out


def _named_in(slug: str, path: str) -> bool:
    """Whether `slug` (blender-x2) is one of the path's segments or words (/p/blender-x2.html)."""
    return bool(slug) and re.search(rf"(?<![a-z0-9]){re.escape(slug.casefold())}(?![a-z0-9])", path) is not None


class MostViewed:
    """The help pages most viewed per language, from the analytics store, refreshed every
    POPULAR_TTL seconds. Without a store (or when it fails) there are none."""

    def __init__(self, store: Callable[[], Any] | None, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._lists: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def pages(self, lang: str) -> list[str]:
        now = self._clock()
        with self._lock:
            cached = self._lists.get(lang)
            if cached is not None and now - cached[0] < POPULAR_TTL:
                return cached[1]
        found = self._query(lang, now)
        with self._lock:
            self._lists[lang] = (now, found)
            while len(self._lists) > 32:
                self._lists.popitem(last=False)
        return found

    def _query(self, lang: str, now: float) -> list[str]:
        if self._store is None:
            return []
        try:
            import sqlalchemy as sa

            from kb_tools.analytics.store import events

            store = self._store()
            since = int((now - POPULAR_DAYS * 86400) * 1000)
            views = sa.func.count().label("views")
            q = (sa.select(events.c.page, views)
                 .where(events.c.name == "page_view", events.c.ts >= since,
                        sa.or_(events.c.lang == lang, events.c.lang.like(f"{lang}-%")))
                 .group_by(events.c.page).order_by(views.desc(), events.c.page).limit(50))
            with store.engine.connect() as conn:
                return [row.page for row in conn.execute(q)]
        except Exception as e:  # noqa: BLE001 - suggestions must not fail because analytics does
            log.warning("most viewed pages unavailable: %s", e)
            return []
