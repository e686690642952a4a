"""Constant-sum pools (x + y = k): the example of a protocol plug-in.

A pool holds two ledger assets with the same decimals and swaps them 1:1: an
exact-input swap of ``amount_in`` pays ``fee = ceil(amount_in * fee_bps / 10_000)``
(fees round up, in the pool's favour) and receives ``amount_in - fee`` of the other
asset. The whole ``amount_in`` stays in the pool, so ``k = reserve_a + reserve_b``
grows by the fee and the liquidity providers earn it. Liquidity shares are a ledger
asset of their own (``<pool>-LP``, the pool's decimals), issued on deposit and
burned on withdrawal:

- first deposit: ``shares = amount_a + amount_b`` (the 1:1 value of the deposit);
- later deposits: ``shares = (amount_a + amount_b) * lp_supply // k`` (round down);
- a withdrawal of ``shares`` pays ``shares * reserve // lp_supply`` of each asset
  (round down; the last shares take the whole pool).

Every number on the chain is an integer in base units. The module holds the three
parts a protocol brings (``docs/protocols.md`` walks through them):

- :class:`ConstantSumPools`, the :class:`~defisim.chain.protocol.ChainProtocol`
  plug-in (name ``"constsum"``): its account keys (:func:`reserve`), events,
  transactions (``tx_add_liquidity``, ``tx_remove_liquidity``, ``tx_swap``), reason
  codes (:class:`Reason`), invariants, gas, governance proposals and recording;
- :class:`ConstantSumFacade`, ``sim.constsum``: the same calls in human units, and the
  read-only :class:`PoolView`;
- :func:`register`, which makes ``Simulation(protocols=[..., "constsum"])`` work.

Nothing in ``src/`` names this module: that is the point of the example.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from defisim.chain.events import Event
from defisim.chain.ledger import AccountKey, general
from defisim.chain.protocol import ChainProtocol
from defisim.chain.transactions import EXECUTED, REJECTED, Receipt, Transaction
from defisim.numeric import amount_to_raw
from defisim.service import register_protocol

if TYPE_CHECKING:
    from defisim.service import Simulation

NAME = "constsum"
"""The protocol's name on the chain, in transactions and as ``sim.constsum``."""

BPS = 10_000
"""Basis points in one."""

ACCOUNT_TYPE = "constsum_reserve"
"""Ledger account type of a pool's reserves. Account types share one namespace on the
ledger, so a protocol prefixes its own with its name."""


def reserve(pool_id: str, asset: str) -> AccountKey:
    """Ledger key of pool ``pool_id``'s reserve of ``asset`` (owner ``""``: no party
    owns it; scope: the pool id)."""
    return (ACCOUNT_TYPE, "", asset, pool_id)


def lp_asset_id(pool_id: str) -> str:
    """The ledger asset of pool ``pool_id``'s liquidity shares."""
    return f"{pool_id}-LP"


class Reason:
    """Reason codes of the protocol's rejections (stable, upper case)."""

    POOL_NOT_FOUND = "POOL_NOT_FOUND"
    ASSET_NOT_IN_POOL = "ASSET_NOT_IN_POOL"
    PARTY_NOT_FOUND = "PARTY_NOT_FOUND"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    AMOUNT_TOO_SMALL = "AMOUNT_TOO_SMALL"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    INSUFFICIENT_LIQUIDITY = "INSUFFICIENT_LIQUIDITY"
    SLIPPAGE = "SLIPPAGE"


GAS = {"add_liquidity": 110_000, "remove_liquidity": 100_000, "swap": 75_000}
"""Gas of each transaction in mempool mode."""


# ---------------------------------------------------------------------- events
# Every event: a frozen, slotted dataclass whose first fields are ``block`` and
# ``time_ns`` (inherited from Event). The pool id is in a field named ``market``: the
# run's ``events`` table takes its scope column from that field (and its party column
# from ``party``), as it does for the futures markets and for TransactionRejected.
@dataclass(frozen=True, slots=True)
class PoolCreated(Event):
    """Pool ``market`` between ``asset_a`` and ``asset_b``; shares in ``lp_asset``."""

    market: str
    asset_a: str
    asset_b: str
    fee_bps: int
    lp_asset: str


