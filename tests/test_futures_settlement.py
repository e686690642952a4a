"""Mark-to-market, margin release, closeouts, loss socialisation and final settlement,
with every amount computed by hand (spec sections 4, 5, 6, 9)."""

from __future__ import annotations

from defisim.protocols.futures import LossSocialised, PositionClosedOut

from helpers import make_market

NO_DISPOSAL = {"disposal_time_step_s": 1e9}


def _cascade_market():
    """A long 2 and B short 2 from the opening auction at 100; A has only 30."""
    sim = make_market(parties=("A", "B", "C", "D"), funds=1000, linear_slippage_factor=0,
                      closeout=NO_DISPOSAL)
    sim.burn("A", "USD", 970)
    assert sim.futures.submit_order("A", "M", "buy", 2, 100).accepted  # auction: initial 24
    assert sim.futures.submit_order("B", "M", "sell", 2, 100).accepted
    assert sim.futures.margin_levels("A", "M", raw=True)["balance"] == 24
    sim.forward_time(1)
    assert sim.futures.positions("M") == {"A": 2.0, "B": -2.0}
    return sim


def _trade_between_c_and_d(sim, price):
    assert sim.futures.submit_order("C", "M", "buy", 1, price).status == "ACTIVE"
    assert sim.futures.submit_order("D", "M", "sell", 1, price, time_in_force="IOC").status == "FILLED"
    sim.forward_time(1)


def test_closeout_then_loss_socialisation_to_the_unit():
    sim = _cascade_market()
    sim.drain_events()
    # mark 100 -> 90: A loses 20 (margin 24 -> 4), B wins 20. A's maintenance at 90 is
    # 18, search 19: top-up to initial 21 takes A's last 6 of general -> 10 < 18: closed out.
    _trade_between_c_and_d(sim, 90)
    assert sim.futures.mark_price("M") == 90
    ev = sim.drain_events()
    (co,) = [e for e in ev if isinstance(e, PositionClosedOut)]
    assert (co.party, co.size, co.price, co.margin_to_insurance) == ("A", 2, 90, 10)
    assert sim.futures.positions("M") == {"B": -2.0, "C": 1.0, "D": -1.0, "network": 2.0}
    assert sim.futures.insurance_pool("M", raw=True) == 10
    assert sim.equity("A", "USD", raw=True) == 0
    b_before = sim.equity("B", "USD", raw=True)
    d_before = sim.equity("D", "USD", raw=True)
    c_before = sim.equity("C", "USD", raw=True)
    # mark 90 -> 80: network (long 2) owes 20 but the pool holds 10; C (long 1 from 90,
    # buys 1 more at 80) owes 10. Owed to winners: B 20, D 10 = 30; collected 20.
    # B gets floor(20 * 20 / 30) = 13; D, the last winner, the remainder 7.
    _trade_between_c_and_d(sim, 80)
    ev = sim.drain_events()
    assert sim.equity("B", "USD", raw=True) - b_before == 13
    assert sim.equity("D", "USD", raw=True) - d_before == 7
    assert sim.equity("C", "USD", raw=True) - c_before == -10
    assert sim.futures.insurance_pool("M", raw=True) == 0
    assert sorted((e.party, e.amount) for e in ev if isinstance(e, LossSocialised)) == [("B", 7), ("D", 3)]
    assert sim.balance("", "USD", account="settlement", market="M", raw=True) == 0


def test_margin_release_above_release_level_and_full_release_when_flat():
    sim = make_market(parties=("p", "q"), open_price=100, linear_slippage_factor=0)
    sim.futures.submit_order("q", "M", "sell", 10, 100)
    r = sim.futures.submit_order("p", "M", "buy", 10, 100, time_in_force="IOC")  # p long 10: MM 100
    assert r.status == "FILLED"
    assert sim.futures.margin_levels("p", "M", raw=True)["balance"] == 120
    # the price rises to 150: p wins 500 into margin -> 620 > release 210 (MM 150): back to initial 180
    sim.futures.submit_order("o1", "M", "sell", 1, 150)
    sim.futures.submit_order("o2", "M", "buy", 1, 150, time_in_force="IOC")
    sim.forward_time(1)
    lv = sim.futures.margin_levels("p", "M", raw=True)
    assert (lv["maintenance"], lv["balance"]) == (150, 180)
    assert sim.equity("p", "USD", raw=True) == 10_000 + 500
    # closing the position returns every unit of margin
    sim.futures.submit_order("q", "M", "buy", 10, 150)
    sim.futures.submit_order("p", "M", "sell", 10, 150, time_in_force="IOC", reduce_only=True)
    assert sim.futures.margin_levels("p", "M", raw=True)["balance"] == 0
    assert sim.balance("p", "USD", raw=True) == 10_500


