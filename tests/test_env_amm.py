"""The AMM environment (:class:`defisim.envs.AmmEnv`) and its ``amm_pool`` scenario:
Gymnasium conformance in both modes, determinism, hand-checked rewards (a swap's
cost at the reference price, an LP's fee share), observations, bad input.

Episodes are short (``EP`` env steps after ``WARM`` warm-up steps of one hour).
"""

from __future__ import annotations

import math
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from defisim.envs import AMM_ENV_ID, AmmEnv, EnvSetupError
from defisim.runner.run import Run
from defisim.scenarios import get_scenario

EP = 12
WARM = 2
QUIET = {"sigma": 0.0, "noise_count": 0, "arb_min_gap_bps": 1.0}
"""A still market: constant reference, no noise swaps, the arbitrageur idle within 1 bp."""


def make(**kw) -> AmmEnv:
    kw.setdefault("episode_steps", EP)
    kw.setdefault("warmup_steps", WARM)
    return AmmEnv(**kw)


def play(env: AmmEnv, seed: int, actions) -> tuple[list, list, list]:
    obs, info = env.reset(seed=seed)
    out_obs, rews, infos = [obs], [], [info]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out_obs.append(obs)
        rews.append(r)
        infos.append(info)
        if term:
            break
    return out_obs, rews, infos


@pytest.mark.parametrize("kw", [{"mode": "swapper"}, {"mode": "swapper", "swap_levels": 2},
                                {"mode": "lp"}, {"mode": "lp", "reward": "fees", "zap": False}])
def test_check_env_passes(kw):
    env = make(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the render-mode note about env specs
        check_env(env)
    assert env.observation_space.shape == (len(env.observation_names),) == (13,)
    if kw["mode"] == "lp":
        assert list(env.action_space.nvec) == [4, 3]


@pytest.mark.parametrize("mode", ["swapper", "lp"])
def test_same_seed_same_episode_other_seed_other_episode(mode):
    env = make(mode=mode)
    env.action_space.seed(7)
    actions = [env.action_space.sample() for _ in range(EP)]
    if mode == "lp":
        actions[0] = np.array([2, 2])  # make sure a position is opened
    a = play(env, 5, actions)
    b = play(make(mode=mode), 5, actions)
    for x, y in zip(a[0], b[0], strict=True):
        assert x.dtype == np.float32 and np.array_equal(x, y)
        assert env.observation_space.contains(x)
    assert a[1] == b[1] and a[2] == b[2]
    assert len(a[1]) == EP
    c = play(env, 6, actions)
    assert c[1] != a[1]


def test_swapper_reward_is_the_swaps_cost_at_the_reference():
    """Buy WETH for 10,000 USDC in a still market: the reward is what the WETH is
    worth at the reference (3000) minus the USDC paid, i.e. minus the 0.3 % fee
    (30 USDC) and the price impact on 50M USDC of full-range liquidity (~2 USDC)."""
    env = make(mode="swapper", scenario_params=QUIET, max_swap=10_000.0)
    env.reset(seed=1)
    got = env.state.sim.amm.quote(env.pool_id, "USDC", 10_000.0)
    v0 = env._last_v
    _, r, _, _, info = env.step(np.array([1.0], dtype=np.float32))
    assert info["mark_price"] == 3000.0
    assert r == pytest.approx(got * 3000.0 - 10_000.0, abs=1e-6)
    assert -34.0 < r < -30.0
    assert info["value"] - v0 == pytest.approx(r, abs=1e-9)
    assert info["sent"] == 1 and info["rejected"] == 0
    # hold: the pool is back at the reference (arbitrageur), the reward is 0
    _, r2, _, _, _ = env.step(np.array([0.0], dtype=np.float32))
    assert r2 == pytest.approx(0.0, abs=1e-6)


def test_discrete_swapper_levels_and_a_sale():
    env = make(mode="swapper", swap_levels=2, scenario_params=QUIET, max_swap=6_000.0)
    env.reset(seed=1)
    weth0 = env.state.sim.balance("learner", "WETH")
    env.step(0)  # a = -1: sell 6,000 USDC worth of WETH at the pool price (3000)
    assert weth0 - env.state.sim.balance("learner", "WETH") == pytest.approx(2.0, rel=1e-6)
    _, r, _, _, info = env.step(2)  # a = 0: nothing sent
    assert info["sent"] == 0 and r == pytest.approx(0.0, abs=1e-6)


def test_lp_fee_reward_is_the_fee_share_of_a_swap():
    """The learner LPs on a narrow range next to the 50M full-range background LP; a
    10,000 USDC swap inside the range pays 30 USDC of fees, of which the learner gets
    its share of the active liquidity, L_learner / L_active; the ``fees`` reward
    is exactly that (USDC is the quote: no price involved)."""
    env = make(mode="lp", reward="fees", scenario_params=QUIET)
    env.reset(seed=2)
    _, r0, _, _, info = env.step(np.array([2, 2]))  # mint +-200 bps, all holdings
    assert info["in_range"] and info["sent"] >= 1 and info["rejected"] == 0
    assert r0 == pytest.approx(0.0, abs=1e-5)  # the zap swap's fee went to the LPs, not us
    sim = env.state.sim
    (pos,) = sim.amm.positions("learner", env.pool_id)
    share = pos.liquidity / sim.amm.pool_view(env.pool_id).liquidity
    assert 0.01 < share < 0.5
    fees_before = pos.fees0  # token0 = USDC
    sim.create_party("whale")
    sim.mint("whale", "USDC", 10_000.0)
    assert sim.amm.swap("whale", env.pool_id, "USDC", 10_000.0).accepted
    (pos,) = sim.amm.positions("learner", env.pool_id)
    earned = pos.fees0 - fees_before
    assert earned == pytest.approx(30.0 * share, abs=2e-6)
    # the next step: the arbitrageur swaps back (WETH in, fees in WETH) -- fees then
    # count at the mark; our USDC fee is part of the reward exactly
    _, r1, _, _, info = env.step(np.array([0, 0]))
    (pos,) = env.state.sim.amm.positions("learner", env.pool_id)
    weth_fee = pos.fees1
    assert r1 == pytest.approx(earned + fees_before + weth_fee * 3000.0, abs=1e-6)
    assert info["fees"] == pytest.approx(r0 + r1, abs=1e-9)


def test_lp_observation_and_info_describe_the_position():
    env = make(mode="lp", scenario_params=QUIET)
    obs, info = env.reset(seed=3)
    names = env.observation_names
    assert info["range"] is None and obs[names.index("in_range")] == 0.0
    obs, _, _, _, info = env.step(np.array([3, 2]))  # +-1000 bps
    lo, hi = info["range"]
    assert lo < info["pool_price"] < hi
    assert math.log(hi / lo) == pytest.approx(0.2, abs=0.013)  # 2 x 1000 bps, 60-tick spacing
    assert obs[names.index("in_range")] == 1.0
    assert -1070 < obs[names.index("range_lo_bps")] < -940
    assert 940 < obs[names.index("range_hi_bps")] < 1070
    assert obs[names.index("position")] > 0.9  # zap: (almost) all the value is in the range
    # withdraw (size 0): back to the wallet, no range, value kept
    v = info["value"]
    _, _, _, _, info = env.step(np.array([1, 0]))
    assert info["range"] is None and not info["in_range"]
    assert env.state.sim.amm.positions("learner", env.pool_id) == []
    assert info["value"] == pytest.approx(v, rel=1e-9)


def test_fees_minus_il_is_fees_minus_the_change_of_il():
    env = make(mode="lp")  # the default reward, on a moving GBM market
    _, _, infos = play(env, 4, [np.array([1, 2])] + [np.array([0, 0])] * (EP - 1))
    env2 = make(mode="lp")
    _, rews, _ = play(env2, 4, [np.array([1, 2])] + [np.array([0, 0])] * (EP - 1))
    fees = [i["fees"] for i in infos]
    il = [i["il"] for i in infos]
    for t, r in enumerate(rews, start=1):
        assert r == pytest.approx((fees[t] - fees[t - 1]) - (il[t] - il[t - 1]), abs=1e-6)
    assert fees[-1] > 0


@pytest.mark.parametrize("kw, needle", [
    ({"mode": "maker"}, "mode"),
    ({"mode": "swapper", "reward": "fees"}, "needs mode='lp'"),
    ({"widths_bps": (0.0,)}, "widths_bps"),
    ({"sizes": (1.5,)}, "sizes"),
    ({"colateral": 1.0}, "colateral"),
    ({"collateral": -5.0}, "collateral"),
    ({"scenario": "nope"}, "unknown scenario"),
    ({"scenario": "btc_futures"}, "no AMM pool"),
    ({"pool": "V3:A/B/3000"}, "not in scenario"),
])
def test_bad_config_is_a_clear_error(kw, needle):
    with pytest.raises(EnvSetupError) as e:
        make(**kw)
    assert needle in str(e.value)


def test_step_errors_and_gymnasium_make():
    env = make(mode="lp")
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.array([0, 0]))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="outside the action space"):
        env.step(np.array([9, 0]))
    g = gymnasium.make(AMM_ENV_ID, mode="swapper", episode_steps=3, warmup_steps=1)
    g.reset(seed=0)
    *_, term, _, _ = g.step(np.array([0.5], dtype=np.float32))
    assert not term