@dataclass(frozen=True, slots=True)
class LiquidityAdded(Event):
    """``party`` deposited ``amount_a`` and ``amount_b`` (base units) for ``shares``."""

    market: str
    party: str
    amount_a: int
    amount_b: int
    shares: int


@dataclass(frozen=True, slots=True)
class LiquidityRemoved(Event):
    """``party`` burned ``shares`` for ``amount_a`` and ``amount_b`` (base units)."""

    market: str
    party: str
    shares: int
    amount_a: int
    amount_b: int


@dataclass(frozen=True, slots=True)
class Swapped(Event):
    """``party`` paid ``amount_in`` of ``asset_in`` and received ``amount_out`` of
    ``asset_out``; ``fee`` (in ``asset_in``, included in ``amount_in``) stays in the pool."""

    market: str
    party: str
    asset_in: str
    amount_in: int
    asset_out: str
    amount_out: int
    fee: int


@dataclass(frozen=True, slots=True)
class PoolFeeChanged(Event):
    """Governance changed the pool's swap fee."""

    market: str
    old_fee_bps: int
    fee_bps: int


# ---------------------------------------------------------------------- state and math
@dataclass(slots=True)
class Pool:
    """One pool's recorded state (base units). ``volume`` is the sum of swap inputs,
    ``fees`` the sum of swap fees (both assets count 1:1)."""

    pool_id: str
    asset_a: str
    asset_b: str
    fee_bps: int
    lp_asset: str
    decimals: int
    reserve_a: int = 0
    reserve_b: int = 0
    lp_supply: int = 0
    swaps: int = 0
    volume: int = 0
    fees: int = 0

    @property
    def k(self) -> int:
        return self.reserve_a + self.reserve_b


