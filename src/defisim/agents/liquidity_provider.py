"""The liquidity-provider agent: a bonded commitment plus quotes that meet (or miss) it.

A liquidity provider (spec ``../shared/specs/futures-market.md`` section 8, Vega
0044-LIME / 0042-LIQF) commits a bond and bids a liquidity fee factor. Its
obligation: on each side, resting orders within ``price_range`` of the mid whose
notional (mark price x remaining size) is at least ``commitment x
stake_to_volume``. The fraction of each epoch it meets the obligation (time on
book) decides its share of the liquidity fees and whether its bond is slashed.

:class:`LiquidityProvider` commits in :meth:`~LiquidityProvider.initialise`
(during the opening auction the commitment is active at once) and each step
quotes a ladder whose size, width and presence are parameters, so that one class
plays the LP that meets its obligation, the one that quotes too little
(``coverage < 1``), the one that quotes too wide (``range_position > 1``) and the
one that is often away (``time_on_book < 1``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .trading import MarketAgent

if TYPE_CHECKING:
    from defisim.service import Simulation

    from .feeds import ReferencePriceFeed


class LiquidityProvider(MarketAgent):
    """Commits ``commitment`` with fee bid ``fee`` and quotes a ladder around the mid.

    Each step while the market trades (continuous trading and auctions; in an
    auction the ladder is centred on the reference price):

    1. With probability ``1 - time_on_book`` (one draw from :attr:`rng`) it is
       away: it cancels its quotes and does nothing else this step.
    2. Centre ``c``: the feed's reference price (``anchor="reference"``) or the
       book's mid (``"mid"``, falling back to the reference when a side is empty
       or in an auction).
    3. Ladder: ``levels`` orders per side, level ``i`` at
       ``c (1 -/+ d_i)`` with ``d_i`` spread evenly from ``inner_bps`` to
       ``range_position x price_range`` (the market's obligation range), so
       ``range_position`` 0.8 keeps the whole ladder inside the range and 1.5 puts
       all but the inner levels outside it. Each level is
       ``coverage x commitment x stake_to_volume / (levels x c)`` contracts: a
       ``coverage`` of 1.2 quotes 20 % more notional than the obligation, 0.5 half
       of it. With ``inner_bps`` beyond the range everything is outside.
    4. Resting orders already at a wanted price (half a tick) and size (half a
       lot) stay (time priority); the others are cancelled, the missing placed
       (GTC limit, post-only so that a quote never takes liquidity).
    5. Inventory: when ``|position|`` exceeds ``hedge_above`` contracts it sends a
       reduce-only IOC market order for the excess (continuous trading only),
       standing for a hedge on another venue.

    Args:
        name, market, asset, collateral: see :class:`~defisim.agents.trading.MarketAgent`.
        feed: the reference price feed.
        commitment: the bond, asset units (> 0).
        fee: the liquidity fee factor bid, a fraction of trade value (e.g. 0.002).
        coverage: quoted notional per side / obligation (>= 0).
        range_position: outermost level's distance / the obligation's price range (> 0).
        inner_bps: innermost level's distance from the centre, basis points (>= 0).
        levels: orders per side (>= 1).
        time_on_book: probability of quoting in a step, in [0, 1].
        hedge_above: inventory (contracts) above which the excess is hedged; ``None``: never.
        anchor: ``"reference"`` or ``"mid"``.

    Attributes:
        submitted: the reason code of the commitment ("" when accepted).
        steps_quoted, steps_away: how many steps it quoted / stayed away.
    """

    phase = 1

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        asset: str = "USDT",
        collateral: float = 1_000_000.0,
        commitment: float = 50_000.0,
        fee: float = 0.002,
        coverage: float = 1.2,
        range_position: float = 0.8,
        inner_bps: float = 10.0,
        levels: int = 3,
        time_on_book: float = 1.0,
        hedge_above: float | None = None,
        anchor: str = "reference",
    ) -> None:
        super().__init__(name, market, asset, collateral)
        if not commitment > 0 or not 0 <= fee <= 1:
            raise ValueError(f"{name}: commitment must be > 0 and fee in [0, 1]")
        if coverage < 0 or not range_position > 0 or inner_bps < 0 or levels < 1:
            raise ValueError(
                f"{name}: need coverage >= 0, range_position > 0, inner_bps >= 0, levels >= 1"
            )
        if not 0 <= time_on_book <= 1:
            raise ValueError(f"{name}: time_on_book must be in [0, 1]")
        if anchor not in ("reference", "mid"):
            raise ValueError(f"{name}: anchor must be 'reference' or 'mid'")
        self.feed = feed
        self.commitment = float(commitment)
        self.fee = float(fee)
        self.coverage = float(coverage)
        self.range_position = float(range_position)
        self.inner_bps = float(inner_bps)
        self.levels = int(levels)
        self.time_on_book = float(time_on_book)
        self.hedge_above = hedge_above
        self.anchor = anchor
        self.submitted: str | None = None
        self.steps_quoted = 0
        self.steps_away = 0
        self._stv = 1.0
        self._range = 0.05

    def initialise(self, sim: Simulation) -> None:
        """Create and fund the party, then submit the commitment (the bond moves from
        general to the bond account)."""
        super().initialise(sim)
        lp = sim.market(self.market).config.liquidity
        self._stv = float(lp.stake_to_volume)
        self._range = float(lp.price_range)
        self.submitted = sim.submit_liquidity(self.name, self.market, self.commitment, self.fee)

    def centre(self, sim: Simulation) -> float:
        """The ladder's centre ``c`` (quote units)."""
        if self.anchor == "mid" and not sim.in_auction(self.market):
            mid = sim.mid_price(self.market)
            if mid is not None:
                return mid
        return self.feed.price

    def ladder(self, sim: Simulation, c: float) -> list[tuple[str, float, float]]:
        """The wanted quotes ``(side, price, size)`` around centre ``c``."""
        n = self.levels
        outer = self.range_position * self._range
        inner = min(self.inner_bps / 10_000, outer)
        commit = self.commitment
        prov = sim.liquidity_provisions(self.market).get(self.name)
        if prov is not None and prov["commitment"] > 0:
            commit = prov["commitment"]  # after a slash the obligation follows the bond
        size = self.size(sim, self.coverage * commit * self._stv / (n * c))
        if size <= 0:
            return []
        out = []
        for i in range(n):
            d = inner if n == 1 else inner + (outer - inner) * i / (n - 1)
            for side, p in (("buy", c * (1 - d)), ("sell", c * (1 + d))):
                if p > 0:
                    out.append((side, sim.round_price(self.market, p, side), size))
        return out

    def step(self, sim: Simulation) -> None:
        m = self.market
        if not self.trading(sim, m) or self.submitted:
            return
        if self.rng.random() >= self.time_on_book:
            self.steps_away += 1
            if sim.open_orders(self.name, m):
                sim.cancel_all(self.name, m)
            return
        self.steps_quoted += 1
        self._hedge(sim)
        todo = self.ladder(sim, self.centre(sim))
        tick, lot = self._tick / 2, self._lot / 2
        for o in sim.open_orders(self.name, m):
            for j, (side, p, sz) in enumerate(todo):
                if side == o.side and abs(o.price - p) < tick and abs(o.remaining - sz) < lot:
                    del todo[j]
                    break
            else:
                sim.cancel_order(self.name, m, o.order_id)
        for side, p, sz in todo:
            self.send_with_retry(sim, side, sz, p, time_in_force="GTC", post_only=True)

    def _hedge(self, sim: Simulation) -> None:
        if self.hedge_above is None or sim.in_auction(self.market):
            return
        pos = sim.position(self.name, self.market)
        excess = abs(pos) - self.hedge_above
        if excess > 0:
            side = "sell" if pos > 0 else "buy"
            self.send(
                sim, side, excess, None, order_type="MARKET", time_in_force="IOC", reduce_only=True
            )
