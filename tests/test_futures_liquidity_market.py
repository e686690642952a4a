"""Liquidity provision in the market (spec section 8): bonds, the fee factor by marginal
cost, epochs with fee distribution, SLA penalties and slashing, bond penalty, settlement."""

from __future__ import annotations

from defisim.protocols.futures import LiquidityEpochEnded

LP = {"epoch_s": 10, "stake_to_volume": 1.0, "price_range": 0.05, "minimum_time_fraction": 0.5,
      "competition_factor": 1.0, "slash_slope": 1.0, "max_slash": 0.5, "target_stake_scaling": 1.0,
      "target_stake_window_s": 60, "fee_method": "marginal_cost", "bond_penalty_factor": 0.1}


def lp_market():
    from defisim import Simulation

    sim = Simulation(seed=1)
    sim.create_asset("USD", 2)
    for p in ("lp1", "lp2", "a", "b", "t"):
        sim.create_party(p)
        sim.mint(p, "USD", 100_000)
    sim.futures.create_market(market_id="M", asset="USD", opening_auction_duration_s=1,
                      risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1},
                      fees={"maker": 0, "infrastructure": 0, "liquidity": 0},
                      linear_slippage_factor=0, mark_price_frequency_s=0, liquidity=LP)
    return sim


def test_commitments_bond_and_marginal_cost_fee_at_opening():
    sim = lp_market()
    assert sim.futures.submit_liquidity("lp1", "M", 1000, 0.001).reason == ""
    assert sim.futures.submit_liquidity("lp2", "M", 1000, 0.01).reason == ""
    assert sim.futures.submit_liquidity("lp1", "M", 5, 0.001).reason == "ALREADY_LIQUIDITY_PROVIDER"
    assert sim.futures.submit_liquidity("lp2", "nope", 5, 0.001).reason == "MARKET_NOT_FOUND"
    assert sim.balance("lp1", "USD", "bond", "M") == 1000
    assert sim.balance("lp1", "USD") == 99_000
    sim.futures.submit_order("a", "M", "buy", 1, 100)
    sim.futures.submit_order("b", "M", "sell", 1, 100)
    sim.forward_time(1)
    assert sim.futures.market_state("M") == "ACTIVE"
    # target stake = mark 100 x max OI 1 x scaling 1 x RF 0.1 = 10 USD: lp1 (cheapest) covers it
    assert sim.futures.target_stake("M") == 10.0
    assert sim.futures.liquidity_fee_factor("M") == 0.001
    assert sim.futures.supplied_stake("M") == 2000.0


def test_epoch_pays_the_performing_lp_and_slashes_the_absent_one():
    sim = lp_market()
    sim.futures.submit_liquidity("lp1", "M", 1000, 0.001)
    sim.futures.submit_liquidity("lp2", "M", 1000, 0.01)
    sim.futures.submit_order("a", "M", "buy", 1, 100)
    sim.futures.submit_order("b", "M", "sell", 1, 100)
    sim.forward_time(1)
    # lp1 quotes 11 a side within 5 % of mid: notional 11 x mark 99 = 1089 >= its 1000 obligation
    sim.futures.submit_order("lp1", "M", "buy", 11, 99)
    sim.futures.submit_order("lp1", "M", "sell", 11, 101)
    # t buys 5 from lp1 at 101 and sells them back at 99: fees at 0.001 of 505 + 495 USD
    assert sim.futures.submit_order("t", "M", "buy", 5, 101, time_in_force="IOC").status == "FILLED"
    assert sim.futures.submit_order("t", "M", "sell", 5, 99, time_in_force="IOC").status == "FILLED"
    # per trade, rounded up: ceil(50.5) + ceil(49.5) base units
    assert sim.balance("", "USD", "fee_liquidity", "M", raw=True) == 51 + 50
    sim.futures.submit_order("lp1", "M", "buy", 5, 99)  # top the quotes back up to the obligation
    sim.futures.submit_order("lp1", "M", "sell", 5, 101)
    ins_before = sim.futures.insurance_pool("M", raw=True)
    lp1_before = sim.balance("lp1", "USD", raw=True)
    sim.drain_events()
    for _ in range(12):
        sim.forward_time(1)
    (ep,) = [e for e in sim.drain_events() if isinstance(e, LiquidityEpochEnded)][:1]
    assert ep.fees_paid == 101  # the whole fee balance went to lp1 (lp2's share as a bonus)
    assert sim.balance("lp1", "USD", raw=True) - lp1_before >= 101
    # lp2 never quoted: t = 0 < s = 0.5, slash min(0.5, 1 x (1 - 0)) = 50 % of its 1000
    assert sim.balance("lp2", "USD", "bond", "M") == 500
    assert sim.futures.insurance_pool("M", raw=True) - ins_before == 500_00
    assert sim.balance("lp1", "USD", "bond", "M") == 1000