def swap_amounts(amount_in: int, fee_bps: int) -> tuple[int, int]:
    """``(amount_out, fee)`` of an exact-input swap: the fee rounds up."""
    fee = -(-amount_in * fee_bps // BPS)
    return amount_in - fee, fee


def deposit_shares(amount_a: int, amount_b: int, pool: Pool) -> int:
    """Shares issued for a deposit (round down)."""
    if pool.lp_supply == 0:
        return amount_a + amount_b
    return (amount_a + amount_b) * pool.lp_supply // pool.k


def withdrawal_amounts(shares: int, pool: Pool) -> tuple[int, int]:
    """``(amount_a, amount_b)`` paid for ``shares`` (round down)."""
    return shares * pool.reserve_a // pool.lp_supply, shares * pool.reserve_b // pool.lp_supply


def _is_amount(x: Any) -> bool:
    """A raw amount: an ``int`` (not a bool) >= 0. Transactions come from agents,
    replay and the fuzzer, so a handler checks its arguments' types itself."""
    return type(x) is int and x >= 0


# ---------------------------------------------------------------------- the plug-in
class ConstantSumPools(ChainProtocol):
    """Every constant-sum pool on a chain.

    Set-up (a scenario's call, raises ``ValueError``): :meth:`create_pool`.
    Transactions (``Transaction(sender, "constsum", call, args)``, raw integers; each
    returns a :class:`~defisim.chain.Receipt`, ``value`` = shares issued, amount out;
    a rejection emits a ``TransactionRejected`` with a :class:`Reason` code and
    changes nothing else):

    - ``add_liquidity(pool_id, amount_a, amount_b)``
    - ``remove_liquidity(pool_id, shares)``
    - ``swap(pool_id, asset_in, amount_in, min_amount_out)``

    Governance proposals (``sim.governance.propose("constsum", payload, t)``):
    ``{"action": "set_fee", "market": pool_id, "fee_bps": n}``.
    """

    name = NAME
    gas = GAS

    def __init__(self) -> None:
        self.pools: dict[str, Pool] = {}

    # -- set-up -------------------------------------------------------------------
    def create_pool(self, pool_id: str, asset_a: str, asset_b: str, fee_bps: int = 30) -> Pool:
        """Create an empty pool and its share asset (``<pool_id>-LP``).

        Raises:
            ValueError: empty or duplicate pool id, unknown or equal assets, assets of
                different decimals, fee not an integer in ``[0, 10_000)``, or the
                share asset's id already taken.
        """
        led = self.chain.ledger
        if not pool_id or not isinstance(pool_id, str):
            raise ValueError(f"pool id must be a non-empty string, got {pool_id!r}")
        if pool_id in self.pools:
            raise ValueError(f"pool {pool_id!r} already exists")
        for a in (asset_a, asset_b):
            if a not in led.assets:
                raise ValueError(f"unknown asset {a!r}; known: {sorted(led.assets)}")
        if asset_a == asset_b:
            raise ValueError(f"a pool needs two different assets, got {asset_a!r} twice")
        dec = led.assets[asset_a].decimals
        if led.assets[asset_b].decimals != dec:
            raise ValueError(f"a 1:1 pool needs assets of equal decimals: {asset_a} has {dec}, "
                             f"{asset_b} has {led.assets[asset_b].decimals}")
        if type(fee_bps) is not int or not 0 <= fee_bps < BPS:
            raise ValueError(f"fee_bps must be an integer in [0, {BPS}), got {fee_bps!r}")
        lp = lp_asset_id(pool_id)
        led.create_asset(lp, dec)  # ValueError if the id is taken
        pool = self.pools[pool_id] = Pool(pool_id, asset_a, asset_b, fee_bps, lp, dec)
        self.chain.emit(PoolCreated(*self.chain.stamp(), pool_id, asset_a, asset_b, fee_bps, lp))
        return pool

    # -- transactions -------------------------------------------------------------
    def _reject(self, tx: str, party: str, pool_id: str, reason: str, detail: str) -> Receipt:
        """Emit the rejection event and return the matching receipt."""
        self.chain.reject(tx, party, pool_id if isinstance(pool_id, str) else "", reason, detail)
        return Receipt(REJECTED, reason, detail, block=self.chain.block)

    def _pool(self, tx: str, sender: str, pool_id: Any) -> Pool | Receipt:
        pool = self.pools.get(pool_id) if isinstance(pool_id, str) else None
        if pool is None:
            return self._reject(tx, sender, pool_id, Reason.POOL_NOT_FOUND,
                                f"unknown pool {pool_id!r}; known: {sorted(self.pools)}")
        if sender not in self.chain.ledger.parties:
            return self._reject(tx, sender, pool_id, Reason.PARTY_NOT_FOUND, f"unknown party {sender!r}")
        return pool

    def _short(self, tx: str, sender: str, pool_id: str, needs: Iterable[tuple[str, int]]) -> Receipt | None:
        led = self.chain.ledger
        for asset, amount in needs:
            have = led.balance(general(sender, asset))
            if have < amount:
                return self._reject(tx, sender, pool_id, Reason.INSUFFICIENT_FUNDS,
                                    f"{sender} holds {have} {asset}, needs {amount}")
        return None

    def tx_add_liquidity(self, sender: str, pool_id: str, amount_a: int, amount_b: int) -> Receipt:
        """Deposit ``amount_a`` and ``amount_b`` (base units, either may be 0); ``value``:
        the shares issued."""
        tx = "add_liquidity"
        pool = self._pool(tx, sender, pool_id)
        if isinstance(pool, Receipt):
            return pool
        if not (_is_amount(amount_a) and _is_amount(amount_b)) or amount_a + amount_b == 0:
            return self._reject(tx, sender, pool_id, Reason.INVALID_AMOUNT,
                                f"amounts must be integers >= 0, not both 0; got {amount_a!r}, {amount_b!r}")
        shares = deposit_shares(amount_a, amount_b, pool)
        if shares == 0:
            return self._reject(tx, sender, pool_id, Reason.AMOUNT_TOO_SMALL,
                                f"a deposit of {amount_a + amount_b} issues no share")
        short = self._short(tx, sender, pool_id, ((pool.asset_a, amount_a), (pool.asset_b, amount_b)))
        if short is not None:
            return short
        led = self.chain.ledger
        led.transfer(general(sender, pool.asset_a), reserve(pool_id, pool.asset_a), amount_a, "constsum_deposit")
        led.transfer(general(sender, pool.asset_b), reserve(pool_id, pool.asset_b), amount_b, "constsum_deposit")
        led.issue(general(sender, pool.lp_asset), shares, "constsum_shares")
        pool.reserve_a += amount_a
        pool.reserve_b += amount_b
        pool.lp_supply += shares
        self.chain.emit(LiquidityAdded(*self.chain.stamp(), pool_id, sender, amount_a, amount_b, shares))
        return Receipt(EXECUTED, block=self.chain.block, value=shares)

    def tx_remove_liquidity(self, sender: str, pool_id: str, shares: int) -> Receipt:
        """Burn ``shares`` for the pool's assets in proportion; ``value``:
        ``(amount_a, amount_b)``."""
        tx = "remove_liquidity"
        pool = self._pool(tx, sender, pool_id)
        if isinstance(pool, Receipt):
            return pool
        if not _is_amount(shares) or shares == 0:
            return self._reject(tx, sender, pool_id, Reason.INVALID_AMOUNT,
                                f"shares must be an integer > 0, got {shares!r}")
        short = self._short(tx, sender, pool_id, ((pool.lp_asset, shares),))
        if short is not None:
            return short
        out_a, out_b = withdrawal_amounts(shares, pool)
        if out_a + out_b == 0:
            return self._reject(tx, sender, pool_id, Reason.AMOUNT_TOO_SMALL,
                                f"{shares} shares are worth no base unit")
        led = self.chain.ledger
        led.burn(general(sender, pool.lp_asset), shares)
        led.transfer(reserve(pool_id, pool.asset_a), general(sender, pool.asset_a), out_a, "constsum_withdrawal")
        led.transfer(reserve(pool_id, pool.asset_b), general(sender, pool.asset_b), out_b, "constsum_withdrawal")
        pool.lp_supply -= shares
        pool.reserve_a -= out_a
        pool.reserve_b -= out_b
        self.chain.emit(LiquidityRemoved(*self.chain.stamp(), pool_id, sender, shares, out_a, out_b))
        return Receipt(EXECUTED, block=self.chain.block, value=(out_a, out_b))

    def tx_swap(self, sender: str, pool_id: str, asset_in: str, amount_in: int,
                min_amount_out: int) -> Receipt:
        """Exact-input swap of ``amount_in`` of ``asset_in`` for the other asset, at
        least ``min_amount_out`` of it (else ``SLIPPAGE``); ``value``: the amount out."""
        tx = "swap"
        pool = self._pool(tx, sender, pool_id)
        if isinstance(pool, Receipt):
            return pool
        if asset_in == pool.asset_a:
            asset_out, have_out = pool.asset_b, pool.reserve_b
        elif asset_in == pool.asset_b:
            asset_out, have_out = pool.asset_a, pool.reserve_a
        else:
            return self._reject(tx, sender, pool_id, Reason.ASSET_NOT_IN_POOL,
                                f"pool {pool_id} swaps {pool.asset_a} and {pool.asset_b}, not {asset_in!r}")
        if not _is_amount(amount_in) or amount_in == 0 or not _is_amount(min_amount_out):
            return self._reject(tx, sender, pool_id, Reason.INVALID_AMOUNT,
                                f"amount_in must be an integer > 0 and min_amount_out >= 0, "
                                f"got {amount_in!r}, {min_amount_out!r}")
        out, fee = swap_amounts(amount_in, pool.fee_bps)
        if out == 0:
            return self._reject(tx, sender, pool_id, Reason.AMOUNT_TOO_SMALL,
                                f"the fee {fee} takes all of {amount_in}")
        short = self._short(tx, sender, pool_id, ((asset_in, amount_in),))
        if short is not None:
            return short
        if out > have_out:
            return self._reject(tx, sender, pool_id, Reason.INSUFFICIENT_LIQUIDITY,
                                f"pays out {out} {asset_out}, the pool holds {have_out}")
        if out < min_amount_out:
            return self._reject(tx, sender, pool_id, Reason.SLIPPAGE,
                                f"pays out {out} {asset_out} < minimum {min_amount_out}")
        led = self.chain.ledger
        led.transfer(general(sender, asset_in), reserve(pool_id, asset_in), amount_in, "constsum_swap_in")
        led.transfer(reserve(pool_id, asset_out), general(sender, asset_out), out, "constsum_swap_out")
        if asset_in == pool.asset_a:
            pool.reserve_a += amount_in
            pool.reserve_b -= out
        else:
            pool.reserve_b += amount_in
            pool.reserve_a -= out
        pool.swaps += 1
        pool.volume += amount_in
        pool.fees += fee
        self.chain.emit(Swapped(*self.chain.stamp(), pool_id, sender, asset_in, amount_in,
                                asset_out, out, fee))
        return Receipt(EXECUTED, block=self.chain.block, value=out)

    # -- checks -------------------------------------------------------------------
    def invariant_errors(self) -> list[str]:
        """Each pool's reserve accounts hold exactly its recorded reserves, and its share
        asset's supply is its recorded share count."""
        led = self.chain.ledger
        errors = []
        for pid, p in self.pools.items():
            for asset, recorded in ((p.asset_a, p.reserve_a), (p.asset_b, p.reserve_b)):
                held = led.balance(reserve(pid, asset))
                if held != recorded:
                    errors.append(f"constsum pool {pid}: reserve account holds {held} {asset}, "
                                  f"recorded reserve is {recorded}")
            supply = led.supply.get(p.lp_asset, 0)
            if supply != p.lp_supply:
                errors.append(f"constsum pool {pid}: {p.lp_asset} supply is {supply}, "
                              f"recorded shares {p.lp_supply}")
        return errors

    # -- governance (duck-typed: governance imports nothing of this module) -------
    def validate_proposal(self, payload: dict[str, Any]) -> str:
        """``""`` when ``payload`` is a valid ``set_fee`` proposal, else why not."""
        if payload.get("action") != "set_fee":
            return f"unknown action {payload.get('action')!r}; known: set_fee"
        if payload.get("market") not in self.pools:
            return f"unknown pool {payload.get('market')!r}; known: {sorted(self.pools)}"
        fee = payload.get("fee_bps")
        if type(fee) is not int or not 0 <= fee < BPS:
            return f"fee_bps must be an integer in [0, {BPS}), got {fee!r}"
        return ""

    def enact_proposal(self, payload: dict[str, Any]) -> str:
        why = self.validate_proposal(payload)
        if why:
            return why
        pool = self.pools[payload["market"]]
        old, pool.fee_bps = pool.fee_bps, payload["fee_bps"]
        self.chain.emit(PoolFeeChanged(*self.chain.stamp(), pool.pool_id, old, pool.fee_bps))
        return ""

    # -- recording ----------------------------------------------------------------
    recording_tables = {
        "constsum_pools": {"step": "INTEGER", "time_ns": "BIGINT", "pool": "VARCHAR",
                           "reserve_a": "DOUBLE", "reserve_b": "DOUBLE", "lp_supply": "DOUBLE",
                           "swaps": "BIGINT"},
    }

    def recording(self, **options: Any) -> ConstantSumRecording:
        return ConstantSumRecording(self)


class ConstantSumRecording:
    """The pools' part of a run's recording: a ``constsum_pools`` row per pool and step,
    built-in KPIs per pool (``reserve_a``, ``reserve_b``, ``k``, ``fees``, ``swaps``)
    and the run's swap count (``counters()["swaps"]``)."""

    def __init__(self, protocol: ConstantSumPools) -> None:
        self.protocol = protocol
        self.tables = protocol.recording_tables
        self.swaps = 0

    def on_events(self, step: int, events: list, sink: Any) -> None:
        self.swaps += sum(1 for e in events if type(e) is Swapped)

    def sample(self, step: int, sink: Any) -> None:
        chain = self.protocol.chain
        for pid, p in self.protocol.pools.items():
            f = 10**p.decimals
            for name, value in (("reserve_a", p.reserve_a / f), ("reserve_b", p.reserve_b / f),
                                ("k", p.k / f), ("fees", p.fees / f), ("swaps", float(p.swaps))):
                sink.kpi(step, pid, name, value)
            rows = sink.rows("constsum_pools")
            if rows is not None:
                rows.append((step, chain.now, pid, p.reserve_a / f, p.reserve_b / f,
                             p.lp_supply / f, p.swaps))

    def counters(self) -> dict[str, int]:
        return {"swaps": self.swaps}


# ---------------------------------------------------------------------- the facade
@dataclass(frozen=True, slots=True)
class PoolView:
    """A read-only snapshot of one pool in asset units (``*_raw``: base units).

    ``fee`` is a fraction (0.003 = 30 bps); ``volume`` and ``fees`` are cumulative
    swap inputs and fees (both assets count 1:1); ``k`` is ``reserve_a + reserve_b``.
    """

    pool_id: str
    asset_a: str
    asset_b: str
    lp_asset: str
    fee: float
    fee_bps: int
    reserve_a: float
    reserve_b: float
    lp_supply: float
    swaps: int
    volume: float
    fees: float
    reserve_a_raw: int
    reserve_b_raw: int
    lp_supply_raw: int

    @property
    def k(self) -> float:
        return self.reserve_a + self.reserve_b



class ConstantSumFacade:
    """``sim.constsum``: create pools, add and remove liquidity, swap, read pools.

    Amounts are in asset units (floats or Decimals; ``*_raw`` twins take base units).
    Transactions never raise for bad input: an unknown pool, an asset not in the pool
    or an amount that is not a finite number >= 0 is rejected here, the rest by the
    protocol, each with a ``TransactionRejected`` event and a receipt whose
    ``accepted`` is false. In mempool mode a call returns a pending receipt and
    ``sim.receipt(tx_id)`` gives the outcome after the block closes (its ``value`` is
    the protocol's receipt).

    Args:
        sim: the :class:`~defisim.service.Simulation` it belongs to.
        protocol: the chain's :class:`ConstantSumPools`.
    """

    def __init__(self, sim: Simulation, protocol: ConstantSumPools) -> None:
        self.sim = sim
        self.chain = sim.chain
        self.protocol = protocol

    # -- set-up -------------------------------------------------------------------
    def create_pool(self, pool_id: str, asset_a: str, asset_b: str, fee_bps: int = 30) -> str:
        """Create an empty pool (see :meth:`ConstantSumPools.create_pool`); returns its id.

        Raises:
            ValueError: bad parameters (named in the message).
        """
        self.protocol.create_pool(pool_id, asset_a, asset_b, fee_bps)
        return pool_id

    # -- views --------------------------------------------------------------------
    @property
    def pools(self) -> list[str]:
        return list(self.protocol.pools)

    def _get(self, pool_id: str) -> Pool:
        try:
            return self.protocol.pools[pool_id]
        except KeyError:
            raise KeyError(f"unknown pool {pool_id!r}; known: {sorted(self.protocol.pools)}") from None

    def pool_view(self, pool_id: str) -> PoolView:
        """The pool now (:class:`PoolView`). Raises ``KeyError`` for an unknown pool."""
        p = self._get(pool_id)
        f = 10**p.decimals
        return PoolView(p.pool_id, p.asset_a, p.asset_b, p.lp_asset, p.fee_bps / BPS, p.fee_bps,
                        p.reserve_a / f, p.reserve_b / f, p.lp_supply / f, p.swaps, p.volume / f,
                        p.fees / f, p.reserve_a, p.reserve_b, p.lp_supply)

    def quote(self, pool_id: str, asset_in: str, amount_in: float) -> float:
        """What :meth:`swap` of ``amount_in`` would pay out now (asset units; the pool's
        liquidity is not checked).

        Raises:
            KeyError: unknown pool. ValueError: bad amount or asset not in the pool.
        """
        p = self._get(pool_id)
        if asset_in not in (p.asset_a, p.asset_b):
            raise ValueError(f"pool {pool_id} swaps {p.asset_a} and {p.asset_b}, not {asset_in!r}")
        raw = amount_to_raw(amount_in, p.decimals)
        if raw is None:
            raise ValueError(f"amount must be a finite number >= 0, got {amount_in!r}")
        return swap_amounts(raw, p.fee_bps)[0] / 10**p.decimals

    # -- transactions -------------------------------------------------------------
    def _send(self, party: str, call: str, *args: Any) -> Receipt:
        return self.chain.submit(Transaction(party, NAME, call, args))

    def _reject(self, tx: str, party: str, pool_id: str, reason: str, detail: str) -> Receipt:
        self.chain.reject(tx, party, pool_id if isinstance(pool_id, str) else "", reason, detail)
        return Receipt(REJECTED, reason, detail, block=self.chain.block)

    def _raws(self, tx: str, party: str, pool_id: str, amounts: tuple[Any, ...]) -> list[int] | Receipt:
        """The pool's amounts in base units, or the receipt of the rejection."""
        p = self.protocol.pools.get(pool_id)
        if p is None:
            return self._reject(tx, party, pool_id, Reason.POOL_NOT_FOUND,
                                f"unknown pool {pool_id!r}; known: {sorted(self.protocol.pools)}")
        out = []
        for a in amounts:
            raw = amount_to_raw(a, p.decimals)
            if raw is None:
                return self._reject(tx, party, pool_id, Reason.INVALID_AMOUNT,
                                    f"amounts must be finite numbers >= 0, got {a!r}")
            out.append(raw)
        return out

    def add_liquidity(self, party: str, pool_id: str, amount_a: float, amount_b: float) -> Receipt:
        """Deposit ``amount_a`` of the pool's first asset and ``amount_b`` of its second;
        ``value`` of the receipt: shares issued (base units of the share asset)."""
        raws = self._raws("add_liquidity", party, pool_id, (amount_a, amount_b))
        return raws if isinstance(raws, Receipt) else self._send(party, "add_liquidity", pool_id, *raws)

    def add_liquidity_raw(self, party: str, pool_id: str, amount_a: int, amount_b: int) -> Receipt:
        return self._send(party, "add_liquidity", pool_id, amount_a, amount_b)

    def remove_liquidity(self, party: str, pool_id: str, shares: float) -> Receipt:
        """Burn ``shares`` (share-asset units) for the pool's assets; ``value``:
        ``(amount_a, amount_b)`` in base units."""
        raws = self._raws("remove_liquidity", party, pool_id, (shares,))
        return raws if isinstance(raws, Receipt) else self._send(party, "remove_liquidity", pool_id, *raws)

    def remove_liquidity_raw(self, party: str, pool_id: str, shares: int) -> Receipt:
        return self._send(party, "remove_liquidity", pool_id, shares)

    def swap(self, party: str, pool_id: str, asset_in: str, amount_in: float,
             min_amount_out: float = 0.0) -> Receipt:
        """Swap exactly ``amount_in`` of ``asset_in`` for at least ``min_amount_out`` of
        the pool's other asset; ``value``: the amount out (base units)."""
        raws = self._raws("swap", party, pool_id, (amount_in, min_amount_out))
        return raws if isinstance(raws, Receipt) else self._send(party, "swap", pool_id, asset_in, *raws)

    def swap_raw(self, party: str, pool_id: str, asset_in: str, amount_in: int,
                 min_amount_out: int = 0) -> Receipt:
        return self._send(party, "swap", pool_id, asset_in, amount_in, min_amount_out)

    def swap_tx(self, party: str, pool_id: str, asset_in: str, amount_in: int,
                min_amount_out: int = 0) -> Transaction:
        """The raw :class:`~defisim.chain.Transaction` of a swap, unsent (for bundles,
        ``sim.send_bundle``, and the transaction log)."""
        return Transaction(party, NAME, "swap", (pool_id, asset_in, amount_in, min_amount_out))


def register() -> None:
    """Make ``"constsum"`` available to ``Simulation(protocols=[...])``: the whole of
    what it takes to add this protocol to defisim."""
    register_protocol(NAME, ConstantSumPools, ConstantSumFacade)


__all__ = [
    "ACCOUNT_TYPE",
    "GAS",
    "NAME",
    "ConstantSumFacade",
    "ConstantSumPools",
    "ConstantSumRecording",
    "LiquidityAdded",
    "LiquidityRemoved",
    "Pool",
    "PoolCreated",
    "PoolFeeChanged",
    "PoolView",
    "Reason",
    "Swapped",
    "deposit_shares",
    "lp_asset_id",
    "register",
    "reserve",
    "swap_amounts",
    "withdrawal_amounts",
]
