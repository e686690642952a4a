"""``sim.tokenomics``: the token-economy building blocks in asset units.

The facade of :class:`~defisim.protocols.tokenomics.TokenomicsProtocol` (register the
protocol with ``Simulation(protocols=[..., "tokenomics"])``; it is not in the default
set). Amounts in and out are asset units: floats, ints or Decimals in, converted
exactly through their decimal text (:func:`defisim.numeric.amount_to_raw`); the
``*_raw`` fields of views and the ``raw`` receipts carry base units. Base units
become asset units as TokenSPICE's ``fromBase18``: ``raw / float(10**decimals)`` (the
integer converted to a double, then divided), so that views reproduce TokenSPICE's
logged values to the last digit (spec 4.2: ``232876712328767123`` vested base units
show as ``0.23287671232876714``; ``sim.balance``'s exact quotient is
``0.2328767123287671``).

Set-up calls (``create_*``, ``add_minter``) raise ``ValueError`` on bad input.
Transactions never raise: bad input (an unknown asset, a negative or NaN amount) is a
``TransactionRejected`` event and a receipt whose ``accepted`` is false, like every
rejection of the protocol. An executed transaction's receipt carries its ``value`` in
asset units (documented per call); in mempool mode the call returns a pending receipt
and ``sim.receipt(tx_id).value`` is the protocol's raw receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from defisim.chain.transactions import EXECUTED, REJECTED, Receipt, Transaction
from defisim.numeric import amount_to_raw
from defisim.protocols.tokenomics.protocol import NAME, NS, Reason, TokenomicsProtocol
from defisim.protocols.tokenomics.routers import WAD
from defisim.protocols.tokenomics.schedules import (  # the schedules minters take, for users
    BITCOIN_NUM_HALF_LIVES,
    ExpFunc,
    LinearSchedule,
    RampedExpFunc,
    Schedule,
)

if TYPE_CHECKING:
    from .simulation import Simulation


# ---------------------------------------------------------------------- views
@dataclass(frozen=True, slots=True)
class SupplyView:
    """A token's supply books: ``supply = minted - burned`` (``minted`` includes
    ``initial``, the supply an adopted asset had); ``cap`` ``None`` when uncapped."""

    asset: str
    decimals: int
    supply: float
    minted: float
    burned: float
    initial: float
    cap: float | None
    minters: tuple[str, ...]
    supply_raw: int
    minted_raw: int
    burned_raw: int
    cap_raw: int | None


@dataclass(frozen=True, slots=True)
class GrantView:
    """A grant schedule: ``held`` = what its escrow still holds; times in chain seconds
    (``last_paid_s``/``next_due_s`` ``None`` before the first grant / after the last)."""

    grant_id: str
    payer: str
    receiver: str
    asset: str
    total: float
    per_grant: float
    n_grants: int
    grants_made: int
    paid: float
    held: float
    interval_s: float
    start_s: float
    last_paid_s: float | None
    next_due_s: float | None
    total_raw: int
    paid_raw: int
    held_raw: int


@dataclass(frozen=True, slots=True)
class RouterView:
    """A router: receivers with their fractions, and per asset what it holds, received
    and routed (asset units; ``held_raw`` in base units)."""

    router_id: str
    receivers: tuple[tuple[str, float], ...]
    held: dict[str, float]
    received: dict[str, float]
    routed: dict[str, float]
    held_raw: dict[str, int]


@dataclass(frozen=True, slots=True)
class MinterView:
    """A minter contract: ``left = total - minted``; times in chain seconds;
    ``minted_float`` / ``last_mint_float``: TokenSPICE's float books (the running double
    sum of the float mints, and the last one), bit for bit."""

    minter_id: str
    asset: str
    receiver: str
    schedule: str
    total: float
    minted: float
    left: float
    mints: int
    interval_s: float
    start_s: float
    previous_s: float | None
    total_raw: int
    minted_raw: int
    minted_float: float
    last_mint_float: float


@dataclass(frozen=True, slots=True)
class VestingWalletView:
    """A vesting wallet, per asset: ``held`` (vested or not), ``released``, ``vested``
    now (asset units; ``*_raw`` in base units)."""

    wallet_id: str
    beneficiary: str
    start_s: int
    duration_s: int
    held: dict[str, float]
    released: dict[str, float]
    vested: dict[str, float]
    held_raw: dict[str, int]
    released_raw: dict[str, int]
    vested_raw: dict[str, int]


@dataclass(frozen=True, slots=True)
class StakingPoolView:
    """A staking pool: stakes by party, rewards distributed, claimed, still held, and
    ``dust`` (rewards no staker can claim, from rounding); ``pending`` by party."""

    pool_id: str
    asset: str
    reward_asset: str
    total_staked: float
    stakes: dict[str, float]
    pending: dict[str, float]
    distributed: float
    claimed: float
    reward_balance: float
    dust: float
    total_staked_raw: int
    stakes_raw: dict[str, int]
    pending_raw: dict[str, int]


@dataclass(frozen=True, slots=True)
class MarketplaceView:
    """A marketplace: its toll, the number of sales and, per asset, volume and tolls."""

    market_id: str
    toll_receiver: str
    toll_fraction: float
    sales: int
    volume: dict[str, float]
    tolls: dict[str, float]


# ---------------------------------------------------------------------- the facade
class TokenomicsFacade:
    """``sim.tokenomics``: create and drive token-economy components (see the module
    docstring; the rules of each component are in :mod:`defisim.protocols.tokenomics`).

    Args:
        sim: the :class:`~defisim.service.Simulation`.
        protocol: the chain's :class:`TokenomicsProtocol`.
    """

    def __init__(self, sim: Simulation, protocol: TokenomicsProtocol) -> None:
        self.sim = sim
        self.chain = sim.chain
        self.protocol = protocol

    # -- conversion ---------------------------------------------------------------
    def _dec(self, asset: str) -> int:
        return self.chain.ledger.asset(asset).decimals

    def decimals(self, asset: str) -> int:
        """Decimal places of any ledger asset (``KeyError`` for an unknown one)."""
        return self._dec(asset)

    def _h(self, asset: str, raw: int) -> float:
        return raw / float(10 ** self._dec(asset))

    def _set_raw(self, asset: str, amount: Any, what: str) -> int:
        if asset not in self.chain.ledger.assets:
            raise ValueError(f"unknown asset {asset!r}; known: {sorted(self.chain.ledger.assets)}")
        raw = amount_to_raw(amount, self._dec(asset))
        if raw is None:
            raise ValueError(f"{what} must be a finite number >= 0, got {amount!r}")
        return raw

    def _rej(self, tx: str, party: Any, scope: Any, reason: str, detail: str) -> Receipt:
        self.chain.reject(tx, party if isinstance(party, str) else repr(party),
                          scope if isinstance(scope, str) else "", reason, detail)
        return Receipt(REJECTED, reason, detail, block=self.chain.block)

    def _tx_raw(self, tx: str, party: Any, scope: Any, asset: Any, amount: Any) -> int | Receipt:
        if not isinstance(asset, str) or asset not in self.chain.ledger.assets:
            return self._rej(tx, party, scope, Reason.UNKNOWN_ASSET, f"unknown asset {asset!r}")
        raw = amount_to_raw(amount, self._dec(asset))
        if raw is None:
            return self._rej(tx, party, scope, Reason.INVALID_AMOUNT,
                             f"amount must be a finite number >= 0, got {amount!r}")
        return raw

    def _send(self, party: str, call: str, args: tuple, conv: Any = None) -> Receipt:
        r = self.chain.submit(Transaction(party, NAME, call, args))
        if conv is not None and isinstance(r, Receipt) and r.status == EXECUTED:
            return Receipt(r.status, r.reason, r.detail, r.tx_id, r.block, r.gas_used, r.fee_burned,
                           r.tip, conv(r.value))
        return r

    def _units(self, asset: str) -> Any:
        f = float(10 ** self._dec(asset))
        return lambda v: v / f

    # -- tokens ---------------------------------------------------------------------
    def create_token(self, asset: str, decimals: int = 18, cap: Any = None,
                     minters: tuple[str, ...] | list[str] = ()) -> str:
        """Manage ``asset`` as a token with an optional ``cap`` (asset units) and its
        ``minters`` (:meth:`TokenomicsProtocol.create_token`; an existing asset is
        adopted); returns the asset id.

        Raises:
            ValueError: bad parameters (named in the message).
        """
        cap_raw = None
        if cap is not None:
            cap_raw = amount_to_raw(cap, decimals if isinstance(decimals, int) else 0)
            if cap_raw is None:
                raise ValueError(f"cap must be a finite number >= 0, got {cap!r}")
        self.protocol.create_token(asset, decimals, cap_raw, minters)
        return asset

    def add_minter(self, asset: str, minter: str) -> None:
        """Allow ``minter`` to mint ``asset`` (``ValueError`` for an unknown token)."""
        self.protocol.add_minter(asset, minter)

    def mint(self, minter: str, asset: str, receiver: str, amount: Any) -> Receipt:
        """``minter`` mints ``amount`` of ``asset`` to ``receiver`` (a party, router or
        vesting wallet); ``value``: the amount. Rejected: ``NOT_MINTER``,
        ``CAP_EXCEEDED``, ``UNKNOWN_TOKEN``, ``UNKNOWN_RECEIVER``, ``INVALID_AMOUNT``."""
        if not isinstance(asset, str) or asset not in self.protocol.tokens:
            return self._rej("mint", minter, asset, Reason.UNKNOWN_TOKEN, f"unknown token {asset!r}")
        raw = self._tx_raw("mint", minter, asset, asset, amount)
        if isinstance(raw, Receipt):
            return raw
        return self._send(minter, "mint", (asset, receiver, raw), self._units(asset))

    def burn(self, party: str, asset: str, amount: Any) -> Receipt:
        """``party`` burns ``amount`` of token ``asset`` from its general account;
        ``value``: the amount. Rejected: ``UNKNOWN_TOKEN``, ``INSUFFICIENT_FUNDS``, ..."""
        if not isinstance(asset, str) or asset not in self.protocol.tokens:
            return self._rej("burn", party, asset, Reason.UNKNOWN_TOKEN, f"unknown token {asset!r}")
        raw = self._tx_raw("burn", party, asset, asset, amount)
        if isinstance(raw, Receipt):
            return raw
        return self._send(party, "burn", (asset, raw), self._units(asset))

    @property
    def tokens(self) -> list[str]:
        return list(self.protocol.tokens)

    def supply(self, asset: str) -> SupplyView:
        """Token ``asset``'s supply, minted, burned (``KeyError`` for an unknown token)."""
        t = self._get(self.protocol.tokens, asset, "token")
        f = float(10**t.decimals)
        return SupplyView(asset, t.decimals, t.supply / f, t.minted / f, t.burned / f, t.initial / f,
                          None if t.cap is None else t.cap / f, tuple(sorted(t.minters)),
                          t.supply, t.minted, t.burned, t.cap)

    @staticmethod
    def _get(d: dict, key: Any, what: str) -> Any:
        try:
            return d[key]
        except (KeyError, TypeError):
            raise KeyError(f"unknown {what} {key!r}; known: {sorted(d)}") from None

    # -- grants ---------------------------------------------------------------------
    def create_grant(self, grant_id: str, payer: str, receiver: str, asset: str, total: Any,
                     n_grants: int, interval_s: float, start_s: float | None = None) -> str:
        """A grant schedule funded now with ``total`` (asset units) from ``payer``: ``n_grants``
        grants of ``total / n`` (exact integer division; the last pays the rest) to
        ``receiver``, the first at or after ``start_s`` (default now), then every
        ``interval_s`` after the last (:mod:`defisim.protocols.tokenomics.grants`).

        Raises:
            ValueError: bad parameters, or the payer holds less than ``total``.
        """
        raw = self._set_raw(asset, total, "total")
        self.protocol.create_grant(grant_id, payer, receiver, asset, raw, n_grants, interval_s, start_s)
        return grant_id

    def disburse(self, party: str, grant_id: str) -> Receipt:
        """Pay grant ``grant_id``'s grant if due (anyone may call); ``value``: the amount
        paid (0 when none is due). Rejected: ``UNKNOWN_GRANT``, ``UNKNOWN_PARTY``."""
        g = self.protocol.grants.get(grant_id) if isinstance(grant_id, str) else None
        return self._send(party, "disburse", (grant_id,), None if g is None else self._units(g.asset))

    def grant_view(self, grant_id: str) -> GrantView:
        g = self._get(self.protocol.grants, grant_id, "grant")
        f = float(10 ** self._dec(g.asset))
        nxt = g.next_due_ns()
        return GrantView(g.grant_id, g.payer, g.receiver, g.asset, g.total / f, g.per_grant / f,
                         g.n_grants, g.grants_made, g.paid / f, g.held / f, g.interval_ns / NS,
                         g.start_ns / NS, None if g.last_paid_ns is None else g.last_paid_ns / NS,
                         None if nxt is None else nxt / NS, g.total, g.paid, g.held)

    # -- routers --------------------------------------------------------------------
    def create_router(self, router_id: str, receivers: dict[str, Any]) -> str:
        """A router splitting what it holds among ``receivers`` ``{name: fraction}``
        (fractions > 0 summing to <= 1; :mod:`defisim.protocols.tokenomics.routers`).

        Raises:
            ValueError: bad parameters.
        """
        self.protocol.create_router(router_id, receivers)
        return router_id

    def deposit(self, party: str, target: str, asset: str, amount: Any) -> Receipt:
        """``party`` pays ``amount`` of ``asset`` into router or vesting wallet ``target``;
        ``value``: the amount. Rejected: ``UNKNOWN_TARGET``, ``INSUFFICIENT_FUNDS``, ..."""
        raw = self._tx_raw("deposit", party, target, asset, amount)
        if isinstance(raw, Receipt):
            return raw
        return self._send(party, "deposit", (target, asset, raw), self._units(asset))

    def route(self, party: str, router_id: str, asset: str) -> Receipt:
        """Split router ``router_id``'s whole balance of ``asset`` (anyone may call);
        ``value``: ``((receiver, amount), ...)`` in asset units (``()`` when empty)."""
        conv = None
        if isinstance(asset, str) and asset in self.chain.ledger.assets:
            f = float(10 ** self._dec(asset))
            def conv(v: Any) -> Any:
                return tuple((name, a / f) for name, a in v)
        return self._send(party, "route", (router_id, asset), conv)

    def router_view(self, router_id: str) -> RouterView:
        r = self._get(self.protocol.routers, router_id, "router")
        h = self._h
        return RouterView(r.router_id, tuple((n, w / WAD) for n, w in r.receivers),
                          {a: h(a, v) for a, v in r.held.items()},
                          {a: h(a, v) for a, v in r.received.items()},
                          {a: h(a, v) for a, v in r.routed.items()}, dict(r.held))

    # -- minters --------------------------------------------------------------------
    def create_minter(self, minter_id: str, asset: str, receiver: str, total: Any, schedule: Schedule,
                      interval_s: float, start_s: float | None = None) -> str:
        """A minter contract of token ``asset`` minting ``total`` (asset units; exact in
        base units, and ``float(total)`` as ``T`` of a function schedule) to
        ``receiver`` on ``schedule`` (:class:`LinearSchedule`, :class:`ExpFunc`,
        :class:`RampedExpFunc`), due at most every ``interval_s`` from ``start_s``
        (default now; :mod:`defisim.protocols.tokenomics.minters`).

        Raises:
            ValueError: bad parameters.
        """
        raw = self._set_raw(asset, total, "total")
        self.protocol.create_minter(minter_id, asset, receiver, raw, schedule, interval_s, start_s,
                                    total_float=float(total))
        return minter_id

    def mint_due(self, party: str, minter_id: str) -> Receipt:
        """Mint what minter ``minter_id`` has due (anyone may call); ``value``: the amount
        minted (0 when none is due). Rejected: ``UNKNOWN_MINTER``, ``CAP_EXCEEDED``."""
        m = self.protocol.minters.get(minter_id) if isinstance(minter_id, str) else None
        return self._send(party, "mint_due", (minter_id,), None if m is None else self._units(m.asset))

    def minter_view(self, minter_id: str) -> MinterView:
        m = self._get(self.protocol.minters, minter_id, "minter")
        f = float(10**m.decimals)
        return MinterView(m.minter_id, m.asset, m.receiver, repr(m.schedule), m.total / f, m.minted / f,
                          m.left / f, m.mints, m.interval_ns / NS, m.start_ns / NS,
                          None if m.previous_ns is None else m.previous_ns / NS, m.total, m.minted,
                          m.minted_float, m.last_mint_float)

    # -- vesting --------------------------------------------------------------------
    def create_vesting_wallet(self, wallet_id: str, beneficiary: str, start_s: int, duration_s: int) -> str:
        """An OpenZeppelin ``VestingWallet`` for ``beneficiary`` vesting linearly from
        ``start_s`` over ``duration_s`` (integer chain seconds); fund it with
        :meth:`deposit`. Raises ``ValueError`` on bad parameters."""
        self.protocol.create_vesting_wallet(wallet_id, beneficiary, start_s, duration_s)
        return wallet_id

    def release(self, party: str, wallet_id: str, asset: str) -> Receipt:
        """Pay the beneficiary what has vested and not been released (anyone may call);
        ``value``: the amount (0 is fine). Rejected: ``UNKNOWN_WALLET``, ``UNKNOWN_ASSET``."""
        conv = self._units(asset) if isinstance(asset, str) and asset in self.chain.ledger.assets else None
        return self._send(party, "release", (wallet_id, asset), conv)

    def vested(self, wallet_id: str, asset: str, at_s: int | None = None, raw: bool = False) -> float | int:
        """``vestedAmount(asset, ts)`` at chain second ``at_s`` (default now)."""
        w = self._get(self.protocol.wallets, wallet_id, "vesting wallet")
        ts = self.chain.now // NS if at_s is None else int(at_s)
        v = w.vested(asset, ts)
        return v if raw else self._h(asset, v)

    def released(self, wallet_id: str, asset: str, raw: bool = False) -> float | int:
        w = self._get(self.protocol.wallets, wallet_id, "vesting wallet")
        v = w.released.get(asset, 0)
        return v if raw else self._h(asset, v)

    def vesting_view(self, wallet_id: str) -> VestingWalletView:
        w = self._get(self.protocol.wallets, wallet_id, "vesting wallet")
        ts = self.chain.now // NS
        assets = sorted(w.held.keys() | w.released.keys())
        vr = {a: w.vested(a, ts) for a in assets}
        h = self._h
        return VestingWalletView(w.wallet_id, w.beneficiary, w.start_s, w.duration_s,
                                 {a: h(a, w.held.get(a, 0)) for a in assets},
                                 {a: h(a, w.released.get(a, 0)) for a in assets},
                                 {a: h(a, v) for a, v in vr.items()},
                                 {a: w.held.get(a, 0) for a in assets},
                                 {a: w.released.get(a, 0) for a in assets}, vr)

    # -- staking --------------------------------------------------------------------
    def create_staking_pool(self, pool_id: str, asset: str, reward_asset: str | None = None) -> str:
        """A staking pool of ``asset`` paying rewards in ``reward_asset`` (default
        ``asset``) pro rata to stake. Raises ``ValueError`` on bad parameters."""
        self.protocol.create_staking_pool(pool_id, asset, reward_asset)
        return pool_id

    def _pool_asset(self, pool_id: Any, reward: bool = False) -> str | None:
        p = self.protocol.pools.get(pool_id) if isinstance(pool_id, str) else None
        return None if p is None else (p.reward_asset if reward else p.asset)

    def _pool_tx(self, call: str, party: str, pool_id: str, amount: Any, reward: bool = False) -> Receipt:
        asset = self._pool_asset(pool_id, reward)
        if asset is None:
            return self._send(party, call, (pool_id, 0))  # the protocol rejects the pool
        raw = self._tx_raw(call, party, pool_id, asset, amount)
        if isinstance(raw, Receipt):
            return raw
        return self._send(party, call, (pool_id, raw), self._units(asset))

    def stake(self, party: str, pool_id: str, amount: Any) -> Receipt:
        """Stake ``amount``; ``value``: the amount. Rejected: ``UNKNOWN_POOL``,
        ``INSUFFICIENT_FUNDS``, ``INVALID_AMOUNT``."""
        return self._pool_tx("stake", party, pool_id, amount)

    def unstake(self, party: str, pool_id: str, amount: Any) -> Receipt:
        """Unstake ``amount`` (rewards so far stay owed); ``value``: the amount.
        Rejected: ``INSUFFICIENT_STAKE``, ..."""
        return self._pool_tx("unstake", party, pool_id, amount)

    def distribute(self, party: str, pool_id: str, amount: Any) -> Receipt:
        """``party`` pays ``amount`` of the reward asset to the pool's stakers, pro rata
        to their stakes now; ``value``: the amount. Rejected: ``NOTHING_STAKED``, ..."""
        return self._pool_tx("distribute", party, pool_id, amount, reward=True)

    def claim(self, party: str, pool_id: str) -> Receipt:
        """Pay ``party`` its owed rewards; ``value``: the amount (0 is fine)."""
        asset = self._pool_asset(pool_id, reward=True)
        return self._send(party, "claim", (pool_id,), None if asset is None else self._units(asset))

    def pending_reward(self, pool_id: str, party: str, raw: bool = False) -> float | int:
        """``party``'s claimable reward in pool ``pool_id`` now."""
        p = self._get(self.protocol.pools, pool_id, "staking pool")
        v = p.pending(party)
        return v if raw else self._h(p.reward_asset, v)

    def staking_view(self, pool_id: str) -> StakingPoolView:
        p = self._get(self.protocol.pools, pool_id, "staking pool")
        a, ra = p.asset, p.reward_asset
        parties = sorted(p.stakes.keys() | p.owed.keys())
        pend = {q: p.pending(q) for q in parties}
        return StakingPoolView(p.pool_id, a, ra, self._h(a, p.total_staked),
                               {q: self._h(a, s) for q, s in p.stakes.items()},
                               {q: self._h(ra, v) for q, v in pend.items()},
                               self._h(ra, p.distributed), self._h(ra, p.claimed),
                               self._h(ra, p.reward_balance), self._h(ra, p.dust),
                               p.total_staked, dict(p.stakes), pend)

    # -- marketplaces ---------------------------------------------------------------
    def create_marketplace(self, market_id: str, toll_receiver: str, toll_fraction: Any) -> str:
        """A marketplace paying ``toll_fraction`` (in [0, 1]) of every sale to
        ``toll_receiver`` (a party, router or vesting wallet). Raises ``ValueError``."""
        self.protocol.create_marketplace(market_id, toll_receiver, toll_fraction)
        return market_id

    def sell(self, buyer: str, market_id: str, seller: str, asset: str, price: Any) -> Receipt:
        """``buyer`` pays ``price`` of ``asset`` on marketplace ``market_id``:
        ``price - toll`` to ``seller``, ``toll = ceil(price * toll_fraction)`` (base
        units) to the toll receiver; ``value``: ``(to_seller, toll)`` in asset units."""
        raw = self._tx_raw("sell", buyer, market_id, asset, price)
        if isinstance(raw, Receipt):
            return raw
        f = float(10 ** self._dec(asset))
        return self._send(buyer, "sell", (market_id, seller, asset, raw),
                          lambda v: (v[0] / f, v[1] / f))

    def marketplace_view(self, market_id: str) -> MarketplaceView:
        m = self._get(self.protocol.markets, market_id, "marketplace")
        h = self._h
        return MarketplaceView(m.market_id, m.toll_receiver, m.toll_wad / WAD, m.sales,
                               {a: h(a, v) for a, v in m.volume.items()},
                               {a: h(a, v) for a, v in m.tolls.items()})


__all__ = ["BITCOIN_NUM_HALF_LIVES", "ExpFunc", "GrantView", "LinearSchedule", "MarketplaceView",
           "MinterView", "RampedExpFunc", "RouterView", "StakingPoolView", "SupplyView",
           "TokenomicsFacade", "VestingWalletView"]
