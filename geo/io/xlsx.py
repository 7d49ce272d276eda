"""The one way riskmap writes rows into xlsx sheets: text stays text, so a name like =HYPERLINK(…) is no formula.

openpyxl turns any string starting with '=' into a formula and '#N/A'-like strings into error cells. Here every
str is written as a string cell (data_type 's') — not prefixed with a quote — so it reads back exactly as typed;
numbers, dates and booleans keep their types. Characters XML cannot hold (C0 controls other than tab, LF, CR)
are replaced with U+FFFD rather than failing the whole export.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet


def text_cell(sheet: Worksheet, value: str) -> Cell:
    """A string cell holding `value` as text whatever it starts with."""
    cell = Cell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
    cell.data_type = "s"  # openpyxl guessed 'f' for '=…' and 'e' for '#N/A'; it is what the user typed
    return cell


def append_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append one row to `sheet`: str values as text cells, everything else as openpyxl types it."""
    sheet.append([text_cell(sheet, v) if isinstance(v, str) else v for v in values])