def test_swapper_pays_gas_with_a_fee_market():
    params = {**QUIET, "execution": "mempool", "ordering": "priority"}
    env = make(mode="swapper", scenario_params=params)
    env.reset(seed=1)
    _, r, _, _, info = env.step(np.array([1.0], dtype=np.float32))
    assert info["gas"] > 0 and info["rejected"] == 0
    _, r2, _, _, info2 = env.step(np.array([0.0], dtype=np.float32))
    assert info2["gas"] == info["gas"]  # nothing sent, nothing paid
    assert r < -30.0


def test_amm_pool_scenario_arbitrage_and_fees():
    """The arbitrageur leaves the pool at the reference (noise off), with invariants
    checked every block; with noise the background LP earns fees."""
    cls = get_scenario("amm_pool")
    scn = cls(cls.Params(steps=20, noise_count=0))
    run = Run(scn, 3, check_invariants=True, keep_events=False)
    run.start()
    for _ in range(20):
        run.advance(1)
        k = scn.kpis(run.sim)
        assert abs(k["price_gap_bps"]) < 0.01
    assert k["arb_volume_usd"] > 0 and k["noise_volume_usd"] == 0 and k["lp_fees_usd"] > 0
    scn = cls(cls.Params(steps=20, sigma=0.0))
    run = Run(scn, 3, check_invariants=True, keep_events=False)
    run.start()
    run.advance(20)
    k = scn.kpis(run.sim)
    # every noise swap and its arbitrage back pay 0.3 %; the background LP holds
    # (nearly) all the liquidity, so it earns about 0.3 % of the volume
    assert k["lp_fees_usd"] == pytest.approx(0.003 * (k["noise_volume_usd"] + k["arb_volume_usd"]),
                                             rel=0.05)
