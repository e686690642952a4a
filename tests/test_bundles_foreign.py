"""Bundles that pull in another sender's pending transaction (Flashbots style).

A searcher takes a transaction from ``sim.pending_transactions()`` and sends it inside
its own bundle (``sim.send_bundle([front, victim_tx, back])``). The rules are those of
:meth:`defisim.chain.Chain.submit_bundle` and :meth:`defisim.chain.mempool.Mempool.
place_pulled`: the pulled transaction keeps its id, nonce, fees and arrival and runs
once, inside the bundle; another sender's transaction may be pulled only under
``priority`` ordering; the bundle takes the mempool place of the earliest transaction
it pulls and is refused if that breaks a sender's nonce order; a reverted bundle's
pulled transactions still run, on their own, right after the revert.

Every party holds 1,000 USD (0 decimals) and, with the fee market ``SMALL_FEES``
(base fee 1,000 per gas, transfers 21,000 gas), 10^12 ETH base units. Invariants
(conservation of every asset, gas escrow empty) are checked at every block's end.
"""

from __future__ import annotations

import numpy as np
import pytest

from defisim import Simulation
from defisim.chain import (
    SETUP,
    BaseFeeUpdated,
    BundleReverted,
    RandomStreams,
    Transaction,
    TransactionIncluded,
    TransactionRejected,
)
from defisim.chain.ledger import general

USD, ETH = "USD", "ETH"
GAS = 21_000
SMALL_FEES = {"native_decimals": 0, "initial_base_fee": 1_000, "gas_limit": 30_000_000,
              "endowment": 10**12}
CAP = {"max_fee_per_gas": 10_000}


def chain_sim(ordering: str = "priority", parties=("a", "b", "c", "v", "w"), seed: int = 1,
              fees: bool = True) -> Simulation:
    sim = Simulation(seed=seed, execution="mempool", ordering=ordering,
                     fee_market=SMALL_FEES if fees else None)
    sim.create_asset(USD, 0)
    for p in parties:
        sim.create_party(p)
        sim.mint(p, USD, 1_000)
    sim.drain_events()
    return sim


def xfer(sender: str, dest: str, amount: int, **fees) -> Transaction:
    return Transaction(sender, "", "transfer", (dest, USD, amount), **fees)


def close_block(sim: Simulation) -> list:
    sim.forward_time(1)
    return sim.drain_events()


def included(events) -> list[int]:
    return [e.tx_id for e in events if isinstance(e, TransactionIncluded)]


def usd(sim: Simulation, party: str) -> int:
    return int(sim.balance(party, USD, raw=True))


def eth(sim: Simulation, party: str) -> int:
    return sim.chain.ledger.balance(general(party, ETH))


def rejections(events) -> list[tuple[str, str]]:
    return [(e.party, e.reason) for e in events if isinstance(e, TransactionRejected)]


# ------------------------------------------------------------------ the pulled transaction
def test_pulled_transaction_executes_once_in_the_bundles_order_with_its_own_fees():
    sim = chain_sim()
    sim.send(xfer("w", "c", 7, max_priority_fee_per_gas=20, **CAP))           # 1: tips more
    sim.send(xfer("v", "c", 10, max_priority_fee_per_gas=5, **CAP))           # 2: the victim
    (_, vtx) = sim.pending_transactions()
    assert (vtx.tx_id, vtx.nonce, vtx.arrival) == (2, 0, 2)
    front = xfer("a", "b", 1, max_priority_fee_per_gas=30, **CAP)
    back = xfer("a", "b", 2, max_priority_fee_per_gas=0, **CAP)
    rc = sim.send_bundle([front, vtx, back])
    assert rc.status == "PENDING" and rc.tx_id == front.tx_id == 3 and back.tx_id == 4
    # the victim left its own place: the mempool lists it once, inside the bundle
    assert [t.tx_id for t in sim.pending_transactions()] == [1, 3, 2, 4]
    assert (vtx.tx_id, vtx.nonce, vtx.arrival, vtx.max_priority_fee_per_gas) == (2, 0, 2, 5)
    assert (front.nonce, back.nonce) == (0, 1)
    v_eth, producer = eth(sim, "v"), eth(sim, "block_producer")
    events = close_block(sim)
    # the bundle is keyed by its front-run's tip 30 > w's 20, and runs back to back
    assert included(events) == [3, 2, 4, 1]
    assert [e.sender for e in events if isinstance(e, TransactionIncluded)] == ["a", "v", "a", "w"]
    assert (usd(sim, "c"), usd(sim, "v"), usd(sim, "b")) == (1_017, 990, 1_003)
    r = sim.receipt(2)
    assert (r.status, r.tx_id, r.gas_used, r.fee_burned, r.tip) == ("EXECUTED", 2, GAS, GAS * 1_000, GAS * 5)
    assert eth(sim, "v") == v_eth - GAS * 1_005  # the victim pays its own fee, once
    # tips: a 30 + 0, v 5, w 20 per gas
    assert eth(sim, "block_producer") - producer == GAS * (30 + 5 + 0 + 20)
    assert [e.gas_used for e in events if isinstance(e, BaseFeeUpdated)] == [4 * GAS]
    assert not sim.pending_transactions()
    # the victim's next transaction takes nonce 1
    sim.send(xfer("v", "c", 1, **CAP))
    assert sim.pending_transactions()[0].nonce == 1