def test_mark_price_updates_at_most_every_frequency():
    sim = make_market(open_price=100, mark_price_frequency_s=5)
    sim.futures.submit_order("a", "M", "sell", 1, 110)
    sim.futures.submit_order("b", "M", "buy", 1, 110, time_in_force="IOC")
    sim.forward_time(1)  # block at t=1 ends: 1 s since the opening mark at t=0
    assert sim.futures.mark_price("M") == 100
    for _ in range(3):
        sim.forward_time(1)
    assert sim.futures.mark_price("M") == 100  # blocks up to t=4 ended
    sim.forward_time(1)  # block at t=5 ends
    assert sim.futures.mark_price("M") == 110


def test_settlement_at_oracle_price():
    sim = make_market(parties=("L", "S"), linear_slippage_factor=0)
    sim.futures.submit_order("L", "M", "buy", 3, 100)
    sim.futures.submit_order("S", "M", "sell", 3, 100)
    sim.forward_time(1)
    # a trade at 104 after the last mark is settled too: L buys 1 more from S at 104
    sim.futures.submit_order("S", "M", "sell", 1, 104)
    sim.futures.submit_order("L", "M", "buy", 1, 104, time_in_force="IOC")
    sim.futures.terminate_market("M")
    assert sim.futures.market_state("M") == "TRADING_TERMINATED"
    assert sim.futures.submit_order("L", "M", "buy", 1, 100).reason == "MARKET_NOT_TRADING"
    sim.futures.settle_market("M", 110)
    # L: 3 * (110 - 100) + 1 * (110 - 104) = 36; S the opposite
    assert sim.equity("L", "USD", raw=True) == 10_036
    assert sim.equity("S", "USD", raw=True) == 9_964
    assert sim.balance("L", "USD", raw=True) == 10_036  # margin returned to general
    assert sim.futures.market_state("M") == "SETTLED" and sim.futures.positions("M") == {}
    sim.forward_time(1)  # invariants still hold after settlement


def test_terminating_in_opening_auction_cancels_market_and_returns_margin():
    sim = make_market(opening_auction_duration_s=100)
    sim.futures.submit_order("a", "M", "buy", 1, 100)
    sim.futures.terminate_market("M")
    assert sim.futures.market_state("M") == "CANCELLED"
    assert sim.futures.open_orders() == [] and sim.balance("a", "USD", raw=True) == 10_000


def test_network_disposes_of_closed_out_position_gradually():
    sim = make_market(parties=("A", "B", "C", "D", "MM"), funds=1000, linear_slippage_factor=0,
                      closeout={"disposal_time_step_s": 1, "disposal_fraction": 0.5,
                                "max_fraction_consumed": 1.0, "slippage_range": 0.2})
    sim.mint("MM", "USD", 100_000)
    sim.burn("A", "USD", 970)
    sim.futures.submit_order("A", "M", "buy", 2, 100)
    sim.futures.submit_order("B", "M", "sell", 2, 100)
    sim.forward_time(1)
    _trade_between_c_and_d(sim, 90)  # A closed out: network long 2
    assert sim.futures.position("network", "M") == 2
    sim.futures.submit_order("MM", "M", "buy", 5, 85)
    sim.futures.submit_order("MM", "M", "sell", 5, 95)
    sim.forward_time(1)  # disposal: ceil(2 * 0.5) = 1 sold into MM's bid at 85 (edge: ceil(90 * 0.8) = 72)
    assert sim.futures.position("network", "M") == 1
    sim.forward_time(1)
    assert sim.futures.position("network", "M") == 0
    net_trades = [t for t in sim.futures.trades("M") if t.trade_type == "NETWORK"]
    assert [(t.price, t.size, t.buyer) for t in net_trades] == [(85, 1, "MM"), (85, 1, "MM")]


def test_scheduled_trading_termination_then_oracle_settlement():
    sim = make_market(parties=("L", "S"), linear_slippage_factor=0, trading_termination_s=10)
    sim.futures.submit_order("L", "M", "buy", 2, 100)
    sim.futures.submit_order("S", "M", "sell", 2, 100)
    sim.forward_time(5)
    sim.futures.submit_order("L", "M", "buy", 1, 90)
    assert sim.futures.market_state("M") == "ACTIVE"
    sim.forward_time(5)  # the block at t=10 starts with the termination: orders cancelled
    assert sim.futures.market_state("M") == "TRADING_TERMINATED" and sim.futures.open_orders() == []
    sim.futures.settle_market("M", 95)
    assert sim.pnl("L", "USD", raw=True) == -10 and sim.pnl("S", "USD", raw=True) == 10


