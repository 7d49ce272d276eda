"""The FastAPI application: routers, error table, offline map assets."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.responses import Response

from api import auth
from api.admission import Admission
from api.csrf import CsrfGuard
from api.errors import ERROR_RESPONSES, register_error_handlers
from api.limits import BodyLimit
from api.routers import assets, attachments, basemap, docs, features, health, maps, tiles
from api.security import SecurityHeaders
from geo.config import get_settings


def create_app() -> FastAPI:
    app = FastAPI(
        title="riskmap 县区安全风险四色图",
        description="四色安全风险图、管道占压排查、巡查路线规划的数据与地图服务。坐标为 CGCS2000（EPSG:4490）经纬度。",
        version="0.1.0",
        docs_url=None,  # served offline by api.routers.docs
        redoc_url=None,
    )
    register_error_handlers(app)
    # Outermost first: security headers on every answer, then the body read in full (size and time limits), then
    # CSRF checked, then a slot taken.
    settings = get_settings()
    app.add_middleware(Admission)  # bounded requests in flight per cost class, user and address
    app.add_middleware(CsrfGuard)  # cookie-authenticated writes come from our own pages
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, total_s=settings.body_timeout_s,
                       idle_s=settings.body_idle_timeout_s, narrower=attachments.upload_limits(settings))
    app.add_middleware(SecurityHeaders)  # CSP nonce per request, CSP on pages, nosniff, no framing
    # Public: health (for monitors), the login itself, and the pages' static files under /vendor and /static.
    app.include_router(health.router)
    app.include_router(assets.router)
    app.include_router(docs.router)
    app.include_router(auth.router)
    login = [Depends(auth.current_principal)]
    for router in (features.router, maps.router, basemap.router, attachments.router):
        app.include_router(router, dependencies=login, responses=ERROR_RESPONSES)
    # Every tile route takes a read connection (api.deps.ConnDep), which resolves the login on that same connection:
    # one pooled connection and transaction per tile instead of two (tests/security/test_sessions.py checks that
    # no route of this router is left without a login).
    app.include_router(tiles.router, responses=ERROR_RESPONSES)
    for module in _optional_routers():
        app.include_router(module.router, dependencies=login, responses=ERROR_RESPONSES)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app


def _optional_routers() -> list:  # type: ignore[type-arg]
    """Routers of domain packages that may not be installed yet in a partial checkout."""
    import importlib

    out = []
    for name in ("api.routers.risk", "api.routers.encroachment", "api.routers.summary", "api.routers.plans",
                 "api.routers.admin", "api.routers.ogc", "api.routers.province",
                 # workbench pages (HTML, not in the OpenAPI schema): one module per area
                 "api.routers.home_pages", "api.routers.ledger_pages", "api.routers.dossier_pages",
                 "api.routers.plan_pages", "api.routers.data_pages", "api.routers.admin_pages",
                 "api.routers.field"):
        try:
            out.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return out
