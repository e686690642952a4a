"""The ``surplus`` reward of the compute env (spec 8), checked by hand on one deal."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pettingzoo")

from defisim.envs.compute import ComputeMarketEnv  # noqa: E402
from defisim.protocols.compute import types as ctypes  # noqa: E402

ONE_ON_ONE = {"n_clients": 1, "n_providers": 1, "n_mediators": 1, "step_seconds": 5.0,
              "rate_per_h": 1.0, "class_mix": {"cpu-small": 1.0}, "gpu_share": 0.0,
              "verification": "none"}
ACCEPT = np.array([1.0, 0.0], np.float32)


def _first_settlement(learner, reward, seed=6):
    env = ComputeMarketEnv(learners=(learner,), scenario_params=ONE_ON_ONE,
                           horizon_steps=3000, warmup_steps=4, reward=reward)
    env.reset(seed=seed)
    rewards, settled = [], []
    while env.agents and not settled:
        _, r, _, _, info = env.step({learner: ACCEPT})
        rewards.append(r[learner])
        settled = info[learner].get("settled", [])
    return env, rewards, settled


def test_provider_surplus_is_credited_at_settlement_by_hand():
    """One accepted, collected cpu-small deal: nothing until the collect, then
    price - electricity - amortisation - gas (commence, post_result, collect),
    and the same episode's pnl rewards sum to that plus the amortisation."""
    env, rewards, settled = _first_settlement("provider0", "surplus")
    ln, sim = env.learner("provider0"), env.state.sim
    (topic, uid, s), = settled
    d = sim.compute.deal(uid)
    assert d.close_reason == "collected" and d.provider == "provider0"
    assert topic == sim.compute.topic_of_escrow(uid) and topic.endswith("/provider0")
    assert rewards[:-1] == [0.0] * (len(rewards) - 1) and rewards[-1] == s
    book = env.state.scenario.market.book
    price = ln.market.usd(d.terms.price)
    gas = sum(book.gas_usd[("provider", a)] for a in ("commence", "post_result", "collect"))
    cls = ctypes.JOB_CLASSES["cpu-small"]
    job = ctypes.Job("j", "c", cls.name, cls.cpu, cls.gpu, cls.ram_gib, cls.duration_s,
                     cls.instruction_count, 0.0)
    amort = cls.cpu * ln.rates[0] * ctypes.run_time_s(job, ln.machines[0]) / 3600
    energy = book.energy_usd
    assert s == pytest.approx(price - energy - amort - gas, abs=1e-9)
    assert s == pytest.approx(book.provider_surplus[0], abs=1e-9)
    assert ln.cost_usd == pytest.approx(energy + gas, abs=1e-12)  # all its costs: this deal
    assert ln.deal_gas == {}  # booked against the deal, used up at settlement
    _, pnl, _ = _first_settlement("provider0", "pnl")
    assert len(pnl) >= len(rewards) and sum(pnl[:len(rewards)]) == pytest.approx(s + amort)


def test_client_surplus_is_value_less_price_and_gas():
    """A learner client accepting every offer among four clients and two providers: its
    first settled deal is worth V - P - gas (its escrow: all the gas the client has
    spent less that of its other deal, still open)."""
    env = ComputeMarketEnv(learners=("client0",), horizon_steps=3000, warmup_steps=4,
                           reward="surplus", scenario_params={
                               **ONE_ON_ONE, "n_clients": 4, "n_providers": 2,
                               "rate_per_h": 6.0})
    env.reset(seed=1)
    rewards, settled = [], []
    while env.agents and not settled:
        _, r, _, _, info = env.step({"client0": ACCEPT})
        rewards.append(r["client0"])
        settled = info["client0"]["settled"]
    (topic, uid, s), = settled
    ln, sim = env.learner("client0"), env.state.sim
    d = sim.compute.deal(uid)
    assert d.close_reason == "collected" and d.client == "client0" and d.fees_paid == 0
    mine = [a for a in env.state.scenario.market.book.agreed if a[0].startswith("client0-")]
    assert len(mine) == 2 and mine[0][0] == topic
    value, price = mine[0][7], mine[0][3]
    assert price == ln.market.usd(d.terms.price)
    (other, other_gas), = ln.deal_gas.items()
    assert sim.compute.topic_of_escrow(other) == mine[1][0] and other_gas > 0
    gas = ln.cost_usd - other_gas
    assert 0 < gas < 0.01
    assert s == pytest.approx(value - price - gas, abs=1e-12)
    assert s == pytest.approx(0.014520717, abs=1e-9)  # V 0.081008, P 0.060582, gas 0.005907
    assert rewards[:-1] == [0.0] * (len(rewards) - 1) and rewards[-1] == s
