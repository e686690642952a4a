"""Perpetual funding (Vega 0053-PERP): TWAPs, funding payments, settlement amounts, margin term.

Named tests reproduce the numbers of Vega core's ``core/products/perpetual_test.go``,
``perpetual_auctions_test.go`` and the 0053-PERP-040 acceptance feature; the others
are computed by hand in the comments.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from defisim.numeric.fixed import ONE
from defisim.protocols.futures.perpetual import (
    YEAR_NS,
    FundingCalculator,
    FundingPeriodResult,
    PerpetualParams,
)

S = 10**9  # ns per second
HOUR = 3600 * S

# core's getTestDataPoints: a month apart (year = 365 days), starting at 1 h
MONTH = YEAR_NS // 12
ST = HOUR
CORE_POINTS = [(ST, 110), (ST + MONTH, 120), (ST + 2 * MONTH, 120), (ST + 3 * MONTH, 100)]


def calc(start: int = 0, **kw) -> FundingCalculator:
    return FundingCalculator(PerpetualParams(**kw), start)


def submit(c: FundingCalculator, points, diff: int, scale: int = 1) -> None:
    """Core's submitDataWithDifference: external = price, internal = price + diff."""
    for t, p in points:
        assert c.add_external(t, p * scale)
        assert c.add_internal(t, p * scale + diff)


def between(p: int, q: int) -> int:
    return (p + q) // 2


# ------------------------------------------------------------------ core unit tests


def test_core_equal_internal_and_external_prices():
    c = calc(ST)
    submit(c, CORE_POINTS, 0)
    r = c.end_period(CORE_POINTS[-1][0])
    assert (r.funding_payment, r.funding_rate, r.skipped) == (0, 0, False)


def test_core_constant_difference_long_pays_short():
    # external TWAP floor((110 + 120 + 120) / 3) = 116, internal 106, payment -10,
    # rate -10/116 = -0.0862068965517241... (core prints 16 decimals)
    c = calc(ST)
    submit(c, CORE_POINTS, -10)
    end = CORE_POINTS[-1][0]
    est = c.estimate(end)
    r = c.end_period(end)
    assert est == r
    assert (r.external_twap, r.internal_twap, r.funding_payment) == (116, 106, -10)
    assert r.funding_rate == -86206896551724137
    assert f"{r.funding_rate / ONE:.16f}" == "-0.0862068965517241"
    assert (r.seq, r.start_ns, r.end_ns) == (0, ST, end)
    # internal below external: shorts pay longs
    assert FundingCalculator.payment(r, 1, 1, 1) == -10
    assert FundingCalculator.payment(r, -1, 1, 1) == 10


def test_core_data_points_not_on_boundary():
    # the period starts 1 s after the first points and ends 1 h after the last
    c = calc(ST + S)
    submit(c, CORE_POINTS, 10)
    r = c.end_period(CORE_POINTS[-1][0] + HOUR)
    assert r.funding_payment == 10


def test_core_data_points_outside_period_are_ignored():
    c = calc(ST)
    assert c.add_internal(ST - HOUR, 1) and c.add_external(ST - HOUR, 1)  # superseded at ST
    submit(c, CORE_POINTS, 0)
    last = CORE_POINTS[-1][0]
    assert c.add_internal(last + HOUR, 1) and c.add_external(last + HOUR, 5)  # after the end
    r = c.end_period(last)
    assert (r.funding_payment, r.internal_twap, r.external_twap) == (0, 116, 116)


def test_core_out_of_order_points_before_period_start():
    start = 1693398617 * S
    c = calc(start)
    for sec in (14, 15, 16, 18, 17):
        t = 1693398600 * S + sec * S
        c.add_external(t, 100_000_000)
        c.add_internal(t, 200_000_000)
    assert c.end_period(start + HOUR).funding_payment == 100_000_000


