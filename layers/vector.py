"""A Folium layer drawing riskmap's vector tiles with Leaflet.VectorGrid, for counties too big to embed."""

from __future__ import annotations

from typing import ClassVar

from branca.element import Template
from folium.elements import JSCSSMixin
from folium.map import Layer

from layers.style import ENCROACHMENT_STATUS_NAMES, LEVEL_COLOURS, UNASSESSED
from layers.web import script_json, url_path


class VectorTileLayer(JSCSSMixin, Layer):
    """`/tiles/{layer}/{z}/{x}/{y}.pbf` coloured by level; a click fetches the feature and opens its popup
    (built from text nodes by riskmap.vectorTileClick)."""

    default_js: ClassVar[list[tuple[str, str]]] = [("vectorgrid", "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js")]
    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.vectorGrid.protobuf({{ this.url }}, {
    rendererFactory: L.canvas.tile, interactive: true, maxNativeZoom: 18, bounds: {{ this.bounds }},
    getFeatureId: function (f) { return f.properties.id; },
    vectorTileLayerStyles: {
        {{ this.tile_layer }}: function (p, z) {
            var c = ({{ this.colours }})[p.level] || {{ this.default_colour }};
            if (p.n && p.n > 1) {
                return {radius: Math.min(5 + Math.sqrt(p.n), 16), fill: true, fillColor: c, fillOpacity: 0.8,
                        color: '#222', weight: 1};
            }
            return {radius: 6, fill: true, fillColor: c, fillOpacity: {{ this.fill_opacity }},
                    color: {{ this.line_colour }} || c, weight: {{ this.weight }}};
        }
    }
});
{% if this.deferred %}
// tiles stream in after the page's own scripts, styles and icons: the map is usable at once
window.addEventListener('load', function () { {{ this.get_name() }}.addTo({{ this._parent.get_name() }}); });
{% endif %}
riskmap.vectorTileClick({{ this.get_name() }}, {{ this.feature_url }}, {{ this.status_labels }});
{% endmacro %}
""")

    def __init__(self, *, layer: str, name: str, link_base: str = "", show: bool = True, weight: float = 1,
                 colours: dict[str, str] | None = None, fill_opacity: float = 0.85, line_colour: str | None = "#222",
                 bounds: list[list[float]] | None = None) -> None:
        super().__init__(name=name, overlay=True, show=show)
        self._name = "VectorTileLayer"
        self.tile_layer = script_json(layer)
        self.url = script_json(url_path("tiles", layer, base=link_base) + "/{z}/{x}/{y}.pbf")
        self.feature_url = script_json(url_path("layers", layer, "features", base=link_base) + "/")
        self.colours = script_json(colours or LEVEL_COLOURS)
        self.default_colour = script_json(UNASSESSED)
        self.weight = float(weight)
        self.fill_opacity = float(fill_opacity)
        self.line_colour = script_json(line_colour)
        self.status_labels = script_json(ENCROACHMENT_STATUS_NAMES)
        self.bounds = script_json(bounds)  # [[south, west], [north, east]]: no tile is asked for outside them
        self.deferred = show
        self.show = False  # added on the window's load event instead (see the template)


class ProvinceDetailLayer(JSCSSMixin, Layer):
    """A county-detail layer of the province map: `/province/tiles/{layer}/…`, one MVT layer per county
    (`<layer>_<code>`, read from that county's database) styled alike; asked for only from `min_zoom`, past the
    county level. No popups: the feature's record lives in the county's database, behind its own service."""

    default_js: ClassVar[list[tuple[str, str]]] = [("vectorgrid", "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js")]
    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
    var colours = {{ this.colours }}, styles = {};
    var style = function (p, z) {
        var c = colours[p.level] || {{ this.default_colour }};
        if (p.n && p.n > 1) {
            return {radius: Math.min(5 + Math.sqrt(p.n), 16), fill: true, fillColor: c, fillOpacity: 0.8,
                    color: '#222', weight: 1};
        }
        return {radius: 6, fill: true, fillColor: c, fillOpacity: {{ this.fill_opacity }},
                color: {{ this.line_colour }} || c, weight: {{ this.weight }}};
    };
    {{ this.counties }}.forEach(function (code) { styles[{{ this.tile_layer }} + '_' + code] = style; });
    return L.vectorGrid.protobuf({{ this.url }}, {
        rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18, minZoom: {{ this.min_zoom }},
        vectorTileLayerStyles: styles
    });
})();
{% if this.deferred %}
window.addEventListener('load', function () { {{ this.get_name() }}.addTo({{ this._parent.get_name() }}); });
{% endif %}
{% endmacro %}
""")

    def __init__(self, *, layer: str, name: str, counties: list[str], min_zoom: int, show: bool = True,
                 weight: float = 1, fill_opacity: float = 0.85, line_colour: str | None = "#222",
                 link_base: str = "") -> None:
        super().__init__(name=name, overlay=True, show=show)
        self._name = "ProvinceDetailLayer"
        self.tile_layer = script_json(layer)
        self.url = script_json(url_path("province", "tiles", layer, base=link_base) + "/{z}/{x}/{y}.pbf")
        self.counties = script_json(list(counties))
        self.min_zoom = int(min_zoom)
        self.colours = script_json(LEVEL_COLOURS)
        self.default_colour = script_json(UNASSESSED)
        self.weight = float(weight)
        self.fill_opacity = float(fill_opacity)
        self.line_colour = script_json(line_colour)
        self.deferred = show
        self.show = False  # added on the window's load event instead (see the template)
