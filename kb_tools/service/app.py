"""The HTTP app of `kb serve`: the search API, the widget bundle, the event collector and the
static help site, in one FastAPI application built by `create_app(settings)`."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Annotated, Any

import anyio
from fastapi import FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import RedirectResponse, Response

from kb_tools.analytics.collector import EventCollector
from kb_tools.analytics.store import EventStore
from kb_tools.httpapi import BodyLimitMiddleware, RateLimitMiddleware, error_response
from kb_tools.search.query import MAX_CONTEXT_CHARS, MAX_K, MODES, SearchQuery
from kb_tools.service import errors
from kb_tools.service.index import IndexHolder
from kb_tools.service.settings import ServiceSettings
from kb_tools.service.static import StaticFolder, cached_body, representation
from kb_tools.service.widget import build_widget

log = logging.getLogger("kb.serve")

MAX_BODY = 64 * 1024


class SearchRequest(BaseModel):
    """Body of POST /api/search; the query string of GET /api/search has the same fields.
    Only the types are checked here: the limits are SearchQuery's (kb_tools/search/query.py)."""

    model_config = ConfigDict(extra="forbid")
    q: str = Field(description="What the shopper typed.")
    lang: str | None = Field(None, description="Only answers in this language (en, bn, gu, ...).")
    k: int = Field(10, description=f"How many hits, 1 to {MAX_K}.")
    category: str | None = Field(None, description="Only answers in this category (a slug).")
    product: str | None = Field(None, description="Only answers about this product (a slug).")
    context: str | None = Field(None, description=f"Where the shopper is, e.g. product:blender-x2 "
                                                  f"(boosts, at most {MAX_CONTEXT_CHARS} characters).")
    mode: str = Field("hybrid", json_schema_extra={"enum": list(MODES)})

    def to_query(self, max_chars: int) -> SearchQuery:
        return SearchQuery.parse(self.q, k=self.k, lang=self.lang, mode=self.mode, category=self.category,
                                 product=self.product, context=self.context, max_chars=max_chars)


class SearchParams(SearchRequest):
    """GET /api/search's query string: unknown parameters (cache busters) are ignored."""

    model_config = ConfigDict(extra="ignore")