def test_a_copy_with_equal_fields_is_pulled_too_and_the_tx_log_lists_each_once():
    sim = Simulation(seed=1, execution="mempool", ordering="priority", fee_market=SMALL_FEES,
                     record_transactions=True)
    sim.create_asset(USD, 0)
    for p in ("a", "b", "v"):
        sim.create_party(p)
        sim.mint(p, USD, 1_000)
    sim.send(xfer("v", "b", 10, **CAP))
    copy = Transaction.from_dict(sim.pending_transactions()[0].to_dict())  # as the remote API sends it
    assert sim.send_bundle([xfer("a", "b", 1, max_priority_fee_per_gas=3, **CAP), copy]).status == "PENDING"
    # set-up calls (parties, mints) are logged too, as SETUP entries with no id
    assert [t.tx_id for t in sim.chain.tx_log if t.protocol != SETUP] == [1, 2]
    events = close_block(sim)
    assert included(events) == [2, 1] and usd(sim, "b") == 1_011


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize("ordering", ["fifo", "random"])
def test_another_senders_transaction_is_refused_under_fifo_and_random(ordering):
    sim = chain_sim(ordering, fees=False)
    sim.send(xfer("v", "c", 10))                                              # 1
    (vtx,) = sim.pending_transactions()
    front, back = xfer("a", "b", 1), xfer("a", "b", 2)
    rc = sim.send_bundle([front, vtx, back])
    assert (rc.status, rc.reason) == ("REJECTED", "BUNDLE_FOREIGN_TX_NEEDS_PRIORITY")
    assert ordering in rc.detail and not rc.accepted
    assert rejections(sim.drain_events()) == [("a", "BUNDLE_FOREIGN_TX_NEEDS_PRIORITY")]
    # nothing changed: no ids or nonces taken, the victim still pending on its own
    assert (front.tx_id, front.nonce, back.tx_id, back.nonce) == (0, -1, 0, -1)
    assert [(t.tx_id, t.nonce) for t in sim.pending_transactions()] == [(1, 0)]
    sim.send(xfer("a", "b", 5))
    assert [(t.tx_id, t.nonce) for t in sim.pending_transactions()] == [(1, 0), (2, 0)]
    events = close_block(sim)
    assert sorted(included(events)) == [1, 2] and (usd(sim, "c"), usd(sim, "b")) == (1_010, 1_005)


def test_own_pending_transaction_may_be_pulled_under_fifo():
    sim = chain_sim("fifo", fees=False)
    sim.send(xfer("a", "c", 3))                                               # 1
    sim.send(xfer("v", "c", 10))                                              # 2
    own = sim.pending_transactions()[0]
    assert sim.send_bundle([own, xfer("a", "b", 4)]).status == "PENDING"      # 3
    # the bundle sits at tx 1's place, keyed by its arrival: it still runs first
    assert included(close_block(sim)) == [1, 3, 2]


