"""Train a learning provider in ``compute_marketplace`` and compare it with the
section-5 policies in the same seat on held-out seeds (compute spec 8, "Multi-agent RL").

The learner is ``provider0`` of :class:`defisim.envs.ComputeMarketEnv`; its policy
is a 4-parameter threshold rule on the observation (prices in units of the job's
reference cost c_ref, ``floor`` the provider's cost floor, ``r`` the round index):

- ask(r) = floor * (1 + beta * (1 - delta)^r): a markup over the floor conceded by
  ``delta`` per round;
- accept when y >= min(ask(r), floor * (1 + alpha)) ... i.e. y clears the ask or a
  plain margin ``alpha`` over the floor; reject when y < rho * floor; else counter at
  ask(r) (the action's price fraction over [floor, price_cap * c_ref]).

Training: the cross-entropy method over theta = (alpha, beta, delta, rho) on the
training seeds, score = mean profit of the episode (the sum of its ``pnl`` rewards:
W_end - W_0, USD). Evaluation: the held-out seeds, the learner against ``provider0``
running ``kalman``, ``time_exp``, ``tit_for_tat`` and ``naive_accepter``
(``ComputeSession`` without learners, ``policies={"provider0": name}``); profit and
return (profit / W_0) with a 95 % t confidence interval, and the learner's paired
difference to each policy.

Usage::

    PYTHONPATH=src python docs/compute_learner.py [--iters 6 --pop 12 --train-seeds 4
        --test-seeds 20 --horizon 1440]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from defisim.envs.compute import ComputeEnvConfig, ComputeMarketEnv, ComputeSession
from defisim.envs.compute_obs import OBSERVATION_NAMES

SEAT = "provider0"
BASELINES = ("kalman", "time_exp", "tit_for_tat", "naive_accepter")
IDX = {n: i for i, n in enumerate(OBSERVATION_NAMES)}
THETA0 = np.array([0.3, 1.0, 0.3, 0.6])  # alpha, beta, delta, rho
SIGMA0 = np.array([0.3, 0.6, 0.2, 0.3])
LOW, HIGH = np.array([0.0, 0.0, 0.0, 0.0]), np.array([3.0, 5.0, 1.0, 1.0])
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 14: 2.145, 19: 2.093, 29: 2.045}


def threshold_action(obs: np.ndarray, theta: np.ndarray, price_cap: float = 3.0) -> np.ndarray:
    """The learner's action for ``obs`` under ``theta`` (module docstring)."""
    if obs[IDX["msg.none"]] > 0.5:
        return np.zeros(2, np.float32)
    alpha, beta, delta, rho = (float(v) for v in theta)
    y, floor = float(obs[IDX["msg.y"]]), float(obs[IDX["local.cost"]])
    r = round(float(obs[IDX["msg.round"]]) * 10)
    ask = floor * (1 + beta * (1 - delta) ** r)
    if y >= min(ask, floor * (1 + alpha)):
        return np.array([1.0, 0.0], np.float32)
    if y < rho * floor:
        return np.array([0.0, 0.0], np.float32)
    frac = (ask - floor) / max(price_cap - floor, 1e-9)
    return np.array([0.5, min(max(frac, 0.0), 1.0)], np.float32)


def learner_profit(env: ComputeMarketEnv, seed: int, theta: np.ndarray) -> tuple[float, float]:
    """One episode of the threshold learner: ``(profit USD, W_0 USD)``."""
    obs, _ = env.reset(seed=seed)
    w0 = env.learner(SEAT).value_usd(env.state.sim)
    total = 0.0
    while env.agents:
        obs, r, _, _, _ = env.step({SEAT: threshold_action(obs[SEAT], theta)})
        total += r[SEAT]
    return total, w0


def baseline_profit(session: ComputeSession, seed: int, horizon: int) -> tuple[float, float]:
    """One episode with the seat's section-5 policy: ``(profit USD, W_0 USD)``."""
    state = session.restore(seed)
    agent = next(a for a in state.agents if a.name == SEAT)
    w0 = agent.value_usd(state.sim)
    state.advance(horizon)
    return agent.value_usd(state.sim) - w0, w0


