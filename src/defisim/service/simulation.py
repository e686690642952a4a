"""`Simulation`: the one API over the chain and its protocols, for users and agents.

The chain-level calls live here: time and blocks, random streams, assets, parties,
the faucet, transfers and burns, balances, equity and PnL, transactions, the mempool
and receipts. Each protocol is reached through its own facade in its own vocabulary
(``sim.futures.submit_order(...)``, :class:`~defisim.service.futures.FuturesFacade`),
composed with ``Simulation(protocols=[...])`` from the registry of
:func:`register_protocol`. Human units in and out (floats); every query takes
``raw=True`` for exact integers. Transactions never raise for bad input: they emit a
:class:`~defisim.chain.TransactionRejected` event with a reason code and return a
result whose ``accepted`` is false. Set-up calls (assets, parties) raise
``ValueError`` on bad input, since they are the scenario author's mistakes rather
than an agent's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from defisim.chain import NS_PER_SECOND, Chain, ChainProtocol, Receipt, Transaction
from defisim.chain import ledger as acct
from defisim.chain.event_log import EventCursor
from defisim.chain.rng import RandomStreams
from defisim.numeric.bounds import check_amount

PROTOCOLS: dict[str, tuple[Callable[[], ChainProtocol], Callable[[Any, Any], Any] | None]] = {}
"""Protocol name -> (factory of the protocol, factory of its facade ``(sim, protocol)``)."""

DEFAULT_PROTOCOLS = ("governance", "futures")
"""What ``Simulation()`` composes: governance first (proposals enact before any other
begin-block hook), then the futures protocol."""


def register_protocol(name: str, factory: Callable[[], ChainProtocol],
                      facade: Callable[[Any, Any], Any] | None = None, *,
                      replace: bool = False) -> None:
    """Make protocol ``name`` available to ``Simulation(protocols=[name, ...])``:
    ``factory()`` builds the protocol (a class, or a ``functools.partial`` carrying its
    configuration), ``facade(sim, protocol)`` its facade, reached as ``sim.<name>``
    (without a facade ``sim.<name>`` is the protocol itself).

    Raises:
        ValueError: ``name`` is already registered (unless ``replace``), or is not an
            identifier, or is one of ``Simulation``'s own attributes (``sim.<name>``
            could not reach it).
    """
    if not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"protocol name {name!r} must be an identifier not starting with '_'")
    if hasattr(Simulation, name):
        raise ValueError(f"protocol name {name!r} is taken by Simulation.{name}")
    if name in PROTOCOLS and not replace:
        raise ValueError(f"protocol {name!r} is already registered (pass replace=True)")
    PROTOCOLS[name] = (factory, facade)


def unregister_protocol(name: str) -> None:
    """Forget protocol ``name`` (tests that register their own); unknown names are ignored."""
    PROTOCOLS.pop(name, None)


@dataclass(frozen=True, slots=True)
class AccountView:
    """One account's balance in asset units."""

    account_type: str
    owner: str
    asset: str
    market: str
    balance: float
    balance_raw: int


