"""Mempool mode: ordering policies, bundles, the EIP-1559 fee market and receipts.

In ``execution="mempool"`` a transaction waits in the mempool until its block closes;
the block then executes the mempool in the order of its policy (``fifo``, seeded
``random``, ``priority``), before the protocols' end-of-block hooks. The rules are
those of :mod:`defisim.chain.mempool`, :mod:`defisim.chain.fee_market` (EIP-1559)
and :meth:`defisim.chain.Chain.submit_bundle`. Every expected number below is worked
out by hand in the comment next to it.

Sections:

1. fifo: arrival order, nothing runs before the block closes (immediate mode as the
   contrast).
2. random: seeded, reproducible, one draw per entry, per-sender nonce order.
3. priority: effective tip order, fee caps below the base fee wait, nonce order
   (bundles included).
4. bundles: all or nothing (ledger, book, positions, fees, events, receipts) and
   consecutive execution.
5. the EIP-1559 base fee: ``next_base_fee`` and a real chain over several blocks;
   the block gas limit.
6. fees are conserved: locked = burned + tip + refund; supply and block producer;
   a sender that cannot lock its fee cap is dropped.
7. receipts.
8. the futures market under each policy, and a scenario run.
9. ``state_snapshot`` / ``restore_state`` of the futures protocol and the ledger.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from defisim import Simulation
from defisim.chain import (
    BaseFeeUpdated,
    BundleReverted,
    Burned,
    FeeMarketParams,
    InvariantViolation,
    RandomStreams,
    Transaction,
    TransactionIncluded,
    TransactionRejected,
    Transfer,
    next_base_fee,
)
from defisim.chain.ledger import general
from defisim.protocols.futures import FuturesProtocol
from defisim.protocols.futures.events import OrderUpdated, TradeExecuted

USD = "USD"
ETH = "ETH"
TRANSFER_GAS = 21_000
ORDER_GAS = 120_000
ESCROW = ("gas_escrow", "", ETH, "")
PRODUCER = general("block_producer", ETH)

SMALL_FEES = {"native_decimals": 0, "initial_base_fee": 1_000, "gas_limit": 30_000_000,
              "endowment": 10**12}
"""A fee market in whole units: base fee 1,000 per gas, target 15,000,000 gas, every
party endowed with 10^12 ETH base units."""


# ------------------------------------------------------------------ helpers
def chain_sim(ordering: str = "fifo", parties=("a", "b", "c", "d"), funds: int = 1_000,
              seed: int = 1, fee_market=None) -> Simulation:
    """A mempool-mode simulation with asset USD (0 decimals) and funded parties; the
    set-up events are drained."""
    sim = Simulation(seed=seed, execution="mempool", ordering=ordering, fee_market=fee_market)
    sim.create_asset(USD, 0)
    for p in parties:
        sim.create_party(p)
        sim.mint(p, USD, funds)
    sim.drain_events()
    return sim


def mempool_market(ordering: str, parties=("a", "b", "c"), funds: int = 10_000, seed: int = 7,
                   fee_market=None, open_price: int | None = None) -> Simulation:
    """``tests/helpers.make_market`` in mempool mode: USD, funded parties, market "M"
    (simple risk model, no fees, no opening auction time). With ``open_price``, o1/o2
    cross 1 contract at it and the block closes (the market is then ACTIVE)."""
    sim = chain_sim(ordering, parties, funds, seed, fee_market)
    sim.futures.create_market(
        market_id="M", asset=USD, opening_auction_duration_s=0,
        risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1},
        fees={"maker": 0, "infrastructure": 0, "liquidity": 0}, mark_price_frequency_s=0)
    if open_price is not None:
        for p in ("o1", "o2"):
            sim.create_party(p)
            sim.mint(p, USD, 1_000_000)
        sim.futures.submit_order("o1", "M", "buy", 1, open_price)
        sim.futures.submit_order("o2", "M", "sell", 1, open_price)
        sim.forward_time(1)
        assert sim.futures.market_state("M") == "ACTIVE"
    sim.drain_events()
    return sim


def xfer(sender: str, dest: str, amount: int, asset: str = USD, **fees) -> Transaction:
    """A chain transfer of ``amount`` base units (``fees``: EIP-1559 fields)."""
    return Transaction(sender, "", "transfer", (dest, asset, amount), **fees)


def order_tx(sender: str, side: int, size: int, price: int, market: str = "M", **fees) -> Transaction:
    """A raw futures limit GTC order (market "M" has 0 decimals: ticks = price)."""
    return Transaction(sender, "futures", "submit_order",
                       (market, side, size, "LIMIT", "GTC", price, 0, False, False, "", 0), **fees)


def included(events) -> list[TransactionIncluded]:
    return [e for e in events if isinstance(e, TransactionIncluded)]


def included_ids(events) -> list[int]:
    return [e.tx_id for e in included(events)]


def transfers(events, kind: str = "transfer") -> list[tuple[str, str, int]]:
    """``(source party, destination party, amount)`` of the Transfer events of ``kind``."""
    return [(e.source[1], e.destination[1], e.amount) for e in events
            if isinstance(e, Transfer) and e.kind == kind]


def close_block(sim: Simulation, seconds: float = 1) -> list:
    """Close the block (the mempool executes), open the next; the block's events."""
    sim.forward_time(seconds)
    return sim.drain_events()


def merge_by_key(entries: list[tuple[str, tuple, int]]) -> list[int]:
    """Reference order of a policy: ``entries`` are ``(sender, key, tx_id)`` in arrival
    order; repeatedly run the smallest key among the heads of the per-sender queues."""
    queues: dict[str, list[tuple[tuple, int]]] = {}
    for sender, key, tx_id in entries:
        queues.setdefault(sender, []).append((key, tx_id))
    heap = [(q[0][0], q[0][1], s, 0) for s, q in queues.items()]
    heapq.heapify(heap)
    out = []
    while heap:
        _, tx_id, s, pos = heapq.heappop(heap)
        out.append(tx_id)
        if pos + 1 < len(queues[s]):
            key, nxt = queues[s][pos + 1]
            heapq.heappush(heap, (key, nxt, s, pos + 1))
    return out


def ledger_state(sim: Simulation) -> tuple[dict, dict]:
    """Every non-zero account balance and the supply of every asset."""
    led = sim.chain.ledger
    return {k: v for k, v in led.balances.items() if v}, dict(led.supply)


def market_state(sim: Simulation, market: str = "M") -> tuple:
    """What a bundle revert must put back: positions, depth, open orders, trades."""
    f = sim.futures
    return (f.positions(market, raw=True), f.market_depth(market, 10, raw=True),
            [(o.order_id, o.party, o.side, o.price, o.remaining) for o in f.open_orders(market=market)],
            f.market_view(market).trades)


