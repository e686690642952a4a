"""The compute marketplace's AEC environment, the tuple action and its mask (spec 8)."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

from defisim.envs import ComputeGymEnv, ComputeMarketAEC, ComputeMarketEnv  # noqa: E402
from defisim.envs.compute_actions import MaskedBox, MaskedTuple, parse_action  # noqa: E402

SMALL = {"n_clients": 4, "n_providers": 2, "n_mediators": 1, "step_seconds": 5.0,
         "rate_per_h": 6.0}
ONE_ON_ONE = {"n_clients": 1, "n_providers": 1, "n_mediators": 1, "step_seconds": 5.0,
              "rate_per_h": 1.0, "class_mix": {"cpu-small": 1.0}, "gpu_share": 0.0,
              "verification": "none"}
COUNTER, ACCEPT, REJECT = 0, 1, 2


def make(**kw):
    kw.setdefault("scenario_params", SMALL)
    kw.setdefault("horizon_steps", 1500)
    kw.setdefault("warmup_steps", 4)
    return ComputeMarketAEC(**kw)


@pytest.mark.parametrize("form", ["tuple", "flat"])
def test_api_test_passes(form):
    from pettingzoo.test import api_test

    env = make(learners=("provider0", "client1"), action=form)
    api_test(env, num_cycles=60)
    assert env.config.action == form
    space = env.observation_space("provider0")
    assert space["action_mask"].n == 3 and space["observation"].dtype == np.float32


def _play(env, seed, policy_seed=7):
    rng = np.random.default_rng(policy_seed)
    env.reset(seed=seed)
    env.action_space("provider0").seed(policy_seed)
    traj = []
    for agent in env.agent_iter():
        obs, r, term, trunc, info = env.last()
        a = None if term or trunc else env.action_space(agent).sample(obs["action_mask"])
        if a is not None and rng.random() < 0.1:
            a = (ACCEPT, np.array([0.0], np.float32))  # masked for a provider, now and then
        traj.append((agent, obs["observation"].tobytes(), obs["action_mask"].tobytes(), r,
                     info.get("invalid", 0), env.state.sim.now))
        env.step(a)
    return traj


def test_same_seed_same_trajectory_other_seed_differs():
    env = make(learners=("provider0", "client1"))
    t1, t2 = _play(env, 11), _play(env, 11)
    assert len(t1) > 20 and t1 == t2
    assert {a for a, *_ in t1} == {"provider0", "client1"}
    assert any(x[4] for x in t1)  # a refused (masked) accept happened and was counted
    assert _play(env, 12) != t1


def test_agent_selection_is_the_earliest_pending_decision():
    env = make(learners=("provider0", "provider1", "client1"), horizon_steps=800)
    env.reset(seed=4)
    turns, rng = 0, np.random.default_rng(0)
    for agent in env.agent_iter():
        obs, _, term, trunc, _ = env.last()
        if term or trunc:
            env.step(None)
            continue
        keys = {}
        for i, n in enumerate(env.possible_agents):
            p = env.learner(n).live_pending(env.state.sim)
            if p is not None:
                keys[n] = (p.received, p.env.time, i)
        assert agent in keys and keys[agent] == min(keys.values())
        assert obs["action_mask"].any()
        turns += 1
        env.step((int(rng.integers(0, 3)) if agent == "client1" else COUNTER,
                  np.array([rng.random()], np.float32)))
    assert turns > 10


def test_provider_counters_then_client_accepts_by_hand():
    """One client, one provider, both learning: the provider (mask: counter, reject --
    no provider accept, spec 10.1) counters at a quarter of its range; the client (mask:
    all three) sees that price and accepts; the deal is made at it, and the rewards of
    the ticks that follow are exactly each side's gas (W loses only gas: escrow and
    collateral are still the agent's)."""
    env = make(learners=("provider0", "client0"), scenario_params=ONE_ON_ONE,
               horizon_steps=3000)
    env.reset(seed=5)
    prov, cli = env.learner("provider0"), env.learner("client0")
    sim = env.state.sim
    assert env.agent_selection == "provider0"
    obs, r, *_ = env.last()
    assert obs["action_mask"].tolist() == [1, 0, 1] and r == 0.0
    p = prov.live_pending(sim)
    assert p.env.type == "request" and obs["observation"][1] == 1.0  # msg.request
    x = p.x_min + 0.25 * (p.x_max - p.x_min)  # the counter price, token units
    env.step((COUNTER, np.array([0.25], np.float32)))
    assert env.agent_selection == "client0"
    obs, *_ = env.last()
    assert obs["action_mask"].tolist() == [1, 1, 1]
    q = cli.live_pending(sim)
    assert q.env.type == "offer" and q.y == math.ceil(x * 1e6) / 1e6  # rounded up: seller
    assert q.y < q.x_max  # below the client's value V: an accept makes the deal
    gas0 = {"provider0": prov.cost_usd, "client0": cli.cost_usd}
    env.step((ACCEPT, np.array([0.0], np.float32)))
    book = env.state.scenario.market.book
    assert len(book.agreed) == 1 and book.agreed[0][2] == "provider0"
    assert book.agreed[0][3] == q.y
    if not book.provider_surplus:  # the job is still running: only gas has been spent
        for n, ln in (("provider0", prov), ("client0", cli)):
            assert env.rewards[n] == pytest.approx(-(ln.cost_usd - gas0[n]), abs=1e-12)
            assert env.rewards[n] < 0
    assert env.infos["client0"]["decided"] and env.infos["client0"]["invalid"] == 0