def test_bond_covers_a_margin_shortfall_with_a_penalty_and_returns_at_settlement():
    sim = lp_market()
    sim.futures.submit_liquidity("lp1", "M", 1000, 0.001)
    sim.burn("lp1", "USD", 99_000)  # all it has left is the bond
    sim.futures.submit_order("a", "M", "buy", 1, 100)
    sim.futures.submit_order("b", "M", "sell", 1, 100)
    sim.forward_time(1)
    # lp1 sells 100 @ 100 into a's bid: it has no general to margin it, so the margin
    # comes from the bond (a shortfall) ... the order gate refuses first
    r = sim.futures.submit_order("lp1", "M", "sell", 100, 100)
    assert r.reason == "MARGIN_CHECK_FAILED"
    sim.mint("lp1", "USD", 1200)  # initial margin of a short 100 @ 100 is 1200
    sim.futures.submit_order("a", "M", "buy", 100, 100)
    r = sim.futures.submit_order("lp1", "M", "sell", 100, 100, time_in_force="IOC")
    assert r.status == "FILLED"
    # the price rises to 105: lp1 loses 500 from margin, then needs a top-up its general
    # (empty) cannot pay: the bond pays, and 10 % of what it paid goes to the insurance pool
    sim.futures.submit_order("a", "M", "sell", 1, 105)
    sim.futures.submit_order("b", "M", "buy", 1, 105, time_in_force="IOC")
    bond_before = sim.balance("lp1", "USD", "bond", "M", raw=True)
    sim.forward_time(1)
    taken = [e for e in sim.drain_events() if type(e).__name__ == "Transfer"
             and e.kind in ("margin_top_up_bond", "lp_bond_penalty")]
    from_bond = sum(e.amount for e in taken if e.kind == "margin_top_up_bond")
    penalty = sum(e.amount for e in taken if e.kind == "lp_bond_penalty")
    assert from_bond > 0 and penalty == -(-from_bond // 10)
    assert bond_before - sim.balance("lp1", "USD", "bond", "M", raw=True) == from_bond + penalty
    sim.futures.settle_market("M", 105)
    assert sim.balance("lp1", "USD", "bond", "M", raw=True) == 0


def test_0041_TSTK_target_stake_counts_the_peak_open_interest_within_a_block():
    # 0041-TSTK: the max open interest over the window counts every change, also several
    # within one block: 70 -> 130 -> 110 inside a block gives max OI 130, not 110.
    sim = lp_market()
    for p in ("c", "d"):
        sim.create_party(p)
        sim.mint(p, "USD", 100_000)
    sim.futures.submit_liquidity("lp1", "M", 1000, 0.001)
    m = sim.futures.internal_market("M")
    unit = 10**m.config.position_decimal_places
    sim.futures.submit_order("a", "M", "buy", 70, 100)
    sim.futures.submit_order("b", "M", "sell", 70, 100)
    sim.forward_time(1)
    assert sim.futures.market_state("M") == "ACTIVE" and m.open_interest() == unit * 70
    sim.forward_time(1)  # a block with OI 70 throughout
    sim.futures.submit_order("d", "M", "sell", 60, 100)
    assert sim.futures.submit_order("c", "M", "buy", 60, 100, time_in_force="IOC").status == "FILLED"
    assert m.open_interest() == unit * 130  # c opens long 60, d short 60
    sim.futures.submit_order("b", "M", "buy", 20, 100)
    assert sim.futures.submit_order("c", "M", "sell", 20, 100, time_in_force="IOC").status == "FILLED"
    assert m.open_interest() == unit * 110  # c long 40; b short 50
    # target stake = mark 100 x max OI 130 x scaling 1 x RF 0.1 = 1300 USD, within the
    # block (the view) and after its end
    assert sim.futures.target_stake("M") == 1300.0
    sim.forward_time(1)
    assert m.open_interest() == unit * 110
    assert sim.futures.target_stake("M") == 1300.0


def test_0041_TSTK_a_trade_counts_once_both_sides_have_moved():
    # a long moving from a to c (c buys 30 of a's 70) leaves the open interest at 70:
    # the target stake must not see c's new long before a's reduction (70 + 30)
    sim = lp_market()
    sim.create_party("c")
    sim.mint("c", "USD", 100_000)
    sim.futures.submit_liquidity("lp1", "M", 1000, 0.001)
    sim.futures.submit_order("a", "M", "buy", 70, 100)
    sim.futures.submit_order("b", "M", "sell", 70, 100)
    sim.forward_time(1)
    sim.forward_time(1)
    sim.futures.submit_order("a", "M", "sell", 30, 100)
    assert sim.futures.submit_order("c", "M", "buy", 30, 100, time_in_force="IOC").status == "FILLED"
    assert sim.futures.positions("M") == {"a": 40.0, "b": -70.0, "c": 30.0}
    sim.forward_time(1)
    assert sim.futures.target_stake("M") == 700.0  # mark 100 x max OI 70 x 1 x RF 0.1
