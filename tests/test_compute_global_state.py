"""Global state processes of the compute marketplace (spec section 6, vector 9(e))."""

from __future__ import annotations

import dataclasses
import math
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from defisim.agents.compute.base_fee import (
    EIP1559,
    L1_MAINNET,
    OP_STACK,
    OP_STACK_CANYON,
    BackgroundDemand,
    BaseFeeProcess,
    FeeRule,
    background_gas,
    next_base_fee,
)
from defisim.agents.compute.electricity import DEFAULT_REGIONS, Electricity, Region, seasonal_price
from defisim.agents.compute.global_state import STREAMS, GlobalState
from defisim.agents.compute.market_history import MarketHistory, reputation
from defisim.agents.compute.replay import ReplaySeries, load_replay_csv
from defisim.agents.compute.stochastic import (
    SECONDS_PER_YEAR,
    CorrelatedGBM,
    CorrelatedOU,
    cholesky_factor,
    gbm_step,
    ou_step,
)
from defisim.agents.compute.token_prices import DepegParams, GbmToken, TokenPrices
from defisim.prices import PriceFileError

KAPPA = math.log(2) / 3600


def streams(seed: int):
    """A stand-in for ``sim.rng``: one Generator per name, derived from the seed."""
    return lambda name: np.random.default_rng([seed, zlib.crc32(name.encode())])


# --------------------------------------------------------------------- electricity, 9(e)


def test_vector_9e_electricity_eu_central_without_noise():
    eu = Region("eu-central", 0.20, 1, 0.25, 0.0)
    el = Electricity(np.random.default_rng(0), regions=(eu,), x0={"eu-central": 0.04})
    assert el.prices()["eu-central"] == pytest.approx(0.24, abs=1e-12)  # local hour 1: cos = 0
    el.step(3600)
    assert round(seasonal_price(eu, 3600.0), 6) == 0.187059
    assert el.deviations()["eu-central"] == pytest.approx(0.02, abs=1e-15)
    assert round(el.prices()["eu-central"], 6) == 0.207059


def test_seasonal_cycle_peaks_at_local_19h_and_floor_holds():
    eu = DEFAULT_REGIONS[1]
    assert seasonal_price(eu, 18 * 3600.0) == pytest.approx(0.25)  # local 19:00, 0.2 x 1.25
    assert seasonal_price(eu, 6 * 3600.0) == pytest.approx(0.15)  # local 07:00, trough
    low = Region("x", 0.1, 0, 0.25, 0.0, floor=0.2)
    el = Electricity(np.random.default_rng(0), regions=(low,))
    assert el.prices()["x"] == 0.2


def test_electricity_shocks_are_correlated_and_stationary():
    el = Electricity(np.random.default_rng(7))
    xs = []
    for _ in range(20_000):
        el.step(3600)
        xs.append(list(el.deviations().values()))
    xs = np.array(xs)
    # exact AR(1) at dt = 1 h: x_{t+1} = x_t / 2 + s sqrt(3/4) (L z); innovations rho = 0.3
    innov = xs[1:] - 0.5 * xs[:-1]
    c = np.corrcoef(innov.T)
    assert c[0, 1] == pytest.approx(0.3, abs=0.03) and c[1, 2] == pytest.approx(0.3, abs=0.03)
    assert xs[:, 1].std() == pytest.approx(0.04, rel=0.05)  # eu-central's stationary s


# --------------------------------------------------------------------- GBM


def test_gbm_one_step_matches_hand_computation():
    chol = cholesky_factor([[1.0, 0.7], [0.7, 1.0]])
    assert chol[1, 0] == pytest.approx(0.7) and chol[1, 1] == pytest.approx(math.sqrt(0.51))
    tau = 3600 / 31_536_000
    out = gbm_step([3000.0, 2.0], [0.0, 0.0], [0.8, 1.0], chol, 3600, [1.0, 0.5])
    eth = 3000 * math.exp(-0.32 * tau + 0.8 * math.sqrt(tau) * 1.0)
    l2 = 2.0 * math.exp(-0.5 * tau + math.sqrt(tau) * (0.7 + math.sqrt(0.51) * 0.5))
    assert out[0] == pytest.approx(eth, rel=1e-14) and out[1] == pytest.approx(l2, rel=1e-14)
    assert round(out[0], 5) == 3025.64180 and round(out[1], 8) == 2.02260082


def test_gbm_process_uses_its_generator_and_the_formula():
    rng, twin = np.random.default_rng(3), np.random.default_rng(3)
    g = CorrelatedGBM([3000.0, 2.0], [0.1, -0.2], [0.8, 1.0], [[1, 0.7], [0.7, 1]], rng)
    got = g.step(600)
    want = gbm_step([3000.0, 2.0], [0.1, -0.2], [0.8, 1.0], g.chol, 600, twin.standard_normal(2))
    assert got.tolist() == want.tolist()


