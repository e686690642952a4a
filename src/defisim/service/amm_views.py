"""The read-only views of ``sim.amm``: a pool now (:class:`AmmPoolView`) and a V3
position now (:class:`PositionView`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AmmPoolView:
    """One pool now. ``assets`` in the core's order (token0, token1); ``reserves`` in
    asset units, ``reserves_raw`` in base units (V3: the pool's token balances, fees
    and owed amounts included); ``price`` the marginal price of token0 in token1, asset
    units (V2: reserve1 / reserve0, 0 when empty; V3: (√P / 2^96)² scaled by the
    decimals; Balancer: the spot price of token0 in token1 *with* the swap fee,
    ``getSpotPrice(token1, token0)``, what buying a little token0 costs); ``lp_supply``
    in LP units (V2, Balancer: 18 decimals, V2 including the 1,000 locked base units;
    V3: 0); ``fee`` a fraction. V3 only (else None): ``tick``, active ``liquidity`` and
    ``sqrt_price_x96`` (Q64.96), and ``tick_spacing``. Balancer only (else None):
    ``weights``, the normalised weights (fractions summing to 1) in ``assets`` order;
    ``reserves`` are then the recorded balances of all its tokens."""

    pool_id: str
    kind: str
    assets: tuple[str, ...]
    lp_asset: str
    reserves: tuple[float, ...]
    reserves_raw: tuple[int, ...]
    price: float
    lp_supply: float
    lp_supply_raw: int
    fee: float
    tick: int | None = None
    liquidity: int | None = None
    sqrt_price_x96: int | None = None
    tick_spacing: int | None = None
    weights: tuple[float, ...] | None = None

    def price_of(self, asset: str) -> float:
        """The marginal price of ``asset`` in the pool's other asset (asset units):
        ``price`` for token0, ``1 / price`` for token1 (0 when the price is 0). A
        Balancer pool's other tokens: use ``sim.amm.spot_price``. Raises ``ValueError``
        for an asset not among the first two."""
        if asset == self.assets[0]:
            return self.price
        if asset == self.assets[1]:
            return 1 / self.price if self.price else 0.0
        raise ValueError(f"{self.pool_id}: price_of covers {self.assets[:2]}, not {asset!r}")


@dataclass(frozen=True, slots=True)
class PositionView:
    """A V3 position now: ``party``'s liquidity in ``[tick_lower, tick_upper)`` of
    ``pool_id``; ``amount0``/``amount1`` what burning all of it would return now and
    ``fees0``/``fees1`` what it is owed (fees earned up to now, as if poked, plus
    burned but uncollected amounts), both in asset units of token0 / token1."""

    pool_id: str
    party: str
    tick_lower: int
    tick_upper: int
    liquidity: int
    amount0: float
    amount1: float
    fees0: float
    fees1: float


__all__ = ["AmmPoolView", "PositionView"]
