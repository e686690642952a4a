"""Wall and CPU time of the TokenSPICE / DARC-SPICE netlists, one function per netlist
(``../shared/specs/token-netlists.md``). Each case runs the netlist's whole horizon
through the runner (invariant checks on, no run folder), ``--repeat`` times, and prints
the best wall time, its CPU time and ticks per second.

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_netlists.py [--repeat 3] [names...]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable


def _bench(make: Callable[[], object], repeat: int, check_invariants: bool = True) -> tuple:
    from defisim.runner import run_scenario

    best = None
    for _ in range(repeat):
        scn = make()
        t0, c0 = time.perf_counter(), time.process_time()
        r = run_scenario(scn, seed=0, out_dir=None, progress=False, record=False,
                         check_invariants=check_invariants, record_accounts_every=0)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert r.ok, r.error
        if best is None or wall < best[0]:
            best = (wall, cpu, r.steps)
    return best


def _report(name: str, wall: float, cpu: float, ticks: int) -> None:
    print(f"{name:<14} {ticks:>8} ticks  wall {wall:7.3f} s  CPU {cpu:7.3f} s  "
          f"{ticks / wall:>10,.0f} ticks/s")


def bench_simplepool(repeat: int) -> None:
    """simplepool: 482 hourly ticks, one publisher, two Ocean V3 pools (spec 4.3)."""
    from defisim.scenarios.netlists.simplepool import SimplePool

    _report("simplepool", *_bench(SimplePool, repeat))


def bench_oceanv3(repeat: int) -> None:
    """oceanv3: 458 hourly ticks, five agents, three Ocean V3 pools (spec 4.5)."""
    from defisim.scenarios.netlists.oceanv3 import OceanV3

    _report("oceanv3", *_bench(OceanV3, repeat))


CASES: dict[str, Callable[[int], None]] = {
    "simplepool": bench_simplepool,
    "oceanv3": bench_oceanv3,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help=f"cases to run (default all: {', '.join(CASES)})")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for name in args.names or CASES:
        CASES[name](args.repeat)


if __name__ == "__main__":
    main()