def test_gbm_log_returns_have_the_correlation_and_volatility():
    tp = TokenPrices(np.random.default_rng(11))
    path = np.array([list(tp.step(3600).values())[:2] for _ in range(20_000)])
    lr = np.diff(np.log(path), axis=0)
    assert np.corrcoef(lr.T)[0, 1] == pytest.approx(0.7, abs=0.02)
    tau = 3600 / SECONDS_PER_YEAR
    assert lr[:, 0].std() / math.sqrt(tau) == pytest.approx(0.8, rel=0.03)
    assert lr[:, 1].std() / math.sqrt(tau) == pytest.approx(1.0, rel=0.03)


def test_zero_sigma_gbm_path_is_constant_and_payment_token_is_one_usd():
    tp = TokenPrices(np.random.default_rng(1), tokens=(GbmToken("ETH", 3000.0), GbmToken("L2", 2.0)))
    for _ in range(100):
        p = tp.step(3600)
    assert p == {"ETH": 3000.0, "L2": 2.0, "USDC": 1.0}


def test_depeg_multiplies_the_payment_token_by_one_plus_ou():
    tp = TokenPrices(np.random.default_rng(1), depeg=DepegParams(s=0.0, x0=-0.04),
                     depeg_rng=np.random.default_rng(2))
    assert tp.prices()["USDC"] == pytest.approx(0.96)
    assert tp.step(3600)["USDC"] == pytest.approx(0.98)  # X halves in an hour
    with pytest.raises(ValueError, match="depeg_rng"):
        TokenPrices(np.random.default_rng(1), depeg=DepegParams())


