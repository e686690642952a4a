"""Reference price paths of the BTC futures scenarios: a price file or a seeded model.

- :class:`PriceFileParams` and :class:`PriceFileReference`: the reference read from
  ``prices_file`` (``btc_futures``, ``historic_market_maker``, ``perp_btc``), with a
  GBM when there is no file.
- :func:`gbm_reference`, :func:`crash_reference`: seeded synthetic paths from the
  parameters ``s0``, ``mu``, ``sigma`` (and ``crash_*``, ``rebound*``), drawn from
  ``sim.rng("reference_price")``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from defisim.prices import PricePath, crash_path, gbm_path, load_step_path

if TYPE_CHECKING:
    from defisim.service import Simulation


def gbm_reference(sim: Simulation, p: Any, n: int, dt: float) -> PricePath:
    """A GBM of ``n`` points ``dt`` seconds apart from ``s0`` with drift ``mu`` and
    volatility ``sigma`` (annualised), drawn from ``sim.rng("reference_price")``."""
    return gbm_path(n, dt, p.s0, p.mu, p.sigma, sim.rng("reference_price"))


def crash_reference(sim: Simulation, p: Any, n: int, dt: float) -> PricePath:
    """:func:`~defisim.prices.crash_path` of ``n`` points ``dt`` seconds apart, drawn
    from ``sim.rng("reference_price")``: a GBM (``s0``, ``mu``, ``sigma``), a crash of
    ``crash_return`` over ``crash_duration_s`` from ``crash_at_s`` (at the latest two
    points before the end), then ``sigma_after`` and a ``rebound`` over
    ``rebound_duration_s``."""
    return crash_path(
        n,
        dt,
        p.s0,
        p.mu,
        p.sigma,
        sim.rng("reference_price"),
        crash_step=min(int(round(p.crash_at_s / dt)), n - 2),
        crash_steps=max(1, int(round(p.crash_duration_s / dt))),
        crash_return=p.crash_return,
        sigma_after=p.sigma_after,
        rebound=p.rebound,
        rebound_steps=int(round(p.rebound_duration_s / dt)),
    )


class PriceFileParams(BaseModel):
    """Parameter group: the price file of a reference read by :class:`PriceFileReference`.

    A group holds only its own fields: list it before the scenario's base parameter
    model (``class P(PriceFileParams, ScenarioParams)``), whose fields then come first
    and whose configuration applies."""

    prices_file: str | None = None
    """CSV price file (e.g. ``../shared/data/crypto/BTCUSDT_1h.csv``); ``None``: GBM."""
    price_column: str | None = None
    time_column: str | None = None


class PriceFileReference:
    """Scenario mixin: the reference price is ``params.prices_file`` (a
    :class:`PriceFileParams`, with ``step_seconds: float | None``) or, without a file,
    a GBM (:func:`gbm_reference`).

    :meth:`prepare` (idempotent; called from the scenario's ``__init__``, so that a
    missing or malformed file raises :class:`~defisim.prices.PriceFileError` before a
    runner writes anything) reads the file on the ``step_seconds`` grid
    (:func:`~defisim.prices.load_step_path`: ``None`` is one step per row at the file's
    median interval), puts the effective ``step_seconds`` into ``params`` (the file's
    interval, or ``gbm_step_seconds`` for the GBM) and fixes the step count:
    :meth:`file_steps` with a file, else ``params.steps`` or ``gbm_steps``.
    """

    params: Any
    step_seconds: float
    #: Steps of a GBM run without ``steps``.
    gbm_steps: int = 2000
    #: Seconds per step of a GBM run without ``step_seconds``.
    gbm_step_seconds: float = 3600.0
    _file_path: PricePath | None = None
    _steps: int | None = None

    def file_start_row(self) -> int:
        """First row of the file used (after resampling). Default 0."""
        return 0

    def file_steps(self, rows: int) -> int:
        """Steps of a run on a file of ``rows`` points: ``rows`` capped by ``steps``."""
        steps = self.params.steps
        return rows if steps is None else min(steps, rows)

    def prepare(self) -> None:
        """Load the file (if any), resolve ``step_seconds`` and the step count (idempotent).

        Raises:
            defisim.prices.PriceFileError: missing or malformed price file.
        """
        if self._steps is not None:
            return
        p = self.params
        if p.prices_file is not None:
            self._file_path, step = load_step_path(
                p.prices_file, p.step_seconds, time_column=p.time_column,
                price_column=p.price_column, start_row=self.file_start_row(),
            )
            n = self.file_steps(len(self._file_path))
        else:
            step = p.step_seconds if p.step_seconds is not None else self.gbm_step_seconds
            n = p.steps if p.steps is not None else self.gbm_steps
        if p.step_seconds != step:
            self.params = p.model_copy(update={"step_seconds": float(step)})
        self._steps = int(n)

    def total_steps(self) -> int:
        """Number of steps (:meth:`prepare`)."""
        self.prepare()
        return self._steps  # type: ignore[return-value]

    def time_origin(self) -> datetime | None:
        """The price file's first (used) timestamp; ``None`` for a GBM."""
        self.prepare()
        return None if self._file_path is None else self._file_path.start

    def make_path(self, sim: Simulation, n: int) -> PricePath:
        """The file's path, or a GBM of ``max(n, 2)`` points from ``sim.rng("reference_price")``."""
        self.prepare()
        if self._file_path is not None:
            return self._file_path
        return gbm_reference(sim, self.params, max(n, 2), self.step_seconds)