def test_party_that_goes_flat_gets_its_last_mark_to_market_win_released():
    # p buys 1 at 100 and sells it at 110 within one mark interval: flat, 10 up. The
    # mark-to-market pays the 10 into its margin account; the margin update releases it.
    sim = make_market(parties=("p", "q"), open_price=100, mark_price_frequency_s=5)
    sim.futures.submit_order("q", "M", "sell", 1, 100)
    sim.futures.submit_order("p", "M", "buy", 1, 100, time_in_force="IOC")
    sim.futures.submit_order("q", "M", "buy", 1, 110)
    sim.futures.submit_order("p", "M", "sell", 1, 110, time_in_force="IOC")
    for _ in range(6):
        sim.forward_time(1)
    assert sim.futures.position("p", "M") == 0
    assert sim.balance("p", "USD", "margin", "M", raw=True) == 0
    assert sim.balance("p", "USD", raw=True) == 10_010


def test_average_entry_price_and_realised_unrealised_pnl():
    sim = make_market(parties=("p", "q"), open_price=100)
    for size, price in ((2, 100), (1, 130)):
        sim.futures.submit_order("q", "M", "sell", size, price)
        sim.futures.submit_order("p", "M", "buy", size, price, time_in_force="IOC")
    d = sim.futures.position_details("p", "M")
    assert (d["position"], d["average_entry_price"], d["realised_pnl"]) == (3, 110, 0)
    sim.futures.submit_order("q", "M", "buy", 2, 120)
    sim.futures.submit_order("p", "M", "sell", 2, 120, time_in_force="IOC")
    sim.forward_time(1)  # mark 120
    d = sim.futures.position_details("p", "M")
    # sold 2 of the 3 bought at an average 110 for 120: realised 20; 1 left, 10 up at mark 120
    assert d == {"position": 1, "average_entry_price": 110, "realised_pnl": 20, "unrealised_pnl": 10}
    sim.futures.settle_market("M", 125)
    d = sim.futures.position_details("p", "M")
    assert (d["position"], d["realised_pnl"]) == (0, 35)
    assert sim.pnl("p", "USD", raw=True) == 35


def test_network_party_entry_price_and_pnl_after_a_closeout():
    sim = _cascade_market()
    _trade_between_c_and_d(sim, 90)  # A closed out: the network is long 2 at 90
    d = sim.futures.position_details("network", "M")
    assert (d["position"], d["average_entry_price"], d["unrealised_pnl"]) == (2, 90, 0)
    _trade_between_c_and_d(sim, 80)
    assert sim.futures.position_details("network", "M")["unrealised_pnl"] == -20


def test_settlement_price_must_be_positive_and_finite():
    import pytest

    sim = make_market(open_price=100)
    for bad in (-1.0, 0.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            sim.futures.settle_market("M", bad)
    assert sim.futures.market_state("M") == "ACTIVE"  # nothing happened


def test_network_disposal_trades_do_not_move_the_mark_price():
    # Vega 0012-POSR-026: a disposal trade of the network party does not set the mark
    # price. A is closed out at mark 90 (network long 2); the network then sells into
    # MM's bid at 85, two blocks running, with no other trade: the mark stays 90.
    sim = make_market(parties=("A", "B", "C", "D", "MM"), funds=1000, linear_slippage_factor=0,
                      closeout={"disposal_time_step_s": 1, "disposal_fraction": 0.5,
                                "max_fraction_consumed": 1.0, "slippage_range": 0.2})
    sim.mint("MM", "USD", 100_000)
    sim.burn("A", "USD", 970)
    sim.futures.submit_order("A", "M", "buy", 2, 100)
    sim.futures.submit_order("B", "M", "sell", 2, 100)
    sim.forward_time(1)
    _trade_between_c_and_d(sim, 90)  # A closed out at the mark 90: network long 2
    assert sim.futures.position("network", "M") == 2 and sim.futures.mark_price("M") == 90
    sim.futures.submit_order("MM", "M", "buy", 5, 85)
    sim.futures.submit_order("MM", "M", "sell", 5, 95)
    for left in (1, 0):
        sim.forward_time(1)  # mark (frequency 0: every block), then disposal of 1 at 85
        assert sim.futures.position("network", "M") == left
    assert [t.price for t in sim.futures.trades("M") if t.trade_type == "NETWORK"] == [85, 85]
    sim.forward_time(1)  # the next mark, after both disposal trades
    assert sim.futures.mark_price("M") == 90
    # an ordinary trade still sets the mark price
    _trade_between_c_and_d(sim, 88)
    assert sim.futures.mark_price("M") == 88
