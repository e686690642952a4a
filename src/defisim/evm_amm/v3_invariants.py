"""The spec ``amm.md`` section 5 V3 invariants, read from an :class:`~.v3.EvmV3Pool`.

The same checks as ``V3Pool.invariant_errors``, over what a pool without an index can
show: the ticks are the bounds of the positions minted through the core (every
position of a plug-in pool is), which is every initialised tick.
"""

from __future__ import annotations

from typing import Any

from defisim.protocols.amm.v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    get_sqrt_ratio_at_tick,
)

__all__ = ["v3_invariant_errors"]


def v3_invariant_errors(pool: Any) -> list[str]:
    """Messages for each invariant the bytecode pool ``pool`` breaks (empty: none)."""
    p, tick, _, _, _, _, unlocked = pool._call("slot0")
    if not unlocked:
        return []
    errors: list[str] = []
    gross: dict[int, int] = {}
    owed0 = owed1 = 0
    for key in pool.positions.keys():
        pos = pool._position(key)
        if pos is None:
            continue
        for t in key[1:]:
            gross[t] = gross.get(t, 0) + pos.liquidity
        owed0 += pos.tokens_owed0
        owed1 += pos.tokens_owed1
    net_total = active = 0
    spacing = pool.tick_spacing
    for t in sorted(gross):
        info = pool._tick(t)
        have = info.liquidity_gross if info is not None else 0
        if have != gross[t]:
            errors.append(f"tick {t} gross {have} != sum of position liquidity {gross[t]}")
        if info is None:
            continue
        net_total += info.liquidity_net
        if t <= tick:
            active += info.liquidity_net
        if info.liquidity_gross > pool.max_liquidity_per_tick:
            errors.append(f"tick {t} gross above maxLiquidityPerTick")
        c = t // spacing
        if not (pool._call("tickBitmap", c >> 8)[0] >> (c & 255)) & 1:
            errors.append(f"tick {t} initialised but its bitmap bit is clear")
    if net_total != 0:
        errors.append(f"sum of liquidityNet is {net_total}, not 0")
    liquidity = pool.liquidity
    if active != liquidity:
        errors.append(f"liquidity {liquidity} != sum of net at or below tick {active}")
    if not MIN_SQRT_RATIO <= p < MAX_SQRT_RATIO:
        errors.append(f"sqrtPriceX96 {p} out of range")
    elif not (get_sqrt_ratio_at_tick(tick) <= p
              and (tick >= MAX_TICK or p <= get_sqrt_ratio_at_tick(tick + 1))):
        errors.append(f"sqrtPriceX96 {p} outside tick {tick}'s range")
    f0, f1 = pool._call("protocolFees")
    for i, (bal, fees, owed) in enumerate(((pool.balance0, f0, owed0), (pool.balance1, f1, owed1))):
        if bal < fees + owed:
            errors.append(f"balance{i} {bal} < protocol fees + owed {fees + owed}")
    return errors
