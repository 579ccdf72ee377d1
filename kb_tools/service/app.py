"""The HTTP app of `kb serve`: the search API, the widget bundle, the event collector and the
static help site, in one FastAPI application built by `create_app(settings)`.

The routes are defined here at module level; `create_app` builds what they share (a
`Service`: the live index, the answer cache, the search threads, the static folders,
the widget bundle, the event collector), stores it in `app.state.service` and includes the
routers. Handlers get it with the `ServiceDep` dependency.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from kb_tools.analytics.collector import EventCollector
from kb_tools.analytics.store import EventStore
from kb_tools.httpapi import BodyLimitMiddleware, RateLimitMiddleware, error_response
from kb_tools.search.query import MAX_CONTEXT_CHARS, MAX_K, MODES, SearchQuery
from kb_tools.service import assistant, errors
from kb_tools.service.cache import AnswerCache
from kb_tools.service.index import IndexHolder
from kb_tools.service.sections import SiteSections
from kb_tools.service.security import SecurityHeadersMiddleware
from kb_tools.service.settings import ServiceSettings
from kb_tools.service.static import (
    PublishedSite,
    StaticFolder,
    cached_body,
    local_redirect,
    representation,
)
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


@dataclass(frozen=True)
class Widget:
    """/widget.js, built once: the bytes, their gzip form and the ETag."""

    body: bytes
    gz: bytes | None
    etag: str

    @classmethod
    def build(cls) -> Widget:
        body = build_widget().body
        etag, gz = cached_body(body, "text/javascript")
        return cls(body, gz, etag)


@dataclass
class Service:
    """What the handlers of one app share; built by `create_app`."""

    settings: ServiceSettings
    index: IndexHolder
    cache: AnswerCache
    searches: ThreadPoolExecutor  # the search threads (see `answer`)
    site: PublishedSite  # the generation that matches the loaded index
    shop: StaticFolder | None  # the demo shop, when enabled
    widget: Widget
    events: EventCollector
    assistant: assistant.Assistant  # /api/section and /api/suggest
    started: float = field(default_factory=time.time)

    @classmethod
    def build(cls, settings: ServiceSettings) -> Service:
        cores = len(os.sched_getaffinity(0)) or 1
        per_search = max(1, cores // settings.search_threads)
        # Searches run side by side, each on its own share of the cores: the encoder's OpenMP
        # threads too (read when the model loads, after this; an explicit setting wins), and
        # the encoder runs that many passes at once (cores / threads each): with more searches
        # than that, the queries that wait for a pass share the next one.
        os.environ.setdefault("KB_ENCODER_THREADS", str(per_search))
        index = IndexHolder(settings.index_dir, reload_interval=settings.reload_interval,
                            torch_threads=per_search)
        events = EventCollector(EventStore(settings.database_url), allowed_origins=settings.allowed_origins)

        def index_fingerprint() -> str | None:  # the site generation built with the loaded index
            current = index.current
            return current.searcher.manifest.get("fingerprint") if current else None

        return cls(
            settings=settings,
            index=index,
            cache=AnswerCache(settings.cache_size),
            searches=search_threads(settings.search_threads),
            site=PublishedSite(settings.site_dir, index_fingerprint),
            shop=StaticFolder(settings.shop_dir) if settings.demo_shop else None,
            widget=Widget.build(),
            events=events,
            assistant=assistant.Assistant(SiteSections(settings.site_dir), index, lambda: events.store),
        )

    def search(self, query: SearchQuery) -> bytes:
        """The JSON answer to ``query`` (runs in a worker thread: searching is CPU-bound)."""
        loaded = self.index.get()
        if query.mode != "lexical" and not self.index.is_warm(loaded):
            query = replace(query, mode="lexical")  # the model is still loading (the first seconds after start-up)
        key = (replace(query, text=query.text.casefold()), loaded.generation)
        body = self.cache.get(key)
        if body is not None:
            return body
        t0 = time.perf_counter()
        results = self.index.search(query, loaded)
        took = round((time.perf_counter() - t0) * 1000, 1)
        body = json.dumps({**results.to_dict(), "took_ms": took}, ensure_ascii=False).encode()
        self.cache.put(key, body)
        return body


async def current_service(request: Request) -> Service:  # async: no thread hop
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(current_service)]

# -- the API ------------------------------------------------------------------------------------

api = APIRouter()
HITS_DOC = {200: {"description": '`{"hits": [{"url", "title", "section", "snippet", "score", "lang", "kind", '
                                 '"start", "confidence"}], "answered", "query_lang", "mode", "took_ms"}`: when '
                                 '`answered` is false the hits are the nearest pages, none of them is the answer'}}


def search_threads(n: int) -> ThreadPoolExecutor:
    """The pool the searches run on (see `answer`): its threads start with the first searches
    and end with the app's lifespan."""
    return ThreadPoolExecutor(n, thread_name_prefix="kb-search")


