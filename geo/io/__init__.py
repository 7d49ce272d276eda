"""Importers and exporters: files ↔ PostGIS layers, validated at the boundary.

Public API: geo.io.importer.import_file (→ ImportResult, or ImportRejected with the rejects) and
geo.io.exporter.export_layer / write_template; layer specs (Chinese headers, code lists) in geo.io.layers.
Kept free of heavy imports so `riskmap --help` stays quick.
"""
