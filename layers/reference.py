"""The offline reference basemap as a Folium base layer (drawn by layers/static/reference.js)."""

from __future__ import annotations

from typing import ClassVar

from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from geo.reference import FACILITY_LABEL_ZOOM
from layers.web import script_json, url_path

REFERENCE_NAME = "参考底图（本县数据）"
REFERENCE_ATTR = "参考底图：本县数据（示意部分已注明）"


class ReferenceBasemap(JSCSSMixin, Layer):
    """Roads, rivers, the county outline, stations and valves from `/tiles/reference` (MVT) beneath the risk
    layers, and the place names the same tiles carry written above them (riskmap.referenceBasemap); the names
    are also served alone as `/tiles/reference/{z}/{x}/{y}.json` for other clients."""

    default_js: ClassVar[list[tuple[str, str]]] = [
        ("vectorgrid", "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js")]
    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = riskmap.referenceBasemap({{ this._parent.get_name() }}, {{ this.options_json }});
{% endmacro %}
""")

    def __init__(self, *, link_base: str = "", show: bool = True, bounds: list[list[float]] | None = None) -> None:
        super().__init__(name=REFERENCE_NAME, overlay=False, control=True, show=show)
        self._name = "ReferenceBasemap"
        self.options_json = script_json({
            "tiles": url_path("tiles", "reference", base=link_base) + "/{z}/{x}/{y}.pbf",
            "facilityLabelZoom": FACILITY_LABEL_ZOOM,
            "attribution": REFERENCE_ATTR, "bounds": bounds})