def test_core_funding_payment_on_start_boundary():
    # a zero-length window gives the latest prices; the estimate pays, end_period skips
    c = calc(ST)
    c.add_external(ST, 110)
    c.add_internal(ST, 210)
    est = c.estimate(ST)
    assert (est.internal_twap, est.external_twap, est.funding_payment) == (210, 110, 100)
    r = c.end_period(ST)
    assert (r.skipped, r.reason, r.funding_payment) == (True, "zero-length period", 0)


def test_core_prepend_point():
    c = calc(1000 * S)
    assert c.add_internal(5000 * S, 10) and c.add_external(5000 * S, 9)
    assert c.estimate(5000 * S).funding_payment == 1
    # first internal point after the period start: the window starts there
    assert c.add_internal(2000 * S, 10)
    assert c.estimate(5000 * S).funding_payment == 1
    # (50 * 500 + 10 * 3000) / 3500 = 15.71 -> 15; 15 - 9 = 6
    assert c.add_internal(1500 * S, 50)
    assert c.estimate(5000 * S).funding_payment == 6
    # a point before the start applies from the start: (50*1000 + 10*3000) / 4000 = 20
    assert c.add_internal(500 * S, 50)
    assert c.estimate(5000 * S).funding_payment == 11
    assert not c.add_internal(250 * S, 1)  # older than the point in force at the start
    assert not c.add_internal(500 * S, 1)  # a point already exists at that time
    assert c.estimate(5000 * S).funding_payment == 11
    assert c.add_internal(750 * S, 50)
    assert c.add_internal(1000 * S, 50)
    assert c.estimate(5000 * S).funding_payment == 11
    assert not c.add_internal(750 * S, 100_000)


def test_core_funding_payments_with_interest_rate():
    # s = 11666666666666, f = 10666666666666, dt = 0.25 y, r = 0.01:
    # (1.0025 s - f) = 1029166666666.66 inside [-s, s]; -1e12 + 1029166666666 = 29166666666
    c = calc(ST, interest_rate=0.01, clamp_lower_bound=-1, clamp_upper_bound=1)
    submit(c, CORE_POINTS, -1_000_000_000_000, scale=100_000_000_000)
    r = c.end_period(CORE_POINTS[-1][0])
    assert (r.external_twap, r.internal_twap) == (11666666666666, 10666666666666)
    assert r.funding_payment == 29166666666


def test_core_funding_payments_with_interest_rate_clamped():
    # r = 0.5: 1.125 s - f = 1458333333343.25 > 0.002 s = 23333333333.33 -> clamped;
    # -10 + 23333333333 = 23333333323
    c = calc(ST, interest_rate=0.5, clamp_lower_bound=0.001, clamp_upper_bound=0.002)
    submit(c, CORE_POINTS, -10, scale=100_000_000_000)
    assert c.end_period(CORE_POINTS[3][0]).funding_payment == 23333333323


