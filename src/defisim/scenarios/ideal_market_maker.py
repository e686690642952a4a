"""``ideal_market_maker``: one GLFT market maker against background order flow.

One USDT-settled BTC futures market (as ``btc_futures``: 0.01 USDT tick, 0.001 BTC
lots, log-normal risk model) around a seeded GBM reference price. The only
quoting market maker is a :class:`~defisim.agents.GLFTMarketMaker` (Gueant,
Lehalle, Fernandez-Tapia 2013: closed-form or finite-horizon optimal quotes);
the background flow is the common agents of
:class:`~defisim.scenarios._mechanics.MechanicsScenario` with the other market
makers and the arbitrageur switched off by default: Poisson market-order takers,
price-sensitive IOC takers and noise limit-order traders, plus (optionally,
``book_count``) exponential-book makers around the reference
(:class:`~defisim.agents.ExponentialBookMarketMaker`) as competing liquidity. An
auction agent crosses at the reference in the opening auction. At the end the
market is settled at the last reference price.

KPIs (besides the common ones), all about the GLFT maker ``glft``:
``mm_pnl`` (USDT, equity minus minted, marked to market), ``mm_inventory`` (BTC),
``mm_bid``/``mm_ask`` (its best quotes, USDT; NaN when that side is not quoted),
``mm_quoted_spread`` (USDT) and ``mm_quoted_spread_bps`` (of the reference),
``mm_fills``, ``mm_buy_fills``, ``mm_sell_fills`` (cumulative trades it was in,
auction trades included), ``mm_volume`` (cumulative BTC), ``mm_return_on_capital``
(``mm_pnl / glft_collateral``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from defisim.agents import GLFTMarketMaker
from defisim.protocols.futures import PositionClosedOut, TradeExecuted

from ._mechanics import NAN, EventCursor, MechanicsParams, MechanicsScenario
from ._reference import gbm_reference
from ._zoo import ASSET, exponential_books, glft_kwargs
from .base import register

if TYPE_CHECKING:
    from defisim.agents import Agent, ReferencePriceFeed
    from defisim.prices import PricePath
    from defisim.service import Simulation

MARKET_ID = "BTCUSDT-FUT"
MM_NAME = "glft"


class IdealMarketMakerParams(MechanicsParams):
    """Parameters of ``ideal_market_maker`` (USDT, BTC, seconds; the common ones are
    :class:`~defisim.scenarios._mechanics.MechanicsParams`)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (default 1,440: one day of 60-second steps)."""
    mu: float = 0.0
    """Annualised drift of the GBM reference."""

    # the common market makers and the arbitrageur are off: the GLFT maker is alone
    as_mm_count: int = Field(0, ge=0)
    sym_mm_count: int = Field(0, ge=0)
    arb_count: int = Field(0, ge=0)

    # background flow (denser than the mechanics defaults)
    taker_count: int = Field(4, ge=0)
    taker_rate_per_s: float = Field(1 / 240, ge=0)
    """Market orders per second per taker."""
    ps_taker_count: int = Field(2, ge=0)
    ps_taker_rate_per_s: float = Field(1 / 240, ge=0)
    book_count: int = Field(0, ge=0)
    """Exponential-book makers around the reference (competing liquidity)."""
    book_total_size: float = Field(2.0, gt=0)
    """BTC per side of each exponential book."""
    book_first_bps: float = Field(15.0, ge=0)
    book_scale_bps: float = Field(20.0, gt=0)

    # the GLFT market maker
    glft_gamma: float = Field(10.0, gt=0)
    """Risk aversion per lot, per fraction of the price."""
    glft_k: float = Field(2000.0, gt=0)
    """Fill-intensity decay per fraction of the price (2000: e-fold every 5 bps)."""
    glft_A: float = Field(1 / 60, gt=0)
    """Fill intensity at a zero half-spread, fills per second."""
    glft_mode: Literal["asymptotic", "finite"] = "asymptotic"
    glft_horizon_s: float = Field(3600.0, ge=0)
    """Rolling horizon of ``mode="finite"`` (seconds)."""
    glft_sigma: float | None = Field(0.6, ge=0)
    """Annualised volatility it assumes (``None``: the feed's realised volatility)."""
    glft_order_size: float = Field(0.1, gt=0)
    """BTC per quote (one lot of the model)."""
    glft_levels: int = Field(1, ge=1)
    glft_level_spacing_bps: float = Field(5.0, ge=0)
    glft_max_inventory: float = Field(2.0, gt=0)
    """BTC."""
    glft_collateral: float = Field(1_000_000.0, gt=0)
    """USDT minted to the maker (the capital of ``mm_return_on_capital``)."""


class MakerTally(EventCursor):
    """Trades and closeouts of one party, counted from the chain's events (each call
    reads the events emitted since the previous one; see :mod:`._mechanics` for the
    contract).

    Attributes:
        buys, sells: trades it bought / sold in; volume: their total size (raw);
        closed_out: its closeouts (``PositionClosedOut`` events).
    """

    def __init__(self, party: str, market: str) -> None:
        super().__init__()
        self.party = party
        self.market = market
        self.buys = 0
        self.sells = 0
        self.volume = 0
        self.closed_out = 0

    def update(self, sim: Simulation) -> None:
        me, m = self.party, self.market
        for e in self.new_events(sim):
            t = type(e)
            if t is TradeExecuted and e.market == m:
                if e.buyer == me:
                    self.buys += 1
                    self.volume += e.size
                elif e.seller == me:
                    self.sells += 1
                    self.volume += e.size
            elif t is PositionClosedOut and e.market == m and e.party == me:
                self.closed_out += 1


def maker_kpis(
    sim: Simulation, name: str, market: str, tally: MakerTally, capital: float, ref: float
) -> dict[str, float]:
    """The ``mm_*`` KPIs of the module doc for party ``name``."""
    tally.update(sim)
    bids = [o.price for o in sim.futures.open_orders(name, market) if o.side == "buy" and o.price]
    asks = [o.price for o in sim.futures.open_orders(name, market) if o.side == "sell" and o.price]
    bid = max(bids) if bids else NAN
    ask = min(asks) if asks else NAN
    spread = ask - bid
    pnl = float(sim.pnl(name, ASSET)) if name in sim.parties else 0.0
    d = sim.futures.units(market).size_factor
    return {
        "mm_pnl": pnl,
        "mm_inventory": float(sim.futures.position(name, market)) if name in sim.parties else 0.0,
        "mm_bid": bid,
        "mm_ask": ask,
        "mm_quoted_spread": spread,
        "mm_quoted_spread_bps": spread / ref * 10_000 if ref > 0 else NAN,
        "mm_fills": float(tally.buys + tally.sells),
        "mm_buy_fills": float(tally.buys),
        "mm_sell_fills": float(tally.sells),
        "mm_volume": tally.volume / d,
        "mm_return_on_capital": pnl / capital if capital > 0 else NAN,
    }


@register
class IdealMarketMaker(MechanicsScenario):
    """A GLFT market maker alone against Poisson, price-sensitive and noise flow
    around a GBM reference (module doc)."""

    name = "ideal_market_maker"
    description = (
        "One GLFT market maker against Poisson / price-sensitive takers and noise "
        "traders around a GBM reference: its PnL, inventory, quoted spread, fills."
    )
    Params = IdealMarketMakerParams
    market_id = MARKET_ID
    default_steps = 1440

    def __init__(self, params: IdealMarketMakerParams | None = None) -> None:
        self.glft: GLFTMarketMaker | None = None
        self.maker_tally = MakerTally(MM_NAME, self.market_id)
        super().__init__(params)

    def make_path(self, sim: Simulation, n: int) -> PricePath:
        """A GBM from ``sim.rng("reference_price")``."""
        return gbm_reference(sim, self.params, max(n, 2), self.step_seconds)

    def extra_agents(self, sim: Simulation, feed: ReferencePriceFeed) -> list[Agent]:
        """The GLFT maker, then the exponential books."""
        p: IdealMarketMakerParams = self.params  # type: ignore[assignment]
        self.maker_tally = MakerTally(MM_NAME, self.market_id)
        self.glft = GLFTMarketMaker(
            MM_NAME,
            self.market_id,
            feed,
            mode=p.glft_mode,
            horizon_s=p.glft_horizon_s,
            **glft_kwargs(p),
        )
        books = exponential_books(p, self.market_id, feed, prefix="book", spacing_bps=5.0)
        return [self.glft, *books]

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        p: IdealMarketMakerParams = self.params  # type: ignore[assignment]
        ref = self.feed.price if self.feed is not None else NAN
        return maker_kpis(sim, MM_NAME, self.market_id, self.maker_tally, p.glft_collateral, ref)
