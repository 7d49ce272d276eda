"""The register mechanism shared by the encroachment register (一点一档) and the hazard ledger (隐患台账)."""

from geo.register.core import (
    Event,
    InvalidTransition,
    Lifecycle,
    ReportRow,
    VerifierRequired,
    change_status,
    get_lifecycle,
    history,
    list_items,
    load_lifecycles,
    next_code,
    record_created,
    record_event,
    summarise,
    total_row,
    update_fields,
)

__all__ = [
    "Event", "InvalidTransition", "Lifecycle", "ReportRow", "VerifierRequired", "change_status", "get_lifecycle",
    "history", "list_items", "load_lifecycles", "next_code", "record_created", "record_event", "summarise",
    "total_row", "update_fields",
]
