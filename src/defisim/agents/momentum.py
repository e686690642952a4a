"""The momentum (technical) trader: RSI and MACD from ``talipp``.

Indicators (computed incrementally by :mod:`talipp.indicators`, one value per
step):

- RSI (Wilder 1978, "New Concepts in Technical Trading Systems"), period
  ``rsi_period``, on a 0-100 scale;
- MACD (Appel 1979): EMA(fast) - EMA(slow), its EMA(signal) and the histogram
  ``MACD - signal``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from talipp.indicators import MACD, RSI

from .trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .feeds import ReferencePriceFeed


class MomentumTrader(MarketAgent):
    """Trades RSI crossings confirmed by the MACD histogram.

    Price series: one value per step, the market's mark price
    (``price_source="mark"``, the default: what an on-chain trader sees; steps
    before the opening auction uncrosses are skipped), the last traded price
    (``"last"``) or the feed's reference price (``"reference"``).

    Rule, evaluated after adding the step's price (``RSI_prev`` the value one
    step earlier, ``H`` the MACD histogram):

    - buy signal: RSI crosses up through ``rsi_lower`` (``RSI_prev < rsi_lower <=
      RSI``) while ``H > 0`` - the oversold move is over and momentum turned up;
    - sell signal: RSI crosses down through ``rsi_upper`` (``RSI_prev > rsi_upper >=
      RSI``) while ``H < 0``;
    - a signal adds ``trade_size`` contracts in its direction, up to
      ``position_limit`` (a sell signal first closes a long, and vice versa);
    - exit: a long is closed when ``H`` turns negative while RSI is at or above
      50; a short when ``H`` turns positive while RSI is at or below 50.

    Orders are market IOC orders, sent in continuous trading only.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed (only used with ``price_source="reference"``).
        rsi_period: RSI period, steps.
        rsi_lower, rsi_upper: RSI thresholds (0-100).
        macd_fast, macd_slow, macd_signal: MACD periods, steps.
        trade_size: contracts per signal.
        position_limit: absolute position limit, contracts.
        price_source: ``"mark"``, ``"last"`` or ``"reference"``.

    Attributes:
        rsi, macd: the ``talipp`` indicators (inspectable).
        signals: ``(time, +1 / -1 / 0 for exit)`` of every signal acted on.
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed | None = None,
        *,
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        rsi_period: int = 14,
        rsi_lower: float = 30.0,
        rsi_upper: float = 70.0,
        macd_fast: int = 12,
        macd_slow: int = 26,
        macd_signal: int = 9,
        trade_size: float = 0.1,
        position_limit: float = 0.5,
        price_source: Literal["mark", "last", "reference"] = "mark",
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if not 0 <= rsi_lower < rsi_upper <= 100:
            raise ValueError(f"{name}: need 0 <= rsi_lower < rsi_upper <= 100")
        if price_source == "reference" and feed is None:
            raise ValueError(f"{name}: price_source='reference' needs a feed")
        if price_source not in ("mark", "last", "reference"):
            raise ValueError(f"{name}: price_source must be mark, last or reference")
        self.feed = feed
        self.rsi_lower = rsi_lower
        self.rsi_upper = rsi_upper
        self.trade_size = trade_size
        self.position_limit = position_limit
        self.price_source = price_source
        self.rsi = RSI(rsi_period)
        self.macd = MACD(macd_fast, macd_slow, macd_signal)
        self.signals: list[tuple[float, int]] = []
        self._prev_rsi: float | None = None
        self._prev_hist: float | None = None

    def observe(self, sim: Simulation) -> float | None:
        """The step's price from ``price_source`` (``None`` when there is none yet)."""
        if self.price_source == "reference":
            return self.feed.price  # type: ignore[union-attr]
        if self.price_source == "last":
            return sim.futures.last_traded_price(self.market)
        return sim.futures.mark_price(self.market)  # type: ignore[return-value]

    def update(self, price: float) -> int:
        """Add one price to the indicators; return the signal: +1 buy, -1 sell,
        2 exit long, -2 exit short, 0 nothing (the rule in the class doc)."""
        self.rsi.add(price)
        self.macd.add(price)
        rsi = self.rsi[-1]
        mv = self.macd[-1]
        hist = None if mv is None else mv.histogram
        prev_rsi, prev_hist = self._prev_rsi, self._prev_hist
        self._prev_rsi, self._prev_hist = rsi, hist
        if rsi is None or hist is None or prev_rsi is None:
            return 0
        if prev_rsi < self.rsi_lower <= rsi and hist > 0:
            return 1
        if prev_rsi > self.rsi_upper >= rsi and hist < 0:
            return -1
        if prev_hist is not None:
            if prev_hist >= 0 > hist and rsi >= 50:
                return 2
            if prev_hist <= 0 < hist and rsi <= 50:
                return -2
        return 0

    def step(self, sim: Simulation) -> None:
        m = self.market
        price = self.observe(sim)
        if price is None:
            return
        signal = self.update(price)
        if signal == 0 or sim.futures.in_auction(m) or not self.trading(sim, m):
            return
        pos = sim.futures.position(self.name, m)
        if signal == 1:
            size = (-pos if pos < 0 else 0.0) + min(
                self.trade_size, self.position_limit - max(pos, 0.0)
            )
            side = "buy"
        elif signal == -1:
            size = (pos if pos > 0 else 0.0) + min(
                self.trade_size, self.position_limit + min(pos, 0.0)
            )
            side = "sell"
        elif signal == 2 and pos > 0:
            size, side = pos, "sell"
        elif signal == -2 and pos < 0:
            size, side = -pos, "buy"
        else:
            return
        res = self.send_with_retry(sim, side, size, None, order_type="MARKET", time_in_force="IOC")
        if res is not None and res.accepted:
            self.signals.append((sim.now, signal if abs(signal) == 1 else 0))
