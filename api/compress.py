"""gzip for the map pages and their tiles, the answers that are large and carry no secret.

Map pages are mostly GeoJSON and server-rendered popups (a ×1 county page: 1.6 MB, 93 KB gzipped) and vector
tiles shrink two- to fourfold. Only these routes compress: pages that carry a CSRF token are left alone (a
compressed secret beside reflected input is what BREACH reads); a map page's only secret, the CSP nonce, is new
in every response.
"""

from __future__ import annotations

import gzip

from starlette.requests import Request

MIN_BYTES = 1024
"""Smaller answers go as they are: the gzip header and the work are not worth it."""
PAGE_LEVEL = 5
TILE_LEVEL = 4


def accepts_gzip(request: Request) -> bool:
    """True when the client's Accept-Encoding lists gzip (or *) with a q above 0."""
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def maybe_gzip(request: Request, body: bytes, *, level: int) -> tuple[bytes, dict[str, str]]:
    """`body` gzipped when the client takes gzip and it is worth it, and the headers that go with it."""
    headers = {"Vary": "Accept-Encoding"}
    if len(body) < MIN_BYTES or not accepts_gzip(request):
        return body, headers
    return gzip.compress(body, compresslevel=level, mtime=0), {**headers, "Content-Encoding": "gzip"}
