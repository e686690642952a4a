"""The Uniswap V3 part of ``sim.amm`` (:class:`V3Calls`, mixed into
:class:`~.amm.AmmFacade`): prices and ticks, positions, pool creation and the position
transactions in asset units (spec ``amm.md`` 2.9-2.12)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from defisim.chain.transactions import Receipt
from defisim.protocols.amm.protocol import Reason
from defisim.protocols.amm.v3 import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK
from defisim.protocols.amm.v3.tick_math import get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio

from .amm_views import PositionView


class V3Calls:
    """``sim.amm``'s V3 calls; relies on :class:`~.amm.AmmFacade`'s helpers (``_dec``,
    ``_entry``, ``_raws``, ``_send``, ``_rejected``, ``_deadline``, ``protocol``)."""

    protocol: Any
    chain: Any

    # -- V3 prices and ticks ------------------------------------------------------
    @staticmethod
    def _sqrt_to_price(sqrt_price_x96: int, d0: int, d1: int) -> float:
        return float(Fraction(sqrt_price_x96 * sqrt_price_x96 * d0, d1 << 192))

    def _price_to_sqrt(self, price: Any, d0: int, d1: int) -> int:
        try:
            fr = Fraction(price)
        except (TypeError, ValueError):
            raise ValueError(f"price must be a finite number > 0, got {price!r}") from None
        if fr <= 0:
            raise ValueError(f"price must be a finite number > 0, got {price!r}")
        ratio = fr * d1 / d0  # token1 base units per token0 base unit
        return math.isqrt(ratio.numerator * (1 << 192) // ratio.denominator)

    def sqrt_price_x96(self, asset0: str, asset1: str, price: float) -> int:
        """√P in Q64.96 for ``price`` (asset units of ``asset1`` per ``asset0``, the
        core's token order: ``asset0 < asset1``), rounded down. Raises ``ValueError``."""
        return self._price_to_sqrt(price, 10 ** self._dec(asset0), 10 ** self._dec(asset1))

    def price_to_tick(self, pool_id: str, price: float) -> int:
        """The usable tick (a multiple of the pool's spacing, rounded down) at ``price``
        (token0 in token1, asset units, as :attr:`AmmPoolView.price`). Raises
        ``KeyError`` (unknown pool), ``ValueError`` (bad price or not a V3 pool)."""
        e = self._v3(pool_id)
        d0, d1 = (10 ** self._dec(a) for a in e.assets)
        sp = min(max(self._price_to_sqrt(price, d0, d1), MIN_SQRT_RATIO), MAX_SQRT_RATIO - 1)
        spacing = e.core.tick_spacing
        tick = get_tick_at_sqrt_ratio(sp) // spacing * spacing
        lo = -(MAX_TICK // spacing) * spacing
        return min(max(tick, lo), -lo)

    def tick_to_price(self, pool_id: str, tick: int) -> float:
        """The price (token0 in token1, asset units) at ``tick`` of a V3 pool."""
        e = self._v3(pool_id)
        if type(tick) is not int or not MIN_TICK <= tick <= MAX_TICK:
            raise ValueError(f"tick must be an int in [{MIN_TICK}, {MAX_TICK}], got {tick!r}")
        d0, d1 = (10 ** self._dec(a) for a in e.assets)
        return self._sqrt_to_price(get_sqrt_ratio_at_tick(tick), d0, d1)

    def _v3(self, pool_id: str) -> Any:
        e = self._entry(pool_id)
        if e.kind != "V3":
            raise ValueError(f"{pool_id} is a {e.kind} pool, not V3")
        return e

    def positions(self, party: str | None = None, pool_id: str | None = None) -> list[PositionView]:
        """The V3 positions with liquidity or owed tokens, optionally of one party and/or
        one pool, in creation order."""
        out = []
        for pid, e in self.protocol.pools.items():
            if e.kind != "V3" or (pool_id is not None and pid != pool_id):
                continue
            for (owner, lo, up) in e.core.positions:
                if party is None or owner == party:
                    v = self.position(owner, pid, lo, up)
                    if v is not None:
                        out.append(v)
        return out

    def position(self, party: str, pool_id: str, tick_lower: int, tick_upper: int) -> PositionView | None:
        """One V3 position now (None if it holds no liquidity and is owed nothing)."""
        e = self._v3(pool_id)
        pool = e.core
        info = pool.positions.get((party, tick_lower, tick_upper))
        if info is None:
            return None
        owed0, owed1 = pool.position_tokens_owed(party, tick_lower, tick_upper)
        if info.liquidity == 0 and owed0 == 0 and owed1 == 0:
            return None
        a0, a1 = (pool.modify_preview(party, tick_lower, tick_upper, -info.liquidity)
                  if info.liquidity else (0, 0))
        d0, d1 = (10 ** self._dec(a) for a in e.assets)
        return PositionView(pool_id, party, tick_lower, tick_upper, info.liquidity, a0 / d0,
                            a1 / d1, owed0 / d0, owed1 / d1)

    # -- V3 -----------------------------------------------------------------------
    def create_v3_pool(self, asset_a: str, asset_b: str, fee: int = 3000, *,
                       price: float | None = None, sqrt_price_x96: int | None = None,
                       tick_spacing: int | None = None) -> str:
        """Create and initialise a V3 pool at ``price`` (asset units of ``asset_b`` per
        ``asset_a``) or at an exact ``sqrt_price_x96`` (Q64.96, √(token1 base units per
        token0 base unit), token0 the smaller asset id; for replays); ``fee`` in pips
        (100, 500, 3000, 10000). Returns the pool id ``"V3:<token0>/<token1>/<fee>"``.
        Raises ``ValueError`` on bad input (give exactly one of the two prices)."""
        for a in (asset_a, asset_b):
            if not isinstance(a, str) or a not in self.chain.ledger.assets:
                raise ValueError(f"unknown asset {a!r}; known: {sorted(self.chain.ledger.assets)}")
        if (price is None) == (sqrt_price_x96 is None):
            raise ValueError("give exactly one of price and sqrt_price_x96")
        if sqrt_price_x96 is not None:
            return self.protocol.create_v3_pool(asset_a, asset_b, fee, sqrt_price_x96, tick_spacing)
        try:
            fr = Fraction(price)
        except (TypeError, ValueError):
            raise ValueError(f"price must be a finite number > 0, got {price!r}") from None
        if fr <= 0:
            raise ValueError(f"price must be a finite number > 0, got {price!r}")
        t0, t1 = sorted((asset_a, asset_b))
        p01 = fr if t0 == asset_a else 1 / fr
        sp = self.sqrt_price_x96(t0, t1, p01)
        return self.protocol.create_v3_pool(asset_a, asset_b, fee, sp, tick_spacing)

    def _v3_tx_pool(self, tx: str, party: Any, pool_id: Any) -> Any:
        e = self.protocol.pools.get(pool_id) if isinstance(pool_id, str) else None
        if e is None or e.kind != "V3":
            what = "unknown pool" if e is None else f"not a V3 pool ({e.kind})"
            return self._rejected(tx, party, "", Reason.UNKNOWN_POOL if e is None else
                                  Reason.INVALID_ARGUMENT, f"{what}: {pool_id!r}")
        return e

    def mint_position(self, party: str, pool_id: str, tick_lower: int, tick_upper: int,
                      amount0: float = 0, amount1: float = 0, *, liquidity: int | None = None,
                      min0: float = 0, min1: float = 0, deadline: float | None = None) -> Receipt:
        """Add liquidity to ``party``'s V3 position ``[tick_lower, tick_upper)``.

        With ``liquidity=None`` the position manager's rule: the largest liquidity
        ``amount0``/``amount1`` (asset units of token0 / token1, the pool's order) buy
        at the execution-time price; with ``liquidity`` (raw int) exactly that, paying
        at most the amounts given (give generous amounts). ``min0``/``min1`` guard
        against price moves. Ticks must be multiples of the pool's spacing.
        ``value``: ``(liquidity, amount0, amount1)`` (raw liquidity, asset units).
        """
        tx = "v3_mint"
        e = self._v3_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        t0, t1 = e.assets
        raws = self._raws(tx, party, ((t0, amount0), (t1, amount1), (t0, min0), (t1, min1)))
        if isinstance(raws, Receipt):
            return raws
        if liquidity is not None and (type(liquidity) is not int or liquidity <= 0):
            return self._rejected(tx, party, pool_id, Reason.INVALID_ARGUMENT,
                                  f"liquidity must be an int > 0, got {liquidity!r}")
        d0, d1 = 10 ** self._dec(t0), 10 ** self._dec(t1)
        return self._send(party, tx, (pool_id, tick_lower, tick_upper, *raws, self._deadline(deadline),
                                      liquidity or 0),
                          lambda v: (v[0], v[1] / d0, v[2] / d1))

    def burn_position(self, party: str, pool_id: str, tick_lower: int, tick_upper: int,
                      liquidity: int | None = None, *, collect: bool = True, min0: float = 0,
                      min1: float = 0, deadline: float | None = None) -> Receipt:
        """Remove ``liquidity`` (raw int; None: all of it) from ``party``'s V3 position
        and, with ``collect``, pay out everything owed (the burned amounts and the fees).
        ``value``: ``(amount0, amount1, collected0, collected1)`` in asset units."""
        tx = "v3_burn"
        e = self._v3_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        t0, t1 = e.assets
        raws = self._raws(tx, party, ((t0, min0), (t1, min1)))
        if isinstance(raws, Receipt):
            return raws
        if liquidity is None:
            info = e.core.positions.get((party, tick_lower, tick_upper))
            liquidity = info.liquidity if info is not None else 0
        if type(liquidity) is not int or liquidity < 0:
            return self._rejected(tx, party, pool_id, Reason.INVALID_ARGUMENT,
                                  f"liquidity must be an int >= 0, got {liquidity!r}")
        d0, d1 = 10 ** self._dec(t0), 10 ** self._dec(t1)
        return self._send(party, tx, (pool_id, tick_lower, tick_upper, liquidity, *raws,
                                      self._deadline(deadline), bool(collect)),
                          lambda v: (v[0] / d0, v[1] / d1, v[2] / d0, v[3] / d1))

    def collect(self, party: str, pool_id: str, tick_lower: int, tick_upper: int) -> Receipt:
        """Pay ``party`` everything its V3 position is owed so far (credited by burns and
        pokes; poke with ``burn_position(..., liquidity=0)`` to credit fees first).
        ``value``: ``(amount0, amount1)`` in asset units."""
        tx = "v3_collect"
        e = self._v3_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        d0, d1 = (10 ** self._dec(a) for a in e.assets)
        m = (1 << 128) - 1
        return self._send(party, tx, (pool_id, tick_lower, tick_upper, m, m),
                          lambda v: (v[0] / d0, v[1] / d1))


__all__ = ["V3Calls"]
