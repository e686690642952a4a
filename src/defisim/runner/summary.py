"""The run's result, ``params.json`` and ``summary.json``.

``params.json`` (written when the run folder is created)::

    {"scenario": str, "params": {resolved parameters}, "seed": int,
     "defisim_version": str, "command": [argv...], "created_utc": ISO-8601,
     "python": "3.11.x"}

``summary.json`` (written LAST: a folder without it is an incomplete run)::

    {"scenario", "seed", "steps" (steps run), "total_steps", "wall_s", "steps_per_s",
     "trades", "orders" (distinct order ids), "order_updates", "events",
     "event_counts" {class name: n}, "counters" {name: n} (every protocol's run
     totals: trades, orders, order_updates, swaps, mints, burns, ...),
     "kpis" {name: final value},
     "risk" {party: {asset: {"capital", "first_step", "last_step", <summarize keys>}}},
     "risk_error": str | null, "interrupted": bool, "signal": str | null,
     "error": str | null, "error_type": str | null, "plots": [file names],
     "plot_error": str | null, "finished_utc": ISO-8601}

``risk`` holds :func:`defisim.metrics.summarize` of every party's cumulative PnL
series in each settlement asset (see :func:`party_risk`); NaN/inf become
``null``. It is computed from ``run.duckdb`` by :func:`write_summary`;
``risk_error`` says why it is missing when that failed.
"""

from __future__ import annotations

import json
import math
import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from defisim.scenarios.base import Scenario


@dataclass
class RunResult:
    """What a run did.

    Attributes:
        scenario, seed: what ran.
        steps: steps completed (``total_steps`` unless interrupted or failed).
        wall_s: wall-clock seconds of the loop (initialise to the last record).
        interrupted: stopped by Ctrl-C or SIGTERM before the last step (what was
            recorded is kept).
        stop_signal: the signal that stopped the command (``"SIGINT"`` for Ctrl-C,
            ``"SIGTERM"``), else ``None``; set with ``interrupted`` false when it
            came after the last step was recorded (the data is complete).
        error, error_type: text and class name of what stopped the run (an
            :class:`InvariantViolation` or an exception), else ``None``.
        out_dir: the run folder (``None`` when not recording).
        kpis: the final value of every KPI (scenario KPIs by name, built-ins as
            ``"<market>.<name>"``).
        trades, orders, order_updates, events: counts (``orders`` = distinct ids).
        event_counts: events per event class.
        counters: every protocol recording's run totals (futures ``trades``,
            ``orders``, ``order_updates``; AMM ``swaps``, ``mints``, ``burns``).
        plots: PNG files drawn; plot_error: why plotting failed, if it did.
        plots_requested: the run was asked to draw its plots (``plots=True``; a
            scenario's ``after_run`` draws its own figures only then).
        risk: per party, per settlement asset, the risk and performance metrics
            of its PnL series (:func:`party_risk`); filled by :func:`write_summary`
            from the run folder's ``run.duckdb``. risk_error: why that failed.
    """

    scenario: str
    seed: int
    steps: int
    total_steps: int
    wall_s: float
    interrupted: bool = False
    stop_signal: str | None = None
    error: str | None = None
    error_type: str | None = None
    out_dir: Path | None = None
    kpis: dict[str, float] = field(default_factory=dict)
    trades: int = 0
    orders: int = 0
    order_updates: int = 0
    events: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)
    plot_error: str | None = None
    plots_requested: bool = False
    risk: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    risk_error: str | None = None

    @property
    def ok(self) -> bool:
        """Completed every step without error or interruption."""
        return not self.interrupted and self.error is None

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.wall_s if self.wall_s > 0 else 0.0

    def to_json_dict(self) -> dict[str, Any]:
        """The ``summary.json`` object (NaN/inf KPI values become ``null``)."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "steps": self.steps,
            "total_steps": self.total_steps,
            "wall_s": round(self.wall_s, 6),
            "steps_per_s": round(self.steps_per_s, 3),
            "trades": self.trades,
            "orders": self.orders,
            "order_updates": self.order_updates,
            "events": self.events,
            "event_counts": dict(sorted(self.event_counts.items())),
            "counters": dict(sorted(self.counters.items())),
            "kpis": {k: (v if math.isfinite(v) else None) for k, v in self.kpis.items()},
            "risk": {
                party: {asset: _finite_or_none(m) for asset, m in by_asset.items()}
                for party, by_asset in self.risk.items()
            },
            "risk_error": self.risk_error,
            "interrupted": self.interrupted,
            "signal": self.stop_signal,
            "error": self.error,
            "error_type": self.error_type,
            "plots": list(self.plots),
            "plot_error": self.plot_error,
            "out_dir": str(self.out_dir) if self.out_dir is not None else None,
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def _finite_or_none(metrics: dict[str, float]) -> dict[str, float | None]:
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v)
        for k, v in metrics.items()
    }


def _write_json(path: Path, obj: Any) -> None:
    """Write atomically (temporary file, then rename) so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)


def _time_origin(scenario: Scenario) -> str | None:
    """``scenario.time_origin()`` as ISO 8601 text (``None`` when undated)."""
    origin = getattr(scenario, "time_origin", None)
    t = origin() if callable(origin) else None
    return None if t is None else t.isoformat()


def write_params(out: Path, scenario: Scenario, seed: int, command: list[str]) -> Path:
    """Write ``params.json`` into ``out``; returns its path."""
    from defisim import __version__

    obj = {
        "scenario": scenario.name,
        "params": scenario.params.model_dump(mode="json"),
        "seed": seed,
        "time_origin_utc": _time_origin(scenario),
        "defisim_version": __version__,
        "command": list(command),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
    }
    p = Path(out) / "params.json"
    _write_json(p, obj)
    return p


