"""Wall and CPU time of the TokenSPICE/DARC-SPICE netlists over their full horizon.

One function per netlist family (``bench_darc_opsci``: the four DARC-SPICE opsci
netlists, 262 802 hourly ticks over 30 years, 10 951 rows each). Two configurations:

- ``core``: the netlist alone (a :class:`~defisim.runner.run.Run` with no sinks: the
  agents, the ledger, the invariant checks and the daily rows);
- ``recorded``: what ``defisim netlist run`` does (the run folder: DuckDB tables,
  ``data.csv``/``datax.csv``).

The reference is DARC-SPICE's 3-25 s per opsci netlist (spec issue 12 asks for 10x:
0.3-2.5 s). Prints wall and CPU seconds (median of ``--repeat`` runs, seeds
``seed, seed + 1, ...``) and hourly ticks per wall second. Usage::

    .venv/bin/python benchmarks/bench_netlists.py [--repeat 3] [--seed 0] [--only opsci_naive]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

DARC_OPSCI = ("opsci_naive", "opsci_profit_sharing", "opsci_mult_profit_sharing",
              "opsci_mult_time_profit_sharing")


def _time_one(name: str, seed: int, recorded: bool) -> tuple[float, float, int, dict]:
    from defisim.runner import run_scenario
    from defisim.runner.run import Run
    from defisim.scenarios import get_scenario

    scn = get_scenario(name)()
    w0, c0 = time.perf_counter(), time.process_time()
    if recorded:
        with tempfile.TemporaryDirectory() as tmp:
            res = run_scenario(scn, seed=seed, out_dir=Path(tmp) / "run", progress=False,
                               record_accounts_every=0)
            steps = res.steps
    else:
        run = Run(scn, seed=seed)
        run.run()
        steps = run.step
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    extra = {"rows": len(scn.rows)}
    world = getattr(scn, "world", None)
    if world is not None:
        extra["skipped"] = world.ticks_skipped
        extra["redraws"] = world.redraws_batched
    return wall, cpu, steps, extra


def bench_darc_opsci(repeat: int = 3, seed: int = 0, only: str | None = None) -> list[dict]:
    """The four DARC-SPICE opsci netlists (spec 5.1-5.4), full 30-year horizon."""
    out = []
    for name in DARC_OPSCI:
        if only and name != only:
            continue
        for config in ("core", "recorded"):
            walls, cpus = [], []
            steps, extra = 0, {}
            for i in range(repeat):
                wall, cpu, steps, extra = _time_one(name, seed + i, config == "recorded")
                walls.append(wall)
                cpus.append(cpu)
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            row = {"netlist": name, "config": config, "ticks": steps, "wall_s": wall, "cpu_s": cpu,
                   "ticks_per_s": steps / wall, **extra}
            out.append(row)
            print(f"{name:32s} {config:9s} ticks {steps}  wall {wall:6.3f} s  cpu {cpu:6.3f} s  "
                  f"{steps / wall:10.0f} ticks/s  rows {extra.get('rows')}  "
                  f"skipped {extra.get('skipped')}  redraws {extra.get('redraws')}  "
                  f"(DARC-SPICE: 3-25 s)", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default=None, help="one netlist name")
    args = ap.parse_args()
    bench_darc_opsci(args.repeat, args.seed, args.only)


if __name__ == "__main__":
    main()
