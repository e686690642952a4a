"""Market lifecycle and governance: parameter changes enacted mid-run, closing a market."""

from __future__ import annotations

from defisim.chain import TransactionRejected
from defisim.protocols.governance import ProposalEnacted, ProposalSubmitted

from helpers import make_market


def test_fee_change_enacts_at_its_time_and_applies_to_later_trades():
    sim = make_market(open_price=100, fees={"maker": 0, "infrastructure": 0, "liquidity": 0})
    pid = sim.futures.propose_market_update("M", {"fees": {"infrastructure": 0.01}}, enact_at=10)
    assert pid == 1
    assert [type(e) for e in sim.drain_events() if isinstance(e, ProposalSubmitted)] == [ProposalSubmitted]
    sim.futures.submit_order("a", "M", "sell", 1, 100)
    r = sim.futures.submit_order("b", "M", "buy", 1, 100, time_in_force="IOC")
    assert r.trades[0].buyer_fee == 0
    sim.forward_time(10)
    assert [e.proposal_id for e in sim.drain_events() if isinstance(e, ProposalEnacted)] == [pid]
    assert sim.futures.internal_market("M").config.fees.infrastructure == 0.01
    sim.futures.submit_order("a", "M", "sell", 1, 100)
    r = sim.futures.submit_order("b", "M", "buy", 1, 100, time_in_force="IOC")
    assert r.trades[0].buyer_fee == 1  # ceil(0.01 x 100)


def test_risk_change_raises_margins_at_the_next_mark_to_market():
    sim = make_market(open_price=100, linear_slippage_factor=0)
    assert sim.futures.margin_levels("o1", "M", raw=True)["maintenance"] == 10
    sim.futures.propose_market_update("M", {"risk_model": {"kind": "simple", "factor_long": 0.5,
                                                    "factor_short": 0.5}}, enact_at=5)
    sim.forward_time(5)
    sim.forward_time(1)
    lv = sim.futures.margin_levels("o1", "M", raw=True)
    assert lv["maintenance"] == 50 and lv["balance"] >= lv["search"]


def test_invalid_proposals_are_rejected_with_a_reason():
    sim = make_market(open_price=100)
    assert sim.futures.propose_market_update("M", {"tick_size": 5}, enact_at=5) == 0
    assert sim.futures.propose_market_update("M", {"fees": {"maker": -1}}, enact_at=5) == 0
    assert sim.futures.propose_market_update("M", {"nonsense": 1}, enact_at=5) == 0
    assert sim.futures.propose_market_update("X", {"fees": {"maker": 0.1}}, enact_at=5) == 0
    assert sim.futures.propose_market_update("M", {"fees": {"maker": 0.1}}, enact_at=-1) == 0
    rej = [e for e in sim.drain_events() if isinstance(e, TransactionRejected)]
    assert [e.reason for e in rej] == ["INVALID_PROPOSAL"] * 4 + ["ENACTMENT_IN_THE_PAST"]
    assert "tick_size" in rej[0].detail


def test_price_monitoring_switched_on_mid_run():
    sim = make_market(open_price=100)
    sim.futures.propose_market_update("M", {"price_monitoring": {"triggers": [
        {"horizon_s": 60, "probability": 0.95, "extension_s": 30}]},
        "price_monitoring_bounds": [[0.95, 1.1]]}, enact_at=2)
    sim.forward_time(2)
    sim.futures.submit_order("a", "M", "sell", 1, 120)
    assert sim.futures.submit_order("b", "M", "buy", 1, 120, time_in_force="IOC").reason == "PRICE_MONITORING_BREACH"


def test_governance_closes_a_market_at_a_price():
    sim = make_market(open_price=100)
    sim.futures.submit_order("a", "M", "buy", 1, 90)
    sim.futures.propose_market_close("M", 110, enact_at=3)
    sim.forward_time(3)
    assert sim.futures.market_state("M") == "CLOSED"
    assert sim.futures.open_orders() == [] and sim.futures.positions("M") == {}
    assert sim.pnl("o1", "USD", raw=True) == 10 and sim.pnl("o2", "USD", raw=True) == -10
