"""The momentum (technical) trader: one class, with a choice of indicator.

The indicator (:mod:`defisim.agents.momentum.indicators`) turns the step's price into
a signal; the trader turns the signal into a market order. The default indicator,
:class:`~defisim.agents.momentum.indicators.RSIMACD`, is the RSI / MACD rule of the
zoo's scenarios; :class:`~defisim.agents.momentum.indicators.RSI`,
:class:`~defisim.agents.momentum.indicators.StochRSI`,
:class:`~defisim.agents.momentum.indicators.APO`,
:class:`~defisim.agents.momentum.indicators.MACD` and
:class:`~defisim.agents.momentum.indicators.CMO` trade the threshold crossings of a
single indicator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ..trading import MarketAgent
from .indicators import Indicator, _trim, make_indicator

if TYPE_CHECKING:
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed

PriceSource = Literal["mark", "last", "reference"]


class MomentumTrader(MarketAgent):
    """Trades the signals of one indicator with market IOC orders.

    Price series: one value per step, the market's mark price
    (``price_source="mark"``, the default: what an on-chain trader sees; steps
    before the opening auction uncrosses are skipped), the last traded price
    (``"last"``) or the feed's reference price (``"reference"``). Each step the price
    goes to the indicator, whose signal (after the price is added) decides:

    - buy (+1): a market buy of ``trade_size`` contracts plus the short it closes,
      capped so that the position stays within ``position_limit``; sell (-1): the
      mirror;
    - exit a long (2): sell the whole long; exit a short (-2): buy the whole short
      (only :class:`~defisim.agents.momentum.indicators.RSIMACD` exits);
    - nothing when flat on an exit, or at 0.

    Orders are market IOC orders, sent in continuous trading only (the indicator
    still takes every price); an order refused for margin or fees is retried at
    half the size (twice).

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed (only used with ``price_source="reference"``).
        indicator: an :class:`~defisim.agents.momentum.indicators.Indicator`, or the
            name of one (``"rsi_macd"``, ``"rsi"``, ``"stoch_rsi"``, ``"apo"``,
            ``"macd"``, ``"cmo"``; :data:`~defisim.agents.momentum.indicators.INDICATORS`)
            built with ``indicator_params``.
        trade_size: contracts per signal.
        position_limit: absolute position limit, contracts.
        price_source: ``"mark"``, ``"last"`` or ``"reference"``.
        indicator_params: the named indicator's parameters (e.g. ``period=5`` for
            ``"cmo"``, ``rsi_period=10`` for ``"rsi_macd"``); none with an object.

    Attributes:
        indicator: the indicator (its values, thresholds and ``talipp`` objects are
            inspectable).
        signals: ``(time, +1 / -1 / 0 for an exit)`` of the signals acted on (the last
            :data:`~.indicators.HISTORY` at least).

    Raises:
        ValueError: a reference price source without a feed, an unknown price source
            or indicator, or an indicator parameter out of range.
        TypeError: ``indicator_params`` with an indicator object, or a parameter the
            named indicator does not take.
        ImportError: ``indicator="cmo"`` without TA-Lib installed (the ``ta`` extra).
    """

    phase = 2

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed | None = None,
        *,
        indicator: Indicator | str = "rsi_macd",
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        trade_size: float = 0.1,
        position_limit: float = 0.5,
        price_source: PriceSource = "mark",
        **indicator_params: Any,
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if isinstance(indicator, str):
            try:
                indicator = make_indicator(indicator, **indicator_params)
            except (ValueError, ImportError) as exc:
                raise type(exc)(f"{name}: {exc}") from exc
        elif indicator_params:
            raise TypeError(
                f"{name}: indicator parameters {sorted(indicator_params)} go with an "
                "indicator name, not an indicator object"
            )
        if price_source == "reference" and feed is None:
            raise ValueError(f"{name}: price_source='reference' needs a feed")
        if price_source not in ("mark", "last", "reference"):
            raise ValueError(f"{name}: price_source must be mark, last or reference")
        self.feed = feed
        self.indicator = indicator
        self.trade_size = trade_size
        self.position_limit = position_limit
        self.price_source = price_source
        self.signals: list[tuple[float, int]] = []

    # ------------------------------------------------------- the indicator's view
    @property
    def values(self) -> list:
        """The indicator's value after each price (see the indicator)."""
        return self.indicator.values

    @property
    def lower(self) -> float:
        """The indicator's lower threshold."""
        return self.indicator.lower

    @property
    def upper(self) -> float:
        """The indicator's upper threshold."""
        return self.indicator.upper

    # ------------------------------------------------------------------- agent
    def observe(self, sim: Simulation) -> float | None:
        """The step's price from ``price_source`` (``None`` when there is none yet)."""
        if self.price_source == "reference":
            return self.feed.price  # type: ignore[union-attr]
        if self.price_source == "last":
            return sim.futures.last_traded_price(self.market)
        return sim.futures.mark_price(self.market)  # type: ignore[return-value]

    def update(self, price: float) -> int:
        """Add one price to the indicator; return its signal (+1 buy, -1 sell, 2 exit
        long, -2 exit short, 0 nothing)."""
        return self.indicator.update(price)

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
            _trim(self.signals)
