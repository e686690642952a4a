"""A self-contained HTML report (``report.html``) of a run, sweep or study folder.

Everything is inline: the PNGs as base64 ``data:`` URIs, the parameters and the
KPI table as HTML. Folder kinds: a sweep (``sweep.json`` + ``sweep.duckdb``), a
study (``optimize.json``), a run (``params.json`` / ``summary.json``).

A run that did not complete (no ``summary.json``: killed; interrupted; failed; or
its store holds fewer steps than planned, see
:func:`defisim.runner.run_status`) gets a red banner at the top saying so.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

from .errors import ExperimentError

_CSS = (
    "body{font-family:sans-serif;margin:2em;max-width:1400px}"
    "table{border-collapse:collapse;font-size:13px;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#eee}td.l,th.l{text-align:left}img{max-width:100%;margin:1em 0}"
    ".incomplete{background:#fdd;border:2px solid #c00;color:#600;padding:.8em 1em;"
    "font-weight:bold;margin:1em 0}"
)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return str(v) if not math.isfinite(v) else f"{v:.6g}"
    return str(v)


def _table(header: list[str], rows: list[list[Any]], left: int = 1) -> str:
    h = "".join(
        f"<th{' class=l' if i < left else ''}>{html.escape(str(c))}</th>"
        for i, c in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=l' if i < left else ''}>{html.escape(_fmt(c))}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{h}</tr>{body}</table>"


def _images(folder: Path) -> str:
    parts = []
    for p in sorted(folder.glob("*.png")):
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        parts.append(
            f"<h3>{html.escape(p.name)}</h3><img alt='{html.escape(p.name)}' "
            f"src='data:image/png;base64,{data}'>"
        )
    return "".join(parts)


def _params_table(params: dict[str, Any]) -> str:
    return _table(
        ["parameter", "value"], [[k, json.dumps(v, default=str)] for k, v in params.items()], 2
    )


def _is_run(d: Path) -> bool:
    if (d / "sweep.json").is_file() and (d / "sweep.duckdb").is_file():
        return False
    if (d / "optimize.json").is_file():
        return False
    return (d / "params.json").is_file() or (d / "summary.json").is_file()


def incomplete_run(folder: str | Path) -> str | None:
    """``"incomplete run: <why>"`` when ``folder`` is a run folder whose run did not
    complete (:func:`defisim.runner.run_status`), else ``None`` (a complete run, a
    sweep or study folder, or no folder)."""
    from defisim.runner import run_status

    d = Path(folder)
    if not d.is_dir() or not _is_run(d):
        return None
    status = run_status(d)
    return None if status.complete else status.message


def build_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of ``folder`` to ``out`` (default ``folder/report.html``).

    Raises:
        ExperimentError: not a folder, or none of a run, sweep or study folder.
    """
    d = Path(folder)
    if not d.is_dir():
        raise ExperimentError(f"folder {d} does not exist")
    if (d / "sweep.json").is_file() and (d / "sweep.duckdb").is_file():
        title, body = _sweep(d)
    elif (d / "optimize.json").is_file():
        title, body = _study(d)
    elif (d / "params.json").is_file() or (d / "summary.json").is_file():
        title, body = _run(d)
    else:
        raise ExperimentError(
            f"{d} is not a run, sweep or study folder "
            "(no params.json, summary.json, sweep.json or optimize.json)"
        )
    path = Path(out) if out is not None else d / "report.html"
    path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}"
        f"{_images(d)}</body></html>\n"
    )
    return path


def _read_json(p: Path) -> dict[str, Any]:
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise ExperimentError(f"cannot read {p}: {exc}") from None


def _run(d: Path) -> tuple[str, str]:
    params = _read_json(d / "params.json") if (d / "params.json").is_file() else {}
    summary = _read_json(d / "summary.json") if (d / "summary.json").is_file() else {}
    scen = summary.get("scenario") or params.get("scenario", "run")
    seed = summary.get("seed", params.get("seed", ""))
    parts = []
    p = params.get("params", params)
    if isinstance(p, dict) and p:
        parts.append("<h2>Parameters</h2>" + _params_table(p))
    warning = incomplete_run(d)
    if warning:
        parts.insert(0, f"<div class='incomplete' role='alert'>{html.escape(warning)}</div>")
    info = {k: v for k, v in summary.items() if not isinstance(v, dict | list)}
    if info:
        parts.append("<h2>Run</h2>" + _params_table(info))
    kpis = summary.get("kpis", {})
    if isinstance(kpis, dict) and kpis:
        parts.append("<h2>KPIs</h2>" + _table(["KPI", "value"], [[k, v] for k, v in kpis.items()]))
    return f"defisim run: {scen} (seed {seed})", "".join(parts)


def _sweep(d: Path) -> tuple[str, str]:
    from .sweep import load_summary

    meta = _read_json(d / "sweep.json")
    names, summary, counts = load_summary(d)
    parts = [
        "<h2>Sweep</h2>",
        _params_table(
            {
                "grid": meta.get("grid"),
                "seeds": meta.get("seeds"),
                "fixed": meta.get("fixed"),
                "runs": counts,
            }
        ),
        "<h2>Results (mean and 95 % CI over seeds, ok runs)</h2>",
        _table(
            [*names, "KPI", "n", "mean", "ci95 low", "ci95 high"],
            [[*pt, k, n, m, lo, hi] for pt, k, n, m, lo, hi in summary],
            len(names) + 1,
        ),
    ]
    return f"defisim sweep: {meta.get('scenario', '')}", "".join(parts)


def _study(d: Path) -> tuple[str, str]:
    meta = _read_json(d / "optimize.json")
    parts = ["<h2>Study</h2>", _params_table(meta)]
    if (d / "best.json").is_file():
        best = _read_json(d / "best.json")
        parts += ["<h2>Best</h2>", _params_table(best)]
    return f"defisim optimize: {meta.get('scenario', '')}", "".join(parts)
