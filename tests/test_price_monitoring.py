"""Price monitoring (spec section 2, Vega 0032-PRIM; core core/monitor/price)."""

from __future__ import annotations

import copy
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy.stats import norm

from defisim.protocols.futures.price_monitoring import (
    PriceMonitor,
    PriceMonitoringParams,
    PriceMonitoringTrigger,
    lognormal_bound_factors,
)

S = 1_000_000_000  # ns per second


def _params(*triggers: tuple[int, float, int]) -> PriceMonitoringParams:
    return PriceMonitoringParams(
        triggers=[
            PriceMonitoringTrigger(horizon_s=h, probability=p, extension_s=e)
            for h, p, e in triggers
        ]
    )


def _monitor(triggers, factors, rule="core") -> PriceMonitor:
    return PriceMonitor(_params(*triggers), 0.0, 0.0, factors=factors, reference_rule=rule)


# ---------------------------------------------------------------- 0032-PRIM-043


def test_0032_PRIM_043_model_free_bounds_integer_prices():
    pm = _monitor([(60, 0.95, 60)], [(0.95, 1.1)])
    pm.reset(0, 100)
    assert pm.bounds(0) == [(0, 95, 110)]
    pm.reset(S, 90)
    # [85.5, 99] with 0 price decimals: ceil(85.5) = 86
    assert pm.bounds(S) == [(0, 86, 99)]


def test_0032_PRIM_043_model_free_bounds_in_tenths():
    # prices in tenths: reference 100.0 -> [95.0, 110.0]; 90.0 -> [85.5, 99.0]
    pm = _monitor([(60, 0.95, 60)], [(0.95, 1.1)])
    pm.reset(0, 1000)
    assert pm.reference_price(0, 0) == Decimal(1000)
    assert pm.bounds(0) == [(0, 950, 1100)]
    assert [pm.check(0, p) for p in (949, 950, 1100, 1101)] == [0, None, None, 0]
    pm.reset(S, 900)
    assert pm.bounds(S) == [(0, 855, 990)]
    assert [pm.check(S, p) for p in (854, 855, 990, 991)] == [0, None, None, 0]


def test_bounds_are_exact_at_integer_products():
    # in floats 100 * 1.15 = 114.99999999999999, whose floor would be 114
    assert math.floor(100 * 1.15) == 114
    pm = _monitor([(60, 0.95, 60)], [(0.95, 1.15)])
    pm.reset(0, 100)
    assert pm.bounds(0) == [(0, 95, 115)]
    assert pm.check(0, 115) is None and pm.check(0, 116) == 0
    # Decimal and Fraction factors are taken exactly too
    pm = _monitor([(60, 0.95, 60)], [(Decimal("0.95"), Fraction(23, 20))])
    pm.reset(0, 900)
    assert pm.bounds(0) == [(0, 855, 1035)]


# ---------------------------------------------------------------- log-normal factors


@pytest.mark.parametrize(
    "mu, sigma, horizon_s, p, down, up",
    [
        (0.1, 0.8, 3600, 0.99, 0.9782065820151873, 1.022227641597562),
        (0.0, 1.5, 43200, 0.9999999, 0.7429213005348626, 1.3418980661135453),
    ],
)
def test_lognormal_bound_factors_against_scipy(mu, sigma, horizon_s, p, down, up):
    tau = horizon_s / (365.25 * 86400)
    m = (mu - sigma**2 / 2) * tau
    s = sigma * math.sqrt(tau)
    d_ref = math.exp(m + s * norm.ppf((1 - p) / 2))
    u_ref = math.exp(m + s * norm.ppf((1 + p) / 2))
    d, u = lognormal_bound_factors(mu, sigma, horizon_s, p)
    assert d == pytest.approx(d_ref, rel=1e-13) and d == pytest.approx(down, rel=1e-13)
    assert u == pytest.approx(u_ref, rel=1e-13) and u == pytest.approx(up, rel=1e-13)
    assert d < 1 < u


