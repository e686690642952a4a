"""Throughput of the ``rmsc04`` scenario (ABIDES' RMSC04 day, 23,400 one-second steps).

ABIDES runs this configuration in about 19 s; the target is 20x faster (< 0.95 s).
Runs the full day once with no recording and invariants off (the simulation alone;
``--checked`` turns the block-end invariant checks on) and prints wall time,
messages (transactions: orders, amendments and cancels) per second, orders per
second, trades and peak resident memory (``resource.getrusage``). ``--profile N``
adds the top N functions by total (own) time from cProfile, in a second run.
Usage::

    .venv/bin/python benchmarks/bench_rmsc04.py [--seed 1] [--steps 23400] [--checked] [--profile 10]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import time


def run(seed: int, steps: int | None, checked: bool, mark_s: float = 5.0):
    from defisim.runner import run_scenario
    from defisim.scenarios import get_scenario

    cls = get_scenario("rmsc04")
    scn = cls(cls.Params(steps=steps, mark_price_frequency_s=mark_s))
    t0, c0 = time.perf_counter(), time.process_time()
    res = run_scenario(scn, seed=seed, out_dir=None, record=False, progress=False,
                       check_invariants=checked)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if res.error:
        raise SystemExit(f"run failed: {res.error}")
    return scn, res, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--checked", action="store_true")
    ap.add_argument("--mark-price-frequency", type=float, default=5.0, metavar="S",
                    help="seconds between mark-to-market settlements (default 5)")
    ap.add_argument("--profile", type=int, default=0, metavar="N")
    args = ap.parse_args()
    scn, res, wall, cpu = run(args.seed, args.steps, args.checked, args.mark_price_frequency)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    msgs = res.order_updates if hasattr(res, "order_updates") else 0
    print(f"rmsc04: {res.steps} steps x {scn.params.step_seconds} s, seed {args.seed}, "
          f"invariants {'on' if args.checked else 'off'}, no recording, mark-to-market every "
          f"{args.mark_price_frequency:g} s")
    print(f"  wall (run_scenario incl. build)  {wall:8.2f} s   (loop {res.wall_s:.2f} s; "
          f"ABIDES ~19 s, target < 0.95 s)")
    print(f"  CPU time (run_scenario)          {cpu:8.2f} s   (the figure to compare on a shared machine)")
    print(f"  orders sent (agents)             {scn.counter.n:8d}   "
          f"{scn.counter.n / wall:10.0f} /s")
    print(f"  distinct orders (events)         {res.orders:8d}   {res.orders / wall:10.0f} /s")
    print(f"  messages (order updates)         {msgs:8d}   {msgs / wall:10.0f} /s")
    print(f"  trades                           {res.trades:8d}   {res.trades / wall:10.0f} /s")
    print(f"  peak RSS                         {peak_mb:8.0f} MB")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run(args.seed, args.steps, args.checked, args.mark_price_frequency)
        prof.disable()
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("tottime").print_stats(args.profile)
        print(s.getvalue())


if __name__ == "__main__":
    main()
