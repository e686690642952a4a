"""Steps per second of the ``mev_sandwich`` scenario under ``priority`` ordering (four
noise swappers and a sandwich searcher sending Flashbots-style bundles on a V2 pool,
EIP-1559 fee market, invariants on, nothing recorded).

Run: ``PYTHONPATH=src python benchmarks/bench_mev_sandwich.py [steps]``; prints wall
and CPU seconds and steps per CPU second, and the run's searcher profit.
"""

from __future__ import annotations

import sys
import time

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario


def main(steps: int = 5_000) -> None:
    cls = get_scenario("mev_sandwich")
    for jit in (False, True):
        scenario = cls(cls.Params(steps=steps, ordering="priority", jit=jit))
        w0, c0 = time.perf_counter(), time.process_time()
        result = run_scenario(scenario, seed=0, record=False, progress=False)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        k = result.kpis
        print(f"mev_sandwich priority{' +jit' if jit else ''}: {steps:,} steps, wall {wall:.2f} s, "
              f"CPU {cpu:.2f} s, {steps / cpu:,.0f} steps/CPU s; sandwiches "
              f"{k['sandwiches_landed']:.0f}/{k['sandwiches_attempted']:.0f} landed "
              f"({k['sandwiches_reverted']:.0f} reverted), searcher profit "
              f"{k['searcher_profit']:,.0f} USDC")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5_000)