class Simulation:
    """A deterministic simulation: a :class:`~defisim.chain.Chain` and its protocols.

    A block is always open: transactions go into it, and :meth:`forward_time`
    closes it (the mempool in mempool mode, then the protocols' end-of-block hooks:
    mark-to-market, auctions, closeouts; then, if enabled, the invariant checks) and
    opens the next one later in time.

    Args:
        seed: the run's root seed (every random stream derives from it).
        check_invariants: check invariants at every block end (raises
            :class:`~defisim.chain.InvariantViolation`).
        keep_events: keep events until drained (``drain_events``); turn off when
            nothing records them.
        protocols: protocol names (:data:`PROTOCOLS`) or instances, in hook order.
        execution: ``"immediate"`` (a transaction executes when sent) or
            ``"mempool"`` (at its block's close, in the ``ordering`` policy's order).
        ordering: ``"fifo"``, ``"random"`` (seeded) or ``"priority"`` (EIP-1559).
        fee_market: :class:`~defisim.chain.FeeMarketParams` (or its fields) for
            mempool mode; default on with ``priority``.
        record_transactions: keep every transaction in ``sim.chain.tx_log``.

    Raises:
        ValueError: unknown execution mode or ordering policy.
    """

    def __init__(
        self,
        seed: int = 0,
        check_invariants: bool = True,
        keep_events: bool = True,
        protocols: Sequence[str | ChainProtocol] = DEFAULT_PROTOCOLS,
        execution: str = "immediate",
        ordering: str = "fifo",
        fee_market: Any = None,
        record_transactions: bool = False,
    ):
        self.chain = Chain(seed=seed, check_invariants=check_invariants, keep_events=keep_events,
                           execution=execution, ordering=ordering, fee_market=fee_market,
                           record_transactions=record_transactions)
        self._facades: dict[str, Any] = {}
        for p in protocols:
            self.add_protocol(p)
        self.chain.begin_block(0)

    def add_protocol(self, protocol: str | ChainProtocol) -> Any:
        """Register a protocol (a registered name or an instance) on the chain, with its
        facade when one is registered (:func:`register_protocol`); returns the facade
        (or the protocol when it has none). Protocols' hooks run in the order added.

        Raises:
            KeyError: unknown protocol name. ValueError: a protocol of that name is
                already on the chain.
        """
        if isinstance(protocol, str):
            try:
                factory, _ = PROTOCOLS[protocol]
            except KeyError:
                raise KeyError(f"unknown protocol {protocol!r}; known: {sorted(PROTOCOLS)}") from None
            protocol = factory()
        self.chain.register(protocol)
        facade_factory = PROTOCOLS.get(protocol.name, (None, None))[1]
        facade = facade_factory(self, protocol) if facade_factory is not None else protocol
        self._facades[protocol.name] = facade
        # an instance attribute: ``sim.futures`` is on every agent's hot path
        setattr(self, protocol.name, facade)
        return facade

    def __getattr__(self, name: str) -> Any:
        # ``sim.futures``, ``sim.amm``, ...: the facade of a registered protocol
        facades = self.__dict__.get("_facades")
        if facades is not None and name in facades:
            return facades[name]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}"
                             + (f" (protocols on this chain: {sorted(facades)})" if facades else ""))

    def add_invariant_check(self, name: str, check: Callable[[], list[str]]) -> None:
        """Check ``check()`` (one line per broken rule) with the chain's invariants at
        every block end (a harness's own rule: the fuzzer turns crashes into violations).

        Raises:
            ValueError: a check of that name exists.
        """
        if name in self.chain.checks:
            raise ValueError(f"an invariant check named {name!r} exists")
        self.chain.checks[name] = check

    def recordings(self, **options: Any) -> list:
        """Each protocol's recording part (:meth:`ChainProtocol.recording`), for the
        run's recorder; ``options`` (such as ``depth_levels``) go to every protocol."""
        out = []
        for p in self.chain.protocols:
            fn = getattr(p, "recording", None)
            r = fn(**options) if fn is not None else None
            if r is not None:
                out.append(r)
        return out

    @property
    def protocols(self) -> list[str]:
        """Names of the protocols on the chain, in hook order."""
        return [p.name for p in self.chain.protocols]

    # ------------------------------------------------------------------ time
    @property
    def now(self) -> float:
        """Simulated time in seconds since the start."""
        return self.chain.now / NS_PER_SECOND

    @property
    def now_ns(self) -> int:
        return self.chain.now

    @property
    def block(self) -> int:
        return self.chain.block

    def forward_time(self, seconds: float) -> None:
        """Close the open block and open the next one ``seconds`` later (>= 0).

        Raises:
            ValueError: negative or non-finite ``seconds``.
            InvariantViolation: an invariant failed at the block end (checks on).
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"cannot forward time by {seconds!r} seconds")
        self.forward_time_ns(round(seconds * NS_PER_SECOND))

    def forward_time_ns(self, ns: int) -> None:
        """As :meth:`forward_time`, in integer nanoseconds."""
        self.chain.end_block()
        self.chain.begin_block(self.chain.now + int(ns))

    def end_block(self) -> None:
        """Close the open block (the runner calls this, then :meth:`begin_block`)."""
        self.chain.end_block()

    def begin_block(self, time_ns: int) -> None:
        self.chain.begin_block(time_ns)

    def next_deadline_ns(self) -> int | None:
        """The earliest time (ns) at which a protocol changes state by itself at a block
        (a mark, an auction's end, an expiry), or ``None``."""
        return self.chain.next_deadline_ns()

    def reseed(self, streams: RandomStreams) -> None:
        """Derive the chain's random streams from ``streams`` from now on (a learning
        episode restored from a snapshot draws from its own seed)."""
        self.chain.rng = streams

    def rng(self, name: str) -> np.random.Generator:
        """A random generator for stream ``name``, derived from the run's seed."""
        return self.chain.rng.generator(name)

    def drain_events(self) -> list:
        """The events emitted since the last drain (the run's recorder reads this way;
        other readers open their own :meth:`event_cursor`)."""
        return self.chain.drain_events()

    def event_cursor(self, from_oldest: bool = False) -> EventCursor:
        """A cursor on the event log: ``cursor.read()`` returns the events emitted since
        its previous read (events stay in the log until every cursor has read them).
        It starts at the end of the log, or with ``from_oldest`` at the oldest event
        the log still holds (those the run's recorder has not drained yet)."""
        return self.chain.cursor(from_oldest)

    def recent_events(self, n: int = 1) -> list:
        """The last ``n`` events emitted (at most 200), oldest first."""
        recent = self.chain.recent
        return list(recent)[-n:] if n > 0 else []

    def snapshot(self) -> Simulation:
        """A deep copy of the whole simulation (fork a run)."""
        import copy

        return copy.deepcopy(self)

    # ------------------------------------------------------------- set-up
    def create_asset(self, asset_id: str, decimals: int, quantum: int | None = None) -> None:
        """Create an asset with ``decimals`` decimal places."""
        self.chain.ledger.create_asset(asset_id, decimals, quantum)
        self.chain.log_setup("create_asset", (asset_id, decimals, quantum))

    def create_party(self, party: str) -> None:
        """Create a party (ids are unique; protocols' parties such as ``"network"`` are
        reserved). With a fee market the party receives its native-asset endowment."""
        led = self.chain.ledger
        if party in led.reserved:
            raise ValueError(f"party {party!r} already exists")
        led.create_party(party)
        self.chain.log_setup("create_party", (party,))
        fm = self.chain.fee_market
        if fm is not None and fm.endowment > 0:
            if fm.native_asset not in led.assets:
                led.create_asset(fm.native_asset, fm.native_decimals)
            led.mint(acct.general(party, fm.native_asset), round(fm.endowment * 10**fm.native_decimals))

    def mint(self, party: str, asset: str, amount: float) -> int:
        """Faucet: credit ``amount`` asset units to ``party``'s general account; returns base units.

        Raises:
            ValueError: unknown party or asset, negative or non-finite amount, or
                more than :data:`~defisim.numeric.MAX_AMOUNT` base units.
        """
        a = self.chain.ledger.asset(asset) if asset in self.chain.ledger.assets else None
        if a is None:
            raise ValueError(f"unknown asset {asset!r}; known: {sorted(self.chain.ledger.assets)}")
        if not math.isfinite(amount) or amount < 0:
            raise ValueError(f"mint amount must be finite and >= 0, got {amount!r}")
        check_amount(amount, a.decimals, f"mint amount of {asset} for {party}")
        raw = round(amount * 10**a.decimals)
        self.mint_raw(party, asset, raw)
        return raw

    def mint_raw(self, party: str, asset: str, amount: int) -> None:
        """Faucet in base units."""
        if party not in self.chain.ledger.parties:
            raise ValueError(f"unknown party {party!r}")
        self.chain.ledger.mint(acct.general(party, asset), int(amount))
        self.chain.log_setup("mint_raw", (party, asset, int(amount)))

    def transfer(self, source: str, destination: str, asset: str, amount: float) -> bool:
        """Move ``amount`` asset units from ``source``'s general account to ``destination``'s.

        Returns False (and emits a rejection event) for an unknown party or asset,
        a negative amount or insufficient funds (in mempool mode: True once queued;
        the receipt tells the outcome).
        """
        led = self.chain.ledger
        a = led.assets.get(asset)
        reason, detail = "", ""
        if a is None:
            reason, detail = "ASSET_NOT_FOUND", f"unknown asset {asset!r}"
        elif source not in led.parties or destination not in led.parties:
            reason, detail = "PARTY_NOT_FOUND", f"unknown party in {source!r} -> {destination!r}"
        elif not math.isfinite(amount) or amount < 0:
            reason, detail = "INVALID_AMOUNT", f"amount must be finite and >= 0, got {amount!r}"
        else:
            raw = round(amount * 10**a.decimals)
            return self.chain.submit(Transaction(source, "", "transfer", (destination, asset, raw))).accepted
        self.chain.reject("transfer", source, "", reason, detail)
        return False

    def burn(self, party: str, asset: str, amount: float) -> bool:
        """Destroy ``amount`` asset units from ``party``'s general account (spending out of
        the system). Returns False with a rejection event when it cannot."""
        led = self.chain.ledger
        a = led.assets.get(asset)
        if a is None or party not in led.parties or not math.isfinite(amount) or amount < 0:
            self.chain.reject("burn", party, "", "INVALID_BURN", f"cannot burn {amount!r} {asset!r} of {party!r}")
            return False
        raw = round(amount * 10**a.decimals)
        return self.chain.submit(Transaction(party, "", "burn", (asset, raw))).accepted

    # --------------------------------------------------------- transactions
    @property
    def execution(self) -> str:
        """``"immediate"`` or ``"mempool"``."""
        return self.chain.execution

    def send(self, tx: Transaction) -> Any:
        """Send a raw :class:`~defisim.chain.Transaction` (the format of replay and the
        remote API); returns what the call returns (a pending result in mempool mode)."""
        return self.chain.submit(tx)

    def send_bundle(self, transactions: Sequence[Transaction]) -> Receipt:
        """Queue a bundle: its transactions execute together at the block's close, in
        order, or not at all (mempool mode only). A transaction taken from
        :meth:`pending_transactions` (it has a ``tx_id``) is pulled into the bundle and
        leaves its own mempool place; another sender's only under ``priority``
        ordering. Refusals (a ``REJECTED`` receipt and a rejection event) and the
        revert rules: :meth:`defisim.chain.Chain.submit_bundle`.

        Raises:
            RuntimeError: not in mempool mode. ValueError: an empty bundle.
        """
        return self.chain.submit_bundle(list(transactions))

    def pending_transactions(self) -> list[Transaction]:
        """The mempool's transactions in arrival order (what a searcher sees)."""
        return self.chain.pending_transactions()

    def receipt(self, tx_id: int) -> Receipt | None:
        """The receipt of a mempool transaction once its block executed it."""
        return self.chain.receipt(tx_id)

    def set_gas_price(self, party: str, tip: float, max_fee: float | None = None) -> None:
        """Default EIP-1559 fees of ``party``'s transactions, in native units per gas
        (``max_fee`` ``None``: twice the base fee plus the tip)."""
        fm = self.chain.fee_market
        if fm is None:
            raise ValueError("gas prices need a fee market (execution='mempool', ordering='priority')")
        scale = 10**fm.native_decimals
        self.chain.set_gas_price(party, round(tip * scale), 0 if max_fee is None else round(max_fee * scale))

    @property
    def fee_market(self) -> Any:
        """The fee market's parameters (a frozen :class:`~defisim.chain.FeeMarketParams`:
        native asset and decimals, gas limit, block producer), or ``None`` without one
        (immediate mode, or mempool mode with ``fifo``/``random`` and no explicit fee
        market). Agents read it to price gas (receipts' ``fee_burned`` and ``tip`` are
        base units of ``native_asset``)."""
        return self.chain.fee_market

    def base_fee(self, raw: bool = False) -> float | int:
        """The current base fee per gas (native units; 0 without a fee market)."""
        fm = self.chain.fee_market
        if fm is None:
            return 0
        return self.chain.base_fee if raw else self.chain.base_fee / 10**fm.native_decimals

    @property
    def parties(self) -> list[str]:
        led = self.chain.ledger
        return sorted(p for p in led.parties if p not in led.reserved)

    def money(self, asset: str, raw: int) -> float:
        """Base units of ``asset`` to asset units."""
        return raw / 10 ** self.chain.ledger.asset(asset).decimals

    def accounts(self, party: str | None = None) -> list[AccountView]:
        """Accounts with their balances (all of ``party``'s, or every account)."""
        led = self.chain.ledger
        out = []
        for key, bal in sorted(led.accounts()):
            if party is not None and key[1] != party:
                continue
            dec = led.assets[key[2]].decimals
            out.append(AccountView(key[0], key[1], key[2], key[3], bal / 10**dec, bal))
        return out

    def balance(self, party: str, asset: str, account: str = "general", market: str = "",
                raw: bool = False) -> float | int:
        """Balance of one of ``party``'s accounts (``general``, ``margin``, ``bond``)."""
        bal = self.chain.ledger.balance((account, party, asset, market))
        return bal if raw else self.money(asset, bal)

    def equity(self, party: str, asset: str, raw: bool = False) -> float | int:
        """Every account ``party`` owns in ``asset`` (general, and the protocols' own:
        futures margin and bond, ...)."""
        bal = self.chain.ledger.balances
        total = sum(bal[k] for k in self._owned_keys(party, asset))
        return total if raw else self.money(asset, total)

    def _owned_keys(self, party: str, asset: str) -> list:
        # accounts are never deleted: the key lists stay valid until the ledger grows
        bal = self.chain.ledger.balances
        stamp = (id(bal), len(bal))
        cache = self.__dict__.get("_owned")
        if cache is None or self.__dict__.get("_owned_stamp") != stamp:
            cache = self._owned = {}
            self._owned_stamp = stamp
        keys = cache.get((party, asset))
        if keys is None:
            keys = cache[(party, asset)] = [k for k in bal if k[1] == party and k[2] == asset]
        return keys

    def pnl(self, party: str, asset: str, raw: bool = False) -> float | int:
        """Equity minus everything minted to ``party`` in ``asset`` (realised + settled)."""
        v = self.equity(party, asset, raw=True) - self.chain.ledger.minted_to.get((party, asset), 0)
        return v if raw else self.money(asset, v)



__all__ = ["DEFAULT_PROTOCOLS", "PROTOCOLS", "AccountView", "Simulation", "register_protocol",
           "unregister_protocol"]