def test_lognormal_by_hand_and_monotone():
    # mu 0.1, sigma 0.8, 1 hour, 99 %: tau = 1.14077e-4, m = -2.50970e-5,
    # s = 8.54457e-3, Phi^-1(0.995) = 2.5758293 -> exp(-2.5097e-5 -/+ 0.0220096)
    d, u = lognormal_bound_factors(0.1, 0.8, 3600, 0.99)
    assert d == pytest.approx(math.exp(-2.50970e-5 - 0.0220096), rel=1e-6)
    assert u == pytest.approx(math.exp(-2.50970e-5 + 0.0220096), rel=1e-6)
    # wider for longer horizons and higher probabilities
    d2, u2 = lognormal_bound_factors(0.1, 0.8, 7200, 0.99)
    d3, u3 = lognormal_bound_factors(0.1, 0.8, 3600, 0.999)
    assert d2 < d < 1 < u < u2 and d3 < d < 1 < u < u3
    assert lognormal_bound_factors(0.0, 0.0, 60, 0.95) == (1.0, 1.0)


def test_lognormal_factors_drive_the_monitor():
    params = _params((3600, 0.99, 300), (7200, 0.95, 600))
    pm = PriceMonitor(params, 0.1, 0.8)
    f0 = lognormal_bound_factors(0.1, 0.8, 3600, 0.99)
    f1 = lognormal_bound_factors(0.1, 0.8, 7200, 0.95)
    assert pm.factors == [f0, f1]
    pm.reset(0, 100_000)
    # 100000 * 0.9782065820151873 = 97820.658... ; * 1.022227641597562 = 102222.764...
    b = pm.bounds(0)
    assert b[0] == (0, 97821, 102222)
    for (_, lo, hi), (d, u) in zip(b, (f0, f1), strict=True):
        assert lo == math.ceil(Decimal(100_000) * Decimal(repr(d)))
        assert hi == math.floor(Decimal(100_000) * Decimal(repr(u)))


@pytest.mark.parametrize(
    "args", [(0, 1, 0, 0.99), (0, -1, 60, 0.99), (0, 1, 60, 1.0), (float("nan"), 1, 60, 0.9)]
)
def test_lognormal_factor_errors(args):
    with pytest.raises(ValueError):
        lognormal_bound_factors(*args)


# ---------------------------------------------------------------- reference price


def _two_trigger_history(rule):
    # triggers of 10 s and 60 s; trades at 0 s (two), 5 s, 20 s and 30 s
    pm = _monitor([(10, 0.99, 5), (60, 0.99, 5)], [(0.5, 2.0), (0.5, 2.0)], rule)
    pm.record_trade(0, 100, 1)
    pm.record_trade(0, 110, 3)
    pm.record_trade(5 * S, 120, 2)
    pm.record_trade(20 * S, 90, 1)
    pm.record_trade(30 * S, 95, 4)
    return pm


@pytest.mark.parametrize("rule", ["core", "spec"])
def test_reference_price_selection(rule):
    pm = _two_trigger_history(rule)
    # at 35 s: 10 s horizon -> latest at or before 25 s is 20 s -> 90
    assert pm.reference_price(0, 35 * S) == Decimal(90)
    # 60 s horizon: history shorter than the horizon -> earliest (0 s): VWAP of
    # 100 x 1 and 110 x 3 = 430 / 4 = 107.5
    assert pm.reference_price(1, 35 * S) == Decimal("107.5")
    # exactly at the boundary: at 40 s the 10 s horizon looks at 30 s itself
    assert pm.reference_price(0, 40 * S - 1) == Decimal(90)
    assert pm.reference_price(0, 40 * S) == Decimal(95)
    # 0 s + 60 s: the 60 s horizon still uses the 0 s average
    assert pm.reference_price(1, 60 * S) == Decimal("107.5")


def test_reference_price_core_and_spec_differ_for_the_longest_horizon():
    # at 72 s the 60 s horizon looks back to 12 s: the spec takes the latest at or
    # before it (5 s -> 120); core has pruned the timestamps before 12 s except the
    # latest past one, and takes the earliest retained one (20 s -> 90)
    spec, core = _two_trigger_history("spec"), _two_trigger_history("core")
    assert spec.reference_price(1, 72 * S) == Decimal(120)
    assert core.reference_price(1, 72 * S) == Decimal(90)
    assert spec.reference_price(0, 72 * S) == core.reference_price(0, 72 * S) == Decimal(95)
    assert core.history_len == 2 and spec.history_len == 3
    # long after the last trade both keep only the latest timestamp
    assert core.reference_price(1, 1000 * S) == spec.reference_price(1, 1000 * S) == 95
    assert core.history_len == spec.history_len == 1


