"""Serve Leaflet and its plugins from the npm packages installed at set-up, never from a CDN.

Folium elements name their JS/CSS with CDN URLs; `localise` rewrites every element of a page to the
app's own copies (under /vendor when served, or beside a standalone HTML file). Only the files listed by
`served_files` (ASSETS and what their CSS refers to) are ever served or copied.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

from branca.element import Element, Figure

from layers.web import STATIC

ASSET_ROOT = Path(__file__).resolve().parent / "assets" / "node_modules"

# folium's resource name → file inside node_modules; None drops a resource the pages do not use.
ASSETS: dict[str, str | None] = {
    "leaflet": "leaflet/dist/leaflet.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
    "jquery": "jquery/dist/jquery.min.js",
    "bootstrap": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "bootstrap_css": "bootstrap/dist/css/bootstrap.min.css",
    "glyphicons_css": None,
    "awesome_markers": "leaflet.awesome-markers/dist/leaflet.awesome-markers.min.js",
    "awesome_markers_css": "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    "awesome_markers_font_css": "@fortawesome/fontawesome-free/css/all.min.css",
    "awesome_rotate_css": None,
    "markerclusterjs": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/dist/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "Control.Fullscreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    "Leaflet.Search.js": "leaflet-search/dist/leaflet-search.min.js",
    "Leaflet.Search.css": "leaflet-search/dist/leaflet-search.min.css",
    "vectorgrid": "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
    "easyprint": "leaflet-easyprint/dist/bundle.js",
}

DOC_ASSETS = ("swagger-ui-dist/swagger-ui.css", "swagger-ui-dist/swagger-ui-bundle.js",
              "redoc/bundles/redoc.standalone.js")
"""The API documentation pages' files (/docs, /redoc): served, never copied beside an offline map."""

PAGE_ASSETS = ("htmx.org/dist/htmx.min.js", "echarts/dist/echarts.min.js",
               "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.js",
               "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css",
               "echarts/dist/echarts.common.min.js",  # 首页: line/bar charts, 0.7 of the full build
               "piexifjs/piexif.js")  # 现场端: EXIF time and GPS written into the phone-compressed photo
"""The workbench pages' files (htmx, ECharts charts, Leaflet-Geoman map editing): served, never copied."""


class MissingAsset(RuntimeError):
    pass


def asset_root() -> Path:
    if not (ASSET_ROOT / "leaflet" / "dist" / "leaflet.js").exists():
        raise MissingAsset("地图前端资源未安装：请运行 ./dev setup（npm 安装 Leaflet 及插件）")
    return ASSET_ROOT


def _local(name: str, base_url: str) -> str | None:
    if name not in ASSETS:
        raise MissingAsset(f"页面用到未登记的前端资源 {name}：请在 layers/assets.py 中登记其 npm 包内路径")
    path = ASSETS[name]
    return None if path is None else f"{base_url}/{path}"


def _walk(element: Element) -> list[Element]:
    out = [element]
    for child in list(element._children.values()):
        out.extend(_walk(child))
    return out


def localise(figure: Figure, *, base_url: str = "/vendor") -> None:
    """Point every element's JS/CSS at the app's own copies under `base_url`."""
    for el in _walk(figure):
        for attr in ("default_js", "default_css"):
            items = getattr(el, attr, None)
            if not items:
                continue
            local = [(n, _local(n, base_url)) for n, _ in items]
            setattr(el, attr, [(n, u) for n, u in local if u is not None])


SCRIPT_LOADED = ("leaflet/dist/images/marker-icon-2x.png", "leaflet/dist/images/marker-shadow.png")
"""Files Leaflet's JS loads beside the marker icon its CSS names (default markers)."""

_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""")


@functools.cache
def served_files() -> dict[str, Path]:
    """Every file a page may load from /vendor: the ASSETS and what their CSS refers to (images, fonts).

    Keys are paths under /vendor (as in ASSETS); nothing else of node_modules is ever served or copied.
    """
    root = asset_root().resolve()
    out: dict[str, Path] = {rel: root / rel for rel in SCRIPT_LOADED}
    for rel in (*ASSETS.values(), *DOC_ASSETS, *PAGE_ASSETS):
        if rel is None:
            continue
        path = (root / rel).resolve()
        out[rel] = path
        if path.suffix == ".css":
            for ref in _CSS_URL.findall(path.read_text(encoding="utf-8", errors="replace")):
                if ref.startswith(("data:", "http:", "https:", "//", "#")):
                    continue
                target = (path.parent / ref.split("?")[0].split("#")[0]).resolve()
                if target.is_file() and target.is_relative_to(root):
                    out[target.relative_to(root).as_posix()] = target
    return out


def copy_assets(target: Path) -> None:
    """Copy the served vendor files, and riskmap's own static files, beside a standalone HTML file."""
    for rel, src in served_files().items():
        if rel in DOC_ASSETS or rel in PAGE_ASSETS:
            continue
        dst = target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            shutil.copyfile(src, dst)
    static = target / STATIC_DIR
    static.mkdir(parents=True, exist_ok=True)
    for src in STATIC.iterdir():
        if src.is_file():
            shutil.copyfile(src, static / src.name)


STATIC_DIR = "riskmap"
"""Where a standalone HTML file finds layers/static beside its vendor files."""
