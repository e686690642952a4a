"""``historic_market_maker``: the GLFT market maker of ``ideal_market_maker`` on a
historic price path.

As :mod:`defisim.scenarios.ideal_market_maker` (one GLFT maker against Poisson,
price-sensitive and noise flow; the same ``mm_*`` KPIs), with the reference
price read from ``prices_file`` (``defisim run historic_market_maker --prices
../shared/data/crypto/BTCUSDT_1h.csv``: a Binance kline CSV or any file
:func:`defisim.prices.load_price_csv` reads; ``price_column``, ``time_column``
pick the columns) instead of a GBM. Without a file it falls back to the GBM of
``ideal_market_maker`` with hourly steps.

Time: as ``btc_futures``: ``step_seconds=None`` runs one step per price row, each
the file's (median) interval (gaps collapsed); a given ``step_seconds`` resamples
the file on that grid. ``steps`` defaults to the file's length (capped at it) or
to 2,000 steps for the GBM. The order-flow rates are per second, with defaults
for hourly steps. The file is read when the scenario is constructed, so a missing
or malformed file raises :class:`~defisim.prices.PriceFileError` before a run
folder is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from defisim.prices import PricePath, gbm_path, load_step_path

from .base import register
from .ideal_market_maker import IdealMarketMaker, IdealMarketMakerParams

if TYPE_CHECKING:
    from defisim.service import Simulation

DEFAULT_GBM_STEPS = 2000
DEFAULT_GBM_STEP_SECONDS = 3600.0


class HistoricMarketMakerParams(IdealMarketMakerParams):
    """Parameters of ``historic_market_maker`` (as ``ideal_market_maker``, plus the file)."""

    steps: int | None = Field(None, ge=1)
    """Steps: default the file's rows (capped at them) or 2,000 (GBM)."""
    step_seconds: float | None = Field(None, gt=0)  # type: ignore[assignment]
    """Seconds per step; ``None``: the file's interval (3600 for the GBM)."""
    prices_file: str | None = None
    """CSV price file (e.g. ``../shared/data/crypto/BTCUSDT_1h.csv``); ``None``: GBM."""
    price_column: str | None = None
    time_column: str | None = None

    # flow rates for hourly steps (per second)
    taker_rate_per_s: float = Field(1 / 1200, ge=0)
    ps_taker_rate_per_s: float = Field(1 / 1800, ge=0)
    noise_rate_per_s: float = Field(1 / 1200, ge=0)
    glft_A: float = Field(1 / 600, gt=0)
    """Fill intensity at a zero half-spread, fills per second."""
    opening_auction_s: float = Field(1800.0, ge=0)


@register
class HistoricMarketMaker(IdealMarketMaker):
    """The GLFT market maker of ``ideal_market_maker`` on ``--prices`` (module doc)."""

    name = "historic_market_maker"
    description = (
        "The GLFT market maker of ideal_market_maker on a historic price file "
        "(--prices, e.g. Binance klines; GBM without one): PnL, inventory, spread, fills."
    )
    Params = HistoricMarketMakerParams
    default_steps = DEFAULT_GBM_STEPS

    def __init__(self, params: HistoricMarketMakerParams | None = None) -> None:
        self._file_path: PricePath | None = None
        self._steps: int | None = None
        super().__init__(params)

    def prepare(self) -> None:
        """Load the file (if any), resolve ``step_seconds`` and the step count (idempotent).

        Raises:
            defisim.prices.PriceFileError: missing or malformed price file.
        """
        if self._steps is not None:
            return
        p: HistoricMarketMakerParams = self.params  # type: ignore[assignment]
        if p.prices_file is not None:
            path, step = load_step_path(
                p.prices_file, p.step_seconds, time_column=p.time_column,
                price_column=p.price_column,
            )
            self._file_path = path
            n = len(path) if p.steps is None else min(p.steps, len(path))
        else:
            step = p.step_seconds if p.step_seconds is not None else DEFAULT_GBM_STEP_SECONDS
            n = p.steps if p.steps is not None else DEFAULT_GBM_STEPS
        if p.step_seconds != step:
            self.params = p.model_copy(update={"step_seconds": float(step)})
        self._steps = int(n)

    def total_steps(self) -> int:
        self.prepare()
        return self._steps  # type: ignore[return-value]

    def make_path(self, sim: Simulation, n: int) -> PricePath:
        """The file's path, or a GBM from ``sim.rng("reference_price")``."""
        self.prepare()
        if self._file_path is not None:
            return self._file_path
        p: HistoricMarketMakerParams = self.params  # type: ignore[assignment]
        return gbm_path(
            max(n, 2), self.step_seconds, p.s0, p.mu, p.sigma, sim.rng("reference_price")
        )
