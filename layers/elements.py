"""The Folium elements riskmap pages are made of, with no user text in any script and a nonce on inline scripts.

`PageFigure` renders the page through layers/templates/map.html (the base layout; `<title>` autoescaped, the
one inline <script> carrying the response's CSP nonce). `RiskMap` is folium.Map without its inline header
script. `FeatureLayer` embeds server-rendered GeoJSON (popup_html escaped by Jinja2, tooltip as text) as
HTML-safe JSON; layers/static/riskmap.js binds popups and tooltips without evaluating any of it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from layers.web import ENV, script_json


class _Rendered(Element):
    """A part of the page a Folium element has already rendered, kept as the text it is."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Rendered"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


def _render_macro(self: MacroElement, **kwargs: Any) -> str:
    """MacroElement.render without compiling its output a second time.

    branca's own render wraps each rendered header/html/script part in `Element(text)`, which compiles the text as
    a Jinja2 template and renders it again when the page is put together: a name such as `{{ 7*7 }}` in the data
    came out as `49` (server-side template injection, with the full power of an unsandboxed Jinja2), a `{%` in a
    name broke the page, and compiling the embedded GeoJSON took a quarter of a ×10 county page's time.
    """
    figure = self.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("地图元素须在页面（Figure）中才能渲染")
    parts = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = parts.get(part)
        if macro is not None:
            getattr(figure, part).add_child(_Rendered(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)
    return f"L.{self._name}"


MacroElement.render = _render_macro  # every Folium layer, control and plugin renders through it


class PageFigure(Figure):
    """The HTML document of a map page."""

    _template = ENV.get_template("map.html")

    def __init__(self, title: str) -> None:
        super().__init__(title=title)

    def render(self, *, nonce: str = "", static_base: str = "/static", **kwargs: Any) -> str:  # type: ignore[override]
        for child in self._children.values():
            child.render(**kwargs)
        return self._template.render(this=self, kwargs=kwargs, nonce=nonce, static_base=static_base, user=None,
                                     csrf_token="")


_UNUSED = {"jquery", "bootstrap", "bootstrap_css", "awesome_markers", "awesome_markers_css",
           "awesome_markers_font_css", "awesome_rotate_css", "glyphicons_css"}


class RiskMap(folium.Map):
    """folium.Map drawn by our own template: the map div, its style and the L.map call, no inline header script."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style>html, body { width: 100%; height: 100%; margin: 0; padding: 0; }
#{{ this.get_name() }} { position: absolute; top: 0; bottom: 0; left: 0; right: 0; }</style>
{% endmacro %}
{% macro html(this, kwargs) %}<div class="folium-map" id={{ this.get_name()|tojson }}></div>{% endmacro %}
{% macro script(this, kwargs) %}
{% if this.initial_bounds %}
// the view is fitted before any layer joins the map, so no tile is fetched for a zoom the page never shows
var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }},
    {crs: L.CRS.{{ this.crs }}, ...{{ this.options|tojavascript }}}).fitBounds({{ this.initial_bounds|tojson }});
{% else %}
var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }},
    {center: {{ this.location|tojson }}, crs: L.CRS.{{ this.crs }}, ...{{ this.options|tojavascript }}});
{% endif %}
{% if this.control_scale %}riskmap.scaleControl({{ this.get_name() }});{% endif %}
{% endmacro %}
""")

    def __init__(self, title: str, *, initial_bounds: list[list[float]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.initial_bounds = initial_bounds
        """[[south, west], [north, east]]: the first view, fitted before any layer is added."""
        PageFigure(title).add_child(self)

    def lean(self) -> RiskMap:
        """Leave out Folium's defaults a risk map page never uses: jQuery, Bootstrap, Awesome Markers and the
        Font Awesome webfonts (360 KB a phone need not load; 导出图片 would try to inline the webfonts too)."""
        self.default_js = [(n, u) for n, u in self.default_js if n not in _UNUSED]
        self.default_css = [(n, u) for n, u in self.default_css if n not in _UNUSED]
        return self


class FeatureLayer(Layer):
    """A GeoJSON layer whose features carry `style`, `popup_html` (escaped HTML) and `tooltip` (text).

    kind: 'shape' (polygons and lines), 'point' (circle markers), 'stop' (numbered route stops).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = riskmap.featureLayer({{ this.data_json }}, {{ this.kind_json }}, {{ this.opts_json }});
{% endmacro %}
""")

    def __init__(self, features: list[dict[str, Any]], *, kind: str = "shape", interactive: bool = True,
                 style: dict[str, Any] | None = None) -> None:
        super().__init__(control=False, show=True)
        self._name = "FeatureLayer"
        self.data_json = script_json({"type": "FeatureCollection", "features": features}, ascii_only=False)
        self.kind_json = script_json(kind)
        self.opts_json = script_json({"interactive": interactive, "style": style or {}})


class SearchControl(JSCSSMixin, MacroElement):
    """leaflet-search over a FeatureLayer's `name`, its tips built as text (riskmap.searchControl)."""

    default_js: ClassVar[list[tuple[str, str]]] = [("Leaflet.Search.js", "")]
    default_css: ClassVar[list[tuple[str, str]]] = [("Leaflet.Search.css", "")]
    _template = Template("""
{% macro script(this, kwargs) %}
riskmap.searchControl({{ this._parent.get_name() }}, {{ this.layer.get_name() }}, {{ this.options_json }});
{% endmacro %}
""")

    def __init__(self, layer: FeatureLayer, *, placeholder: str, zoom: int) -> None:
        super().__init__()
        self._name = "SearchControl"
        self.layer = layer
        self.options_json = script_json({"placeholder": placeholder, "zoom": zoom, "property": "name",
                                         "notFound": "未找到"})


class Script(MacroElement):
    """One call into riskmap.js with the map and JSON arguments (no user text is ever put in code)."""

    _template = Template("""
{% macro script(this, kwargs) %}
riskmap.{{ this.function }}({{ this._parent.get_name() }}{% for a in this.args %}, {{ a }}{% endfor %});
{% endmacro %}
""")

    def __init__(self, function: str, *args: Any) -> None:
        super().__init__()
        self._name = "Script"
        self.function = function
        self.args = [script_json(a) for a in args]


class LayerControl(folium.LayerControl):
    """The layer control, folded to a button on a phone (riskmap.isPhone) and open on a desktop."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.control.layers({
{%- for key, val in this.base_layers.items() %}{{ key|tojson }}: {{ val }},{% endfor %}
}, {
{%- for key, val in this.overlays.items() %}{{ key|tojson }}: {{ val }},{% endfor %}
}, {...{{ this.options|tojavascript }}, collapsed: riskmap.isPhone()}).addTo({{ this._parent.get_name() }});
{% endmacro %}
""")


class LayerScript(MacroElement):
    """One call into riskmap.js with the map, a list of the page's layers and JSON arguments."""

    _template = Template("""
{% macro script(this, kwargs) %}
riskmap.{{ this.function }}({{ this._parent.get_name() }}, [{% for l in this.layers %}{{ l.get_name() }}, {% endfor %}]
{%- for a in this.args %}, {{ a }}{% endfor %});
{% endmacro %}
""")

    def __init__(self, function: str, layers: list[Any], *args: Any) -> None:
        super().__init__()
        self._name = "LayerScript"
        self.function = function
        self.layers = layers
        self.args = [script_json(a) for a in args]
