"""The reinforcement-learning environments (``defisim.envs``): Gymnasium and
PettingZoo API conformance, determinism, the snapshot reset, observation
features against the simulation, actions as orders, rewards, bad input, the
vector env and Stable-Baselines3 training on the env.

Episodes are short (``EP`` env steps after ``WARM`` warm-up steps of
``btc_futures``, one hour each) so the whole file runs in seconds.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import defisim.envs
from defisim.chain.rng import RandomStreams
from defisim.envs import (
    DEFAULT_OBSERVATION,
    ENV_ID,
    EnvSetupError,
    MultiAgentTradingEnv,
    ObservationBuilder,
    ObservationError,
    TradingEnv,
    make_vector_env,
)
from defisim.envs import trading as trading_mod
from defisim.metrics import DifferentialDownsideDeviation, DifferentialSharpe

EP = 30
WARM = 3
M = "BTCUSDT-FUT"
USDT = "USDT"
STEP_S = 3600.0  # btc_futures' GBM step
ALL_FEATURES = ("position", "balance", "margin", "equity", "pnl", "in_auction",
                "fee_factors", "mark_price", "mid_price", "spread_bps", "prices:3",
                "book:30", "time_left", "reference_price", "reference_lookahead:2")


def make(**kw) -> TradingEnv:
    kw.setdefault("episode_steps", EP)
    kw.setdefault("warmup_steps", WARM)
    return TradingEnv(**kw)


def play(env, seed, actions):
    """Reset with ``seed`` and play ``actions``; the trajectory as lists."""
    obs, info = env.reset(seed=seed)
    out = {"obs": [obs], "rew": [], "term": [], "trunc": [], "info": [info]}
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out["obs"].append(obs)
        out["rew"].append(r)
        out["term"].append(term)
        out["trunc"].append(trunc)
        out["info"].append(info)
        if term or trunc:
            break
    return out


def assert_same_trajectory(a, b):
    assert len(a["obs"]) == len(b["obs"])
    for x, y in zip(a["obs"], b["obs"], strict=True):
        assert x.dtype == y.dtype == np.float32
        assert np.array_equal(x, y)
    assert a["rew"] == b["rew"]
    assert a["term"] == b["term"]
    assert a["trunc"] == b["trunc"]
    assert a["info"] == b["info"]


def random_actions(env, n, seed=7):
    env.action_space.seed(seed)
    return [env.action_space.sample() for _ in range(n)]


def obs_dict(env, obs):
    assert len(env.observation_names) == len(obs)
    return dict(zip(env.observation_names, obs.tolist(), strict=True))


# ----------------------------------------------------------------- 1. API checks
@pytest.mark.parametrize("reward", ["pnl", "pnl_inventory", "dsr", "ddr", "terminal"])
@pytest.mark.parametrize("action", ["discrete", "continuous", "quotes"])
def test_gymnasium_check_env(action, reward):
    env = make(episode_steps=8, action={"kind": action},
               reward={"kind": reward, "inventory_penalty": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unbounded Box and the missing spec
        check_env(env)
    assert env.observation_space.shape == (len(env.observation_names),)
    expected = {"discrete": gymnasium.spaces.Discrete(3),
                "quotes": gymnasium.spaces.Discrete(5)}
    if action in expected:
        assert env.action_space == expected[action]
    else:
        assert env.action_space.shape == (3,)
        assert env.action_space.low.tolist() == [-1.0, 0.0, -1.0]


def test_gymnasium_make_by_id():
    assert ENV_ID == "defisim/Trading-v0"
    env = gymnasium.make(ENV_ID, episode_steps=7, warmup_steps=2, render_mode="ansi")
    assert isinstance(env.unwrapped, TradingEnv)
    assert env.unwrapped.config.episode_steps == 7
    obs, info = env.reset(seed=3)
    assert obs.shape == env.observation_space.shape and info["seed"] == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the passive checker: no metadata["render_fps"]
        assert env.render().startswith("step 0/7 mid ")
    steps = 0
    terminated = False
    while not terminated:
        obs, _, terminated, truncated, info = env.step(0)
        steps += 1
        assert not truncated
        assert (steps == 7) == terminated
    assert info["step"] == 7
    assert env.unwrapped.render().startswith("step 7/7 ")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(gymnasium.make(ENV_ID, episode_steps=5, warmup_steps=2).unwrapped)


# ----------------------------------------------------------------- 2. determinism
def test_same_seed_same_episode_bit_for_bit():
    env = make(action={"kind": "continuous"})
    actions = random_actions(env, EP)
    a = play(env, 11, actions)
    b = play(env, 11, actions)
    assert len(a["rew"]) == EP and a["term"][-1] and not any(a["term"][:-1])
    assert_same_trajectory(a, b)
    # something happened: the learner traded and got non-zero rewards
    assert any(i["traded"] > 0 for i in a["info"][1:])
    assert any(r != 0.0 for r in a["rew"])


def test_different_seed_gives_different_episode():
    env = make()
    actions = random_actions(env, EP)
    a = play(env, 0, actions)
    feed = env.state.scenario.feed
    b = play(env, 1, actions)
    # both start from the same warmed-up snapshot ...
    assert np.array_equal(a["obs"][0], b["obs"][0])
    # ... and go different ways
    assert not np.array_equal(a["obs"][-1], b["obs"][-1])
    assert a["rew"] != b["rew"]
    # the GBM future is redrawn: same price now, different path ahead
    env.reset(seed=0)
    f0 = env.state.scenario.feed
    ahead0 = [f0.price_ahead(k) for k in range(1, 6)]
    env.reset(seed=1)
    f1 = env.state.scenario.feed
    assert f1 is not feed and f1 is not f0  # a fresh copy per episode
    assert f0.price == f1.price
    assert all(p != q for p, q in zip(ahead0, [f1.price_ahead(k) for k in range(1, 6)],
                                      strict=True))


def test_agents_are_reseeded_per_episode():
    env = make()
    env.reset(seed=5)
    streams = RandomStreams(5)
    agents = env.state.agents
    assert len(agents) > 5
    for a in agents:
        assert a.rng.random() == streams.generator(f"agent:{a.name}").random()
    assert env.state.scheduler.rng.random() == \
        streams.generator("runner:agent_order").random()
    # with a flat reference path (sigma 0) only the agents' randomness differs by seed
    flat = make(episode_steps=20, scenario_params={"sigma": 0.0})
    acts = [i % 3 for i in range(20)]
    a, b = play(flat, 0, acts), play(flat, 1, acts)
    assert flat.state.scenario.feed.price_ahead(5) == 30_000.0
    assert np.array_equal(a["obs"][0], b["obs"][0])
    assert not np.array_equal(a["obs"][-1], b["obs"][-1])


def test_two_envs_same_config_agree(monkeypatch):
    cfg = dict(action={"kind": "quotes"}, reward={"kind": "pnl_inventory",
                                                  "inventory_penalty": 0.5})
    env_a = make(**cfg)
    actions = random_actions(env_a, EP)
    a = play(env_a, 21, actions)
    env_b = make(**cfg)
    assert env_b.session is env_a.session  # the snapshot is shared in a process
    assert_same_trajectory(a, play(env_b, 21, actions))
    # and a rebuilt scenario (no shared snapshot) gives the same episode too
    monkeypatch.setattr(trading_mod, "_SESSIONS", {})
    env_c = make(**cfg)
    assert env_c.session is not env_a.session
    assert env_c.session.snapshot_bytes == env_a.session.snapshot_bytes
    assert_same_trajectory(a, play(env_c, 21, actions))


_CHILD = """
import hashlib, numpy as np
from defisim.envs import TradingEnv
env = TradingEnv(episode_steps=12, warmup_steps=3)
h = hashlib.sha256()
obs, _ = env.reset(seed=5)
h.update(obs.tobytes())
for i in range(12):
    obs, r, *_ = env.step(i % 3)
    h.update(obs.tobytes()); h.update(np.float64(r).tobytes())