@pytest.mark.parametrize(("form", "accept"), [("tuple", (ACCEPT, np.array([0.3], np.float32))),
                                              ("flat", np.array([0.9, 0.3], np.float32))])
def test_masked_provider_accept_is_refused_and_penalised(form, accept):
    """A provider's accept is masked (no row of the table lets a provider send
    ``accept``): sent anyway, the scheme refuses it (``wrong_role``), the step costs
    ``c_invalid`` and the request stays unanswered."""
    env = make(learners=("provider0",), scenario_params=ONE_ON_ONE, horizon_steps=3000,
               c_invalid=0.5, action=form)
    env.reset(seed=5)
    bus = env.state.sim.compute.protocol.bus
    n_rej = len(bus.rejections)
    topic = env.infos["provider0"]["topic"]
    env.step(accept)
    assert env.infos["provider0"]["invalid"] == 1 and env.infos["provider0"]["decided"]
    assert env.rewards["provider0"] == -0.5  # nothing else moved its W
    new = bus.rejections[n_rej:]
    assert [(e.reason, e.type) for e in new][:1] == [("wrong_role", "accept")]
    assert topic not in bus.topics and env.state.scenario.market.book.agreed == []


def test_reset_without_any_decision_then_one_step_truncates():
    env = make(learners=("provider0",), scenario_params=ONE_ON_ONE, horizon_steps=3)
    env.reset(seed=5)
    assert not env.truncations["provider0"] and not env.last()[0]["action_mask"].any()
    env.step((REJECT, np.array([0.0], np.float32)))
    assert env.truncations["provider0"] and not env.infos["provider0"]["decided"]
    env.step(None)
    assert env.agents == []


def test_allowed_messages_view_follows_the_table():
    env = make(learners=("provider0", "client0"), scenario_params=ONE_ON_ONE,
               horizon_steps=3000)
    env.reset(seed=5)
    c = env.state.sim.compute
    topic = env.infos["provider0"]["topic"]
    assert c.allowed_messages("provider0", topic) == ("offer", "terminate")  # REQUEST_OPEN
    assert c.allowed_messages("client0", topic) == ()  # the topic has not opened
    env.step((COUNTER, np.array([0.25], np.float32)))
    assert c.topic(topic).state == "NEGOTIATING"
    assert c.allowed_messages("client0", topic) == ("offer", "accept", "terminate")
    assert c.allowed_messages("provider0", topic) == ("terminate",)  # not its turn
    assert c.allowed_messages("mediator0", topic) == ()
    env.step((REJECT, np.array([0.0], np.float32)))
    assert c.topic(topic).state == "CLOSED" and c.allowed_messages("client0", topic) == ()


def test_action_parsing_and_masked_sampling():
    assert parse_action((2, [0.5]), "tuple") == (2, 0.5)
    assert parse_action(np.array([0.5, 0.25]), "flat") == (COUNTER, 0.25)
    assert parse_action([0.9, 0.0], "flat")[0] == ACCEPT
    for bad in ((3, [0.5]), (1, [1.5]), (1.5, [0.5]), 7, (0, [0.1, 0.2])):
        with pytest.raises(ValueError, match="tuple action"):
            parse_action(bad, "tuple")
    box, tup = MaskedBox(seed=1), MaskedTuple(seed=1)
    mask = np.array([1, 0, 1], np.int8)  # counter or reject
    heads = {parse_action(box.sample(mask), "flat")[0] for _ in range(200)}
    assert heads == {COUNTER, REJECT}
    assert {int(tup.sample(mask)[0]) for _ in range(200)} == {COUNTER, REJECT}
    assert {int(tup.sample(np.zeros(3, np.int8))[0]) for _ in range(200)} == {0, 1, 2}


def test_parallel_and_gym_envs_take_the_tuple_action():
    from gymnasium.utils.env_checker import check_env
    from pettingzoo.test import parallel_api_test

    env = ComputeMarketEnv(learners=("provider0", "client1"), scenario_params=SMALL,
                           horizon_steps=300, warmup_steps=4, action="tuple")
    parallel_api_test(env, num_cycles=300)
    _, infos = env.reset(seed=3)
    masks = []
    while env.agents:
        acts = {a: env.action_space(a).sample(infos[a]["action_mask"]) for a in env.agents}
        _, _, _, _, infos = env.step(acts)
        masks += [(a, tuple(i["action_mask"])) for a, i in infos.items() if i["pending"]]
    assert ("provider0", (1, 0, 1)) in masks and ("client1", (1, 1, 1)) in masks
    assert all(not i["pending"] and not i["action_mask"].any() for i in infos.values()
               if not i["pending"])
    gym_env = ComputeGymEnv(learner="client1", scenario_params=SMALL, horizon_steps=200,
                            warmup_steps=4, action="tuple")
    check_env(gym_env, skip_render_check=True)
    assert isinstance(gym_env.action_space, MaskedTuple)
    _, info = gym_env.reset(seed=0)
    assert info["action_mask"].dtype == np.int8
