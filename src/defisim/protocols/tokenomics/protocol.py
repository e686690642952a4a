"""The ``tokenomics`` chain protocol: token-economy building blocks on the ledger.

:class:`TokenomicsProtocol` holds the components (one module per concept, pure
Python books) and moves their tokens with ledger operations in exact base units:

- tokens with a cap and minter roles (:mod:`.tokens`): ``mint``, ``burn``;
- grant schedules, treasuries that pay ``n`` grants (:mod:`.grants`): ``disburse``;
- routers that split flows by fractions (:mod:`.routers`): ``deposit``, ``route``;
- minter contracts on linear / exponential / ramped schedules (:mod:`.minters`,
  :mod:`.schedules`): ``mint_due``;
- vesting wallets, OpenZeppelin's linear ``VestingWallet`` (:mod:`.vesting`):
  ``deposit``, ``release``;
- staking pools with pro-rata rewards (:mod:`.staking`): ``stake``, ``unstake``,
  ``distribute``, ``claim``;
- marketplaces that pay a toll (:mod:`.marketplaces`): ``sell``.

Set-up calls (``create_*``, a scenario's, raise ``ValueError`` on bad input) create
components; transactions (``Transaction(sender, "tokenomics", call, args)``, raw
integers) act on them and return a :class:`~defisim.chain.Receipt` whose ``value`` is
documented per call. A rejected transaction emits one ``TransactionRejected`` event
with a :class:`Reason` code and changes nothing else. Calls that find nothing to do
(a grant or mint not yet due, an empty router, nothing vested, nothing owed) execute
and move 0.

Component ids share one namespace (a router and a grant cannot both be called
``"dao"``) and may not be a party's name. A *receiver* (of grants, mints, routes and
tolls) is a router or vesting wallet of this protocol when one has that id, else a
party (its general account).

Components are driven only by transactions: there is no block hook, so the order of
payments within a step is the order of the agents that send them (TokenSPICE steps
its agents in order, spec ``token-netlists.md`` 1.1).

Invariants (every block end): for every token, ``minted - burned`` equals the ledger's
supply and the supply is within the cap; every grant escrow, router, vesting wallet,
stake and rewards account holds exactly what its component's books say; a staking
pool's rewards account covers everything claimable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from defisim.chain.ledger import AccountKey, general
from defisim.chain.protocol import ChainProtocol
from defisim.chain.transactions import EXECUTED, REJECTED, Receipt
from defisim.numeric import amount_to_raw

from . import accounts as acc
from . import events as ev
from .grants import GrantSchedule
from .marketplaces import Marketplace
from .minters import Minter
from .routers import WAD, Router
from .schedules import ExpFunc, LinearSchedule, RampedExpFunc, Schedule
from .staking import StakingPool
from .tokens import Token
from .vesting import VestingWallet

NAME = "tokenomics"
NS = 1_000_000_000


class Reason:
    """Reason codes of the protocol's rejections."""

    UNKNOWN_PARTY = "UNKNOWN_PARTY"
    UNKNOWN_TOKEN = "UNKNOWN_TOKEN"
    UNKNOWN_ASSET = "UNKNOWN_ASSET"
    UNKNOWN_RECEIVER = "UNKNOWN_RECEIVER"
    UNKNOWN_GRANT = "UNKNOWN_GRANT"
    UNKNOWN_ROUTER = "UNKNOWN_ROUTER"
    UNKNOWN_TARGET = "UNKNOWN_TARGET"
    UNKNOWN_MINTER = "UNKNOWN_MINTER"
    UNKNOWN_WALLET = "UNKNOWN_WALLET"
    UNKNOWN_POOL = "UNKNOWN_POOL"
    UNKNOWN_MARKETPLACE = "UNKNOWN_MARKETPLACE"
    NOT_MINTER = "NOT_MINTER"
    CAP_EXCEEDED = "CAP_EXCEEDED"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    INSUFFICIENT_STAKE = "INSUFFICIENT_STAKE"
    NOTHING_STAKED = "NOTHING_STAKED"


GAS = {"mint": 60_000, "burn": 40_000, "disburse": 60_000, "deposit": 50_000, "route": 80_000,
       "mint_due": 70_000, "release": 60_000, "stake": 90_000, "unstake": 90_000,
       "distribute": 60_000, "claim": 70_000, "sell": 80_000}
