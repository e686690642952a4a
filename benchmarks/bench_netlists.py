"""Netlist speed: ticks per CPU second of TokenSPICE and DARC-SPICE netlists run in full.

Each case runs its netlist's whole horizon with no recording and invariants off (what
``defisim netlist run`` spends apart from writing the CSV), and prints wall and CPU
time beside TokenSPICE's / DARC-SPICE's reported times on this kind of machine
(``../shared/specs/token-netlists.md``; issue 12: wsloop 13 s, each opsci netlist
3-25 s) and the ratio. ``NAME@evm`` runs a netlist's AMM pools on the official
bytecode (``--set backend=evm``: simplepool and oceanv3, Ocean's Balancer ``BPool`` on
the embedded EVM); TokenSPICE ran simplepool's pools on ganache in 16.8 s.

    PYTHONPATH=src python benchmarks/bench_netlists.py [NAME[@evm] ...]
"""

from __future__ import annotations

import sys
import time

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario

REFERENCE_S = {"wsloop": 13.0, "simplepool": 16.8, "simplepool@evm": 16.8, "opsci_public_funding_ps": 5.3, "growth_public_funding_ps": 9.3,
               "community_growth_public_funding_ps": 6.4}
"""Wall times of the original tools (seconds): TokenSPICE's wsloop, 13 s (issue 12); the
three DARC-SPICE public-funding netlists measured here with DARC-SPICE's own code on
in-memory wallets instead of ganache (a lower bound on its real time); TokenSPICE's
simplepool with its pools' bytecode on ganache, 16.8 s (issue 13). The other DARC
netlists take 3-25 s each (issue 12), not measured one by one: their row shows the
range."""


def bench(name: str, repeats: int = 1) -> tuple[int, float, float]:
    """``(ticks, wall s, CPU s)`` of ``repeats`` full runs of netlist ``name`` (best of;
    ``name@evm``: with ``backend=evm``)."""
    best = None
    base, _, backend = name.partition("@")
    for _ in range(repeats):
        cls = get_scenario(base)
        scn = cls(cls.Params(backend=backend)) if backend else cls()
        w0, c0 = time.perf_counter(), time.process_time()
        r = run_scenario(scn, seed=1, record=False, progress=False, check_invariants=False)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        assert r.ok, r.error
        if best is None or cpu < best[2]:
            best = (r.steps, wall, cpu)
    return best


CASES = {"simplegrant": 5, "scheduler": 5, "wsloop": 3, "simplepool": 3, "simplepool@evm": 3,
         "oceanv3": 3, "oceanv3@evm": 3,
         "opsci_naive": 3, "opsci_profit_sharing": 3, "opsci_mult_profit_sharing": 3,
         "opsci_mult_time_profit_sharing": 3, "opsci_public_funding_ps": 1,
         "growth_public_funding_ps": 1, "community_growth_public_funding_ps": 1}
"""Netlists and repeats (best of)."""


def main() -> None:
    names = sys.argv[1:] or list(CASES)
    print(f"{'netlist':<34}{'ticks':>9}{'wall s':>9}{'CPU s':>8}{'ticks/CPU-s':>13}{'reference':>11}")
    for name in names:
        ticks, wall, cpu = bench(name, CASES.get(name, 1))
        ref = REFERENCE_S.get(name)
        ratio = f"{ref / cpu:,.0f}x" if ref else (
            f"{3 / cpu:,.0f}-{25 / cpu:,.0f}x" if name.startswith("opsci") else "")
        print(f"{name:<34}{ticks:>9}{wall:>9.3f}{cpu:>8.3f}{ticks / cpu:>13,.0f}{ratio:>11}")


if __name__ == "__main__":
    main()
