"""Test vectors of ../shared/specs/futures-market.md section 10 that are in scope
(orders, opening auction, risk model, margin, mark-to-market, fees)."""

from __future__ import annotations

import pytest

from defisim.chain import iter_transfers
from defisim.protocols.futures import MarketConfig, lognormal_risk_factors
from defisim.protocols.futures.fees import FeeCalculator
from defisim.protocols.futures.params import FeeFactors

from helpers import make_market


def test_0019_MCAL_210_short_position_levels():
    sim = make_market(open_price=15900, linear_slippage_factor=0.25)
    # o2 is short 1 at mark 15900 with simple RF_short 0.1
    lv = sim.futures.margin_levels("o2", "M", raw=True)
    assert (lv["maintenance"], lv["search"], lv["initial"], lv["release"]) == (5565, 6121, 6678, 7791)


def test_0019_MCAL_234_opening_auction_order_margin():
    sim = make_market(opening_auction_duration_s=3600)
    # b and c make the indicative uncrossing price 100
    sim.futures.submit_order_raw("b", "M", 1, 1, 100)
    sim.futures.submit_order_raw("c", "M", -1, 1, 100)
    assert sim.futures.indicative_price("M") == (100.0, 1.0)
    r = sim.futures.submit_order_raw("a", "M", 1, 10, 3)
    assert r.accepted
    assert sim.futures.margin_levels("a", "M", raw=True)["maintenance"] == 100


def _fees_pdp_market():
    return make_market(
        parties=("buyer", "seller", "x", "y"),
        position_decimal_places=2,
        linear_slippage_factor=0.25,
        risk_model={"kind": "simple", "factor_long": 0.2, "factor_short": 0.1},
        fees={"maker": 0.005, "infrastructure": 0.002, "liquidity": 0.1},
        opening_auction_duration_s=0,
    )


def test_fees_pdp_1_and_2():
    sim = _fees_pdp_market()
    # open the market at mark 1000 between x and y (no fees in the opening auction)
    sim.futures.submit_order("x", "M", "buy", 1, 1000)
    sim.futures.submit_order("y", "M", "sell", 1, 1000)
    sim.forward_time(1)
    assert sim.futures.mark_price("M") == 1000
    # fees-pdp-1: resting buy 3 @ 1002, general 10000
    r = sim.futures.submit_order("buyer", "M", "buy", 3, 1002)
    assert r.status == "ACTIVE"
    lv = sim.futures.margin_levels("buyer", "M", raw=True)
    assert lv["maintenance"] == 600
    assert lv["balance"] == 720
    assert sim.balance("buyer", "USD", raw=True) == 9280
    # fees-pdp-2: a seller trades 3 @ 1002 aggressively
    r = sim.futures.submit_order("seller", "M", "sell", 3, 1002, time_in_force="IOC")
    assert r.status == "FILLED"
    (t,) = r.trades
    assert (t.price, t.size, t.seller_fee, t.buyer_fee) == (1002, 300, 324, 0)
    assert sim.balance("", "USD", account="fee_infrastructure", raw=True) == 7
    assert sim.balance("", "USD", account="fee_liquidity", market="M", raw=True) == 301
    # the buyer received the 16 maker fee into general (and then topped up its margin)
    maker = [e for e in sim.drain_events() if type(e).__name__ == "Transfer" and e.kind == "fee_maker"]
    assert [(m.destination[1], m.amount) for m in maker] == [("buyer", 16)]


def test_0029_FEES_013_fee_before_rounding():
    # PDP 2, size 1.23 @ 100, factors 0.001 + 0.002 + 0.05: total 6.519 asset units;
    # with 3 asset decimals (price factor 1000) every part is exact in base units.
    calc = FeeCalculator(FeeFactors(maker=0.001, infrastructure=0.002, liquidity=0.05), 1000, 2)
    fm, fi, fl = calc.continuous(123, 100)
    assert (fm, fi, fl) == (123, 246, 6150)
    assert fm + fi + fl == 6519
    # with 0 asset decimals each part rounds up separately
    assert FeeCalculator(FeeFactors(maker=0.001, infrastructure=0.002, liquidity=0.05), 1, 2).continuous(123, 100) == (1, 1, 7)


@pytest.mark.parametrize(
    ("lam", "tau", "sigma", "rf_long", "rf_short"),
    [(0.001, 0.0001, 1.5, 0.0493518, 0.0516933), (0.0002, 0.01, 1.2, 0.3696681, 0.5650462)],
    ids=["lognormal-1", "lognormal-2"],
)
def test_lognormal_risk_factors(lam, tau, sigma, rf_long, rf_short):
    rl, rs = lognormal_risk_factors(lam, tau, 0.0, 0.0, sigma)
    assert rl == pytest.approx(rf_long, abs=5e-8)
    assert rs == pytest.approx(rf_short, abs=5e-8)


def test_lognormal_model_in_a_market_config():
    cfg = MarketConfig(market_id="m", asset="USD", risk_model={"kind": "lognormal", "risk_aversion": 0.001,
                                                                "tau": 0.0001, "sigma": 1.5})
    from defisim.protocols.futures.risk import risk_factors_for

    rf = risk_factors_for(cfg.risk_model)
    assert rf.long / 10**18 == pytest.approx(0.0493518, abs=5e-8)


def test_uncross_1_opening_auction():
    sim = make_market(opening_auction_duration_s=10)
    sim.futures.submit_order_raw("a", "M", 1, 5, 1001)
    sim.futures.submit_order_raw("b", "M", -1, 5, 951)
    assert sim.futures.indicative_price("M") == (976.0, 5.0)
    sim.forward_time(5)  # the block at t=5 is before the minimum duration: still in auction
    assert sim.futures.market_state("M") == "PENDING"
    sim.forward_time(5)  # the block at t=10 is the first at the minimum duration: uncrossed at its start
    assert sim.futures.market_state("M") == "ACTIVE"
    trades = sim.futures.trades("M")
    assert [(t.price, t.size, t.trade_type) for t in trades] == [(976, 5, "AUCTION")]
    assert sim.futures.mark_price("M") == 976
    assert sim.futures.positions("M") == {"a": 5.0, "b": -5.0}
    assert (trades[0].buyer_fee, trades[0].seller_fee) == (0, 0)


def test_0003_MTMK_013_mark_to_market_of_trades_at_two_prices():
    sim = make_market(parties=("buyer", "s1", "s2"), open_price=1000)
    sim.futures.submit_order("s1", "M", "sell", 1, 1000)
    sim.futures.submit_order("s2", "M", "sell", 1, 1010)
    r = sim.futures.submit_order("buyer", "M", "buy", 2, 1010, time_in_force="IOC")
    assert [(t.price, t.size) for t in r.trades] == [(1000, 1), (1010, 1)]
    before = {p: sim.equity(p, "USD", raw=True) for p in ("buyer", "s1", "s2")}
    sim.drain_events()
    sim.forward_time(1)
    assert sim.futures.mark_price("M") == 1010
    after = {p: sim.equity(p, "USD", raw=True) for p in ("buyer", "s1", "s2")}
    assert after["s1"] - before["s1"] == -10
    assert after["buyer"] - before["buyer"] == 10
    assert after["s2"] == before["s2"]
    flows = [(src[1], dst[1], amount, kind)
             for src, dst, _, amount, kind in iter_transfers(sim.drain_events())
             if kind.startswith("mtm")]
    assert ("s1", "", 10, "mtm_loss") in flows and ("", "buyer", 10, "mtm_win") in flows
