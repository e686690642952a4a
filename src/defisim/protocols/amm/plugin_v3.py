"""Uniswap V3 pools in the AMM plug-in (spec ``amm.md`` section 2): the V3 events, pool
creation and the position and swap transactions, with the periphery's checks
(``NonfungiblePositionManager`` minimums, ``SwapRouter`` limits, deadlines). Mixed into
:class:`~.protocol.AmmProtocol`.

A position belongs to the party that minted it: the core's position key is
``(party, tick_lower, tick_upper)``. Positions are not fungible and are not ledger
assets; the pool's token balances are ledger accounts (``reserve(pool_id, asset)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from defisim.chain.events import Event
from defisim.chain.ledger import general
from defisim.chain.transactions import EXECUTED, Receipt

from .errors import PoolError
from .plugin_base import AmmPluginBase, AmmPoolCreated, PoolEntry, Reason, reserve
from .v3 import MAX_SQRT_RATIO, MIN_SQRT_RATIO, V3Pool
from .v3.liquidity_amounts import get_liquidity_for_amounts
from .v3.tick_math import get_sqrt_ratio_at_tick

V3_GAS = {"v3_mint": 250_000, "v3_burn": 180_000, "v3_collect": 90_000}
"""Gas of each V3 position transaction in mempool mode (swaps: ``swap`` in the protocol)."""

_MAX_UINT128 = (1 << 128) - 1


def v3_pool_id(asset_a: str, asset_b: str, fee: int) -> str:
    """The id of the V3 pool of two assets (either order) and a fee tier (pips)."""
    t0, t1 = sorted((asset_a, asset_b))
    return f"V3:{t0}/{t1}/{fee}"


# ---------------------------------------------------------------------- events (spec 5)
@dataclass(frozen=True, slots=True)
class V3Initialize(Event):
    """The pool's ``Initialize(sqrtPriceX96, tick)``."""

    market: str
    sqrt_price_x96: int
    tick: int


@dataclass(frozen=True, slots=True)
class V3Mint(Event):
    """``Mint(sender, owner, tickLower, tickUpper, amount, amount0, amount1)``; ``party``
    is the sender and the owner."""

    market: str
    party: str
    tick_lower: int
    tick_upper: int
    amount: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class V3Burn(Event):
    """``Burn(owner, tickLower, tickUpper, amount, amount0, amount1)``: ``amount0/1``
    are credited to the position's tokens owed (paid out by :class:`V3Collect`)."""

    market: str
    party: str
    tick_lower: int
    tick_upper: int
    amount: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class V3Collect(Event):
    """``Collect(owner, recipient, tickLower, tickUpper, amount0, amount1)``."""

    market: str
    party: str
    recipient: str
    tick_lower: int
    tick_upper: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class V3Swap(Event):
    """``Swap(sender, recipient, amount0, amount1, sqrtPriceX96, liquidity, tick)``:
    amounts from the pool's side (positive = paid in), state after the swap; ``fee`` the
    swap fee paid, base units of the input token (part of its positive amount; not in
    the contract's event: the sum of the steps' ``feeAmount``, spec 2.10)."""

    market: str
    party: str
    recipient: str
    amount0: int
    amount1: int
    sqrt_price_x96: int
    liquidity: int
    tick: int
    fee: int = 0


