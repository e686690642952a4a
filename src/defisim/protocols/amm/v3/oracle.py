"""The Uniswap V3 price and liquidity oracle (``Oracle.sol``; spec ``amm.md`` 2.11).

An observation is ``(blockTimestamp uint32, tickCumulative int56,
secondsPerLiquidityCumulativeX128 uint160, initialized)``; the ring buffer holds up to
65,535 of them and grows only through :meth:`Oracle.grow`. Time is the block timestamp in
seconds, passed in (uint32, wrapping). The per-tick "outside" oracle values are not kept.
"""

from __future__ import annotations

from ..errors import PoolError

_U32 = 1 << 32
_MASK160 = (1 << 160) - 1
_MAX_CARDINALITY = 65535


def _wrap_int56(x: int) -> int:
    x &= (1 << 56) - 1
    return x - (1 << 56) if x >= 1 << 55 else x


def _transform(
    last: tuple[int, int, int, bool], time: int, tick: int, liquidity: int
) -> tuple[int, int, int, bool]:
    delta = (time - last[0]) % _U32
    return (
        time,
        _wrap_int56(last[1] + tick * delta),
        (last[2] + (delta << 128) // (liquidity if liquidity > 0 else 1)) & _MASK160,
        True,
    )


def _lte(time: int, a: int, b: int) -> bool:
    """``a <= b`` in the uint32 time frame ending at ``time`` (both at or before it)."""
    if a <= time and b <= time:
        return a <= b
    a_adj = a if a > time else a + _U32
    b_adj = b if b > time else b + _U32
    return a_adj <= b_adj


class Oracle:
    """The observation ring buffer with ``index``, ``cardinality`` and ``cardinality_next``
    (the slot0 fields). ``observations[i]`` is a tuple
    ``(blockTimestamp, tickCumulative, secondsPerLiquidityCumulativeX128, initialized)``."""

    __slots__ = ("observations", "index", "cardinality", "cardinality_next")

    def __init__(self) -> None:
        self.observations: list[tuple[int, int, int, bool]] = []
        self.index = 0
        self.cardinality = 0
        self.cardinality_next = 0

    def initialize(self, time: int) -> None:
        """First observation at ``time`` (mod 2^32); cardinality and next become 1."""
        self.observations = [(time % _U32, 0, 0, True)]
        self.index = 0
        self.cardinality = 1
        self.cardinality_next = 1

    def write(self, time: int, tick: int, liquidity: int) -> None:
        """Record the state *before* a change (at most once per block): ``Oracle.write``."""
        time %= _U32
        obs = self.observations
        last = obs[self.index]
        if last[0] == time:
            return
        cardinality = self.cardinality
        if self.cardinality_next > cardinality and self.index == cardinality - 1:
            cardinality = self.cardinality_next
        index = (self.index + 1) % cardinality
        obs[index] = _transform(last, time, tick, liquidity)
        self.index = index
        self.cardinality = cardinality

    def grow(self, next_cardinality: int) -> int:
        """Prepare slots up to ``next_cardinality`` (capped at 65,535); returns the new
        ``cardinality_next``. Raises ``I`` before initialisation (``Oracle.grow``)."""
        if self.cardinality_next <= 0:
            raise PoolError("I", "oracle not initialised")
        next_cardinality = min(next_cardinality, _MAX_CARDINALITY)
        if next_cardinality <= self.cardinality_next:
            return self.cardinality_next
        # the contract writes blockTimestamp = 1 into new slots; they stay uninitialised
        self.observations.extend(
            (1, 0, 0, False) for _ in range(next_cardinality - len(self.observations))
        )
        self.cardinality_next = next_cardinality
        return next_cardinality

    def _binary_search(self, time: int, target: int):
        obs = self.observations
        card = self.cardinality
        lo = (self.index + 1) % card
        hi = lo + card - 1
        while True:
            i = (lo + hi) // 2
            before = obs[i % card]
            if not before[3]:
                lo = i + 1
                continue
            after = obs[(i + 1) % card]
            target_at_or_after = _lte(time, before[0], target)
            if target_at_or_after and _lte(time, target, after[0]):
                return before, after
            if not target_at_or_after:
                hi = i - 1
            else:
                lo = i + 1

    def _surrounding(self, time: int, target: int, tick: int, liquidity: int):
        obs = self.observations
        before = obs[self.index]
        if _lte(time, before[0], target):
            if before[0] == target:
                return before, before
            return before, _transform(before, target, tick, liquidity)
        before = obs[(self.index + 1) % self.cardinality]
        if not before[3]:
            before = obs[0]
        if not _lte(time, before[0], target):
            raise PoolError("OLD", f"target {target} is older than the oldest observation")
        return self._binary_search(time, target)

    def observe_single(self, time: int, seconds_ago: int, tick: int, liquidity: int):
        """``(tickCumulative, secondsPerLiquidityCumulativeX128)`` at ``time − seconds_ago``."""
        time %= _U32
        if seconds_ago == 0:
            last = self.observations[self.index]
            if last[0] != time:
                last = _transform(last, time, tick, liquidity)
            return last[1], last[2]
        target = (time - seconds_ago) % _U32
        before, after = self._surrounding(time, target, tick, liquidity)
        if target == before[0]:
            return before[1], before[2]
        if target == after[0]:
            return after[1], after[2]
        obs_delta = (after[0] - before[0]) % _U32
        target_delta = (target - before[0]) % _U32
        tc_diff = after[1] - before[1]
        # Solidity int56 division truncates toward zero
        per_second = abs(tc_diff) // obs_delta * (1 if tc_diff >= 0 else -1)
        tick_cumulative = _wrap_int56(before[1] + per_second * target_delta)
        spl_diff = (after[2] - before[2]) & _MASK160
        spl = (before[2] + (spl_diff * target_delta) // obs_delta) & _MASK160
        return tick_cumulative, spl

    def observe(
        self, time: int, seconds_agos: list[int] | tuple[int, ...], tick: int, liquidity: int
    ) -> tuple[list[int], list[int]]:
        """``Oracle.observe``: cumulative values at each ``time − secondsAgo``. Raises ``I``
        before initialisation and ``OLD`` for a target older than the oldest observation."""
        if self.cardinality <= 0:
            raise PoolError("I", "oracle not initialised")
        tcs: list[int] = []
        spls: list[int] = []
        for ago in seconds_agos:
            tc, spl = self.observe_single(time, ago, tick, liquidity)
            tcs.append(tc)
            spls.append(spl)
        return tcs, spls
