"""``submit_liquidity`` / ``amend_liquidity`` / ``cancel_liquidity`` return a
:class:`LiquidityResult` whose truth value is the outcome: true only when the change
took effect, false with a reason code on every rejection (and while pending)."""

from __future__ import annotations

import math

import pytest

from defisim import Simulation
from defisim.chain.events import TransactionRejected
from defisim.protocols.futures import LiquidityResult

LP = {"epoch_s": 10, "min_commitment": 100}


def lp_sim(execution: str = "immediate", **sim_kwargs) -> Simulation:
    sim = Simulation(seed=1, execution=execution, **sim_kwargs)
    sim.create_asset("USD", 2)
    for p in ("lp", "poor"):
        sim.create_party(p)
    sim.mint("lp", "USD", 100_000)
    sim.mint("poor", "USD", 10)
    sim.futures.create_market(market_id="M", asset="USD", opening_auction_duration_s=1,
                              risk_model={"kind": "simple", "factor_long": 0.1,
                                          "factor_short": 0.1},
                              liquidity=LP)
    return sim


def test_success_is_true_and_moves_the_bond():
    sim = lp_sim()
    r = sim.futures.submit_liquidity("lp", "M", 1000, 0.001)
    assert type(r) is LiquidityResult
    assert bool(r) is True and r.ok and r.accepted
    assert (r.status, r.reason, r.detail) == ("EXECUTED", "", "")
    assert sim.balance("lp", "USD", "bond", "M") == 1000
    a = sim.futures.amend_liquidity("lp", "M", commitment=1500)
    assert a and a.status == "EXECUTED"
    assert sim.balance("lp", "USD", "bond", "M") == 1500
    c = sim.futures.cancel_liquidity("lp", "M")
    assert c and c.status == "EXECUTED"


@pytest.mark.parametrize(
    ("party", "market", "commitment", "fee", "reason"),
    [
        ("lp", "nope", 1000, 0.001, "MARKET_NOT_FOUND"),
        ("lp", "M", math.nan, 0.001, "INVALID_COMMITMENT"),
        ("lp", "M", -5, 0.001, "INVALID_COMMITMENT"),
        ("lp", "M", 0, 0.001, "INVALID_COMMITMENT"),
        ("lp", "M", 1e300, 0.001, "INVALID_COMMITMENT"),  # above MAX_AMOUNT base units
        ("lp", "M", 0.5, 0.001, "COMMITMENT_TOO_LOW"),  # 50 base units < min 100
        ("lp", "M", 1000, 2.0, "INVALID_FEE"),
        ("lp", "M", 1000, math.inf, "INVALID_FEE"),
        ("ghost", "M", 1000, 0.001, "PARTY_NOT_FOUND"),
        ("poor", "M", 1000, 0.001, "INSUFFICIENT_FUNDS"),
    ],
)
def test_each_submit_rejection_is_false_with_its_reason(party, market, commitment, fee, reason):
    sim = lp_sim()
    r = sim.futures.submit_liquidity(party, market, commitment, fee)
    assert type(r) is LiquidityResult
    assert bool(r) is False and not r.ok and not r.accepted
    assert r.status == "REJECTED" and r.reason == reason and r.detail
    assert sim.balance("lp", "USD", "bond", "M") == 0
    last = next(e for e in reversed(sim.recent_events(5)) if type(e) is TransactionRejected)
    assert last.reason == reason


def test_second_commitment_and_closed_market_are_false():
    sim = lp_sim()
    assert sim.futures.submit_liquidity("lp", "M", 1000, 0.001)
    again = sim.futures.submit_liquidity("lp", "M", 1000, 0.001)
    assert not again and again.reason == "ALREADY_LIQUIDITY_PROVIDER"
    sim.futures.terminate_market("M")
    closed = sim.futures.submit_liquidity("poor", "M", 1, 0.001)
    assert not closed and closed.reason == "MARKET_NOT_TRADING"


def test_amend_and_cancel_without_a_commitment_are_false():
    sim = lp_sim()
    for r in (sim.futures.amend_liquidity("lp", "M", commitment=500),
              sim.futures.cancel_liquidity("lp", "M")):
        assert type(r) is LiquidityResult and not r and r.reason == "NOT_LIQUIDITY_PROVIDER"
    for r in (sim.futures.amend_liquidity("lp", "nope", fee=0.01),
              sim.futures.cancel_liquidity("lp", "nope")):
        assert not r and r.reason == "MARKET_NOT_FOUND"
    assert sim.futures.submit_liquidity("lp", "M", 1000, 0.001)
    bad = sim.futures.amend_liquidity("lp", "M", commitment=-1.0)
    assert not bad and bad.reason == "INVALID_COMMITMENT"
    nothing = sim.futures.amend_liquidity("lp", "M")
    assert not nothing and nothing.reason == "NOTHING_TO_AMEND"


def test_the_if_idiom_reads_right():
    sim = lp_sim()
    outcomes = []
    for commitment in (-1.0, 1000.0):
        if sim.futures.submit_liquidity("lp", "M", commitment, 0.001):
            outcomes.append("bonded")
        else:
            outcomes.append("refused")
    assert outcomes == ["refused", "bonded"]


def test_through_the_chain_with_a_transaction_log_the_result_is_the_same():
    sim = lp_sim(record_transactions=True)  # not the direct path: chain.submit
    assert not sim.chain.direct
    r = sim.futures.submit_liquidity("lp", "M", 1000, 0.001)
    assert type(r) is LiquidityResult and r
    again = sim.futures.submit_liquidity("lp", "M", 1000, 0.001)
    assert not again and again.reason == "ALREADY_LIQUIDITY_PROVIDER"


def test_mempool_result_is_pending_and_false_until_the_block_closes():
    sim = lp_sim("mempool")
    r = sim.futures.submit_liquidity("lp", "M", 1000, 0.001)
    assert type(r) is LiquidityResult and r.status == "PENDING"
    assert r.accepted and not r and r.tx_id > 0
    bad = sim.futures.submit_liquidity("ghost", "M", 1000, 0.001)
    sim.forward_time(1)
    done = sim.receipt(r.tx_id)
    assert done is not None and done.accepted and type(done.value) is LiquidityResult
    assert done.value and sim.balance("lp", "USD", "bond", "M") == 1000
    refused = sim.receipt(bad.tx_id)
    assert refused is not None and not refused.accepted and refused.reason == "PARTY_NOT_FOUND"
    assert not refused.value and refused.value.reason == "PARTY_NOT_FOUND"
