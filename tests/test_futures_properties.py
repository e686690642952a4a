"""Property tests: the book against a naive model; random transaction sequences against
the market, with money conserved and the resting book never crossed."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defisim import Simulation
from defisim.protocols.futures import OrderBook
from defisim.protocols.futures.types import Order, OrderType, TimeInForce

# ---------------------------------------------------------------- book vs model

book_ops = st.lists(
    st.tuples(
        st.sampled_from(["add", "add", "add", "remove", "reduce", "plan", "move"]),
        st.sampled_from([1, -1]),
        st.integers(95, 105),
        st.integers(1, 5),
        st.integers(0, 50),
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(book_ops)
def test_book_matches_naive_price_time_model(ops):
    book = OrderBook()
    model: list[Order] = []  # resting orders in arrival order
    seq = 0
    for op, side, price, size, pick in ops:
        live = [o for o in model if o.remaining > 0]
        if op == "add":
            seq += 1
            o = Order(seq, "M", f"p{pick % 3}", side, OrderType.LIMIT, TimeInForce.GTC, price, size)
            book.add(o)
            model.append(o)
        elif op == "remove" and live:
            o = live[pick % len(live)]
            book.remove(o)
            model.remove(o)
        elif op == "move" and live:
            # a repriced peg: the same order object leaves and rests again at the back
            o = live[pick % len(live)]
            book.remove(o)
            o.price = price
            book.add(o)
            model.remove(o)
            model.append(o)
        elif op == "reduce" and live:
            o = live[pick % len(live)]
            book.reduce(o, max(1, o.remaining - size))
        elif op == "plan":
            party = f"p{pick % 4}"  # p3 never self-trades
            fills, stp = book.plan(side, price, size, party)
            # naive: opposite orders crossing the limit, best price then arrival
            opp = [o for o in model if o.side == -side and (o.price <= price if side > 0 else o.price >= price)]
            opp.sort(key=lambda o: (o.price * side, model.index(o)))
            want, left, want_stp = [], size, False
            for o in opp:
                if left == 0:
                    break
                if o.party == party:
                    want_stp = True
                    break
                f = min(left, o.remaining)
                want.append((o.order_id, f))
                left -= f
            assert [(o.order_id, f) for o, f in fills] == want
            assert stp == want_stp
            for o, f in fills:  # apply them
                book.fill(o, f)
                if o.remaining == 0:
                    model.remove(o)
        assert book.check() == []
        bids = sorted({o.price for o in model if o.side > 0}, reverse=True)
        asks = sorted({o.price for o in model if o.side < 0})
        assert book.best_bid() == (bids[0] if bids else None)
        assert book.best_ask() == (asks[0] if asks else None)
        depth = book.depth(3)
        assert depth[0] == [(p, sum(o.remaining for o in model if o.side > 0 and o.price == p)) for p in bids[:3]]
        assert depth[1] == [(p, sum(o.remaining for o in model if o.side < 0 and o.price == p)) for p in asks[:3]]


# ------------------------------------------------------- market under random txs

PARTIES = ["p0", "p1", "p2", "p3", "p4"]

tx = st.one_of(
    st.tuples(
        st.just("order"),
        st.sampled_from(PARTIES),
        st.sampled_from(["buy", "sell"]),
        st.integers(1, 30),  # size
        st.integers(-3, 40),  # price offset (ticks of 5) from 80, or market order
        st.sampled_from(["GTC", "GTT", "IOC", "FOK", "GFA", "GFN"]),
        st.booleans(),  # post_only
        st.booleans(),  # reduce_only
    ),
    st.tuples(st.just("amend"), st.sampled_from(PARTIES), st.integers(0, 99), st.integers(-2, 40),
              st.integers(-1, 30)),
    st.tuples(st.just("peg"), st.sampled_from(PARTIES), st.sampled_from(["buy", "sell"]),
              st.integers(1, 30), st.sampled_from(["BEST_BID", "MID", "BEST_ASK"]),
              st.integers(0, 6), st.sampled_from(["GTC", "GTT", "GFA"])),
    st.tuples(st.just("amend_peg"), st.sampled_from(PARTIES), st.integers(0, 99), st.integers(0, 6),
              st.integers(-1, 30)),
    st.tuples(st.just("cancel"), st.sampled_from(PARTIES), st.integers(0, 99)),
    st.tuples(st.just("cancel_all"), st.sampled_from(PARTIES)),
    st.tuples(st.just("lp"), st.sampled_from(PARTIES), st.integers(0, 500), st.sampled_from([0.0, 0.001, 0.02])),
    st.tuples(st.just("lp_amend"), st.sampled_from(PARTIES), st.integers(0, 500)),
    st.tuples(st.just("lp_cancel"), st.sampled_from(PARTIES)),
    st.tuples(st.just("time"), st.integers(0, 12)),
)


def _check(sim: Simulation) -> None:
    m = sim.futures.internal_market("M")
    errors = sim.chain.invariant_errors()
    assert not errors, errors
    if not m.in_auction:
        assert not m.book.is_crossed()
    assert sum(ps.position for ps in m.parties.values()) == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(tx, min_size=20, max_size=80), st.lists(st.integers(20, 3000), min_size=5, max_size=5),
       st.booleans())
def test_random_transactions_conserve_money_and_never_cross_the_book(txs, funds, monitoring):
    sim = Simulation(seed=3)
    sim.create_asset("USD", 2)
    for p, f in zip(PARTIES, funds, strict=True):
        sim.create_party(p)
        sim.mint(p, "USD", f)
    sim.futures.create_market(market_id="M", asset="USD", decimal_places=0, tick_size=5,
                      position_decimal_places=1, opening_auction_duration_s=2,
                      mark_price_frequency_s=1, linear_slippage_factor=0.05,
                      risk_model={"kind": "lognormal", "sigma": 1.5, "tau": 0.001},
                      fees={"maker": 0.001, "infrastructure": 0.0005, "liquidity": 0.002},
                      closeout={"disposal_time_step_s": 3, "full_disposal_size": 5},
                      liquidity={"epoch_s": 5, "stake_to_volume": 0.1, "minimum_time_fraction": 0.5,
                                 "target_stake_window_s": 20, "market_value_window_s": 10},
                      price_monitoring={"triggers": [
                          {"horizon_s": 4, "probability": 0.95, "extension_s": 3},
                          {"horizon_s": 10, "probability": 0.99, "extension_s": 5}] if monitoring else []})
    ids: list[int] = []
    for t in txs:
        kind = t[0]
        if kind == "order":
            _, p, side, size, off, tif, post, reduce = t
            price = None if off < 0 else 80 + 5 * off
            r = sim.futures.submit_order(p, "M", side, size / 10, price, time_in_force=tif,
                                 expires_at=sim.now + 5 if tif == "GTT" else None,
                                 post_only=post, reduce_only=reduce)
            if r.order_id:
                ids.append(r.order_id)
        elif kind == "amend" and ids:
            _, p, k, off, size = t
            sim.futures.amend_order(p, "M", ids[k % len(ids)], price=None if off < 0 else 80 + 5 * off,
                            size=None if size < 0 else size / 10)
        elif kind == "peg":
            _, p, side, size, ref, off, tif = t
            r = sim.futures.submit_order(p, "M", side, size / 10, peg_reference=ref, peg_offset=5 * off,
                                 time_in_force=tif, expires_at=sim.now + 5 if tif == "GTT" else None)
            if r.order_id:
                ids.append(r.order_id)
        elif kind == "amend_peg" and ids:
            _, p, k, off, size = t
            sim.futures.amend_order(p, "M", ids[k % len(ids)], peg_offset=5 * off,
                            size=None if size < 0 else size / 10)
        elif kind == "cancel" and ids:
            sim.futures.cancel_order(t[1], "M", ids[t[2] % len(ids)])
        elif kind == "cancel_all":
            sim.futures.cancel_all(t[1], "M")
        elif kind == "lp":
            sim.futures.submit_liquidity(t[1], "M", t[2], t[3])
        elif kind == "lp_amend":
            sim.futures.amend_liquidity(t[1], "M", commitment=t[2])
        elif kind == "lp_cancel":
            sim.futures.cancel_liquidity(t[1], "M")
        elif kind == "time":
            sim.forward_time(t[1])  # block end: MTM, closeouts and the chain's own invariant checks
        _check(sim)
    sim.forward_time(1)
    m = sim.futures.internal_market("M")
    if m.state == "ACTIVE":
        sim.futures.settle_market("M", 100)
        sim.forward_time(1)
        assert sim.futures.positions("M") == {}
        # after settlement every party holds only general balances
        assert all(k[0] != "margin" or b == 0 for k, b in sim.chain.ledger.accounts())
    _check(sim)
