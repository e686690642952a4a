"""Margin levels (spec section 4, 0019-MCAL) in exact integer arithmetic."""

from __future__ import annotations

from dataclasses import dataclass

from defisim.numeric.fixed import ONE, ceil_div, to_fixed

from .params import MarketConfig
from .risk import RiskFactors


@dataclass(frozen=True, slots=True)
class MarginLevels:
    """Margin levels of one party in one market, in base units of the settlement asset."""

    maintenance: int
    search: int
    initial: int
    release: int


class MarginCalculator:
    """Maintenance margin and the levels derived from it, for one market.

    With V the open position, B and S the remaining buy and sell order sizes
    (human units: raw / 10^PDP), P the margin price, f1/f2 the slippage factors:

    - if V + B > 0: ``MM_long  = P (f1 V+ + f2 V+^2) + V+ RF_long P + B RF_long P``
    - if V - S < 0: ``MM_short = P (f1 V- + f2 V-^2) + V- RF_short P + S RF_short P``
    - ``MM = ceil(max(MM_long, MM_short))`` (0 if neither applies)
    - in an auction the order term is ``RF * max(sum size_i price_i, B * auction price)``
    - search, initial, release = ``floor(factor * MM)``

    Source: ``../shared/specs/futures-market.md`` section 4; the slippage term uses
    the open position only, as Vega core does. Test vectors 0019-MCAL-210 and
    0019-MCAL-234.

    All inputs are raw integers; ``price_factor`` converts one raw price unit of
    one contract to base units of the asset.
    """

    __slots__ = ("_f1", "_f2", "_rfl", "_rfs", "_pf", "_d", "_den", "_s", "_i", "_r")

    def __init__(self, config: MarketConfig, rf: RiskFactors, price_factor: int) -> None:
        self._f1 = to_fixed(config.linear_slippage_factor)
        self._f2 = to_fixed(config.quadratic_slippage_factor)
        self._rfl = rf.long
        self._rfs = rf.short
        self._pf = price_factor
        self._d = 10**config.position_decimal_places
        self._den = ONE * self._d * self._d
        ms = config.margin_scaling
        self._s = to_fixed(ms.search)
        self._i = to_fixed(ms.initial)
        self._r = to_fixed(ms.release)

    def maintenance(
        self,
        position: int,
        buy_volume: int,
        sell_volume: int,
        price: int,
        auction_price: int | None = None,
        buy_notional: int = 0,
        sell_notional: int = 0,
    ) -> int:
        """Maintenance margin (base units).

        Args:
            position: signed open position V (raw).
            buy_volume, sell_volume: remaining sizes B and S of resting orders (raw).
            price: margin price P (raw ticks): the mark price.
            auction_price: ``max(mark, indicative)`` when the market is in an
                auction (switches on the auction order term), else ``None``.
            buy_notional, sell_notional: sum of ``remaining * price`` of the
                party's buy (sell) orders, used only in auctions.
        """
        d = self._d
        best = 0
        if position + buy_volume > 0:
            v = position if position > 0 else 0
            rf = self._rfl
            n = price * (self._f1 * v * d + self._f2 * v * v + rf * d * v)
            if buy_volume:
                if auction_price is None:
                    n += rf * d * buy_volume * price
                else:
                    n += rf * d * max(buy_notional, buy_volume * auction_price)
            best = n
        if position - sell_volume < 0:
            v = -position if position < 0 else 0
            rf = self._rfs
            n = price * (self._f1 * v * d + self._f2 * v * v + rf * d * v)
            if sell_volume:
                if auction_price is None:
                    n += rf * d * sell_volume * price
                else:
                    n += rf * d * max(sell_notional, sell_volume * auction_price)
            if n > best:
                best = n
        if best <= 0:
            return 0
        return ceil_div(best * self._pf, self._den)

    def unit(self, position: int, buy_volume: int, sell_volume: int) -> int:
        """Maintenance per raw price unit in continuous trading: ``K`` with
        ``maintenance(V, B, S, P) == ceil(P * K * price_factor / (10^18 * 10^(2 PDP)))``.

        Out of an auction every term of section 4 is linear in the margin price, so
        a party's ``K`` only changes when its position or orders do; the market
        caches it per party and a mark-to-market pass costs one multiplication per
        party (:meth:`maintenance_at`).
        """
        d = self._d
        best = 0
        if position + buy_volume > 0:
            v = position if position > 0 else 0
            rf = self._rfl
            best = self._f1 * v * d + self._f2 * v * v + rf * d * (v + buy_volume)
        if position - sell_volume < 0:
            v = -position if position < 0 else 0
            rf = self._rfs
            n = self._f1 * v * d + self._f2 * v * v + rf * d * (v + sell_volume)
            if n > best:
                best = n
        return best

    @property
    def denominator(self) -> int:
        """``10^18 * 10^(2 PDP)``, the divisor of :meth:`maintenance_at`."""
        return self._den

    @property
    def search_factor(self) -> int:
        """Search scaling factor over 10^18."""
        return self._s

    @property
    def release_factor(self) -> int:
        """Release scaling factor over 10^18."""
        return self._r

    def maintenance_at(self, unit: int, price: int) -> int:
        """Maintenance margin (base units) from :meth:`unit` at the margin price ``price``."""
        if unit <= 0 or price <= 0:
            return 0
        return -(-(price * unit * self._pf) // self._den)

    def levels(self, maintenance: int) -> MarginLevels:
        """Search, initial and release levels for a maintenance margin (floored)."""
        return MarginLevels(
            maintenance,
            maintenance * self._s // ONE,
            maintenance * self._i // ONE,
            maintenance * self._r // ONE,
        )

    def initial(self, maintenance: int) -> int:
        return maintenance * self._i // ONE

    def search(self, maintenance: int) -> int:
        return maintenance * self._s // ONE

    def release(self, maintenance: int) -> int:
        return maintenance * self._r // ONE