async def answer(svc: Service, req: SearchRequest) -> Response:
    """The search runs on one of the search threads, in the order the searches were asked for.
    A thread that finishes a search takes the next waiting one at once: with anyio's thread
    limiter a thread's turn passed on only once the event loop had taken the answer, and under
    load the loop (which needs the GIL the searches hold in turn) came round 5-20 ms later,
    each time, while the searches queued behind it waited (bench.bench_load --trace)."""
    query = req.to_query(svc.settings.max_query_length)
    run = contextvars.copy_context().run
    body = await asyncio.get_running_loop().run_in_executor(svc.searches, run, svc.search, query)
    return Response(body, media_type="application/json", headers={"cache-control": "public, max-age=60"})


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI parameters of ``model``'s fields read from the query string, as FastAPI
    writes them for ``Annotated[model, Query()]`` (tests/test_service_speed.py compares)."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        described = {"description": prop["description"]} if "description" in prop else {}
        out.append({**described, "in": "query", "name": name, "required": name in required, "schema": prop})
    return out


def search_params(request: Request) -> SearchParams:
    """GET /api/search's query string as SearchParams, validated as FastAPI validates
    ``Annotated[SearchParams, Query()]``: the last value of a repeated parameter, unknown
    ones ignored, errors located in the query (tests/test_service_speed.py compares the two).
    FastAPI's own parameter model inspects the model's annotations on every request: the event
    loop spent 0.90-0.96 ms of CPU a request with it, 0.63-0.76 without (8 clients, the search
    stubbed to a fixed answer, load 9)."""
    try:
        return SearchParams.model_validate(dict(request.query_params))
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("query", *err["loc"])}
                                      for err in e.errors(include_url=False)]) from None


