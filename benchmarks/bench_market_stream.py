"""Order stream through the full futures market, margin on: operations per CPU second.

A seeded stream of submissions (passive limits around the mid, some marketable),
cancellations and amendments from 100 funded parties goes through ``sim.futures``
(``submit_order_raw`` / ``cancel_order`` / ``amend_order``: the service, the
chain's direct path, the market's margin gate, matching, fees, ledger transfers and
events). A block closes every ``--per-block`` operations, one simulated second apart,
so mark-to-market and the margin pass run every ``--mark-s`` seconds, as in the
RMSC04 day. Prints operations, trades, wall and CPU time, and operations per
CPU-second, beside ABIDES' bare order book (33,800 ops per CPU-second, measured on
this kind of machine for issue 16; ABIDES is not on PyPI, so it is not run here).

Usage::

    PYTHONPATH=src python benchmarks/bench_market_stream.py [--ops 200000] [--seed 1] [--profile 25]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import numpy as np

ABIDES_BOOK_OPS_PER_CPU_S = 33_800
"""ABIDES' bare order book (no margin, no ledger): issue 16's measurement."""

PARTIES = 100
MID = 100_000  # ticks
UNIT = 100  # 10^-PDP contracts per lot (position decimals 2: one contract)


def build(mark_s: float):
    """A simulation with market ``M`` active at ``MID``, ``PARTIES`` parties funded."""
    from defisim import Simulation

    sim = Simulation(seed=1, check_invariants=False, keep_events=False)
    sim.create_asset("USD", 0)
    parties = [f"p{i}" for i in range(PARTIES)]
    for p in parties + ["o1", "o2"]:
        sim.create_party(p)
        sim.mint(p, "USD", 10**12)
    sim.futures.create_market(
        market_id="M", asset="USD", opening_auction_duration_s=0, decimal_places=0, position_decimal_places=2,
        risk_model={"kind": "simple", "factor_long": 0.1, "factor_short": 0.1},
        fees={"maker": 0.0001, "infrastructure": 0.0001, "liquidity": 0.0001},
        mark_price_frequency_s=mark_s)
    sim.futures.submit_order_raw("o1", "M", 1, UNIT, MID)
    sim.futures.submit_order_raw("o2", "M", -1, UNIT, MID)
    sim.forward_time(1)
    assert sim.futures.market_state("M") == "ACTIVE", sim.futures.market_state("M")
    return sim, parties


def stream(n: int, seed: int) -> list[tuple]:
    """``n`` operations, drawn before timing: ``("s", party, side, size, price)``,
    ``("c", party, k)`` (cancel the party's k-th oldest order it believes live, if any) and
    ``("a", party, k, price)`` (move it)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=n, p=[0.45, 0.45, 0.1])
    party = rng.integers(0, PARTIES, size=n)
    side = rng.choice([-1, 1], size=n)
    size = rng.integers(1, 6, size=n) * UNIT
    # offsets in ticks from the mid: mostly passive, 10 % through the touch
    off = np.abs(rng.normal(0, 40, size=n)).astype(int) + 1
    cross = rng.random(n) < 0.1
    k = rng.integers(0, 8, size=n)
    ops = []
    for i in range(n):
        p = f"p{party[i]}"
        s = int(side[i])
        px = MID - s * int(off[i]) if not cross[i] else MID + s * int(off[i] % 20)
        if kind[i] == 0:
            ops.append(("s", p, s, int(size[i]), px))
        elif kind[i] == 1:
            ops.append(("c", p, int(k[i])))
        else:
            ops.append(("a", p, int(k[i]), px))
    return ops


def run(ops: list[tuple], per_block: int, mark_s: float) -> tuple[int, int, float, float]:
    """Drive ``ops``; returns (operations sent, trades, wall s, CPU s): a cancel or
    amend of a party with no live order is skipped and not counted."""
    sim, _ = build(mark_s)
    fut = sim.futures
    live: dict[str, list[int]] = {}
    trades = sent = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for i, op in enumerate(ops):
        p = op[1]
        if op[0] == "s":
            sent += 1
            r = fut.submit_order_raw(p, "M", op[2], op[3], op[4])
            trades += len(r.trades)
            if r.status.name in ("ACTIVE", "PARTIALLY_FILLED") and r.order_id:
                live.setdefault(p, []).append(r.order_id)
        else:
            mine = live.get(p)
            if mine:
                sent += 1
                oid = mine[op[2] % len(mine)]
                if op[0] == "c":
                    fut.cancel_order(p, "M", oid)  # refused if it has filled meanwhile
                    mine.remove(oid)
                else:
                    r = fut.amend_order(p, "M", oid, price=op[3])  # decimal places 0: price = ticks
                    trades += len(r.trades)
                    if r.status.name not in ("ACTIVE", "PARTIALLY_FILLED"):
                        mine.remove(oid)  # filled, or gone before the amend
        if (i + 1) % per_block == 0:
            sim.forward_time(1)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return sent, trades, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-block", type=int, default=50, help="operations per 1-s block")
    ap.add_argument("--mark-s", type=float, default=5.0, help="seconds between marks")
    ap.add_argument("--profile", type=int, default=0, metavar="N")
    args = ap.parse_args()
    ops = stream(args.ops, args.seed)
    n, trades, wall, cpu = run(ops, args.per_block, args.mark_s)
    print(f"order stream through the full market (margin on), {n} operations sent "
          f"(of {len(ops)} drawn: 45 % submit, 45 % cancel, 10 % amend), {args.per_block} per block, "
          f"mark every {args.mark_s:g} s, seed {args.seed}")
    print(f"  trades {trades}; wall {wall:.2f} s, CPU {cpu:.2f} s")
    print(f"  {n / cpu:,.0f} operations per CPU-s ({n / wall:,.0f} per wall-s); "
          f"ABIDES bare book {ABIDES_BOOK_OPS_PER_CPU_S:,} (ratio {n / cpu / ABIDES_BOOK_OPS_PER_CPU_S:.2f}); "
          f"issue 16's goal 300,000")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        run(ops[: min(len(ops), 50_000)], args.per_block, args.mark_s)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
