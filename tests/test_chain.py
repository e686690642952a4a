"""The null chain: ledger conservation, events, random streams, invariants, snapshots."""

from __future__ import annotations

import pytest

from defisim.chain import Chain, InvariantViolation, LedgerError, Transfer
from defisim.chain import ledger as acct


def test_mint_transfer_burn_conserve_and_emit_events():
    c = Chain(seed=1)
    c.begin_block(0)
    c.ledger.create_asset("X", 2)
    c.ledger.create_party("p")
    c.ledger.create_party("q")
    c.ledger.mint(acct.general("p", "X"), 1000)
    c.ledger.transfer(acct.general("p", "X"), acct.general("q", "X"), 300, "test")
    c.ledger.burn(acct.general("q", "X"), 100)
    assert c.ledger.balance(acct.general("p", "X")) == 700
    assert c.ledger.balance(acct.general("q", "X")) == 200
    assert c.ledger.supply["X"] == 900
    assert c.ledger.conservation_errors() == []
    transfers = [e for e in c.events if isinstance(e, Transfer)]
    assert len(transfers) == 1 and transfers[0].amount == 300 and transfers[0].block == 1
    c.end_block()


def test_overdraft_and_negative_amounts_raise():
    c = Chain()
    c.ledger.create_asset("X", 0)
    c.ledger.mint(acct.general("p", "X"), 10)
    with pytest.raises(LedgerError):
        c.ledger.transfer(acct.general("p", "X"), acct.general("q", "X"), 11, "t")
    with pytest.raises(LedgerError):
        c.ledger.transfer(acct.general("p", "X"), acct.general("q", "X"), -1, "t")
    assert c.ledger.transfer_up_to(acct.general("p", "X"), acct.general("q", "X"), 50, "t") == 10


def test_invariant_violation_reports_block_and_recent_events():
    c = Chain(seed=0)
    c.begin_block(5)
    c.ledger.create_asset("X", 0)
    c.ledger.mint(acct.general("p", "X"), 10)
    c.ledger.balances[acct.general("p", "X")] = 11  # money from nowhere
    with pytest.raises(InvariantViolation) as info:
        c.end_block()
    err = info.value
    assert err.block == 1 and err.time_ns == 5
    assert "minted - burned = 10" in err.violations[0]
    assert err.recent_events


def test_random_streams_are_named_and_reproducible():
    a, b = Chain(seed=42), Chain(seed=42)
    x = a.rng.generator("agent:mm").random(5)
    assert (x == b.rng.generator("agent:mm").random(5)).all()
    assert not (x == a.rng.generator("agent:taker").random(5)).all()
    assert not (x == Chain(seed=43).rng.generator("agent:mm").random(5)).all()
    with pytest.raises(ValueError):
        Chain(seed=-1)


def test_time_cannot_go_back_and_blocks_alternate():
    c = Chain()
    c.begin_block(10)
    with pytest.raises(RuntimeError):
        c.begin_block(20)
    c.end_block()
    with pytest.raises(ValueError):
        c.begin_block(5)


def test_snapshot_is_independent():
    c = Chain()
    c.ledger.create_asset("X", 0)
    c.ledger.mint(acct.general("p", "X"), 10)
    snap = c.snapshot()
    c.ledger.burn(acct.general("p", "X"), 10)
    assert snap.ledger.balance(acct.general("p", "X")) == 10