def test_vwap_is_rounded_half_up_to_16_places():
    pm = _monitor([(10, 0.99, 5)], [(0.5, 2.0)])
    pm.record_trade(0, 100, 1)
    pm.record_trade(0, 101, 2)
    # 302 / 3 = 100.666...
    assert pm.reference_price(0, S) == Decimal("100.6666666666666667")
    pm.reset(S, 1, 2)  # the uncrossing trade, then one more at the same instant
    pm.record_trade(S, 2, 1)
    # 4 / 3 = 1.333... rounds down
    assert pm.reference_price(0, 3 * S) == Decimal("1.3333333333333333")


def test_current_instant_uses_the_first_price_until_time_moves():
    pm = _monitor([(10, 0.99, 5)], [(0.9, 1.1)])
    assert pm.reference_price(0, 0) is None
    assert pm.bounds(0) == [] and pm.check(0, 10**9) is None  # no history: no breach
    pm.reset(0, 100, 5)
    pm.record_trade(0, 104, 5)
    assert pm.reference_price(0, 0) == Decimal(100)
    assert pm.bounds(0) == [(0, 90, 110)]
    # once time moves, the instant's volume-weighted average: (500 + 520) / 10
    assert pm.reference_price(0, S) == Decimal(102)
    assert pm.bounds(S) == [(0, 92, 112)]  # 91.8 -> 92, 112.2 -> 112


def test_trades_at_the_current_instant_are_not_a_reference():
    pm = _monitor([(10, 0.99, 5)], [(0.9, 1.1)])
    pm.record_trade(0, 100, 1)
    pm.record_trade(20 * S, 200, 1)
    assert pm.bounds(20 * S) == [(0, 90, 110)]  # 0 s is the latest at or before 10 s
    pm.record_trade(20 * S, 300, 1)
    assert pm.bounds(20 * S) == [(0, 90, 110)]


# ---------------------------------------------------------------- auctions


def _auction_monitor():
    # trigger 0: 60 s, +/-5 %, 30 s extension; trigger 1: 120 s, +/-10 %, 60 s
    pm = _monitor([(60, 0.95, 30), (120, 0.99, 60)], [(0.95, 1.05), (0.9, 1.1)])
    pm.reset(0, 1000, 1)
    return pm


def test_breach_switches_off_and_second_trigger_extends_at_auction_end():
    pm = _auction_monitor()
    t = 10 * S
    assert pm.bounds(t) == [(0, 950, 1050), (1, 900, 1100)]
    assert pm.check(t, 1050) is None and pm.check(t, 900 + 49) == 0
    assert pm.check(t, 1060) == 0 and pm.breaches(t, 1060) == [0]
    assert pm.check(t, 1200) == 0 and pm.breaches(t, 1200) == [0, 1]
    # a non-persistent order is rejected: nothing changes
    assert pm.active == [True, True]
    # a persistent order at 1060 starts an auction of trigger 0's extension
    assert pm.trigger_auction(0) == 30 * S
    assert pm.active == [False, True]
    assert pm.bounds(t) == [(1, 900, 1100)]
    with pytest.raises(ValueError):
        pm.trigger_auction(0)
    # scheduled end 40 s; checked at 41 s: indicative 1150 breaches trigger 1
    assert pm.check_auction_end(41 * S, 1150) == 60 * S
    assert pm.active == [False, False]
    # at the extended end nothing is left on: the auction may end
    assert pm.check_auction_end(101 * S, 1150) is None
    pm.reset(101 * S, 1150, 3)
    assert pm.active == [True, True] and pm.history_len == 1
    assert pm.reference_price(0, 101 * S) == pm.reference_price(1, 101 * S) == Decimal(1150)
    # 1092.5 -> 1093, 1207.5 -> 1207, 1035, 1265
    assert pm.bounds(101 * S) == [(0, 1093, 1207), (1, 1035, 1265)]


def test_auction_end_within_bounds_and_extension_is_the_sum():
    pm = _auction_monitor()
    assert pm.check_auction_end(41 * S, 1049) is None
    assert pm.active == [True, True]
    # both breached at once: core switches both off and extends by the sum
    assert pm.check_auction_end(42 * S, 800) == 90 * S
    assert pm.active == [False, False]


