"""Liquidity provision engine (spec section 8; Vega 0044-LIME, 0042-LIQF, 0041-TSTK):
spec vectors and hand-computed epochs."""

from __future__ import annotations

from fractions import Fraction

import pytest
from pydantic import ValidationError

from defisim.numeric.fixed import ONE, to_fixed
from defisim.protocols.futures.liquidity import (
    EquityLikeShares,
    LiquidityEngine,
    LiquidityParams,
    LiquidityReason,
    bond_slash_fraction,
    early_exit_split,
    fee_penalty,
    hysteresis_fee_penalty,
    linear_probability_of_trading,
    marginal_cost_fee,
    stake_weighted_fee,
)

NS = 1_000_000_000
F = to_fixed


class FakeOrder:
    """A resting order as the engine reads it."""

    def __init__(self, side: int, price: int, remaining: int, resting: bool = True) -> None:
        self.side, self.price, self.remaining, self.resting = side, price, remaining, resting


def make_engine(price_factor=1, position_factor=1, **params) -> LiquidityEngine:
    base = dict(
        stake_to_volume=1.0,
        price_range=0.1,
        minimum_time_fraction=0.5,
        competition_factor=1.0,
        performance_hysteresis_epochs=0,
        slash_slope=2.0,
        max_slash=0.5,
        early_exit_penalty=0.25,
        epoch_s=100.0,
    )
    base.update(params)
    return LiquidityEngine(LiquidityParams(**base), price_factor, position_factor, now_ns=0)


def quotes(bid: int, ask: int, size: int = 1) -> list[FakeOrder]:
    return [FakeOrder(1, bid, size), FakeOrder(-1, ask, size)]


def observe(eng, t_s, orders, best_bid=99, best_ask=101, mark=100, **kw):
    eng.observe(t_s * NS, orders, best_bid=best_bid, best_ask=best_ask, mark_price=mark, **kw)


# ------------------------------------------------------------------ fee factor
BIDS_001 = [(120, F("0.005")), (20, F("0.0075")), (60, F("0.0375"))]


@pytest.mark.parametrize(("target", "fee"), [(119, "0.005"), (123, "0.0075"), (240, "0.0375")])
def test_0042_LIQF_001_marginal_cost(target, fee):
    assert marginal_cost_fee(BIDS_001, target) == F(fee)
    assert marginal_cost_fee(list(reversed(BIDS_001)), target) == F(fee)  # order of bids irrelevant


def test_0042_LIQF_001_through_the_engine_and_initial_fee():
    eng = make_engine(min_commitment=1)
    for party, (c, fee) in zip("abc", BIDS_001, strict=True):
        assert eng.submit(party, c, fee, 0, general_balance=1000).to_bond == c
    assert eng.fee_factor(119) == F("0.005")
    assert eng.fee_factor(123) == F("0.0075")
    assert eng.fee_factor(240) == F("0.0375")
    assert eng.fee_factor(0) == F("0.005")  # before the market opens: the lowest bid
    # core counts ">=": cumulative 140 reaches a target of exactly 140 at LP 2
    assert eng.fee_factor(140) == F("0.0075")


def test_0044_LIME_012_marginal_cost():
    bids = [(100, F("0.01")), (1000, F("0.02")), (200, F("0.03"))]
    assert marginal_cost_fee(bids, 1000) == F("0.02")
    assert marginal_cost_fee([], 1000) == 0


def test_0042_LIQF_057_058_stake_weighted_and_constant():
    assert stake_weighted_fee(BIDS_001) == F("0.015")
    assert stake_weighted_fee([]) == 0
    eng = make_engine(fee_method="stake_weighted")
    for party, (c, fee) in zip("abc", BIDS_001, strict=True):
        eng.submit(party, c, fee, 0, 1000)
    assert eng.fee_factor(240) == F("0.015")
    eng = make_engine(fee_method="constant", constant_fee=0.008)
    for party, (c, fee) in zip("abc", BIDS_001, strict=True):
        eng.submit(party, c, fee, 0, 1000)
    assert eng.fee_factor(240) == F("0.008")


