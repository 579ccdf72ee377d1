"""`kb serve` answers every 4xx/5xx in the one shape of kb_tools.httpapi: FastAPI's own errors
(validation, 404, 405, crashes) and the search's own — a query outside the limits (422) and a
missing or broken index (503). Nothing ever answers with a traceback."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from kb_tools.errors import SearchIndexError
from kb_tools.httpapi import error_response, install_error_handlers
from kb_tools.search.query import QueryError

API_PATHS = "The API has /api/search, /api/section, /api/suggest, /api/config, /api/events and /healthz."


async def _bad_query(request: Request, exc: QueryError) -> Response:
    return error_response(422, exc.code, exc.message)


async def _no_index(request: Request, exc: SearchIndexError) -> Response:
    return error_response(503, "index_unavailable", str(exc), {"retry-after": "10"})


def install(app: FastAPI) -> None:
    install_error_handlers(app, not_found_hint=API_PATHS,
                           domain={QueryError: _bad_query, SearchIndexError: _no_index})
