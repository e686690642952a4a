"""Hand-computed cases for each order type, time in force and flag (spec section 1)."""

from __future__ import annotations

from defisim.chain import TransactionRejected

from helpers import make_market


def rejections(sim):
    return [e for e in sim.drain_events() if isinstance(e, TransactionRejected)]


def book(sim):
    return sim.futures.market_depth("M", 10, raw=True)


def test_limit_gtc_rests_then_partially_crosses_and_rests_remainder_at_back():
    sim = make_market(open_price=100)
    sim.futures.submit_order("a", "M", "sell", 2, 101)
    sim.futures.submit_order("b", "M", "buy", 1, 99)
    r = sim.futures.submit_order("c", "M", "buy", 5, 101)
    assert r.status == "ACTIVE" and [(t.price, t.size) for t in r.trades] == [(101, 2)]
    assert book(sim) == {"bids": [(101, 3), (99, 1)], "asks": []}
    sim.futures.submit_order("a", "M", "buy", 1, 101)  # same level, behind c
    r = sim.futures.submit_order("b", "M", "sell", 4, 101, time_in_force="IOC")
    assert [(t.buyer, t.size) for t in r.trades] == [("c", 3), ("a", 1)]


def test_price_time_priority_best_price_first_then_oldest():
    sim = make_market(open_price=100)
    sim.futures.submit_order("a", "M", "sell", 1, 102)
    sim.futures.submit_order("b", "M", "sell", 1, 101)
    sim.futures.submit_order("c", "M", "sell", 1, 101)
    r = sim.futures.submit_order("o1", "M", "buy", 3, 102, time_in_force="FOK")
    assert [(t.seller, t.price) for t in r.trades] == [("b", 101), ("c", 101), ("a", 102)]


def test_market_order_ioc_partial_and_no_liquidity():
    sim = make_market(open_price=100)
    sim.futures.submit_order("a", "M", "sell", 2, 105)
    r = sim.futures.submit_order("b", "M", "buy", 5)  # MARKET IOC by default
    assert r.status == "PARTIALLY_FILLED" and r.filled_size == 2
    r = sim.futures.submit_order("b", "M", "buy", 1)
    assert r.status == "STOPPED" and r.reason == "NO_LIQUIDITY" and not r.trades
    assert sim.futures.open_orders("b") == []


def test_fok_fills_all_or_nothing():
    sim = make_market(open_price=100)
    sim.futures.submit_order("a", "M", "sell", 2, 101)
    r = sim.futures.submit_order("b", "M", "buy", 3, 101, time_in_force="FOK")
    assert r.status == "STOPPED" and r.reason == "FOK_NOT_FILLED" and not r.trades
    assert book(sim)["asks"] == [(101, 2)]
    r = sim.futures.submit_order("b", "M", "buy", 2, None, order_type="MARKET", time_in_force="FOK")
    assert r.status == "FILLED" and r.filled_size == 2


def test_time_in_force_allowed_by_trading_mode():
    sim = make_market(opening_auction_duration_s=60)
    # in the opening auction: LIMIT GTC/GTT/GFA only
    assert sim.futures.submit_order("a", "M", "buy", 1, 90, time_in_force="GFA").accepted
    for tif in ("IOC", "FOK", "GFN"):
        r = sim.futures.submit_order("a", "M", "buy", 1, 90, time_in_force=tif)
        assert r.reason == "INVALID_TIME_IN_FORCE"
    assert sim.futures.submit_order("a", "M", "buy", 1).reason == "INVALID_TIME_IN_FORCE"  # market order
    sim = make_market(open_price=100)
    assert sim.futures.submit_order("a", "M", "buy", 1, 90, time_in_force="GFA").reason == "INVALID_TIME_IN_FORCE"
    assert sim.futures.submit_order("a", "M", "buy", 1, 90, time_in_force="GFN").status == "ACTIVE"
    assert sim.futures.submit_order("a", "M", "buy", 1, order_type="MARKET", time_in_force="GTC").reason == "INVALID_TIME_IN_FORCE"
    rej = rejections(sim)
    assert [e.reason for e in rej] == ["INVALID_TIME_IN_FORCE"] * 2