def test_stale_trigger_is_switched_off_at_auction_end():
    # 0032-PRIM-009: latest observation (10 s) older than now - 60 s at 80 s
    pm = _monitor([(60, 0.95, 30), (120, 0.99, 60)], [(0.95, 1.05), (0.9, 1.1)])
    pm.record_trade(10 * S, 1000, 1)
    assert pm.trigger_auction(1) == 60 * S
    assert pm.check_auction_end(80 * S, 1000) is None
    assert pm.active == [False, False]
    pm2 = _monitor([(60, 0.95, 30), (120, 0.99, 60)], [(0.95, 1.05), (0.9, 1.1)])
    pm2.record_trade(10 * S, 1000, 1)
    pm2.trigger_auction(1)
    assert pm2.check_auction_end(70 * S, 1000) is None  # exactly 60 s old: not stale
    assert pm2.active == [True, False]


def test_reset_without_uncrossing_price_keeps_the_latest_timestamp():
    pm = _auction_monitor()
    pm.record_trade(10 * S, 1020, 1)
    pm.trigger_auction(0)
    assert pm.check_auction_end(50 * S, None) is None
    pm.reset(50 * S)
    assert pm.active == [True, True] and pm.history_len == 1
    assert pm.reference_price(0, 50 * S) == Decimal(1020)


def test_no_triggers_means_no_monitoring():
    pm = PriceMonitor(PriceMonitoringParams(), 0.0, 1.0)
    for k in range(100):
        pm.record_trade(k * S, 100 + k, 1)
    assert pm.check(100 * S, 10**12) is None and pm.bounds(100 * S) == []
    assert pm.check_auction_end(100 * S, 1) is None
    assert pm.valid_price_range(100 * S) is None
    assert pm.history_len == 1


def test_valid_price_range_is_the_intersection():
    pm = _auction_monitor()
    assert pm.valid_price_range(S) == (950, 1050)
    pm.trigger_auction(0)
    assert pm.valid_price_range(S) == (900, 1100)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "trigger",
    [
        {"horizon_s": 0, "probability": 0.95, "extension_s": 1},
        {"horizon_s": 1, "probability": 0.89, "extension_s": 1},
        {"horizon_s": 1, "probability": 1.0, "extension_s": 1},
        {"horizon_s": 1, "probability": 0.95, "extension_s": 0},
        {"horizon_s": 1, "probability": 0.95, "extension_s": 1, "other": 1},
    ],
)
def test_trigger_validation(trigger):
    with pytest.raises(ValidationError):
        PriceMonitoringTrigger(**trigger)


def test_params_validation():
    t = PriceMonitoringTrigger(horizon_s=1, probability=0.9, extension_s=1)
    assert len(PriceMonitoringParams(triggers=[t] * 100).triggers) == 100
    with pytest.raises(ValidationError):
        PriceMonitoringParams(triggers=[t] * 101)
    with pytest.raises(ValueError):
        PriceMonitor(PriceMonitoringParams(triggers=[t]), 0, 1, factors=[])
    with pytest.raises(ValueError):
        PriceMonitor(PriceMonitoringParams(triggers=[t]), 0, 1, factors=[(1.1, 0.9)])
    with pytest.raises(ValueError):
        PriceMonitor(PriceMonitoringParams(triggers=[t]), 0, 1, reference_rule="x")


def test_runtime_errors():
    pm = _auction_monitor()
    pm.record_trade(5 * S, 1000, 1)
    with pytest.raises(ValueError):
        pm.record_trade(4 * S, 1000, 1)  # time going backwards
    with pytest.raises(ValueError):
        pm.check(4 * S, 1000)
    with pytest.raises(ValueError):
        pm.record_trade(5 * S, 1000, 0)
    with pytest.raises(TypeError):
        pm.record_trade(5 * S, 1000.0, 1)
    with pytest.raises(IndexError):
        pm.trigger_auction(2)
    with pytest.raises(IndexError):
        pm.reference_price(-1, 5 * S)


# ---------------------------------------------------------------- pruning property


