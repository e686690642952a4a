"""A perpetual futures market: funding payments settled like mark-to-market (0053-PERP)."""

from __future__ import annotations

from defisim.protocols.futures import FundingPeriodEnded

from helpers import make_market


def funding_events(sim):
    return [e for e in sim.drain_events() if isinstance(e, FundingPeriodEnded)]


def test_funding_payment_longs_pay_shorts_when_mark_above_oracle():
    sim = make_market(open_price=100, perpetual={"funding_period_s": 60})
    m = sim.futures.internal_market("M")
    assert m.perp is not None and m.config.perpetual.funding_period_s == 60
    sim.futures.submit_oracle_price("M", 90)
    before = {p: sim.equity(p, "USD", raw=True) for p in ("o1", "o2")}
    sim.drain_events()
    for _ in range(59):
        sim.forward_time(1)
    assert funding_events(sim) == []
    sim.forward_time(1)  # the block at t=60 ... ends at the next forward
    sim.forward_time(1)
    (ev,) = funding_events(sim)
    # internal TWAP 100 over the period; external: 90 from t=1 (the only sample, carried)
    assert ev.internal_twap == 100 and ev.external_twap == 90 and ev.funding_payment == 10
    after = {p: sim.equity(p, "USD", raw=True) for p in ("o1", "o2")}
    assert after["o1"] - before["o1"] == -10  # long 1 pays 10
    assert after["o2"] - before["o2"] == 10


def test_perpetual_margin_includes_the_funding_term_and_has_no_expiry():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        make_market(perpetual={"funding_period_s": 60}, trading_termination_s=100)
    sim = make_market(open_price=100, linear_slippage_factor=0,
                      perpetual={"funding_period_s": 3600, "margin_funding_factor": 1.0})
    sim.futures.submit_oracle_price("M", 80)
    sim.forward_time(1)
    # long 1 at mark 100: 10 (RF 0.1) plus the expected funding payment of the long
    assert sim.futures.margin_levels("o1", "M", raw=True)["maintenance"] > 10
    assert sim.futures.margin_levels("o2", "M", raw=True)["maintenance"] == 10  # the short would receive


def test_settling_a_perpetual_pays_the_last_funding_period_first():
    sim = make_market(open_price=100, perpetual={"funding_period_s": 3600})
    sim.futures.submit_oracle_price("M", 90)
    sim.forward_time(1800)
    sim.futures.settle_market("M", 100)
    (ev,) = funding_events(sim)
    assert ev.funding_payment == 10
    assert sim.pnl("o1", "USD", raw=True) == -10 and sim.pnl("o2", "USD", raw=True) == 10