print(h.hexdigest())
"""


def test_episode_identical_across_processes_and_hash_seeds():
    """What an AsyncVectorEnv relies on: each worker builds its own snapshot."""
    import hashlib

    env = make(episode_steps=12)
    h = hashlib.sha256()
    obs, _ = env.reset(seed=5)
    h.update(obs.tobytes())
    for i in range(12):
        obs, r, *_ = env.step(i % 3)
        h.update(obs.tobytes())
        h.update(np.float64(r).tobytes())
    here = h.hexdigest()
    envvars = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                         env=envvars, check=True, timeout=60)
    assert out.stdout.strip() == here


def test_unseeded_resets_draw_seeds_from_the_seeded_generator():
    env = make()
    _, info = env.reset(seed=3)
    assert info["seed"] == 3
    _, info2 = env.reset()
    expected = int(np.random.default_rng(3).integers(0, 2**63 - 1))
    assert info2["seed"] == expected != 3
    # a fresh env draws from base_seed's generator
    _, info3 = make(base_seed=0).reset()
    assert info3["seed"] == int(np.random.default_rng(0).integers(0, 2**63 - 1))


# ----------------------------------------------------------------- 3. reset
def test_reset_restores_the_snapshot():
    env = make(observation=("position", "balance", "margin", "equity", "pnl"))
    obs0, info0 = env.reset(seed=2)
    now0 = env.state.sim.now
    assert now0 == WARM * STEP_S
    assert obs0.tolist() == [0.0, 100_000.0, 0.0, 100_000.0, 0.0]
    for _ in range(5):
        obs, _, _, _, info = env.step(1)  # buy 0.1 five times
    sim = env.state.sim
    assert info["position"] == pytest.approx(0.5, abs=1e-12)
    assert sim.balance("learner", USDT) < 100_000.0
    assert sim.balance("learner", USDT, "margin", M) > 0.0
    assert sim.now == now0 + 5 * STEP_S
    obs1, info1 = env.reset(seed=4)
    sim = env.state.sim
    assert sim.now == now0
    assert obs1.tolist() == obs0.tolist()
    assert sim.futures.position("learner", M) == 0.0
    assert sim.balance("learner", USDT) == 100_000.0
    assert sim.equity("learner", USDT) == 100_000.0
    assert sim.futures.open_orders(party="learner") == []
    assert info1["pnl"] == 0.0 and info1["position"] == 0.0 and info1["equity"] == 100_000.0


def test_steps_per_action_with_invariant_checks():
    env = make(episode_steps=6, steps_per_action=3, check_invariants=True,
               observation=("position", "time_left"))
    obs, _ = env.reset(seed=0)
    assert env.state.sim.chain.check_invariants is True
    now0 = env.state.sim.now
    for k in range(6):
        obs, _, term, _, info = env.step(k % 3)
        assert env.state.sim.now == now0 + 3 * STEP_S * (k + 1)
        assert env.state.step == WARM + 3 * (k + 1)
        assert obs[1] == pytest.approx(1 - (k + 1) / 6, abs=1e-7)
        assert term == (k == 5)
    feed = env.state.scenario.feed
    assert feed.index == WARM + 18 - 1  # the feed stepped at every scenario step ...
    assert len(feed.path) >= feed.index + 2  # ... and the path covers the episode


# ----------------------------------------------------------------- 4. observations
def test_default_observation_names_and_size():
    env = make()
    names = env.observation_names
    assert len(names) == env.observation_space.shape[0] == 39
    assert names[:7] == ["position", "balance", "margin", "in_auction", "maker_fee",
                         "infrastructure_fee", "liquidity_fee"]
    assert names[8:10] == ["prices:10[0]", "prices:10[1]"] and names[-1] == "time_left"
    assert ObservationBuilder(DEFAULT_OBSERVATION).lookahead is False
    assert ObservationBuilder(["position", "reference_lookahead:3"]).lookahead is True
    full = ObservationBuilder(ALL_FEATURES)
    assert full.size == len(full.names) == 1 + 1 + 1 + 1 + 1 + 1 + 3 + 1 + 1 + 1 + 3 + 120 + 3
    assert full.history == 4


def test_observation_features_match_the_simulation():
    env = make(observation=ALL_FEATURES, episode_steps=10)
    feed_lookahead_checked = 0
    obs, info = env.reset(seed=8)
    mids = [info["mid"]]
    for t in range(11):
        o = obs_dict(env, obs)
        sim = env.state.sim
        f32 = np.float32
        assert info["position"] == sim.futures.position("learner", M)
        assert o["position"] == f32(info["position"])
        assert o["balance"] == f32(sim.balance("learner", USDT))
        assert o["margin"] == f32(sim.balance("learner", USDT, "margin", M))
        assert o["equity"] == f32(sim.equity("learner", USDT)) == f32(info["equity"])
        assert o["pnl"] == f32(sim.pnl("learner", USDT)) == f32(info["pnl"])
        assert o["in_auction"] == 0.0
        assert [o["maker_fee"], o["infrastructure_fee"], o["liquidity_fee"]] == \
            [f32(0.00025), f32(0.0005), 0.0]
        assert o["mark_price"] == f32(sim.futures.mark_price(M))
        bid, ask = sim.futures.best_prices(M)
        mid = (bid + ask) / 2
        assert o["mid_price"] == f32(mid) and info["mid"] == pytest.approx(mid, rel=1e-15)
        assert o["spread_bps"] == pytest.approx(1e4 * (ask - bid) / mid, rel=1e-6)
        assert o["time_left"] == pytest.approx(1 - t / 10, abs=1e-7)
        # prices:3 -- log-returns to the mids of the last env steps, 0 before the start
        for j in range(3):
            want = 1e4 * math.log(mids[-2 - j] / mids[-1]) if len(mids) >= j + 2 else 0.0
            assert o[f"prices:3[{j}]"] == pytest.approx(want, rel=1e-5, abs=1e-4)
        # book:30 -- (distance from the mid in bps, size) per level, bids then asks
        depth = sim.futures.market_depth(M, 30)
        want = np.zeros(120)
        for side, rows in ((0, depth["bids"]), (60, depth["asks"])):
            assert 1 <= len(rows) < 30  # so some levels are absent (zeros)
            for j, (p, size) in enumerate(rows):
                want[side + 2 * j] = 1e4 * abs(p - mid) / mid
                want[side + 2 * j + 1] = size
        got = np.array([o[f"book:30[{k}]"] for k in range(120)])
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
        assert got[0] > 0 and got[60] > 0  # best bid and ask are away from the mid
        feed = env.state.scenario.feed
        assert o["reference_price"] == f32(feed.price)
        ahead = 1e4 * math.log(feed.price_ahead(2) / feed.price)
        assert o["reference_lookahead:2"] == pytest.approx(ahead, rel=1e-5, abs=1e-4)
        feed_lookahead_checked += ahead != 0.0
        if t == 10:
            break
        obs, _, _, _, info = env.step([1, 2, 1, 0][t % 4])
        mids.append(info["mid"])
    assert feed_lookahead_checked >= 9
    assert info["position"] != 0.0  # the position feature was checked off zero


@pytest.mark.parametrize("names, match", [
    (["nope"], "unknown observation feature 'nope'; known: position, "),
    (["prices:0"], r"'prices:0' needs a positive integer after ':', e.g. prices:5"),
    (["book:x"], r"'book:x' needs a positive integer"),
    (["prices"], r"'prices' needs a positive integer"),
    (["position:2"], "unknown observation feature 'position:2'"),
    (["position", "balance", "position"], "observation feature 'position' listed twice"),
    ([], "needs at least one feature"),
])
def test_bad_observation_names(names, match):
    with pytest.raises(ObservationError, match=match):
        ObservationBuilder(names)
    if names:
        with pytest.raises(EnvSetupError, match=match):
            make(observation=tuple(names))


# ----------------------------------------------------------------- 5. actions
def test_discrete_buy_sell_hold():
    env = make(action={"kind": "discrete", "size": 0.1})
    assert env.action_names == ["hold", "buy", "sell"]
    env.reset(seed=1)
    sim = env.state.sim
    pos = 0.0
    for a, delta in [(1, 0.1), (1, 0.1), (2, -0.1), (0, 0.0), (2, -0.1), (2, -0.1), (0, 0.0)]:
        depth = sim.futures.market_depth(M, 50)
        side = depth["asks"] if a == 1 else depth["bids"]
        assert sum(s for _, s in side) >= 0.1  # the book can fill it
        _, _, _, _, info = env.step(a)
        sim = env.state.sim
        assert info["position"] == pytest.approx(pos + delta, abs=1e-12)
        assert info["sent"] == int(a != 0) and info["rejected"] == 0
        assert info["traded"] == (0.1 if a else 0)  # contracts filled this step
        assert sim.futures.open_orders(party="learner") == []  # IOC: nothing rests
        pos = info["position"]
    assert pos == pytest.approx(-0.1, abs=1e-12)


def test_continuous_limit_order_price_and_replacement():
    env = make(action={"kind": "continuous", "max_size": 0.5, "max_offset_bps": 50.0})
    env.reset(seed=3)
    sim = env.state.sim
    b, a = sim.futures.best_prices(M, raw=True)
    mid = (b + a) / 2
    # buy 0.6 * 0.5 = 0.3 BTC at mid * (1 - 0.5 * 50 / 1e4), floored to the 0.01 tick
    counts = env.learner.sender.apply(np.array([0.7, 0.6, 0.5], dtype=np.float32))
    assert counts == {"sent": 1, "rejected": 0, "traded": 0}
    (order,) = sim.futures.open_orders(party="learner")
    want = math.floor(mid * (1 - 0.5 * 50.0 / 1e4)) / 100
    assert (order.side, order.size, order.order_type, order.time_in_force) == \
        ("buy", 0.3, "LIMIT", "GTC")
    assert order.price == want and order.price < mid / 100
    # the next action cancels it and places the new one: a sell, ceil'ed away from the mid
    env.learner.sender.apply(np.array([-0.3, 1.0, 0.2], dtype=np.float32))
    (order2,) = sim.futures.open_orders(party="learner")
    assert order2.order_id != order.order_id
    offset = float(np.float32(0.2))  # the action is float32
    want2 = math.ceil(mid * (1 + offset * 50.0 / 1e4)) / 100
    assert (order2.side, order2.size, order2.price) == ("sell", 0.5, want2)
    # dead zone and zero size: cancel, send nothing
    for act in ([0.04, 1.0, 0.5], [1.0, 0.0, 0.5]):
        assert env.learner.sender.apply(np.array(act, dtype=np.float32))["sent"] == 0
        assert sim.futures.open_orders(party="learner") == []
    # through step(): one resting order at most, always replaced
    for _ in range(3):
        env.step(np.array([0.5, 0.2, 0.9], dtype=np.float32))
        assert len(env.state.sim.futures.open_orders(party="learner")) <= 1
    # offset < 0 crosses the spread and trades at once
    _, _, _, _, info = env.step(np.array([1.0, 0.2, -1.0], dtype=np.float32))
    assert info["traded"] > 0


def test_quotes_action_places_and_cancels_post_only_quotes():
    env = make(action={"kind": "quotes", "size": 0.2, "spreads_bps": (4.0, 30.0)})
    assert env.action_names == ["no_quotes", "quote_4bps", "quote_30bps"]
    env.reset(seed=6)
    sim = env.state.sim
    b, a = sim.futures.best_prices(M, raw=True)
    mid = (b + a) / 2
    counts = env.learner.sender.apply(2)
    assert counts == {"sent": 2, "rejected": 0, "traded": 0}
    bid, ask = sorted(sim.futures.open_orders(party="learner"), key=lambda o: o.side)
    assert (bid.side, ask.side) == ("buy", "sell")
    assert bid.price == math.floor(mid * (1 - 30.0 / 2e4)) / 100
    assert ask.price == math.ceil(mid * (1 + 30.0 / 2e4)) / 100
    assert bid.size == ask.size == 0.2
    assert all(o.post_only for o in sim.futures.internal_market(M).parties["learner"].orders.values())
    env.learner.sender.apply(1)  # replaced by the 4 bps quotes: still two
    quotes = sim.futures.open_orders(party="learner")
    assert len(quotes) == 2
    assert {o.price for o in quotes} == {math.floor(mid * (1 - 2e-4)) / 100,
                                         math.ceil(mid * (1 + 2e-4)) / 100}
    assert env.learner.sender.apply(0) == {"sent": 0, "rejected": 0, "traded": 0}
    assert sim.futures.open_orders(party="learner") == []


@pytest.mark.parametrize("kind, bad", [
    ("discrete", 3), ("discrete", -1), ("discrete", "buy"), ("quotes", 5),
    ("continuous", [0.5, 0.5]), ("continuous", [0.5, np.nan, 0.1]),
])
def test_out_of_range_action_raises(kind, bad):
    env = make(action={"kind": kind})
    env.reset(seed=0)
    now = env.state.sim.now
    with pytest.raises(ValueError, match="action"):
        env.step(bad)
    assert env.state.sim.now == now  # nothing ran


# ----------------------------------------------------------------- 6. rewards
def _episode(reward, seed=9, n=EP, **kw):
    env = make(reward=reward, **kw)
    return play(env, seed, random_actions(env, n))


def _dpnl(tr):
    pnl = [i["pnl"] for i in tr["info"]]
    return [b - a for a, b in zip(pnl, pnl[1:], strict=False)]


def test_pnl_reward_telescopes_to_episode_pnl():
    tr = _episode({"kind": "pnl"})
    assert len(tr["rew"]) == EP
    assert sum(tr["rew"]) == pytest.approx(tr["info"][-1]["pnl"], abs=1e-6)
    assert tr["info"][-1]["pnl"] != 0.0
    np.testing.assert_allclose(tr["rew"], _dpnl(tr), rtol=0, atol=1e-8)
    scaled = _episode({"kind": "pnl", "scale": 1e-3})
    np.testing.assert_allclose(scaled["rew"], np.array(tr["rew"]) * 1e-3, rtol=1e-12, atol=0)


def test_pnl_inventory_reward():
    tr = _episode({"kind": "pnl_inventory", "inventory_penalty": 2.5})
    pos = [i["position"] for i in tr["info"][1:]]
    assert any(p != 0 for p in pos)
    want = [d - 2.5 * abs(q) for d, q in zip(_dpnl(tr), pos, strict=True)]
    np.testing.assert_allclose(tr["rew"], want, rtol=0, atol=1e-8)


def test_terminal_reward():
    tr = _episode({"kind": "terminal", "scale": 2.0})
    assert tr["rew"][:-1] == [0.0] * (EP - 1)
    assert tr["rew"][-1] == pytest.approx(2.0 * tr["info"][-1]["pnl"], abs=1e-9)
    assert tr["rew"][-1] != 0.0


@pytest.mark.parametrize("kind, cls", [("dsr", DifferentialSharpe),
                                       ("ddr", DifferentialDownsideDeviation)])
def test_differential_ratio_rewards(kind, cls):
    tr = _episode({"kind": kind, "eta": 0.1}, collateral=50_000.0)
    ratio = cls(0.1)
    want = [ratio.update(d / 50_000.0) for d in _dpnl(tr)]
    assert tr["rew"][0] == 0.0  # A = B = 0 at the first step
    np.testing.assert_allclose(tr["rew"], want, rtol=1e-6, atol=1e-12)
    assert sum(abs(r) for r in tr["rew"]) > 0


_RUIN = dict(collateral=200.0, scenario_params={"sigma": 3.0},
             action={"kind": "discrete", "size": 0.05}, episode_steps=40)


def test_ruin_terminates_early():
    env = make(**_RUIN)
    tr = play(env, 2, [1] * 40)
    assert tr["term"][-1] and len(tr["rew"]) < 40
    assert tr["info"][-1]["equity"] <= 0.05 * 200.0
    assert sum(tr["rew"]) == pytest.approx(tr["info"][-1]["pnl"], abs=1e-6)


def test_terminal_reward_on_ruin_pays_the_loss():
    env = make(**_RUIN, reward={"kind": "terminal"})
    tr = play(env, 2, [1] * 40)
    assert tr["term"][-1] and len(tr["rew"]) < 40  # ruined
    assert sum(tr["rew"]) == pytest.approx(tr["info"][-1]["pnl"], abs=1e-6)


# ----------------------------------------------------------------- 7. bad input
@pytest.mark.parametrize("kw, match", [
    (dict(scenario="nope"), r"unknown scenario 'nope'; available: .*btc_futures"),
    (dict(foo=1), r"bad environment parameters: foo: Extra inputs are not permitted"),
    (dict(episode_steps="many"), r"bad environment parameters: episode_steps: "),
    (dict(collateral=0.0), r"collateral: Input should be greater than 0"),
    (dict(action={"kind": "market"}), r"action.kind: "),
    (dict(reward={"kind": "pnl", "eta": 2.0}), r"reward.eta: "),
    (dict(scenario_params={"nope": 1}), r"btc_futures: .*nope.*Extra inputs"),
    (dict(scenario_params={"mm_levels": "x"}), r"btc_futures: .*mm_levels"),
    (dict(learner="mm_as_0"), r"learner name 'mm_as_0' is already a party or agent of "
                              r"btc_futures"),
    (dict(market="ETHUSDT-FUT"), r"market 'ETHUSDT-FUT' not in scenario btc_futures"),
    (dict(scenario="simplegrant"), r"scenario simplegrant creates no market"),
])
def test_bad_setup_raises_env_setup_error(kw, match):
    with pytest.raises(EnvSetupError, match=match):
        make(**kw)


def test_step_before_reset_and_bad_vector_count():
    env = make()
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        env.step(0)
    with pytest.raises(RuntimeError, match="reset"):
        MultiAgentTradingEnv(episode_steps=5, warmup_steps=2, learners={"a": {}}).step({"a": 0})
    with pytest.raises(ValueError, match="num_envs must be >= 1"):
        make_vector_env(0)
    with pytest.raises(EnvSetupError, match="foo"):
        make_vector_env(2, foo=1)


# ----------------------------------------------------------------- 8. PettingZoo
MM_LEARNERS = {
    "mm_a": {"action": {"kind": "quotes"}, "reward": {"kind": "pnl_inventory",
                                                      "inventory_penalty": 1.0}},
    "mm_b": {"action": {"kind": "quotes", "spreads_bps": [8.0, 16.0]}, "collateral": 50_000.0},
    "taker": {"observation": ["position", "pnl", "spread_bps"]},
}


def make_multi(**kw):
    kw.setdefault("episode_steps", 20)
    kw.setdefault("warmup_steps", WARM)
    return MultiAgentTradingEnv(learners=MM_LEARNERS, **kw)


def test_pettingzoo_parallel_api():
    from pettingzoo.test import parallel_api_test

    env = make_multi()
    parallel_api_test(env, num_cycles=40)
    assert env.possible_agents == ["mm_a", "mm_b", "taker"]
    assert env.action_space("mm_a") == gymnasium.spaces.Discrete(5)
    assert env.action_space("mm_b") == gymnasium.spaces.Discrete(3)
    assert env.action_space("taker") == gymnasium.spaces.Discrete(3)
    assert env.observation_space("taker").shape == (3,)
    assert env.observation_names["taker"] == ["position", "pnl", "spread_bps"]
    obs, infos = env.reset(seed=0)
    assert obs["mm_b"][1] == 50_000.0 and obs["mm_a"][1] == 100_000.0  # balance feature
    assert infos["taker"]["seed"] == 0


def _play_multi(env, seed, steps=20):
    obs, _ = env.reset(seed=seed)
    traj = [obs]
    k = 0
    while env.agents:
        acts = {a: (k + i) % env.action_space(a).n for i, a in enumerate(env.agents)}
        traj.append(env.step(acts))
        k += 1
    assert k == steps
    return traj


def _same_multi(a, b):
    assert len(a) == len(b)
    for x, y in zip(a[1:], b[1:], strict=True):
        for da, db in zip(x, y, strict=True):
            assert da.keys() == db.keys()
            for key in da:
                if isinstance(da[key], np.ndarray):
                    assert np.array_equal(da[key], db[key])
                else:
                    assert da[key] == db[key]


def test_pettingzoo_same_seed_same_episode():
    env = make_multi()
    a, b = _play_multi(env, 4), _play_multi(env, 4)
    _same_multi(a, b)
    # all three acted: the makers quoted, the taker traded
    last_infos = a[-1][4]
    assert last_infos["mm_a"]["sent"] > 0 or last_infos["mm_b"]["sent"] > 0
    assert any(step[4]["taker"]["traded"] > 0 for step in a[1:])
    c = _play_multi(env, 5)
    assert not all(np.array_equal(x[0]["mm_a"], y[0]["mm_a"])
                   for x, y in zip(a[1:], c[1:], strict=True))
    _same_multi(a, _play_multi(make_multi(), 4))  # a second env agrees


def test_pettingzoo_learners_act_in_random_order():
    """Two identical makers quoting the same prices: time priority goes to whoever the
    per-step ``env:learner_order`` draw puts first, so each leads sometimes."""
    env = MultiAgentTradingEnv(learners={"a": {"action": {"kind": "quotes"}},
                                         "b": {"action": {"kind": "quotes"}}},
                               episode_steps=20, warmup_steps=WARM)
    env.reset(seed=1)
    firsts = []
    for _ in range(20):
        env.step({"a": 4, "b": 4})  # 40 bps: wide, mostly left resting
        sim = env.state.sim
        ids = {p: min((o.order_id for o in sim.futures.open_orders(party=p)), default=None)
               for p in ("a", "b")}
        if None not in ids.values():
            firsts.append(min(ids, key=ids.get))
    assert len(firsts) >= 10
    assert 0 < firsts.count("a") < len(firsts)


def test_pettingzoo_ruined_learner_leaves():
    env = MultiAgentTradingEnv(
        learners={"poor": {"collateral": 200.0, "action": {"kind": "discrete", "size": 0.05}},
                  "rich": {"action": {"kind": "quotes"}}},
        episode_steps=30, warmup_steps=WARM, scenario_params={"sigma": 3.0})
    env.reset(seed=2)
    steps, ruined_at = 0, None
    while env.agents:
        acts = {a: 1 if a == "poor" else 2 for a in env.agents}
        _, _, terms, _, infos = env.step(acts)
        steps += 1
        if "poor" in terms and terms["poor"]:
            ruined_at = steps
            assert infos["poor"]["equity"] <= 0.05 * 200.0
            assert env.state.sim.futures.open_orders(party="poor") == []
        if ruined_at is not None and steps > ruined_at:
            assert set(terms) == {"rich"}
            assert env.agents == ([] if steps == 30 else ["rich"])
    assert ruined_at is not None and ruined_at < 30
    assert steps == 30  # the others play on to the end


def test_pettingzoo_bad_learners():
    with pytest.raises(EnvSetupError, match=r"learner 'x': unknown per-learner fields "
                                            r"\['episode_steps'\]; allowed: "):
        MultiAgentTradingEnv(learners={"x": {"episode_steps": 5}}, episode_steps=5)
    with pytest.raises(EnvSetupError, match="learner 'x': unknown per-learner fields"):
        MultiAgentTradingEnv(learners={"x": {"scenario": "rmsc04"}}, episode_steps=5)
    with pytest.raises(EnvSetupError, match="at least one learner"):
        MultiAgentTradingEnv(learners={}, episode_steps=5)
    with pytest.raises(EnvSetupError, match="'mm_sym_0' is already a party or agent"):
        MultiAgentTradingEnv(learners={"mm_sym_0": {}}, episode_steps=5, warmup_steps=2)
    with pytest.raises(EnvSetupError, match="learner 'y'.*unknown observation feature"):
        MultiAgentTradingEnv(learners={"y": {"observation": ["bogus"]}}, episode_steps=5)
    env = make_multi()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"no action for \['taker'\]"):
        env.step({"mm_a": 0, "mm_b": 0})


# ----------------------------------------------------------------- 9. vector env
def test_vector_env():
    n, ep = 4, 5
    venv = make_vector_env(n, episode_steps=ep, warmup_steps=WARM)
    obs, infos = venv.reset(seed=0)
    assert obs.shape == (n, 39) and obs.dtype == np.float32
    assert infos["seed"].tolist() == [0, 1, 2, 3]
    first = obs.copy()
    acts = [np.array([(t + k) % 3 for k in range(n)]) for t in range(2 * ep + 3)]
    rows = [obs.copy()]
    rewards = []
    for t, a in enumerate(acts):
        obs, rew, term, trunc, infos = venv.step(a)
        rows.append(obs.copy())
        rewards.append(rew.copy())
        assert not trunc.any()
        assert term.all() == ((t + 1) % (ep + 1) == ep) and term.all() == term.any()
        if t == ep:  # next-step autoreset: the reset observation, reward 0
            assert np.array_equal(obs, first) and not rew.any()
    # the copies play different episodes
    assert all(not np.array_equal(rows[3][i], rows[3][j])
               for i in range(n) for j in range(i + 1, n))
    # copy i of a vector env reset with seed 0 plays a TradingEnv reset with seed i
    single = make(episode_steps=ep)
    for i in range(n):
        tr = play(single, i, [acts[t][i] for t in range(ep)])
        assert np.array_equal(tr["obs"][0], first[i])
        for t in range(ep):
            assert np.array_equal(tr["obs"][t + 1], rows[t + 1][i])
            assert tr["rew"][t] == rewards[t][i]
    venv.close()


def test_async_vector_env_matches_single_envs():
    venv = make_vector_env(2, episode_steps=5, warmup_steps=WARM, asynchronous=True)
    assert isinstance(venv, gymnasium.vector.AsyncVectorEnv)
    try:
        venv.reset(seed=10)
        steps = [venv.step(np.array([1, 2])) for _ in range(5)]
    finally:
        venv.close()
    single = make(episode_steps=5)
    for i, a in enumerate([1, 2]):
        tr = play(single, 10 + i, [a] * 5)
        for t in range(5):
            assert np.array_equal(tr["obs"][t + 1], steps[t][0][i])
            assert tr["rew"][t] == steps[t][1][i]
    assert steps[-1][2].all()


# ----------------------------------------------------------------- 10. SB3 trains
def test_sb3_ppo_trains_on_the_env():
    """The "SB3 trains on the env" check: Stable-Baselines3's own env checker and
    a short PPO run, unchanged, on a TradingEnv."""
    torch = pytest.importorskip("torch")
    sb3 = pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    torch.set_num_threads(1)
    # a light background (one quote level, fewer takers) keeps 2,048 steps to ~2 s
    light = {"mm_levels": 1, "noise_count": 1, "taker_count": 1, "ps_taker_count": 1}
    env = make(episode_steps=64, scenario_params=light, reward={"kind": "pnl", "scale": 1e-2})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sb3_check_env(env)
    model = sb3.PPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=2, seed=0,
                    device="cpu", verbose=0)
    model.learn(2048)
    assert model.num_timesteps == 2048
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(int(action))


def test_package_exports():
    assert set(defisim.envs.__all__) >= {"TradingEnv", "MultiAgentTradingEnv",
                                         "make_vector_env", "ENV_ID", "EnvSetupError"}


def test_feature_the_scenario_cannot_give_fails_at_construction():
    # the fuzz scenario has no reference price feed
    with pytest.raises(EnvSetupError, match="no reference price feed"):
        TradingEnv(scenario="fuzz", observation=("position", "reference_price"),
                   episode_steps=5, warmup_steps=2)


def test_step_after_the_episode_ended_raises():
    env = make(episode_steps=2)
    env.reset(seed=0)
    env.step(0)
    *_, terminated, _, _ = env.step(0)
    assert terminated
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    env.reset(seed=0)
    env.step(0)  # fine again


def test_order_size_below_the_markets_lot_fails_at_construction():
    # rmsc04 trades whole shares (position_decimal_places=0): 0.1 can never be sent
    with pytest.raises(EnvSetupError, match="below one lot"):
        TradingEnv(scenario="rmsc04", episode_steps=3, warmup_steps=2,
                   action={"kind": "discrete", "size": 0.1})
    env = TradingEnv(scenario="rmsc04", episode_steps=3, warmup_steps=2,
                     action={"kind": "discrete", "size": 10})
    env.reset(seed=0)
    ask_size = sum(v for _, v in env.state.sim.futures.market_depth("RMSC04", 50)["asks"])
    assert ask_size >= 10  # the makers quote from the first step
    *_, info = env.step(1)
    assert info["sent"] == 1 and info["traded"] == 10.0 and info["position"] == 10.0
