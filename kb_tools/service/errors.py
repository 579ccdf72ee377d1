"""One JSON error shape for every 4xx/5xx the API sends: {"error": code, "detail": message}.

FastAPI's own shapes (`{"detail": [...]}` for validation, `{"detail": "Not Found"}`) are
replaced here, and nothing ever answers with a traceback.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from kb_tools.errors import SearchIndexError

log = logging.getLogger("kb.serve")

CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 413: "payload_too_large",
    414: "uri_too_long", 415: "unsupported_media_type", 422: "invalid_request",
    429: "rate_limited", 500: "internal_error", 503: "unavailable",
}
WHERE = {"query": "Query parameter", "body": "Field", "path": "Path parameter", "header": "Header"}


class ApiError(Exception):
    """Raised by endpoints for an answer in the error shape."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or {}


def error_response(http_status: int, code: str, detail: str, headers: dict[str, str] | None = None,
                   **extra: Any) -> Response:
    body = json.dumps({"error": code, "detail": detail, **extra}, ensure_ascii=False).encode()
    return Response(body, status_code=http_status, media_type="application/json",
                    headers={"cache-control": "no-store", **(headers or {})})


def describe_validation(exc: RequestValidationError) -> tuple[str, str]:
    """(code, one readable sentence) for the first problem; never echoes the input back."""
    errors = exc.errors()
    if not errors:
        return "invalid_request", "The request is not valid."
    err = errors[0]
    loc = [str(p) for p in err.get("loc", ())]
    kind = err.get("type", "")
    if kind == "json_invalid":
        ctx = err.get("ctx") or {}
        where = f" ({ctx['error']})" if isinstance(ctx.get("error"), str) else ""
        return "invalid_json", f"The request body is not valid JSON{where}."
    where = WHERE.get(loc[0], loc[0].capitalize()) if loc else "Request"
    name = ".".join(loc[1:])
    if kind == "missing":
        if loc[:1] == ["body"] and not name:
            return "missing_body", "The request needs a JSON body."
        return "missing_parameter", f"{where} '{name}' is required."
    msg = str(err.get("msg", "is not valid")).rstrip(".")
    if kind in ("model_attributes_type", "dict_type") and not name:
        return "invalid_json", "The request body must be a JSON object."
    return "invalid_parameter", f"{where} '{name}': {msg}." if name else f"{where}: {msg}."


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        code, detail = describe_validation(exc)
        return error_response(422, code, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else "The request failed."
        if exc.status_code == 404:
            detail = f"Nothing at {request.url.path}. The API has /api/search, /api/config and /healthz."
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return error_response(exc.status_code, code, detail, dict(exc.headers or {}))

    @app.exception_handler(SearchIndexError)
    async def _no_index(request: Request, exc: SearchIndexError) -> Response:
        return error_response(503, "index_unavailable", str(exc), {"retry-after": "10"})

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error",
                              "Something went wrong on our side; the error was logged. Please try again.")