def test_gtt_rejected_if_expired_and_leaves_book_before_anything_else():
    sim = make_market(open_price=100)
    assert sim.futures.submit_order("a", "M", "sell", 1, 101, time_in_force="GTT", expires_at=sim.now).reason == "INVALID_EXPIRY"
    assert sim.futures.submit_order("a", "M", "sell", 1, 101, time_in_force="GTT").reason == "INVALID_EXPIRY"
    assert sim.futures.submit_order("a", "M", "sell", 1, 101, time_in_force="GTC", expires_at=sim.now + 5).reason == "INVALID_EXPIRY"
    r = sim.futures.submit_order("a", "M", "sell", 1, 101, time_in_force="GTT", expires_at=sim.now + 10)
    assert r.status == "ACTIVE"
    sim.forward_time(10)  # the block at the expiry time: the order is gone first
    r2 = sim.futures.submit_order("b", "M", "buy", 1, 101, time_in_force="IOC")
    assert r2.status == "STOPPED" and not r2.trades
    expired = [e for e in sim.drain_events() if type(e).__name__ == "OrderUpdated" and e.status == "EXPIRED"]
    assert [e.order_id for e in expired] == [r.order_id]
    assert sim.futures.margin_levels("a", "M", raw=True)["balance"] == 0  # margin released with the order


def test_gfa_orders_cancelled_when_opening_auction_ends():
    sim = make_market(opening_auction_duration_s=0)
    sim.futures.submit_order("a", "M", "buy", 1, 100, time_in_force="GFA")
    sim.futures.submit_order("b", "M", "sell", 1, 100)
    gfa = sim.futures.submit_order("c", "M", "buy", 1, 95, time_in_force="GFA")
    gtc = sim.futures.submit_order("c", "M", "buy", 1, 94)
    sim.forward_time(1)
    assert sim.futures.market_state("M") == "ACTIVE"
    ids = [o.order_id for o in sim.futures.open_orders("c")]
    assert ids == [gtc.order_id]
    ev = [e for e in sim.drain_events() if type(e).__name__ == "OrderUpdated" and e.order_id == gfa.order_id]
    assert (ev[-1].status, ev[-1].reason) == ("CANCELLED", "AUCTION_ENDED")


def test_post_only_stops_when_it_would_trade_and_needs_persistent_limit():
    sim = make_market(open_price=100)
    sim.futures.submit_order("a", "M", "sell", 1, 101)
    r = sim.futures.submit_order("b", "M", "buy", 1, 101, post_only=True)
    assert r.status == "STOPPED" and r.reason == "POST_ONLY_WOULD_TRADE" and not r.trades
    assert book(sim)["asks"] == [(101, 1)] and book(sim)["bids"] == []
    assert sim.futures.submit_order("b", "M", "buy", 1, 100, post_only=True).status == "ACTIVE"
    assert sim.futures.submit_order("b", "M", "buy", 1, 100, time_in_force="IOC", post_only=True).reason == "INVALID_FLAGS"
    assert sim.futures.submit_order("b", "M", "buy", 1, post_only=True).reason == "INVALID_FLAGS"


def test_reduce_only_caps_at_position_and_never_increases():
    sim = make_market(open_price=100)  # o1 long 1, o2 short 1
    sim.futures.submit_order("a", "M", "buy", 5, 99)
    r = sim.futures.submit_order("o1", "M", "sell", 3, 99, time_in_force="IOC", reduce_only=True)
    assert r.filled_size == 1 and sim.futures.position("o1", "M") == 0
    assert sim.futures.submit_order("o1", "M", "sell", 1, 99, time_in_force="IOC", reduce_only=True).reason == "REDUCE_ONLY_WOULD_INCREASE"
    assert sim.futures.submit_order("o2", "M", "sell", 1, 99, time_in_force="IOC", reduce_only=True).reason == "REDUCE_ONLY_WOULD_INCREASE"
    assert sim.futures.submit_order("o2", "M", "buy", 1, 99, time_in_force="GTC", reduce_only=True).reason == "INVALID_FLAGS"


