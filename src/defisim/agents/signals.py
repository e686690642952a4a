"""Single-indicator momentum traders: RSI, stochastic RSI, APO, MACD (``talipp``) and
CMO (TA-Lib).

Indicators (one value per step, all from indicator libraries; none is written by hand
here):

- ``"rsi"``: RSI (Wilder 1978), 0-100, ``talipp.indicators.RSI(period)``;
- ``"stoch_rsi"``: stochastic RSI (Chande and Kroll 1994, "The New Technical
  Trader"), the %K line of ``talipp.indicators.StochRSI(period, stoch_period,
  k_smoothing, d_smoothing)``, 0-100;
- ``"apo"``: absolute price oscillator ``EMA(fast) - EMA(slow)`` in quote units,
  the difference of two ``talipp.indicators.EMA``;
- ``"macd"``: the MACD histogram ``MACD - signal`` of
  ``talipp.indicators.MACD(fast, slow, signal)`` (Appel 1979);
- ``"cmo"``: the Chande momentum oscillator (T. Chande and S. Kroll 1994, "The New
  Technical Trader"), ``100 (Su - Sd) / (Su + Sd)`` with ``Su`` and ``Sd`` the sums of
  the up and down close-to-close moves over the last ``period`` steps, -100..100, from
  ``talib.CMO`` (TA-Lib, the ``ta-lib`` package; ``talipp`` 2.7 has no CMO). TA-Lib
  applies Wilder's smoothing after its first window (over a long series its CMO equals
  ``2 (RSI - 50)``), so the trader keeps the last ``period + 1`` prices and asks
  TA-Lib for the CMO of exactly that window, whose only value is the unsmoothed one
  above (``O(period)`` per step). TA-Lib is imported when a CMO trader is built.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Literal

import numpy as np
from talipp.indicators import EMA, MACD, RSI, StochRSI

from .trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .feeds import ReferencePriceFeed

Signal = Literal["rsi", "stoch_rsi", "apo", "macd", "cmo"]

#: Default ``(lower, upper)`` thresholds per indicator.
DEFAULT_THRESHOLDS: dict[str, tuple[float, float]] = {
    "rsi": (30.0, 70.0),
    "stoch_rsi": (20.0, 80.0),
    "apo": (0.0, 0.0),
    "macd": (0.0, 0.0),
    "cmo": (-50.0, 50.0),
}


class IndicatorMomentumTrader(MarketAgent):
    """Trades the threshold crossings of one indicator (``talipp``, or TA-Lib for CMO).

    Each step it adds the step's price (mark, last traded or reference, as
    :class:`~defisim.agents.MomentumTrader`) to the indicator and reads its value
    ``x`` (``x_prev`` the value one step earlier):

    - oscillators ``"rsi"`` and ``"stoch_rsi"`` (mean-reversion reading of
      momentum): buy when ``x`` crosses up through ``lower`` (``x_prev < lower <=
      x``: the oversold move is over), sell when it crosses down through ``upper``
      (``x_prev > upper >= x``);
    - trend signals ``"apo"``, ``"macd"`` and ``"cmo"``: buy when ``x`` crosses up
      through ``upper`` (``x_prev <= upper < x``), sell when it crosses down through
      ``lower`` (``x_prev >= lower > x``); both 0 by default for APO and MACD (the zero
      line), -50 and +50 for CMO (Chande's levels: a CMO above +50 means the up moves
      of the window are at least three times the down moves).

    A buy signal sends a market IOC buy of ``trade_size`` contracts (plus the short
    it closes), capped so that the position stays within ``position_limit``; a
    sell signal the mirror. Orders only in continuous trading.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference feed (needed for ``price_source="reference"``).
        signal: ``"rsi"``, ``"stoch_rsi"``, ``"apo"``, ``"macd"`` or ``"cmo"``.
        period: RSI period (``rsi``, ``stoch_rsi``) or CMO window (``cmo``), steps.
        stoch_period, k_smoothing, d_smoothing: stochastic RSI periods, steps.
        fast, slow, signal_period: EMA periods of APO / MACD, steps.
        lower, upper: thresholds (default :data:`DEFAULT_THRESHOLDS`).
        trade_size: contracts per signal; position_limit: absolute limit, contracts.
        price_source: ``"mark"``, ``"last"`` or ``"reference"``.

    Attributes:
        values: the indicator value after each price (``None`` while warming up).
        signals: ``(time, +1 / -1)`` of every signal acted on.

    Raises:
        ValueError: an unknown signal, ``lower > upper``, a reference price source
            without a feed, a CMO ``period`` below 1.
        ImportError: ``signal="cmo"`` without TA-Lib installed (``pip install ta-lib``).
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed | None = None,
        *,
        signal: Signal = "rsi",
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        period: int = 14,
        stoch_period: int = 14,
        k_smoothing: int = 3,
        d_smoothing: int = 3,
        fast: int = 12,
        slow: int = 26,
        signal_period: int = 9,
        lower: float | None = None,
        upper: float | None = None,
        trade_size: float = 0.1,
        position_limit: float = 0.5,
        price_source: Literal["mark", "last", "reference"] = "mark",
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if signal not in DEFAULT_THRESHOLDS:
            raise ValueError(f"{name}: signal must be one of {sorted(DEFAULT_THRESHOLDS)}")
        if price_source == "reference" and feed is None:
            raise ValueError(f"{name}: price_source='reference' needs a feed")
        lo, hi = DEFAULT_THRESHOLDS[signal]
        self.lower = lo if lower is None else lower
        self.upper = hi if upper is None else upper
        if self.lower > self.upper:
            raise ValueError(f"{name}: need lower <= upper")
        self.signal = signal
        self.feed = feed
        self.trade_size = trade_size
        self.position_limit = position_limit
        self.price_source = price_source
        if signal == "rsi":
            self._ind = RSI(period)
        elif signal == "stoch_rsi":
            self._ind = StochRSI(period, stoch_period, k_smoothing, d_smoothing)
        elif signal == "apo":
            self._fast, self._slow = EMA(fast), EMA(slow)
        elif signal == "macd":
            self._ind = MACD(fast, slow, signal_period)
        else:
            if period < 1:
                raise ValueError(f"{name}: the CMO period must be >= 1")
            try:
                import talib
            except ImportError as exc:  # an optional dependency until it is declared
                raise ImportError(
                    f"{name}: signal='cmo' needs TA-Lib (pip install ta-lib)"
                ) from exc
            self._talib_cmo = talib.CMO
            self._period = int(period)
            self._window: deque[float] = deque(maxlen=self._period + 1)
        self.values: list[float | None] = []
        self.signals: list[tuple[float, int]] = []

    def value(self, price: float) -> float | None:
        """Add ``price`` to the indicator(s) and return the new value."""
        if self.signal == "apo":
            self._fast.add(price)
            self._slow.add(price)
            f, s = self._fast[-1], self._slow[-1]
            return None if f is None or s is None else f - s
        if self.signal == "cmo":
            self._window.append(float(price))
            if len(self._window) <= self._period:
                return None
            closes = np.fromiter(self._window, dtype=np.float64, count=len(self._window))
            return float(self._talib_cmo(closes, timeperiod=self._period)[-1])
        self._ind.add(price)
        v = self._ind[-1]
        if v is None:
            return None
        if self.signal == "stoch_rsi":
            return v.k
        if self.signal == "macd":
            return v.histogram
        return v

    def update(self, price: float) -> int:
        """Add one price; return +1 (buy), -1 (sell) or 0 (the rule in the class doc)."""
        x = self.value(price)
        prev = self.values[-1] if self.values else None
        self.values.append(x)
        if x is None or prev is None:
            return 0
        lo, hi = self.lower, self.upper
        if self.signal in ("rsi", "stoch_rsi"):
            if prev < lo <= x:
                return 1
            if prev > hi >= x:
                return -1
            return 0
        if prev <= hi < x:
            return 1
        if prev >= lo > x:
            return -1
        return 0

    def observe(self, sim: Simulation) -> float | None:
        if self.price_source == "reference":
            return self.feed.price  # type: ignore[union-attr]
        if self.price_source == "last":
            return sim.futures.last_traded_price(self.market)
        return sim.futures.mark_price(self.market)  # type: ignore[return-value]

    def step(self, sim: Simulation) -> None:
        m = self.market
        price = self.observe(sim)
        if price is None:
            return
        sig = self.update(price)
        if sig == 0 or sim.futures.in_auction(m) or not self.trading(sim, m):
            return
        pos = sim.futures.position(self.name, m)
        if sig == 1:
            size = max(-pos, 0.0) + min(self.trade_size, self.position_limit - max(pos, 0.0))
            side = "buy"
        else:
            size = max(pos, 0.0) + min(self.trade_size, self.position_limit + min(pos, 0.0))
            side = "sell"
        if size <= 0:
            return
        res = self.send_with_retry(sim, side, size, None, order_type="MARKET", time_in_force="IOC")
        if res is not None and res.accepted:
            self.signals.append((sim.now, sig))
