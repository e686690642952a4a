"""Pegged orders (spec section 1, 0037-OPEG): references, offsets, parking, repricing."""

from __future__ import annotations

from helpers import make_market


def book(sim):
    return sim.futures.market_depth("M", 10, raw=True)


def pegs(sim, party):
    return [(o.order_id, o.status, o.price) for o in sim.futures.open_orders(party) if o.peg_reference]


def test_0037_OPEG_020_mid_pegs_round_to_tick():
    sim = make_market(open_price=100, tick_size=10)
    sim.futures.submit_order("a", "M", "buy", 1, 100)
    sim.futures.submit_order("a", "M", "sell", 1, 190)
    buy = sim.futures.submit_order("b", "M", "buy", 1, peg_reference="MID", peg_offset=10)
    sell = sim.futures.submit_order("b", "M", "sell", 1, peg_reference="MID", peg_offset=10)
    assert buy.status == sell.status == "ACTIVE"
    assert pegs(sim, "b") == [(buy.order_id, "ACTIVE", 140.0), (sell.order_id, "ACTIVE", 150.0)]


def test_best_bid_and_ask_pegs_and_invalid_pegs():
    sim = make_market(open_price=100)
    sim.futures.submit_order("a", "M", "buy", 1, 98)
    sim.futures.submit_order("a", "M", "sell", 1, 103)
    r1 = sim.futures.submit_order("b", "M", "buy", 2, peg_reference="BEST_BID", peg_offset=1)
    r2 = sim.futures.submit_order("b", "M", "sell", 2, peg_reference="BEST_ASK", peg_offset=0)
    assert [p[2] for p in pegs(sim, "b")] == [97.0, 103.0]
    assert book(sim) == {"bids": [(98, 1), (97, 2)], "asks": [(103, 3)]}
    assert r1.accepted and r2.accepted
    cases = [
        dict(side="sell", peg_reference="BEST_BID", peg_offset=1),
        dict(side="buy", peg_reference="BEST_ASK", peg_offset=1),
        dict(side="buy", peg_reference="MID", peg_offset=0),
        dict(side="buy", peg_reference="LAST", peg_offset=1),
        dict(side="buy", peg_reference="BEST_BID", peg_offset=-1),
    ]
    for kw in cases:
        assert sim.futures.submit_order("b", "M", size=1, **kw).reason == "INVALID_PEG", kw
    assert sim.futures.submit_order("b", "M", "buy", 1, peg_reference="BEST_BID", peg_offset=1,
                            time_in_force="IOC").reason == "INVALID_TIME_IN_FORCE"
    assert sim.futures.submit_order("b", "M", "buy", 1, peg_reference="BEST_BID", peg_offset=1,
                            post_only=True).reason == "INVALID_FLAGS"


def test_peg_parks_without_reference_and_unparks_when_it_appears():
    sim = make_market(open_price=100)
    r = sim.futures.submit_order("b", "M", "buy", 1, peg_reference="BEST_BID", peg_offset=2)
    assert r.status == "PARKED" and book(sim)["bids"] == []
    assert sim.futures.margin_levels("b", "M", raw=True)["maintenance"] == 0  # parked pegs carry no margin
    sim.futures.submit_order("a", "M", "buy", 1, 95)
    assert pegs(sim, "b") == [(r.order_id, "ACTIVE", 93.0)]
    assert sim.futures.margin_levels("b", "M", raw=True)["maintenance"] > 0
    sim.futures.cancel_order("a", "M", sim.futures.open_orders("a")[0].order_id)
    assert pegs(sim, "b") == [(r.order_id, "PARKED", 93.0)] and book(sim)["bids"] == []
    # a price <= 0 parks too
    sim.futures.submit_order("a", "M", "buy", 1, 1)
    assert pegs(sim, "b")[0][1] == "PARKED"


