"""`kb serve`'s faster paths answer exactly as the slower ones they replace (no timing here:
bench/bench_load.py measures the CPU)."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI, Query, Request
from starlette.testclient import TestClient

from kb_tools.service import errors
from kb_tools.service.app import SearchParams, search_params

QUERY_STRINGS = [
    "q=refund", "q=refund&k=3", "q=refund&k=03", "q=refund&k=+4", "q=refund&k=3.0", "q=refund&k=3.5", "q=refund&k=1e2",
    "q=refund&k=", "q=refund&k=abc", "q=refund&k=-1", "q=refund&k=10&k=20&lang=en&lang=bn", "q=a&q=b",
    "", "k=3", "lang=bn", "cachebuster=1", "q=", "q=%20", "q=refund&mode=semantic", "q=refund&mode=fast",
    "q=refund&mode=", "q=refund&lang=", "q=refund&category=returns&product=blender-x2",
    "q=refund&context=product:blender-x2", "q=refund&extra=1&extra=2&_=17", "q=%E0%A6%AB%E0%A7%87%E0%A6%B0%E0%A6%A4",
    "q=%00%00", "q=%ED%A0%80", "q=refund&k=true", "q=refund&k=10&k=x", "q=refund&k=x&k=10", "Q=refund", "q=refund&q=",
    "q=" + "x" * 3000,
]


def reference_and_fast() -> TestClient:
    """One app with both: FastAPI's parameter model (what GET /api/search used) and ours."""
    app = FastAPI()
    errors.install(app)

    @app.get("/reference")
    async def reference(params: Annotated[SearchParams, Query()]) -> dict:
        return params.model_dump()

    @app.get("/fast")
    async def fast(request: Request) -> dict:
        return search_params(request).model_dump()

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("qs", QUERY_STRINGS)
def test_get_search_parameters_read_as_fastapis_parameter_model_reads_them(qs: str) -> None:
    with reference_and_fast() as c:
        want, got = c.get(f"/reference?{qs}"), c.get(f"/fast?{qs}")
    assert (got.status_code, got.json()) == (want.status_code, want.json())


def test_get_search_is_documented_as_fastapis_parameter_model_documents_it() -> None:
    from kb_tools.service.app import api

    reference = FastAPI()

    @reference.get("/api/search")
    async def search_get(params: Annotated[SearchParams, Query()]) -> None:
        return None

    @reference.post("/api/search")  # kb serve's POST puts the 422 schemas in the spec too
    async def search_post(req: SearchParams) -> None:
        return None

    app = FastAPI()
    app.include_router(api)
    want = reference.openapi()["paths"]["/api/search"]["get"]
    got = app.openapi()["paths"]["/api/search"]["get"]
    assert [p["name"] for p in got["parameters"]] == list(SearchParams.model_fields)
    assert got["parameters"] == want["parameters"] and got["responses"]["422"] == want["responses"]["422"]
