"""The API documentation pages, /docs (Swagger UI) and /redoc, from npm packages the app serves itself.

FastAPI's own pages load Swagger UI from a CDN (blank on a bureau intranet) and start it with an inline
script; these pages take both from /vendor and /static, so they run under the same CSP as every page.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.security import nonce_of
from layers.web import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return HTMLResponse(render("api_docs.html", nonce=nonce_of(request), openapi_url=request.app.openapi_url))


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return HTMLResponse(render("api_redoc.html", nonce=nonce_of(request), openapi_url=request.app.openapi_url))