def test_pegs_follow_static_prices_only_and_reprice_in_entry_order_to_back_of_level():
    sim = make_market(open_price=100)
    sim.futures.submit_order("a", "M", "buy", 1, 95)
    p1 = sim.futures.submit_order("b", "M", "buy", 1, peg_reference="BEST_BID", peg_offset=0)
    p2 = sim.futures.submit_order("c", "M", "buy", 1, peg_reference="BEST_BID", peg_offset=0)
    # a peg at the best bid does not move the reference of the others: all at 95
    assert book(sim)["bids"] == [(95, 3)]
    sim.futures.submit_order("a", "M", "buy", 1, 96)  # new static best: pegs move in entry order
    sim.futures.submit_order("o1", "M", "buy", 1, 96)  # a limit order at 96 arriving after the repricing
    r = sim.futures.submit_order("o2", "M", "sell", 4, 96, time_in_force="IOC")
    assert [t.buyer for t in r.trades] == ["a", "b", "c", "o1"]
    assert p1.accepted and p2.accepted


def test_pegs_parked_in_opening_auction_come_back_in_entry_order():
    sim = make_market(parties=("a", "b", "c", "d"), opening_auction_duration_s=10)
    p1 = sim.futures.submit_order("b", "M", "buy", 1, peg_reference="BEST_BID", peg_offset=0)
    sim.futures.submit_order("a", "M", "buy", 2, 100)
    sim.futures.submit_order("c", "M", "sell", 1, 100)
    sim.futures.submit_order("c", "M", "buy", 1, 99)
    p2 = sim.futures.submit_order("c", "M", "buy", 1, peg_reference="BEST_BID", peg_offset=0)
    assert p1.status == p2.status == "PARKED"
    assert book(sim)["bids"] == [(100, 2), (99, 1)]
    sim.forward_time(10)  # uncross 1 @ 100: a's remaining 1 @ 100 is the static best bid
    assert sim.futures.market_state("M") == "ACTIVE"
    assert [(oid, st, px) for oid, st, px in pegs(sim, "b") + pegs(sim, "c")] == [
        (p1.order_id, "ACTIVE", 100.0), (p2.order_id, "ACTIVE", 100.0)]
    r = sim.futures.submit_order("d", "M", "sell", 3, 100, time_in_force="IOC")
    assert [t.buyer for t in r.trades] == ["a", "b", "c"]


def test_amend_peg_offset_and_size():
    sim = make_market(open_price=100)
    sim.futures.submit_order("a", "M", "buy", 5, 95)
    p = sim.futures.submit_order("b", "M", "buy", 3, peg_reference="BEST_BID", peg_offset=1)
    q = sim.futures.submit_order("c", "M", "buy", 1, peg_reference="BEST_BID", peg_offset=1)
    assert sim.futures.amend_order("b", "M", p.order_id, price=90).reason == "ORDER_NOT_AMENDABLE"
    assert sim.futures.amend_order("b", "M", p.order_id, size=2).status == "ACTIVE"  # keeps priority
    # pegs are not repriced in the middle of an aggressive order: after a's 95 is gone
    # the sell goes on into b then c at 94
    r = sim.futures.submit_order("o2", "M", "sell", 7, 94, time_in_force="IOC")
    assert [(t.buyer, t.price, t.size) for t in r.trades] == [("a", 95, 5), ("b", 94, 2)]
    # with no static bid left, c's peg parks; a new bid brings it back
    assert pegs(sim, "c") == [(q.order_id, "PARKED", 94.0)]
    sim.futures.submit_order("a", "M", "buy", 1, 95)
    assert pegs(sim, "c") == [(q.order_id, "ACTIVE", 94.0)]
    sim.futures.amend_order("c", "M", q.order_id, peg_offset=3)
    assert pegs(sim, "c") == [(q.order_id, "ACTIVE", 92.0)]
    assert sim.futures.amend_order("a", "M", sim.futures.open_orders("a")[0].order_id, peg_offset=1).reason == "INVALID_PEG"