def test_bad_correlation_matrix_is_refused():
    with pytest.raises(ValueError, match="positive definite"):
        cholesky_factor([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    with pytest.raises(ValueError, match="symmetric"):
        cholesky_factor([[1, 0.5], [0.4, 1]])


# --------------------------------------------------------------------- OU


def test_ou_exact_step_moments_with_a_fixed_draw():
    # one hour at a 1 h half-life: mean x0/2, noise scale s sqrt(1 - 1/4)
    out = ou_step([0.04], KAPPA, [0.1], [[1.0]], 3600, [2.0])
    assert out[0] == pytest.approx(0.02 + 0.1 * math.sqrt(0.75) * 2.0, rel=1e-12)
    # exact: two half-hour steps without noise equal one hour
    half = ou_step(ou_step([0.04], KAPPA, [0.0], [[1.0]], 1800, [0.0]), KAPPA, [0.0], [[1.0]],
                   1800, [0.0])
    assert half[0] == pytest.approx(0.02, rel=1e-12)


def test_ou_process_conditional_and_stationary_moments():
    ou = CorrelatedOU([0.0], KAPPA, [0.5], [[1.0]], np.random.default_rng(5))
    xs = np.array([ou.step(3600)[0] for _ in range(20_000)])
    lag1 = np.corrcoef(xs[:-1], xs[1:])[0, 1]
    assert lag1 == pytest.approx(0.5, abs=0.02)  # e^{-kappa 3600} = 1/2
    resid = xs[1:] - 0.5 * xs[:-1]
    assert resid.std() == pytest.approx(0.5 * math.sqrt(0.75), rel=0.03)
    assert xs.std() == pytest.approx(0.5, rel=0.05)


# --------------------------------------------------------------------- base fees


def test_fee_rule_reproduces_vector_9d_and_the_op_stack_preset():
    rule = dataclasses.replace(EIP1559, b0=1_000_000_000)
    b, seen = 1_000_000_000, []
    for used in (30_000_000, 15_000_000, 0, 20_000_000, 10_000_000):
        b = next_base_fee(b, used, rule)
        seen.append(b)
    assert seen == [1_125_000_000, 1_125_000_000, 984_375_000, 1_025_390_625, 982_666_016]
    assert next_base_fee(10_000_000, 30_000_000, OP_STACK_CANYON) == 10_200_000
    assert (OP_STACK.elasticity, OP_STACK.denom) == (6, 50)
    floored = dataclasses.replace(EIP1559, min_base_fee=9_000_000)
    assert next_base_fee(9_100_000, 0, floored) == 9_000_000
    assert next_base_fee(0, 30_000_000, EIP1559) == 1  # the +1 minimum step


def test_background_gas_formula():
    g_star = EIP1559.gas_target
    assert background_gas(10_000_000, EIP1559, 0.0, sigma_d=0.0) == g_star
    assert background_gas(20_000_000, EIP1559, 0.0, sigma_d=0.0) == g_star // 2
    assert background_gas(5_000_000, EIP1559, 0.0, sigma_d=0.0) == EIP1559.gas_limit
    assert background_gas(1_000_000, EIP1559, 0.0, sigma_d=0.0) == EIP1559.gas_limit  # capped
    assert background_gas(0, EIP1559, 0.0) == EIP1559.gas_limit
    want = round(g_star * math.exp(0.3 * 1.5 - 0.045) * (10_000_000 / 12_000_000))
    assert background_gas(12_000_000, EIP1559, 1.5) == want
    with pytest.raises(ValueError, match="b_ref"):
        background_gas(1, EIP1559, 0.0, b_ref=0)


def test_base_fee_reverts_towards_b_ref_with_small_demand_noise():
    rule = FeeRule(b0=40_000_000)
    p = BaseFeeProcess(rule, BackgroundDemand(rule, np.random.default_rng(1), sigma_d=0.01,
                                              b_ref=10_000_000))
    fees = []
    for _ in range(3000):
        p.block()
        fees.append(p.base_fee)
    assert fees[0] < 40_000_000
    assert np.mean(fees[-500:]) == pytest.approx(10_000_000, rel=0.01)


def test_base_fee_is_deterministic_under_its_seed():
    def path(seed):
        p = BaseFeeProcess(EIP1559, BackgroundDemand(EIP1559, np.random.default_rng(seed)))
        return [p.step(60) for _ in range(20)]

    assert path(4) == path(4)
    assert path(4) != path(5)


def test_l1_fee_closes_a_block_every_12_seconds_and_market_gas_fits_after_background():
    p = BaseFeeProcess(L1_MAINNET, BackgroundDemand(L1_MAINNET, np.random.default_rng(0)))
    assert p.base_fee == 20_000_000_000
    p.step(3600)
    assert p.blocks == 300
    p.step(11.0)
    assert p.blocks == 300
    p.step(1.0)
    assert p.blocks == 301
    rule = FeeRule()
    q = BaseFeeProcess(rule, BackgroundDemand(rule, np.random.default_rng(0), sigma_d=0.0))
    used, included = q.block(market_gas=20_000_000)  # background takes G* = 15M first
    assert (used, included) == (30_000_000, 15_000_000)


# --------------------------------------------------------------------- replay


def test_replay_is_carried_forward_between_rows(tmp_path):
    f = tmp_path / "eth.csv"
    f.write_text("timestamp,value\n0,3000\n3600,3100.5\n\n7200,2900\n")
    s = load_replay_csv(f)
    assert [s.at(t) for t in (0, 1, 3599, 3600, 5000, 7200, 1e9)] == [
        3000, 3000, 3000, 3100.5, 3100.5, 2900, 2900
    ]
    assert ReplaySeries((10.0,), (5.0,)).at(0.0) == 5.0  # before the first row
    tp = TokenPrices(np.random.default_rng(0), replay={"ETH": s})
    tp.step(3600)
    assert tp.prices()["ETH"] == 3100.5


def test_replay_drives_fees_and_electricity(tmp_path):
    fee = ReplaySeries((0.0, 24.0), (3e10, 1e10))
    p = BaseFeeProcess(L1_MAINNET, BackgroundDemand(L1_MAINNET, np.random.default_rng(0)), fee)
    assert p.base_fee == 30_000_000_000
    assert p.step(24) == 10_000_000_000
    el = Electricity(np.random.default_rng(0), replay={"us-east": ReplaySeries((0.0,), (0.5,))})
    assert el.step(3600)["us-east"] == 0.5


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("time,price\n0,1\n", "bad.csv:1: the header must be"),
        ("timestamp,value\n0,1\n10,1,2\n", "bad.csv:3: expected 2 fields"),
        ("timestamp,value\n0,1\n10,abc\n", "bad.csv:3: column 2 ('value'): not a finite number"),
        ("timestamp,value\nx,1\n", "bad.csv:2: column 1 ('timestamp'): not a finite number"),
        ("timestamp,value\n0,nan\n", "bad.csv:2: column 2 ('value')"),
        ("timestamp,value\n10,1\n10,2\n", "bad.csv:3: column 1 ('timestamp'): timestamps must"),
        ("timestamp,value\n", "bad.csv: no data rows"),
        ("", "bad.csv: empty file"),
    ],
)
def test_bad_replay_files_name_file_line_and_column(tmp_path, text, where):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(PriceFileError) as err:
        load_replay_csv(f)
    assert str(err.value).startswith(str(tmp_path)) and where in str(err.value)


