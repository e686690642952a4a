"""The compute-marketplace PettingZoo environment (spec 8, "Multi-agent RL")."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

from defisim.envs import EnvSetupError  # noqa: E402
from defisim.envs.compute import ComputeMarketEnv  # noqa: E402
from defisim.envs.compute_obs import OBSERVATION_NAMES  # noqa: E402
from defisim.protocols.compute import types as ctypes  # noqa: E402

SMALL = {"n_clients": 4, "n_providers": 2, "n_mediators": 1, "step_seconds": 5.0,
         "rate_per_h": 6.0}
ONE_ON_ONE = {"n_clients": 1, "n_providers": 1, "n_mediators": 1, "step_seconds": 5.0,
              "rate_per_h": 1.0, "class_mix": {"cpu-small": 1.0}, "gpu_share": 0.0,
              "verification": "none"}


def make(**kw):
    kw.setdefault("scenario_params", SMALL)
    kw.setdefault("horizon_steps", 200)
    kw.setdefault("warmup_steps", 4)
    return ComputeMarketEnv(**kw)


def test_parallel_api_test_passes():
    from pettingzoo.test import parallel_api_test

    env = make(learners=("provider0", "client1"))
    parallel_api_test(env, num_cycles=200)
    assert env.observation_space("provider0").shape == (len(OBSERVATION_NAMES),)
    assert env.action_space("client1").shape == (2,)


def _play(env, seed, policy_seed=7):
    rng = np.random.default_rng(policy_seed)
    obs, _ = env.reset(seed=seed)
    traj = [obs]
    rewards, decided = [], 0
    while env.agents:
        acts = {a: rng.random(2).astype(np.float32) for a in env.agents}
        obs, r, _, _, info = env.step(acts)
        traj.append(obs)
        rewards.append(r)
        decided += sum(i["decided"] for i in info.values())
    return traj, rewards, decided


def test_same_seed_same_episode_other_seed_differs():
    env = make(learners=("provider0", "client1"))
    t1, r1, d1 = _play(env, 11)
    t2, r2, d2 = _play(env, 11)
    assert d1 > 0 and d1 == d2 and r1 == r2
    assert all(np.array_equal(a[k], b[k]) for a, b in zip(t1, t2, strict=True) for k in a)
    t3, r3, _ = _play(env, 12)
    assert r3 != r1 or any(not np.array_equal(a[k], b[k])
                           for a, b in zip(t1, t3, strict=False) for k in a)


def test_accepting_provider_is_paid_price_minus_costs():
    """One client, one learner provider that accepts every price: up to its first
    collect, its rewards sum to the deal's price less gas and electricity, i.e. the
    book's provider surplus plus the amortisation (not a cash cost) by hand."""
    env = make(learners=("provider0",), scenario_params=ONE_ON_ONE, horizon_steps=3000)
    env.reset(seed=6)
    ln = env.learner("provider0")
    book = env.state.scenario.market.book
    total, accepted = 0.0, 0
    while env.agents and not book.provider_surplus:
        _, r, _, _, info = env.step({"provider0": np.array([1.0, 0.0], np.float32)})
        total += r["provider0"]
        accepted += info["provider0"]["decided"]
    assert book.provider_surplus and accepted >= 1
    assert not ln.running and len(book.agreed) == 1
    cls = ctypes.JOB_CLASSES["cpu-small"]
    amort = cls.cpu * 0.02 * ctypes.run_time_s(
        ctypes.Job("j", "c", cls.name, cls.cpu, cls.gpu, cls.ram_gib, cls.duration_s,
                   cls.instruction_count, 0.0), ln.machines[0]) / 3600
    assert total == pytest.approx(book.provider_surplus[0] + amort, abs=1e-9)
    price = book.agreed[0][3]  # the client's request price, echoed by the accept
    assert total == pytest.approx(price - ln.cost_usd, abs=1e-9)
    assert 0 < total < price


def test_reject_everything_earns_nothing():
    env = make(learners=("provider0",), scenario_params=ONE_ON_ONE, horizon_steps=1500)
    env.reset(seed=5)
    total, decided = 0.0, 0
    while env.agents:
        _, r, _, _, info = env.step({"provider0": np.array([0.0, 0.0], np.float32)})
        total += r["provider0"]
        decided += info["provider0"]["decided"]
    assert decided >= 1 and total == 0.0
    assert env.state.scenario.market.book.agreed == []


