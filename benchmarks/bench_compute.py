"""Speed of the compute marketplace (``../shared/specs/compute-marketplace.md``).

Prints wall and CPU seconds side by side:

- **negotiations per second** of the section 5 policies, pair by pair, on the
  reference two-party driver (``defisim.agents.compute.negotiate``: the policies and
  the scheme's turn, rounding and round-limit rules, no chain), with the rounds each
  negotiation took;
- **the scheme on the bus** (``MessageBus`` with the ``compute`` scheme): price
  messages judged and delivered per second, two echoing parties to ``max_rounds``;
- **the scenario** (``compute_marketplace`` with its default parameters, no recording):
  steps per second, and negotiations (topics opened) and deals per second, over
  ``--steps`` steps (``--execution mempool``, the default: 2-s blocks paying gas on
  chain; ``immediate``: 1-s steps, gas off the ledger);
- **the environment's reset** (``ComputeMarketEnv``'s default market): unpickling the
  warmed-up snapshot and reseeding it, against rebuilding and rerunning the warm-up.

Usage::

    PYTHONPATH=src python benchmarks/bench_compute.py [--n 2000] [--steps 3600]
        [--case all|policies|bus|scenario|env_reset] [--execution mempool|immediate]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

PAIRS = [
    ("kalman", "kalman"),
    ("time_poly", "time_poly"),
    ("time_exp", "time_exp"),
    ("kalman", "time_exp"),
    ("tit_for_tat", "time_exp"),
    ("identity", "identity"),
]


def _open_price(name: str) -> dict:
    return {"open_price": 150.0} if name == "identity" else {}


def negotiations(n: int) -> None:
    from defisim.agents.compute import make_policy, negotiate

    for c_name, p_name in PAIRS:
        client = make_policy(c_name, "client", **_open_price(c_name))
        provider = make_policy(p_name, "provider")
        rounds = 0
        w0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            out = negotiate(client, provider, client_rng=np.random.default_rng(i),
                            provider_rng=np.random.default_rng(n + i))
            rounds += out.rounds
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        print(f"{c_name + ' vs ' + p_name:28s} {n / wall:10,.0f} /wall s {n / cpu:10,.0f} /CPU s"
              f"  {rounds / n:6.1f} rounds  ({out.status})")


def bus_messages(n_topics: int) -> None:
    from defisim.protocols.compute.schemes import ComputeScheme, Envelope, MessageBus
    from defisim.protocols.compute.types import Job, Terms

    class _NoChain:
        def get(self, uid: str) -> None:
            return None

    bus = MessageBus(ComputeScheme(_NoChain()), rng=np.random.default_rng(0))
    for p in range(n_topics):
        bus.subscribe(f"P{p}", bus.broadcast)
    w0, c0 = time.perf_counter(), time.process_time()
    published = 0
    for k in range(n_topics):
        job = Job(f"j{k}", "C", "cpu-small", 2, 0, 4, 600, 2, 10_000.0)
        terms = Terms(150_000_000, mediators=("M1",))
        t = float(k * 1000)
        bus.publish("C", bus.broadcast, "request",
                    {"request_id": f"r{k}", "job": job, "terms": terms}, now=t)
        sender = f"P{k}"
        topic = f"r{k}/{sender}"
        for i in range(1, 101):  # echo until max_rounds (the 101st is rejected)
            out = bus.publish(sender, topic, "offer", {"terms": terms}, now=t + i)
            assert (i < 100) == isinstance(out, Envelope), (i, out)
            published += 1
            bus.due(t + i)
            sender = "C" if sender.startswith("P") else f"P{k}"
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"{'bus: compute scheme messages':28s} {published / wall:10,.0f} /wall s "
          f"{published / cpu:10,.0f} /CPU s  ({n_topics} topics to max_rounds)")


def scenario(steps: int, seed: int = 0, execution: str = "mempool") -> dict[str, float]:
    """Run the default ``compute_marketplace`` for ``steps`` steps (no recording) and
    print steps, topics (negotiations) and deals per wall and CPU second; returns the
    figures."""
    from defisim.runner import run_scenario
    from defisim.scenarios import get_scenario

    cls = get_scenario("compute_marketplace")
    sc = cls(cls.Params(steps=steps, execution=execution))
    w0, c0 = time.perf_counter(), time.process_time()
    r = run_scenario(sc, seed=seed, record=False, progress=False)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    if r.error is not None:
        raise RuntimeError(f"compute_marketplace failed: {r.error}")
    topics, deals = r.kpis["topics"], r.kpis["deals"]
    out = {"steps": r.steps, "wall_s": wall, "cpu_s": cpu, "topics": topics, "deals": deals}
    print(f"{'scenario: steps':28s} {r.steps / wall:10,.0f} /wall s {r.steps / cpu:10,.0f} /CPU s"
          f"  ({r.steps} steps of {sc.params.step_seconds:g} s, {wall:.2f} s wall)")
    print(f"{'scenario: negotiations':28s} {topics / wall:10,.0f} /wall s {topics / cpu:10,.0f} "
          f"/CPU s  ({topics:.0f} topics, {deals:.0f} deals)")
    return out


def env_reset(n: int = 50) -> dict[str, float]:
    """Time ``n`` episode starts of the default ``ComputeMarketEnv`` session both ways
    (restore from the pickled snapshot; rebuild + warm-up, as before snapshots) and
    print milliseconds per reset, wall and CPU; returns the figures."""
    from defisim.envs.compute import ComputeEnvConfig, ComputeSession

    session = ComputeSession(ComputeEnvConfig())
    out = {}
    for name, start in (("restore", session.restore),
                        ("rebuild", lambda k: session._reseed(session._build(), k))):
        start(0)
        w0, c0 = time.perf_counter(), time.process_time()
        for k in range(n):
            start(k)
        wall, cpu = (time.perf_counter() - w0) / n, (time.process_time() - c0) / n
        out[f"{name}_wall_s"], out[f"{name}_cpu_s"] = wall, cpu
        print(f"{'env reset: ' + name:28s} {wall * 1e3:10.2f} ms wall {cpu * 1e3:8.2f} ms CPU"
              f"  ({n} resets, snapshot {session.snapshot_bytes / 1024:.0f} KiB)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000, help="negotiations per policy pair")
    ap.add_argument("--steps", type=int, default=3_600, help="steps of the scenario case")
    ap.add_argument("--case", choices=("all", "policies", "bus", "scenario",
                                           "env_reset"), default="all")
    ap.add_argument("--execution", choices=("mempool", "immediate"), default="mempool",
                    help="the scenario case's execution mode")
    args = ap.parse_args(argv)
    if args.case in ("all", "policies"):
        negotiations(args.n)
    if args.case in ("all", "bus"):
        bus_messages(max(1, args.n // 20))
    if args.case in ("all", "scenario"):
        scenario(args.steps, execution=args.execution)
    if args.case in ("all", "env_reset"):
        env_reset()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