# ============================================================ 1. fifo
def test_fifo_runs_every_partys_transactions_in_arrival_order_at_block_close():
    sim = mempool_market("fifo", parties=("a", "b", "c", "d"))
    r1 = sim.send(xfer("a", "b", 10))
    r2 = sim.futures.submit_order("c", "M", "sell", 1, 100)
    r3 = sim.send(xfer("b", "d", 5))
    r4 = sim.send(xfer("a", "c", 20))  # a's second transaction
    r5 = sim.futures.submit_order("d", "M", "buy", 1, 99)
    r6 = sim.send(xfer("d", "a", 1))
    ids = [r.tx_id for r in (r1, r2, r3, r4, r5, r6)]
    assert ids == [1, 2, 3, 4, 5, 6]
    assert r2.status == "PENDING" and r2.order_id == 0 and r2.tx_id == 2
    # nothing has run yet: no transfer, no order, no inclusion
    assert not [e for e in sim.drain_events() if isinstance(e, Transfer | TransactionIncluded | OrderUpdated)]
    assert [sim.balance(p, USD, raw=True) for p in "abcd"] == [10_000] * 4
    assert sim.futures.open_orders(market="M") == []
    pending = sim.pending_transactions()
    assert [t.tx_id for t in pending] == ids
    assert [(t.sender, t.nonce) for t in pending] == [("a", 0), ("c", 0), ("b", 0), ("a", 1), ("d", 0),
                                                      ("d", 1)]
    assert sim.receipt(1) is None

    sim.end_block()
    events = sim.drain_events()
    assert sim.pending_transactions() == []
    assert included_ids(events) == ids
    assert transfers(events) == [("a", "b", 10), ("b", "d", 5), ("a", "c", 20), ("d", "a", 1)]
    # each transaction's own events sit just before its TransactionIncluded
    cuts = [i for i, e in enumerate(events) if isinstance(e, TransactionIncluded)]
    segments = [events[lo + 1:hi] for lo, hi in zip([-1, *cuts], cuts, strict=False)]
    assert [(e.source[1], e.amount) for e in segments[0] if isinstance(e, Transfer)] == [("a", 10)]
    assert [e.party for e in segments[1] if isinstance(e, OrderUpdated)] == ["c"]
    assert [(e.source[1], e.amount) for e in segments[2] if isinstance(e, Transfer)] == [("b", 5)]
    assert [(e.source[1], e.amount) for e in segments[3] if isinstance(e, Transfer)] == [("a", 20)]
    assert [e.party for e in segments[4] if isinstance(e, OrderUpdated)] == ["d"]
    assert [(e.source[1], e.amount) for e in segments[5] if isinstance(e, Transfer)] == [("d", 1)]
    # a: 10000 - 10 - 20 + 1; b: +10 - 5; c: +20; d: +5 - 1 (c and d also moved some
    # of it to margin for their orders, so count their equity)
    assert [sim.equity(p, USD, raw=True) for p in "abcd"] == [9_971, 10_005, 10_020, 10_004]
    assert [(o.party, o.side, o.price) for o in sim.futures.open_orders(market="M")] == [
        ("c", "sell", 100.0), ("d", "buy", 99.0)]
    assert all(sim.receipt(i).status == "EXECUTED" for i in ids)
    sim.begin_block(sim.now_ns + 10**9)


def test_fifo_transaction_sees_the_state_left_by_the_earlier_ones():
    # b only holds 1,000: its transfer of 1,500 succeeds because a's 1,000 runs first
    sim = chain_sim("fifo")
    sim.send(xfer("a", "b", 1_000))
    sim.send(xfer("b", "c", 1_500))
    sim.send(xfer("c", "d", 3_000))  # c holds 1,000 + 1,500 = 2,500 < 3,000: rejected
    events = close_block(sim)
    assert [(e.tx_id, e.status) for e in included(events)] == [(1, "EXECUTED"), (2, "EXECUTED"),
                                                                 (3, "REJECTED")]
    assert [e.reason for e in events if isinstance(e, TransactionRejected)] == ["INSUFFICIENT_FUNDS"]
    assert [sim.balance(p, USD, raw=True) for p in "abcd"] == [0, 500, 2_500, 1_000]


def test_immediate_mode_still_executes_at_once():
    sim = Simulation(seed=1)
    sim.create_asset(USD, 0)
    for p in "ab":
        sim.create_party(p)
        sim.mint(p, USD, 100)
    sim.drain_events()
    rc = sim.send(xfer("a", "b", 30))
    assert rc.status == "EXECUTED"
    assert sim.balance("b", USD, raw=True) == 130
    assert transfers(sim.drain_events()) == [("a", "b", 30)]
    assert sim.pending_transactions() == []
    sim.forward_time(1)
    assert included(sim.drain_events()) == []  # no inclusion events, no receipts
    assert sim.receipt(1) is None
    with pytest.raises(RuntimeError):
        sim.send_bundle([xfer("a", "b", 1)])


# ============================================================ 2. random
def random_block(seed: int, n: int = 20) -> tuple[list[int], list]:
    """``n`` parties each send one transfer (party i sends i+1 units, tx id i+1)
    under the random policy; the executed tx ids and the block's events."""
    parties = [f"p{i:02d}" for i in range(n)]
    sim = chain_sim("random", parties=parties, seed=seed)
    for i, p in enumerate(parties):
        sim.send(xfer(p, parties[(i + 1) % n], i + 1))
    events = close_block(sim)
    return included_ids(events), events


def test_random_order_is_one_seeded_draw_per_entry():
    order, events = random_block(3)
    # the policy draws one uniform per entry, in arrival order, from "mempool:order"
    draws = RandomStreams(3).generator("mempool:order").random(20)
    assert order == [int(i) + 1 for i in np.argsort(draws, kind="stable")]
    assert sorted(order) == list(range(1, 21)) and order != list(range(1, 21))
    # the transfers ran in that order (party i sends i+1 units, so amount = tx id)
    assert [amount for _, _, amount in transfers(events)] == order


def test_random_order_is_reproducible_and_depends_on_the_seed():
    assert random_block(3)[0] == random_block(3)[0]
    assert random_block(3)[0] != random_block(4)[0]
    assert random_block(4)[0] != random_block(5)[0]


def test_random_keeps_each_senders_nonce_order():
    seed = 11
    sim = chain_sim("random", parties=("a", "b", "c", "d", "e", "f"), seed=seed)
    senders = ["a", "b", "a", "c", "a", "d", "a", "e", "a", "f", "b", "a"]
    for s in senders:
        sim.send(xfer(s, "b" if s == "a" else "a", 1))
    draws = RandomStreams(seed).generator("mempool:order").random(len(senders))
    a_draws = [d for d, s in zip(draws, senders, strict=True) if s == "a"]
    # a sort by draw alone would reorder a's transactions: the test can see a violation
    assert a_draws != sorted(a_draws)
    events = close_block(sim)
    order = included_ids(events)
    assert order == merge_by_key([(s, (d, i + 1), i + 1) for i, (s, d) in
                                  enumerate(zip(senders, draws, strict=True))])
    a_ids = [i for i in order if senders[i - 1] == "a"]
    assert a_ids == [1, 3, 5, 7, 9, 12]
    assert [sim.chain.receipt(i).status for i in order] == ["EXECUTED"] * 12


