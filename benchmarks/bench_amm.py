"""Throughput of the AMM pool cores and of a V2 swap through the chain.

Each case alternates the swap direction so the pool stays near its start, and prints
swaps per CPU second (``time.process_time``; a shared machine disturbs it far less
than wall time) beside wall time:

- V2 core: ``get_amount_out`` + ``V2Pair.swap`` on one pair (issue 11 target:
  >= 300,000 swaps/s on one core);
- V2 through the chain: ``Simulation.send`` of a raw ``swap_exact_in`` transaction
  (ledger transfers, events, receipt), immediate mode, invariants off;
- V3 core: exact-input swaps of 1e15 on a pool with three positions, and swaps large
  enough to cross initialised ticks;
- Balancer V1 core: ``swap_exact_amount_in`` on the spec's 4.6 Ocean pool;
- V3 replay: ``replay_uniswap_v3`` of the real USDC/WETH day (spec 4.7, 6,045 checked
  swaps, each run through the pool's swap loop from the replayed state; net inference
  included, CSV parsing excluded), repeated; skipped when ``../shared/data`` is absent.

Usage::

    .venv/bin/python benchmarks/bench_amm.py [--swaps 100000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

E18 = 10**18
V3_DAY = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/uniswap_v3/ethereum-0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640-2024-01-05.tick.csv"
)


def timed(n: int, body: Callable[[int], None]) -> tuple[float, float]:
    """``(wall s, CPU s)`` of ``body(i)`` for ``i in range(n)``."""
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        body(i)
    return time.perf_counter() - t0, time.process_time() - c0


def v2_core(n: int) -> tuple[float, float]:
    from defisim.protocols.amm.v2 import V2Factory, get_amount_out

    pair = V2Factory().create_pair("A", "B")
    pair.mint("lp", 1_000_000 * E18, 1_000_000 * E18, 0)
    amount = 10 * E18

    def swap(i: int) -> None:
        if i & 1:
            out = get_amount_out(amount, pair.reserve1, pair.reserve0)
            pair.swap(out, 0, "trader", 0, amount, i)
        else:
            out = get_amount_out(amount, pair.reserve0, pair.reserve1)
            pair.swap(0, out, "trader", amount, 0, i)

    result = timed(n, swap)
    assert not pair.invariant_errors()
    return result


def v2_chain(n: int, backend: str = "python", evm_node: str = "embedded") -> tuple[float, float]:
    """The ``amm`` plug-in's V2 swap through the chain, its pools on ``backend``
    (``python`` cores, or ``evm``: the official bytecode on ``evm_node``)."""
    from defisim import Simulation
    from defisim.chain import Transaction
    from defisim.service import amm_protocol

    sim = Simulation(seed=1, check_invariants=False, keep_events=False,
                     protocols=[amm_protocol(backend, evm_node)])
    for a in ("USDC", "WETH"):
        sim.create_asset(a, 18)
    sim.create_party("lp")
    sim.create_party("trader")
    for p in ("lp", "trader"):
        sim.mint(p, "USDC", 10_000_000)
        sim.mint(p, "WETH", 10_000_000)
    sim.amm.create_pair("USDC", "WETH")
    sim.amm.add_liquidity("lp", "USDC", "WETH", 1_000_000, 1_000_000)
    amount, deadline = 10 * E18, 2**255
    paths = (("USDC", "WETH"), ("WETH", "USDC"))

    def swap(i: int) -> None:
        r = sim.send(Transaction("trader", "amm", "swap_exact_in",
                                 (paths[i & 1], amount, 0, deadline)))
        if i == 0:
            assert r.status == "EXECUTED", r

    return timed(n, swap)


def v3_core(n: int, amount: int) -> tuple[float, float]:
    from defisim.protocols.amm.v3 import V3Pool

    q96 = 2**96
    pool = V3Pool(3000)
    pool.initialize(q96)
    pool.mint("lp", "wide", -60_000, 60_000, 10**24)
    pool.mint("lp", "mid", -600, 600, 10**22)
    pool.mint("lp", "narrow", -60, 60, 10**22)

    def swap(i: int) -> None:
        pool.swap("trader", "trader", bool(i & 1), amount)

    result = timed(n, swap)
    assert not pool.invariant_errors()
    return result


def balancer_core(n: int) -> tuple[float, float]:
    from defisim.protocols.amm.balancer import BPool

    p = BPool("ctrl")
    p.bind("ctrl", "DT", 100 * E18, 3 * E18)
    p.bind("ctrl", "OCEAN", 1000 * E18, 7 * E18)
    p.set_swap_fee("ctrl", 10**15)
    p.finalize("ctrl")
    big = 2**255

    def swap(i: int) -> None:
        if i & 1:
            p.swap_exact_amount_in("trader", "DT", E18 // 10, "OCEAN", 0, big)
        else:
            p.swap_exact_amount_in("trader", "OCEAN", E18, "DT", 0, big)

    return timed(n, swap)


def v3_replay(repeats: int) -> tuple[float, float]:
    """``(wall s, CPU s)`` of ``repeats`` replays of the real day, parsing excluded (the
    result's own timers around both passes)."""
    from defisim.replay.uniswap_v3 import replay_uniswap_v3

    wall = cpu = 0.0
    for _ in range(repeats):
        r = replay_uniswap_v3(V3_DAY)
        assert r.swaps_matched == 6032, r.swaps_matched
        wall += r.seconds
        cpu += r.cpu_seconds
    return wall, cpu


def v3_day_scenario(repeats: int) -> tuple[float, float]:
    """``(wall s, CPU s)`` of ``repeats`` runs of ``uniswap_v3_day`` without extra LPs,
    no recording, invariants off: the day's 6,045 swaps (and its mints and burns) as
    transactions through ``sim.send`` (ledger, events, receipts) over 1,441 steps."""
    from defisim.runner import run_scenario
    from defisim.scenarios.uniswap_v3_day import UniswapV3Day, UniswapV3DayParams

    scenario = UniswapV3Day(UniswapV3DayParams(tick_csv=str(V3_DAY), lp_ranges=[]))
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        r = run_scenario(scenario, seed=1, record=False, progress=False, check_invariants=False)
        assert r.kpis["swaps_replayed"] == 6045, r.kpis
    return time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--swaps", type=int, default=100_000, help="swaps per case")
    n = ap.parse_args().swaps
    small = max(2, n // 5)
    cases = (  # (label, swaps, run)
        ("V2 core (target >= 300,000/s)", n, v2_core),
        ("V2 through the chain (sim.send)", small, v2_chain),
        ("V3 core, 1e15 swaps", n // 2, lambda k: v3_core(k, 10**15)),
        # 1e22 moves the price about 100 ticks: every swap crosses the +-60 ticks
        ("V3 core, tick-crossing swaps", small, lambda k: v3_core(k, 10**22)),
        ("Balancer V1 core (4.6 pool)", n // 2, balancer_core),
    )
    repeats = max(1, n // 10_000)
    if V3_DAY.exists():  # 6,045 checked swaps a replay
        label = "V3 replay, USDC/WETH 2024-01-05"
        cases += ((label, 6045 * repeats, lambda k: v3_replay(repeats)),
                  ("uniswap_v3_day scenario (chain)", 6045 * repeats,
                   lambda k: v3_day_scenario(repeats)))
    else:
        print(f"skipped: V3 replay ({V3_DAY} is absent)")
    print(f"{'case':<34}{'swaps':>9}{'wall s':>9}{'CPU s':>8}{'swaps/CPU-s':>13}")
    for label, swaps, run in cases:
        wall, cpu = run(swaps)
        print(f"{label:<34}{swaps:>9}{wall:>9.2f}{cpu:>8.2f}{swaps / cpu:>13,.0f}")


if __name__ == "__main__":
    main()
