"""Wall and CPU time of TokenSPICE/DARC-SPICE netlists over their full horizon.

Run: ``PYTHONPATH=src python benchmarks/bench_netlists.py [name ...]``. Each case runs
its netlist once through the runner (invariants on) twice: nothing recorded (the
model alone), then as ``defisim netlist run`` does (run folder with DuckDB, data.csv,
datax.csv, rpdata.csv); prints wall and CPU seconds and ticks per second. Target
(issue 12): each DARC netlist 10x faster than DARC-SPICE (3-25 s), i.e. well under
2.5 s for its 262 802 hourly ticks. One function per netlist family.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario


def _case(name: str) -> None:
    cls = get_scenario(name)
    for record in (False, True):
        scn = cls()
        with tempfile.TemporaryDirectory() as tmp:
            w0, c0 = time.perf_counter(), time.process_time()
            res = run_scenario(scn, seed=0, record=record, out_dir=Path(tmp) / "run",
                               progress=False, record_accounts_every=0)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        extra = ""
        world = getattr(scn, "world", None)
        if world is not None:
            extra = f", {world.full_ticks} hours stepped agent by agent"
        print(f"{name}{' (recorded)' if record else ''}: {res.steps:,} ticks, {len(scn.rows):,} rows, "
              f"wall {wall:.2f} s, CPU {cpu:.2f} s, {res.steps / wall:,.0f} ticks/s{extra}")


def bench_darc_public_funding() -> None:
    """opsci_public_funding_ps, growth_public_funding_ps, community_growth_public_funding_ps
    (DARC-SPICE: about 5, 9 and 6 s for these with in-memory wallets)."""
    for name in ("opsci_public_funding_ps", "growth_public_funding_ps",
                 "community_growth_public_funding_ps"):
        _case(name)


CASES = {"darc_public_funding": bench_darc_public_funding}


def main(names: list[str]) -> None:
    for name in names or list(CASES):
        if name in CASES:
            CASES[name]()
        else:
            _case(name)


if __name__ == "__main__":
    main(sys.argv[1:])
