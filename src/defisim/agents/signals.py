"""Single-indicator momentum traders: RSI, stochastic RSI, APO and MACD (``talipp``).

Indicators (all computed incrementally by :mod:`talipp.indicators`, one value per
step; none is written by hand here):

- ``"rsi"``: RSI (Wilder 1978), 0-100, ``talipp.indicators.RSI(period)``;
- ``"stoch_rsi"``: stochastic RSI (Chande and Kroll 1994, "The New Technical
  Trader"), the %K line of ``talipp.indicators.StochRSI(period, stoch_period,
  k_smoothing, d_smoothing)``, 0-100;
- ``"apo"``: absolute price oscillator ``EMA(fast) - EMA(slow)`` in quote units,
  the difference of two ``talipp.indicators.EMA``;
- ``"macd"``: the MACD histogram ``MACD - signal`` of
  ``talipp.indicators.MACD(fast, slow, signal)`` (Appel 1979).

The Chande momentum oscillator (CMO) is not in ``talipp`` 2.7 and is therefore not
offered (the house rule forbids hand-written indicators).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from talipp.indicators import EMA, MACD, RSI, StochRSI

from .trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .feeds import ReferencePriceFeed

Signal = Literal["rsi", "stoch_rsi", "apo", "macd"]

#: Default ``(lower, upper)`` thresholds per indicator.
DEFAULT_THRESHOLDS: dict[str, tuple[float, float]] = {
    "rsi": (30.0, 70.0),
    "stoch_rsi": (20.0, 80.0),
    "apo": (0.0, 0.0),
    "macd": (0.0, 0.0),
}


class IndicatorMomentumTrader(MarketAgent):
    """Trades the threshold crossings of one ``talipp`` indicator.

    Each step it adds the step's price (mark, last traded or reference, as
    :class:`~defisim.agents.MomentumTrader`) to the indicator and reads its value
    ``x`` (``x_prev`` the value one step earlier):

    - oscillators ``"rsi"`` and ``"stoch_rsi"`` (mean-reversion reading of
      momentum): buy when ``x`` crosses up through ``lower`` (``x_prev < lower <=
      x``: the oversold move is over), sell when it crosses down through ``upper``
      (``x_prev > upper >= x``);
    - trend signals ``"apo"`` and ``"macd"``: buy when ``x`` crosses up through
      ``upper`` (``x_prev <= upper < x``), sell when it crosses down through
      ``lower`` (``x_prev >= lower > x``); both 0 by default (the zero line).

    A buy signal sends a market IOC buy of ``trade_size`` contracts (plus the short
    it closes), capped so that the position stays within ``position_limit``; a
    sell signal the mirror. Orders only in continuous trading.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference feed (needed for ``price_source="reference"``).
        signal: ``"rsi"``, ``"stoch_rsi"``, ``"apo"`` or ``"macd"``.
        period: RSI period (``rsi``, ``stoch_rsi``), steps.
        stoch_period, k_smoothing, d_smoothing: stochastic RSI periods, steps.
        fast, slow, signal_period: EMA periods of APO / MACD, steps.
        lower, upper: thresholds (default :data:`DEFAULT_THRESHOLDS`).
        trade_size: contracts per signal; position_limit: absolute limit, contracts.
        price_source: ``"mark"``, ``"last"`` or ``"reference"``.

    Attributes:
        values: the indicator value after each price (``None`` while warming up).
        signals: ``(time, +1 / -1)`` of every signal acted on.
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
        else:
            self._ind = MACD(fast, slow, signal_period)
        self.values: list[float | None] = []
        self.signals: list[tuple[float, int]] = []

    def value(self, price: float) -> float | None:
        """Add ``price`` to the indicator(s) and return the new value."""
        if self.signal == "apo":
            self._fast.add(price)
            self._slow.add(price)
            f, s = self._fast[-1], self._slow[-1]
            return None if f is None or s is None else f - s
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
            return sim.last_traded_price(self.market)
        return sim.mark_price(self.market)  # type: ignore[return-value]

    def step(self, sim: Simulation) -> None:
        m = self.market
        price = self.observe(sim)
        if price is None:
            return
        sig = self.update(price)
        if sig == 0 or sim.in_auction(m) or not self.trading(sim, m):
            return
        pos = sim.position(self.name, m)
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