class AnswerCache:
    """query -> hits for repeated queries (the launcher's popular questions, a shopper
    retyping). Keyed by index generation, so a new index never serves old answers."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        if self.size <= 0:
            return None
        with self._lock:
            body = self._data.get(key)
            if body is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return body

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = body
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


def create_app(settings: ServiceSettings) -> FastAPI:
    """The app for `settings`."""
    cores = os.cpu_count() or 1
    holder = IndexHolder(settings.index_dir, reload_interval=settings.reload_interval,
                         torch_threads=max(1, cores // settings.search_threads))
    cache = AnswerCache(settings.cache_size)
    limiter = anyio.CapacityLimiter(settings.search_threads)
    site = StaticFolder(settings.site_dir)
    shop = StaticFolder(settings.shop_dir) if settings.demo_shop else None
    bundle = build_widget()
    widget_etag, widget_gz = cached_body(bundle.body, "text/javascript")
    events = EventCollector(EventStore(settings.database_url))
    started = time.time()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Open the index (lexical part: well under a second) before accepting requests; the
        # watcher thread then loads the embedding model, and hybrid search starts once it is in.
        await anyio.to_thread.run_sync(lambda: holder.refresh(warm=False))
        if holder.current is None:
            log.warning("%s", holder.last_error)
        holder.start()
        try:
            yield
        finally:
            holder.stop()
            events.close()

    app = FastAPI(
        title="Help center API (kb serve)",
        version="1",
        description="Search the help center, read the widget's settings and send usage events.",
        docs_url=None,  # Swagger UI would load from a CDN; the spec stays at /openapi.json
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.index = holder
    app.state.cache = cache
    errors.install(app)

    def run_search(query: SearchQuery) -> bytes:
        loaded = holder.get()
        if query.mode != "lexical" and not holder.is_warm(loaded):
            query = replace(query, mode="lexical")  # the model is still loading (the first seconds after start-up)
        key = (replace(query, text=query.text.casefold()), loaded.generation)
        body = cache.get(key)
        if body is not None:
            return body
        t0 = time.perf_counter()
        results = holder.search(query, loaded)
        took = round((time.perf_counter() - t0) * 1000, 1)
        body = json.dumps({**results.to_dict(), "took_ms": took}, ensure_ascii=False).encode()
        cache.put(key, body)
        return body

    async def answer(req: SearchRequest) -> Response:
        query = req.to_query(settings.max_query_length)
        body = await anyio.to_thread.run_sync(run_search, query, limiter=limiter)
        return Response(body, media_type="application/json",
                        headers={"cache-control": "public, max-age=60"})

    hits_doc = {200: {"description": '`{"hits": [{"url", "title", "section", "snippet", "score", "lang", "kind", "start"}], "mode", "took_ms"}`'}}

    @app.get("/api/search", responses=hits_doc, summary="Search the help center")
    async def search_get(params: Annotated[SearchParams, Query()]) -> Response:
        return await answer(params)

    @app.post("/api/search", responses=hits_doc, summary="Search the help center (JSON body)")
    async def search_post(req: SearchRequest) -> Response:
        return await answer(req)

    @app.get("/api/config", summary="Widget settings: assistant and contact channels")
    def config() -> dict[str, Any]:
        current = holder.current
        return {
            "assistant": {"name": settings.assistant_name, "avatar": settings.assistant_avatar},
            "contacts": settings.contacts(),
            "languages": current.searcher.languages if current else [],
        }

    @app.get("/healthz", summary="Service and index status")
    def healthz() -> Response:
        info = {"status": "ok" if holder.current else "no_index", "uptime_s": round(time.time() - started, 1),
                "index": holder.health(),
                "cache": {"size": cache.size, "hits": cache.hits, "misses": cache.misses}}
        if holder.current is None:
            return error_response(503, "index_unavailable", holder.last_error or "no index loaded", **info)
        return Response(json.dumps(info).encode(), media_type="application/json",
                        headers={"cache-control": "no-store"})

    @app.api_route("/widget.js", methods=["GET", "HEAD"], include_in_schema=False)
    def widget_js(request: Request) -> Response:
        return representation(request, body=bundle.body, gz=widget_gz, etag=widget_etag,
                              kind="text/javascript; charset=utf-8", cache="public, max-age=300")

    # POST /api/events. RateLimitMiddleware below limits it with every other /api/ path.
    events.install(app)

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    def api_not_found(request: Request, rest: str) -> Response:
        return error_response(404, "not_found",
                              f"Nothing at {request.url.path}. The API has /api/search, /api/config and /healthz.")

    if shop is not None:
        @app.api_route("/examples/shop", methods=["GET", "HEAD"], include_in_schema=False)
        def shop_root(request: Request) -> Response:
            return RedirectResponse(request.url.replace(path="/examples/shop/"), status_code=301)

        @app.api_route("/examples/shop/{rel:path}", methods=["GET", "HEAD"], include_in_schema=False)
        def shop_file(request: Request, rel: str) -> Response:
            return shop.response(request, rel) or _not_found(request, None)

    @app.api_route("/{rel:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def site_file(request: Request, rel: str) -> Response:
        return site.response(request, rel) or _not_found(request, site)

    # Last added runs first: CORS answers preflights and decorates every response, including
    # the 413/429 the limits send.
    app.add_middleware(RateLimitMiddleware, rate=settings.rate_limit, burst=settings.rate_burst,
                       trust_proxy=settings.trust_proxy)
    app.add_middleware(BodyLimitMiddleware, limit=MAX_BODY)
    origins = list(settings.allowed_origins)
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                       allow_headers=["content-type"], max_age=86400)
    return app


def _not_found(request: Request, folder: StaticFolder | None) -> Response:
    if folder is not None and "text/html" in request.headers.get("accept", ""):
        page = folder.not_found(request)
        if page is not None:
            return page
    return error_response(404, "not_found", f"There is no page at {request.url.path}.")


__all__ = ["create_app", "SearchRequest"]