def test_invalid_message_is_rejected_and_penalised():
    """A duplicated pending request: the second answer is an offer out of turn, the
    scheme refuses it (a MessageRejected, not a crash) and the step costs c_invalid."""
    env = make(learners=("provider0",), scenario_params=ONE_ON_ONE, horizon_steps=2000,
               c_invalid=0.5)
    env.reset(seed=5)
    ln = env.learner("provider0")
    counter = np.array([0.5, 0.5], np.float32)
    while env.agents and not ln.pending:
        env.step({"provider0": counter})
    assert ln.pending and ln.pending[0].env.type == "request"
    ln.pending.insert(1, ln.pending[0])
    _, r1, _, _, i1 = env.step({"provider0": counter})
    assert i1["provider0"]["decided"] and i1["provider0"]["invalid"] == 0
    _, r2, _, _, i2 = env.step({"provider0": counter})
    assert i2["provider0"]["decided"] and i2["provider0"]["invalid"] == 1
    assert r2["provider0"] == pytest.approx(-0.5, abs=1e-3)
    assert ln.invalid_messages == 1


def test_bad_actions_and_setup():
    env = make(learners=("provider0",))
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"two numbers in \[0, 1\]"):
        env.step({"provider0": np.array([1.5, 0.0])})
    with pytest.raises(ValueError, match="no action"):
        env.step({})
    with pytest.raises(EnvSetupError, match="not a client or provider"):
        make(learners=("mediator0",))
    with pytest.raises(EnvSetupError, match="unknown policy 'nope'"):
        make(learners=("provider0",), policies={"provider1": "nope"})
    with pytest.raises(EnvSetupError, match="is a learner"):
        make(learners=("provider0",), policies={"provider0": "kalman"})
    with pytest.raises(EnvSetupError, match="at least one learner"):
        make(learners=())
    with pytest.raises(EnvSetupError, match="reward"):
        make(reward="sharpe")
    with pytest.raises(RuntimeError, match="reset"):
        make(learners=("provider1",)).step({"provider1": [0, 0]})


def test_dsr_reward_is_finite_and_differs_from_pnl():
    pnl, dsr = make(learners=("provider0",)), make(learners=("provider0",), reward="dsr")
    _, rp, _ = _play(pnl, 3)
    _, rd, _ = _play(dsr, 3)
    xs = [r["provider0"] for r in rd]
    assert all(math.isfinite(x) for x in xs)
    assert any(x != 0 for x in xs) and xs != [r["provider0"] for r in rp]


def test_policy_seat_override_changes_the_market():
    """``policies`` puts a section-5 policy in a background seat: a provider that
    accepts every opening price (naive_accepter) wins deals a rejecter never does."""
    from defisim.envs.compute import ComputeEnvConfig, ComputeSession

    deals = {}
    for pol in ("naive_accepter", "naive_rejecter"):
        cfg = ComputeEnvConfig(learners=(), scenario_params=SMALL, warmup_steps=4,
                               horizon_steps=720, policies={"provider0": pol})
        state = ComputeSession(cfg).restore(2)
        state.advance(720)
        deals[pol] = sum(a[2] == "provider0" for a in state.scenario.market.book.agreed)
    assert deals["naive_rejecter"] == 0 < deals["naive_accepter"]


def test_learner_comparison_script_end_to_end():
    """A tiny run of docs/compute_learner.py (under a second)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "docs" / "compute_learner.py"
    spec = importlib.util.spec_from_file_location("compute_learner", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--iters", "1", "--pop", "3", "--elite", "2", "--train-seeds", "1",
                    "--test-seeds", "2", "--horizon", "300"])
    theta = np.array(out["theta"])
    assert np.all(theta >= mod.LOW) and np.all(theta <= mod.HIGH)
    for name in mod.BASELINES:
        assert math.isfinite(out[name]["profit"][0])
    assert math.isfinite(out["learner (CEM threshold)"]["profit"][0])


def test_restored_snapshot_equals_a_rebuilt_warm_up():
    """The session unpickles its warm-up snapshot; an episode from it is the episode a
    fresh build and warm-up reseeded the same way gives (deals, bus traffic, values)."""
    from defisim.envs.compute import ComputeEnvConfig, ComputeSession

    cfg = ComputeEnvConfig(learners=(), scenario_params=SMALL, warmup_steps=4,
                           horizon_steps=300)
    session = ComputeSession(cfg)
    assert session.snapshot_bytes > 0

    def run(state):
        state.advance(300)
        bus = state.sim.compute.protocol.bus
        return (list(state.scenario.market.book.agreed),
                sorted((t, s.state, s.close_reason, len(s.history))
                       for t, s in bus.topics.items()),
                [(r.reason, r.sender) for r in bus.rejections],
                [(a.name, a.rng.random()) for a in state.agents])

    for seed in (3, 4):
        restored = run(session.restore(seed))
        assert restored == run(session._reseed(session._build(), seed))
        assert restored[0] and restored[1]  # deals were made, topics opened
    assert run(session.restore(3)) != run(session.restore(4))