def test_self_trade_prevention_stops_aggressor_and_keeps_passive():
    sim = make_market(open_price=100)
    sim.futures.submit_order("b", "M", "sell", 1, 101)
    own = sim.futures.submit_order("a", "M", "sell", 1, 102)
    sim.futures.submit_order("c", "M", "sell", 1, 103)
    r = sim.futures.submit_order("a", "M", "buy", 3, 103)
    assert [(t.seller, t.price) for t in r.trades] == [("b", 101)]
    assert r.status == "PARTIALLY_FILLED" and r.reason == "SELF_TRADE"
    assert [o.order_id for o in sim.futures.open_orders("a")] == [own.order_id]  # remainder did not rest
    assert book(sim)["asks"] == [(102, 1), (103, 1)]
    r = sim.futures.submit_order("a", "M", "buy", 2, 103, time_in_force="FOK")
    assert r.status == "STOPPED" and not r.trades


def test_amend_priority_rules():
    sim = make_market(open_price=100)
    first = sim.futures.submit_order("a", "M", "sell", 3, 101)
    second = sim.futures.submit_order("b", "M", "sell", 3, 101)
    # size decrease keeps priority
    assert sim.futures.amend_order("a", "M", first.order_id, size=2).status == "ACTIVE"
    r = sim.futures.submit_order("c", "M", "buy", 1, 101, time_in_force="IOC")
    assert r.trades[0].seller == "a"
    # size increase loses priority
    sim.futures.amend_order("a", "M", first.order_id, size=4)
    r = sim.futures.submit_order("c", "M", "buy", 1, 101, time_in_force="IOC")
    assert r.trades[0].seller == "b"
    # price change: back of the new level, and may trade at once
    sim.futures.submit_order("c", "M", "buy", 1, 99)
    r = sim.futures.amend_order("b", "M", second.order_id, price=99)
    assert [(t.buyer, t.price, t.size) for t in r.trades] == [("c", 99, 1)]
    assert [(o.order_id, o.price, o.remaining) for o in sim.futures.open_orders("b")] == [(second.order_id, 99.0, 1.0)]
    # size <= 0 cancels
    assert sim.futures.amend_order("a", "M", first.order_id, size=0).status == "CANCELLED"
    assert sim.futures.open_orders("a") == []


def test_failed_amend_leaves_order_untouched():
    sim = make_market(parties=("poor", "b"), funds=50, open_price=100)
    r = sim.futures.submit_order("poor", "M", "buy", 1, 100)
    assert r.accepted
    bad = sim.futures.amend_order("poor", "M", r.order_id, size=100)
    assert bad.status == "REJECTED" and bad.reason == "MARGIN_CHECK_FAILED"
    assert sim.futures.amend_order("b", "M", r.order_id, size=2).reason == "NOT_ORDER_OWNER"
    assert sim.futures.amend_order("poor", "M", r.order_id, price=100.5).reason == "INVALID_PRICE"
    assert [(o.price, o.remaining) for o in sim.futures.open_orders("poor")] == [(100.0, 1.0)]


def test_cancel_and_cancel_all():
    sim = make_market(open_price=100)
    ids = [sim.futures.submit_order("a", "M", "buy", 1, 90 + i).order_id for i in range(3)]
    assert sim.futures.cancel_order("b", "M", ids[0]).reason == "NOT_ORDER_OWNER"
    assert sim.futures.cancel_order("a", "M", ids[0]).status == "CANCELLED"
    assert sim.futures.cancel_order("a", "M", ids[0]).reason == "ORDER_NOT_FOUND"
    assert sim.futures.cancel_all("a") == 2
    assert sim.futures.open_orders("a") == [] and book(sim)["bids"] == []
    assert sim.futures.margin_levels("a", "M", raw=True)["balance"] == 0


