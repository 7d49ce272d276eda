"""Sub-commands beyond `db`: each module below registers its parser with geo.cli.registrar.

The CLI is the composition root, so it may name layers/ (serve, map) though geo/ itself never imports them.
"""

from __future__ import annotations

import importlib

COMMAND_MODULES = (
    "geo.access.cli",
    "geo.io.cli",
    "geo.demo.cli",
    "geo.risk.cli",
    "geo.encroachment.cli",
    "geo.inspection.cli",
    "geo.backup_cli",
    "geo.attachments_cli",
    "geo.province.cli",
    "layers.cli",
)

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a module not written yet; anything else it misses is an error
        if exc.name is None or not _name.startswith(exc.name):
            raise
