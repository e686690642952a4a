"""Replay of real USDC/WETH 0.05 % swaps of 2024-01-05 (spec amm.md 4.7), from each previous
SWAP row's state with no initialised ticks (steps stop only at word boundaries)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from defisim.protocols.amm.v3 import V3Pool

DATA = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/uniswap_v3/ethereum-0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640-2024-01-05.tick.csv"
)


def test_row_1_exact_input():
    pool = V3Pool.from_observed(
        500, 1662995104975155420368771254341874, 199045, 12453647101533358277
    )
    assert pool.quote(True, 1779711470) == (
        1779711470,
        -783707260129944808,
        1662990119151672310826534140478120,
        199045,
        12453647101533358277,
    )


@pytest.mark.skipif(not DATA.exists(), reason="shared data not present")
def test_replay_swaps_from_previous_swap_row():
    with DATA.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6234
    counts = {"in": 0, "out": 0, "limit": 0, "unexplained": 0}
    for prev, row in zip(rows, rows[1:], strict=False):
        if prev["tx_type"] != "SWAP" or row["tx_type"] != "SWAP":
            continue
        liquidity = int(row["total_liquidity"])
        if int(prev["total_liquidity"]) != liquidity:
            continue
        a0, a1 = int(row["amount0"]), int(row["amount1"])
        p, t = int(row["sqrtPriceX96"]), int(float(row["current_tick"]))
        want = (a0, a1, p, t, liquidity)
        pool = V3Pool.from_observed(
            500, int(prev["sqrtPriceX96"]), int(float(prev["current_tick"])), liquidity
        )
        zero_for_one = a0 > 0
        amount_in, amount_out = (a0, a1) if zero_for_one else (a1, a0)
        if pool.quote(zero_for_one, amount_in) == want:
            counts["in"] += 1
        elif pool.quote(zero_for_one, amount_out) == want:
            counts["out"] += 1
        elif p != pool.sqrt_price_x96 and pool.quote(zero_for_one, amount_in, p) == want:
            counts["limit"] += 1
        else:
            counts["unexplained"] += 1
    assert counts == {"in": 4684, "out": 566, "limit": 123, "unexplained": 0}