class NaiveMonitor:
    """Unpruned reference implementation of the reference-price rules."""

    def __init__(self, horizons_ns, factors, rule):
        self.horizons_ns = horizons_ns
        self.factors = [
            (Fraction(Decimal(repr(d))), Fraction(Decimal(repr(u)))) for d, u in factors
        ]
        self.rule = rule
        self.trades: list[tuple[int, int, int]] = []

    def reset(self, t, price, size):
        if price is not None:
            self.trades = [(t, price, size)]
            return
        past = sorted({x for x, _, _ in self.trades if x < t})
        keep = past[-1] if past else t
        self.trades = [tr for tr in self.trades if tr[0] >= keep]

    def reference(self, h, now) -> Fraction | None:
        if not self.trades:
            return None
        past = sorted({t for t, _, _ in self.trades if t < now})
        if not past:
            return Fraction(next(p for t, p, _ in self.trades if t == now))
        if self.rule == "core":
            cutoff = now - max(self.horizons_ns)
            kept = [t for t in past if t >= cutoff] or [past[-1]]
        else:
            kept = past
        before = [t for t in kept if t <= now - h]
        ts = before[-1] if before else kept[0]
        pv = sum(p * s for t, p, s in self.trades if t == ts)
        vol = sum(s for t, _, s in self.trades if t == ts)
        return Fraction(math.floor(Fraction(pv, vol) * 10**16 + Fraction(1, 2)), 10**16)

    def bounds(self, now):
        out = []
        for i, h in enumerate(self.horizons_ns):
            r = self.reference(h, now)
            if r is None:
                return []
            d, u = self.factors[i]
            out.append((i, math.ceil(r * d), math.floor(r * u)))
        return out


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("trade"), st.integers(0, 6), st.integers(80, 120), st.integers(1, 5)),
        st.tuples(st.just("query"), st.integers(0, 6), st.integers(60, 140), st.just(0)),
        st.tuples(
            st.just("reset"), st.integers(0, 6), st.none() | st.integers(80, 120), st.integers(1, 3)
        ),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(
    ops=_ops,
    horizons=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    rule=st.sampled_from(["core", "spec"]),
)
def test_pruning_matches_unpruned_history(ops, horizons, rule):
    half = S // 2  # time steps of half a second hit the horizon boundaries exactly
    factors = [(0.9 + 0.01 * k, 1.1 + 0.013 * k) for k in range(len(horizons))]
    pm = _monitor([(h, 0.95, 1) for h in horizons], factors, rule)
    naive = NaiveMonitor([h * S for h in horizons], factors, rule)
    now = 0
    snapshot = None
    for n, (kind, dt, price, size) in enumerate(ops):
        now += dt * half
        if kind == "trade":
            pm.record_trade(now, price, size)
            naive.trades.append((now, price, size))
        elif kind == "reset":
            pm.reset(now, price, size)
            naive.reset(now, price, size)
        expected = naive.bounds(now)
        assert pm.bounds(now) == expected
        for i, h in enumerate(horizons):
            r = naive.reference(h * S, now)
            got = pm.reference_price(i, now)
            assert (got is None and r is None) or Fraction(got) == r
        if kind == "query":
            first = next((i for i, lo, hi in expected if price < lo or price > hi), None)
            assert pm.check(now, price) == first
            assert pm.breaches(now, price) == [
                i for i, lo, hi in expected if price < lo or price > hi
            ]
        # bounded: timestamps within the longest horizon, plus two
        window = {t for t, _, _ in naive.trades if t >= now - max(horizons) * S}
        assert pm.history_len <= len(window) + 2
        if n == len(ops) // 2:
            snapshot = (copy.deepcopy(pm), now, pm.bounds(now))
    if snapshot is not None:
        # a deep copy is independent of the original
        copied, t, b = snapshot
        assert copied.bounds(t) == b


def test_deepcopy_is_independent():
    pm = _auction_monitor()
    pm.record_trade(5 * S, 1010, 2)
    twin = copy.deepcopy(pm)
    twin.trigger_auction(0)
    twin.record_trade(6 * S, 2000, 1)
    assert pm.active == [True, True]
    assert pm.bounds(100 * S) != twin.bounds(100 * S)
    assert pm.reference_price(0, 100 * S) == Decimal(1010)
    assert twin.reference_price(0, 100 * S) == Decimal(2000)