"""Gas of each transaction in mempool mode."""


def _is_amount(x: Any) -> bool:
    return type(x) is int and x > 0


def fraction_to_wad(fraction: Any, what: str) -> int:
    """A fraction (int, float or Decimal in ``[0, 1]``) in parts per ``10**18``, exact from
    its decimal text. Raises ``ValueError`` otherwise."""
    w = amount_to_raw(fraction, 18)
    if w is None or w > WAD:
        raise ValueError(f"{what} must be a number in [0, 1], got {fraction!r}")
    return w


@dataclass(slots=True)
class _Dest:
    """A resolved receiver: its ledger key and the component whose books it credits."""

    key: AccountKey
    router: Router | None = None
    wallet: VestingWallet | None = None


class TokenomicsProtocol(ChainProtocol):
    """Every token-economy component on a chain (see the module docstring).

    Transactions (raw; ``value`` of the receipt in base units):

    - ``mint(asset, receiver, amount)``: by a minter of ``asset``; ``value`` amount;
    - ``burn(asset, amount)``: from the sender's general account; ``value`` amount;
    - ``disburse(grant_id)``: pays the grant due; ``value`` amount paid (0: none due);
    - ``deposit(target_id, asset, amount)``: into a router or vesting wallet;
    - ``route(router_id, asset)``: ``value`` ``((receiver, amount), ...)``;
    - ``mint_due(minter_id)``: ``value`` amount minted (0: none due);
    - ``release(wallet_id, asset)``: ``value`` amount paid to the beneficiary;
    - ``stake(pool_id, amount)``, ``unstake(pool_id, amount)``: ``value`` amount;
    - ``distribute(pool_id, amount)``: rewards from the sender; ``value`` amount;
    - ``claim(pool_id)``: ``value`` the reward paid;
    - ``sell(market_id, seller, asset, price)``: the sender buys; ``value``
      ``(to_seller, toll)``.
    """

    name = NAME
    gas = GAS

    def __init__(self) -> None:
        self.tokens: dict[str, Token] = {}
        self.grants: dict[str, GrantSchedule] = {}
        self.routers: dict[str, Router] = {}
        self.minters: dict[str, Minter] = {}
        self.wallets: dict[str, VestingWallet] = {}
        self.pools: dict[str, StakingPool] = {}
        self.markets: dict[str, Marketplace] = {}
        self.ids: dict[str, str] = {}

    # ------------------------------------------------------------------ helpers
    @property
    def _led(self) -> Any:
        return self.chain.ledger

    def _emit(self, cls: type, *fields: Any) -> None:
        self.chain.emit(cls(*self.chain.stamp(), *fields))

    def _new_id(self, kind: str, cid: Any) -> None:
        if not isinstance(cid, str) or not cid:
            raise ValueError(f"a {kind} id must be a non-empty string, got {cid!r}")
        if cid in self.ids:
            raise ValueError(f"id {cid!r} is taken by a {self.ids[cid]}")
        if cid in self._led.parties:
            raise ValueError(f"id {cid!r} is a party's name")

    def _check_receiver(self, name: Any, what: str) -> None:
        if not isinstance(name, str) or not (name in self.routers or name in self.wallets
                                             or name in self._led.parties):
            raise ValueError(f"{what} {name!r} is neither a party nor a router or vesting wallet")

    def _check_asset(self, asset: Any) -> int:
        if not isinstance(asset, str) or asset not in self._led.assets:
            raise ValueError(f"unknown asset {asset!r}; known: {sorted(self._led.assets)}")
        return self._led.assets[asset].decimals

    @staticmethod
    def _seconds_ns(s: Any, what: str, positive: bool = True) -> int:
        if isinstance(s, bool) or not isinstance(s, int | float) or not math.isfinite(s):
            raise ValueError(f"{what} must be a finite number of seconds, got {s!r}")
        ns = round(s * NS)
        if ns < 0 or (positive and ns == 0):
            raise ValueError(f"{what} must be {'> 0' if positive else '>= 0'}, got {s!r}")
        return ns

    def _dest(self, name: str, asset: str) -> _Dest | None:
        if name in self.routers:
            return _Dest(acc.router_account(name, asset), router=self.routers[name])
        if name in self.wallets:
            return _Dest(acc.vesting_account(name, asset), wallet=self.wallets[name])
        if name in self._led.parties:
            return _Dest(general(name, asset))
        return None

    @staticmethod
    def _credit(d: _Dest, asset: str, amount: int) -> None:
        if d.router is not None:
            d.router.record_in(asset, amount)
        elif d.wallet is not None:
            d.wallet.record_deposit(asset, amount)

    def _pay(self, source: AccountKey, d: _Dest, asset: str, amount: int, kind: str) -> None:
        if amount > 0:
            self._led.transfer(source, d.key, amount, kind)
            self._credit(d, asset, amount)

    def _ok(self, value: Any) -> Receipt:
        return Receipt(EXECUTED, block=self.chain.block, value=value)

    def _rej(self, tx: str, party: Any, scope: Any, reason: str, detail: str) -> Receipt:
        self.chain.reject(tx, party if isinstance(party, str) else repr(party),
                          scope if isinstance(scope, str) else "", reason, detail)
        return Receipt(REJECTED, reason, detail, block=self.chain.block)

    def _sender(self, tx: str, sender: Any, scope: Any) -> Receipt | None:
        if not isinstance(sender, str) or sender not in self._led.parties:
            return self._rej(tx, sender, scope, Reason.UNKNOWN_PARTY, f"unknown party {sender!r}")
        return None

    def _funds(self, tx: str, sender: str, scope: str, asset: str, amount: int) -> Receipt | None:
        have = self._led.balance(general(sender, asset))
        if have < amount:
            return self._rej(tx, sender, scope, Reason.INSUFFICIENT_FUNDS,
                             f"{sender} holds {have} {asset}, needs {amount}")
        return None

    def _amount(self, tx: str, sender: str, scope: str, amount: Any) -> Receipt | None:
        if not _is_amount(amount):
            return self._rej(tx, sender, scope, Reason.INVALID_AMOUNT,
                             f"amount must be an integer > 0 (base units), got {amount!r}")
        return None

    def _component(self, tx: str, sender: Any, table: dict, comp_id: Any, reason: str,
                   what: str) -> Any:
        """The component ``comp_id`` of ``table`` after the sender check, or the
        rejection receipt (``reason``, naming the known ones)."""
        r = self._sender(tx, sender, comp_id)
        if r:
            return r
        c = table.get(comp_id) if isinstance(comp_id, str) else None
        if c is None:
            return self._rej(tx, sender, comp_id, reason,
                             f"unknown {what} {comp_id!r}; known: {sorted(table)}")
        return c

    def _asset(self, tx: str, sender: str, scope: str, asset: Any) -> Receipt | None:
        if not isinstance(asset, str) or asset not in self._led.assets:
            return self._rej(tx, sender, scope, Reason.UNKNOWN_ASSET, f"unknown asset {asset!r}")
        return None

    # ------------------------------------------------------------------ set-up
    def create_token(self, asset: str, decimals: int, cap: int | None = None,
                     minters: tuple[str, ...] | list[str] = ()) -> Token:
        """Manage ``asset`` as a token: create it on the ledger with ``decimals``, or adopt
        it if it exists (its supply so far counts as ``initial``, in ``minted``).

        Args:
            cap: most supply ever (base units; ``None``: no cap).
            minters: names allowed to ``mint`` (parties; minter contracts add themselves).

        Raises:
            ValueError: token already managed, bad decimals, an adopted asset of other
                decimals, a cap that is not an integer >= the current supply, or a
                minter that is not a string.
        """
        led = self._led
        if not isinstance(asset, str) or not asset:
            raise ValueError(f"asset id must be a non-empty string, got {asset!r}")
        if asset in self.tokens:
            raise ValueError(f"token {asset!r} already exists")
        if asset in led.assets:
            if led.assets[asset].decimals != decimals:
                raise ValueError(f"asset {asset!r} exists with {led.assets[asset].decimals} decimals, "
                                 f"not {decimals}")
            initial = led.supply.get(asset, 0)
        else:
            if type(decimals) is not int or not 0 <= decimals <= 36:
                raise ValueError(f"decimals must be an integer in [0, 36], got {decimals!r}")
            initial = 0
        if cap is not None and (type(cap) is not int or cap < initial):
            raise ValueError(f"cap must be an integer >= the supply {initial}, got {cap!r}")
        if isinstance(minters, str) or not all(isinstance(m, str) and m for m in minters):
            raise ValueError(f"minters must be a list of names, got {minters!r}")
        if asset not in led.assets:
            led.create_asset(asset, decimals)
        tok = self.tokens[asset] = Token(asset, decimals, cap, set(minters), initial, initial)
        self._emit(ev.TokenCreated, asset, decimals, -1 if cap is None else cap, initial)
        return tok

    def add_minter(self, asset: str, minter: str) -> None:
        """Allow ``minter`` to mint ``asset``. Raises ``ValueError`` for an unknown token."""
        if asset not in self.tokens:
            raise ValueError(f"unknown token {asset!r}; known: {sorted(self.tokens)}")
        if not isinstance(minter, str) or not minter:
            raise ValueError(f"minter must be a non-empty string, got {minter!r}")
        self.tokens[asset].minters.add(minter)

    def create_grant(self, grant_id: str, payer: str, receiver: str, asset: str, total: int,
                     n_grants: int, interval_s: float, start_s: float | None = None) -> GrantSchedule:
        """A grant schedule (:mod:`.grants`) funded now with ``total`` base units from
        ``payer``'s general account; ``start_s``: chain seconds of the first grant
        (``None``: now).

        Raises:
            ValueError: bad id, unknown payer, receiver or asset, ``total`` not an
                integer >= 0, ``n_grants`` < 1, ``interval_s`` not > 0, or the payer
                holds less than ``total``.
        """
        self._new_id("grant", grant_id)
        led = self._led
        if payer not in led.parties:
            raise ValueError(f"unknown payer {payer!r}")
        self._check_receiver(receiver, "receiver")
        self._check_asset(asset)
        if type(total) is not int or total < 0:
            raise ValueError(f"total must be an integer >= 0 (base units), got {total!r}")
        if type(n_grants) is not int or n_grants < 1:
            raise ValueError(f"n_grants must be an integer >= 1, got {n_grants!r}")
        interval = self._seconds_ns(interval_s, "interval_s")
        start = self.chain.now if start_s is None else self._seconds_ns(start_s, "start_s", False)
        have = led.balance(general(payer, asset))
        if have < total:
            raise ValueError(f"payer {payer} holds {have} {asset}, the grant needs {total}")
        g = GrantSchedule(grant_id, payer, receiver, asset, total, n_grants, interval, start)
        if total:
            led.transfer(general(payer, asset), acc.grant_escrow(grant_id, asset), total, "tokenomics_grant_fund")
        self.grants[grant_id] = g
        self.ids[grant_id] = "grant"
        self._emit(ev.GrantCreated, grant_id, payer, receiver, asset, total, n_grants, interval, start)
        return g

    def create_router(self, router_id: str, receivers: dict[str, Any]) -> Router:
        """A router (:mod:`.routers`) with ``receivers`` ``{name: fraction}`` (in order).

        Raises:
            ValueError: bad id, no receivers, an unknown receiver, the router itself as
                a receiver, a fraction not in ``(0, 1]``, or fractions summing above 1.
        """
        self._new_id("router", router_id)
        if not isinstance(receivers, dict) or not receivers:
            raise ValueError(f"receivers must be a non-empty dict {{name: fraction}}, got {receivers!r}")
        out = []
        for name, frac in receivers.items():
            if name == router_id:
                raise ValueError(f"router {router_id!r} cannot route to itself")
            self._check_receiver(name, "receiver")
            w = fraction_to_wad(frac, f"fraction of {name!r}")
            if w == 0:
                raise ValueError(f"fraction of {name!r} must be > 0, got {frac!r}")
            out.append((name, w))
        total = sum(w for _, w in out)
        if total > WAD:
            raise ValueError(f"fractions sum to {total / WAD!r} > 1: {receivers!r}")
        r = self.routers[router_id] = Router(router_id, tuple(out))
        self.ids[router_id] = "router"
        self._emit(ev.RouterCreated, router_id, tuple(out))
        return r

    def create_minter(self, minter_id: str, asset: str, receiver: str, total: int,
                      schedule: Schedule, interval_s: float, start_s: float | None = None,
                      total_float: float | None = None) -> Minter:
        """A minter contract (:mod:`.minters`) of token ``asset`` minting ``total`` base
        units to ``receiver`` on ``schedule``, checking every ``interval_s`` seconds from
        ``start_s`` (``None``: now). ``total_float``: ``T`` of the function formula
        (default ``total / 10**decimals``). The minter becomes a minter of the token.

        Raises:
            ValueError: bad id, unknown token or receiver, bad total, schedule or times.
        """
        self._new_id("minter", minter_id)
        if asset not in self.tokens:
            raise ValueError(f"unknown token {asset!r}; create it with create_token")
        self._check_receiver(receiver, "receiver")
        if type(total) is not int or total < 0:
            raise ValueError(f"total must be an integer >= 0 (base units), got {total!r}")
        if not isinstance(schedule, LinearSchedule | ExpFunc | RampedExpFunc):
            raise ValueError(f"schedule must be a LinearSchedule, ExpFunc or RampedExpFunc, got {schedule!r}")
        interval = self._seconds_ns(interval_s, "interval_s")
        start = self.chain.now if start_s is None else self._seconds_ns(start_s, "start_s", False)
        dec = self.tokens[asset].decimals
        tf = total / 10**dec if total_float is None else float(total_float)
        m = self.minters[minter_id] = Minter(minter_id, asset, dec, receiver, total, tf, schedule,
                                             interval, start)
        self.ids[minter_id] = "minter"
        self.tokens[asset].minters.add(minter_id)
        self._emit(ev.MinterCreated, minter_id, asset, receiver, total, repr(schedule), interval, start)
        return m

    def create_vesting_wallet(self, wallet_id: str, beneficiary: str, start_s: int,
                              duration_s: int) -> VestingWallet:
        """A vesting wallet (:mod:`.vesting`): ``start_s`` and ``duration_s`` are integer
        seconds of chain time (``uint64`` in the contract).

        Raises:
            ValueError: bad id, unknown beneficiary (a party), or times not integers
                (``start_s >= 0``, ``duration_s >= 0``).
        """
        self._new_id("vesting wallet", wallet_id)
        if beneficiary not in self._led.parties:
            raise ValueError(f"beneficiary {beneficiary!r} is not a party")
        for what, v in (("start_s", start_s), ("duration_s", duration_s)):
            if type(v) is not int or v < 0:
                raise ValueError(f"{what} must be an integer >= 0 (seconds), got {v!r}")
        w = self.wallets[wallet_id] = VestingWallet(wallet_id, beneficiary, start_s, duration_s)
        self.ids[wallet_id] = "vesting wallet"
        self._emit(ev.VestingWalletCreated, wallet_id, beneficiary, start_s, duration_s)
        return w

    def create_staking_pool(self, pool_id: str, asset: str, reward_asset: str | None = None) -> StakingPool:
        """A staking pool (:mod:`.staking`) of ``asset`` paying ``reward_asset``
        (default: ``asset``). Raises ``ValueError`` for a bad id or unknown asset."""
        self._new_id("staking pool", pool_id)
        self._check_asset(asset)
        reward = asset if reward_asset is None else reward_asset
        self._check_asset(reward)
        p = self.pools[pool_id] = StakingPool(pool_id, asset, reward)
        self.ids[pool_id] = "staking pool"
        self._emit(ev.StakingPoolCreated, pool_id, asset, reward)
        return p

    def create_marketplace(self, market_id: str, toll_receiver: str, toll_fraction: Any) -> Marketplace:
        """A marketplace (:mod:`.marketplaces`) paying ``toll_fraction`` (in ``[0, 1]``)
        of every sale to ``toll_receiver``. Raises ``ValueError`` on bad input."""
        self._new_id("marketplace", market_id)
        self._check_receiver(toll_receiver, "toll receiver")
        w = fraction_to_wad(toll_fraction, "toll_fraction")
        m = self.markets[market_id] = Marketplace(market_id, toll_receiver, w)
        self.ids[market_id] = "marketplace"
        self._emit(ev.MarketplaceCreated, market_id, toll_receiver, w)
        return m

    # ------------------------------------------------------------------ tokens
    def tx_mint(self, sender: str, asset: str, receiver: str, amount: int) -> Receipt:
        tx = "mint"
        tok = self._component(tx, sender, self.tokens, asset, Reason.UNKNOWN_TOKEN, "token")
        if isinstance(tok, Receipt):
            return tok
        if sender not in tok.minters:
            return self._rej(tx, sender, asset, Reason.NOT_MINTER, f"{sender} may not mint {asset}")
        r = self._amount(tx, sender, asset, amount)
        if r:
            return r
        d = self._dest(receiver, asset) if isinstance(receiver, str) else None
        if d is None:
            return self._rej(tx, sender, asset, Reason.UNKNOWN_RECEIVER, f"unknown receiver {receiver!r}")
        room = tok.room()
        if room is not None and amount > room:
            return self._rej(tx, sender, asset, Reason.CAP_EXCEEDED,
                             f"minting {amount} takes the supply {tok.supply} above the cap {tok.cap}")
        self._led.issue(d.key, amount, "tokenomics_mint")
        self._credit(d, asset, amount)
        tok.record_mint(amount)
        self._emit(ev.TokensMinted, asset, sender, receiver, amount)
        return self._ok(amount)

    def tx_burn(self, sender: str, asset: str, amount: int) -> Receipt:
        tx = "burn"
        tok = self._component(tx, sender, self.tokens, asset, Reason.UNKNOWN_TOKEN, "token")
        if isinstance(tok, Receipt):
            return tok
        r = self._amount(tx, sender, asset, amount) or self._funds(tx, sender, asset, asset, amount)
        if r:
            return r
        self._led.burn(general(sender, asset), amount)
        tok.record_burn(amount)
        self._emit(ev.TokensBurned, asset, sender, amount)
        return self._ok(amount)

    # ------------------------------------------------------------------ grants
    def tx_disburse(self, sender: str, grant_id: str) -> Receipt:
        tx = "disburse"
        g = self._component(tx, sender, self.grants, grant_id, Reason.UNKNOWN_GRANT, "grant")
        if isinstance(g, Receipt):
            return g
        now = self.chain.now
        nxt = g.next_due_ns()
        if nxt is None or now < nxt:
            return self._ok(0)
        amount = g.due(now)
        d = self._dest(g.receiver, g.asset)
        assert d is not None  # checked at creation; parties and components are never removed
        self._pay(acc.grant_escrow(grant_id, g.asset), d, g.asset, amount, "tokenomics_grant")
        g.record_payment(amount, now)
        self._emit(ev.GrantPaid, grant_id, sender, g.receiver, g.asset, amount, g.grants_made)
        return self._ok(amount)

    # ------------------------------------------------------------------ routers
    def tx_deposit(self, sender: str, target: str, asset: str, amount: int) -> Receipt:
        tx = "deposit"
        r = self._sender(tx, sender, target)
        if r:
            return r
        if not isinstance(target, str) or not (target in self.routers or target in self.wallets):
            return self._rej(tx, sender, target, Reason.UNKNOWN_TARGET,
                             f"{target!r} is no router or vesting wallet")
        r = (self._asset(tx, sender, target, asset) or self._amount(tx, sender, target, amount)
             or self._funds(tx, sender, target, asset, amount))
        if r:
            return r
        d = self._dest(target, asset)
        assert d is not None
        self._pay(general(sender, asset), d, asset, amount, "tokenomics_deposit")
        self._emit(ev.Deposited, target, sender, asset, amount)
        return self._ok(amount)

    def tx_route(self, sender: str, router_id: str, asset: str) -> Receipt:
        tx = "route"
        rt = self._component(tx, sender, self.routers, router_id, Reason.UNKNOWN_ROUTER, "router")
        if isinstance(rt, Receipt):
            return rt
        r = self._asset(tx, sender, router_id, asset)
        if r:
            return r
        src = acc.router_account(router_id, asset)
        balance = self._led.balance(src)
        if balance == 0:
            return self._ok(())
        payments = tuple(rt.split(balance))
        for name, amount in payments:
            d = self._dest(name, asset)
            assert d is not None
            if amount > 0:
                self._led.transfer(src, d.key, amount, "tokenomics_route")
                rt.record_out(asset, amount)
                self._credit(d, asset, amount)
        self._emit(ev.Routed, router_id, sender, asset, balance, payments)
        return self._ok(payments)

    # ------------------------------------------------------------------ minters
    def tx_mint_due(self, sender: str, minter_id: str) -> Receipt:
        tx = "mint_due"
        m = self._component(tx, sender, self.minters, minter_id, Reason.UNKNOWN_MINTER, "minter")
        if isinstance(m, Receipt):
            return m
        now = self.chain.now
        is_due, amount, x = m.due(now)
        if not is_due:
            return self._ok(0)
        tok = self.tokens[m.asset]
        room = tok.room()
        if room is not None and amount > room:
            return self._rej(tx, sender, minter_id, Reason.CAP_EXCEEDED,
                             f"minting {amount} takes the supply {tok.supply} above the cap {tok.cap}")
        d = self._dest(m.receiver, m.asset)
        assert d is not None
        if amount > 0:
            self._led.issue(d.key, amount, "tokenomics_mint")
            self._credit(d, m.asset, amount)
            tok.record_mint(amount)
        m.record_mint(amount, now, x)
        self._emit(ev.ScheduledMint, minter_id, sender, m.asset, m.receiver, amount, m.mints)
        return self._ok(amount)

    # ------------------------------------------------------------------ vesting
    def tx_release(self, sender: str, wallet_id: str, asset: str) -> Receipt:
        tx = "release"
        w = self._component(tx, sender, self.wallets, wallet_id, Reason.UNKNOWN_WALLET, "vesting wallet")
        if isinstance(w, Receipt):
            return w
        r = self._asset(tx, sender, wallet_id, asset)
        if r:
            return r
        amount = w.releasable(asset, self.chain.now // NS)
        if amount > 0:
            self._led.transfer(acc.vesting_account(wallet_id, asset), general(w.beneficiary, asset),
                               amount, "tokenomics_release")
        w.record_release(asset, amount)
        self._emit(ev.Released, wallet_id, sender, w.beneficiary, asset, amount)
        return self._ok(amount)

    # ------------------------------------------------------------------ staking
    def _pool(self, tx: str, sender: Any, pool_id: Any) -> StakingPool | Receipt:
        return self._component(tx, sender, self.pools, pool_id, Reason.UNKNOWN_POOL, "staking pool")

    def tx_stake(self, sender: str, pool_id: str, amount: int) -> Receipt:
        tx = "stake"
        p = self._pool(tx, sender, pool_id)
        if isinstance(p, Receipt):
            return p
        r = self._amount(tx, sender, pool_id, amount) or self._funds(tx, sender, pool_id, p.asset, amount)
        if r:
            return r
        self._led.transfer(general(sender, p.asset), acc.stake_account(pool_id, sender, p.asset), amount,
                           "tokenomics_stake")
        p.record_stake(sender, amount)
        self._emit(ev.Staked, pool_id, sender, amount)
        return self._ok(amount)

    def tx_unstake(self, sender: str, pool_id: str, amount: int) -> Receipt:
        tx = "unstake"
        p = self._pool(tx, sender, pool_id)
        if isinstance(p, Receipt):
            return p
        r = self._amount(tx, sender, pool_id, amount)
        if r:
            return r
        have = p.stakes.get(sender, 0)
        if have < amount:
            return self._rej(tx, sender, pool_id, Reason.INSUFFICIENT_STAKE,
                             f"{sender} stakes {have} in {pool_id}, cannot unstake {amount}")
        self._led.transfer(acc.stake_account(pool_id, sender, p.asset), general(sender, p.asset), amount,
                           "tokenomics_unstake")
        p.record_unstake(sender, amount)
        self._emit(ev.Unstaked, pool_id, sender, amount)
        return self._ok(amount)

    def tx_distribute(self, sender: str, pool_id: str, amount: int) -> Receipt:
        tx = "distribute"
        p = self._pool(tx, sender, pool_id)
        if isinstance(p, Receipt):
            return p
        r = self._amount(tx, sender, pool_id, amount)
        if r:
            return r
        if p.total_staked == 0:
            return self._rej(tx, sender, pool_id, Reason.NOTHING_STAKED,
                             f"nothing is staked in {pool_id}: no one to reward")
        r = self._funds(tx, sender, pool_id, p.reward_asset, amount)
        if r:
            return r
        self._led.transfer(general(sender, p.reward_asset), acc.rewards_account(pool_id, p.reward_asset),
                           amount, "tokenomics_rewards")
        p.record_distribution(amount)
        self._emit(ev.RewardsDistributed, pool_id, sender, amount)
        return self._ok(amount)

    def tx_claim(self, sender: str, pool_id: str) -> Receipt:
        tx = "claim"
        p = self._pool(tx, sender, pool_id)
        if isinstance(p, Receipt):
            return p
        amount = p.record_claim(sender)
        if amount > 0:
            self._led.transfer(acc.rewards_account(pool_id, p.reward_asset), general(sender, p.reward_asset),
                               amount, "tokenomics_claim")
        self._emit(ev.RewardsClaimed, pool_id, sender, amount)
        return self._ok(amount)

    # ------------------------------------------------------------------ marketplaces
    def tx_sell(self, sender: str, market_id: str, seller: str, asset: str, price: int) -> Receipt:
        tx = "sell"
        m = self._component(tx, sender, self.markets, market_id, Reason.UNKNOWN_MARKETPLACE, "marketplace")
        if isinstance(m, Receipt):
            return m
        if not isinstance(seller, str) or seller not in self._led.parties:
            return self._rej(tx, sender, market_id, Reason.UNKNOWN_PARTY, f"unknown seller {seller!r}")
        r = (self._asset(tx, sender, market_id, asset) or self._amount(tx, sender, market_id, price)
             or self._funds(tx, sender, market_id, asset, price))
        if r:
            return r
        toll = m.toll(price)
        d = self._dest(m.toll_receiver, asset)
        assert d is not None
        src = general(sender, asset)
        self._pay(src, _Dest(general(seller, asset)), asset, price - toll, "tokenomics_sale")
        self._pay(src, d, asset, toll, "tokenomics_toll")
        m.record_sale(asset, price, toll)
        self._emit(ev.Sale, market_id, sender, seller, asset, price, toll, m.toll_receiver)
        return self._ok((price - toll, toll))

    # ------------------------------------------------------------------ checks
    def invariant_errors(self) -> list[str]:
        """Books against the ledger (see the module docstring)."""
        led = self._led
        bal = led.balance
        errors: list[str] = []
        for a, t in self.tokens.items():
            supply = led.supply.get(a, 0)
            if supply != t.minted - t.burned:
                errors.append(f"tokenomics token {a}: ledger supply {supply} != minted {t.minted} "
                              f"- burned {t.burned}")
            if t.cap is not None and supply > t.cap:
                errors.append(f"tokenomics token {a}: supply {supply} above the cap {t.cap}")
        for gid, g in self.grants.items():
            if bal(acc.grant_escrow(gid, g.asset)) != g.held:
                errors.append(f"tokenomics grant {gid}: escrow holds {bal(acc.grant_escrow(gid, g.asset))}, "
                              f"books {g.held}")
        for rid, rt in self.routers.items():
            for a, h in rt.held.items():
                if bal(acc.router_account(rid, a)) != h:
                    errors.append(f"tokenomics router {rid}: holds {bal(acc.router_account(rid, a))} {a}, books {h}")
        for wid, w in self.wallets.items():
            for a, h in w.held.items():
                if bal(acc.vesting_account(wid, a)) != h:
                    errors.append(f"tokenomics vesting wallet {wid}: holds "
                                  f"{bal(acc.vesting_account(wid, a))} {a}, books {h}")
        for pid, p in self.pools.items():
            total = 0
            for party, s in p.stakes.items():
                held = bal(acc.stake_account(pid, party, p.asset))
                total += held
                if held != s:
                    errors.append(f"tokenomics staking pool {pid}: {party}'s stake account holds {held}, books {s}")
            if total != p.total_staked:
                errors.append(f"tokenomics staking pool {pid}: stakes add up to {total}, total {p.total_staked}")
            rb = bal(acc.rewards_account(pid, p.reward_asset))
            if rb != p.reward_balance:
                errors.append(f"tokenomics staking pool {pid}: rewards account holds {rb}, books {p.reward_balance}")
            if p.dust < 0:
                errors.append(f"tokenomics staking pool {pid}: owes {rb - p.dust} rewards, holds {rb}")
        return errors
