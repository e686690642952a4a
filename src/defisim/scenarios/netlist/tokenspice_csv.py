"""TokenSPICE's and DARC-SPICE's CSV files (``../shared/specs/token-netlists.md`` 1.4, 1.8).

TokenSPICE (``SimEngine.createLogData``/``logToCsv``): ``data.csv``, the header once,
joined by ``", "``; each value ``f"{v}"`` (Python's ``str``: ints without a decimal
point, floats as the shortest repr, ``inf``), joined by ``", "``.

DARC-SPICE: values as ``'%g'`` (6 significant digits); ``data.csv`` as it was written
during the run (the first header, rows as long as they were), and at the stop
``datax.csv`` with the *last* header and every row right-padded with ``0`` to its
length (columns appear during a run in the growth and community netlists), and
``rpdata.csv`` (the research-project rows) the same way when the netlist logs them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


class NetlistCsvError(ValueError):
    """A netlist CSV that cannot be read; the message names the file and line."""


def format_value(v: Any, style: str = "tokenspice") -> str:
    """One value as the engine prints it: ``str(v)`` (TokenSPICE; a bool as an int) or
    ``'%g' % v`` (DARC)."""
    if isinstance(v, bool):
        v = int(v)
    if style == "darc":
        return f"{v:g}"  # the same as DARC's "%g" % v
    return f"{v}"


_G = "{:g}".format  # "%g" % v, for ints, floats and bools (True -> "1") alike


def format_row(values: list[Any], style: str = "tokenspice") -> str:
    """A row joined by ``", "``."""
    if style == "darc":
        return ", ".join(map(_G, values))
    return ", ".join(format_value(v, style) for v in values)


def _write_padded(path: Path, rows: list[tuple[list[str], list[Any]]], style: str,
                  texts: list[str] | None = None) -> None:
    """The last header, then every row right-padded with ``0`` to its length
    (``texts``: the rows already formatted)."""
    header = rows[-1][0]
    n = len(header)
    if texts is None:
        texts = [format_row(values, style) for _, values in rows]
    zero = format_value(0, style)
    with path.open("w", encoding="utf-8") as f:
        f.write(", ".join(header) + "\n")
        for (_, values), text in zip(rows, texts, strict=True):
            pad = n - len(values)
            f.write((text + f", {zero}" * pad if pad > 0 else text) + "\n")


def write_rows(out_dir: Path, rows: list[tuple[list[str], list[Any]]], style: str,
               rp_rows: list[tuple[list[str], list[Any]]] | None = None) -> list[Path]:
    """Write ``rows`` ((header, values) per logged tick) into ``out_dir``: ``data.csv``,
    and for ``style="darc"`` also ``datax.csv`` and, when ``rp_rows`` is given,
    ``rpdata.csv`` (module docstring). Returns the paths. Nothing is written when there
    are no rows."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not rows:
        return []
    paths = []
    data = out_dir / "data.csv"
    texts = [format_row(values, style) for _, values in rows]
    with data.open("w", encoding="utf-8") as f:
        f.write(", ".join(rows[0][0]) + "\n")
        for text in texts:
            f.write(text + "\n")
    paths.append(data)
    if style == "darc":
        x = out_dir / "datax.csv"
        _write_padded(x, rows, style, texts)
        paths.append(x)
        if rp_rows:
            rp = out_dir / "rpdata.csv"
            _write_padded(rp, rp_rows, style)
            paths.append(rp)
    return paths


def _number(text: str) -> float:
    t = text.strip()
    if t in ("inf", "-inf", "nan"):
        return float(t)
    return float(t)


def read_csv(path: str | Path) -> tuple[list[str], list[list[float]]]:
    """``(header, rows)`` of a netlist CSV (values as floats; ``inf`` kept).

    Raises:
        FileNotFoundError: no such file.
        NetlistCsvError: an empty file, a row that is not numbers (file and line).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    lines = p.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0].strip():
        raise NetlistCsvError(f"{p}: line 1: empty file (expected a header)")
    header = [h.strip() for h in lines[0].split(",")]
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            rows.append([_number(v) for v in line.split(",")])
        except ValueError:
            raise NetlistCsvError(f"{p}: line {n}: not a row of numbers: {line[:80]!r}") from None
    return header, rows


def column(header: list[str], rows: list[list[float]], name: str) -> list[float]:
    """The values of column ``name`` (``nan`` where a row is shorter).

    Raises:
        KeyError: no such column (the message lists them).
    """
    try:
        i = header.index(name)
    except ValueError:
        raise KeyError(f"no column {name!r}; columns: {', '.join(header)}") from None
    return [r[i] if i < len(r) else math.nan for r in rows]


__all__ = ["NetlistCsvError", "column", "format_row", "format_value", "read_csv", "write_rows"]