def write_summary(out: Path, result: RunResult) -> Path:
    """Write ``summary.json`` into ``out`` (call last); returns its path.

    First fills ``result.risk`` with :func:`party_risk` when it is empty and
    ``out`` holds a ``run.duckdb``. A failure there never loses the summary: its
    text goes to ``result.risk_error`` (a Ctrl-C is re-raised after writing).
    """
    out = Path(out)
    pending: BaseException | None = None
    if not result.risk and result.risk_error is None and (out / "run.duckdb").is_file():
        try:
            result.risk = party_risk(out)
        except KeyboardInterrupt as exc:
            result.risk_error = "interrupted while computing risk metrics"
            pending = exc
        except Exception as exc:  # a metrics problem must not lose the summary
            first = str(exc).splitlines()[0] if str(exc) else ""
            result.risk_error = f"{type(exc).__name__}: {first}"
    p = out / "summary.json"
    _write_json(p, result.to_json_dict())
    if pending is not None:
        raise pending
    return p


RISK_MEMORY_LIMIT = "256MB"
"""DuckDB's memory limit for :func:`party_risk`'s query (tried first; without it if short)."""

_RISK_SQL = """
WITH
  mk AS (
    SELECT json_extract_string(payload, '$.market') AS market,
           json_extract_string(payload, '$.asset') AS asset
    FROM events WHERE type = 'MarketCreated'),
  dec AS (
    SELECT json_extract_string(payload, '$.asset') AS asset,
           any_value(CAST(json_extract_string(payload, '$.decimals') AS INTEGER)) AS decimals
    FROM events WHERE type = 'AssetCreated' GROUP BY ALL),
  cap AS (
    SELECT party, json_extract_string(payload, '$.asset') AS asset,
           sum(CAST(json_extract_string(payload, '$.amount') AS HUGEINT)) AS minted
    FROM events WHERE type = 'Minted' AND party IS NOT NULL GROUP BY ALL),
  pnl AS (
    SELECT p.party, mk.asset, p.step, any_value(p.pnl) AS pnl
    FROM positions p JOIN mk USING (market) GROUP BY ALL)
SELECT pnl.party, pnl.asset,
       CAST(cap.minted AS DOUBLE) / pow(10, dec.decimals) AS capital,
       list(pnl.pnl ORDER BY pnl.step) AS series,
       min(pnl.step), max(pnl.step)
FROM pnl JOIN cap USING (party, asset) JOIN dec USING (asset)
GROUP BY ALL
ORDER BY pnl.party, pnl.asset
"""


def party_risk(
    run_dir: str | os.PathLike, level: float = 0.95, days_per_year: float = 365.0
) -> dict[str, dict[str, dict[str, float]]]:
    """Risk and performance metrics of every party's PnL in a run folder's ``run.duckdb``.

    For each party and settlement asset: the party's cumulative PnL (the ``pnl``
    column of ``positions``: equity minus everything minted to it, the same in
    every market of that asset) at every step from ``first_step``, the first
    step it traded, to ``last_step``, the last record, preceded by a 0 (its PnL
    before it traded), so that ``total_pnl`` is its final PnL. With ``capital`` =
    everything minted to it in the asset (the ``Minted`` events) this goes
    through :func:`defisim.metrics.summarize` at the run's step period
    (``time_ns`` over ``step``), a 365-day year and ``level``: the ratios are
    annualised, ``var``/``cvar`` are one-step return quantiles. Parties never
    minted any of the asset (the network) are left out. Money minted mid-run
    counts as capital from the start.

    Returns:
        ``{party: {asset: {"capital", "first_step", "last_step", *SUMMARY_KEYS}}}``,
        parties and assets sorted; empty when the run recorded no positions.
    """
    from defisim.metrics import summarize
    from defisim.store import open_store

    with open_store(Path(run_dir) / "run.duckdb") as store:
        tables = set(store.tables())
        if not {"positions", "events"} <= tables:
            return {}
        span = store.query(
            "SELECT max(time_ns) - min(time_ns), max(step) - min(step) FROM positions"
        )[0]
        if span[0] is None:
            return {}
        # bounded first (its hash tables grow with the run: 900 MB at 100,000 fuzz steps
        # unbounded, 440 MB bounded); a run too long for the bound gets DuckDB's default
        store.query(f"SET memory_limit = '{RISK_MEMORY_LIMIT}'")
        try:
            rows = store.query(_RISK_SQL)
        except Exception as exc:
            if "OutOfMemory" not in type(exc).__name__:
                raise
            store.query("RESET memory_limit")
            rows = store.query(_RISK_SQL)
    dt_ns, dsteps = span
    period_s = dt_ns / dsteps / 1e9 if dsteps and dt_ns > 0 else 1.0
    out: dict[str, dict[str, dict[str, float]]] = {}
    for party, asset, capital, series, first, last in rows:
        if capital is None or not capital > 0:
            continue
        m: dict[str, float] = {"capital": capital, "first_step": first, "last_step": last}
        pnl = [0.0, *series]  # its PnL before its first trade: nothing yet
        m.update(summarize(pnl, capital, period_s, days_per_year=days_per_year, level=level))
        out.setdefault(party, {})[asset] = m
    return out


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ``params.json`` / ``summary.json``."""
    return json.loads(Path(path).read_text())
