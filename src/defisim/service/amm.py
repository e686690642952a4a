"""``sim.amm``: the AMM pools in human units (:class:`AmmFacade`) and the read-only
:class:`AmmPoolView`. The raw protocol is :class:`defisim.protocols.amm.protocol.AmmProtocol`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from defisim.chain.transactions import REJECTED, Receipt, Transaction
from defisim.numeric import amount_to_raw
from defisim.protocols.amm.balancer.bmath import calcInGivenOut, calcOutGivenIn
from defisim.protocols.amm.balancer.bnum import BONE, MAX_IN_RATIO, MAX_OUT_RATIO, bmul
from defisim.protocols.amm.errors import PoolError
from defisim.protocols.amm.protocol import MAX_UINT256, NAME, AmmProtocol, Reason
from defisim.protocols.amm.v2_router import get_amounts_in, get_amounts_out
from defisim.protocols.amm.v3 import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK
from defisim.protocols.amm.v3.tick_math import get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio

if TYPE_CHECKING:
    from .simulation import Simulation


_Q96 = 1 << 96


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


class AmmFacade:
    """``sim.amm``: create pools, add and remove liquidity, swap, read pools (spec 1).

    Amounts are asset units (float/Decimal), converted with each asset's decimals;
    results come back in asset units (``receipt.value``). A bad amount or unknown
    asset is rejected here with a ``TransactionRejected`` event, the rest by the
    protocol (reason: the contract's revert string). ``deadline`` is in seconds of
    chain time (None: no deadline). In mempool mode a call returns the pending receipt
    (``sim.receipt(tx_id).value`` is the protocol's raw receipt).
    """

    def __init__(self, sim: Simulation, protocol: AmmProtocol) -> None:
        self.sim = sim
        self.chain = sim.chain
        self.protocol = protocol

    # -- set-up and views ---------------------------------------------------------
    def create_pair(self, asset_a: str, asset_b: str) -> str:
        """Create a V2 pair; returns its pool id. Raises ``ValueError`` on bad input."""
        return self.protocol.create_pair(asset_a, asset_b)

    def pools(self) -> list[str]:
        """The pool ids."""
        return list(self.protocol.pools)

    def _dec(self, asset: str) -> int:
        return self.chain.ledger.assets[asset].decimals

    def _entry(self, pool_id: str) -> Any:
        try:
            return self.protocol.pools[pool_id]
        except (KeyError, TypeError):
            raise KeyError(f"unknown pool {pool_id!r}; known: {sorted(self.protocol.pools)}") from None

    def pool_view(self, pool_id: str) -> AmmPoolView:
        """The pool now. Raises ``KeyError`` naming the known pools."""
        e = self._entry(pool_id)
        core = e.core
        d0, d1 = (10 ** self._dec(a) for a in e.assets)
        if e.kind == "V2":
            raw = (core.reserve0, core.reserve1)
            human = (raw[0] / d0, raw[1] / d1)
            price = human[1] / human[0] if human[0] else 0.0
            return AmmPoolView(pool_id, e.kind, e.assets, e.lp_asset, human, raw, price,
                               core.total_supply / 10**18, core.total_supply, 0.003)
        if e.kind == "BAL":
            raw = tuple(core.records[a].balance for a in e.assets)
            human = tuple(r / 10 ** self._dec(a) for r, a in zip(raw, e.assets, strict=True))
            tw = core.total_weight
            return AmmPoolView(pool_id, e.kind, e.assets, e.lp_asset, human, raw,
                               self.spot_price(pool_id, e.assets[0], e.assets[1]),
                               core.total_supply / 10**18, core.total_supply, core.swap_fee / BONE,
                               weights=tuple(core.records[a].denorm / tw for a in e.assets))
        raw = (core.balance0, core.balance1)
        return AmmPoolView(pool_id, e.kind, e.assets, e.lp_asset, (raw[0] / d0, raw[1] / d1), raw,
                           self._sqrt_to_price(core.sqrt_price_x96, d0, d1), 0.0, 0,
                           core.fee / 1_000_000, core.tick, core.liquidity, core.sqrt_price_x96,
                           core.tick_spacing)

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

    def quote(self, pool_id: str, asset_in: str, amount: float, exact: str = "in",
              asset_out: str | None = None) -> float:
        """What :meth:`swap` would give now, changing nothing: with ``exact="in"`` the
        output for ``amount`` of ``asset_in``; with ``exact="out"`` the input needed for
        ``amount`` of the other asset. Asset units. Raises ``KeyError`` (unknown pool),
        ``ValueError`` (bad amount or asset, or the pool's error, e.g. not enough
        liquidity)."""
        e = self._entry(pool_id)
        asset_out = self._other(e, asset_in, asset_out)
        raw = self._raw(asset_in if exact == "in" else asset_out, amount)
        if exact not in ("in", "out"):
            raise ValueError(f"exact must be 'in' or 'out', got {exact!r}")
        try:
            if e.kind == "V2":
                path = (asset_in, asset_out)
                amounts = (get_amounts_out(self.protocol.v2_factory, raw, path) if exact == "in"
                           else get_amounts_in(self.protocol.v2_factory, raw, path))
                got = amounts[-1] if exact == "in" else amounts[0]
            elif e.kind == "BAL":
                got = self._bal_quote(e.core, asset_in, asset_out, raw, exact == "in")
            else:
                zfo = asset_in == e.assets[0]
                a0, a1, *_ = e.core.quote(zfo, raw if exact == "in" else -raw)
                got = (-a1 if zfo else -a0) if exact == "in" else (a0 if zfo else a1)
        except PoolError as err:
            raise ValueError(f"cannot quote {pool_id}: {err}") from None
        return got / 10 ** self._dec(asset_out if exact == "in" else asset_in)

    @staticmethod
    def _bal_quote(core: Any, asset_in: str, asset_out: str, raw: int, exact_in: bool) -> int:
        """``calcOutGivenIn`` / ``calcInGivenOut`` (spec 3.3) with the swap's ratio caps."""
        if asset_out not in core.records or asset_in == asset_out:
            raise PoolError("ERR_NOT_BOUND", f"{asset_out}")
        ri, ro = core.records[asset_in], core.records[asset_out]
        if exact_in:
            if raw > bmul(ri.balance, MAX_IN_RATIO):
                raise PoolError("ERR_MAX_IN_RATIO", f"{raw}")
            return calcOutGivenIn(ri.balance, ri.denorm, ro.balance, ro.denorm, raw, core.swap_fee)
        if raw > bmul(ro.balance, MAX_OUT_RATIO):
            raise PoolError("ERR_MAX_OUT_RATIO", f"{raw}")
        return calcInGivenOut(ri.balance, ri.denorm, ro.balance, ro.denorm, raw, core.swap_fee)

    def spot_price(self, pool_id: str, asset: str, quote_asset: str, fee: bool = True) -> float:
        """A Balancer pool's spot price of ``asset`` in ``quote_asset`` (asset units of
        ``quote_asset`` per unit of ``asset``): ``getSpotPrice(quote_asset, asset)``
        (spec 3.3 ``calcSpotPrice``), with the swap fee unless ``fee=False``. Raises
        ``KeyError`` (unknown pool), ``ValueError`` (not a Balancer pool, unbound asset)."""
        e = self._entry(pool_id)
        if e.kind != "BAL":
            raise ValueError(f"{pool_id} is a {e.kind} pool, not BAL")
        if asset not in e.assets or quote_asset not in e.assets:
            raise ValueError(f"{pool_id} holds {e.assets}, not {asset!r}/{quote_asset!r}")
        core = e.core
        raw = (core.get_spot_price(quote_asset, asset) if fee
               else core.get_spot_price_sans_fee(quote_asset, asset))
        return raw / BONE * 10 ** self._dec(asset) / 10 ** self._dec(quote_asset)

    @staticmethod
    def _other(e: Any, asset_in: str, asset_out: str | None) -> str:
        if asset_in not in e.assets:
            raise ValueError(f"{e.pool_id} holds {e.assets}, not {asset_in!r}")
        if asset_out is None:
            if len(e.assets) != 2:
                raise ValueError(f"{e.pool_id} has {len(e.assets)} assets: name asset_out")
            return e.assets[1] if asset_in == e.assets[0] else e.assets[0]
        return asset_out

    def quote_exact_in(self, path: tuple[str, ...], amount_in: float) -> float:
        """What :meth:`swap_exact_in` of ``amount_in`` along ``path`` pays now (asset
        units of ``path[-1]``); changes nothing. Raises ``ValueError`` (bad amount or
        path, or the library's error)."""
        raw = self._raw(path[0] if path else "", amount_in)
        try:
            amounts = get_amounts_out(self.protocol.v2_factory, raw, tuple(path))
        except PoolError as e:
            raise ValueError(f"cannot quote {path}: {e}") from None
        return amounts[-1] / 10 ** self._dec(path[-1])

    def quote_exact_out(self, path: tuple[str, ...], amount_out: float) -> float:
        """The input :meth:`swap_exact_out` of ``amount_out`` would pay now (asset units)."""
        raw = self._raw(path[-1] if path else "", amount_out)
        try:
            amounts = get_amounts_in(self.protocol.v2_factory, raw, tuple(path))
        except PoolError as e:
            raise ValueError(f"cannot quote {path}: {e}") from None
        return amounts[0] / 10 ** self._dec(path[0])

    def _raw(self, asset: str, amount: Any) -> int:
        if asset not in self.chain.ledger.assets:
            raise ValueError(f"unknown asset {asset!r}")
        raw = amount_to_raw(amount, self._dec(asset))
        if raw is None:
            raise ValueError(f"amount must be a finite number >= 0, got {amount!r}")
        return raw

    # -- transactions -------------------------------------------------------------
    def _deadline(self, deadline: float | None) -> int:
        return MAX_UINT256 if deadline is None else int(deadline)

    def _send(self, party: str, call: str, args: tuple, conv: Any) -> Any:
        r = self.chain.submit(Transaction(party, NAME, call, args))
        if isinstance(r, Receipt) and r.accepted and r.value is not None and r.status != "PENDING":
            return Receipt(r.status, r.reason, r.detail, r.tx_id, r.block, r.gas_used, r.fee_burned,
                           r.tip, conv(r.value))
        return r

    def _raws(self, tx: str, party: str, pairs: tuple) -> list[int] | Receipt:
        out = []
        for asset, amount in pairs:
            if not isinstance(asset, str) or asset not in self.chain.ledger.assets:
                self.chain.reject(tx, party, "", Reason.UNKNOWN_ASSET, f"unknown asset {asset!r}")
                return Receipt(REJECTED, Reason.UNKNOWN_ASSET, f"unknown asset {asset!r}", block=self.chain.block)
            raw = amount_to_raw(amount, self._dec(asset))
            if raw is None:
                d = f"amounts must be finite numbers >= 0, got {amount!r}"
                self.chain.reject(tx, party, "", Reason.INVALID_ARGUMENT, d)
                return Receipt(REJECTED, Reason.INVALID_ARGUMENT, d, block=self.chain.block)
            out.append(raw)
        return out

    def add_liquidity(self, party: str, asset_a: str, asset_b: str, amount_a: float, amount_b: float,
                      min_a: float = 0, min_b: float = 0, deadline: float | None = None) -> Receipt:
        """Deposit up to ``amount_a``/``amount_b`` (at least ``min_a``/``min_b``) into the
        pair; ``value``: ``(amount_a, amount_b, liquidity)`` in asset / LP units."""
        raws = self._raws("add_liquidity", party, ((asset_a, amount_a), (asset_b, amount_b),
                                                   (asset_a, min_a), (asset_b, min_b)))
        if isinstance(raws, Receipt):
            return raws
        da, db = 10 ** self._dec(asset_a), 10 ** self._dec(asset_b)
        return self._send(party, "add_liquidity", (asset_a, asset_b, *raws, self._deadline(deadline)),
                          lambda v: (v[0] / da, v[1] / db, v[2] / 10**18))

    def remove_liquidity(self, party: str, asset_a: str, asset_b: str, liquidity: float,
                         min_a: float = 0, min_b: float = 0, deadline: float | None = None) -> Receipt:
        """Burn ``liquidity`` LP units; ``value``: ``(amount_a, amount_b)`` in asset units."""
        raws = self._raws("remove_liquidity", party, ((asset_a, min_a), (asset_b, min_b)))
        if isinstance(raws, Receipt):
            return raws
        liq = amount_to_raw(liquidity, 18)
        if liq is None:
            d = f"liquidity must be a finite number >= 0, got {liquidity!r}"
            self.chain.reject("remove_liquidity", party, "", Reason.INVALID_ARGUMENT, d)
            return Receipt(REJECTED, Reason.INVALID_ARGUMENT, d, block=self.chain.block)
        da, db = 10 ** self._dec(asset_a), 10 ** self._dec(asset_b)
        return self._send(party, "remove_liquidity",
                          (asset_a, asset_b, liq, *raws, self._deadline(deadline)),
                          lambda v: (v[0] / da, v[1] / db))

    def _path_conv(self, path: tuple[str, ...]) -> Any:
        decs = [10 ** self._dec(a) for a in path]
        return lambda v: tuple(x / d for x, d in zip(v, decs, strict=True))

    def swap_exact_in(self, party: str, path: tuple[str, ...], amount_in: float, min_out: float = 0,
                      deadline: float | None = None) -> Receipt:
        """Pay exactly ``amount_in`` of ``path[0]`` for at least ``min_out`` of
        ``path[-1]``; ``value``: the amounts along the path in asset units."""
        path = tuple(path) if isinstance(path, tuple | list) else ()
        if len(path) < 1:
            path = ("",)
        raws = self._raws("swap_exact_in", party, ((path[0], amount_in), (path[-1], min_out)))
        if isinstance(raws, Receipt):
            return raws
        return self._send(party, "swap_exact_in", (path, *raws, self._deadline(deadline)),
                          self._path_conv(path))

    def swap_exact_out(self, party: str, path: tuple[str, ...], amount_out: float, max_in: float,
                       deadline: float | None = None) -> Receipt:
        """Receive exactly ``amount_out`` of ``path[-1]`` for at most ``max_in`` of
        ``path[0]``; ``value``: the amounts along the path in asset units."""
        path = tuple(path) if isinstance(path, tuple | list) else ()
        if len(path) < 1:
            path = ("",)
        raws = self._raws("swap_exact_out", party, ((path[-1], amount_out), (path[0], max_in)))
        if isinstance(raws, Receipt):
            return raws
        return self._send(party, "swap_exact_out", (path, *raws, self._deadline(deadline)),
                          self._path_conv(path))


    # -- any pool kind ------------------------------------------------------------
    def _rejected(self, tx: str, party: Any, market: str, reason: str, detail: str) -> Receipt:
        self.chain.reject(tx, party if isinstance(party, str) else repr(party), market, reason, detail)
        return Receipt(REJECTED, reason, detail, block=self.chain.block)

    def swap(self, party: str, pool_id: str, asset_in: str, amount: float, *, exact: str = "in",
             limit: float | None = None, price_limit: float | None = None,
             asset_out: str | None = None, deadline: float | None = None) -> Receipt:
        """Swap ``asset_in`` for the pool's other asset (or ``asset_out``) in one pool of
        any kind.

        Args:
            amount: asset units paid of ``asset_in`` (``exact="in"``) or received of the
                other asset (``exact="out"``).
            limit: the minimum received (exact in; default 0) or the maximum paid (exact
                out; default unlimited), asset units.
            price_limit: V3: the price (token0 in token1, asset units, as
                :attr:`AmmPoolView.price`) at which the swap stops; below the current
                price when selling token0, above it when buying. Balancer: ``maxPrice``,
                the highest spot price (asset units of ``asset_in`` per ``asset_out``,
                fee included) allowed before and after the swap (``ERR_LIMIT_PRICE``).
            deadline: latest chain time in seconds (None: none).

        ``value``: ``(amount_in, amount_out)`` in asset units. Bad input (unknown pool or
        asset, a negative/NaN amount, a bad ``exact``) is a ``TransactionRejected``
        event and a rejected receipt; so is everything the pool rejects.
        """
        tx = "swap"
        e = self.protocol.pools.get(pool_id) if isinstance(pool_id, str) else None
        if e is None:
            return self._rejected(tx, party, "", Reason.UNKNOWN_POOL,
                                  f"unknown pool {pool_id!r}; known: {sorted(self.protocol.pools)}")
        if exact not in ("in", "out"):
            return self._rejected(tx, party, pool_id, Reason.INVALID_ARGUMENT,
                                  f"exact must be 'in' or 'out', got {exact!r}")
        try:
            asset_out = self._other(e, asset_in, asset_out)
        except ValueError as err:
            return self._rejected(tx, party, pool_id, Reason.INVALID_ARGUMENT, str(err))
        exact_in = exact == "in"
        amount_asset, limit_asset = (asset_in, asset_out) if exact_in else (asset_out, asset_in)
        raws = self._raws(tx, party, ((amount_asset, amount),
                                      (limit_asset, 0 if limit is None else limit)))
        if isinstance(raws, Receipt):
            return raws
        raw_amount, raw_limit = raws
        if limit is None and not exact_in:
            raw_limit = MAX_UINT256
        if raw_amount == 0:
            return self._rejected(tx, party, pool_id, Reason.INVALID_ARGUMENT,
                                  f"amount must be > 0, got {amount!r}")
        sqrt_limit = 0
        if price_limit is not None and e.kind == "BAL":
            try:
                fr = Fraction(price_limit)
            except (TypeError, ValueError):
                fr = Fraction(-1)
            if fr <= 0:
                return self._rejected(tx, party, pool_id, Reason.INVALID_ARGUMENT,
                                      f"price_limit must be a finite number > 0, got {price_limit!r}")
            sqrt_limit = int(fr * BONE * 10 ** self._dec(asset_in) / 10 ** self._dec(asset_out))
            sqrt_limit = max(sqrt_limit, 1)
        elif price_limit is not None:
            if e.kind != "V3":
                return self._rejected(tx, party, pool_id, Reason.INVALID_ARGUMENT,
                                      "price_limit applies to V3 pools only")
            try:
                d0, d1 = (10 ** self._dec(a) for a in e.assets)
                sqrt_limit = self._price_to_sqrt(price_limit, d0, d1)
            except ValueError as err:
                return self._rejected(tx, party, pool_id, Reason.INVALID_ARGUMENT, f"price_limit: {err}")
        din, dout = 10 ** self._dec(asset_in), 10 ** self._dec(asset_out)
        return self._send(party, tx, (pool_id, asset_in, asset_out, raw_amount, raw_limit, exact_in,
                                      self._deadline(deadline), sqrt_limit),
                          lambda v: (v[0] / din, v[1] / dout))

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

    # -- Balancer -----------------------------------------------------------------
    def create_balancer_pool(self, controller: str, tokens: dict[str, tuple[float, float]],
                             swap_fee: float = 0.003, variant: str = "balancer") -> str:
        """Create, fund and finalise a Balancer V1 weighted pool (spec 3.4).

        Args:
            controller: the party paying the balances and receiving the first 100 LP
                (``<pool_id>-LP``, 18 decimals).
            tokens: ``{asset: (amount, weight)}`` in binding order: asset units pulled
                from the controller, and the denormalised weight (1 to 50; total at
                most 50; a weight of 1 is ``1e18`` in the contract).
            swap_fee: a fraction (0.003 = 0.3 %), in [1e-6, 0.1].
            variant: ``"balancer"`` or ``"ocean_v3"``.

        Returns the pool id ``"BAL:<asset1>/<asset2>/..."``. Raises ``ValueError`` on
        bad input or the core's revert (``ERR_MIN_WEIGHT``, ``ERR_MIN_BALANCE``, ...).
        """
        if not isinstance(tokens, dict):
            raise ValueError(f"tokens must be a dict asset -> (amount, weight), got {tokens!r}")
        raw: dict[str, tuple[int, int]] = {}
        for a, aw in tokens.items():
            if not (isinstance(aw, tuple | list) and len(aw) == 2):
                raise ValueError(f"{a}: give (amount, weight), got {aw!r}")
            amount = self._raw(a, aw[0])
            weight = amount_to_raw(aw[1], 18)
            if weight is None:
                raise ValueError(f"{a}: weight must be a finite number >= 0, got {aw[1]!r}")
            raw[a] = (amount, weight)
        fee = amount_to_raw(swap_fee, 18)
        if fee is None:
            raise ValueError(f"swap_fee must be a finite number >= 0, got {swap_fee!r}")
        return self.protocol.create_balancer_pool(controller, raw, fee, variant)

    def _bal_tx_pool(self, tx: str, party: Any, pool_id: Any) -> Any:
        e = self.protocol.pools.get(pool_id) if isinstance(pool_id, str) else None
        if e is None or e.kind != "BAL":
            what = "unknown pool" if e is None else f"not a Balancer pool ({e.kind})"
            return self._rejected(tx, party, "", Reason.UNKNOWN_POOL if e is None else
                                  Reason.INVALID_ARGUMENT, f"{what}: {pool_id!r}")
        return e

    def _lp_raw(self, tx: str, party: Any, amount: Any) -> int | Receipt:
        raw = amount_to_raw(amount, 18)
        if raw is None:
            return self._rejected(tx, party, "", Reason.INVALID_ARGUMENT,
                                  f"LP amount must be a finite number >= 0, got {amount!r}")
        return raw

    def _bal_conv(self, e: Any) -> Any:
        decs = [10 ** self._dec(a) for a in e.assets]
        return lambda v: (v[0] / 10**18, tuple(x / d for x, d in zip(v[1], decs, strict=True)))

    def join_pool(self, party: str, pool_id: str, lp_amount: float,
                  max_amounts: dict[str, float] | None = None) -> Receipt:
        """``joinPool``: get ``lp_amount`` LP units for the proportional amount of every
        token, each at most ``max_amounts[asset]`` (asset units; default unlimited).
        ``value``: ``(lp_amount, amounts_in)``, amounts in the pool's token order."""
        tx = "bal_join_pool"
        e = self._bal_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        lp = self._lp_raw(tx, party, lp_amount)
        if isinstance(lp, Receipt):
            return lp
        maxes = [MAX_UINT256] * len(e.assets)
        if max_amounts:
            raws = self._raws(tx, party, tuple(max_amounts.items()))
            if isinstance(raws, Receipt):
                return raws
            for a, r in zip(max_amounts, raws, strict=True):
                if a in e.assets:
                    maxes[e.assets.index(a)] = r
        return self._send(party, tx, (pool_id, lp, tuple(maxes)), self._bal_conv(e))

    def exit_pool(self, party: str, pool_id: str, lp_amount: float,
                  min_amounts: dict[str, float] | None = None) -> Receipt:
        """``exitPool``: give ``lp_amount`` LP units for the proportional amount of every
        token, each at least ``min_amounts[asset]`` (asset units; default 0).
        ``value``: ``(lp_amount, amounts_out)``, amounts in the pool's token order."""
        tx = "bal_exit_pool"
        e = self._bal_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        lp = self._lp_raw(tx, party, lp_amount)
        if isinstance(lp, Receipt):
            return lp
        mins = [0] * len(e.assets)
        if min_amounts:
            raws = self._raws(tx, party, tuple(min_amounts.items()))
            if isinstance(raws, Receipt):
                return raws
            for a, r in zip(min_amounts, raws, strict=True):
                if a in e.assets:
                    mins[e.assets.index(a)] = r
        return self._send(party, tx, (pool_id, lp, tuple(mins)), self._bal_conv(e))

    def join_single(self, party: str, pool_id: str, asset: str, amount: float,
                    min_lp: float = 0) -> Receipt:
        """``joinswapExternAmountIn``: pay exactly ``amount`` of one token for at least
        ``min_lp`` LP units. ``value``: ``(amount_in, lp_out)`` (asset / LP units)."""
        tx = "bal_joinswap_extern_amount_in"
        e = self._bal_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        raws = self._raws(tx, party, ((asset, amount),))
        lp = self._lp_raw(tx, party, min_lp)
        if isinstance(raws, Receipt) or isinstance(lp, Receipt):
            return raws if isinstance(raws, Receipt) else lp
        d = 10 ** self._dec(asset)
        return self._send(party, tx, (pool_id, asset, raws[0], lp),
                          lambda v: (v[0] / d, v[1] / 10**18))

    def exit_single(self, party: str, pool_id: str, asset: str, lp_amount: float,
                    min_out: float = 0) -> Receipt:
        """``exitswapPoolAmountIn``: give exactly ``lp_amount`` LP units for at least
        ``min_out`` of one token. ``value``: ``(lp_in, amount_out)`` (LP / asset units)."""
        tx = "bal_exitswap_pool_amount_in"
        e = self._bal_tx_pool(tx, party, pool_id)
        if isinstance(e, Receipt):
            return e
        raws = self._raws(tx, party, ((asset, min_out),))
        lp = self._lp_raw(tx, party, lp_amount)
        if isinstance(raws, Receipt) or isinstance(lp, Receipt):
            return raws if isinstance(raws, Receipt) else lp
        d = 10 ** self._dec(asset)
        return self._send(party, tx, (pool_id, asset, lp, raws[0]),
                          lambda v: (v[0] / 10**18, v[1] / d))


__all__ = ["AmmFacade", "AmmPoolView", "PositionView"]