def test_a_transaction_not_pending_on_its_own_is_refused():
    sim = chain_sim()
    sim.send(xfer("v", "c", 10, **CAP))                                       # 1
    (vtx,) = sim.pending_transactions()
    unknown = Transaction("v", "", "transfer", ("c", USD, 10), tx_id=99)
    changed = Transaction.from_dict({**vtx.to_dict(), "args": ["c", USD, 11]})  # fields differ
    cases = [(unknown, "BUNDLE_TX_NOT_PENDING"), (changed, "BUNDLE_TX_NOT_PENDING")]
    for tx, reason in cases:
        rc = sim.send_bundle([xfer("a", "b", 1, **CAP), tx])
        assert (rc.status, rc.reason) == ("REJECTED", reason), rc.detail
    # twice in one bundle
    rc = sim.send_bundle([xfer("a", "b", 1, **CAP), vtx, vtx])
    assert rc.reason == "BUNDLE_DUPLICATE_TX"
    # inside another bundle: the first searcher's bundle holds it
    assert sim.send_bundle([xfer("a", "b", 1, max_priority_fee_per_gas=3, **CAP), vtx]).status == "PENDING"
    rc = sim.send_bundle([xfer("b", "a", 1, max_priority_fee_per_gas=9, **CAP), vtx])
    assert rc.reason == "BUNDLE_TX_NOT_PENDING" and "not pending on its own" in rc.detail
    events = close_block(sim)
    assert [r for _, r in rejections(events)] == ["BUNDLE_TX_NOT_PENDING"] * 2 + [
        "BUNDLE_DUPLICATE_TX", "BUNDLE_TX_NOT_PENDING"]
    assert included(events) == [2, 1]  # b's refused bundle took no id: a's front-run is 2
    # already executed
    rc = sim.send_bundle([xfer("a", "b", 1, **CAP), vtx])
    assert rc.reason == "BUNDLE_TX_NOT_PENDING"
    assert usd(sim, "c") == 1_010 and usd(sim, "a") == 999


def test_nonce_order_rules():
    sim = chain_sim()
    for amount in (1, 2, 3):
        sim.send(xfer("v", "c", amount, **CAP))                               # 1-3, nonces 0-2
    v0, v1, v2 = sim.pending_transactions()

    def refused(bundle):
        rc = sim.send_bundle(bundle)
        return rc.reason if rc.status == "REJECTED" else rc.status

    # v's nonce 1 would run before its nonce 0 inside the bundle
    assert refused([xfer("a", "b", 1, **CAP), v1, v0]) == "BUNDLE_BREAKS_NONCE_ORDER"
    # pulling nonces 0 and 2 leaves nonce 1 behind the bundle: it would run after 2
    assert refused([xfer("a", "b", 1, **CAP), v0, v2]) == "BUNDLE_BREAKS_NONCE_ORDER"
    # the searcher has a pending transfer after the victim: its bundle's new nonces
    # (higher) would take the victim's earlier place
    sim.send(xfer("a", "c", 5, **CAP))                                         # 4, a's nonce 0
    assert refused([xfer("a", "b", 1, **CAP), v1]) == "BUNDLE_BREAKS_NONCE_ORDER"
    # b has nothing pending: pulling the middle one is fine (v0 before, v2 after it)
    assert refused([xfer("b", "a", 1, max_priority_fee_per_gas=50, **CAP), v1]) == "PENDING"  # 5
    assert [t.tx_id for t in sim.pending_transactions()] == [1, 5, 2, 3, 4]
    events = close_block(sim)
    # the bundle tips most but waits for v's nonce 0; v's nonce 2 waits for the bundle
    assert included(events) == [1, 5, 2, 3, 4]
    assert [r for _, r in rejections(events)] == ["BUNDLE_BREAKS_NONCE_ORDER"] * 3
    assert usd(sim, "c") == 1_011 and usd(sim, "a") == 996
    # a's nonce 1 is next: the refusals took none
    sim.send(xfer("a", "b", 1, **CAP))
    assert sim.pending_transactions()[0].nonce == 1