def test_missing_replay_file(tmp_path):
    with pytest.raises(PriceFileError, match="cannot read"):
        load_replay_csv(tmp_path / "nope.csv")


# --------------------------------------------------------------------- market history


def test_market_history_reputation_and_price_window():
    h = MarketHistory(k=3)
    h.deal("p1")
    h.deal("p1")
    h.completed("p1", "cpu-small", 100)
    h.timeout("p1")
    h.slash("p2")
    for price in (5, 1, 9, 7):
        h.completed("p3", "gpu", price)
    s = h.summary()
    assert s.providers["p1"].deals == 2 and s.reputation("p1") == reputation(1, 1, 0) == 0.5
    assert s.reputation("p2") == pytest.approx(1 / 3)
    assert s.reputation("new") == 0.5
    assert s.reputation("p3") == pytest.approx(5 / 6)
    assert s.recent_prices["gpu"] == (1, 9, 7) and s.median_price["gpu"] == 7.0
    assert s.median_price["cpu-small"] == 100.0
    h.completed("p3", "gpu", 2)
    assert s.recent_prices["gpu"] == (1, 9, 7)  # the summary is a copy
    assert MarketHistory().k == 20


def test_market_history_counts_requests_and_topics():
    h = MarketHistory()
    h.request_opened()
    h.topic_opened()
    h.topic_opened()
    h.topic_closed()
    assert (h.summary().open_requests, h.summary().active_topics) == (1, 1)
    h.request_closed()
    with pytest.raises(ValueError, match="no open request"):
        h.request_closed()


# --------------------------------------------------------------------- GlobalState


def test_global_state_snapshot_is_read_only_and_deterministic():
    def run(seed):
        gs = GlobalState.default(streams(seed))
        snaps = [gs.step(3600) for _ in range(5)]
        return [(dict(s.prices), s.l1_base_fee, s.l2_base_fee, dict(s.electricity)) for s in snaps]

    assert run(1) == run(1)
    assert run(1) != run(2)
    snap = GlobalState.default(streams(1)).snapshot()
    assert snap.prices == {"ETH": 3000.0, "L2": 2.0, "USDC": 1.0}
    assert (snap.l1_base_fee, snap.l2_base_fee) == (20_000_000_000, 10_000_000)
    assert set(snap.electricity) == {"us-east", "eu-central", "asia-east"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.t_s = 5.0
    with pytest.raises(TypeError):
        snap.prices["ETH"] = 1.0
    assert snap.gas_cost_usd(822_000, 11_000_000) == pytest.approx(0.027126)  # vector 9(b)


def test_global_state_streams_are_independent_per_process():
    asked = []

    def rng(name):
        asked.append(name)
        return streams(3)(name)

    a = GlobalState.default(rng)
    assert set(asked) == set(STREAMS) - {"global.depeg"}
    b = GlobalState.default(streams(3), electricity=Electricity(np.random.default_rng(99)))
    for _ in range(3):
        sa, sb = a.step(3600), b.step(3600)
    assert dict(sa.prices) == dict(sb.prices) and sa.l1_base_fee == sb.l1_base_fee
    assert dict(sa.electricity) != dict(sb.electricity)


def test_l2_fee_from_the_chain():
    gs = GlobalState.default(streams(0), l2_from_chain=True)
    assert gs.snapshot().l2_base_fee == 10_000_000
    gs.set_l2_base_fee(12_345)
    assert gs.step(60).l2_base_fee == 12_345
    with pytest.raises(ValueError, match="not settable"):
        GlobalState.default(streams(0)).set_l2_base_fee(1)
    with pytest.raises(ValueError, match="unknown process"):
        GlobalState.default(streams(0), fees=None)


@given(
    b=st.integers(0, 10**12),
    used=st.integers(0, 30_000_000),
    rule=st.sampled_from([EIP1559, OP_STACK, OP_STACK_CANYON]),
)
def test_fee_rule_moves_at_most_one_denominator_share_towards_demand(b, used, rule):
    nxt = next_base_fee(b, used, rule)
    target = rule.gas_target
    if used > target:  # a full block is (elasticity - 1) targets over
        assert b < nxt <= b + max(b * (rule.elasticity - 1) // rule.denom, 1)
    elif used < target:
        assert b - b // rule.denom - 1 <= nxt <= b
    else:
        assert nxt == b


def test_process_refuses_a_demand_on_another_rule():
    with pytest.raises(ValueError, match="rule"):
        BaseFeeProcess(OP_STACK, BackgroundDemand(EIP1559, np.random.default_rng(0)))
