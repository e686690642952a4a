"""The netlist engine: TokenSPICE's tick loop, horizon arithmetic and logged rows on top
of defisim's runner (``../shared/specs/token-netlists.md`` section 1).

A netlist is a :class:`Netlist` scenario. Its time step Δ is ``step_seconds``; its
horizon is ``max_time`` in ``max_time_unit``, which gives TokenSPICE's float
``max_ticks`` (:func:`max_ticks`, spec 1.2) and ``t_last = ceil(max_ticks)``: the run
steps ticks ``0..t_last`` (``t_last + 1`` steps). Before the agents act at tick t, when
``t·Δ mod log_interval_s == 0`` (integers), the engine logs a row: the netlist's
:meth:`Netlist.row` read from the state after ticks ``0..t-1`` (spec 1.1). The rows
become the run's KPIs (the ``kpis`` table, sweeps, reports) and, after the run,
TokenSPICE's ``data.csv`` in the run folder (:mod:`.tokenspice_csv`).

Order within a tick: the agents :meth:`Netlist.build_agents` returns, in that order
(each gets its own ``phase``, so the order is declared and stable; TokenSPICE's is a
Python set's in wsloop, oceanv3 and the DARC "mult" netlists, spec 1.7). A logging
agent runs before all of them at logged ticks. Agents that wake only when they act
(``next_wakeup``) let the runner skip idle ticks (:attr:`Netlist.skip_idle`); the
logger wakes at every logged tick, so rows are never skipped.

Randomness: every draw comes from :attr:`Netlist.rng` (a :class:`random.Random` seeded
from the run's seed through ``sim.rng("netlist")``): one shared Mersenne Twister
consumed in the call order the spec documents, as TokenSPICE's global ``random``.
"""

from __future__ import annotations

import math
import random
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator

from defisim.agents.base import Agent

from ..base import Scenario, ScenarioParams

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .tokenspice_plots import YParam

S_MIN = 60
S_HOUR = 3600
S_DAY = 86_400
S_MONTH = 30 * S_DAY
S_YEAR = 365 * S_DAY
"""TokenSPICE's time units in seconds (``util/constants.py``: a month is 30 days, a year
365 days)."""

UNIT_SECONDS = {"min": S_MIN, "minutes": S_MIN, "hours": S_HOUR, "days": S_DAY,
                "months": S_MONTH, "years": S_YEAR}
BASE_COLUMNS = ("Tick", "Second", "Min", "Hour", "Day", "Month", "Year")
"""The engine's own columns, first in every row (spec 1.4)."""

TimeUnit = str
"""A horizon unit: ``ticks``, ``min``/``minutes``, ``hours``, ``days``, ``months``, ``years``."""


def max_ticks(value: float, unit: str, time_step_s: float) -> float:
    """TokenSPICE's ``setMaxTime(value, unit)`` (spec 1.2): ``value`` for ``ticks``, else
    ``value·S_unit/Δ + 1`` with true division (a float, e.g. 122.666... for 10 years of
    30-day months). Raises ``ValueError`` for an unknown unit or a step <= 0."""
    if time_step_s <= 0:
        raise ValueError(f"time step must be > 0 s, got {time_step_s!r}")
    if unit == "ticks":
        return float(value)
    try:
        s = UNIT_SECONDS[unit]
    except KeyError:
        raise ValueError(f"unknown time unit {unit!r}; known: ticks, {', '.join(UNIT_SECONDS)}") from None
    return value * s / time_step_s + 1


def base_values(tick: int, time_step_s: float) -> list[Any]:
    """The engine columns of tick ``tick`` (spec 1.4): ``Tick`` (int), ``Second`` =
    ``float(t·Δ)``, then that float over S_MIN, S_HOUR, S_DAY, S_MONTH, S_YEAR."""
    e = float(tick * time_step_s)
    return [tick, e, e / S_MIN, e / S_HOUR, e / S_DAY, e / S_MONTH, e / S_YEAR]


def human(raw: int, decimals: int = 18) -> float:
    """Base units as a float in asset units, through an exact Decimal (so 0.75 OCEAN in
    wei prints ``0.75``, as TokenSPICE's ``fromBase18``)."""
    return float(Decimal(raw).scaleb(-decimals))


