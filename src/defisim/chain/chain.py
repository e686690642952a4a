"""The null chain: clock, blocks, ledger, events, protocols, transactions, invariants,
snapshots."""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable
from typing import Any

from .event_log import EventCursor
from .events import (
    BaseFeeUpdated,
    BlockEnded,
    BlockStarted,
    BundleReverted,
    Event,
    TransactionIncluded,
    TransactionRejected,
)
from .fee_market import FeeMarketParams, effective_gas_price
from .invariants import InvariantViolation
from .ledger import Ledger, general
from .mempool import POLICIES, Mempool
from .protocol import DEFAULT_GAS, ChainProtocol
from .rng import RandomStreams
from .transactions import DROPPED, EXECUTED, REJECTED, REVERTED, Bundle, Receipt, Transaction

NS_PER_SECOND = 1_000_000_000

EXECUTION_MODES = ("immediate", "mempool")

SETUP = "@setup"
"""The ``protocol`` of a transaction-log entry that records a set-up call
(:meth:`Chain.log_setup`): not a transaction, re-applied by replay."""

CHAIN_GAS = {"transfer": 21_000, "burn": 30_000}
"""Gas of the chain's own calls (an Ethereum transfer is 21,000); ``use_gas(gas)`` uses
the gas it names (background demand filling a block)."""

Protocol = ChainProtocol  # the name earlier code used


def _gas_escrow(asset: str) -> tuple[str, str, str, str]:
    return ("gas_escrow", "", asset, "")