@api.get("/api/search", summary="Search the help center", openapi_extra={"parameters": query_parameters(SearchParams)},
         responses={**HITS_DOC, 422: {"description": "Validation Error", "content": {"application/json": {
             "schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}}})
async def search_get(request: Request) -> Response:
    return await answer(request.app.state.service, search_params(request))


@api.post("/api/search", responses=HITS_DOC, summary="Search the help center (JSON body)")
async def search_post(req: SearchRequest, svc: ServiceDep) -> Response:
    return await answer(svc, req)


@api.get("/api/config", summary="Widget settings: assistant and contact channels")
def config(svc: ServiceDep) -> dict[str, Any]:
    current, settings = svc.index.current, svc.settings
    return {
        "assistant": {"name": settings.assistant_name, "avatar": settings.assistant_avatar},
        **settings.contacts(),  # "timezone" and "contacts": the handoff channels
        "languages": current.searcher.languages if current else [],
    }


@api.get("/healthz", summary="Service and index status")
def healthz(svc: ServiceDep) -> Response:
    holder, cache = svc.index, svc.cache
    from kb_tools.search.encoders import query_passes

    info = {"status": "ok" if holder.current else "no_index", "uptime_s": round(time.time() - svc.started, 1),
            "index": holder.health(),
            "cache": {"size": cache.size, "hits": cache.hits, "misses": cache.misses},
            "encoder": query_passes()}
    if holder.current is None:
        return error_response(503, "index_unavailable", holder.last_error or "no index loaded", **info)
    return Response(json.dumps(info).encode(), media_type="application/json", headers={"cache-control": "no-store"})


@api.api_route("/widget.js", methods=["GET", "HEAD"], include_in_schema=False)
def widget_js(request: Request, svc: ServiceDep) -> Response:
    w = svc.widget
    return representation(request, body=w.body, gz=w.gz, etag=w.etag, kind="text/javascript; charset=utf-8",
                          cache="public, max-age=300")


# The help site's scripts ask this path whether `kb serve` is there (kb-site.js). The build writes
# it as a static file saying {"api": false}, so on a static host the question gets a quiet answer
# instead of a 404; here the answer is yes.
@api.api_route("/assets/kb/api.json", methods=["GET", "HEAD"], include_in_schema=False)
def site_api_probe() -> Response:
    return Response(b'{"api": true}\n', media_type="application/json", headers={"cache-control": "no-cache"})


# Included after every /api/ route (the event collector's too): the rest of /api/ is a JSON 404.
api_fallback = APIRouter(include_in_schema=False)


@api_fallback.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def api_not_found(request: Request, rest: str) -> Response:
    return error_response(404, "not_found", f"Nothing at {request.url.path}. {errors.API_PATHS}")


# -- static files -------------------------------------------------------------------------------

shop_pages = APIRouter(include_in_schema=False)  # included with --demo-shop only


@shop_pages.api_route("/examples/shop", methods=["GET", "HEAD"])
def shop_root(request: Request) -> Response:
    return local_redirect(request, "/examples/shop/")


@shop_pages.api_route("/examples/shop/{rel:path}", methods=["GET", "HEAD"])
def shop_file(request: Request, rel: str, svc: ServiceDep) -> Response:
    assert svc.shop is not None  # the router is only included with a shop
    return svc.shop.response(request, rel) or _not_found(request, None)


site_pages = APIRouter(include_in_schema=False)  # included last: it answers every other path


@site_pages.api_route("/{rel:path}", methods=["GET", "HEAD"])
def site_file(request: Request, rel: str, svc: ServiceDep) -> Response:
    return svc.site.response(request, rel) or _not_found(request, svc.site)


def _not_found(request: Request, folder: StaticFolder | PublishedSite | None) -> Response:
    if folder is not None and "text/html" in request.headers.get("accept", ""):
        page = folder.not_found(request)
        if page is not None:
            return page
    return error_response(404, "not_found", f"There is no page at {request.url.path}.")


# -- the app ------------------------------------------------------------------------------------

@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    svc: Service = app.state.service
    holder = svc.index
    # Open the index (lexical part: well under a second) before accepting requests; the
    # watcher thread then loads the embedding model, and hybrid search starts once it is in.
    await anyio.to_thread.run_sync(lambda: holder.refresh(warm=False))
    if holder.current is None:
        log.warning("%s", holder.last_error)
    holder.start()
    # A pool of its own for each run of the app (an app started again after a shutdown, as
    # tests do, gets live threads), ended with it: searches still running finish, queued
    # ones are dropped (their requests are gone), and no idle search thread outlives the app.
    previous, svc.searches = svc.searches, search_threads(svc.settings.search_threads)
    previous.shutdown(wait=False)
    try:
        yield
    finally:
        holder.stop()
        svc.events.close()
        svc.searches.shutdown(wait=True, cancel_futures=True)


def create_app(settings: ServiceSettings) -> FastAPI:
    """The app for `settings`."""
    app = FastAPI(
        title="Help center API (kb serve)",
        version="1",
        description="Search the help center, read the widget's settings and send usage events.",
        docs_url=None,  # Swagger UI would load from a CDN; the spec stays at /openapi.json
        redoc_url=None,
        lifespan=lifespan,
    )
    svc = app.state.service = Service.build(settings)
    errors.install(app)
    app.include_router(api)
    app.include_router(assistant.router)
    svc.events.install(app)  # POST /api/events, limited below with every other /api/ path
    app.include_router(api_fallback)
    if svc.shop is not None:
        app.include_router(shop_pages)
    app.include_router(site_pages)
    # Last added runs first: CORS answers preflights and decorates every response, including
    # the 413/429 the limits send.
    app.add_middleware(RateLimitMiddleware, rate=settings.rate_limit, burst=settings.rate_burst,
                       trust_proxy=settings.trust_proxy, trusted_hops=settings.trusted_hops)
    app.add_middleware(BodyLimitMiddleware, limit=MAX_BODY)
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.allowed_origins), allow_methods=["GET", "POST"],
                       allow_headers=["content-type"], max_age=86400)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: every response, the limits' too
    return app


__all__ = ["Service", "SearchRequest", "create_app"]
