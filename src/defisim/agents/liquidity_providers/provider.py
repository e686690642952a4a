"""The liquidity-provider agent: a bonded commitment plus quotes that meet (or miss) it.

A liquidity provider (spec ``../shared/specs/futures-market.md`` section 8, Vega
0044-LIME / 0042-LIQF) commits a bond and bids a liquidity fee factor. Its
obligation: on each side, resting orders within ``price_range`` of the mid whose
notional (mark price x remaining size) is at least ``commitment x
stake_to_volume``. The fraction of each epoch it meets the obligation (time on
book) decides its share of the liquidity fees and whether its bond is slashed.

:class:`LiquidityProvider` commits in :meth:`~LiquidityProvider.initialise`
(during the opening auction the commitment is active at once) and each step
quotes a ladder whose size, width, shape and presence are parameters, so that one
class plays the LP that meets its obligation, the one that quotes too little
(``coverage < 1``), the one that quotes too wide (``range_position > 1``), the one
that is randomly away (``time_on_book < 1``) and the one that is on the book just as
long as it aims to (``target_time_on_book``). The notional of a side is spread over
the levels uniformly or shaped (``shape``: more near the centre, linearly or
exponentially, or explicit ``weights``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from ..trading import MarketAgent

if TYPE_CHECKING:
    from defisim.protocols.futures import LiquidityResult
    from defisim.service import Simulation

    from ..feeds.reference import ReferencePriceFeed

Shape = Literal["uniform", "linear", "exponential"]


def level_weights(
    distances_bps: Sequence[float],
    shape: Shape = "uniform",
    scale_bps: float = 50.0,
    weights: Sequence[float] | None = None,
) -> list[float]:
    """Fractions (summing to 1) of a side's size put on each level, innermost first.

    Args:
        distances_bps: each level's distance from the centre, basis points, innermost
            first (length ``n >= 1``).
        shape: ``"uniform"`` (``1 / n`` each), ``"linear"`` (weight ``n - i`` for level
            ``i = 0 .. n-1``: the innermost level gets ``n`` times the outermost), or
            ``"exponential"`` (weight ``exp(-d_i / scale_bps)``: the volume at depth
            ``d`` falls by ``e`` every ``scale_bps``, as
            :func:`~defisim.agents.exponential_profile`).
        scale_bps: the exponential's depth scale, basis points (> 0).
        weights: explicit non-negative weights, one per level (overrides ``shape``).

    Raises:
        ValueError: no level, an unknown shape, ``scale_bps <= 0``, or ``weights`` of
            the wrong length, negative, not finite or summing to 0.
    """
    w = _raw_weights(distances_bps, shape, scale_bps, weights)
    total = sum(w)
    return [x / total for x in w]


def _raw_weights(
    distances_bps: Sequence[float],
    shape: Shape,
    scale_bps: float,
    weights: Sequence[float] | None,
) -> list[float]:
    """The unnormalised weights of :func:`level_weights` (uniform: 1 each)."""
    n = len(distances_bps)
    if n < 1:
        raise ValueError("need at least one level")
    if weights is not None:
        w = [float(x) for x in weights]
        if len(w) != n or any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
            raise ValueError(
                f"weights must be {n} finite non-negative numbers with a positive sum, "
                f"got {list(weights)!r}"
            )
    elif shape == "uniform":
        w = [1.0] * n
    elif shape == "linear":
        w = [float(n - i) for i in range(n)]
    elif shape == "exponential":
        if not scale_bps > 0:
            raise ValueError(f"scale_bps must be > 0, got {scale_bps!r}")
        w = [math.exp(-d / scale_bps) for d in distances_bps]
    else:
        raise ValueError(f"unknown shape {shape!r}; use uniform, linear or exponential")
    return w


class LiquidityProvider(MarketAgent):
    """Commits ``commitment`` with fee bid ``fee`` and quotes a ladder around the mid.

    Each step while the market trades (continuous trading and auctions; in an
    auction the ladder is centred on the reference price):

    1. Presence. With ``target_time_on_book`` unset: with probability
       ``1 - time_on_book`` (one draw from :attr:`rng`) it is away. With a target
       ``T``: it keeps, per liquidity epoch (multiples of the market's ``epoch_s``
       from time 0, the market's epochs when it was created at time 0), the seconds
       ``B`` it has quoted and the seconds ``E`` elapsed, and stays away for the
       coming step (of the length of the previous one, ``dt``) exactly when
       ``B / (E + dt) >= T``, so its fraction of the epoch on the book never falls
       below ``T`` at a step and it pulls its quotes whenever it is ahead (being on
       the book is exposure it does not want beyond the target). Away: it cancels
       its quotes and does nothing else this step.
    2. Centre ``c``: the feed's reference price (``anchor="reference"``) or the
       book's mid (``"mid"``, falling back to the reference when a side is empty
       or in an auction).
    3. Ladder: ``levels`` orders per side, level ``i`` at
       ``c (1 -/+ d_i)`` with ``d_i`` spread evenly from ``inner_bps`` to
       ``range_position x price_range`` (the market's obligation range), so
       ``range_position`` 0.8 keeps the whole ladder inside the range and 1.5 puts
       all but the inner levels outside it. A side holds
       ``coverage x commitment x stake_to_volume / c`` contracts: a ``coverage`` of
       1.2 quotes 20 % more notional than the obligation, 0.5 half of it. Level
       ``i`` gets the fraction ``w_i`` of it (:func:`level_weights` of ``shape``,
       ``shape_scale_bps``, ``weights``; ``1 / levels`` each when uniform), rounded
       down to the lot. With ``inner_bps`` beyond the range everything is outside.
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
        shape: how a side's size is spread over the levels: ``"uniform"``,
            ``"linear"`` or ``"exponential"`` (:func:`level_weights`).
        shape_scale_bps: depth scale of ``"exponential"``, basis points (> 0).
        weights: explicit weights per level, innermost first (overrides ``shape``).
        time_on_book: probability of quoting in a step, in [0, 1] (without a target).
        target_time_on_book: fraction of each liquidity epoch to be on the book, in
            [0, 1], or ``None`` (then ``time_on_book`` applies; setting both a target
            and ``time_on_book < 1`` is an error).
        hedge_above: inventory (contracts) above which the excess is hedged; ``None``: never.
        anchor: ``"reference"`` or ``"mid"``.

    Attributes:
        submitted: the reason code of the commitment ("" when accepted).
        steps_quoted, steps_away: how many steps it quoted / stayed away.
        epoch_on_s, epoch_elapsed_s: with a target, the seconds quoted and elapsed in
            the current epoch (up to the last step).
        on_book_fractions: with a target, ``epoch_on_s / epoch_elapsed_s`` of each
            finished epoch (as the agent counted it).

    Raises:
        ValueError: a parameter out of range (the message names it).
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
        shape: Shape = "uniform",
        shape_scale_bps: float = 50.0,
        weights: Sequence[float] | None = None,
        time_on_book: float = 1.0,
        target_time_on_book: float | None = None,
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
        if target_time_on_book is not None:
            if not 0 <= target_time_on_book <= 1:
                raise ValueError(f"{name}: target_time_on_book must be in [0, 1]")
            if time_on_book < 1:
                raise ValueError(f"{name}: give time_on_book or target_time_on_book, not both")
        # validates shape, scale and weights (distances do not matter here)
        level_weights([0.0] * int(levels), shape, shape_scale_bps, weights)
        if anchor not in ("reference", "mid"):
            raise ValueError(f"{name}: anchor must be 'reference' or 'mid'")
        self.feed = feed
        self.commitment = float(commitment)
        self.fee = float(fee)
        self.coverage = float(coverage)
        self.range_position = float(range_position)
        self.inner_bps = float(inner_bps)
        self.levels = int(levels)
        self.shape: Shape = shape
        self.shape_scale_bps = float(shape_scale_bps)
        self.weights = None if weights is None else [float(w) for w in weights]
        self.time_on_book = float(time_on_book)
        self.target_time_on_book = (
            None if target_time_on_book is None else float(target_time_on_book)
        )
        self.hedge_above = hedge_above
        self.anchor = anchor
        #: the commitment's :class:`~defisim.protocols.futures.LiquidityResult` (true
        #: when the bond was accepted); ``None`` before :meth:`initialise`
        self.submitted: LiquidityResult | None = None
        self.steps_quoted = 0
        self.steps_away = 0
        self._stv = 1.0
        self._range = 0.05
        self._epoch_s = 86400.0
        self.epoch_on_s = 0.0
        self.epoch_elapsed_s = 0.0
        self.on_book_fractions: list[float] = []
        self._epoch_index: int | None = None
        self._last_now: float | None = None
        self._last_dt = 0.0
        self._quoting = False

    def initialise(self, sim: Simulation) -> None:
        """Create and fund the party, then submit the commitment (the bond moves from
        general to the bond account)."""
        super().initialise(sim)
        lp = sim.futures.market_config(self.market).liquidity
        self._stv = float(lp.stake_to_volume)
        self._range = float(lp.price_range)
        self._epoch_s = float(lp.epoch_s)
        self.submitted = sim.futures.submit_liquidity(self.name, self.market, self.commitment,
                                                      self.fee)

    def centre(self, sim: Simulation) -> float:
        """The ladder's centre ``c`` (quote units)."""
        if self.anchor == "mid" and not sim.futures.in_auction(self.market):
            mid = sim.futures.mid_price(self.market)
            if mid is not None:
                return mid
        return self.feed.price

    def ladder(self, sim: Simulation, c: float) -> list[tuple[str, float, float]]:
        """The wanted quotes ``(side, price, size)`` around centre ``c``."""
        n = self.levels
        outer = self.range_position * self._range
        inner = min(self.inner_bps / 10_000, outer)
        commit = self.commitment
        prov = sim.futures.liquidity_provisions(self.market).get(self.name)
        if prov is not None and prov["commitment"] > 0:
            commit = prov["commitment"]  # after a slash the obligation follows the bond
        notional = self.coverage * commit * self._stv  # per side, asset units
        ds = [inner if n == 1 else inner + (outer - inner) * i / (n - 1) for i in range(n)]
        w = _raw_weights([d * 10_000 for d in ds], self.shape, self.shape_scale_bps, self.weights)
        w_sum = sum(w)
        out = []
        for d, wi in zip(ds, w, strict=True):
            # uniform: notional / (n c), bit for bit as before shapes existed
            size = self.size(sim, notional * wi / (w_sum * c))
            if size <= 0:
                continue
            for side, p in (("buy", c * (1 - d)), ("sell", c * (1 + d))):
                if p > 0:
                    out.append((side, sim.futures.round_price(self.market, p, side), size))
        return out

    def _present(self, sim: Simulation) -> bool:
        """Whether to quote this step (rule 1 of the class doc)."""
        if self.target_time_on_book is None:
            return self.rng.random() < self.time_on_book
        now, ep = sim.now, self._epoch_s
        k = int(math.floor(now / ep + 1e-9))
        start = k * ep
        if self._last_now is None:
            self.epoch_elapsed_s = now - start  # not on the book before its first step
        else:
            dt = now - self._last_now
            self._last_dt = dt
            if k != self._epoch_index:  # the epoch ended since the last step
                before = max(start - self._last_now, 0.0)
                if self._quoting:
                    self.epoch_on_s += before
                self.epoch_elapsed_s += before
                if self.epoch_elapsed_s > 0:
                    self.on_book_fractions.append(self.epoch_on_s / self.epoch_elapsed_s)
                dt = min(dt, now - start)
                self.epoch_on_s = self.epoch_elapsed_s = 0.0
            if self._quoting:
                self.epoch_on_s += dt
            self.epoch_elapsed_s += dt
        self._epoch_index = k
        self._last_now = now
        ahead = self.epoch_on_s >= self.target_time_on_book * (self.epoch_elapsed_s + self._last_dt)
        self._quoting = not (ahead and self.epoch_elapsed_s + self._last_dt > 0)
        return self._quoting

    def step(self, sim: Simulation) -> None:
        m = self.market
        if not self.trading(sim, m) or (self.submitted is not None and not self.submitted.accepted):
            return  # no quotes without a commitment (a rejected one stays rejected)
        if not self._present(sim):
            self.steps_away += 1
            if sim.futures.open_orders(self.name, m):
                sim.futures.cancel_all(self.name, m)
            return
        self.steps_quoted += 1
        self._hedge(sim)
        self.sync_orders(sim, self.ladder(sim, self.centre(sim)), post_only=True)

    def _hedge(self, sim: Simulation) -> None:
        if self.hedge_above is None or sim.futures.in_auction(self.market):
            return
        pos = sim.futures.position(self.name, self.market)
        excess = abs(pos) - self.hedge_above
        if excess > 0:
            side = "sell" if pos > 0 else "buy"
            self.send(
                sim, side, excess, None, order_type="MARKET", time_in_force="IOC", reduce_only=True
            )