class Chain:
    """A deterministic in-process chain.

    Time is simulated, in integer nanoseconds since the run's start, and only moves
    when :meth:`begin_block` is called with a later time. Every state change emits
    an :class:`~defisim.chain.events.Event` into :attr:`events` (drained by the
    recorder) and into a short ring of recent events used in error reports.

    Transactions (:meth:`submit`) execute at once in ``immediate`` mode (in arrival
    order inside the open block, as Vega's null chain does). In ``mempool`` mode
    they wait in :attr:`mempool` and execute when the block closes, before the
    protocols' end-of-block hooks, in the order of the ``ordering`` policy
    (:mod:`defisim.chain.mempool`); with ``priority`` (or explicit ``fee_market``
    parameters) they pay EIP-1559 fees (:mod:`defisim.chain.fee_market`).

    Args:
        seed: root seed of every random stream of the run.
        check_invariants: run the invariant checks at every block end.
        keep_events: keep emitted events in :attr:`events` until drained
            (turn off for benchmarks that do not record).
        execution: ``"immediate"`` (default) or ``"mempool"``.
        ordering: the mempool's policy: ``"fifo"``, ``"random"`` or ``"priority"``.
        fee_market: EIP-1559 parameters (a :class:`FeeMarketParams` or its fields);
            default: on with ``priority``, off otherwise.
        record_transactions: keep every submitted transaction in :attr:`tx_log`.

    Raises:
        ValueError: unknown execution mode or ordering policy.
    """

    def __init__(
        self,
        seed: int = 0,
        check_invariants: bool = True,
        keep_events: bool = True,
        execution: str = "immediate",
        ordering: str = "fifo",
        fee_market: FeeMarketParams | dict | None = None,
        record_transactions: bool = False,
    ):
        if execution not in EXECUTION_MODES:
            raise ValueError(f"unknown execution mode {execution!r}; known: {', '.join(EXECUTION_MODES)}")
        if ordering not in POLICIES:
            raise ValueError(f"unknown ordering policy {ordering!r}; known: {', '.join(POLICIES)}")
        self.rng = RandomStreams(seed)
        self.seed = seed
        self.now: int = 0
        self.block: int = 0
        self.block_open = False
        self.check_invariants = check_invariants
        self.keep_events = keep_events
        self.events: list[Event] = []
        self.events_base = 0  # global index of events[0]
        self.cursors: list[EventCursor] = []
        self._drain = self.cursor()
        self.recent: deque[Event] = deque(maxlen=200)
        self.event_count = 0
        self.protocols: list[ChainProtocol] = []
        self.by_name: dict[str, ChainProtocol] = {}
        self.checks: dict[str, Callable[[], list[str]]] = {}
        self.ledger = Ledger(self.emit, self.stamp)
        # transactions
        self.execution = execution
        self.ordering = ordering
        self.tx_seq = 0
        self.nonces: dict[str, int] = {}
        self.tx_log: list[Transaction] | None = [] if record_transactions else None
        self._handlers: dict[tuple[str, str], Callable[..., Any]] = {}
        self.mempool: Mempool | None = None
        self.fee_market: FeeMarketParams | None = None
        self.base_fee = 0
        self.block_gas_used = 0
        self.gas_prices: dict[str, tuple[int, int]] = {}
        self.receipts: dict[int, Receipt] = {}
        self._receipt_blocks: deque[list[int]] = deque()
        self._bundle_seq = 0
        self.direct = execution == "immediate" and not record_transactions
        """True when a call may run its handler directly (immediate mode, no
        transaction log): the same execution without building a Transaction."""
        if execution == "mempool":
            self.mempool = Mempool(ordering, self.rng.generator("mempool:order"))
            if fee_market is None and ordering == "priority":
                fee_market = FeeMarketParams()
            if fee_market is not None:
                fm = fee_market if isinstance(fee_market, FeeMarketParams) else FeeMarketParams(**fee_market)
                self.fee_market = fm
                self.base_fee = fm.initial_base_fee
                self.ledger.reserve_party(fm.block_producer)
        elif fee_market is not None:
            raise ValueError("a fee market needs execution='mempool'")

    # -- events ---------------------------------------------------------------
    def stamp(self) -> tuple[int, int]:
        """``(block, time_ns)`` to put on a new event."""
        return self.block, self.now

    def emit(self, event: Event) -> None:
        """Record ``event``."""
        self.event_count += 1
        self.recent.append(event)
        if self.keep_events:
            self.events.append(event)

    def cursor(self, from_oldest: bool = False) -> EventCursor:
        """A new :class:`~defisim.chain.event_log.EventCursor` at the end of the log (or
        at its oldest kept event)."""
        c = EventCursor(self)
        if from_oldest:
            c.position = self.events_base
        self.cursors.append(c)
        return c

    def drain_events(self) -> list[Event]:
        """The events emitted since the last drain (the chain's own cursor, which the
        run's recorder uses)."""
        return self._drain.read()

    def trim_events(self) -> None:
        """Forget the events every open cursor has read."""
        cursors = self.cursors
        low = cursors[0].position if len(cursors) == 1 else min(c.position for c in cursors)
        n = low - self.events_base
        if n > 0:
            if n >= len(self.events):
                self.events = []
            else:
                del self.events[:n]
            self.events_base = low

    def reject(
        self, tx: str, party: str, market: str, reason: str, detail: str, order_id: int = 0
    ) -> TransactionRejected:
        """Emit and return a :class:`TransactionRejected` event."""
        ev = TransactionRejected(self.block, self.now, tx, party, market, reason, detail, order_id)
        self.emit(ev)
        return ev

    # -- protocols --------------------------------------------------------------
    def register(self, protocol: ChainProtocol) -> ChainProtocol:
        """Attach a protocol; its hooks run in registration order.

        Raises:
            ValueError: a protocol of the same name is already registered.
        """
        name = protocol.name
        if name in self.by_name:
            raise ValueError(f"a protocol named {name!r} is already registered")
        attach = getattr(protocol, "attach", None)
        if attach is not None:
            attach(self)
        self.protocols.append(protocol)
        self.by_name[name] = protocol
        return protocol

    def protocol(self, name: str) -> ChainProtocol:
        """The registered protocol ``name``; ``KeyError`` naming the known ones."""
        try:
            return self.by_name[name]
        except KeyError:
            raise KeyError(f"no protocol {name!r} on the chain; known: {sorted(self.by_name)}") from None

    # -- transactions ---------------------------------------------------------------
    def _handler(self, protocol: str, call: str) -> Callable[..., Any]:
        key = (protocol, call)
        fn = self._handlers.get(key)
        if fn is None:
            if protocol:
                fn = self.protocol(protocol).handler(call)
            else:
                fn = getattr(self, "tx_" + call, None)
                if fn is None:
                    raise KeyError(f"the chain has no transaction {call!r}; known: burn, transfer, "
                                   "use_gas")
            self._handlers[key] = fn
        return fn

    def submit(self, tx: Transaction) -> Any:
        """Send a transaction: assign its id and the sender's next nonce, then execute
        it now (immediate mode: returns what the call returns) or put it in the mempool
        (returns the protocol's pending result). In mempool mode a transaction whose gas
        limit exceeds the block's is refused at once (a ``REJECTED`` receipt and a
        ``GAS_LIMIT_ABOVE_BLOCK_LIMIT`` rejection; it takes no nonce), as an Ethereum
        node refuses it; so is one whose fee cap is below the base fee under
        ``low_fee="reject"`` (``FEE_TOO_LOW``) and one whose sender cannot lock
        ``gas_limit x max_fee`` under ``low_funds="reject"`` (``INSUFFICIENT_GAS_FUNDS``).

        Raises:
            KeyError: unknown protocol or call (a programming error, not a rejection).
        """
        self.tx_seq += 1
        tx.tx_id = tx.arrival = self.tx_seq
        fn = self._handler(tx.protocol, tx.call)
        sender = tx.sender
        if self.mempool is not None:
            self._prepare(tx)
            fm = self.fee_market
            if fm is not None and tx.gas_limit > fm.gas_limit:
                detail = f"gas limit {tx.gas_limit} above the block's {fm.gas_limit}"
                self.reject(tx.call, sender, "", "GAS_LIMIT_ABOVE_BLOCK_LIMIT", detail)
                return Receipt(REJECTED, "GAS_LIMIT_ABOVE_BLOCK_LIMIT", detail, tx.tx_id)
            if fm is not None and fm.low_fee == "reject" and tx.max_fee_per_gas < self.base_fee:
                detail = f"fee cap {tx.max_fee_per_gas} below the base fee {self.base_fee}"
                self.reject(tx.call, sender, "", "FEE_TOO_LOW", detail)
                return Receipt(REJECTED, "FEE_TOO_LOW", detail, tx.tx_id)
            if fm is not None and fm.low_funds == "reject":
                need, have = tx.gas_limit * tx.max_fee_per_gas, self._native_balance(sender)
                if have < need:
                    detail = f"{sender} holds {have} {fm.native_asset}, cannot lock {need} for gas"
                    self.reject(tx.call, sender, "", "INSUFFICIENT_GAS_FUNDS", detail)
                    return Receipt(REJECTED, "INSUFFICIENT_GAS_FUNDS", detail, tx.tx_id)
        n = self.nonces.get(sender, 0)
        tx.nonce = n
        self.nonces[sender] = n + 1
        if self.tx_log is not None:
            self.tx_log.append(tx)
        if self.mempool is None:
            out = fn(sender, *tx.args)
            if type(out) is Receipt:
                out.tx_id = tx.tx_id
            return out
        self.mempool.add(tx)
        if tx.protocol:
            return self.by_name[tx.protocol].pending_result(tx)
        return Receipt.waiting(tx)

    def submit_bundle(self, transactions: list[Transaction]) -> Receipt:
        """Put a bundle in the mempool: its transactions execute together, in order,
        when the block closes, or not at all (one rejected: the whole bundle reverts,
        and a reverted bundle pays no gas: the ledger goes back, gas escrow included).
        A bundle whose gas limits add up to more than the block's is refused at once
        (``GAS_LIMIT_ABOVE_BLOCK_LIMIT``).

        A transaction with ``tx_id`` 0 is new: it gets its id and its sender's next
        nonce here. A transaction with a ``tx_id`` names one already pending in the
        mempool as an entry of its own (as :meth:`pending_transactions` shows it; a
        copy with equal fields will do): the bundle *pulls it in* (Flashbots style).
        It keeps its id, nonce, fees and arrival, and leaves its own place in the
        mempool, so it executes once, inside the bundle, and its receipt and
        ``TransactionIncluded`` event are its own. The bundle takes the mempool place
        of the earliest transaction it pulls (:meth:`Mempool.place_pulled`) and, as any
        bundle, is ordered by its first transaction. If the bundle reverts, its pulled
        transactions still execute, each on its own, right after the revert in the
        same block (a block builder includes a public transaction anyway): the
        searcher's transactions are ``REVERTED``, the pulled ones get the receipt of
        their own execution.

        Refused at once (a ``TransactionRejected`` event with the reason, a
        ``REJECTED`` receipt, nothing changed: no ids, no nonces):

        - ``BUNDLE_TX_NOT_PENDING``: a named transaction is not pending on its own
          (unknown, already executed, inside another bundle, or its fields differ);
        - ``BUNDLE_DUPLICATE_TX``: a transaction appears twice;
        - ``BUNDLE_FOREIGN_TX_NEEDS_PRIORITY``: it pulls a transaction of a sender
          none of its new transactions has, and the ordering is not ``priority`` (a
          ``fifo`` or ``random`` sequencer keeps its own order and sells no places);
        - ``BUNDLE_BREAKS_NONCE_ORDER``: in its mempool place the bundle would run a
          sender's transaction after one of a higher nonce (the pulled sender has a
          later pending transaction that would run first, or the bundle's sender has
          pending transactions after that place, its new ones having higher nonces);
        - ``GAS_LIMIT_ABOVE_BLOCK_LIMIT`` (above).

        Raises:
            RuntimeError: not in mempool mode.
            ValueError: an empty bundle.
        """
        if self.mempool is None:
            raise RuntimeError("bundles need execution='mempool'")
        if not transactions:
            raise ValueError("a bundle needs at least one transaction")
        mp = self.mempool
        txs = list(transactions)
        new_senders = [t.sender for t in txs if not t.tx_id]
        signer = new_senders[0] if new_senders else txs[0].sender
        pulled: list[int] = []
        seen: set[int] = set()
        for k, tx in enumerate(txs):
            if id(tx) in seen or (tx.tx_id and tx.tx_id in pulled):
                return self._refuse_bundle(signer, "BUNDLE_DUPLICATE_TX",
                                           f"transaction {k} (id {tx.tx_id}) appears twice in the bundle")
            seen.add(id(tx))
            if not tx.tx_id:
                continue
            own = mp.standalone(tx.tx_id)
            if own is None or own != tx:
                why = "is not pending on its own" if own is None else "differs from the pending one"
                return self._refuse_bundle(signer, "BUNDLE_TX_NOT_PENDING",
                                           f"transaction {tx.tx_id} (index {k}) {why}")
            txs[k] = own
            pulled.append(tx.tx_id)
        if pulled and self.ordering != "priority":
            foreign = [t for t in txs if t.tx_id in pulled and t.sender not in new_senders]
            if foreign:
                return self._refuse_bundle(
                    signer, "BUNDLE_FOREIGN_TX_NEEDS_PRIORITY",
                    f"transaction {foreign[0].tx_id} of {foreign[0].sender} can join another "
                    f"sender's bundle only under priority ordering, not {self.ordering}")
        fm = self.fee_market
        if fm is not None:
            total = sum(t.gas_limit if t.gas_limit > 0 else self.call_gas(t) for t in txs)
            if total > fm.gas_limit:
                detail = f"bundle gas {total} above the block's {fm.gas_limit}"
                return self._refuse_bundle(signer, "GAS_LIMIT_ABOVE_BLOCK_LIMIT", detail)
        for tx in txs:
            if not tx.tx_id:
                self._handler(tx.protocol, tx.call)  # unknown protocol or call: KeyError
        bundle = Bundle(txs, self._bundle_seq + 1, tuple(pulled))
        if pulled:
            nonces = dict(self.nonces)
            for tx in txs:
                if not tx.tx_id:
                    tx.nonce = nonces.get(tx.sender, 0)
                    nonces[tx.sender] = tx.nonce + 1
            why = mp.place_pulled(bundle)
            if why:
                for tx in txs:
                    if not tx.tx_id:
                        tx.nonce = -1
                return self._refuse_bundle(signer, "BUNDLE_BREAKS_NONCE_ORDER", why)
        for tx in txs:
            if tx.tx_id:
                continue
            self.tx_seq += 1
            tx.tx_id = tx.arrival = self.tx_seq
            n = self.nonces.get(tx.sender, 0)
            tx.nonce = n
            self.nonces[tx.sender] = n + 1
            if self.tx_log is not None:
                self.tx_log.append(tx)
            self._prepare(tx)
        self._bundle_seq += 1
        if not pulled:
            mp.add(bundle)
        return Receipt("PENDING", tx_id=txs[0].tx_id, value=self._bundle_seq)

    def _refuse_bundle(self, sender: str, reason: str, detail: str) -> Receipt:
        self.reject("bundle", sender, "", reason, detail)
        return Receipt(REJECTED, reason, detail)

    def set_gas_price(self, party: str, max_priority_fee_per_gas: int, max_fee_per_gas: int = 0) -> None:
        """Default EIP-1559 fees of ``party``'s transactions (base units of the native
        asset per gas; ``max_fee_per_gas`` 0: twice the base fee plus the tip)."""
        if max_priority_fee_per_gas < 0 or max_fee_per_gas < 0:
            raise ValueError("gas prices must be >= 0")
        self.gas_prices[party] = (int(max_priority_fee_per_gas), int(max_fee_per_gas))

    def call_gas(self, tx: Transaction) -> int:
        """Gas the call uses when executed (``use_gas``: the gas it names)."""
        if tx.protocol:
            return self.by_name[tx.protocol].gas.get(tx.call, DEFAULT_GAS)
        if tx.call == "use_gas" and tx.args and type(tx.args[0]) is int and tx.args[0] > 0:
            return tx.args[0]
        return CHAIN_GAS.get(tx.call, DEFAULT_GAS)

    def _native_balance(self, party: str) -> int:
        fm = self.fee_market
        if fm is None or fm.native_asset not in self.ledger.assets:
            return 0
        return self.ledger.balance(general(party, fm.native_asset))

    def _prepare(self, tx: Transaction) -> None:
        """Fill a mempool transaction's defaults: gas limit and fees."""
        if tx.gas_limit <= 0:
            tx.gas_limit = self.call_gas(tx)
        if self.fee_market is not None:
            tip, cap = self.gas_prices.get(tx.sender, (self.fee_market.default_tip, 0))
            if tx.max_priority_fee_per_gas <= 0:
                tx.max_priority_fee_per_gas = tip
            if tx.max_fee_per_gas <= 0:
                tx.max_fee_per_gas = cap or 2 * self.base_fee + tx.max_priority_fee_per_gas

    def pending_transactions(self) -> list[Transaction]:
        """The mempool's transactions, in arrival order (empty in immediate mode)."""
        return [] if self.mempool is None else self.mempool.transactions()

    def receipt(self, tx_id: int) -> Receipt | None:
        """The receipt of an executed mempool transaction (kept for 16 blocks)."""
        return self.receipts.get(tx_id)

    def _execute_mempool(self) -> None:
        fm = self.fee_market
        mp = self.mempool
        assert mp is not None
        entries = mp.select(self.base_fee, fm.gas_limit if fm else None, lambda t: t.gas_limit)
        used = 0
        ids: list[int] = []
        for e in entries:
            if isinstance(e, Bundle):
                used += self._execute_bundle(e, ids)
            else:
                rc = self._execute_one(e)
                used += rc.gas_used
                self.receipts[e.tx_id] = rc
                ids.append(e.tx_id)
        self.block_gas_used = used
        self._receipt_blocks.append(ids)
        if len(self._receipt_blocks) > 16:
            for i in self._receipt_blocks.popleft():
                self.receipts.pop(i, None)
        if fm is not None:
            new = fm.next_base_fee(self.base_fee, used)
            self.emit(BaseFeeUpdated(self.block, self.now, used, self.base_fee, new))
            self.base_fee = new

    def _execute_one(self, tx: Transaction) -> Receipt:
        """Execute a mempool transaction: lock its fee cap, run it, settle the fee."""
        fm = self.fee_market
        led = self.ledger
        locked = 0
        payer = escrow = None
        if fm is not None:
            payer = general(tx.sender, fm.native_asset)
            escrow = _gas_escrow(fm.native_asset)
            locked = tx.gas_limit * tx.max_fee_per_gas
            if fm.native_asset not in led.assets or led.balance(payer) < locked:
                self.reject(tx.call, tx.sender, "", "INSUFFICIENT_GAS_FUNDS",
                            f"{tx.sender} cannot lock {locked} {fm.native_asset} for gas")
                rc = Receipt(DROPPED, "INSUFFICIENT_GAS_FUNDS", tx_id=tx.tx_id, block=self.block)
                self._included(tx, rc)
                return rc
            led.transfer(payer, escrow, locked, "gas_lock")
        gas = self.call_gas(tx)
        if gas > tx.gas_limit:
            gas = tx.gas_limit
            self.reject(tx.call, tx.sender, "", "OUT_OF_GAS", f"needs {self.call_gas(tx)} gas, limit {tx.gas_limit}")
            value: Any = None
            status, reason, detail = REJECTED, "OUT_OF_GAS", ""
        else:
            value = self._handler(tx.protocol, tx.call)(tx.sender, *tx.args)
            status, reason, detail = _outcome(value)
            if status == REJECTED and tx.protocol:
                revert = self.by_name[tx.protocol].revert_gas
                if revert is not None:  # included, then refused: the protocol's revert gas
                    gas = min(gas, revert)
            if type(value) is Receipt:  # the call's own receipt: the chain fills in its fields
                value.status, value.reason, value.detail = status, reason, detail
                value.tx_id, value.block = tx.tx_id, self.block
        burned = tip = 0
        if fm is not None:
            price = effective_gas_price(self.base_fee, tx.max_fee_per_gas, tx.max_priority_fee_per_gas)
            burned = gas * self.base_fee
            tip = gas * (price - self.base_fee)
            if burned:
                led.burn(escrow, burned)
            if tip:
                led.transfer(escrow, general(fm.block_producer, fm.native_asset), tip, "gas_tip")
            led.transfer(escrow, payer, locked - burned - tip, "gas_refund")
        if type(value) is Receipt:
            value.gas_used, value.fee_burned, value.tip = gas, burned, tip
            rc = value
        else:
            rc = Receipt(status, reason, detail, tx.tx_id, self.block, gas, burned, tip, value)
        self._included(tx, rc)
        return rc

    def _included(self, tx: Transaction, rc: Receipt) -> None:
        self.emit(TransactionIncluded(self.block, self.now, tx.tx_id, tx.sender, tx.protocol,
                                      tx.call, rc.status, rc.reason, rc.gas_used, rc.fee_burned, rc.tip))

    def _execute_bundle(self, bundle: Bundle, ids: list[int]) -> int:
        """Execute a bundle atomically; returns the gas it used (when reverted: only
        the gas of its pulled transactions, which then execute on their own). A
        revert takes the bundle's events back out of the log, the recent ring and the
        event count; a :class:`BundleReverted` event is all that remains (then the
        pulled transactions' own events)."""
        state = self.state_snapshot()
        n_events = len(self.events)
        n_emitted = self.event_count
        receipts: list[Receipt] = []
        for k, tx in enumerate(bundle.transactions):
            rc = self._execute_one(tx)
            receipts.append(rc)
            if not rc.accepted:
                self.restore_state(state)
                del self.events[n_events:]
                for _ in range(min(self.event_count - n_emitted, len(self.recent))):
                    self.recent.pop()
                self.event_count = n_emitted
                self.emit(BundleReverted(self.block, self.now, bundle.bundle_id, k, tx.tx_id,
                                         rc.reason or rc.status))
                pulled = bundle.pulled
                for t in bundle.transactions:
                    if t.tx_id in pulled:
                        continue
                    self.receipts[t.tx_id] = Receipt(REVERTED, rc.reason, f"bundle {bundle.bundle_id} failed at "
                                                     f"transaction {k}", t.tx_id, self.block)
                    ids.append(t.tx_id)
                used = 0
                for t in bundle.transactions:  # pulled in: they still run, on their own
                    if t.tx_id in pulled:
                        own = self._execute_one(t)
                        self.receipts[t.tx_id] = own
                        ids.append(t.tx_id)
                        used += own.gas_used
                return used
        for tx, rc in zip(bundle.transactions, receipts, strict=True):
            self.receipts[tx.tx_id] = rc
            ids.append(tx.tx_id)
        return sum(rc.gas_used for rc in receipts)

    # -- the chain's own transactions -------------------------------------------------
    def tx_transfer(self, sender: str, destination: str, asset: str, amount: int) -> Receipt:
        """Move ``amount`` base units of ``asset`` between general accounts."""
        led = self.ledger
        reason = detail = ""
        if asset not in led.assets:
            reason, detail = "ASSET_NOT_FOUND", f"unknown asset {asset!r}"
        elif sender not in led.parties or destination not in led.parties:
            reason, detail = "PARTY_NOT_FOUND", f"unknown party in {sender!r} -> {destination!r}"
        elif not isinstance(amount, int) or amount < 0:
            reason, detail = "INVALID_AMOUNT", f"amount must be an integer >= 0, got {amount!r}"
        else:
            have = led.balance(general(sender, asset))
            if have < amount:
                reason, detail = "INSUFFICIENT_FUNDS", f"{sender} holds {have}, cannot send {amount}"
            else:
                led.transfer(general(sender, asset), general(destination, asset), amount, "transfer")
                return Receipt(EXECUTED, block=self.block)
        self.reject("transfer", sender, "", reason, detail)
        return Receipt(REJECTED, reason, detail, block=self.block)

    def tx_burn(self, sender: str, asset: str, amount: int) -> Receipt:
        """Destroy ``amount`` base units of ``asset`` from the sender's general account."""
        led = self.ledger
        if asset not in led.assets or sender not in led.parties or not isinstance(amount, int) or amount < 0:
            detail = f"cannot burn {amount!r} {asset!r} of {sender!r}"
            self.reject("burn", sender, "", "INVALID_BURN", detail)
            return Receipt(REJECTED, "INVALID_BURN", detail, block=self.block)
        key = general(sender, asset)
        if led.balance(key) < amount:
            detail = f"{sender} holds {led.balance(key)} < {amount}"
            self.reject("burn", sender, "", "INSUFFICIENT_FUNDS", detail)
            return Receipt(REJECTED, "INSUFFICIENT_FUNDS", detail, block=self.block)
        led.burn(key, amount)
        return Receipt(EXECUTED, block=self.block)

    def tx_use_gas(self, sender: str, gas: int) -> Receipt:
        """Use ``gas`` gas and change nothing else: background demand that fills part of a
        block and pays its fee (compute-marketplace spec 6, "L2 base fee"). Refused
        (``INVALID_GAS``) unless ``gas`` is an integer > 0."""
        if type(gas) is not int or gas <= 0:
            detail = f"use_gas needs an integer gas > 0, got {gas!r}"
            self.reject("use_gas", sender, "", "INVALID_GAS", detail)
            return Receipt(REJECTED, "INVALID_GAS", detail, block=self.block)
        return Receipt(EXECUTED, block=self.block)

    # -- blocks -----------------------------------------------------------------
    def begin_block(self, time_ns: int) -> None:
        """Open the next block at ``time_ns`` (>= the current time).

        Raises:
            RuntimeError: a block is already open.
            ValueError: ``time_ns`` is earlier than the current time.
        """
        if self.block_open:
            raise RuntimeError(f"block {self.block} is still open")
        if time_ns < self.now:
            raise ValueError(f"time cannot go back: {time_ns} < {self.now}")
        self.now = int(time_ns)
        self.block += 1
        self.block_open = True
        self.emit(BlockStarted(self.block, self.now))
        for p in self.protocols:
            p.begin_block()

    def end_block(self) -> None:
        """Close the open block: the mempool (mempool mode), protocol hooks, then
        invariants (if enabled).

        Raises:
            InvariantViolation: an invariant failed (only when checks are on).
        """
        if not self.block_open:
            raise RuntimeError("no block is open")
        if self.mempool is not None:
            self._execute_mempool()
        for p in self.protocols:
            p.end_block()
        self.block_open = False
        self.emit(BlockEnded(self.block, self.now))
        if self.check_invariants:
            self.assert_invariants()

    def next_deadline_ns(self) -> int | None:
        """The earliest protocol deadline (:meth:`ChainProtocol.next_deadline_ns`)."""
        best = None
        for p in self.protocols:
            fn = getattr(p, "next_deadline_ns", None)
            d = fn() if fn is not None else None
            if d is not None and (best is None or d < best):
                best = d
        return best

    def invariant_errors(self) -> list[str]:
        """All broken invariants now (ledger conservation, then each protocol's)."""
        errors = self.ledger.conservation_errors()
        if self.fee_market is not None:
            left = self.ledger.balance(_gas_escrow(self.fee_market.native_asset))
            if left:
                errors.append(f"gas escrow holds {left} between transactions")
        for p in self.protocols:
            errors.extend(p.invariant_errors())
        for check in self.checks.values():
            errors.extend(check())
        return errors

    def assert_invariants(self) -> None:
        """Raise :class:`InvariantViolation` if any invariant is broken."""
        errors = self.invariant_errors()
        if errors:
            raise InvariantViolation(self.block, self.now, errors, list(self.recent))

    # -- snapshots --------------------------------------------------------------
    def snapshot(self) -> Chain:
        """A deep copy of the whole chain state (fork a run, reset an episode)."""
        return copy.deepcopy(self)

    def canonical_state(self) -> dict[str, Any]:
        """The whole chain state as values (:meth:`state_hash` digests them): clock
        and block, the ledger (assets, parties, balances, supply, faucet totals),
        nonces and transaction ids, the fee market and mempool, and every protocol's
        :meth:`ChainProtocol.canonical_state` in registration order. Events, cursors
        and the transaction log are history, not state: left out."""
        led = self.ledger
        return {
            "seed": self.rng.seed, "block": self.block, "now": self.now,
            "block_open": self.block_open, "execution": self.execution,
            "ordering": self.ordering,
            "ledger": (led.assets, led.parties, led.reserved, led.balances, led.supply,
                       led.minted_to),
            "nonces": self.nonces, "tx_seq": self.tx_seq, "fee_market": self.fee_market,
            "base_fee": self.base_fee, "block_gas_used": self.block_gas_used,
            "gas_prices": self.gas_prices, "mempool": self.mempool,
            "receipts": self.receipts, "bundle_seq": self._bundle_seq,
            "protocols": [(p.name, p.canonical_state()) for p in self.protocols],
        }

    def state_hash(self) -> str:
        """SHA-256 (64 hex digits) of the canonical bytes of :meth:`canonical_state`
        (:mod:`defisim.chain.state_hash`): equal states, equal hashes, on every
        machine; a change of any value changes it.

        Raises:
            TypeError: a protocol holds a value the encoding does not cover.
            NotImplementedError: a protocol's state lives where it cannot be read (an
                EVM on an external node).
        """
        from .state_hash import digest

        refs = {id(self): "chain", id(self.ledger): "ledger"}
        for p in self.protocols:
            refs[id(p)] = f"protocol:{p.name}"
        return digest(self.canonical_state(), refs)

    def start_tx_log(self) -> None:
        """Keep every transaction submitted from now on in :attr:`tx_log` (a replay's
        record); calls then always go through :meth:`submit` (ids and nonces)."""
        if self.tx_log is None:
            self.tx_log = []
        self.direct = False

    def log_setup(self, call: str, args: tuple) -> None:
        """Record a set-up call that is not a transaction in :attr:`tx_log`, when it is
        kept: an entry with ``protocol`` :data:`SETUP`, no id, and ``call`` naming the
        :class:`~defisim.service.Simulation` method (``"mint_raw"``, ``"create_party"``)
        or ``"<facade>.<method>"`` (``"futures.settle_market"``) that replay calls again
        with ``args``."""
        if self.tx_log is not None:
            self.tx_log.append(Transaction("", SETUP, call, args))

    def state_snapshot(self) -> dict[str, Any]:
        """The ledger's and every protocol's state (:meth:`ChainProtocol.snapshot`), for
        :meth:`restore_state` (a bundle's revert). The chain's clock, nonces and
        transaction ids are not part of it (they never go back); a protocol's own ids
        are (a reverted bundle's order ids are drawn again)."""
        led = self.ledger
        return {
            "ledger": (dict(led.assets), set(led.parties), set(led.reserved), dict(led.balances),
                       dict(led.supply), dict(led.minted_to)),
            "protocols": {p.name: p.snapshot() for p in self.protocols if hasattr(p, "snapshot")},
        }

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back a :meth:`state_snapshot` (it may be restored again)."""
        led = self.ledger
        assets, parties, reserved, balances, supply, minted = state["ledger"]
        led.assets, led.parties, led.reserved = dict(assets), set(parties), set(reserved)
        led.balances, led.supply, led.minted_to = dict(balances), dict(supply), dict(minted)
        for p in self.protocols:
            if p.name in state["protocols"]:
                p.restore(state["protocols"][p.name])


def _outcome(value: Any) -> tuple[str, str, str]:
    """``(status, reason, detail)`` of what a call returned (a result with ``accepted``,
    a bool, or anything else: executed)."""
    accepted = getattr(value, "accepted", None)
    if accepted is None:
        accepted = value if isinstance(value, bool) else True
    if accepted:
        return EXECUTED, "", ""
    return REJECTED, str(getattr(value, "reason", "") or "REJECTED"), str(getattr(value, "detail", ""))
