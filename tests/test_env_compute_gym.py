"""The single-learner compute marketplace as a Gymnasium env (spec 8)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

import gymnasium  # noqa: E402

from defisim.envs import COMPUTE_ENV_ID, ComputeGymEnv, EnvSetupError  # noqa: E402
from defisim.envs.compute import ComputeMarketEnv  # noqa: E402
from defisim.envs.compute_obs import OBSERVATION_NAMES  # noqa: E402

SMALL = {"n_clients": 4, "n_providers": 2, "n_mediators": 1, "step_seconds": 5.0,
         "rate_per_h": 6.0}


def make(**kw):
    kw.setdefault("scenario_params", SMALL)
    kw.setdefault("horizon_steps", 200)
    kw.setdefault("warmup_steps", 4)
    return ComputeGymEnv(**kw)


def test_check_env_passes_and_spaces():
    from gymnasium.utils.env_checker import check_env

    env = make(learner="client1")
    check_env(env, skip_render_check=True)
    assert env.observation_space.shape == (len(OBSERVATION_NAMES),)
    assert env.action_space == gymnasium.spaces.Box(0.0, 1.0, (2,), np.float32)
    assert env.config.learners == ("client1",)
    check_env(make(learner="provider0", reward="surplus"), skip_render_check=True)


def _play(env, seed, policy_seed=7):
    rng = np.random.default_rng(policy_seed)
    obs, info = env.reset(seed=seed)
    traj, rewards, decided, done = [obs], [], 0, False
    while not done:
        obs, r, term, trunc, info = env.step(rng.random(2).astype(np.float32))
        traj.append(obs)
        rewards.append(r)
        decided += info["decided"]
        done = term or trunc
    return np.array(traj), rewards, decided, trunc


def test_same_seed_same_episode_other_seed_differs():
    env = make(learner="provider0")
    t1, r1, d1, trunc = _play(env, 11)
    t2, r2, d2, _ = _play(env, 11)
    assert trunc and len(r1) == 200
    assert d1 > 0 and d1 == d2 and r1 == r2 and np.array_equal(t1, t2)
    t3, r3, _, _ = _play(env, 12)
    assert r3 != r1 or not np.array_equal(t1, t3)


def test_matches_the_multi_agent_env_with_one_learner():
    """The wrapper is the multi env unwrapped: same seed, same actions, same numbers."""
    gym_env = make(learner="provider0", horizon_steps=150)
    multi = ComputeMarketEnv(learners=("provider0",), scenario_params=SMALL,
                             horizon_steps=150, warmup_steps=4)
    o1, _ = gym_env.reset(seed=5)
    o2, _ = multi.reset(seed=5)
    assert np.array_equal(o1, o2["provider0"])
    rng = np.random.default_rng(1)
    while multi.agents:
        a = rng.random(2).astype(np.float32)
        g = gym_env.step(a)
        m = multi.step({"provider0": a})
        assert np.array_equal(g[0], m[0]["provider0"])
        assert g[1:4] == tuple(x["provider0"] for x in m[1:4])
    with pytest.raises(RuntimeError, match="episode has ended"):
        gym_env.step(np.zeros(2, np.float32))


def test_gymnasium_make_and_setup_errors():
    env = gymnasium.make(COMPUTE_ENV_ID, learner="client0", scenario_params=SMALL,
                         horizon_steps=20, warmup_steps=2)
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and info["step"] == 0
    with pytest.raises(RuntimeError, match="reset"):
        make(learner="provider1").step(np.zeros(2, np.float32))
    with pytest.raises(EnvSetupError, match="exactly one learner"):
        make(learners=("provider0", "client0"))
    with pytest.raises(EnvSetupError, match="exactly one learner"):
        make(learners=())
    with pytest.raises(EnvSetupError, match="not a client or provider"):
        make(learner="mediator0")
