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
from typing import Annotated, Any, Literal

import anyio
from fastapi import FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import RedirectResponse, Response

from kb_tools.errors import SearchIndexError
from kb_tools.service import errors
from kb_tools.service.errors import ApiError, error_response
from kb_tools.service.index import IndexHolder, Loader, default_loader
from kb_tools.service.ratelimit import BodyLimitMiddleware, RateLimitMiddleware
from kb_tools.service.settings import ServiceSettings
from kb_tools.service.static import StaticFolder, cached_body, representation
from kb_tools.service.widget import build_widget

log = logging.getLogger("kb.serve")

MAX_K = 50
MAX_BODY = 64 * 1024
LANG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
SLUG = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$"
Mode = Literal["hybrid", "lexical", "semantic"]


class SearchRequest(BaseModel):
    """Body of POST /api/search: the same fields as the query string of GET /api/search."""

    model_config = ConfigDict(extra="forbid")
    q: str = Field(description="What the shopper typed.")
    lang: str | None = Field(None, pattern=LANG, description="Language of the answers (en, bn, gu, ...).")
    k: int = Field(10, ge=1, le=MAX_K, description="How many hits.")
    category: str | None = Field(None, pattern=SLUG)
    product: str | None = Field(None, pattern=SLUG)
    context: str | None = Field(None, max_length=200, description="Where the shopper is, e.g. product:blender-x2.")
    mode: Mode = "hybrid"


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


def create_app(settings: ServiceSettings, *, loader: Loader = default_loader) -> FastAPI:
    """The app for `settings`. `loader` opens an index folder (tests may pass their own)."""
    cores = os.cpu_count() or 1
    holder = IndexHolder(settings.index_dir, loader=loader, reload_interval=settings.reload_interval,
                         torch_threads=max(1, cores // settings.search_threads))
    cache = AnswerCache(settings.cache_size)
    limiter = anyio.CapacityLimiter(settings.search_threads)
    site = StaticFolder(settings.site_dir)
    shop = StaticFolder(settings.shop_dir) if settings.demo_shop else None
    bundle = build_widget()
    widget_etag, widget_gz = cached_body(bundle.body, "text/javascript")
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

    def run_search(req: SearchRequest) -> bytes:
        q = " ".join(req.q.split())
        if not q:
            raise ApiError(422, "missing_query", "Query parameter 'q' is empty: type what you are looking for.")
        if len(q) > settings.max_query_length:
            raise ApiError(422, "query_too_long",
                           f"The query is {len(q)} characters long; the limit is {settings.max_query_length}.")
        loaded = holder.get()
        langs = index_languages(loaded.manifest)
        if req.lang and langs and req.lang not in langs:
            raise ApiError(422, "unknown_language",
                           f"No pages in language '{req.lang}'. Available: {', '.join(map(str, langs))}.")
        mode = req.mode
        if mode != "lexical" and not holder.is_warm(loaded):
            mode = "lexical"  # the model is still loading (the first seconds after start-up)
        key = (q.casefold(), req.lang, req.k, req.category, req.product, req.context, mode, loaded.generation)
        body = cache.get(key)
        if body is not None:
            return body
        t0 = time.perf_counter()
        try:
            hits = holder.search(q, k=req.k, lang=req.lang, mode=mode, category=req.category,
                                 product=req.product, context=req.context)
        except ValueError as e:
            raise ApiError(422, "invalid_parameter", str(e)) from None
        took = round((time.perf_counter() - t0) * 1000, 1)
        body = json.dumps({"hits": [h.to_dict() for h in hits], "mode": mode, "took_ms": took},
                          ensure_ascii=False).encode()
        cache.put(key, body)
        return body

    async def answer(req: SearchRequest) -> Response:
        body = await anyio.to_thread.run_sync(run_search, req, limiter=limiter)
        return Response(body, media_type="application/json",
                        headers={"cache-control": "public, max-age=60"})

    hits_doc = {200: {"description": '`{"hits": [{"url", "title", "section", "snippet", "score", "lang", "kind", "start"}]}`'}}

    @app.get("/api/search", responses=hits_doc, summary="Search the help center")
    async def search_get(
        q: Annotated[str, Query(description="What the shopper typed.")],
        lang: Annotated[str | None, Query(pattern=LANG)] = None,
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        category: Annotated[str | None, Query(pattern=SLUG)] = None,
        product: Annotated[str | None, Query(pattern=SLUG)] = None,
        context: Annotated[str | None, Query(max_length=200)] = None,
        mode: Mode = "hybrid",
    ) -> Response:
        if len(q) > settings.max_query_length * 4:  # before any work on a huge string
            raise ApiError(422, "query_too_long",
                           f"The query is {len(q)} characters long; the limit is {settings.max_query_length}.")
        return await answer(SearchRequest.model_construct(
            q=q, lang=lang, k=k, category=category, product=product, context=context, mode=mode))

    @app.post("/api/search", responses=hits_doc, summary="Search the help center (JSON body)")
    async def search_post(req: SearchRequest) -> Response:
        return await answer(req)

    @app.get("/api/config", summary="Widget settings: assistant and contact channels")
    def config() -> dict[str, Any]:
        current = holder.current
        return {
            "assistant": {"name": settings.assistant_name, "avatar": settings.assistant_avatar},
            "contacts": settings.contacts(),
            "languages": index_languages(current.manifest) if current else [],
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

    _mount_events(app, settings)

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


def index_languages(manifest: dict[str, Any]) -> list[str]:
    """Languages that have chunks in the index (the manifest's counts.lang)."""
    counts = manifest.get("counts")
    langs = counts.get("lang") if isinstance(counts, dict) else None
    return sorted(langs) if isinstance(langs, dict) else []


def _not_found(request: Request, folder: StaticFolder | None) -> Response:
    if folder is not None and "text/html" in request.headers.get("accept", ""):
        page = folder.not_found(request)
        if page is not None:
            return page
    return error_response(404, "not_found", f"There is no page at {request.url.path}.")


def _mount_events(app: FastAPI, settings: ServiceSettings) -> None:
    try:
        from kb_tools.analytics.collector import router
    except ImportError as e:
        log.warning("event collector not available (%s): /api/events is off", e)
        return
    # Its route is POST /api/events. RateLimitMiddleware already limits every /api/ path per
    # client, so the collector does not charge the same request to a second bucket.
    app.include_router(router(settings, rate_limit=0))


__all__ = ["create_app", "SearchRequest", "SearchIndexError"]
