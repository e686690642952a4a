"""The Uniswap V3 pool core (``UniswapV3Pool``; spec ``amm.md`` 2.9-2.13).

A pure integer state machine: every operation checks everything first and either succeeds
completely or raises :class:`PoolError` with the contract's revert code, leaving the state
unchanged. Token amounts are raw base units; ``balance0``/``balance1`` are the contract's
``balanceOf(pool)`` (the chain plug-in keeps the ledger in sync).

Time: the operations that write an oracle observation (``initialize``, ``mint``, ``burn``,
``swap``) take ``time``, the block timestamp in seconds (keyword, default 0: pass it when
the oracle matters). Not modelled: the per-tick oracle "outside" values
(``snapshotCumulativesInside``; spec 2.11).
"""

from __future__ import annotations

from typing import Any

from ..errors import PoolError
from . import position as _position
from . import tick as _tick
from .events import (
    Burn,
    Collect,
    CollectProtocol,
    Flash,
    IncreaseObservationCardinalityNext,
    Initialize,
    Mint,
    SetFeeProtocol,
    Swap,
)
from .full_math import mul_div, mul_div_rounding_up
from .liquidity_math import add_delta
from .oracle import Oracle
from .sqrt_price_math import get_amount0_delta_signed, get_amount1_delta_signed
from .swap_math import compute_swap_step
from .tick_bitmap import flip_tick, next_initialized_tick_within_one_word
from .tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)

FEE_TIER_TICK_SPACING = {500: 10, 3000: 60, 10000: 200}

_MASK128 = (1 << 128) - 1
_MASK256 = (1 << 256) - 1
_INT127 = 1 << 127
_INT255 = 1 << 255
_Q128 = 1 << 128


def checked_tick_spacing(fee: int, tick_spacing: int | None = None) -> int:
    """The tick spacing of fee tier ``fee`` (pips): ``tick_spacing``, or the factory's
    for an enabled tier (spec 2.1). Raises ``ValueError`` for a tier that is not enabled
    without a spacing, or a fee or spacing outside the factory's bounds
    (``fee < 1e6``, ``0 < spacing < 16384``)."""
    if tick_spacing is None:
        if fee not in FEE_TIER_TICK_SPACING:
            raise ValueError(f"fee {fee} is not an enabled tier; pass tick_spacing")
        tick_spacing = FEE_TIER_TICK_SPACING[fee]
    if not (0 <= fee < 1_000_000 and 0 < tick_spacing < 16384):
        raise ValueError(f"bad fee {fee} / tick spacing {tick_spacing}")
    return tick_spacing