# ------------------------------------------------------------ penalty formulas
def test_0042_LIQF_037_041_042_fee_penalty():
    s, t = F("0.5"), F("0.75")
    assert fee_penalty(t, s, F(1)) == F("0.5")
    assert fee_penalty(t, s, 0) == 0
    assert fee_penalty(t, s, F("0.5")) == F("0.25")
    assert fee_penalty(F("0.49"), s, 0) == ONE  # below the minimum: the whole fee
    assert fee_penalty(ONE, ONE, F(1)) == 0  # s = 1 and always on book
    assert fee_penalty(ONE, s, F(1)) == 0
    with pytest.raises(ValueError):
        fee_penalty(ONE + 1, s, 0)


def test_0044_LIME_014_015_016_bond_slash_fraction():
    s, slope, m = F("0.6"), F("0.7"), F("0.6")
    assert bond_slash_fraction(F("0.3"), s, slope, m) == F("0.35")
    assert bond_slash_fraction(0, s, slope, m) == F("0.6")
    assert bond_slash_fraction(0, s, F("0.2"), m) == F("0.2")
    assert bond_slash_fraction(F("0.6"), s, slope, m) == 0  # 0044-LIME-013
    assert bond_slash_fraction(0, 0, slope, m) == 0  # s = 0: never below


def test_hysteresis_takes_the_larger_of_now_and_the_past_mean():
    # 0042-LIQF-039/040 (core ring of the previous epochs)
    assert hysteresis_fee_penalty(0, [ONE, ONE, ONE, 0]) == F("0.75")
    assert hysteresis_fee_penalty(ONE, [0, 0]) == ONE
    assert hysteresis_fee_penalty(F("0.2"), []) == F("0.2")


