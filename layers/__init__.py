"""Folium layers and map pages: one function per layer, one per page; assets served offline."""