# ============================================================ 3. priority
def test_priority_orders_by_effective_tip_then_arrival():
    sim = chain_sim("priority", parties=("a", "b", "c", "d", "e", "f"), fee_market=SMALL_FEES)
    # base fee 1,000; effective tip = min(max_fee - 1000, max_priority)
    fees = {"a": (5_000, 5),    # 5
            "b": (1_003, 50),   # 3 (the cap binds)
            "c": (3_000, 20),   # 20
            "d": (5_000, 5),    # 5, ties a, arrived later
            "e": (1_030, 100)}  # 30 (the cap binds)
    for s, (cap, tip) in fees.items():
        sim.send(xfer(s, "f", 1, max_fee_per_gas=cap, max_priority_fee_per_gas=tip))
    events = close_block(sim)
    assert included_ids(events) == [5, 3, 1, 4, 2]  # e, c, a, d, b
    tips = {e.tx_id: e.tip for e in included(events)}
    assert tips == {5: 30 * 21_000, 3: 20 * 21_000, 1: 5 * 21_000, 4: 5 * 21_000, 2: 3 * 21_000}
    assert {e.fee_burned for e in included(events)} == {1_000 * 21_000}


def test_priority_fee_cap_below_base_fee_waits_until_the_base_fee_falls():
    sim = chain_sim("priority", fee_market=SMALL_FEES)
    sim.send(xfer("a", "b", 7, max_fee_per_gas=800, max_priority_fee_per_gas=10))
    sim.send(xfer("c", "d", 9, max_fee_per_gas=100, max_priority_fee_per_gas=10))
    # block 1: base 1000 > 800, empty block -> 1000 - 1000 // 8 = 875
    assert included(close_block(sim)) == []
    assert sim.base_fee(raw=True) == 875
    # block 2: 875 > 800, empty -> 875 - 875 // 8 = 766
    assert included(close_block(sim)) == []
    assert sim.base_fee(raw=True) == 766
    assert [t.tx_id for t in sim.pending_transactions()] == [1, 2]
    assert sim.receipt(1) is None
    # block 3: 766 <= 800: runs, tip min(800 - 766, 10) = 10
    events = close_block(sim)
    assert included_ids(events) == [1]
    rc = sim.receipt(1)
    assert (rc.status, rc.block, rc.fee_burned, rc.tip) == ("EXECUTED", 3, 766 * 21_000, 10 * 21_000)
    assert sim.balance("b", USD, raw=True) == 1_007
    # 21,000 of a 15,000,000 target: 766 - 766 * 14,979,000 // 15,000,000 // 8 = 766 - 95
    assert sim.base_fee(raw=True) == 671
    # the cap of 100 is still far below: it stays pending, c's USD untouched
    assert [t.tx_id for t in sim.pending_transactions()] == [2]
    assert sim.balance("c", USD, raw=True) == 1_000


def test_priority_keeps_nonce_order_against_a_higher_later_tip():
    sim = chain_sim("priority", fee_market=SMALL_FEES)
    sim.send(xfer("a", "c", 1, max_fee_per_gas=5_000, max_priority_fee_per_gas=1))
    sim.send(xfer("a", "c", 2, max_fee_per_gas=5_000, max_priority_fee_per_gas=50))
    sim.send(xfer("b", "c", 3, max_fee_per_gas=5_000, max_priority_fee_per_gas=10))
    # by tip alone: 2 (50), 3 (10), 1 (1); a's nonce 1 must wait for its nonce 0
    assert included_ids(close_block(sim)) == [3, 1, 2]


def test_priority_nonce_order_holds_across_a_senders_bundle():
    sim = chain_sim("priority", fee_market=SMALL_FEES)
    sim.send(xfer("a", "c", 1, max_fee_per_gas=5_000, max_priority_fee_per_gas=1))  # nonce 0
    sim.send_bundle([xfer("a", "c", 2, max_fee_per_gas=5_000, max_priority_fee_per_gas=50)])  # nonce 1
    sim.send(xfer("b", "c", 3, max_fee_per_gas=5_000, max_priority_fee_per_gas=10))
    # the bundle's tip (50) is the highest, but it holds a's nonce 1
    assert included_ids(close_block(sim)) == [3, 1, 2]


def test_fifo_with_a_fee_market_waits_for_a_fee_cap_below_the_base_fee():
    # fifo keeps arrival order, but a cap below the base fee cannot pay the burn
    sim = chain_sim("fifo", fee_market=SMALL_FEES)
    sim.send(xfer("a", "b", 5, max_fee_per_gas=800, max_priority_fee_per_gas=10))
    sim.send(xfer("a", "c", 6, max_fee_per_gas=5_000, max_priority_fee_per_gas=10))  # a's nonce 1
    sim.send(xfer("b", "c", 7, max_fee_per_gas=5_000, max_priority_fee_per_gas=10))
    # block 1: 1000 > 800: a's nonce 0 waits, and its nonce 1 behind it; b runs
    assert included_ids(close_block(sim)) == [3]
    # 21,000 used: 1000 - 1000 * 14,979,000 // 15,000,000 // 8 = 1000 - 998 // 8 = 876
    assert sim.base_fee(raw=True) == 876
    assert included_ids(close_block(sim)) == []      # 876 > 800; empty: 876 - 876 // 8 = 767
    assert sim.base_fee(raw=True) == 767
    assert included_ids(close_block(sim)) == [1, 2]  # 767 <= 800
    rc = sim.receipt(1)
    assert (rc.fee_burned, rc.tip) == (21_000 * 767, 21_000 * 10)
    assert [sim.balance(p, USD, raw=True) for p in "abc"] == [989, 998, 1_013]
    assert sim.chain.invariant_errors() == []


@pytest.mark.parametrize("ordering", ["fifo", "priority"])
def test_bundle_with_a_fee_cap_below_the_base_fee_waits(ordering):
    # the second transaction's cap (800) is below the base fee: the bundle waits as a
    # whole (no partial execution, no failure) until the base fee is 766 (block 3)
    sim = chain_sim(ordering, fee_market=SMALL_FEES)
    sim.send_bundle([xfer("a", "b", 5, max_fee_per_gas=5_000, max_priority_fee_per_gas=1),
                     xfer("b", "c", 5, max_fee_per_gas=800, max_priority_fee_per_gas=1)])
    sim.send(xfer("d", "a", 3, max_fee_per_gas=790, max_priority_fee_per_gas=1))
    assert included(close_block(sim)) == []
    assert included(close_block(sim)) == []
    assert [sim.balance(p, USD, raw=True) for p in "abcd"] == [1_000] * 4
    assert included_ids(close_block(sim)) == [1, 2, 3]
    assert [sim.balance(p, USD, raw=True) for p in "abcd"] == [998, 1_000, 1_005, 997]
    assert sim.chain.invariant_errors() == []