class NetlistParams(ScenarioParams):
    """What every netlist has: its clock and horizon (TokenSPICE ``SimStrategyBase``)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (None: ``ceil(max_ticks) + 1``, the netlist's horizon)."""
    step_seconds: float = Field(S_HOUR, gt=0)
    """Δ: seconds per tick (TokenSPICE ``time_step``)."""
    max_time: float = Field(10.0, gt=0)
    """The horizon's length, in ``max_time_unit`` (TokenSPICE ``setMaxTime``)."""
    max_time_unit: TimeUnit = "days"
    """The horizon's unit: ``ticks`` or min/hours/days/months/years (30-day months, 365-day years)."""
    log_interval_s: float = Field(S_DAY, gt=0)
    """L: a row is logged before ticks whose time is a multiple of this (seconds)."""

    @field_validator("max_time_unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if v != "ticks" and v not in UNIT_SECONDS:
            raise ValueError(f"unknown time unit {v!r}; known: ticks, {', '.join(UNIT_SECONDS)}")
        return v


class _RowLogger(Agent):
    """Logs the netlist's row before every other agent of a logged tick."""

    phase = -(10**9)

    def __init__(self, netlist: Netlist) -> None:
        super().__init__("netlist:logger")
        self.netlist = netlist

    def step(self, sim: Simulation) -> None:
        self.netlist.log_row(sim)

    def next_wakeup(self, now: float) -> float | None:
        return self.netlist.next_log_time(now)


class Netlist(Scenario):
    """A TokenSPICE-style netlist (module docstring).

    Subclasses set ``name``, ``description``, ``Params`` (a :class:`NetlistParams`
    subclass with the netlist's defaults: Δ, horizon, log interval and every
    strategy constant as a typed parameter) and implement:

    - :meth:`build_agents` (create assets, parties and wallets; return the agents in
      their stepping order);
    - :meth:`columns` (KPI column names, after the 7 engine columns) and :meth:`row`
      (their values now; ints stay ints, as TokenSPICE prints them);
    - optionally :meth:`plot_specs` (TokenSPICE's plot instructions), :attr:`x_label`,
      :meth:`after_tick` (netlist updates after the agents, e.g. wsloop's speculation).

    ``csv_style``: ``"tokenspice"`` (values as ``str``) or ``"darc"`` (``%g``, plus
    ``datax.csv`` padded to the last header, spec 1.8).
    """

    Params: ClassVar[type[ScenarioParams]] = NetlistParams
    csv_style: ClassVar[Literal["tokenspice", "darc"]] = "tokenspice"
    x_label: ClassVar[str] = "Day"
    """The x column of the plots: one of the engine columns (``Day``, ``Month``, ``Year``)."""
    skip_idle: ClassVar[bool] = True
    """Let the runner jump over ticks where no agent is due (event-driven agents)."""

    def __init__(self, params: NetlistParams | None = None) -> None:
        super().__init__(params)
        self.rows: list[tuple[list[str], list[Any]]] = []
        """Every logged row: (header, values), engine columns included."""
        self.rp_rows: list[tuple[list[str], list[Any]]] = []
        """DARC-SPICE's research-project rows (``rpdata.csv``), logged with each row when
        :meth:`rp_columns` is not ``None``."""
        self.rng = random.Random(0)
        self._pending: dict[str, float] | None = None
        self._pending_tick = -1
        self._step_ns = 0
        self._log_ns = 0

    # -- horizon ---------------------------------------------------------------------
    @property
    def max_ticks(self) -> float:
        """TokenSPICE's float ``max_ticks`` (:func:`max_ticks`)."""
        p = self.params
        return max_ticks(p.max_time, p.max_time_unit, p.step_seconds)

    @property
    def t_last(self) -> int:
        """The last stepped tick, ``ceil(max_ticks)`` (spec 1.2)."""
        return math.ceil(self.max_ticks)

    def total_steps(self) -> int:
        if self.params.steps is not None:
            return self.params.steps
        return self.t_last + 1

    # -- to implement ----------------------------------------------------------------
    def build_agents(self, sim: Simulation) -> list[Agent]:
        """Create the netlist's assets, parties and wallets; return its agents in
        stepping order."""
        raise NotImplementedError

    def columns(self) -> list[str]:
        """The KPI column names, in order (the engine's 7 come first)."""
        raise NotImplementedError

    def row(self, sim: Simulation) -> list[Any]:
        """The KPI values now, in :meth:`columns` order."""
        raise NotImplementedError

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """TokenSPICE's plot instructions for a CSV with ``header`` (default: none)."""
        return []

    def before_tick(self, sim: Simulation) -> None:
        """Netlist state updates before the agents of a tick, after its row is logged
        (default: nothing). A value set here is stale while the *next* row is logged: a
        model tick counter the row reads (TokenSPICE's ``state.tick`` = t during tick t's
        row) must not be set here; wsloop derives it from its KPIs' tick count."""

    def after_tick(self, sim: Simulation) -> None:
        """Netlist state updates after the agents of a tick (default: nothing)."""

    def rp_plot_specs(self, header: list[str]) -> list[YParam]:
        """Plot instructions for ``rpdata.csv`` (DARC-SPICE's research projects; default
        none)."""
        return []

    def rp_columns(self) -> list[str] | None:
        """DARC-SPICE's research-project columns (``netlist_rp_createLogData``, spec 1.8),
        logged with each row into ``rpdata.csv``; ``None`` (default): no ``rpdata.csv``."""
        return None

    def rp_row(self, sim: Simulation) -> list[Any]:
        """The research-project values now, in :meth:`rp_columns` order."""
        return []

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        """KPIs recorded with each logged row that are not CSV columns (default: none)."""
        return {}

    # -- engine ----------------------------------------------------------------------
    def build(self, sim: Simulation) -> list[Agent]:
        p = self.params
        self._step_ns = round(p.step_seconds * 1_000_000_000)
        self._log_ns = round(p.log_interval_s * 1_000_000_000)
        self.rng = random.Random(int(sim.rng("netlist").integers(0, 2**63)))
        self.rows = []
        self.rp_rows = []
        agents = self.build_agents(sim)
        for i, a in enumerate(agents):
            a.phase = i  # the declared order, stable (spec 1.7)
        head = [_TickStart(self)] if type(self).before_tick is not Netlist.before_tick else []
        tail = [_TickEnd(self)] if type(self).after_tick is not Netlist.after_tick else []
        return [_RowLogger(self), *head, *agents, *tail]

    def next_log_time(self, now: float) -> float:
        """Seconds of the first logged tick after ``now`` (``inf`` past ``t_last``)."""
        now_ns = round(now * 1_000_000_000)
        nxt = (now_ns // self._log_ns + 1) * self._log_ns
        # logged ticks are whole ticks: the first multiple of L that is a tick time
        while nxt % self._step_ns:
            nxt += self._log_ns
        if nxt // self._step_ns > self.t_last:
            return math.inf
        return nxt / 1_000_000_000

    def log_row(self, sim: Simulation) -> None:
        """Record the row of the current tick (called before its agents act)."""
        tick = sim.now_ns // self._step_ns
        if sim.now_ns % self._log_ns or tick > self.t_last:
            return
        cols = self.columns()
        values = self.row(sim)
        if len(values) != len(cols):
            raise ValueError(f"netlist {self.name}: row has {len(values)} values for "
                             f"{len(cols)} columns")
        header = [*BASE_COLUMNS, *cols]
        base = base_values(tick, self.params.step_seconds)
        self.rows.append((header, [*base, *values]))
        rp_cols = self.rp_columns()
        if rp_cols is not None:
            self.rp_rows.append(([*BASE_COLUMNS, *rp_cols], [*base, *self.rp_row(sim)]))
        self._pending = {c: float(v) for c, v in zip(cols, values, strict=True)}
        self._pending.update(self.extra_kpis(sim))
        self._pending_tick = tick

    def kpi_names(self, sim: Simulation) -> list[str]:
        """The KPIs a run records (known after the build): the columns, then the extra KPIs."""
        return [*self.columns(), *self.extra_kpis(sim)]

    def kpis(self, sim: Simulation) -> dict[str, float]:
        """The row logged at this step (its KPI columns as floats), else ``{}``."""
        if self._pending is not None and sim.now_ns // self._step_ns == self._pending_tick:
            out, self._pending = self._pending, None
            return out
        return {}

    def after_run(self, result: Any) -> None:
        """Write ``data.csv`` (and the DARC files) into the run folder."""
        if result.out_dir is not None:
            self.write_csv(result.out_dir)

    def write_csv(self, out_dir: str | Path) -> list[Path]:
        """Write the logged rows as TokenSPICE's (or DARC-SPICE's) CSV files into
        ``out_dir``; returns their paths."""
        from .tokenspice_csv import write_rows

        return write_rows(Path(out_dir), self.rows, self.csv_style,
                          rp_rows=self.rp_rows if self.rp_columns() is not None else None)


class _TickStart(Agent):
    """Runs the netlist's :meth:`Netlist.before_tick` before the agents of every tick."""

    phase = -(10**9) + 1

    def __init__(self, netlist: Netlist) -> None:
        super().__init__("netlist:tick_start")
        self.netlist = netlist

    def step(self, sim: Simulation) -> None:
        self.netlist.before_tick(sim)


class _TickEnd(Agent):
    """Runs the netlist's :meth:`Netlist.after_tick` after every agent of every tick."""

    phase = 10**9

    def __init__(self, netlist: Netlist) -> None:
        super().__init__("netlist:tick_end")
        self.netlist = netlist

    def step(self, sim: Simulation) -> None:
        self.netlist.after_tick(sim)


__all__ = [
    "BASE_COLUMNS",
    "S_DAY",
    "S_HOUR",
    "S_MIN",
    "S_MONTH",
    "S_YEAR",
    "Netlist",
    "NetlistParams",
    "base_values",
    "human",
    "max_ticks",
]