def test_searchers_earlier_pending_transaction_is_fine():
    sim = chain_sim()
    sim.send(xfer("a", "c", 5, max_priority_fee_per_gas=1, **CAP))            # 1
    sim.send(xfer("v", "c", 10, max_priority_fee_per_gas=1, **CAP))           # 2
    vtx = sim.pending_transactions()[1]
    assert sim.send_bundle([xfer("a", "b", 1, max_priority_fee_per_gas=9, **CAP), vtx]).status == "PENDING"
    # the bundle tips 9 but waits for a's nonce 0 (tx 1)
    assert included(close_block(sim)) == [1, 3, 2]


# ------------------------------------------------------------------ revert
def test_reverted_bundle_still_executes_the_pulled_transaction_on_its_own():
    sim = chain_sim()
    sim.send(xfer("v", "c", 10, max_priority_fee_per_gas=5, **CAP))            # 1
    (vtx,) = sim.pending_transactions()
    front = xfer("a", "b", 1, max_priority_fee_per_gas=30, **CAP)              # 2
    back = xfer("a", "b", 10**6, **CAP)                                        # 3: a holds 1,000
    a_eth, v_eth = eth(sim, "a"), eth(sim, "v")
    sim.send_bundle([front, vtx, back])
    events = close_block(sim)
    kinds = [type(e).__name__ for e in events if type(e).__name__ in
             ("BundleReverted", "TransactionIncluded", "TransactionRejected")]
    assert kinds == ["BundleReverted", "TransactionIncluded"]
    assert [(e.failed_index, e.tx_id, e.reason) for e in events if isinstance(e, BundleReverted)] == [
        (2, 3, "INSUFFICIENT_FUNDS")]
    assert included(events) == [1]
    assert [sim.receipt(i).status for i in (2, 1, 3)] == ["REVERTED", "EXECUTED", "REVERTED"]
    r = sim.receipt(1)
    assert (r.gas_used, r.fee_burned, r.tip) == (GAS, GAS * 1_000, GAS * 5)
    # the searcher paid nothing (not even gas), the victim its own transfer and fee
    assert (usd(sim, "a"), usd(sim, "b"), usd(sim, "c"), usd(sim, "v")) == (1_000, 1_000, 1_010, 990)
    assert eth(sim, "a") == a_eth and eth(sim, "v") == v_eth - GAS * 1_005
    assert [e.gas_used for e in events if isinstance(e, BaseFeeUpdated)] == [GAS]


def test_bundle_failing_at_the_pulled_transaction_runs_it_alone_with_its_own_reason():
    sim = chain_sim()
    sim.send(xfer("v", "c", 5_000, **CAP))                                     # 1: v holds 1,000
    (vtx,) = sim.pending_transactions()
    sim.send_bundle([xfer("a", "b", 1, max_priority_fee_per_gas=3, **CAP), vtx])
    events = close_block(sim)
    assert [(e.failed_index, e.tx_id) for e in events if isinstance(e, BundleReverted)] == [(1, 1)]
    assert rejections(events) == [("v", "INSUFFICIENT_FUNDS")]  # of its own execution
    r = sim.receipt(1)
    assert (r.status, r.reason, r.gas_used) == ("REJECTED", "INSUFFICIENT_FUNDS", GAS)
    assert sim.receipt(2).status == "REVERTED" and usd(sim, "a") == 1_000


# ------------------------------------------------------------------ determinism
def _random_block(seed: int, with_refused: bool) -> list[int]:
    parties = [f"p{i}" for i in range(8)]
    sim = chain_sim("random", parties=parties, seed=seed, fees=False)
    for i, p in enumerate(parties):
        sim.send(xfer(p, parties[(i + 1) % 8], i + 1))
        if with_refused and i == 3:
            rc = sim.send_bundle([xfer("p7", "p0", 1), sim.pending_transactions()[0]])
            assert rc.reason == "BUNDLE_FOREIGN_TX_NEEDS_PRIORITY"
    return included(close_block(sim))


@pytest.mark.parametrize("seed", [1, 2])
def test_random_order_is_unaffected_by_refused_bundles(seed):
    order = _random_block(seed, with_refused=True)
    assert order == _random_block(seed, with_refused=False)
    draws = RandomStreams(seed).generator("mempool:order").random(8)
    assert order == [int(i) + 1 for i in np.argsort(draws, kind="stable")]
