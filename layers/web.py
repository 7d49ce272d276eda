"""The one way HTML is made: a Jinja2 environment with autoescape, templates in layers/templates.

Values reach a page through the template's context only, escaped for HTML text and attributes by autoescape;
URL path segments through `url_path` (percent-encoded, then autoescaped into the attribute); JSON inside
<script> through `script_json` (HTML-safe). The CSP nonce of the response is the context variable `nonce`.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from geo.timefmt import local_minute

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


def url_path(*segments: Any, base: str = "") -> str:
    """`base` + '/'-joined segments, each percent-encoded whole (no '/', ':', quote survives)."""
    return base + "".join("/" + quote(str(s), safe="") for s in segments)


def script_json(value: Any, *, ascii_only: bool = True) -> Markup:
    """JSON safe inside <script> and in an HTML attribute: <, >, &, ' and U+2028/9 escaped.

    `ascii_only=False` keeps other characters as UTF-8 (a Chinese character in 3 bytes, not 6): map data.
    """
    out = json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":"), default=str)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        out = out.replace(ch, esc)
    return Markup(out)


def new_nonce() -> str:
    """A fresh CSP nonce (128 bits, base64url)."""
    return secrets.token_urlsafe(16)


ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True)
ENV.filters["tojson"] = script_json
ENV.filters["local_minute"] = local_minute
ENV.globals["url_path"] = url_path


def render(name: str, **ctx: Any) -> str:
    """Render template `name`; `nonce`, `static_base`, `user` and `csrf_token` default to none/empty."""
    ctx.setdefault("nonce", "")
    ctx.setdefault("static_base", "/static")
    ctx.setdefault("user", None)
    ctx.setdefault("csrf_token", "")
    return ENV.get_template(name).render(**ctx)


def macro(template: str, name: str) -> Any:
    """A macro of a template (e.g. a popup body), called like a function; returns escaped Markup."""
    return getattr(ENV.get_template(template).module, name)
