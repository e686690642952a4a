"""The run's result, ``params.json`` and ``summary.json``.

``params.json`` (written when the run folder is created)::

    {"scenario": str, "params": {resolved parameters}, "seed": int,
     "defisim_version": str, "command": [argv...], "created_utc": ISO-8601,
     "python": "3.11.x"}

``summary.json`` (written LAST: a folder without it is an incomplete run)::

    {"scenario", "seed", "steps" (steps run), "total_steps", "wall_s", "steps_per_s",
     "trades", "orders" (distinct order ids), "order_updates", "events",
     "event_counts" {class name: n}, "kpis" {name: final value}, "interrupted": bool,
     "error": str | null, "error_type": str | null, "plots": [file names],
     "plot_error": str | null, "finished_utc": ISO-8601}
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
        interrupted: stopped by Ctrl-C.
        error, error_type: text and class name of what stopped the run (an
            :class:`InvariantViolation` or an exception), else ``None``.
        out_dir: the run folder (``None`` when not recording).
        kpis: the final value of every KPI (scenario KPIs by name, built-ins as
            ``"<market>.<name>"``).
        trades, orders, order_updates, events: counts (``orders`` = distinct ids).
        event_counts: events per event class.
        plots: PNG files drawn; plot_error: why plotting failed, if it did.
    """

    scenario: str
    seed: int
    steps: int
    total_steps: int
    wall_s: float
    interrupted: bool = False
    error: str | None = None
    error_type: str | None = None
    out_dir: Path | None = None
    kpis: dict[str, float] = field(default_factory=dict)
    trades: int = 0
    orders: int = 0
    order_updates: int = 0
    events: int = 0
    event_counts: dict[str, int] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)
    plot_error: str | None = None

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
            "kpis": {k: (v if math.isfinite(v) else None) for k, v in self.kpis.items()},
            "interrupted": self.interrupted,
            "error": self.error,
            "error_type": self.error_type,
            "plots": list(self.plots),
            "plot_error": self.plot_error,
            "out_dir": str(self.out_dir) if self.out_dir is not None else None,
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        }


def _write_json(path: Path, obj: Any) -> None:
    """Write atomically (temporary file, then rename) so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)


def write_params(out: Path, scenario: Scenario, seed: int, command: list[str]) -> Path:
    """Write ``params.json`` into ``out``; returns its path."""
    from defisim import __version__

    obj = {
        "scenario": scenario.name,
        "params": scenario.params.model_dump(mode="json"),
        "seed": seed,
        "defisim_version": __version__,
        "command": list(command),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
    }
    p = Path(out) / "params.json"
    _write_json(p, obj)
    return p


def write_summary(out: Path, result: RunResult) -> Path:
    """Write ``summary.json`` into ``out`` (call last); returns its path."""
    p = Path(out) / "summary.json"
    _write_json(p, result.to_json_dict())
    return p


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a ``params.json`` / ``summary.json``."""
    return json.loads(Path(path).read_text())