def test_margin_gate_and_top_up():
    # long RF 0.1, no slippage: an order of 10 @ 100 needs maintenance 100, initial 120
    sim = make_market(parties=("p", "q"), funds=119, open_price=100, linear_slippage_factor=0)
    r = sim.futures.submit_order("p", "M", "buy", 10, 100)
    assert r.reason == "MARGIN_CHECK_FAILED"
    sim.mint("p", "USD", 1)
    r = sim.futures.submit_order("p", "M", "buy", 10, 100)
    assert r.status == "ACTIVE"
    assert sim.futures.margin_levels("p", "M", raw=True) == {"maintenance": 100, "search": 110, "initial": 120,
                                                     "release": 140, "balance": 120}
    assert sim.balance("p", "USD", raw=True) == 0


def test_aggressor_that_cannot_pay_fees_is_rejected_with_no_trades():
    sim = make_market(parties=("rich", "poor"), funds=10_000, open_price=100,
                      fees={"maker": 0.5, "infrastructure": 0.5, "liquidity": 0}, linear_slippage_factor=0)
    sim.burn("poor", "USD", 10_000 - 20)
    sim.futures.submit_order("rich", "M", "sell", 1, 100)
    r = sim.futures.submit_order("poor", "M", "buy", 1, 100, time_in_force="IOC")
    assert r.status == "REJECTED" and r.reason == "INSUFFICIENT_FUNDS_FOR_FEES" and not r.trades
    assert book(sim)["asks"] == [(100, 1)]


def test_bad_input_is_a_rejection_event_and_the_run_goes_on():
    sim = make_market(open_price=100, tick_size=5)
    cases = [
        (dict(party="a", market="nope", side="buy", size=1, price=100), "MARKET_NOT_FOUND"),
        (dict(party="a", market="M", side="buy", size=1, price=101), "PRICE_NOT_ON_TICK"),
        (dict(party="a", market="M", side="buy", size=0, price=100), "INVALID_SIZE"),
        (dict(party="a", market="M", side="buy", size=0.5, price=100), "INVALID_SIZE"),
        (dict(party="a", market="M", side="up", size=1, price=100), "INVALID_SIDE"),
        (dict(party="a", market="M", side="buy", size=1, price=-5), "INVALID_PRICE"),
        (dict(party="ghost", market="M", side="buy", size=1, price=100), "PARTY_NOT_FOUND"),
        (dict(party="a", market="M", side="buy", size=1, price=float("nan")), "INVALID_PRICE"),
    ]
    for kwargs, reason in cases:
        r = sim.futures.submit_order(**kwargs)
        assert (r.status, r.reason) == ("REJECTED", reason), kwargs
    assert [e.reason for e in rejections(sim)] == [reason for _, reason in cases]
    sim.forward_time(1)  # the chain carries on, invariants hold
    assert sim.futures.submit_order("a", "M", "buy", 1, 100).accepted


def test_sizes_and_prices_are_bounded_to_64_bits():
    sim = make_market(open_price=100)
    big = 2**63
    assert sim.futures.submit_order_raw("a", "M", 1, big, 100).reason == "INVALID_SIZE"
    assert sim.futures.submit_order_raw("a", "M", 1, 1, big).reason == "INVALID_PRICE"
    assert sim.futures.submit_order_raw("a", "M", 1, 2**63 - 1, 1).reason == "MARGIN_CHECK_FAILED"
    r = sim.futures.submit_order_raw("a", "M", 1, 1, 90)
    assert sim.futures.amend_order("a", "M", r.order_id, size=float(big)).reason == "INVALID_SIZE"


def test_rejected_order_event_carries_representable_values():
    sim = make_market(open_price=100)
    sim.drain_events()
    r = sim.futures.submit_order_raw("a", "M", 1, 10**300, 100)
    assert r.reason == "INVALID_SIZE"
    ev = [e for e in sim.drain_events() if type(e).__name__ == "OrderUpdated"]
    assert (ev[-1].status, ev[-1].size, ev[-1].price) == ("REJECTED", 0, 100)
    assert sim.futures.submit_order_raw("a", "M", 1, 1, 100, time_in_force="GTT",
                                expires_at_ns=10**30).reason == "INVALID_EXPIRY"
