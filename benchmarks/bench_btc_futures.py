"""Throughput of the ``btc_futures`` scenario with its default agents.

Runs the scenario for N steps (default 10,000) on a seeded GBM path, or on a
price file with ``--prices``, in three configurations, each in its own process
so that peak memory is that configuration's own:

- ``core``: no recording, invariants off (the simulation alone);
- ``checked``: no recording, invariant checks at every block end (the default of tests);
- ``recorded``: the full run folder (DuckDB tables, no plots), invariants on (what
  ``defisim run`` does, minus plotting).

Prints steps/s, orders/s (distinct orders submitted per wall second), trades, wall
and CPU seconds (CPU is the figure to compare on a shared machine) and peak
resident memory. Usage::

    .venv/bin/python benchmarks/bench_btc_futures.py [--steps 10000] [--seed 1] [--prices FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {
    "core": dict(record=False, check_invariants=False),
    "checked": dict(record=False, check_invariants=True),
    "recorded": dict(record=True, check_invariants=True),
}


def run_one(config: str, steps: int, seed: int, prices: str | None) -> dict:
    from defisim.runner import run_scenario
    from defisim.scenarios import get_scenario

    cls = get_scenario("btc_futures")
    params = {"steps": steps}
    if prices:
        params["prices_file"] = prices
    scenario = cls(cls.Params(**params))
    with tempfile.TemporaryDirectory() as tmp:
        c0 = time.process_time()
        res = run_scenario(scenario, seed=seed, out_dir=Path(tmp) / "run", progress=False,
                           **CONFIGS[config])
        cpu = time.process_time() - c0
        if res.error:
            raise SystemExit(f"run failed: {res.error}")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "config": config,
            "steps": res.steps,
            "wall_s": res.wall_s,
            "cpu_s": cpu,
            "steps_per_s": res.steps / res.wall_s,
            "orders": res.orders,
            "orders_per_s": res.orders / res.wall_s,
            "trades": res.trades,
            "peak_rss_mb": peak_mb,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--prices", default=None)
    ap.add_argument("--config", choices=sorted(CONFIGS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.config:  # child process
        print(json.dumps(run_one(args.config, args.steps, args.seed, args.prices)))
        return
    print(f"btc_futures, {args.steps} steps, seed {args.seed}, "
          f"prices: {args.prices or 'seeded GBM'}")
    print(f"{'config':<10}{'steps/s':>10}{'orders/s':>11}{'orders':>10}{'trades':>10}"
          f"{'wall s':>9}{'CPU s':>9}{'peak MB':>9}")
    for config in CONFIGS:
        cmd = [sys.executable, __file__, "--config", config, "--steps", str(args.steps),
               "--seed", str(args.seed)] + (["--prices", args.prices] if args.prices else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{config:<10} failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{config:<10}{r['steps_per_s']:>10.0f}{r['orders_per_s']:>11.0f}{r['orders']:>10}"
              f"{r['trades']:>10}{r['wall_s']:>9.1f}{r['cpu_s']:>9.1f}{r['peak_rss_mb']:>9.0f}")


if __name__ == "__main__":
    main()
