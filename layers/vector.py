"""A Folium layer drawing riskmap's vector tiles with Leaflet.VectorGrid, for counties too big to embed."""

from __future__ import annotations

from branca.element import Template
from folium.elements import JSCSSMixin
from folium.map import Layer

from layers.style import ENCROACHMENT_STATUS_NAMES, LEVEL_COLOURS, UNASSESSED


class VectorTileLayer(JSCSSMixin, Layer):
    """`/tiles/{layer}/{z}/{x}/{y}.pbf` coloured by level; a click fetches the feature and opens its popup."""

    default_js = [("vectorgrid", "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js")]
    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.vectorGrid.protobuf({{ this.url|tojson }}, {
    rendererFactory: L.canvas.tile, interactive: true, maxNativeZoom: 18,
    getFeatureId: function (f) { return f.properties.id; },
    vectorTileLayerStyles: {
        {{ this.tile_layer|tojson }}: function (p, z) {
            var c = ({{ this.colours|tojson }})[p.level] || {{ this.default_colour|tojson }};
            if (p.n && p.n > 1) {
                return {radius: Math.min(5 + Math.sqrt(p.n), 16), fill: true, fillColor: c, fillOpacity: 0.8,
                        color: '#222', weight: 1};
            }
            return {radius: 6, fill: true, fillColor: c, fillOpacity: {{ this.fill_opacity }},
                    color: {{ this.line_colour|tojson }} || c, weight: {{ this.weight }}};
        }
    }
});
{% if this.deferred %}
// tiles stream in after the page's own scripts, styles and icons: the map is usable at once
window.addEventListener('load', function () { {{ this.get_name() }}.addTo({{ this._parent.get_name() }}); });
{% endif %}
{{ this.get_name() }}.on('click', function (e) {
    var p = e.layer.properties;
    if (p.n && p.n > 1) {
        e.target._map.setView(e.latlng, Math.min(e.target._map.getZoom() + 2, 18));
        return;
    }
    fetch({{ this.feature_url|tojson }} + p.id).then(function (r) { return r.json(); }).then(function (f) {
        var q = f.properties || {}, reasons = (q.reasons || []).map(function (x) {
            return '<li>' + (typeof x === 'string' ? x : (x.text || '')) + '</li>'; }).join('');
        var html = '<h4 style="margin:0 0 4px">' + (q.name || q.code || ('#' + p.id)) + '</h4>' +
            (q.status ? '<div>状态：<b>' + (({{ this.status_labels|tojson }})[q.status] || q.status) + '</b></div>'
                      : '<div>风险等级：<b>' + (q.level_label || '未评估') + '</b></div>') +
            (reasons ? '<ul>' + reasons + '</ul>' : '');
        L.popup().setLatLng(e.latlng).setContent(html).openOn(e.target._map);
    });
});
{% endmacro %}
""")

    def __init__(self, *, layer: str, name: str, link_base: str = "", show: bool = True, weight: float = 1,
                 colours: dict[str, str] | None = None, fill_opacity: float = 0.85, line_colour: str | None = "#222"
                 ) -> None:
        super().__init__(name=name, overlay=True, show=show)
        self._name = "VectorTileLayer"
        self.tile_layer = layer
        self.url = f"{link_base}/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf"
        self.feature_url = f"{link_base}/layers/{layer}/features/"
        self.colours = colours or LEVEL_COLOURS
        self.default_colour = UNASSESSED
        self.weight = weight
        self.fill_opacity = fill_opacity
        self.line_colour = line_colour
        self.status_labels = ENCROACHMENT_STATUS_NAMES
        self.deferred = show
        self.show = False  # added on the window's load event instead (see the template)
