"""Reference price paths: historical CSV files and synthetic GBM / OU paths.

A :class:`PricePath` is a float64 price series at seconds since its first point.
It feeds oracles, informed traders and scenario setup; it lives off the chain, so
floats are fine here (the chain's integer ticks are made at the boundary).

- :func:`load_price_csv` reads Binance kline exports or any CSV with named columns.
- :func:`gbm_path` and :func:`ou_path` draw synthetic paths from a numpy Generator,
  with annualised parameters over a 365-day year.
- :func:`regime_path`, :func:`crash_path` and :func:`jump_diffusion_path` (module
  :mod:`.regimes`) add regime changes, scheduled crashes and Merton jumps.

This package imports nothing else of defisim.
"""

from .csvfile import (
    EPOCH_UNIT_LIMITS,
    PRICE_COLUMN_NAMES,
    TIME_COLUMN_NAMES,
    load_price_csv,
    load_step_path,
)
from .models import SECONDS_PER_YEAR, gbm_path, ou_path
from .path import MAX_PRICE, PriceFileError, PricePath
from .regimes import crash_path, jump_diffusion_path, regime_path

__all__ = [
    "load_step_path",
    "EPOCH_UNIT_LIMITS",
    "MAX_PRICE",
    "PRICE_COLUMN_NAMES",
    "SECONDS_PER_YEAR",
    "TIME_COLUMN_NAMES",
    "PriceFileError",
    "PricePath",
    "crash_path",
    "gbm_path",
    "jump_diffusion_path",
    "load_price_csv",
    "ou_path",
    "regime_path",
]