class V3Pool:
    """One Uniswap V3 pool: ``fee`` (hundredths of a bip), ``tick_spacing``, slot0
    (``sqrt_price_x96`` Q64.96, ``tick``, ``fee_protocol`` = f0 + (f1 << 4)), ``liquidity``,
    ``fee_growth_global{0,1}_x128`` (Q128.128 mod 2^256), ``protocol_fees{0,1}``, ``ticks``
    (tick → :class:`TickInfo`, initialised ticks only), ``bitmap`` (word → uint256),
    ``positions`` ((owner, lower, upper) → :class:`PositionInfo`) and the token balances.

    ``factory_owner`` is the account allowed to set and collect the protocol fee.
    """

    __slots__ = (
        "fee",
        "tick_spacing",
        "max_liquidity_per_tick",
        "factory_owner",
        "sqrt_price_x96",
        "tick",
        "fee_protocol",
        "unlocked",
        "liquidity",
        "fee_growth_global0_x128",
        "fee_growth_global1_x128",
        "protocol_fees0",
        "protocol_fees1",
        "ticks",
        "bitmap",
        "positions",
        "balance0",
        "balance1",
        "oracle",
    )

    def __init__(self, fee: int, tick_spacing: int | None = None, factory_owner: Any = None):
        tick_spacing = checked_tick_spacing(fee, tick_spacing)
        self.fee = fee
        self.tick_spacing = tick_spacing
        self.max_liquidity_per_tick = _tick.tick_spacing_to_max_liquidity_per_tick(tick_spacing)
        self.factory_owner = factory_owner
        self.sqrt_price_x96 = 0
        self.tick = 0
        self.fee_protocol = 0
        self.unlocked = False
        self.liquidity = 0
        self.fee_growth_global0_x128 = 0
        self.fee_growth_global1_x128 = 0
        self.protocol_fees0 = 0
        self.protocol_fees1 = 0
        self.ticks: dict[int, _tick.TickInfo] = {}
        self.bitmap: dict[int, int] = {}
        self.positions: dict[tuple[Any, int, int], _position.PositionInfo] = {}
        self.balance0 = 0
        self.balance1 = 0
        self.oracle = Oracle()

    @classmethod
    def from_observed(
        cls,
        fee: int,
        sqrt_price_x96: int,
        tick: int,
        liquidity: int,
        tick_spacing: int | None = None,
        time: int = 0,
    ) -> V3Pool:
        """An initialised pool in an observed state (``Swap`` event fields: sqrtPriceX96,
        tick, liquidity) with no positions and no initialised ticks, for replays of real
        data (spec 4.7). Its liquidity is not backed by ticks, so :meth:`invariant_errors`
        reports that; initialise ticks through ``ticks``/``bitmap`` where nets are known.
        Balances start at 0: use :meth:`quote`, or set ``balance0``/``balance1``."""
        pool = cls(fee, tick_spacing)
        if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
            raise PoolError("R", f"sqrtPriceX96 {sqrt_price_x96} out of range")
        pool.sqrt_price_x96 = sqrt_price_x96
        pool.tick = tick
        pool.liquidity = liquidity
        pool.unlocked = True
        pool.oracle.initialize(time)
        return pool

    # ------------------------------------------------------------------ views
    @property
    def slot0(self) -> tuple[int, int, int, bool]:
        """``(sqrtPriceX96, tick, feeProtocol, unlocked)`` (oracle fields left out)."""
        return self.sqrt_price_x96, self.tick, self.fee_protocol, self.unlocked

    def state(self) -> tuple:
        """Everything, as plain comparable values (for tests and snapshots)."""
        return (
            self.slot0,
            self.liquidity,
            self.fee_growth_global0_x128,
            self.fee_growth_global1_x128,
            self.protocol_fees0,
            self.protocol_fees1,
            {t: i.astuple() for t, i in self.ticks.items()},
            dict(self.bitmap),
            {k: p.astuple() for k, p in self.positions.items()},
            self.balance0,
            self.balance1,
            (
                tuple(self.oracle.observations),
                self.oracle.index,
                self.oracle.cardinality,
                self.oracle.cardinality_next,
            ),
        )

    def fee_growth_inside(self, tick_lower: int, tick_upper: int) -> tuple[int, int]:
        """``getFeeGrowthInside`` at the current tick (Q128.128 mod 2^256)."""
        return _tick.get_fee_growth_inside(
            self.ticks.get(tick_lower),
            self.ticks.get(tick_upper),
            tick_lower,
            tick_upper,
            self.tick,
            self.fee_growth_global0_x128,
            self.fee_growth_global1_x128,
        )

    def position_tokens_owed(self, owner: Any, tick_lower: int, tick_upper: int) -> tuple[int, int]:
        """``tokensOwed`` plus the fees earned up to now, as if poked (raw units)."""
        info = self.positions.get((owner, tick_lower, tick_upper))
        if info is None:
            return 0, 0
        f0, f1 = _position.fees_since(info, *self.fee_growth_inside(tick_lower, tick_upper))
        return (info.tokens_owed0 + f0) & _MASK128, (info.tokens_owed1 + f1) & _MASK128

    def modify_preview(
        self, owner: Any, tick_lower: int, tick_upper: int, delta: int
    ) -> tuple[int, int]:
        """What changing ``owner``'s position by ``delta`` liquidity would move now,
        changing nothing: for ``delta > 0`` the amounts a mint owes (rounded up), for
        ``delta < 0`` the amounts a burn credits (rounded down, returned positive).
        Raises the mint's/burn's tick and liquidity errors (``TLU``, ``TLM``, ``TUM``,
        ``LO``, ``LS``, ``NP``, ``V3_TICK_SPACING``); spec 2.9."""
        self._check_lock()
        data = self._modify_position(owner, tick_lower, tick_upper, delta)
        if delta < 0:
            return -data[7], -data[8]
        return data[7], data[8]

    # ------------------------------------------------------------- operations
    def initialize(self, sqrt_price_x96: int, *, time: int = 0) -> Initialize:
        """Set the first price and the first oracle observation at ``time`` (seconds).
        Raises ``AI`` if already initialised, ``R`` if out of range."""
        if self.sqrt_price_x96 != 0:
            raise PoolError("AI", "pool already initialised")
        tick = get_tick_at_sqrt_ratio(sqrt_price_x96)
        self.sqrt_price_x96 = sqrt_price_x96
        self.tick = tick
        self.fee_protocol = 0
        self.unlocked = True
        self.oracle.initialize(time)
        return Initialize(sqrt_price_x96, tick)

    def _check_lock(self) -> None:
        if not self.unlocked:
            raise PoolError("LOK", "pool not initialised")

    def _modify_position(self, owner: Any, tick_lower: int, tick_upper: int, delta: int):
        """Compute ``_modifyPosition`` without changing anything; returns the commit data."""
        if tick_lower >= tick_upper:
            raise PoolError("TLU", f"tickLower {tick_lower} >= tickUpper {tick_upper}")
        if tick_lower < MIN_TICK:
            raise PoolError("TLM", f"tickLower {tick_lower} < MIN_TICK")
        if tick_upper > MAX_TICK:
            raise PoolError("TUM", f"tickUpper {tick_upper} > MAX_TICK")
        tick = self.tick
        g0 = self.fee_growth_global0_x128
        g1 = self.fee_growth_global1_x128
        lower = self.ticks.get(tick_lower)
        upper = self.ticks.get(tick_upper)
        flipped_lower = flipped_upper = False
        if delta != 0:
            mx = self.max_liquidity_per_tick
            lower, flipped_lower = _tick.updated(lower, tick_lower, tick, delta, g0, g1, False, mx)
            upper, flipped_upper = _tick.updated(upper, tick_upper, tick, delta, g0, g1, True, mx)
            spacing = self.tick_spacing
            for t, flipped in ((tick_lower, flipped_lower), (tick_upper, flipped_upper)):
                if flipped and t % spacing:
                    raise PoolError("V3_TICK_SPACING", f"tick {t} not a multiple of {spacing}")
        fgi0, fgi1 = _tick.get_fee_growth_inside(lower, upper, tick_lower, tick_upper, tick, g0, g1)
        key = (owner, tick_lower, tick_upper)
        pos = _position.updated(self.positions.get(key), delta, fgi0, fgi1)
        amount0 = amount1 = 0
        liquidity = self.liquidity
        if delta != 0:
            sqrt_lower = get_sqrt_ratio_at_tick(tick_lower)
            sqrt_upper = get_sqrt_ratio_at_tick(tick_upper)
            if tick < tick_lower:
                amount0 = get_amount0_delta_signed(sqrt_lower, sqrt_upper, delta)
            elif tick < tick_upper:
                sp = self.sqrt_price_x96
                amount0 = get_amount0_delta_signed(sp, sqrt_upper, delta)
                amount1 = get_amount1_delta_signed(sqrt_lower, sp, delta)
                liquidity = add_delta(liquidity, delta)
            else:
                amount1 = get_amount1_delta_signed(sqrt_lower, sqrt_upper, delta)
        return (key, pos, lower, upper, flipped_lower, flipped_upper, liquidity, amount0, amount1)

    def _commit_position(self, data, delta: int, time: int) -> None:
        key, pos, lower, upper, flipped_lower, flipped_upper, liquidity = data[:7]
        tick_lower, tick_upper = key[1], key[2]
        if delta != 0:
            if tick_lower <= self.tick < tick_upper:
                self.oracle.write(time, self.tick, self.liquidity)
            for t, info, flipped in (
                (tick_lower, lower, flipped_lower),
                (tick_upper, upper, flipped_upper),
            ):
                if flipped:
                    flip_tick(self.bitmap, t, self.tick_spacing)
                if info.liquidity_gross == 0:  # flipped to uninitialised: Tick.clear
                    self.ticks.pop(t, None)
                else:
                    self.ticks[t] = info
        self.positions[key] = pos
        self.liquidity = liquidity

    def mint(
        self,
        sender: Any,
        owner: Any,
        tick_lower: int,
        tick_upper: int,
        amount: int,
        paid0: int | None = None,
        paid1: int | None = None,
        *,
        time: int = 0,
    ) -> Mint:
        """Add ``amount`` liquidity to ``owner``'s position (spec 2.9).

        The event's ``amount0``/``amount1`` are what the caller owes (rounded up). ``paid0``/
        ``paid1`` are what the caller actually sends in its callback (default: exactly the
        amounts owed); they are added to the pool balances. Raises ``LOK``,
        ``V3_MINT_ZERO``, ``V3_CAST``, ``TLU``/``TLM``/``TUM``, ``LO``, ``LA``,
        ``V3_TICK_SPACING``, ``M0``/``M1`` (paid less than owed).
        """
        self._check_lock()
        if amount <= 0:
            raise PoolError("V3_MINT_ZERO", "mint of zero liquidity")
        if amount >= _INT127:
            raise PoolError("V3_CAST", f"amount {amount} does not fit int128")
        data = self._modify_position(owner, tick_lower, tick_upper, amount)
        amount0, amount1 = data[7], data[8]
        p0 = amount0 if paid0 is None else paid0
        p1 = amount1 if paid1 is None else paid1
        if amount0 > 0 and p0 < amount0:
            raise PoolError("M0", f"paid {p0} < owed {amount0} of token0")
        if amount1 > 0 and p1 < amount1:
            raise PoolError("M1", f"paid {p1} < owed {amount1} of token1")
        self._commit_position(data, amount, time)
        self.balance0 += p0
        self.balance1 += p1
        return Mint(sender, owner, tick_lower, tick_upper, amount, amount0, amount1)

    def burn(
        self, owner: Any, tick_lower: int, tick_upper: int, amount: int, *, time: int = 0
    ) -> Burn:
        """Remove ``amount`` liquidity from the caller's position; the amounts (rounded down)
        are added to ``tokensOwed``, nothing is transferred. ``amount == 0`` pokes the fees.
        Raises ``LOK``, ``V3_CAST``, ``TLU``/``TLM``/``TUM``, ``NP``, ``LS`` (spec 2.9)."""
        self._check_lock()
        if amount < 0 or amount >= _INT127:
            raise PoolError("V3_CAST", f"amount {amount} does not fit int128")
        data = self._modify_position(owner, tick_lower, tick_upper, -amount)
        amount0, amount1 = -data[7], -data[8]
        self._commit_position(data, -amount, time)
        if amount0 > 0 or amount1 > 0:
            pos = data[1]
            pos.tokens_owed0 = (pos.tokens_owed0 + amount0) & _MASK128
            pos.tokens_owed1 = (pos.tokens_owed1 + amount1) & _MASK128
        return Burn(owner, tick_lower, tick_upper, amount, amount0, amount1)

    def collect(
        self,
        owner: Any,
        recipient: Any,
        tick_lower: int,
        tick_upper: int,
        amount0_requested: int,
        amount1_requested: int,
    ) -> Collect:
        """Pay out ``min(requested, tokensOwed)`` of each token to ``recipient`` (no tick
        check). Raises ``LOK``, or ``TF`` if the pool balance cannot cover it (spec 2.9)."""
        self._check_lock()
        pos = self.positions.get((owner, tick_lower, tick_upper))
        owed0 = pos.tokens_owed0 if pos is not None else 0
        owed1 = pos.tokens_owed1 if pos is not None else 0
        amount0 = min(amount0_requested, owed0)
        amount1 = min(amount1_requested, owed1)
        if amount0 > self.balance0 or amount1 > self.balance1:
            raise PoolError("TF", "pool balance below the collected amount")
        if pos is not None:
            pos.tokens_owed0 -= amount0
            pos.tokens_owed1 -= amount1
        self.balance0 -= amount0
        self.balance1 -= amount1
        return Collect(owner, recipient, tick_lower, tick_upper, amount0, amount1)

    def set_fee_protocol(
        self, sender: Any, fee_protocol0: int, fee_protocol1: int
    ) -> SetFeeProtocol:
        """Factory owner only (``V3_NOT_OWNER``); each value 0 or 4..10 (``V3_FEE_PROTOCOL``)."""
        self._check_lock()
        if sender != self.factory_owner:
            raise PoolError("V3_NOT_OWNER", f"{sender!r} is not the factory owner")
        for f in (fee_protocol0, fee_protocol1):
            if not (f == 0 or 4 <= f <= 10):
                raise PoolError("V3_FEE_PROTOCOL", f"feeProtocol {f} not 0 or in 4..10")
        old = self.fee_protocol
        self.fee_protocol = fee_protocol0 + (fee_protocol1 << 4)
        return SetFeeProtocol(old % 16, old >> 4, fee_protocol0, fee_protocol1)

    def collect_protocol(
        self, sender: Any, recipient: Any, amount0_requested: int, amount1_requested: int
    ) -> CollectProtocol:
        """Pay ``min(requested, protocolFees)``, 1 wei less if that would empty the slot."""
        self._check_lock()
        if sender != self.factory_owner:
            raise PoolError("V3_NOT_OWNER", f"{sender!r} is not the factory owner")
        amount0 = min(amount0_requested, self.protocol_fees0)
        amount1 = min(amount1_requested, self.protocol_fees1)
        if amount0 > 0 and amount0 == self.protocol_fees0:
            amount0 -= 1
        if amount1 > 0 and amount1 == self.protocol_fees1:
            amount1 -= 1
        if amount0 > self.balance0 or amount1 > self.balance1:
            raise PoolError("TF", "pool balance below the collected amount")
        self.protocol_fees0 -= amount0
        self.protocol_fees1 -= amount1
        self.balance0 -= amount0
        self.balance1 -= amount1
        return CollectProtocol(sender, recipient, amount0, amount1)

    # ------------------------------------------------------------------- swap
    def _swap_compute(self, zero_for_one: bool, amount_specified: int, limit: int | None):
        if amount_specified == 0:
            raise PoolError("AS", "amountSpecified is 0")
        if not -_INT255 <= amount_specified < _INT255:
            raise PoolError("V3_CAST", f"amountSpecified {amount_specified} is not an int256")
        if not self.unlocked:
            raise PoolError("LOK", "pool not initialised")
        sqrt_price = self.sqrt_price_x96
        if limit is None:
            limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        if zero_for_one:
            if not (MIN_SQRT_RATIO < limit < sqrt_price):
                raise PoolError("SPL", f"limit {limit} not in (MIN_SQRT_RATIO, {sqrt_price})")
            fee_protocol = self.fee_protocol % 16
            g = self.fee_growth_global0_x128
        else:
            if not (sqrt_price < limit < MAX_SQRT_RATIO):
                raise PoolError("SPL", f"limit {limit} not in ({sqrt_price}, MAX_SQRT_RATIO)")
            fee_protocol = self.fee_protocol >> 4
            g = self.fee_growth_global1_x128
        exact_in = amount_specified > 0
        remaining = amount_specified
        calculated = 0
        tick = self.tick
        liquidity = self.liquidity
        protocol_fee = 0
        fee_paid = 0  # every step's fee, before the protocol's cut
        crossings: list[tuple[int, int]] = []  # (tick, running input-token fee growth)
        bitmap = self.bitmap
        ticks = self.ticks
        spacing = self.tick_spacing
        fee = self.fee
        while remaining != 0 and sqrt_price != limit:
            start = sqrt_price
            tick_next, initialized = next_initialized_tick_within_one_word(
                bitmap, tick, spacing, zero_for_one
            )
            if tick_next < MIN_TICK:
                tick_next = MIN_TICK
            elif tick_next > MAX_TICK:
                tick_next = MAX_TICK
            sqrt_next = get_sqrt_ratio_at_tick(tick_next)
            if zero_for_one:
                target = limit if sqrt_next < limit else sqrt_next
            else:
                target = limit if sqrt_next > limit else sqrt_next
            sqrt_price, amount_in, amount_out, fee_amount = compute_swap_step(
                sqrt_price, target, liquidity, remaining, fee
            )
            if exact_in:
                remaining -= amount_in + fee_amount
                calculated -= amount_out
            else:
                remaining += amount_out
                calculated += amount_in + fee_amount
            fee_paid += fee_amount
            if fee_protocol > 0:
                delta = fee_amount // fee_protocol
                fee_amount -= delta
                protocol_fee = (protocol_fee + delta) & _MASK128
            if liquidity > 0:
                g = (g + (fee_amount << 128) // liquidity) & _MASK256
            if sqrt_price == sqrt_next:
                if initialized:
                    crossings.append((tick_next, g))
                    net = ticks[tick_next].liquidity_net
                    liquidity = add_delta(liquidity, -net if zero_for_one else net)
                tick = tick_next - 1 if zero_for_one else tick_next
            elif sqrt_price != start:
                tick = get_tick_at_sqrt_ratio(sqrt_price)
        if calculated >= _INT255 or calculated < -_INT255:
            raise PoolError("V3_MATH", "amountCalculated overflows int256")
        if zero_for_one == exact_in:
            amount0, amount1 = amount_specified - remaining, calculated
        else:
            amount0, amount1 = calculated, amount_specified - remaining
        return amount0, amount1, sqrt_price, tick, liquidity, g, protocol_fee, crossings, fee_paid

    def quote(
        self, zero_for_one: bool, amount_specified: int, sqrt_price_limit_x96: int | None = None
    ) -> tuple[int, int, int, int, int]:
        """Run the swap loop and change nothing: ``(amount0, amount1, sqrtPriceX96, tick,
        liquidity)`` after the swap (pool's side: positive = paid in). Same errors as
        :meth:`swap` except ``IIA``/``TF``."""
        return self._swap_compute(zero_for_one, amount_specified, sqrt_price_limit_x96)[:5]

    def quote_with_fee(
        self, zero_for_one: bool, amount_specified: int, sqrt_price_limit_x96: int | None = None
    ) -> tuple[int, int, int, int, int, int]:
        """:meth:`quote` and the swap fee: ``(amount0, amount1, sqrtPriceX96, tick,
        liquidity, fee)``, ``fee`` in base units of the input token, the sum of every
        step's ``feeAmount`` (``SwapMath.computeSwapStep``, spec 2.10) with the protocol's
        share included. Changes nothing; same errors as :meth:`quote`."""
        r = self._swap_compute(zero_for_one, amount_specified, sqrt_price_limit_x96)
        return r[0], r[1], r[2], r[3], r[4], r[8]

    def swap(
        self,
        sender: Any,
        recipient: Any,
        zero_for_one: bool,
        amount_specified: int,
        sqrt_price_limit_x96: int | None = None,
        paid: int | None = None,
        *,
        time: int = 0,
    ) -> Swap:
        """``UniswapV3Pool.swap`` (spec 2.10). ``amount_specified > 0`` is exact input,
        ``< 0`` exact output; ``sqrt_price_limit_x96=None`` means no limit (MIN+1 / MAX−1).
        ``paid`` is what the caller sends of the input token in its callback (default: the
        amount owed). Returns the ``Swap`` event: the negative amount is sent to
        ``recipient``. Raises ``AS``, ``LOK``, ``SPL``, ``IIA`` (paid less than owed), ``TF``
        (pool cannot pay out), and the math errors.
        """
        amount0, amount1, sqrt_price, tick, liquidity, g, protocol_fee, crossings, _ = (
            self._swap_compute(zero_for_one, amount_specified, sqrt_price_limit_x96)
        )
        amount_in, amount_out = (amount0, -amount1) if zero_for_one else (amount1, -amount0)
        p = amount_in if paid is None else paid
        if p < amount_in:
            raise PoolError("IIA", f"paid {p} < owed {amount_in}")
        out_balance = self.balance1 if zero_for_one else self.balance0
        if amount_out > out_balance:
            raise PoolError("TF", f"pool cannot pay {amount_out} (balance {out_balance})")
        if tick != self.tick:
            self.oracle.write(time, self.tick, self.liquidity)
        ticks = self.ticks
        if zero_for_one:
            g1 = self.fee_growth_global1_x128
            for t, g_at in crossings:
                _tick.cross(ticks[t], g_at, g1)
            self.fee_growth_global0_x128 = g
            self.protocol_fees0 = (self.protocol_fees0 + protocol_fee) & _MASK128
            self.balance0 += p
            if amount_out > 0:
                self.balance1 -= amount_out
        else:
            g0 = self.fee_growth_global0_x128
            for t, g_at in crossings:
                _tick.cross(ticks[t], g0, g_at)
            self.fee_growth_global1_x128 = g
            self.protocol_fees1 = (self.protocol_fees1 + protocol_fee) & _MASK128
            self.balance1 += p
            if amount_out > 0:
                self.balance0 -= amount_out
        self.sqrt_price_x96 = sqrt_price
        self.tick = tick
        self.liquidity = liquidity
        return Swap(sender, recipient, amount0, amount1, sqrt_price, liquidity, tick)

    def flash(
        self,
        sender: Any,
        recipient: Any,
        amount0: int,
        amount1: int,
        repaid0: int | None = None,
        repaid1: int | None = None,
    ) -> Flash:
        """Lend ``amount0``/``amount1`` for one callback; ``repaid_i`` is everything sent
        back in it (principal included; default: principal + fee). ``paid_i = repaid_i −
        amount_i`` must be ≥ ``⌈amount_i·fee/10^6⌉`` (``F0``/``F1``); all of it is fee: the
        protocol takes ``⌊paid_i/f_i⌋``, the rest grows ``feeGrowthGlobal_i``. Raises
        ``LOK``, ``L`` (no liquidity), ``TF`` (pool cannot lend that much); spec 2.11."""
        self._check_lock()
        liquidity = self.liquidity
        if liquidity <= 0:
            raise PoolError("L", "flash with zero liquidity")
        fee0 = mul_div_rounding_up(amount0, self.fee, 1_000_000)
        fee1 = mul_div_rounding_up(amount1, self.fee, 1_000_000)
        if amount0 > self.balance0 or amount1 > self.balance1:
            raise PoolError("TF", "pool balance below the flash amount")
        r0 = amount0 + fee0 if repaid0 is None else repaid0
        r1 = amount1 + fee1 if repaid1 is None else repaid1
        paid0, paid1 = r0 - amount0, r1 - amount1
        if paid0 < fee0:
            raise PoolError("F0", f"paid {paid0} < fee {fee0} of token0")
        if paid1 < fee1:
            raise PoolError("F1", f"paid {paid1} < fee {fee1} of token1")
        if paid0 > 0:
            f = self.fee_protocol % 16
            share = paid0 // f if f else 0
            self.protocol_fees0 = (self.protocol_fees0 + share) & _MASK128
            self.fee_growth_global0_x128 = (
                self.fee_growth_global0_x128 + mul_div(paid0 - share, _Q128, liquidity)
            ) & _MASK256
        if paid1 > 0:
            f = self.fee_protocol >> 4
            share = paid1 // f if f else 0
            self.protocol_fees1 = (self.protocol_fees1 + share) & _MASK128
            self.fee_growth_global1_x128 = (
                self.fee_growth_global1_x128 + mul_div(paid1 - share, _Q128, liquidity)
            ) & _MASK256
        self.balance0 += paid0
        self.balance1 += paid1
        return Flash(sender, recipient, amount0, amount1, paid0, paid1)

    # ----------------------------------------------------------------- oracle
    def increase_observation_cardinality_next(
        self, observation_cardinality_next: int
    ) -> IncreaseObservationCardinalityNext | None:
        """Grow the oracle's ring buffer (capped at 65,535); returns the event, or ``None``
        when nothing changed (the contract emits nothing then). Raises ``LOK``."""
        self._check_lock()
        old = self.oracle.cardinality_next
        new = self.oracle.grow(observation_cardinality_next)
        return IncreaseObservationCardinalityNext(old, new) if new != old else None

    def observe(
        self, time: int, seconds_agos: list[int] | tuple[int, ...]
    ) -> tuple[list[int], list[int]]:
        """``(tickCumulatives, secondsPerLiquidityCumulativeX128s)`` at ``time − secondsAgo``
        for each entry (``time`` is now, in seconds). TWAP tick between two entries =
        ``(tc2 − tc1)/(t2 − t1)``. Raises ``I`` (not initialised) and ``OLD``."""
        return self.oracle.observe(time, seconds_agos, self.tick, self.liquidity)

    # ------------------------------------------------------------- invariants
    def invariant_errors(self) -> list[str]:
        """The V3 invariants of spec section 5 that hold for one pool; returns messages."""
        errors: list[str] = []
        if not self.unlocked:
            return errors
        net_total = 0
        active = 0
        for t, info in self.ticks.items():
            net_total += info.liquidity_net
            if t <= self.tick:
                active += info.liquidity_net
            if info.liquidity_gross <= 0:
                errors.append(f"tick {t} stored with liquidityGross 0")
            if info.liquidity_gross > self.max_liquidity_per_tick:
                errors.append(f"tick {t} gross above maxLiquidityPerTick")
            c = t // self.tick_spacing
            if not (self.bitmap.get(c >> 8, 0) >> (c & 255)) & 1:
                errors.append(f"tick {t} initialised but its bitmap bit is clear")
        bits = sum(bin(w).count("1") for w in self.bitmap.values())
        if bits != len(self.ticks):
            errors.append(f"bitmap has {bits} bits set for {len(self.ticks)} ticks")
        if net_total != 0:
            errors.append(f"sum of liquidityNet is {net_total}, not 0")
        if active != self.liquidity:
            errors.append(f"liquidity {self.liquidity} != sum of net at or below tick {active}")
        gross: dict[int, int] = {}
        owed0 = owed1 = 0
        for (_, lo, up), pos in self.positions.items():
            gross[lo] = gross.get(lo, 0) + pos.liquidity
            gross[up] = gross.get(up, 0) + pos.liquidity
            owed0 += pos.tokens_owed0
            owed1 += pos.tokens_owed1
        for t, info in self.ticks.items():
            if gross.get(t, 0) != info.liquidity_gross:
                errors.append(f"tick {t} gross != sum of position liquidity")
        sp = self.sqrt_price_x96
        if not MIN_SQRT_RATIO <= sp < MAX_SQRT_RATIO:
            errors.append(f"sqrtPriceX96 {sp} out of range")
        elif not (
            get_sqrt_ratio_at_tick(self.tick) <= sp
            and (self.tick >= MAX_TICK or sp <= get_sqrt_ratio_at_tick(self.tick + 1))
        ):
            errors.append(f"sqrtPriceX96 {sp} outside tick {self.tick}'s range")
        if self.balance0 < self.protocol_fees0 + owed0:
            errors.append(
                f"balance0 {self.balance0} < protocol fees + owed {self.protocol_fees0 + owed0}"
            )
        if self.balance1 < self.protocol_fees1 + owed1:
            errors.append(
                f"balance1 {self.balance1} < protocol fees + owed {self.protocol_fees1 + owed1}"
            )
        return errors
