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

from pydantic import Field

from ._mechanics import HourlyStepParams
from ._reference import PriceFileParams, PriceFileReference
from .base import register
from .ideal_market_maker import IdealMarketMaker, IdealMarketMakerParams

DEFAULT_GBM_STEPS = 2000
DEFAULT_GBM_STEP_SECONDS = 3600.0


# the file (PriceFileParams), the flow rates and opening auction for hourly steps
# (HourlyStepParams), then the rest of ideal_market_maker
class HistoricMarketMakerParams(PriceFileParams, HourlyStepParams, IdealMarketMakerParams):
    """Parameters of ``historic_market_maker`` (as ``ideal_market_maker``, plus the file)."""

    steps: int | None = Field(None, ge=1)
    """Steps: default the file's rows (capped at them) or 2,000 (GBM)."""
    step_seconds: float | None = Field(None, gt=0)  # type: ignore[assignment]
    """Seconds per step; ``None``: the file's interval (3600 for the GBM)."""

    glft_A: float = Field(1 / 600, gt=0)
    """Fill intensity at a zero half-spread, fills per second."""


@register
class HistoricMarketMaker(PriceFileReference, IdealMarketMaker):
    """The GLFT market maker of ``ideal_market_maker`` on ``--prices`` (module doc)."""

    name = "historic_market_maker"
    description = (
        "The GLFT market maker of ideal_market_maker on a historic price file "
        "(--prices, e.g. Binance klines; GBM without one): PnL, inventory, spread, fills."
    )
    Params = HistoricMarketMakerParams
    default_steps = DEFAULT_GBM_STEPS
    gbm_steps = DEFAULT_GBM_STEPS
    gbm_step_seconds = DEFAULT_GBM_STEP_SECONDS