@pytest.mark.parametrize(
    ("diff", "scaling", "lower", "upper", "payment", "rate"),
    [
        (220, 0.5, None, None, 110, ONE),
        (1100, 1.5, None, None, 1650, 15 * ONE),
        (100, None, None, 0.5, 55, ONE // 2),  # 100/110 > 0.5: snapped to 0.5 * 110
        (5, None, 0.5, None, 55, ONE // 2),  # 5/110 < 0.5: snapped up
        (1100, 1.5, None, 0.5, 55, ONE // 2),  # scaled first, then bounded
    ],
)
def test_core_funding_payment_modifiers(diff, scaling, lower, upper, payment, rate):
    c = calc(
        ST,
        funding_rate_scaling_factor=scaling,
        funding_rate_lower_bound=lower,
        funding_rate_upper_bound=upper,
    )
    submit(c, CORE_POINTS[:1], diff)
    est = c.estimate(ST)
    assert (est.funding_payment, est.funding_rate) == (payment, rate)


@pytest.mark.parametrize(("bound", "paid"), [(6.0, 18_000_000), (5.0, 15_000_000)])
def test_0053_PERP_040_scaling_applies_before_rate_bounds(bound, paid):
    # internal TWAP 1200, external 3000, r = 0 so the clamp [0.1, 0.9] is not applied
    # (core); payment (1200 - 3000) * 10 = -18000, rate -6: bounds of 6 leave it,
    # bounds of 5 cut it to -5 * 3000 = -15000. The feature's long of one lot of
    # 1000 contracts (PDP -3) receives 18,000,000 or 15,000,000.
    c = calc(
        0,
        interest_rate=0.0,
        clamp_lower_bound=0.1,
        clamp_upper_bound=0.9,
        margin_funding_factor=1.0,
        funding_rate_scaling_factor=10.0,
        funding_rate_lower_bound=-bound,
        funding_rate_upper_bound=bound,
    )
    c.add_internal(0, 1200)
    c.add_external(0, 3000)
    r = c.end_period(8 * S)
    assert r.funding_payment == -paid // 1000
    assert r.funding_rate == -int(bound) * ONE
    assert FundingCalculator.payment(r, 1000, 1, 1) == -paid  # the long receives
    assert FundingCalculator.payment(r, -1000, 1, 1) == paid


def test_core_margin_increase():
    # margin funding factor 0.5, payment +10 -> 5 per contract for longs (0053-PERP-015)
    c = calc(ST, margin_funding_factor=0.5)
    assert c.margin_funding_term(1, 1, 1, ST) == 0  # no data yet
    submit(c, CORE_POINTS, 10)
    end = CORE_POINTS[-1][0]
    assert c.margin_funding_term(1, 1, 1, end) == 5
    assert c.margin_funding_term(-1, 1, 1, end) == 0


def test_core_margin_increase_negative_payment():
    # payment -10: shorts carry the extra margin, longs none (0053-PERP-016)
    c = calc(ST, margin_funding_factor=0.5)
    submit(c, CORE_POINTS, -10)
    end = CORE_POINTS[-1][0]
    assert c.margin_funding_term(-1, 1, 1, end) == 5
    assert c.margin_funding_term(1, 1, 1, end) == 0


# ------------------------------------------------------------------ auctions (core)


def test_core_funding_period_is_all_an_auction():
    c = calc(ST)
    c.enter_auction(ST)
    submit(c, CORE_POINTS, 10)
    c.leave_auction(CORE_POINTS[-1][0])
    r = c.end_period(CORE_POINTS[-1][0])
    assert (r.skipped, r.reason, r.funding_payment) == (True, "in auction", 0)
    assert c.margin_funding_term(1, 1, 1, CORE_POINTS[-1][0]) == 0


def test_core_data_point_in_auction_is_ignored():
    (p0, a), (p1, b), (p2, c2), (p3, _) = CORE_POINTS
    c = calc(p0)
    submit(c, [(p0, a)], 100)
    c.enter_auction(p0 + S)
    submit(c, [(p1, b)], 9_999_999)  # in force only while in auction
    submit(c, [(p2, c2)], 100)
    c.leave_auction(p2 + S)
    assert c.end_period(p3).funding_payment == 100


def test_core_data_points_in_auction_out_of_order():
    (p0, a), (p1, _), (p2, c2), (p3, _) = CORE_POINTS
    a1, a2 = between(p0, p1), between(p2, p3)
    c = calc(p0)
    submit(c, [(p0, a)], 100)
    c.enter_auction(a1)
    c.leave_auction(a2)
    assert c.estimate(p3).funding_payment == 100
    # p2 arrives late, inside the auction: it applies from the auction's end, so half
    # the live time pays 100 and half 200
    submit(c, [(p2, c2)], 200)
    assert c.estimate(p3).funding_payment == 150
    # a point inside the auction and superseded before it ends changes nothing
    submit(c, [(between(a1, p1), 1000)], 9_999_999)
    assert c.estimate(p3).funding_payment == 150


def test_core_auction_preserved_when_period_resets():
    (p0, a), (p1, b), (p2, c2), (p3, _) = CORE_POINTS
    c = calc(p0)
    submit(c, [(p0, a)], 100)
    c.enter_auction(p0 + S)
    assert c.end_period(p0 + 2 * S).funding_payment == 100
    assert c.in_auction  # the next period starts in the auction
    submit(c, [(p1, b)], 999_999)
    r = c.end_period(p2)
    assert (r.skipped, r.funding_payment) == (True, 0)
    submit(c, [(p2, c2)], 100)
    c.leave_auction(between(p2, p3))
    assert c.end_period(p3).funding_payment == 100
    assert c.end_period(p3 + HOUR).funding_payment == 100  # carried over, out of auction
    assert c.seq == 4


def test_0053_PERP_009_funding_settles_in_a_price_monitoring_auction():
    # internal 100 from 0, 130 from 30 s; auctions [20 s, 40 s) and [50 s, ...) still open
    c = calc(0)
    c.add_external(0, 100)
    c.add_internal(0, 100)
    c.enter_auction(20 * S)
    c.add_internal(30 * S, 130)
    c.leave_auction(40 * S)
    c.enter_auction(50 * S)  # a new auction, still open at the period end
    r = c.end_period(60 * S)
    # live: [0,20) 100, [40,50) 130 -> (2000 + 1300) / 30 = 110
    assert (r.internal_twap, r.external_twap, r.funding_payment, r.skipped) == (110, 100, 10, False)
    assert c.in_auction


# ------------------------------------------------------------------ hand-computed


def test_twap_uneven_spacing_by_hand():
    c = calc(0)
    c.add_internal(-20 * S, 95)  # in force at the period start
    c.add_internal(10 * S, 130)
    c.add_internal(40 * S, 90)
    c.add_internal(90 * S, 500)  # after the period end: ignored
    c.add_external(5 * S, 100)  # first external sample after the start: window [5 s, 70 s]
    c.add_external(25 * S, 104)
    r = c.end_period(70 * S)
    # internal (95*10 + 130*30 + 90*30) / 70 = 7550 / 70 = 107.86 -> 107
    # external (100*20 + 104*45) / 65 = 6680 / 65 = 102.77 -> 102
    assert (r.internal_twap, r.external_twap) == (107, 102)
    assert r.funding_payment == 5
    assert r.funding_rate == 5 * ONE // 102 == 49019607843137254
    # the next period starts at 70 s with 90 and 104 carried over, then 500 from 90 s:
    # internal (90*20 + 500*10) / 30 = 226.67 -> 226
    r2 = c.end_period(100 * S)
    assert (r2.seq, r2.start_ns, r2.internal_twap, r2.external_twap) == (1, 70 * S, 226, 104)
    assert r2.funding_payment == 122


def test_period_without_data_is_skipped_and_the_period_moves_on():
    c = calc(0, funding_period_s=60)
    assert not c.period_due(60 * S - 1)
    assert c.period_due(60 * S) and c.next_due_ns == 60 * S
    r = c.end_period(60 * S)
    assert (r.skipped, r.reason, r.funding_payment) == (True, "no internal data", 0)
    c.add_internal(70 * S, 100)
    r = c.end_period(120 * S)
    assert (r.skipped, r.reason, r.internal_twap) == (True, "no external data", 100)
    assert (c.seq, c.start_ns, c.next_due_ns) == (2, 120 * S, 180 * S)
    c.add_external(130 * S, 90)
    # the internal sample from 70 s carried over and applies from 120 s
    assert c.end_period(180 * S).funding_payment == 10


# clamp: s = 10^8, f = s - 1000, 8 h period (dt = 1/1095 y), clamp +-0.0005 s = +-50000
@pytest.mark.parametrize(
    ("r", "payment"),
    [
        (0.1, 9132),  # 10^7/1095 + 1000 = 10132.42: inside; -1000 + 10132
        (-1.0, -51000),  # -91324.2 + 1000 below -50000: -1000 - 50000
        (1.0, 49000),  # 92324.2 above 50000: -1000 + 50000
        (0.0, -1000),  # r = 0: no interest term and no clamp (core)
    ],
)
def test_interest_term_inside_below_above_clamp(r, payment):
    c = calc(0, interest_rate=r, clamp_lower_bound=-0.0005, clamp_upper_bound=0.0005)
    c.add_external(0, 100_000_000)
    c.add_internal(0, 100_000_000 - 1000)
    assert c.end_period(8 * HOUR).funding_payment == payment


@pytest.mark.parametrize(
    ("diff", "payment", "rate"),
    [(3, 7, 75 * 10**14), (-3, -7, -75 * 10**14)],  # 3 * 2.5 = 7.5 -> 7 toward zero
)
def test_scaling_truncates_toward_zero(diff, payment, rate):
    c = calc(0, funding_rate_scaling_factor=2.5)
    c.add_external(0, 1000)
    c.add_internal(0, 1000 + diff)
    r = c.end_period(HOUR)
    assert (r.funding_payment, r.funding_rate) == (payment, rate)


def test_rate_bounds_below_and_above():
    # s = 2000, f = 2100: rate 0.05; upper 0.01 -> payment 20; lower 0.06 -> 120
    for kw, payment in (
        ({"funding_rate_upper_bound": 0.01}, 20),
        ({"funding_rate_lower_bound": 0.06}, 120),
        ({"funding_rate_lower_bound": -0.1, "funding_rate_upper_bound": 0.1}, 100),
    ):
        c = calc(0, **kw)
        c.add_external(0, 2000)
        c.add_internal(0, 2100)
        assert c.end_period(HOUR).funding_payment == payment


def test_payment_sign_and_rounding():
    # 7 raw price units per contract, price factor 10, PDP 2: 0.15 contracts owe 10.5
    res = FundingPeriodResult(0, 0, HOUR, 107, 100, 7, 7 * ONE // 100, False)
    assert FundingCalculator.payment(res, 15, 10, 100) == 11  # long owes, rounded up
    assert FundingCalculator.payment(res, -15, 10, 100) == -10  # short receives, rounded down
    neg = FundingPeriodResult(0, 0, HOUR, 93, 100, -7, -7 * ONE // 100, False)
    assert FundingCalculator.payment(neg, 15, 10, 100) == -10
    assert FundingCalculator.payment(neg, -15, 10, 100) == 11
    assert FundingCalculator.payment(neg, 0, 10, 100) == 0


def test_margin_funding_term_units_and_rounding():
    # factor 0.35, payment 7 per contract, 0.3 contracts (PDP 1), price factor 100:
    # 0.35 * 3 * 7 * 100 / 10 = 73.5 -> 74
    c = calc(0, margin_funding_factor=0.35)
    c.add_external(0, 100)
    c.add_internal(0, 107)
    assert c.margin_funding_term(3, 100, 10, 10 * S) == 74
    assert c.margin_funding_term(-3, 100, 10, 10 * S) == 0
    assert calc(0).margin_funding_term(3, 100, 10, 0) == 0  # factor 0


def test_rejections_and_errors():
    c = calc(100 * S)
    assert c.add_internal(100 * S, 5)
    assert not c.add_internal(100 * S, 6)  # same time
    with pytest.raises(ValueError):
        c.add_internal(200 * S, 0)
    with pytest.raises(ValueError):
        c.add_external(200 * S, 1.5)
    with pytest.raises(ValueError):
        c.end_period(99 * S)
    c.enter_auction(150 * S)
    with pytest.raises(ValueError):
        c.leave_auction(149 * S)
    c.leave_auction(160 * S)
    with pytest.raises(ValueError):
        c.enter_auction(155 * S)


@pytest.mark.parametrize(
    "kw",
    [
        {"clamp_lower_bound": 0.2, "clamp_upper_bound": 0.1},
        {"clamp_upper_bound": 1.5},
        {"interest_rate": -2},
        {"margin_funding_factor": 1.1},
        {"funding_rate_scaling_factor": 0},
        {"funding_rate_lower_bound": 1, "funding_rate_upper_bound": 0.5},
        {"funding_period_s": 0},
        {"funding_period_s": 1e-12},
        {"expiry": 1},
    ],
)
def test_params_validation(kw):
    with pytest.raises(ValidationError):
        PerpetualParams(**kw)


# ------------------------------------------------------------------ properties


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(10**6), 10**6), min_size=1, max_size=12),
    st.integers(-(10**6), 10**6),
    st.sampled_from([1, 10, 1000, 10**6]),
    st.sampled_from([1, 10, 100, 10**4]),
)
def test_payments_sum_to_zero_before_rounding(positions, per_contract, pf, d):
    positions = [*positions, -sum(positions)]  # the market's positions net to zero
    res = FundingPeriodResult(0, 0, HOUR, 1, 1, per_contract, 0, False)
    assert sum(p * per_contract * pf for p in positions) == 0
    owed = [FundingCalculator.payment(res, p, pf, d) for p in positions]
    for p, o in zip(positions, owed, strict=True):
        exact = p * per_contract * pf
        assert 0 <= o * d - exact < d  # within one base unit, always in the market's favour
    assert 0 <= sum(owed) < len(positions)  # collected covers distributed


samples = st.lists(
    st.tuples(st.integers(-50, 500), st.integers(1, 10**6)),
    min_size=1,
    max_size=30,
    unique_by=lambda x: x[0],
)


@settings(max_examples=200, deadline=None)
@given(
    samples,
    st.integers(-(10**5), 10**5),
    st.integers(0, 600),
    st.lists(st.tuples(st.integers(0, 150), st.integers(0, 100)), max_size=4),
)
def test_constant_difference_pays_it_exactly(points, diff, end, auctions):
    # internal = external + diff at the same times: payment = diff whatever the spacing,
    # the auctions or the floors (floor(x + k) = floor(x) + k), unless skipped
    c = calc(0)
    at = 0
    for gap, length in auctions:  # back-to-back auctions after gaps
        c.enter_auction((at + gap) * S)
        at += gap + length
        c.leave_auction(at * S)
    for t, p in points:
        c.add_external(t * S, p + 10**5)
        c.add_internal(t * S, p + 10**5 + diff)
    r = c.estimate(end * S)
    if r.skipped:
        assert r.funding_payment == 0
        return
    assert r.funding_payment == diff
    assert r.internal_twap - r.external_twap == diff
    live = [p + 10**5 for t, p in points if t <= end]
    assert min(live) <= r.external_twap <= max(live)


ops = st.lists(
    st.tuples(
        st.sampled_from(["int", "int", "ext", "ext", "auction", "estimate", "estimate", "end"]),
        st.integers(-5, 30),  # time step (negative: an out-of-order sample)
        st.integers(1, 1000),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_cached_twap_sums_match_a_fresh_computation(script):
    c = calc(0, interest_rate=0.05, clamp_lower_bound=-0.5, clamp_upper_bound=0.5)
    now = 0
    for op, step, price in script:
        if op in ("int", "ext"):
            if step >= 0:
                now += step
            add = c.add_internal if op == "int" else c.add_external
            add((now + min(step, 0)) * S, price)
        elif op == "auction":
            now += max(step, 0)
            (c.leave_auction if c.in_auction else c.enter_auction)(now * S)
        elif op == "estimate":
            t = max(c.start_ns, (now + step // 3) * S)  # sometimes before the latest sample
            got = c.estimate(t)
            c._acc, c._cache = [None, None], None  # drop the caches and recompute
            assert c.estimate(t) == got
        else:
            now += max(step, 0)
            c.end_period(now * S)
