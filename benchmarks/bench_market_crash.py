"""Throughput of the ``market_crash`` scenario: the futures market with its full rules.

``market_crash`` runs price monitoring (two log-normal triggers), price-monitoring
auctions with uncrossing, leveraged traders, closeouts, the network party's
disposal, loss socialisation and a reference arbitrageur on top of the agent zoo
of ``btc_futures`` (12 hours of 30-second steps by default, a -30 % crash at 6
hours). Run ``benchmarks/bench_btc_futures.py`` next to it to see what the rules
cost (orders/s is the comparable figure: the two scenarios have different step
lengths, hence different order flow per step).

Configurations, each in its own process so that peak memory is its own:

- ``core``: no recording, invariants off (the simulation alone);
- ``checked``: no recording, invariant checks at every block end;
- ``recorded``: the full run folder (DuckDB tables, no plots), invariants on (what
  ``defisim run`` does, minus plotting).

Prints steps/s, orders/s (distinct orders submitted per wall second), trades,
auctions, closeouts and peak resident memory; the figures are the median of
``--repeat`` runs (seeds ``seed``, ``seed + 1``, ...). Usage::

    .venv/bin/python benchmarks/bench_market_crash.py [--steps 1440] [--seed 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
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


def run_one(config: str, steps: int, seed: int) -> dict:
    from defisim.runner import run_scenario
    from defisim.scenarios import get_scenario

    cls = get_scenario("market_crash")
    scenario = cls(cls.Params(steps=steps))
    with tempfile.TemporaryDirectory() as tmp:
        c0 = time.process_time()
        res = run_scenario(
            scenario, seed=seed, out_dir=Path(tmp) / "run", progress=False, **CONFIGS[config]
        )
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
            "auctions": int(res.kpis.get("auctions", 0)),
            "closeouts": int(res.kpis.get("closeouts", 0)),
            "peak_rss_mb": peak_mb,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1440)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--config", choices=sorted(CONFIGS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.config:  # child process
        print(json.dumps(run_one(args.config, args.steps, args.seed)))
        return
    print(
        f"market_crash, {args.steps} steps, seeds {args.seed}..{args.seed + args.repeat - 1} "
        "(median)"
    )
    print(
        f"{'config':<10}{'steps/s':>10}{'orders/s':>11}{'orders':>9}{'trades':>8}"
        f"{'auctions':>9}{'closeouts':>10}{'wall s':>8}{'CPU s':>8}{'peak MB':>9}"
    )
    for config in CONFIGS:
        runs = []
        for k in range(max(1, args.repeat)):
            cmd = [
                sys.executable,
                __file__,
                "--config",
                config,
                "--steps",
                str(args.steps),
                "--seed",
                str(args.seed + k),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"{config:<10} failed: {out.stderr.strip().splitlines()[-1:]}")
                break
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        if not runs:
            continue

        def med(key: str, rs: list = runs) -> float:
            return statistics.median(r[key] for r in rs)

        print(
            f"{config:<10}{med('steps_per_s'):>10.0f}{med('orders_per_s'):>11.0f}"
            f"{med('orders'):>9.0f}{med('trades'):>8.0f}{med('auctions'):>9.0f}"
            f"{med('closeouts'):>10.0f}{med('wall_s'):>8.2f}{med('cpu_s'):>8.2f}{med('peak_rss_mb'):>9.0f}"
        )


if __name__ == "__main__":
    main()
