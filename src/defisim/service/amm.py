"""``sim.amm``: the AMM pools in human units (:class:`AmmFacade`): set-up, views, the
kind-independent ``swap`` and ``quote``, and the V2 router calls here; the V3 calls in
:mod:`.amm_v3`, the Balancer calls in :mod:`.amm_balancer`, the read-only views in
:mod:`.amm_views`. The raw protocol is :class:`defisim.protocols.amm.protocol.AmmProtocol`."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from defisim.chain.transactions import REJECTED, Receipt, Transaction
from defisim.numeric import amount_to_raw
from defisim.protocols.amm.balancer.bnum import BONE
from defisim.protocols.amm.errors import PoolError
from defisim.protocols.amm.protocol import MAX_UINT256, NAME, AmmProtocol, Reason
from defisim.protocols.amm.v2_router import get_amounts_in, get_amounts_out

from .amm_balancer import BalancerCalls
from .amm_v3 import V3Calls
from .amm_views import AmmPoolView, PositionView

if TYPE_CHECKING:
    from .simulation import Simulation


_Q96 = 1 << 96


class AmmFacade(V3Calls, BalancerCalls):
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

    def set_quote_asset(self, pool_id: str, asset: str) -> None:
        """Quote ``pool_id``'s recorded price, volume, fees and TVL (``amm_pools``, the
        pool KPIs, ``amm.png``) in ``asset`` instead of the default (USDC-like
        stablecoins, then WETH/ETH, then WBTC/BTC, else token1). Raises ``KeyError``
        (unknown pool), ``ValueError`` (asset not in the pool)."""
        self.protocol.set_quote_asset(pool_id, asset)

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
        d0, d1 = (10 ** self._dec(a) for a in e.assets[:2])  # a Balancer pool may hold 8
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


__all__ = ["AmmFacade", "AmmPoolView", "PositionView"]
