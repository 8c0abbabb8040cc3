"""Report tables as CSV and XLSX: one header of flattened names (`wait_s.p50`), one line
per row, then the total with key `total`. XLSX through XlsxWriter (a well-kept writer;
we never build the file format by hand)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import xlsxwriter


def flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"wait_s": {"p50": 3}}` -> `{"wait_s.p50": 3}`, keeping the order of the row."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


def table(rows: Sequence[Mapping[str, Any]], total: Mapping[str, Any] | None) -> list[list[Any]]:
    """Header and lines: the rows, then the total (key `total`) if there is one. The
    header holds every flattened name, in the order they first appear."""
    flat = [flatten(r) for r in rows]
    if total is not None:
        flat.append(flatten({**total, "key": "total"}))
    header = list(dict.fromkeys(name for line in flat for name in line))
    return [header, *([line.get(name) for name in header] for line in flat)]


def to_csv(lines: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for line in lines:
        writer.writerow(["" if v is None else v for v in line])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read UTF-8


def to_xlsx(lines: list[list[Any]], sheet: str, title: str) -> bytes:
    """The table on the first sheet (header bold and frozen), the title in its properties."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"title": title})
    bold = book.add_format({"bold": True})
    ws = book.add_worksheet(sheet[:31])
    for r, line in enumerate(lines):
        for c, value in enumerate(line):
            if value is None:
                continue
            if r == 0:
                ws.write_string(r, c, str(value), bold)
            elif isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    ws.freeze_panes(1, 2)
    ws.set_column(0, 1, 22)
    book.close()
    return buffer.getvalue()