class V3Transactions(AmmPluginBase):
    """The V3 part of :class:`~.protocol.AmmProtocol`.

    Set-up: :meth:`create_v3_pool`. Transactions (raw integers; deadlines in whole
    seconds of chain time, checked first as the periphery does):

    - ``v3_mint(pool_id, tick_lower, tick_upper, amount0_desired, amount1_desired,
      amount0_min, amount1_min, deadline_s, liquidity=0)``: with ``liquidity == 0`` the
      ``NonfungiblePositionManager`` rule: the largest liquidity the desired amounts
      allow at the execution-time price (spec 2.12); with ``liquidity > 0`` exactly
      that liquidity, whose owed amounts must not exceed the desired ones
      (``Price slippage check``). ``value``: ``(liquidity, amount0, amount1)``.
    - ``v3_burn(pool_id, tick_lower, tick_upper, liquidity, amount0_min, amount1_min,
      deadline_s, collect=True)``: ``decreaseLiquidity`` (and, with ``collect``, a
      ``collect`` of everything owed, fees included). ``value``: ``(amount0, amount1,
      collected0, collected1)``.
    - ``v3_collect(pool_id, tick_lower, tick_upper, amount0_max, amount1_max)``:
      ``value``: ``(amount0, amount1)``.

    Swaps go through the protocol's kind-independent ``swap`` (:meth:`_v3_swap`).
    """

    # -- set-up -------------------------------------------------------------------
    def create_v3_pool(self, asset_a: str, asset_b: str, fee: int, sqrt_price_x96: int,
                       tick_spacing: int | None = None) -> str:
        """Create and initialise the V3 pool of two ledger assets and a fee tier.

        Args:
            fee: hundredths of a bip (100, 500, 3000 or 10000 unless ``tick_spacing``
                is given).
            sqrt_price_x96: the first price, √(token1 base units per token0 base unit)
                in Q64.96 (token0 = the smaller asset id).
            tick_spacing: for a fee that is not an enabled tier.

        Returns the pool id ``"V3:<token0>/<token1>/<fee>"``.

        Raises:
            ValueError: an unknown asset, equal assets, an existing pool, a fee tier
                that is not enabled, or a price outside ``[MIN_SQRT_RATIO, MAX_SQRT_RATIO)``.
        """
        led = self.chain.ledger
        for a in (asset_a, asset_b):
            if not isinstance(a, str) or a not in led.assets:
                raise ValueError(f"unknown asset {a!r}; known: {sorted(led.assets)}")
        if asset_a == asset_b:
            raise ValueError(f"a pool needs two different assets, got {asset_a!r} twice")
        if type(fee) is not int:
            raise ValueError(f"fee must be an int in pips (500 = 0.05 %), got {fee!r}")
        if fee == 100 and tick_spacing is None:
            tick_spacing = 1  # the tier Uniswap's factory enabled later (spec 2.1)
        pool_id = v3_pool_id(asset_a, asset_b, fee)
        if pool_id in self.pools:
            raise ValueError(f"pool {pool_id} already exists")
        if not (type(sqrt_price_x96) is int and MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO):
            raise ValueError(f"sqrt_price_x96 must be an int in [MIN_SQRT_RATIO, MAX_SQRT_RATIO), "
                             f"got {sqrt_price_x96!r}")
        core = self.cores.v3_pool(fee, tick_spacing)  # ValueError: fee tier / spacing
        ev = core.initialize(sqrt_price_x96, time=self.now_s())
        t0, t1 = sorted((asset_a, asset_b))
        self.pools[pool_id] = PoolEntry(pool_id, "V3", (t0, t1), "", core)
        stamp = self.chain.stamp()
        self.chain.emit(AmmPoolCreated(*stamp, pool_id, "V3", (t0, t1), "", fee / 1_000_000))
        self.chain.emit(V3Initialize(*self.chain.stamp(), pool_id, ev.sqrtPriceX96, ev.tick))
        return pool_id

    # -- helpers ------------------------------------------------------------------
    def _expired(self, tx: str, sender: str, pid: str, deadline_s: int) -> Receipt | None:
        if self.now_s() > deadline_s:
            return self._reject(tx, sender, pid, Reason.EXPIRED,
                                f"deadline {deadline_s} s before now {self.now_s()} s")
        return None

    def _v3_entry(self, tx: str, sender: Any, pool_id: Any, ints: dict[str, Any]) -> PoolEntry | Receipt:
        bad = self._check_common(tx, sender, (), ints)
        if bad is not None:
            return bad
        return self._pool(tx, sender, pool_id, ("V3",))

    def _v3_position_call(self, tx: str, sender: Any, pool_id: Any, tick_lower: Any,
                          tick_upper: Any, deadline_s: Any, ints: dict[str, Any]) -> PoolEntry | Receipt:
        """The pool of a mint or burn after the checks they share: the sender, the
        integers, the pool, int ticks and the deadline (in the periphery's order)."""
        entry = self._v3_entry(tx, sender, pool_id, {**ints, "deadline_s": deadline_s})
        if isinstance(entry, Receipt):
            return entry
        if type(tick_lower) is not int or type(tick_upper) is not int:
            return self._reject(tx, sender, entry.pool_id, Reason.INVALID_ARGUMENT,
                                f"ticks must be ints, got {tick_lower!r}, {tick_upper!r}")
        bad = self._expired(tx, sender, entry.pool_id, deadline_s)
        return entry if bad is None else bad

    # -- transactions -------------------------------------------------------------
    def tx_v3_mint(self, sender: str, pool_id: str, tick_lower: int, tick_upper: int,
                   amount0_desired: int, amount1_desired: int, amount0_min: int, amount1_min: int,
                   deadline_s: int, liquidity: int = 0) -> Receipt:
        """Add liquidity to the sender's position ``[tick_lower, tick_upper)`` (spec 2.9,
        2.12; periphery ``NonfungiblePositionManager.mint``/``increaseLiquidity``)."""
        tx = "v3_mint"
        entry = self._v3_position_call(tx, sender, pool_id, tick_lower, tick_upper, deadline_s, {
            "amount0_desired": amount0_desired, "amount1_desired": amount1_desired,
            "amount0_min": amount0_min, "amount1_min": amount1_min, "liquidity": liquidity})
        if isinstance(entry, Receipt):
            return entry
        pid, pool = entry.pool_id, entry.core
        try:
            if liquidity == 0:
                if tick_lower >= tick_upper:  # the pool's own check, before the math below
                    raise PoolError("TLU", f"tickLower {tick_lower} >= tickUpper {tick_upper}")
                liquidity = get_liquidity_for_amounts(
                    pool.sqrt_price_x96, get_sqrt_ratio_at_tick(tick_lower),
                    get_sqrt_ratio_at_tick(tick_upper), amount0_desired, amount1_desired)
            amount0, amount1 = (pool.modify_preview(sender, tick_lower, tick_upper, liquidity)
                                if liquidity > 0 else (0, 0))
        except PoolError as e:
            return self._reject(tx, sender, pid, e.reason, e.detail)
        if liquidity == 0:
            return self._reject(tx, sender, pid, "V3_MINT_ZERO",
                                "the desired amounts buy no liquidity at this price")
        if (amount0 < amount0_min or amount1 < amount1_min or amount0 > amount0_desired
                or amount1 > amount1_desired):
            return self._reject(tx, sender, pid, Reason.PRICE_SLIPPAGE,
                                f"owes ({amount0}, {amount1}); desired ({amount0_desired}, "
                                f"{amount1_desired}), min ({amount0_min}, {amount1_min})")
        t0, t1 = entry.assets
        bad = self._funds(tx, sender, pid, ((t0, amount0), (t1, amount1)))
        if bad is not None:
            return bad
        try:
            ev = pool.mint(sender, sender, tick_lower, tick_upper, liquidity, time=self.now_s())
        except PoolError as e:
            return self._reject(tx, sender, pid, e.reason, e.detail)
        led = self.chain.ledger
        if amount0:
            led.transfer(general(sender, t0), reserve(pid, t0), amount0, "amm_deposit")
        if amount1:
            led.transfer(general(sender, t1), reserve(pid, t1), amount1, "amm_deposit")
        self.chain.emit(V3Mint(*self.chain.stamp(), pid, sender, tick_lower, tick_upper,
                               liquidity, ev.amount0, ev.amount1))
        return Receipt(EXECUTED, block=self.chain.block, value=(liquidity, amount0, amount1))

    def _collect(self, entry: PoolEntry, sender: str, lower: int, upper: int, max0: int,
                 max1: int) -> tuple[int, int]:
        pool = entry.core
        ev = pool.collect(sender, sender, lower, upper, max0, max1)
        led = self.chain.ledger
        t0, t1 = entry.assets
        if ev.amount0:
            led.transfer(reserve(entry.pool_id, t0), general(sender, t0), ev.amount0, "amm_collect")
        if ev.amount1:
            led.transfer(reserve(entry.pool_id, t1), general(sender, t1), ev.amount1, "amm_collect")
        self.chain.emit(V3Collect(*self.chain.stamp(), entry.pool_id, sender, sender, lower, upper,
                                  ev.amount0, ev.amount1))
        return ev.amount0, ev.amount1

    def tx_v3_burn(self, sender: str, pool_id: str, tick_lower: int, tick_upper: int,
                   liquidity: int, amount0_min: int, amount1_min: int, deadline_s: int,
                   collect: bool = True) -> Receipt:
        """Remove ``liquidity`` from the sender's position (spec 2.9; periphery
        ``decreaseLiquidity``, then ``collect`` of everything owed when ``collect``).
        ``liquidity == 0`` pokes the position's fees."""
        tx = "v3_burn"
        entry = self._v3_position_call(tx, sender, pool_id, tick_lower, tick_upper, deadline_s, {
            "liquidity": liquidity, "amount0_min": amount0_min, "amount1_min": amount1_min})
        if isinstance(entry, Receipt):
            return entry
        pid, pool = entry.pool_id, entry.core
        try:
            amount0, amount1 = pool.modify_preview(sender, tick_lower, tick_upper, -liquidity)
        except PoolError as e:
            return self._reject(tx, sender, pid, e.reason, e.detail)
        if amount0 < amount0_min or amount1 < amount1_min:
            return self._reject(tx, sender, pid, Reason.PRICE_SLIPPAGE,
                                f"returns ({amount0}, {amount1}), min ({amount0_min}, {amount1_min})")
        ev = pool.burn(sender, tick_lower, tick_upper, liquidity, time=self.now_s())
        self.chain.emit(V3Burn(*self.chain.stamp(), pid, sender, tick_lower, tick_upper,
                               liquidity, ev.amount0, ev.amount1))
        got = (self._collect(entry, sender, tick_lower, tick_upper, _MAX_UINT128, _MAX_UINT128)
               if collect else (0, 0))
        return Receipt(EXECUTED, block=self.chain.block, value=(ev.amount0, ev.amount1, *got))

    def tx_v3_collect(self, sender: str, pool_id: str, tick_lower: int, tick_upper: int,
                      amount0_max: int, amount1_max: int) -> Receipt:
        """Pay the sender up to ``amount{0,1}_max`` of what its position is owed (burned
        amounts and fees credited by a burn or poke; spec 2.9 ``collect``)."""
        tx = "v3_collect"
        entry = self._v3_entry(tx, sender, pool_id, {"amount0_max": amount0_max,
                                                     "amount1_max": amount1_max})
        if isinstance(entry, Receipt):
            return entry
        if type(tick_lower) is not int or type(tick_upper) is not int:
            return self._reject(tx, sender, entry.pool_id, Reason.INVALID_ARGUMENT,
                                f"ticks must be ints, got {tick_lower!r}, {tick_upper!r}")
        try:
            got = self._collect(entry, sender, tick_lower, tick_upper,
                                min(amount0_max, _MAX_UINT128), min(amount1_max, _MAX_UINT128))
        except PoolError as e:
            return self._reject(tx, sender, entry.pool_id, e.reason, e.detail)
        return Receipt(EXECUTED, block=self.chain.block, value=got)

    def _v3_swap(self, tx: str, sender: str, entry: PoolEntry, asset_in: str, amount: int,
                 limit: int, exact_in: bool, price_limit: int) -> Receipt:
        """One V3 swap (spec 2.10, periphery ``SwapRouter.exactInputSingle`` /
        ``exactOutputSingle``): ``amount`` of ``asset_in`` paid (exact in) or of the other
        asset received (exact out); ``limit`` the minimum out / maximum in; ``price_limit``
        a ``sqrtPriceLimitX96`` (0: none). ``value``: ``(amount_in, amount_out)``."""
        pid, pool = entry.pool_id, entry.core
        zero_for_one = asset_in == entry.assets[0]
        if amount == 0:
            return self._reject(tx, sender, pid, "AS", "amountSpecified is 0")
        if amount >= 1 << 255:
            return self._reject(tx, sender, pid, Reason.INVALID_ARGUMENT,
                                f"amount {amount} does not fit int256")
        spec = amount if exact_in else -amount
        try:
            a0, a1, _, _, _, fee = pool.quote_with_fee(zero_for_one, spec, price_limit or None)
        except PoolError as e:
            return self._reject(tx, sender, pid, e.reason, e.detail)
        amount_in, amount_out = (a0, -a1) if zero_for_one else (a1, -a0)
        if exact_in and amount_out < limit:
            return self._reject(tx, sender, pid, Reason.TOO_LITTLE_RECEIVED,
                                f"out {amount_out} < minimum {limit}")
        if not exact_in and (amount_in > limit or (not price_limit and amount_out != amount)):
            return self._reject(tx, sender, pid, Reason.TOO_MUCH_REQUESTED,
                                f"in {amount_in} > maximum {limit}" if amount_in > limit else
                                f"the pool can pay only {amount_out} of {amount}")
        asset_out = entry.assets[1] if zero_for_one else entry.assets[0]
        bad = self._funds(tx, sender, pid, ((asset_in, amount_in),))
        if bad is not None:
            return bad
        try:
            ev = pool.swap(sender, sender, zero_for_one, spec, price_limit or None, time=self.now_s())
        except PoolError as e:
            return self._reject(tx, sender, pid, e.reason, e.detail)
        led = self.chain.ledger
        if amount_in:
            led.transfer(general(sender, asset_in), reserve(pid, asset_in), amount_in, "amm_swap_in")
        if amount_out:
            led.transfer(reserve(pid, asset_out), general(sender, asset_out), amount_out, "amm_swap_out")
        self.chain.emit(V3Swap(*self.chain.stamp(), pid, sender, sender, ev.amount0, ev.amount1,
                               ev.sqrtPriceX96, ev.liquidity, ev.tick, fee))
        return Receipt(EXECUTED, block=self.chain.block, value=(amount_in, amount_out))

    # -- checks -------------------------------------------------------------------
    def _v3_invariant_errors(self, pid: str, e: PoolEntry) -> list[str]:
        """Pool ``pid``: the ledger's pool balances equal the core's, and the core's own
        spec section 5 invariants (active liquidity = Σ net at or below the tick, ...)."""
        led = self.chain.ledger
        pool: V3Pool = e.core
        errors = []
        for asset, core_bal in zip(e.assets, (pool.balance0, pool.balance1), strict=True):
            held = led.balance(reserve(pid, asset))
            if held != core_bal:
                errors.append(f"amm pool {pid}: ledger holds {held} {asset}, core balance {core_bal}")
        errors.extend(f"amm pool {pid}: {m}" for m in pool.invariant_errors())
        return errors


__all__ = [
    "V3_GAS",
    "V3Burn",
    "V3Collect",
    "V3Initialize",
    "V3Mint",
    "V3Swap",
    "V3Transactions",
    "v3_pool_id",
]
