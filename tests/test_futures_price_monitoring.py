"""Price-monitoring auctions in the market (spec section 2, 0032-PRIM; fees section 7)."""

from __future__ import annotations

from defisim.protocols.futures import AuctionExtended, AuctionStarted

from helpers import make_market

T1 = {"horizon_s": 60, "probability": 0.95, "extension_s": 30}
T2 = {"horizon_s": 120, "probability": 0.95, "extension_s": 40}


def monitored(**kw):
    """Open at 100 with model-free bounds [0.95, 1.1] (and [0.9, 1.2] for a second trigger)."""
    two = kw.pop("two", False)
    return make_market(
        parties=("a", "b", "c", "d"), open_price=100, asset_decimals=2,
        price_monitoring={"triggers": [T1, T2] if two else [T1]},
        price_monitoring_bounds=[(0.95, 1.1), (0.9, 1.2)] if two else [(0.95, 1.1)],
        fees={"maker": 0.005, "infrastructure": 0.002, "liquidity": 0.001},
        min_auction_duration_s=1, **kw)


def events(sim, cls):
    return [e for e in sim.drain_events() if isinstance(e, cls)]


def test_inside_bounds_trades_normally():
    sim = monitored()
    sim.futures.submit_order("a", "M", "sell", 1, 110)
    r = sim.futures.submit_order("b", "M", "buy", 1, 110, time_in_force="IOC")
    assert r.status == "FILLED" and sim.futures.market_state("M") == "ACTIVE"


def test_non_persistent_breach_is_rejected_and_nothing_trades():
    sim = monitored()
    sim.futures.submit_order("a", "M", "sell", 1, 111)
    r = sim.futures.submit_order("b", "M", "buy", 1, 111, time_in_force="IOC")
    assert (r.status, r.reason) == ("REJECTED", "PRICE_MONITORING_BREACH")
    assert sim.futures.market_state("M") == "ACTIVE" and sim.futures.market_depth("M", raw=True)["asks"] == [(111, 1)]


def test_persistent_breach_rests_starts_auction_and_uncrosses_with_half_fees():
    sim = monitored()
    sim.futures.submit_order("a", "M", "sell", 1, 115)
    gfn = sim.futures.submit_order("c", "M", "buy", 1, 90, time_in_force="GFN")
    sim.drain_events()
    r = sim.futures.submit_order("b", "M", "buy", 1, 115)  # would trade at 115 > 110
    assert r.status == "ACTIVE" and not r.trades
    assert sim.futures.market_state("M") == "SUSPENDED"
    (ev,) = events(sim, AuctionStarted)
    assert (ev.price, ev.triggers, ev.end_ns - ev.time_ns) == (115, (0,), 30 * 10**9)
    assert [o.order_id for o in sim.futures.open_orders("c")] == []  # GFN cancelled when the auction started
    assert gfn.accepted
    assert sim.futures.submit_order("d", "M", "buy", 1, time_in_force="IOC").reason == "INVALID_TIME_IN_FORCE"
    gen_a, gen_b = sim.balance("a", "USD", raw=True), sim.balance("b", "USD", raw=True)
    sim.forward_time(29)
    assert sim.futures.market_state("M") == "SUSPENDED"
    sim.forward_time(1)  # the scheduled end: trigger 0 is off, nothing else on: uncross at 115
    assert sim.futures.market_state("M") == "ACTIVE" and sim.futures.mark_price("M") == 115
    (t,) = [t for t in sim.futures.trades("M") if t.price == 115]
    # value 115.00 USD = 11500 base units: half of infrastructure ceil(11.5) = 12, of liquidity
    # ceil(5.75) = 6, no maker fee: each side pays 18
    assert (t.trade_type, t.buyer_fee, t.seller_fee) == ("AUCTION", 18, 18)
    assert sim.balance("", "USD", account="fee_infrastructure", raw=True) == 24
    assert gen_a - sim.balance("a", "USD", raw=True) >= 18 and gen_b - sim.balance("b", "USD", raw=True) >= 18
    # history reset to 115: bounds now [ceil(109.25), floor(126.5)] = [110, 126]
    sim.futures.submit_order("a", "M", "sell", 1, 126)
    assert sim.futures.submit_order("b", "M", "buy", 1, 126, time_in_force="IOC").status == "FILLED"
    sim.futures.submit_order("a", "M", "sell", 1, 127)
    assert sim.futures.submit_order("b", "M", "buy", 1, 127, time_in_force="IOC").reason == "PRICE_MONITORING_BREACH"


