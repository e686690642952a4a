"""``sim.amm``: the AMM pools in human units (:class:`AmmFacade`) and the read-only
:class:`AmmPoolView`. The raw protocol is :class:`defisim.protocols.amm.protocol.AmmProtocol`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from defisim.chain.transactions import REJECTED, Receipt, Transaction
from defisim.numeric import amount_to_raw
from defisim.protocols.amm.errors import PoolError
from defisim.protocols.amm.protocol import MAX_UINT256, NAME, AmmProtocol, Reason
from defisim.protocols.amm.v2_router import get_amounts_in, get_amounts_out

if TYPE_CHECKING:
    from .simulation import Simulation


@dataclass(frozen=True, slots=True)
class AmmPoolView:
    """One pool now. ``assets`` in the core's order (token0, token1); ``reserves`` in
    asset units, ``reserves_raw`` in base units; ``price`` = reserve1 / reserve0 in
    asset units (the price of token0 in token1; 0 when empty); ``lp_supply`` in LP
    units (18 decimals, including the 1,000 locked base units); ``fee`` a fraction."""

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

    def pool_view(self, pool_id: str) -> AmmPoolView:
        """The pool now. Raises ``KeyError`` naming the known pools."""
        try:
            e = self.protocol.pools[pool_id]
        except KeyError:
            raise KeyError(f"unknown pool {pool_id!r}; known: {sorted(self.protocol.pools)}") from None
        pair = e.core
        raw = (pair.reserve0, pair.reserve1)
        human = tuple(r / 10 ** self._dec(a) for r, a in zip(raw, e.assets, strict=True))
        price = human[1] / human[0] if human[0] else 0.0
        return AmmPoolView(pool_id, e.kind, e.assets, e.lp_asset, human, raw, price,
                           pair.total_supply / 10**18, pair.total_supply, 0.003)

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


__all__ = ["AmmFacade", "AmmPoolView"]