# ============================================================ 4. bundles
@pytest.fixture
def bundle_market() -> Simulation:
    """Market "M" ACTIVE at 100 (o1 long 1, o2 short 1) under ``priority`` with small
    fees, and b's sell 1 @ 101 resting (so a buy at 101 trades)."""
    sim = mempool_market("priority", fee_market=SMALL_FEES, open_price=100)
    sim.futures.submit_order("b", "M", "sell", 1, 101)
    sim.forward_time(1)
    sim.drain_events()
    assert sim.futures.best_prices("M") == (None, 101.0)
    return sim


@pytest.mark.parametrize("make_second, reason", [
    (lambda: xfer("a", "c", 10**9), "INSUFFICIENT_FUNDS"),  # a holds 10,000 USD
    (lambda: order_tx("a", -1, 1, 150, market="NOPE"), "MARKET_NOT_FOUND"),
], ids=["transfer-too-large", "unknown-market"])
def test_failed_bundle_reverts_everything(bundle_market, make_second, reason):
    sim = bundle_market
    # the first transaction alone would trade: a buys b's 1 @ 101
    first = order_tx("a", 1, 1, 101, max_priority_fee_per_gas=3)
    second = make_second()
    before = ledger_state(sim), market_state(sim)
    producer = sim.chain.ledger.balance(PRODUCER)
    rc = sim.send_bundle([first, second])
    assert rc.status == "PENDING" and rc.tx_id == first.tx_id and rc.value == 1
    events = close_block(sim)
    assert (ledger_state(sim), market_state(sim)) == before
    assert sim.chain.ledger.balance(PRODUCER) == producer  # no tip
    assert sim.futures.position("a", "M") == 0 and sim.futures.position("b", "M") == 0
    for cls in (TransactionIncluded, TransactionRejected, TradeExecuted, OrderUpdated, Transfer, Burned):
        assert not [e for e in events if isinstance(e, cls)], cls.__name__
    reverted = [e for e in events if isinstance(e, BundleReverted)]
    assert [(e.bundle_id, e.failed_index, e.tx_id, e.reason) for e in reverted] == [
        (1, 1, second.tx_id, reason)]
    for tx in (first, second):
        r = sim.receipt(tx.tx_id)
        assert (r.status, r.reason, r.block, r.gas_used, r.fee_burned, r.tip) == (
            "REVERTED", reason, 3, 0, 0, 0)
        assert not r.accepted
    # the reverted bundle used no gas: the base fee falls as for an empty block
    assert [e.gas_used for e in events if isinstance(e, BaseFeeUpdated)] == [0]
    # the market still works afterwards: the same order alone trades
    sim.send(order_tx("a", 1, 1, 101))
    events = close_block(sim)
    assert [(t.price, t.size) for t in events if isinstance(t, TradeExecuted)] == [(101, 1)]
    assert sim.futures.positions("M") == {"o1": 1.0, "o2": -1.0, "a": 1.0, "b": -1.0}


def test_reverted_bundle_leaves_no_trace_in_the_recent_events(bundle_market):
    sim = bundle_market
    count = sim.chain.event_count
    sim.send_bundle([order_tx("a", 1, 1, 101), xfer("a", "c", 10**9)])
    sim.end_block()
    recent = sim.recent_events(200)
    block = [e for e in recent if e.block == sim.block]
    for cls in (TransactionIncluded, TransactionRejected, TradeExecuted, OrderUpdated, Transfer):
        assert not [e for e in block if isinstance(e, cls)], cls.__name__
    assert [type(e).__name__ for e in block][-3:] == ["BundleReverted", "BaseFeeUpdated", "BlockEnded"]
    # the log counts what it kept: the revert, the base fee update and the block end
    assert sim.chain.event_count == count + 3
    sim.begin_block(sim.now_ns + 10**9)


def test_bundle_failing_at_its_first_transaction(bundle_market):
    sim = bundle_market
    first = xfer("c", "a", 20_000)  # c holds 10,000
    second = xfer("a", "b", 5)
    before = ledger_state(sim)
    sim.send_bundle([first, second])
    events = close_block(sim)
    assert ledger_state(sim) == before
    assert [(e.failed_index, e.tx_id) for e in events if isinstance(e, BundleReverted)] == [(0, first.tx_id)]
    assert sim.receipt(second.tx_id).status == "REVERTED"


def test_bundle_whose_sender_cannot_pay_gas_reverts():
    sim = chain_sim("priority", fee_market=SMALL_FEES)
    # a's fee cap 10^8 per gas: locking 21,000 x 10^8 > its 10^12 endowment
    bundle = [xfer("b", "c", 5), xfer("a", "c", 5, max_fee_per_gas=10**8)]
    before = ledger_state(sim)
    sim.send_bundle(bundle)
    events = close_block(sim)
    assert ledger_state(sim) == before
    assert [(e.failed_index, e.reason) for e in events if isinstance(e, BundleReverted)] == [
        (1, "INSUFFICIENT_GAS_FUNDS")]
    assert [sim.receipt(t.tx_id).status for t in bundle] == ["REVERTED", "REVERTED"]