def cem(env: ComputeMarketEnv, seeds: list[int], iters: int, pop: int, elite: int,
        rng: np.random.Generator, log=print) -> np.ndarray:
    """The cross-entropy method over theta, score = mean profit on ``seeds``."""
    mu, sigma = THETA0.copy(), SIGMA0.copy()
    for it in range(iters):
        cand = np.clip(mu + sigma * rng.standard_normal((pop, len(mu))), LOW, HIGH)
        cand[0] = mu  # keep the mean in the population
        scores = np.array([np.mean([learner_profit(env, s, th)[0] for s in seeds])
                           for th in cand])
        best = cand[np.argsort(scores)[::-1][:elite]]
        mu, sigma = best.mean(axis=0), np.maximum(best.std(axis=0), 0.02)
        log(f"iter {it}: best {scores.max():.4f} mean {scores.mean():.4f} "
            f"theta {np.round(mu, 3).tolist()}")
    return mu


def ci95(xs: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % t interval."""
    n = len(xs)
    m = float(np.mean(xs))
    if n < 2:
        return m, math.nan
    t = T975.get(n - 1, T975[max(k for k in T975 if k <= n - 1)])
    return m, t * float(np.std(xs, ddof=1)) / math.sqrt(n)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iters", type=int, default=6)
    ap.add_argument("--pop", type=int, default=12)
    ap.add_argument("--elite", type=int, default=4)
    ap.add_argument("--train-seeds", type=int, default=4)
    ap.add_argument("--test-seeds", type=int, default=20)
    ap.add_argument("--horizon", type=int, default=1440, help="ticks of 5 s")
    ap.add_argument("--seed", type=int, default=0, help="the CEM's own seed")
    a = ap.parse_args(argv)
    t0 = time.process_time()
    cfg = ComputeEnvConfig(learners=(SEAT,), horizon_steps=a.horizon)
    env = ComputeMarketEnv(cfg)
    train = list(range(a.train_seeds))
    test = list(range(1000, 1000 + a.test_seeds))  # held out: never trained on
    theta = cem(env, train, a.iters, a.pop, a.elite, np.random.default_rng(a.seed))
    t_train = time.process_time() - t0
    rows: dict[str, list[tuple[float, float]]] = {
        "learner (CEM threshold)": [learner_profit(env, s, theta) for s in test]}
    for name in BASELINES:
        session = ComputeSession(cfg.model_copy(update={"learners": (),
                                                         "policies": {SEAT: name}}))
        rows[name] = [baseline_profit(session, s, a.horizon) for s in test]
    learner = [p for p, _ in rows["learner (CEM threshold)"]]
    print(f"\ntheta = {np.round(theta, 4).tolist()}  (alpha, beta, delta, rho); "
          f"training {t_train:.1f} s CPU; held-out seeds {test[0]}..{test[-1]}, "
          f"horizon {a.horizon} ticks x 5 s\n")
    print("| provider0 policy | profit USD (mean ± 95 % CI) | return (mean ± 95 % CI) "
          "| learner − policy, USD (paired) |")
    print("|---|---|---|---|")
    out = {"theta": theta.tolist(), "train_cpu_s": t_train}
    for name, vals in rows.items():
        profits = [p for p, _ in vals]
        rets = [p / w for p, w in vals]
        m, h = ci95(profits)
        mr, hr = ci95(rets)
        if name.startswith("learner"):
            diff = "--"
        else:
            md, hd = ci95([x - y for x, y in zip(learner, profits, strict=True)])
            diff = f"{md:+.4f} ± {hd:.4f}"
        print(f"| {name} | {m:.4f} ± {h:.4f} | {mr:.2e} ± {hr:.1e} | {diff} |")
        out[name] = {"profit": (m, h), "return": (mr, hr)}
    print(f"\ntotal {time.process_time() - t0:.1f} s CPU")
    return out


if __name__ == "__main__":
    main()