def test_0044_LIME_023_024_early_exit_split():
    assert early_exit_split(100, 0, F("0.25"), 500) == (75, 25)
    assert early_exit_split(100, 40, F("0.25"), 500) == (85, 15)
    assert early_exit_split(100, 100, F("0.25"), 500) == (100, 0)  # 0044-LIME-022
    # 1/3 of 10 = 3.33: the penalty rounds up, the LP gets 6
    assert early_exit_split(10, 0, F(1) // 3 + 1, 10) == (6, 4)
    # a penalty above 1 takes more than the reduction, at most the whole bond
    assert early_exit_split(100, 0, F(2), 150) == (0, 150)
    with pytest.raises(ValueError):
        early_exit_split(101, 0, 0, 100)


def test_linear_probability_of_trading():
    lo, hi = Fraction(90), Fraction(110)
    assert linear_probability_of_trading(1, 99, 99, 101, lo, hi) == 1
    assert linear_probability_of_trading(1, 93, 99, 101, lo, hi) == Fraction(1, 3)
    assert linear_probability_of_trading(-1, 107, 99, 101, lo, hi) == Fraction(1, 3)
    assert linear_probability_of_trading(-1, 110, 99, 101, lo, hi) == 0


# -------------------------------------------------------------- time on book
def test_time_on_book_accumulates_between_block_ends():
    eng = make_engine()
    eng.submit("a", 100, 0, 0, 1000)
    observe(eng, 0, {"a": quotes(99, 101)})
    assert eng.time_on_book("a", 0) == ONE  # nothing measured before start
    eng.start(0)
    observe(eng, 0, {"a": quotes(99, 101)})  # meets from 0: 1 x mark 100 >= 100 x 1
    assert eng.meets_obligation("a")
    observe(eng, 10, {"a": quotes(99, 101)[:1]})  # sell side gone: 10 s counted
    assert not eng.meets_obligation("a")
    observe(eng, 20, {"a": quotes(99, 101)}, best_ask=None)  # no mid: not meeting
    assert not eng.meets_obligation("a")
    observe(eng, 30, {"a": quotes(99, 101)})  # meets again from 30
    observe(eng, 40, {"a": [FakeOrder(1, 89, 5), FakeOrder(-1, 101, 1)]})  # 89 < 90: out of range
    assert eng.time_on_book("a", 40 * NS) == ONE // 2  # (10 + 10) / 40
    observe(eng, 50, {"a": quotes(90, 110)})  # range [90, 110] inclusive
    assert eng.time_on_book("a", 60 * NS) == ONE // 2  # (20 + 10 open) / 60
    # notional is at the mark price (core): mark 50 gives 50 < 100
    observe(eng, 60, {"a": quotes(99, 101)}, mark=50)
    assert not eng.meets_obligation("a")
    observe(eng, 70, {"a": quotes(99, 101, size=2)}, mark=50)
    assert eng.meets_obligation("a")
    # a parked (not resting) order does not count
    observe(eng, 80, {"a": [FakeOrder(1, 99, 5, resting=False), FakeOrder(-1, 101, 5)]})
    assert not eng.meets_obligation("a")
    assert eng.time_on_book("a", 80 * NS) == ONE * 40 // 80  # 10 + 10 + 10 + 10


@pytest.mark.parametrize(
    ("spec", "last", "indicative", "bid", "ask", "meets"),
    [
        ("0044-LIME-075", 500, 400, 379, 525, False),
        ("0044-LIME-076", 500, 400, 380, 525, True),
        ("0044-LIME-077", 500, 600, 475, 631, False),
        ("0044-LIME-078 (range edge 6.30)", 500, 600, 475, 630, True),
        ("0044-LIME-079", 500, 0, 474, 525, False),
        ("0044-LIME-080", 500, 0, 475, 526, False),
        ("0044-LIME-073", 500, 0, 475, 525, True),
    ],
)
def test_auction_range(spec, last, indicative, bid, ask, meets):
    # prices in cents (market decimals 2); price range 5 %
    eng = make_engine(price_range=0.05)
    eng.submit("a", 1, 0, 0, 10)
    eng.start(0)
    eng.observe(
        NS,
        {"a": quotes(bid, ask)},
        best_bid=None,
        best_ask=None,
        mark_price=500,
        in_auction=True,
        last_trade_price=last,
        indicative_price=indicative,
    )
    assert eng.meets_obligation("a") is meets, spec


# -------------------------------------------------------------- epoch and fees
def two_lp_epoch(fee_balance=1001, **params):
    """a quotes at the touch all epoch; b quotes deeper and leaves at 75 s of 100."""
    eng = make_engine(**params)
    eng.submit("a", 100, F("0.01"), 0, 1000)
    eng.submit("b", 100, F("0.02"), 0, 1000)
    eng.start(0)
    b_orders = [FakeOrder(1, 93, 1), FakeOrder(-1, 107, 1)]  # probability of trading 1/3
    for t in (0, 25, 50):
        observe(eng, t, {"a": quotes(99, 101), "b": b_orders})
    for t in (75, 100):
        observe(eng, t, {"a": quotes(99, 101), "b": []})
    assert eng.epoch_due(100 * NS) and not eng.epoch_due(99 * NS)
    return eng, eng.end_epoch(100 * NS, fee_balance, {"a": 100, "b": 100}, target_stake=0)


def test_fee_split_penalty_and_bonus_hand_computed():
    eng, res = two_lp_epoch()
    a, b = res.outcomes
    # time on book 1 and 0.75; with s 0.5 and c 1, b's fee penalty is 0.5 (0042-LIQF-037)
    assert (a.time_on_book, b.time_on_book) == (ONE, F("0.75"))
    assert (a.fee_penalty, b.fee_penalty) == (0, F("0.5"))
    # scores: 3 blocks at (3/4, 1/4), 2 blocks at (1, 0): averages 17/20 and 3/20
    assert (a.liquidity_score, b.liquidity_score) == (F("0.85"), F("0.15"))
    assert (a.equity_like_share, b.equity_like_share) == (F("0.5"), F("0.5"))
    # ELS x score normalised = 0.85 / 0.15 of 1001: floor 850 and 150, 1 carried over
    assert (a.fees_accrued, b.fees_accrued, res.fees_carried) == (850, 150, 1)
    # net: 850 and 75; the 75 withheld are shared by (1 - p) x accrued: 850 : 75
    # floor(75 x 850/925) = 68, floor(75 x 75/925) = 6, remainder 1 to a
    assert (a.fees_net, a.fees_bonus, b.fees_net, b.fees_bonus) == (850, 69, 75, 6)
    assert (a.bond_slash, b.bond_slash) == (0, 0)
    fee_out = sum(t.amount for t in res.transfers() if t.source == "fee")
    assert fee_out + res.fees_carried == 1001  # no unit created or lost
    assert res.fees_paid == 1000 and res.fees_to_insurance == 0
    assert [(t.party, t.kind, t.amount) for t in res.transfers()] == [
        ("a", "lp_fee_net", 850),
        ("a", "lp_fee_bonus", 69),
        ("b", "lp_fee_net", 75),
        ("b", "lp_fee_bonus", 6),
    ]
    # the next epoch starts at 100: a was meeting at the last block, b was not
    assert eng.time_on_book("a", 110 * NS) == ONE
    assert eng.time_on_book("b", 110 * NS) == 0


def test_hysteresis_carries_the_previous_penalty():
    eng, _ = two_lp_epoch(performance_hysteresis_epochs=1)
    for t in (100, 150, 200):  # b now performs the whole epoch
        observe(eng, t, {"a": quotes(99, 101), "b": quotes(99, 101)})
    res = eng.end_epoch(200 * NS, 0, {"a": 100, "b": 100}, 0)
    b = res.outcomes[1]
    assert b.time_on_book == ONE
    assert b.fee_penalty == F("0.5")  # max(0, mean of [0.5]) (0042-LIQF-039)


def test_0042_LIQF_045_full_penalty_fees_go_to_the_performer():
    eng = make_engine(minimum_time_fraction=0.5, competition_factor=0.0)
    eng.submit("a", 100, 0, 0, 1000)
    eng.submit("b", 100, 0, 0, 1000)
    eng.start(0)
    observe(eng, 0, {"a": quotes(99, 101), "b": quotes(99, 101)})
    observe(eng, 10, {"a": quotes(99, 101), "b": []})
    observe(eng, 100, {"a": quotes(99, 101), "b": []})
    res = eng.end_epoch(100 * NS, 1000, {"a": 100, "b": 100}, 0)
    a, b = res.outcomes
    assert (a.fee_penalty, b.fee_penalty) == (0, ONE)
    # b's accrued fees all go to a as a bonus
    assert a.fees_net + a.fees_bonus + res.fees_carried == 1000
    assert b.fees_net + b.fees_bonus == 0
    # t 0.1 < s 0.5: b's bond is slashed min(0.5, 2 (1 - 0.1/0.5)) = 0.5 of 100
    assert b.bond_slash == 50
    assert eng.provision("b").commitment == 50  # commitment follows the bond (core sync)


def test_0042_LIQF_046_single_lp_gets_its_penalty_back():
    eng = make_engine(competition_factor=1.0)
    eng.submit("a", 100, 0, 0, 1000)
    eng.start(0)
    observe(eng, 0, {"a": quotes(99, 101)})
    observe(eng, 75, {"a": []})
    res = eng.end_epoch(100 * NS, 400, {"a": 100}, 0)
    (a,) = res.outcomes
    assert a.fee_penalty == F("0.5")
    assert (a.fees_net, a.fees_bonus) == (200, 200)


def test_0044_LIME_014_bond_slash_and_all_fees_to_insurance():
    eng = make_engine(minimum_time_fraction=0.6, slash_slope=0.7, max_slash=0.6)
    eng.submit("a", 1000, 0, 0, 1000)
    eng.start(0)
    observe(eng, 0, {"a": quotes(99, 101, size=10)})
    observe(eng, 30, {"a": []})
    observe(eng, 100, {"a": []})
    res = eng.end_epoch(100 * NS, 500, {"a": 1000}, 0)
    (a,) = res.outcomes
    assert (a.time_on_book, a.fee_penalty, a.bond_slash_fraction) == (F("0.3"), ONE, F("0.35"))
    assert a.bond_slash == 350
    assert res.fees_to_insurance == 500 and res.fees_paid == 0
    assert [(t.source, t.destination, t.amount) for t in res.transfers()] == [
        ("bond", "insurance", 350),
        ("fee", "insurance", 500),
    ]
    assert eng.provision("a").commitment == 650  # the slashed level is kept (0044-LIME-020)


# ---------------------------------------------------------- commitment changes
def test_0044_LIME_050_051_053_opening_auction_changes_are_immediate():
    eng = make_engine()
    assert eng.submit("a", 100, F("0.01"), 0, general_balance=1000).to_bond == 100
    assert eng.provision("a").active
    act = eng.amend("a", 0, general_balance=900, bond_balance=100, commitment=150)
    assert (act.to_bond, act.to_general) == (50, 0)
    act = eng.amend("a", 0, general_balance=850, bond_balance=150, commitment=80)
    assert (act.to_bond, act.to_general) == (0, 70)  # no penalty in the opening auction
    assert eng.provision("a").commitment == 80
    act = eng.cancel("a", 0, bond_balance=80)
    assert act.to_general == 80 and eng.provision("a") is None


def test_new_commitment_and_increase_wait_for_the_epoch():
    eng = make_engine(minimum_time_fraction=0.0, competition_factor=0.0)  # no SLA penalties
    eng.submit("a", 100, F("0.01"), 0, 1000)
    eng.start(0)
    act = eng.submit("b", 200, F("0.001"), 10 * NS, general_balance=200)
    assert act.accepted and act.to_bond == 200
    assert not eng.provision("b").active
    assert eng.supplied_stake() == 300  # pending increases count (core)
    assert eng.fee_factor(0) == F("0.01")  # only active commitments bid
    act = eng.amend("a", 10 * NS, general_balance=900, bond_balance=100, commitment=150)
    assert (act.to_bond, act.to_general) == (50, 0)  # bond moves now
    assert eng.provision("a").commitment == 100  # obligation stays until the epoch ends
    assert eng.supplied_stake() == 350
    # lowering a pending increase releases its bond at once
    act = eng.amend("a", 10 * NS, general_balance=850, bond_balance=150, commitment=120)
    assert (act.to_bond, act.to_general) == (0, 30)
    # a fee-only amendment of an active commitment applies at once
    eng2 = make_engine()
    eng2.submit("a", 100, F("0.01"), 0, 1000)
    eng2.start(0)
    assert eng2.amend("a", NS, 0, 100, fee=F("0.03")).accepted
    assert eng2.provision("a").fee == F("0.03")
    res = eng.end_epoch(100 * NS, 0, {"a": 120, "b": 200}, target_stake=0)
    assert res.transfers() == []
    assert eng.provision("a").commitment == 120
    assert eng.provision("b").active and eng.provision("b").commitment == 200
    assert eng.fee_factor(0) == F("0.001")
    assert eng.active_parties() == ["a", "b"]


def test_amend_rejections_leave_the_provision_untouched():
    eng = make_engine(min_commitment=10, maximum_fee=0.5)
    eng.submit("a", 100, F("0.01"), 0, 1000)
    eng.start(0)
    r = eng.amend("a", 0, general_balance=10, bond_balance=100, commitment=200)
    assert r.reason == LiquidityReason.INSUFFICIENT_FUNDS
    assert eng.provision("a").pending_commitment is None
    assert eng.amend("a", 0, 10, 100).reason == LiquidityReason.NOTHING_TO_AMEND
    assert eng.amend("a", 0, 10, 100, commitment=0).reason == LiquidityReason.INVALID_COMMITMENT
    assert eng.amend("a", 0, 10, 100, commitment=5).reason == LiquidityReason.COMMITMENT_TOO_LOW
    assert eng.amend("a", 0, 10, 100, fee=F("0.6")).reason == LiquidityReason.INVALID_FEE
    assert eng.amend("x", 0, 10, 100, fee=0).reason == LiquidityReason.NOT_LIQUIDITY_PROVIDER
    assert eng.cancel("x", 0, 0).reason == LiquidityReason.NOT_LIQUIDITY_PROVIDER
    assert eng.submit("a", 100, 0, 0, 1000).reason == LiquidityReason.ALREADY_LIQUIDITY_PROVIDER
    assert eng.submit("b", 100, 0, 0, 99).reason == LiquidityReason.INSUFFICIENT_FUNDS
    assert eng.submit("b", 100, -1, 0, 999).reason == LiquidityReason.INVALID_FEE
    assert eng.submit("b", 1.5, 0, 0, 999).reason == LiquidityReason.INVALID_COMMITMENT
    assert eng.provision("a").commitment == 100 and eng.provision("b") is None


def reducing_lp(target_stake: int, reduce_by: int = 100):
    eng = make_engine(minimum_time_fraction=0.0, competition_factor=0.0, early_exit_penalty=0.25)
    eng.submit("a", 500, 0, 0, 500)
    eng.start(0)
    act = eng.amend("a", 10 * NS, general_balance=0, bond_balance=500, commitment=500 - reduce_by)
    assert (act.to_bond, act.to_general) == (0, 0)  # settled at the epoch boundary
    assert eng.provision("a").commitment == 500
    res = eng.end_epoch(100 * NS, 0, {"a": 500}, target_stake)
    return eng, res


def test_0044_LIME_023_early_exit_below_target():
    eng, res = reducing_lp(target_stake=1000)
    assert res.early_exit_penalties == {"a": 25}
    assert res.bond_releases == {"a": 75}
    assert [(t.source, t.destination, t.amount, t.kind) for t in res.transfers()] == [
        ("bond", "insurance", 25, "lp_early_exit_penalty"),
        ("bond", "general", 75, "lp_bond_release"),
    ]
    assert eng.provision("a").commitment == 400


def test_0044_LIME_022_024_early_exit_partly_above_target():
    _, res = reducing_lp(target_stake=460)  # total = target + 40
    assert (res.bond_releases["a"], res.early_exit_penalties["a"]) == (85, 15)
    _, res = reducing_lp(target_stake=100)  # stays above target: no penalty
    assert (res.bond_releases["a"], res.early_exit_penalties["a"]) == (100, 0)


def test_simultaneous_reductions_share_the_free_amount_pro_rata():
    # core applyPendingProvisions; 0044-LIME-025 reads them sequentially instead
    eng = make_engine(minimum_time_fraction=0.0, competition_factor=0.0, early_exit_penalty=0.25)
    eng.submit("a", 500, 0, 0, 500)
    eng.submit("b", 500, 0, 0, 500)
    eng.start(0)
    eng.amend("a", NS, 0, 500, commitment=400)
    eng.amend("b", NS, 0, 500, commitment=400)
    res = eng.end_epoch(100 * NS, 0, {"a": 500, "b": 500}, target_stake=860)  # +140
    # each: 70 free, 30 at 25 %: ceil(7.5) = 8 penalty, 22 back
    assert res.bond_releases == {"a": 92, "b": 92}
    assert res.early_exit_penalties == {"a": 8, "b": 8}


def test_cancel_pays_the_early_exit_at_the_epoch_end():
    eng = make_engine(minimum_time_fraction=0.0, competition_factor=0.0, early_exit_penalty=0.25)
    eng.submit("a", 100, 0, 0, 100)
    eng.start(0)
    eng.submit("b", 50, 0, NS, 50)
    assert eng.cancel("b", 2 * NS, bond_balance=50).to_general == 50  # not active yet: at once
    act = eng.cancel("a", 2 * NS, bond_balance=100)
    assert act.to_general == 0 and eng.provision("a").pending_commitment == 0
    res = eng.end_epoch(100 * NS, 0, {"a": 100}, target_stake=1000)
    assert (res.bond_releases, res.early_exit_penalties) == ({"a": 75}, {"a": 25})
    assert res.removed == ("a",) and eng.parties() == []


def test_end_epoch_needs_every_bond():
    eng = make_engine()
    eng.submit("a", 100, 0, 0, 100)
    with pytest.raises(ValueError, match="missing"):
        eng.end_epoch(100 * NS, 0, {}, 0)


def test_close_distributes_and_releases_everything():
    eng = make_engine(competition_factor=0.0)
    eng.submit("a", 100, 0, 0, 100)
    eng.submit("b", 300, 0, 0, 300)
    eng.start(0)
    observe(eng, 0, {"a": quotes(99, 101), "b": quotes(99, 101, size=3)})
    res = eng.close(50 * NS, 1001, {"a": 100, "b": 300})
    a, b = res.outcomes
    # equal scores; ELS 1/4 and 3/4: 250 and 750, remainder 1 to insurance
    assert (a.fees_net, b.fees_net) == (250, 750)
    assert res.fees_to_insurance == 1 and res.fees_carried == 0
    assert res.bond_releases == {"a": 100, "b": 300}
    assert eng.parties() == []
    assert eng.submit("c", 10, 0, 0, 10).reason == LiquidityReason.MARKET_CLOSED


# --------------------------------------------------------- equity-like share
def test_equity_like_shares_grow_with_the_market():
    els = EquityLikeShares()
    els.set_stake("a", 100)
    els.grow(1000 * ONE)  # first window: no previous value, no growth
    els.grow(2000 * ONE)  # r = 1: a's virtual stake doubles
    assert els.virtual["a"] == 200 * ONE
    els.set_stake("b", 100)  # joins at its physical stake
    assert els.shares() == {"a": Fraction(2, 3), "b": Fraction(1, 3)}
    els.set_stake("a", 50)  # a decrease scales the virtual stake: 200 x 50/100
    assert els.shares() == {"a": Fraction(1, 2), "b": Fraction(1, 2)}
    els.grow(1000 * ONE)  # r = -1/2: never below the physical stake
    assert (els.virtual["a"], els.virtual["b"]) == (50 * ONE, 100 * ONE)


def test_engine_market_value_windows():
    eng = make_engine(market_value_window_s=60.0, epoch_s=200.0)
    eng.submit("a", 100, 0, 0, 100)
    eng.record_trade(10, 100)  # opening uncrossing: 1000, seeds A(0)
    eng.start(0)
    eng.record_trade(-5, 200)  # window 1: 1000 more; A(0) = 2000
    observe(eng, 61, {"a": quotes(99, 101)})
    eng.record_trade(60, 100)  # window 2: 6000; A(1) = (2000 + 6000)/2 = 4000, r = 1
    observe(eng, 122, {"a": quotes(99, 101)})
    assert eng.submit("b", 100, 0, 130 * NS, 100).accepted
    observe(eng, 180, {"a": quotes(99, 101)})  # 58 s into window 3: no roll
    eng.end_epoch(200 * NS, 0, {"a": 100, "b": 100}, 0)  # b becomes active at 100
    assert eng.equity_like_shares() == {"a": ONE * 2 // 3, "b": ONE // 3}
    # window 3 (122 s to 250 s) has no trades: A(2) = 2 x 4000 / 3, r = -1/3,
    # a's virtual stake 200 -> 133.33 (never below 100): shares 4/7 and 3/7
    observe(eng, 250, {"a": quotes(99, 101), "b": quotes(99, 101)})
    shares = eng.equity_like_shares()
    assert abs(shares["a"] - ONE * 4 // 7) < 10 and abs(shares["b"] - ONE * 3 // 7) < 10


# ---------------------------------------------------------------- target stake
def test_0041_TSTK_max_open_interest_over_a_sliding_window():
    eng = make_engine(target_stake_window_s=3600.0)
    # spec example 1, times in seconds from 3:51
    for t, oi in [(0, 140), (360, 120), (2460, 90), (2460, 60), (2520, 70), (3660, 110)]:
        eng.record_open_interest(t * NS, oi)
    assert eng.max_open_interest(3720 * NS) == 120  # window [3:53, 4:53]
    assert eng.max_open_interest(3961 * NS) == 110  # 120 (at 3:57) has left the window
    assert eng.max_open_interest(100_000 * NS) == 110  # the latest record always counts
    eng2 = make_engine(target_stake_window_s=3600.0)
    for t, oi in [(2460, 90), (2460, 60), (2520, 70), (3660, 110)]:  # example 2
        eng2.record_open_interest(t * NS, oi)
    assert eng2.max_open_interest(3720 * NS) == 110


def test_0041_TSTK_target_stake_formula():
    # example 3: scaling 10, rf 0.004, max OI 120 (mark 1) -> 4.8; floored in base units
    eng = make_engine(target_stake_scaling=10.0)
    eng.record_open_interest(0, 120)
    assert eng.target_stake(0, 1, F("0.003"), F("0.004")) == 4
    # one tick worth 10 base units: 48; position decimals 1: OI 120 is 12 contracts
    eng = make_engine(price_factor=10, position_factor=10, target_stake_scaling=10.0)
    eng.record_open_interest(0, 120)
    assert eng.target_stake(0, 1, F("0.004"), F("0.001")) == 4  # 1 x 10 x 12 x 10 x 0.004
    assert eng.target_stake(0, 100, F("0.004"), F("0.001")) == 480


def test_params_are_validated():
    with pytest.raises(ValidationError):
        LiquidityParams(minimum_time_fraction=1.5)
    with pytest.raises(ValidationError):
        LiquidityParams(unknown=1)
    with pytest.raises(ValidationError):
        LiquidityParams(fee_method="auction")