def test_successful_bundle_runs_consecutively_in_its_order():
    sim = chain_sim("priority", parties=("a", "b", "c", "d", "e", "f", "x", "y", "z"),
                    fee_market=SMALL_FEES)
    cap = {"max_fee_per_gas": 10_000}
    sim.send(xfer("x", "f", 1, max_priority_fee_per_gas=10, **cap))                    # 1
    bundle = [xfer("a", "b", 2, max_priority_fee_per_gas=5, **cap),                    # 2: keys the bundle
              xfer("c", "d", 3, max_priority_fee_per_gas=100, **cap),                  # 3
              xfer("e", "f", 4, max_priority_fee_per_gas=0, **cap)]                    # 4
    sim.send_bundle(bundle)
    sim.send(xfer("y", "f", 5, max_priority_fee_per_gas=7, **cap))                     # 5
    sim.send(xfer("z", "f", 6, max_priority_fee_per_gas=1, **cap))                     # 6
    events = close_block(sim)
    # tips 10, 7, then the bundle at its first transaction's 5, then 1
    assert included_ids(events) == [1, 5, 2, 3, 4, 6]
    assert [amount for _, _, amount in transfers(events)] == [1, 5, 2, 3, 4, 6]
    # each transaction of the bundle pays its own tip
    assert [sim.receipt(i).tip for i in (2, 3, 4)] == [5 * 21_000, 100 * 21_000, 0]
    assert not [e for e in events if isinstance(e, BundleReverted)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_policy_keeps_a_bundle_together(seed):
    parties = [f"p{i}" for i in range(10)]
    sim = chain_sim("random", parties=parties, seed=seed)
    for p in parties[:4]:
        sim.send(xfer(p, "p9", 1))                                                    # 1-4
    sim.send_bundle([xfer("p4", "p9", 1), xfer("p5", "p9", 1), xfer("p6", "p9", 1)])  # 5-7
    for p in parties[7:9]:
        sim.send(xfer(p, "p9", 1))                                                    # 8-9
    order = included_ids(close_block(sim))
    assert sorted(order) == list(range(1, 10))
    k = order.index(5)
    assert order[k:k + 3] == [5, 6, 7]
    # 7 entries, 7 draws: the bundle sits where its one draw puts it
    draws = RandomStreams(seed).generator("mempool:order").random(7)
    entry_ids = [1, 2, 3, 4, 5, 8, 9]
    assert [entry_ids[i] for i in np.argsort(draws, kind="stable")] == [i for i in order if i not in (6, 7)]


def test_an_empty_bundle_is_refused():
    # (immediate mode refuses bundles: test_immediate_mode_still_executes_at_once)
    sim = chain_sim("fifo")
    with pytest.raises(ValueError):
        sim.send_bundle([])


# ============================================================ 5. base fee and gas limit
@pytest.mark.parametrize("base, used, target, expected", [
    (1_000, 15_000_000, 15_000_000, 1_000),                 # at target: unchanged
    (10**9, 20_000_000, 15_000_000, 1_041_666_666),         # 10^9 * 5M // 15M = 333,333,333; // 8 = 41,666,666
    (7, 15_000_001, 15_000_000, 8),                         # 7 * 1 // 15M // 8 = 0 -> the minimum +1
    (0, 2, 1, 1),                                           # the minimum increase lifts a zero base fee
    (10**9, 5_000_000, 15_000_000, 916_666_667),            # 10^9 * 10M // 15M = 666,666,666; // 8 = 83,333,333
    (10**9, 30_000_000, 15_000_000, 1_125_000_000),         # full block: +12.5 %
    (10**9, 0, 15_000_000, 875_000_000),                    # empty block: -12.5 %
    (9, 0, 15_000_000, 8),                                  # 9 - 9 // 8
    (7, 0, 15_000_000, 7),                                  # 7 // 8 = 0: the floor stops the fall
])
def test_next_base_fee(base, used, target, expected):
    assert next_base_fee(base, used, target) == expected


def test_next_base_fee_sequences_and_errors():
    fee = 10**9
    for _ in range(3):
        fee = next_base_fee(fee, 30_000_000, 15_000_000)
    assert fee == 1_423_828_125  # 10^9 * 1.125^3 exactly
    fee = 10**9
    for _ in range(3):
        fee = next_base_fee(fee, 0, 15_000_000)
    assert fee == 669_921_875  # 10^9 * 0.875^3 exactly
    for bad in ((-1, 0, 1), (1, -1, 1), (1, 0, 0)):
        with pytest.raises(ValueError):
            next_base_fee(*bad)


def test_base_fee_through_a_chain_over_seven_blocks():
    # gas limit 84,000 = 4 transfers; target 42,000 = 2 transfers
    fm = FeeMarketParams(gas_limit=84_000, initial_base_fee=1_000, native_decimals=0, endowment=10**12)
    assert fm.gas_target == 42_000
    sim = chain_sim("priority", parties=("a", "b", "c", "d", "e"), fee_market=fm)
    plan = [
        (4, 1_125),  # full: 1000 + 1000 * 42000 // 42000 // 8 = 1000 + 125
        (2, 1_125),  # at target: unchanged
        (0, 985),    # empty: 1125 - 1125 // 8 = 1125 - 140
        (1, 924),    # 21,000: 985 - 985 * 21000 // 42000 // 8 = 985 - 492 // 8 = 985 - 61
        (3, 981),    # 63,000: 924 + 924 * 21000 // 42000 // 8 = 924 + 462 // 8 = 924 + 57
        (5, 1_103),  # 5 sent, 4 fit: 981 + 981 // 8 = 981 + 122; the fifth waits
        (0, 1_035),  # the fifth alone: 1103 - 1103 * 21000 // 42000 // 8 = 1103 - 551 // 8 = 1103 - 68
    ]
    expected_runs = [4, 2, 0, 1, 3, 4, 1]
    senders = "abcde"
    for block, ((sent, fee_after), runs) in enumerate(zip(plan, expected_runs, strict=True), start=1):
        base = sim.base_fee(raw=True)
        for k in range(sent):
            sim.send(xfer(senders[k], "a" if senders[k] != "a" else "b", 1))
        events = close_block(sim)
        inc = included(events)
        assert len(inc) == runs, block
        assert all(e.fee_burned == 21_000 * base for e in inc)
        assert [(e.gas_used, e.base_fee, e.next_base_fee) for e in events if isinstance(e, BaseFeeUpdated)] == [
            (21_000 * runs, base, fee_after)], block
        assert sim.base_fee(raw=True) == fee_after, block
        assert sim.base_fee() == fee_after  # 0 decimals: the same in native units
    assert sim.pending_transactions() == []


def test_transactions_that_do_not_fit_the_gas_limit_wait_for_the_next_block():
    # limit 150,000 (target 75,000): an order takes 120,000, a transfer 21,000
    fm = {"native_decimals": 0, "initial_base_fee": 1_000, "gas_limit": 150_000, "endowment": 10**12}
    sim = mempool_market("fifo", fee_market=fm)
    sim.send(order_tx("a", 1, 1, 90))   # 1: fits, 30,000 left
    sim.send(order_tx("b", 1, 1, 91))   # 2: does not fit: waits
    sim.send(xfer("c", "a", 1))         # 3: fits, 9,000 left
    sim.send(xfer("b", "a", 1))         # 4: fits no more, and b's earlier order waits anyway
    events = close_block(sim)
    assert included_ids(events) == [1, 3]
    assert [t.tx_id for t in sim.pending_transactions()] == [2, 4]
    # 141,000 used: 1000 + 1000 * 66000 // 75000 // 8 = 1000 + 880 // 8 = 1110
    assert sim.base_fee(raw=True) == 1_110
    events = close_block(sim)
    assert included_ids(events) == [2, 4]
    # 1110 + 1110 * 66000 // 75000 // 8 = 1110 + 976 // 8 = 1232
    assert sim.base_fee(raw=True) == 1_232
    assert sorted((o.party, o.price) for o in sim.futures.open_orders(market="M")) == [("a", 90.0), ("b", 91.0)]


def test_an_entry_too_big_for_any_block_is_refused_and_smaller_ones_still_run():
    # a 120,000-gas order with the top tip cannot fit a 100,000 block: refused at
    # submission (it would wait forever), and the transfers of other senders run
    fm = {"native_decimals": 0, "initial_base_fee": 1_000, "gas_limit": 100_000, "endowment": 10**12}
    sim = mempool_market("priority", fee_market=fm)
    rc = sim.send(order_tx("a", 1, 1, 90, max_priority_fee_per_gas=50))
    assert (rc.status, rc.reason) == ("REJECTED", "GAS_LIMIT_ABOVE_BLOCK_LIMIT")
    sim.send(xfer("b", "c", 1, max_priority_fee_per_gas=2))
    sim.send(xfer("c", "b", 1, max_priority_fee_per_gas=3))
    assert included_ids(close_block(sim)) == [3, 2]
    assert sim.pending_transactions() == []


# ============================================================ 6. fees conserved
def fee_flows(events) -> list[dict]:
    """Per executed transaction, in order: what its sender locked and what was burned,
    tipped and refunded, read from the ledger events, with its inclusion event."""
    out, cur = [], None
    for e in events:
        if isinstance(e, Transfer) and e.kind == "gas_lock":
            cur = {"sender": e.source[1], "locked": e.amount, "burned": 0, "tip": 0, "refund": 0}
        elif cur is not None and isinstance(e, Burned) and e.account == ESCROW:
            cur["burned"] += e.amount
        elif cur is not None and isinstance(e, Transfer) and e.kind == "gas_tip":
            assert e.destination == PRODUCER
            cur["tip"] += e.amount
        elif cur is not None and isinstance(e, Transfer) and e.kind == "gas_refund":
            assert e.destination == general(cur["sender"], ETH)
            cur["refund"] += e.amount
        elif cur is not None and isinstance(e, TransactionIncluded):
            cur["included"] = e
            out.append(cur)
            cur = None
    assert cur is None
    return out


def test_fee_flows_by_hand():
    sim = mempool_market("priority", parties=("a", "b", "c", "d"), fee_market=SMALL_FEES)
    # base fee 1,000
    sim.send(xfer("a", "b", 1, max_fee_per_gas=1_050, max_priority_fee_per_gas=100))
    sim.send(order_tx("b", 1, 1, 90, max_fee_per_gas=3_000, max_priority_fee_per_gas=7))
    sim.send(xfer("c", "a", 10**9, max_fee_per_gas=2_000, max_priority_fee_per_gas=1))  # rejected, pays gas
    sim.send(xfer("d", "a", 1, gas_limit=50_000, max_fee_per_gas=2_000, max_priority_fee_per_gas=3))
    flows = fee_flows(close_block(sim))
    got = [(f["included"].tx_id, f["locked"], f["burned"], f["tip"], f["refund"]) for f in flows]
    assert got == [
        # cap binds: price min(1050, 1000 + 100) = 1050, tip 50/gas; nothing refunded
        (1, 21_000 * 1_050, 21_000 * 1_000, 21_000 * 50, 0),
        # 120,000 x 3,000 locked; price 1007; refund 120,000 x (3000 - 1007)
        (2, 360_000_000, 120_000_000, 840_000, 239_160_000),
        # (tip 3 before tip 1) a limit above the call's gas: 50,000 x 2,000 locked,
        # 21,000 used at price 1003
        (4, 100_000_000, 21_000_000, 63_000, 78_937_000),
        # a rejected transfer still uses its gas: 21,000 x 2,000 locked, price 1001
        (3, 42_000_000, 21_000_000, 21_000, 20_979_000),
    ]
    assert sim.receipt(4).gas_used == TRANSFER_GAS
    assert sim.receipt(3).status == "REJECTED" and sim.receipt(3).reason == "INSUFFICIENT_FUNDS"
    assert sim.balance("a", ETH, raw=True) == 10**12 - 21_000 * 1_050
    assert sim.balance("b", ETH, raw=True) == 10**12 - 120_000_000 - 840_000


def test_fees_are_conserved_over_blocks():
    sim = mempool_market("priority", parties=("a", "b", "c", "d"), fee_market=SMALL_FEES, open_price=100)
    led = sim.chain.ledger
    prices = {"a": (3, 0), "b": (40, 900), "c": (0, 0), "d": (15, 5_000)}  # (tip, cap); 0: 2 x base + tip
    for p, (tip, cap) in prices.items():
        sim.chain.set_gas_price(p, tip, cap)
    b_tips = []
    assert sim.base_fee(raw=True) == 877  # see the end of the test
    supply0, producer0 = led.supply[ETH], led.balance(PRODUCER)
    burned_total = tips_total = executed = 0
    for block in range(6):
        base = sim.base_fee(raw=True)
        sim.send(xfer("a", "b", 5 + block))
        sim.futures.submit_order("b", "M", "sell", 1, 101 + block % 2)
        sim.futures.submit_order("c", "M", "buy", 1, 101)
        sim.send(xfer("d", "c", 10**9))  # always rejected
        sim.futures.submit_order("d", "NOPE", "buy", 1, 100)  # unknown market: rejected
        events = close_block(sim)
        assert sim.chain.invariant_errors() == []
        flows = fee_flows(events)
        inc = included(events)
        assert [f["included"] for f in flows] == inc and len(inc) == 5
        for f in flows:
            e = f["included"]
            rc = sim.receipt(e.tx_id)
            tip, cap = prices[e.sender]
            cap = cap or 2 * base + tip  # submitted and executed at the same base fee
            assert f["locked"] == e.gas_used * cap  # gas limit = the call's gas here
            assert f["tip"] == e.gas_used * (min(cap, base + tip) - base)
            if e.sender == "b":
                b_tips.append(min(cap, base + tip) - base)
            assert f["locked"] == f["burned"] + f["tip"] + f["refund"]
            assert f["burned"] == rc.fee_burned == e.gas_used * base
            assert f["tip"] == rc.tip == e.tip
            assert f["refund"] >= 0
            burned_total += f["burned"]
            tips_total += f["tip"]
            executed += 1
        assert supply0 - led.supply[ETH] == burned_total
        assert led.balance(PRODUCER) - producer0 == tips_total
        assert led.balance(ESCROW) == 0
    assert executed == 30 and sim.futures.market_view("M").trades > 1
    # the opening block used 240,000 gas: base 1000 - 1000 * 14,760,000 // 15M // 8
    # = 1000 - 984 // 8 = 877, so b's cap 900 binds in the first block (tip 900 - 877
    # = 23); 402,000 gas then takes it to 877 - 877 * 14,598,000 // 15M // 8 = 877 -
    # 853 // 8 = 771 and lower, where 771 + 40 <= 900 and b tips its full 40
    assert b_tips == [23, 40, 40, 40, 40, 40]
    assert tips_total > 0 and burned_total > 0


def test_tips_follow_each_senders_gas_price():
    sim = chain_sim("priority", fee_market=SMALL_FEES)
    sim.set_gas_price("a", 25)          # tip 25, cap 0: 2 x base + tip at submission
    sim.chain.set_gas_price("b", 40, 1_010)
    ta, tb = xfer("a", "c", 1), xfer("b", "c", 1)
    sim.send(ta)
    sim.send(tb)
    assert (ta.max_priority_fee_per_gas, ta.max_fee_per_gas) == (25, 2_025)
    assert (tb.max_priority_fee_per_gas, tb.max_fee_per_gas) == (40, 1_010)
    # b: min(1010 - 1000, 40) = 10 < a's 25, so a runs first
    assert included_ids(close_block(sim)) == [1, 2]
    assert (sim.receipt(1).tip, sim.receipt(2).tip) == (25 * 21_000, 10 * 21_000)
    with pytest.raises(ValueError):
        sim.chain.set_gas_price("a", -1)
    with pytest.raises(ValueError):
        chain_sim("fifo").set_gas_price("a", 1)


def test_sender_that_cannot_lock_its_fee_cap_is_dropped_and_nothing_else_changes():
    fm = dict(SMALL_FEES, endowment=1_050_000_000)
    sim = chain_sim("priority", fee_market=fm)
    # 21,000 x 50,001 = 1,050,021,000 > the 1,050,000,000 endowment
    tx = xfer("a", "b", 100, max_fee_per_gas=50_001, max_priority_fee_per_gas=10)
    before = ledger_state(sim)
    pending = sim.send(tx)
    assert pending.status == "PENDING" and pending.accepted
    events = close_block(sim)
    assert ledger_state(sim) == before
    assert not [e for e in events if isinstance(e, Transfer | Burned)]
    assert [(e.party, e.reason) for e in events if isinstance(e, TransactionRejected)] == [
        ("a", "INSUFFICIENT_GAS_FUNDS")]
    assert [(e.status, e.reason, e.gas_used, e.fee_burned, e.tip) for e in included(events)] == [
        ("DROPPED", "INSUFFICIENT_GAS_FUNDS", 0, 0, 0)]
    rc = sim.receipt(tx.tx_id)
    assert (rc.status, rc.reason, rc.gas_used, rc.fee_burned, rc.tip, rc.accepted) == (
        "DROPPED", "INSUFFICIENT_GAS_FUNDS", 0, 0, 0, False)
    assert [e.gas_used for e in events if isinstance(e, BaseFeeUpdated)] == [0]
    # exactly enough (21,000 x 50,000 = the whole endowment) runs
    sim.send(xfer("a", "b", 100, max_fee_per_gas=50_000, max_priority_fee_per_gas=10))
    close_block(sim)
    assert sim.receipt(tx.tx_id + 1).status == "EXECUTED"
    # base fee 875 after the empty block: 21,000 x (875 + 10) paid
    assert sim.balance("a", ETH, raw=True) == 1_050_000_000 - 21_000 * 885
    assert sim.balance("b", USD, raw=True) == 1_100


def test_invariant_checks_run_every_block_with_fees():
    sim = chain_sim("priority", fee_market=SMALL_FEES)
    assert sim.chain.check_invariants
    sim.send(xfer("a", "b", 1))
    close_block(sim)
    # break conservation of the native asset by hand: the next block end raises
    sim.chain.ledger.balances[general("a", ETH)] += 1
    with pytest.raises(InvariantViolation):
        close_block(sim)


# ============================================================ 7. receipts
def test_receipts_of_transfers_and_orders():
    sim = mempool_market("priority", fee_market=SMALL_FEES)
    t = xfer("a", "b", 3, max_priority_fee_per_gas=2)
    sim.send(t)
    res = sim.futures.submit_order("b", "M", "buy", 2, 95)
    assert (res.status, res.order_id, res.tx_id, res.accepted) == ("PENDING", 0, 2, True)
    bad = sim.futures.submit_order("c", "NOPE", "buy", 1, 95)
    cancel = sim.futures.cancel_all("c", "M")
    assert bad.status == "PENDING" and bad.tx_id == 3 and cancel.status == "PENDING" and cancel.tx_id == 4
    assert sim.receipt(1) is None and sim.receipt(2) is None
    close_block(sim)
    rc = sim.receipt(1)
    assert (rc.status, rc.tx_id, rc.block, rc.gas_used, rc.fee_burned, rc.tip) == (
        "EXECUTED", 1, 1, TRANSFER_GAS, 21_000 * 1_000, 21_000 * 2)
    rc = sim.receipt(res.tx_id)
    assert FuturesProtocol.gas["submit_order"] == ORDER_GAS
    assert (rc.status, rc.gas_used, rc.fee_burned, rc.tip) == ("EXECUTED", ORDER_GAS, ORDER_GAS * 1_000, 0)
    assert rc.value.status == "ACTIVE" and rc.value.order_id > 0
    assert [o.order_id for o in sim.futures.open_orders("b", "M")] == [rc.value.order_id]
    rc = sim.receipt(bad.tx_id)  # a rejected order still pays its gas
    assert (rc.status, rc.reason, rc.gas_used, rc.fee_burned) == (
        "REJECTED", "MARKET_NOT_FOUND", ORDER_GAS, ORDER_GAS * 1_000)
    rc = sim.receipt(cancel.tx_id)
    assert (rc.status, rc.gas_used, rc.value) == ("EXECUTED", FuturesProtocol.gas["cancel_all"], 0)
    assert sim.receipt(999) is None


def test_explicit_gas_limit_below_the_calls_gas_is_out_of_gas():
    sim = mempool_market("priority", fee_market=SMALL_FEES)
    sim.send(order_tx("a", 1, 1, 90, gas_limit=30_000, max_fee_per_gas=2_000))
    events = close_block(sim)
    rc = sim.receipt(1)
    # the whole limit is used and paid, the order never runs
    assert (rc.status, rc.reason, rc.gas_used, rc.fee_burned) == ("REJECTED", "OUT_OF_GAS", 30_000, 30_000_000)
    assert sim.futures.open_orders(market="M") == []
    assert [e.reason for e in events if isinstance(e, TransactionRejected)] == ["OUT_OF_GAS"]


def test_receipts_without_fee_market_and_their_lifetime():
    sim = chain_sim("fifo")
    sim.send(xfer("a", "b", 1))
    close_block(sim)
    rc = sim.receipt(1)
    assert (rc.status, rc.block, rc.gas_used, rc.fee_burned, rc.tip) == ("EXECUTED", 1, TRANSFER_GAS, 0, 0)
    assert sim.base_fee() == 0
    for _ in range(15):  # blocks 2..16: still kept
        close_block(sim)
    assert sim.receipt(1) is not None
    close_block(sim)  # block 17 closes: the receipts of block 1 are forgotten
    assert sim.receipt(1) is None


# ============================================================ 8. the futures market under each policy
POLICIES = ["fifo", "random", "priority"]


@pytest.mark.parametrize("ordering", POLICIES)
def test_futures_market_in_mempool_mode(ordering):
    sim = mempool_market(ordering, parties=("a", "b", "c"))
    assert sim.chain.check_invariants
    # block 1 (opening auction): a buys 2 @ 100 against b 1 @ 100 and c 1 @ 99
    for p, side, price in (("a", "buy", 100), ("b", "sell", 100), ("c", "sell", 99)):
        assert sim.futures.submit_order(p, "M", side, 1 if p != "a" else 2, price).status == "PENDING"
    assert sim.futures.market_view("M").trades == 0
    close_block(sim)
    assert sim.futures.market_state("M") == "ACTIVE"
    assert sim.futures.positions("M") == {"a": 2.0, "b": -1.0, "c": -1.0}
    # block 2 (continuous): c buys 1 @ 101 and b sells 1 @ 101, in either order they trade
    sim.futures.submit_order("c", "M", "buy", 1, 101)
    sim.futures.submit_order("b", "M", "sell", 1, 101)
    events = close_block(sim)
    assert [(t.price, t.size) for t in events if isinstance(t, TradeExecuted)] == [(101, 1)]
    # the mempool ran before the end-of-block hooks: this block's mark is the trade's price
    assert sim.futures.mark_price("M") == 101
    pos = sim.futures.positions("M")
    assert pos == {"a": 2.0, "b": -2.0}
    assert sum(pos.values()) == 0
    assert sim.futures.market_view("M").trades >= 2
    assert sim.chain.invariant_errors() == []
    # USD is conserved: 3 x 10,000 minted, no fees in this market
    assert sim.chain.ledger.supply[USD] == 30_000


def _scenario_has_execution_params() -> bool:
    from defisim.scenarios import get_scenario

    fields = get_scenario("btc_futures").Params.model_fields
    return "execution" in fields and "ordering" in fields


@pytest.mark.parametrize("ordering", POLICIES)
def test_btc_futures_scenario_in_mempool_mode(ordering):
    if not _scenario_has_execution_params():
        pytest.skip("btc_futures parameters have no execution/ordering fields yet")
    from defisim.runner import run_scenario
    from defisim.scenarios import get_scenario

    cls = get_scenario("btc_futures")
    sc = cls(cls.Params(steps=50, execution="mempool", ordering=ordering))
    res = run_scenario(sc, seed=3, check_invariants=True, record=False, progress=False)
    assert res.error is None and res.steps == 50
    assert res.trades > 0


# ============================================================ 9. snapshot / restore
def test_state_snapshot_round_trips_the_book_positions_and_ledger():
    sim = mempool_market("fifo", parties=("a", "b", "c"), open_price=100)
    sim.futures.submit_order("a", "M", "buy", 2, 98)
    sim.futures.submit_order("b", "M", "sell", 3, 102)
    sim.send(xfer("c", "a", 50))
    close_block(sim)
    chain = sim.chain
    saved_state = (ledger_state(sim), market_state(sim), sim.futures.mark_price("M"))
    snap = chain.state_snapshot()
    # change everything: a trade, new orders, a transfer, a burn
    sim.futures.submit_order("c", "M", "buy", 1, 102)  # lifts b's 102
    sim.futures.submit_order("c", "M", "sell", 1, 98)  # hits a's 98
    sim.send(xfer("a", "b", 7))
    sim.burn("b", USD, 3)
    close_block(sim)
    changed = (ledger_state(sim), market_state(sim), sim.futures.mark_price("M"))
    assert changed != saved_state
    assert sim.futures.position("c", "M") == 0 and sim.futures.market_view("M").trades > 1
    chain.restore_state(snap)
    assert (ledger_state(sim), market_state(sim), sim.futures.mark_price("M")) == saved_state
    assert chain.invariant_errors() == []
    # the snapshot is not aliased to the live state: it restores again after more changes
    sim.futures.submit_order("c", "M", "buy", 1, 102)
    close_block(sim)
    assert sim.futures.position("c", "M") == 1
    chain.restore_state(snap)
    assert (ledger_state(sim), market_state(sim), sim.futures.mark_price("M")) == saved_state
    # and the restored market still trades
    sim.futures.submit_order("c", "M", "buy", 1, 102)
    events = close_block(sim)
    assert [(t.price, t.size) for t in events if isinstance(t, TradeExecuted)] == [(102, 1)]
    assert chain.invariant_errors() == []


def test_a_fork_with_a_pending_mempool_executes_it_identically():
    sim = chain_sim("random", parties=[f"p{i}" for i in range(8)], seed=9)
    for i in range(8):
        sim.send(xfer(f"p{i}", f"p{(i + 3) % 8}", 10 + i))
    fork = sim.snapshot()  # the pending transactions and the policy's generator go with it
    assert [t.tx_id for t in fork.pending_transactions()] == list(range(1, 9))
    order = included_ids(close_block(sim))
    assert included_ids(close_block(fork)) == order
    assert ledger_state(fork) == ledger_state(sim)
    assert order != list(range(1, 9))


def test_order_ids_stay_unique_across_markets_after_a_restore():
    sim = mempool_market("fifo", parties=("a", "b"), open_price=100)
    chain = sim.chain
    chain.restore_state(chain.state_snapshot())
    sim.futures.create_market(
        market_id="N", asset=USD, opening_auction_duration_s=0,
        risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1},
        fees={"maker": 0, "infrastructure": 0, "liquidity": 0})
    sim.futures.submit_order("a", "M", "buy", 1, 90)
    sim.futures.submit_order("b", "N", "buy", 1, 90)
    close_block(sim)
    ids = [o.order_id for o in sim.futures.open_orders()]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_a_transaction_above_the_block_gas_limit_is_refused_at_submission():
    sim = Simulation(seed=1, execution="mempool", ordering="priority",
                     fee_market={"gas_limit": 100_000, "initial_base_fee": 10})
    sim.create_asset("USD", 0)
    for p in ("a", "b"):
        sim.create_party(p)
        sim.mint(p, "USD", 100)
    big = Transaction("a", "", "transfer", ("b", "USD", 5), gas_limit=100_001)
    rc = sim.send(big)
    assert (rc.status, rc.reason) == ("REJECTED", "GAS_LIMIT_ABOVE_BLOCK_LIMIT")
    assert sim.pending_transactions() == [] and sim.chain.nonces.get("a", 0) == 0
    ok = sim.send(Transaction("a", "", "transfer", ("b", "USD", 5)))
    assert ok.status == "PENDING"
    sim.forward_time(1)
    assert sim.balance("b", "USD") == 105 and sim.receipt(ok.tx_id).status == "EXECUTED"
    bundle = [Transaction("a", "", "transfer", ("b", "USD", 1), gas_limit=60_000),
              Transaction("b", "", "transfer", ("a", "USD", 1), gas_limit=60_000)]
    assert sim.send_bundle(bundle).reason == "GAS_LIMIT_ABOVE_BLOCK_LIMIT"
    assert sim.pending_transactions() == []