def test_auction_extended_by_a_trigger_still_on():
    sim = monitored(two=True)
    sim.futures.submit_order("a", "M", "sell", 1, 115)
    sim.futures.submit_order("b", "M", "buy", 1, 115)  # breaches trigger 0 only (115 <= 120)
    assert sim.futures.market_state("M") == "SUSPENDED"
    # during the auction the book moves: the indicative price becomes 125 > 120
    sim.futures.submit_order("c", "M", "buy", 2, 125)
    sim.futures.submit_order("d", "M", "sell", 1, 125)
    sim.drain_events()
    sim.forward_time(30)
    (ext,) = events(sim, AuctionExtended)
    assert (ext.price, ext.end_ns - ext.time_ns) == (125, 40 * 10**9)
    assert sim.futures.market_state("M") == "SUSPENDED"
    sim.forward_time(40)
    assert sim.futures.market_state("M") == "ACTIVE" and sim.futures.mark_price("M") == 125


def test_pegs_park_during_the_auction_and_no_closeouts_happen():
    sim = monitored()
    sim.futures.submit_order("c", "M", "buy", 1, 95)
    peg = sim.futures.submit_order("c", "M", "buy", 1, peg_reference="BEST_BID", peg_offset=1)
    assert [o.status for o in sim.futures.open_orders("c") if o.peg_reference] == ["ACTIVE"]
    sim.futures.submit_order("a", "M", "sell", 1, 115)
    sim.futures.submit_order("b", "M", "buy", 1, 115)
    assert sim.futures.market_state("M") == "SUSPENDED"
    assert [o.status for o in sim.futures.open_orders("c") if o.peg_reference] == ["PARKED"]
    closeouts_before = sim.futures.internal_market("M").closeouts
    sim.forward_time(10)
    assert sim.futures.internal_market("M").closeouts == closeouts_before
    sim.forward_time(20)
    assert sim.futures.market_state("M") == "ACTIVE"
    assert [(o.order_id, o.status, o.price) for o in sim.futures.open_orders("c") if o.peg_reference] == [
        (peg.order_id, "ACTIVE", 94.0)]


def test_auction_without_crossing_volume_ends_without_trades():
    sim = monitored()
    sim.futures.submit_order("a", "M", "sell", 1, 115)
    r = sim.futures.submit_order("b", "M", "buy", 1, 115)
    assert sim.futures.market_state("M") == "SUSPENDED"
    sim.futures.cancel_order("b", "M", r.order_id)  # nothing crosses any more
    sim.forward_time(30)
    assert sim.futures.market_state("M") == "ACTIVE" and sim.futures.mark_price("M") == 100


def test_network_disposal_does_not_trade_outside_the_bounds():
    # Vega 0012-POSR-026/030: the network does not trade where it would breach the bounds
    from defisim import Simulation

    sim = Simulation(seed=1)
    sim.create_asset("USD", 0)
    for p in ("o1", "o2", "mm", "degen"):
        sim.create_party(p)
        sim.mint(p, "USD", 1_000_000 if p != "degen" else 250)
    sim.futures.create_market(
        market_id="M", asset="USD", opening_auction_duration_s=0, mark_price_frequency_s=0,
        risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1},
        linear_slippage_factor=0, fees={"maker": 0, "infrastructure": 0, "liquidity": 0},
        price_monitoring={"triggers": [{"horizon_s": 60, "probability": 0.99, "extension_s": 30}]},
        price_monitoring_bounds=[(0.95, 1.05)],
        closeout={"disposal_time_step_s": 0, "slippage_range": 0.2, "disposal_fraction": 1.0,
                  "max_fraction_consumed": 1.0})
    sim.futures.submit_order("o1", "M", "buy", 1, 100)
    sim.futures.submit_order("o2", "M", "sell", 1, 100)
    sim.forward_time(1)
    sim.futures.submit_order("mm", "M", "sell", 20, 100)
    sim.futures.submit_order("degen", "M", "buy", 20, 100)
    sim.forward_time(1)
    sim.futures.submit_order("mm", "M", "buy", 20, 90)  # the only bid deep enough: outside [95, 105]
    sim.futures.submit_order("mm", "M", "sell", 5, 101)
    sim.futures.submit_order("mm", "M", "buy", 1, 97)
    sim.futures.submit_order("o2", "M", "sell", 1, 97)
    sim.forward_time(1)  # mark 97: degen closed out, the network is long 20
    assert sim.futures.position("network", "M") == 20
    sim.forward_time(1)
    sim.forward_time(1)
    assert sim.futures.market_state("M") == "ACTIVE"
    assert not [t for t in sim.futures.trades("M") if t.trade_type == "NETWORK" and t.price < 95]
