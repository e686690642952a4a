"""Throughput of the reinforcement-learning environments (``defisim.envs``).

On ``btc_futures`` (default config: 100-step episodes after 5 warm-up steps, one
hour per step, random actions), prints:

- env build time: the first construction (scenario build, warm-up, snapshot);
- reset time: mean, median and p95 over 50 resets (unpickling the snapshot, reseeding);
- single-env steps per CPU second (a ``TradingEnv``, resets included when episodes end);
- vectorised steps per CPU second (a ``SyncVectorEnv`` of K copies: total env steps);
- the same with a lighter background (one quote level per maker, one noise trader),
  and with one-minute steps, to show what the background agents cost: most of a
  step is theirs;
- the PettingZoo env's steps per CPU second with 3 learners (two quoting makers and a taker).

Rates are per CPU second (``time.process_time``), which a shared machine disturbs far
less than wall time; build and reset times are wall times.

Usage::

    .venv/bin/python benchmarks/bench_envs.py [--steps 2000] [--num-envs 8] [--profile 25]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import numpy as np

LIGHT = {"mm_levels": 1, "noise_count": 1}
"""The lighter background: 1 quote level per market maker (not 3), 1 noise trader (not 2)."""
MINUTE = {"step_seconds": 60.0}
"""One-minute env steps: the agents' Poisson flows are per second, so a step carries
about 1/60 of the hourly step's orders (the makers still requote every step)."""

COMPARISON = ("ABIDES gym envs: ~27 steps/s, 0.4 s resets; "
              "targets: 3,000 steps/s single, 20,000 vectorised, ms resets")


def bench_build_reset(params: dict, resets: int = 50) -> dict:
    from defisim.envs import TradingEnv

    t0 = time.perf_counter()
    env = TradingEnv(scenario_params=params)
    build = time.perf_counter() - t0
    times = []
    for i in range(resets):
        t0 = time.perf_counter()
        env.reset(seed=i)
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    return {"env": env, "build_s": build, "reset_ms": float(ms.mean()),
            "reset_p50_ms": float(np.median(ms)),
            "reset_p95_ms": float(np.percentile(ms, 95)),
            "snapshot_kb": env.session.snapshot_bytes / 1024}


def single_loop(env, steps: int) -> float:
    """Random actions for ``steps`` env steps (resetting at episode ends); steps per CPU second."""
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=0)
    t0 = time.process_time()
    for a in actions:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    return steps / (time.process_time() - t0)


def vector_rate(params: dict, num_envs: int, steps: int) -> float:
    """Total env steps per CPU second of a SyncVectorEnv of ``num_envs`` copies."""
    from defisim.envs import make_vector_env

    venv = make_vector_env(num_envs, scenario_params=params)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    rounds = max(1, steps // num_envs)
    actions = [venv.action_space.sample() for _ in range(rounds)]
    t0 = time.process_time()
    for a in actions:
        venv.step(a)
    rate = rounds * num_envs / (time.process_time() - t0)
    venv.close()
    return rate


def multi_rate(steps: int) -> float:
    """Env steps per CPU second of the PettingZoo env with 3 learners."""
    from defisim.envs import MultiAgentTradingEnv

    env = MultiAgentTradingEnv(learners={
        "mm_a": {"action": {"kind": "quotes"}},
        "mm_b": {"action": {"kind": "quotes"}},
        "taker": {},
    })
    for i, name in enumerate(env.possible_agents):
        env.action_space(name).seed(i)
    env.reset(seed=0)
    t0 = time.process_time()
    for _ in range(steps):
        if not env.agents:
            env.reset()
        env.step({a: env.action_space(a).sample() for a in env.agents})
    return steps / (time.process_time() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000,
                    help="env steps per measurement (default 2000)")
    ap.add_argument("--num-envs", type=int, default=8, help="copies in the vector env")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="also profile the single-env loop; print the top N by own time")
    args = ap.parse_args()

    t0 = time.perf_counter()
    import defisim.envs  # noqa: F401  (imports gymnasium, pettingzoo, the scenarios)
    import_s = time.perf_counter() - t0
    print(f"defisim.envs on btc_futures: {args.steps} env steps per measurement, "
          f"{args.num_envs} vector copies, random actions (import {import_s:.2f} s)")
    print(f"{'background':<34}{'build s':>8}{'reset ms':>10}{'p50':>6}{'p95':>6}{'snap KB':>9}"
          f"{'single/cpu-s':>13}{'vector/cpu-s':>13}")
    default_env = None
    for label, params in (("default (3 levels, 2 noise)", {}),
                          ("light (mm_levels 1, noise_count 1)", LIGHT),
                          ("60-s steps (default agents)", MINUTE),
                          ("60-s steps, light", {**MINUTE, **LIGHT})):
        r = bench_build_reset(params)
        single = single_loop(r["env"], args.steps)
        vec = vector_rate(params, args.num_envs, args.steps)
        if default_env is None:
            default_env = r["env"]
        print(f"{label:<34}{r['build_s']:>8.3f}{r['reset_ms']:>10.2f}{r['reset_p50_ms']:>6.2f}"
              f"{r['reset_p95_ms']:>6.2f}{r['snapshot_kb']:>9.0f}{single:>13.0f}{vec:>13.0f}")
    multi = multi_rate(max(1, args.steps // 2))
    print(f"PettingZoo, 3 learners (2 quoting makers + taker): {multi:.0f} steps/CPU-s "
          f"({3 * multi:.0f} learner-steps/s)")
    print(COMPARISON)

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        single_loop(default_env, args.steps)
        prof.disable()
        print(f"\ntop {args.profile} functions by own time, single env, {args.steps} steps:")
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
