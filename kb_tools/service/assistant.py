"""The widget's assistant API: an answer's content to read inside the panel
(`GET /api/section`) and suggestions before typing (`GET /api/suggest`).

Both read what `kb serve` already has — the built site (sections.py) and the loaded search
index's chunk metadata, with the analytics store's most viewed pages as the fallback
(suggestions.py) — and keep bounded caches keyed so that a rebuilt site or a new index is
never answered from memory. Bad input gets the one error shape (4xx)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from kb_tools.httpapi import error_response
from kb_tools.service.sections import SectionError, SiteSections
from kb_tools.service.suggestions import MostViewed, Suggester

LANG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
MAX_SUGGESTIONS = 10


class Assistant:
    """What the two endpoints share: the site's sections and the suggestion caches."""

    def __init__(self, site: SiteSections, index: Any, store: Callable[[], Any] | None, size: int = 256) -> None:
        self.site = site
        self.index = index  # the IndexHolder: .current is the loaded index (searcher, generation)
        self.most_viewed = MostViewed(store)
        self.size = size
        self._suggesters: dict[int, Suggester] = {}
        self._answers: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def suggester(self) -> tuple[int, Suggester]:
        current = self.index.current
        if current is None:
            return 0, Suggester([])
        with self._lock:
            found = self._suggesters.get(current.generation)
            if found is None:
                chunks = getattr(current.searcher, "chunks", None) or []
                found = Suggester(chunks)
                self._suggesters = {current.generation: found}  # only the live index's
        return current.generation, found

    def suggest(self, context: str | None, page: str | None, lang: str | None, k: int) -> bytes:
        generation, suggester = self.suggester()
        key = (generation, context, page, lang, k)
        with self._lock:
            body = self._answers.get(key)
            if body is not None:
                self._answers.move_to_end(key)
                return body
        items, basis = suggester.for_page(context, page, lang, k), "page"
        if not items and lang:
            items, basis = suggester.by_urls(self.most_viewed.pages(lang), lang, k), "popular"
        if not items:
            basis = "none"
        body = json.dumps({"suggestions": items, "basis": basis}, ensure_ascii=False).encode()
        if basis != "popular":  # the most viewed list has its own lifetime (MostViewed)
            with self._lock:
                self._answers[key] = body
                while len(self._answers) > self.size:
                    self._answers.popitem(last=False)
        return body


router = APIRouter()

SECTION_DOC = {200: {"description": '`{"url", "page", "title", "section", "kind", "lang", "html", "video"}`: '
                                    "the section's sanitised HTML with absolute links; for a video, "
                                    '`video` = `{"src", "poster", "tracks", "start"}`'}}
SUGGEST_DOC = {200: {"description": '`{"suggestions": [{"url", "title", "kind", "lang", "start", "summary"}], '
                                    '"basis": "page" | "popular" | "none"}`'}}


def _assistant(request: Request) -> Assistant:
    return request.app.state.service.assistant


@router.get("/api/section", responses=SECTION_DOC, summary="An answer's content, to read inside the widget")
async def section(
    request: Request,
    url: Annotated[str, Query(max_length=500, description="A search hit's url, e.g. returns/return-policy/#the-return-window.")],
    lang: Annotated[str | None, Query(pattern=LANG, description="Shopper's language (a video's transcript).")] = None,
) -> Response:
    base = str(request.base_url)
    try:
        answer = await anyio.to_thread.run_sync(_assistant(request).site.section, url, base, lang)
    except SectionError as e:
        return error_response(e.status, "not_found" if e.status == 404 else "invalid_parameter", str(e))
    return Response(json.dumps(answer, ensure_ascii=False).encode(), media_type="application/json",
                    headers={"cache-control": "public, max-age=60"})


@router.get("/api/suggest", responses=SUGGEST_DOC, summary="Answers to suggest for the shopper's page")
async def suggest(
    request: Request,
    context: Annotated[str | None, Query(max_length=200, description="The widget's data-context, e.g. product:blender-x2.")] = None,
    page: Annotated[str | None, Query(max_length=300, description="Path of the shop page, e.g. /products/blender-x2.")] = None,
    lang: Annotated[str | None, Query(pattern=LANG, description="Shopper's language.")] = None,
    k: Annotated[int, Query(ge=1, le=MAX_SUGGESTIONS)] = 5,
) -> Response:
    body = await anyio.to_thread.run_sync(_assistant(request).suggest, context, page, lang, k)
    return Response(body, media_type="application/json", headers={"cache-control": "public, max-age=60"})
