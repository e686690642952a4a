"""Uniswap V2 core: the pair (``UniswapV2Pair``), the factory's pair registry and ``feeTo``
(``UniswapV2Factory``) and the pair's events, with the contracts' exact integer math
(``../shared/specs/amm.md`` sections 1.1-1.6 and 5).

All amounts are raw token base units (int). Time is passed in as seconds (int). Every
operation checks everything before it changes anything and raises :class:`PoolError` with the
contract's revert string (or the spec's bracketed code) otherwise, leaving the state unchanged.
The pair holds the balances the contract would see (``balance0``/``balance1`` =
``token.balanceOf(pair)``); operations take the amounts the caller sends in and return the
amounts to send out, with the events the contract would emit.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

from .errors import PoolError

__all__ = [
    "MINIMUM_LIQUIDITY",
    "Q112",
    "ZERO_ADDRESS",
    "Burn",
    "Mint",
    "Swap",
    "Sync",
    "Transfer",
    "V2Factory",
    "V2Pair",
]

MINIMUM_LIQUIDITY = 1000
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
Q112 = 1 << 112
MAX_UINT112 = Q112 - 1
_U32 = 1 << 32
_U256 = 1 << 256
_MASK256 = _U256 - 1


# --------------------------------------------------------------------------- events (spec 5)


@dataclass(frozen=True, slots=True)
class Mint:
    """``Mint(sender, amount0, amount1)``: liquidity added (spec 1.3)."""

    sender: str
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class Burn:
    """``Burn(sender, amount0, amount1, to)``: liquidity removed (spec 1.4)."""

    sender: str
    amount0: int
    amount1: int
    to: str


@dataclass(frozen=True, slots=True)
class Swap:
    """``Swap(sender, amount0In, amount1In, amount0Out, amount1Out, to)`` (spec 1.5)."""

    sender: str
    amount0In: int
    amount1In: int
    amount0Out: int
    amount1Out: int
    to: str


@dataclass(frozen=True, slots=True)
class Sync:
    """``Sync(reserve0, reserve1)``: emitted by every ``_update`` (spec 1.2)."""

    reserve0: int
    reserve1: int


@dataclass(frozen=True, slots=True)
class Transfer:
    """LP token ``Transfer(from, to, value)`` (``from_`` since ``from`` is a Python keyword).

    Mints come from :data:`ZERO_ADDRESS` (including the 1,000 locked LP, which go *to* it);
    burns go to it.
    """

    from_: str
    to: str
    value: int


# --------------------------------------------------------------------------- factory


class V2Factory:
    """``UniswapV2Factory``: the pair registry, ``feeTo`` and ``feeToSetter`` (spec 1.1, 1.7).

    Pairs created here share this factory, so :meth:`set_fee_to` switches the protocol fee
    (spec 1.6) of all of them.
    """

    __slots__ = ("fee_to", "fee_to_setter", "pairs", "all_pairs")

    def __init__(self, fee_to_setter: str = "", fee_to: str | None = None) -> None:
        self.fee_to: str | None = fee_to
        self.fee_to_setter = fee_to_setter
        self.pairs: dict[tuple[str, str], V2Pair] = {}
        self.all_pairs: list[V2Pair] = []

    def get_pair(self, token_a: str, token_b: str) -> V2Pair | None:
        """The pair of two tokens in either order, or None."""
        key = (token_a, token_b) if token_a < token_b else (token_b, token_a)
        return self.pairs.get(key)

    def new_pair(self, token_a: str, token_b: str, address: str | None = None) -> V2Pair:
        """Check ``createPair`` and build the pair without registering it (see :meth:`register`).

        Raises ``UniswapV2: IDENTICAL_ADDRESSES``, ``UniswapV2: ZERO_ADDRESS``,
        ``UniswapV2: PAIR_EXISTS``.
        """
        if token_a == token_b:
            raise PoolError("UniswapV2: IDENTICAL_ADDRESSES", token_a)
        t0, t1 = (token_a, token_b) if token_a < token_b else (token_b, token_a)
        if t0 == ZERO_ADDRESS:
            raise PoolError("UniswapV2: ZERO_ADDRESS")
        if (t0, t1) in self.pairs:
            raise PoolError("UniswapV2: PAIR_EXISTS", f"{t0}/{t1}")
        return V2Pair(t0, t1, address=address, factory=self)

    def register(self, pair: V2Pair) -> None:
        """Record a pair built by :meth:`new_pair`."""
        self.pairs[(pair.token0, pair.token1)] = pair
        self.all_pairs.append(pair)

    def create_pair(self, token_a: str, token_b: str, address: str | None = None) -> V2Pair:
        """``createPair``: a new empty pair (tokens sorted). Errors as :meth:`new_pair`."""
        pair = self.new_pair(token_a, token_b, address)
        self.register(pair)
        return pair

    def set_fee_to(self, caller: str, fee_to: str | None) -> None:
        """``setFeeTo``: only ``feeToSetter``; else ``UniswapV2: FORBIDDEN``. None = off."""
        if caller != self.fee_to_setter:
            raise PoolError("UniswapV2: FORBIDDEN", caller)
        self.fee_to = fee_to or None

    def set_fee_to_setter(self, caller: str, setter: str) -> None:
        """``setFeeToSetter``: only ``feeToSetter``; else ``UniswapV2: FORBIDDEN``."""
        if caller != self.fee_to_setter:
            raise PoolError("UniswapV2: FORBIDDEN", caller)
        self.fee_to_setter = setter


# --------------------------------------------------------------------------- pair


class V2Pair:
    """``UniswapV2Pair`` state and operations (spec 1.1-1.6).

    Attributes (the contract's storage, raw units): ``token0 < token1``; ``reserve0/1``
    (uint112); ``block_timestamp_last`` (uint32); ``price0_cumulative_last`` /
    ``price1_cumulative_last`` (UQ112x112·seconds, uint256 wrapping); ``k_last``;
    ``total_supply`` and ``balance_of`` (the LP token; the 1,000 locked LP sit at
    :data:`ZERO_ADDRESS`, LP sent to the pair for a burn sit at ``address``);
    ``balance0/1``: the pair's balance in each token as the token contract reports it.
    ``factory`` supplies ``feeTo``.
    """

    __slots__ = (
        "token0",
        "token1",
        "address",
        "factory",
        "reserve0",
        "reserve1",
        "block_timestamp_last",
        "price0_cumulative_last",
        "price1_cumulative_last",
        "k_last",
        "total_supply",
        "balance_of",
        "balance0",
        "balance1",
    )

    def __init__(
        self,
        token0: str,
        token1: str,
        address: str | None = None,
        factory: V2Factory | None = None,
    ) -> None:
        if not token0 < token1:
            raise ValueError(f"tokens must be sorted: {token0!r} < {token1!r}")
        self.token0 = token0
        self.token1 = token1
        self.address = address or f"UniswapV2Pair:{token0}/{token1}"
        self.factory = factory if factory is not None else V2Factory()
        self.reserve0 = 0
        self.reserve1 = 0
        self.block_timestamp_last = 0
        self.price0_cumulative_last = 0
        self.price1_cumulative_last = 0
        self.k_last = 0
        self.total_supply = 0
        self.balance_of: dict[str, int] = {}
        self.balance0 = 0
        self.balance1 = 0

    # ----------------------------------------------------------------- views

    def get_reserves(self) -> tuple[int, int, int]:
        """``getReserves()``: ``(reserve0, reserve1, blockTimestampLast)``."""
        return self.reserve0, self.reserve1, self.block_timestamp_last

    def lp_balance(self, account: str) -> int:
        """The LP balance of ``account``."""
        return self.balance_of.get(account, 0)

    def current_cumulative_prices(self, now: int) -> tuple[int, int, int]:
        """``UniswapV2OracleLibrary.currentCumulativePrices``: ``(price0Cumulative,
        price1Cumulative, blockTimestamp)`` as if ``_update`` ran at ``now`` (nothing written).

        Raises ``FixedPoint: DIV_BY_ZERO`` when time passed and a reserve is 0 (the library's
        ``fraction``). Spec 1.2.
        """
        ts = now % _U32
        p0, p1 = self.price0_cumulative_last, self.price1_cumulative_last
        if self.block_timestamp_last != ts:
            r0, r1 = self.reserve0, self.reserve1
            if r0 == 0 or r1 == 0:
                raise PoolError("FixedPoint: DIV_BY_ZERO")
            elapsed = (ts - self.block_timestamp_last) % _U32
            p0 = (p0 + (r1 * Q112 // r0) * elapsed) & _MASK256
            p1 = (p1 + (r0 * Q112 // r1) * elapsed) & _MASK256
        return p0, p1, ts

    def fee_on(self) -> bool:
        """Whether the factory's ``feeTo`` is set."""
        return self.factory.fee_to is not None

    def invariant_errors(self) -> list[str]:
        """The spec section 5 V2 invariants that fail now (empty when all hold):
        ``balance_i ≥ reserve_i``, ``reserve_i < 2^112``, ``totalSupply`` = Σ LP balances,
        ``totalSupply ≥ 1000`` once seeded, no negative LP balance, ``kLast ≤ k`` while on."""
        errs = []
        if self.balance0 < self.reserve0:
            errs.append(f"balance0 {self.balance0} < reserve0 {self.reserve0}")
        if self.balance1 < self.reserve1:
            errs.append(f"balance1 {self.balance1} < reserve1 {self.reserve1}")
        for i, r in ((0, self.reserve0), (1, self.reserve1)):
            if not 0 <= r <= MAX_UINT112:
                errs.append(f"reserve{i} {r} outside uint112")
        s = sum(self.balance_of.values())
        if s != self.total_supply:
            errs.append(f"totalSupply {self.total_supply} != sum of LP balances {s}")
        neg = [a for a, v in self.balance_of.items() if v < 0]
        if neg:
            errs.append(f"negative LP balances: {neg}")
        if self.total_supply and self.total_supply < MINIMUM_LIQUIDITY:
            errs.append(f"totalSupply {self.total_supply} < MINIMUM_LIQUIDITY once seeded")
        if self.total_supply and self.balance_of.get(ZERO_ADDRESS, 0) < MINIMUM_LIQUIDITY:
            errs.append("the 1000 locked LP are missing from the zero address")
        if self.fee_on() and self.k_last > self.reserve0 * self.reserve1:
            errs.append(f"kLast {self.k_last} > k {self.reserve0 * self.reserve1}")
        return errs

    # ----------------------------------------------------------------- internals

    def _cumulatives(self, now: int) -> tuple[int, int, int]:
        """The accumulators and timestamp ``_update`` would write at ``now`` (spec 1.2)."""
        ts = now % _U32
        p0, p1 = self.price0_cumulative_last, self.price1_cumulative_last
        elapsed = (ts - self.block_timestamp_last) % _U32
        r0, r1 = self.reserve0, self.reserve1
        if elapsed and r0 and r1:
            p0 = (p0 + (r1 * Q112 // r0) * elapsed) & _MASK256
            p1 = (p1 + (r0 * Q112 // r1) * elapsed) & _MASK256
        return p0, p1, ts

    def _fee_liquidity(self) -> tuple[bool, int, str | None]:
        """``_mintFee`` computed without writing: ``(feeOn, LP to mint to feeTo, feeTo)``."""
        fee_to = self.factory.fee_to
        if fee_to is None:
            return False, 0, None
        k_last = self.k_last
        if k_last:
            root_k = isqrt(self.reserve0 * self.reserve1)
            root_k_last = isqrt(k_last)
            if root_k > root_k_last:
                liq = self.total_supply * (root_k - root_k_last) // (root_k * 5 + root_k_last)
                return True, liq, fee_to
        return True, 0, fee_to

    def _lp_mint(self, to: str, value: int, events: list) -> None:
        bal = self.balance_of
        bal[to] = bal.get(to, 0) + value
        self.total_supply += value
        events.append(Transfer(ZERO_ADDRESS, to, value))

    def _write_update(self, b0: int, b1: int, cum: tuple[int, int, int], events: list) -> None:
        self.reserve0 = b0
        self.reserve1 = b1
        self.price0_cumulative_last, self.price1_cumulative_last, self.block_timestamp_last = cum
        events.append(Sync(b0, b1))

    # ----------------------------------------------------------------- LP token

    def transfer(self, src: str, dst: str, value: int) -> Transfer:
        """LP ``transfer``/``transferFrom`` (allowances not modelled): ``ds-math-sub-underflow``
        when ``src`` holds less than ``value``."""
        if value < 0:
            raise ValueError("negative LP transfer")
        bal = self.balance_of
        have = bal.get(src, 0)
        if have < value:
            raise PoolError("ds-math-sub-underflow", f"{src} holds {have} LP < {value}")
        bal[src] = have - value
        bal[dst] = bal.get(dst, 0) + value
        return Transfer(src, dst, value)

    # ----------------------------------------------------------------- operations

    def mint(
        self, to: str, amount0_in: int, amount1_in: int, now: int, sender: str = ""
    ) -> tuple[int, tuple]:
        """Send ``amount0_in``/``amount1_in`` to the pair, then ``mint(to)`` (spec 1.3, 1.6).

        The minted amounts are ``balance_i − reserve_i``, so earlier donations count too.
        Returns ``(liquidity, events)``; the events are the ``feeTo`` LP ``Transfer`` if any,
        the 1,000 locked LP and ``to``'s LP ``Transfer``, ``Sync`` and ``Mint``.
        Raises ``ds-math-sub-underflow`` (first mint with √(a0·a1) < 1000),
        ``UniswapV2: INSUFFICIENT_LIQUIDITY_MINTED``, ``UniswapV2: OVERFLOW``,
        ``ds-math-mul-overflow``.
        """
        if amount0_in < 0 or amount1_in < 0:
            raise ValueError("negative amount sent in")
        b0 = self.balance0 + amount0_in
        b1 = self.balance1 + amount1_in
        r0, r1 = self.reserve0, self.reserve1
        amount0 = b0 - r0
        amount1 = b1 - r1
        fee_on, fee_liq, fee_to = self._fee_liquidity()
        supply = self.total_supply + fee_liq
        first = supply == 0
        if first:
            prod = amount0 * amount1
            if prod >= _U256:
                raise PoolError("ds-math-mul-overflow", "amount0·amount1")
            root = isqrt(prod)
            if root < MINIMUM_LIQUIDITY:
                raise PoolError("ds-math-sub-underflow", f"sqrt(amount0·amount1) = {root} < 1000")
            liquidity = root - MINIMUM_LIQUIDITY
        else:
            if amount0 * supply >= _U256 or amount1 * supply >= _U256:
                raise PoolError("ds-math-mul-overflow", "amount·totalSupply")
            liquidity = min(amount0 * supply // r0, amount1 * supply // r1)
        if liquidity <= 0:
            raise PoolError("UniswapV2: INSUFFICIENT_LIQUIDITY_MINTED", f"{amount0}/{amount1}")
        if b0 > MAX_UINT112 or b1 > MAX_UINT112:
            raise PoolError("UniswapV2: OVERFLOW", f"balances {b0}/{b1}")
        cum = self._cumulatives(now)
        # ---- commit
        events: list = []
        self.balance0 = b0
        self.balance1 = b1
        if fee_liq:
            self._lp_mint(fee_to, fee_liq, events)
        if first:
            self._lp_mint(ZERO_ADDRESS, MINIMUM_LIQUIDITY, events)
        self._lp_mint(to, liquidity, events)
        self._write_update(b0, b1, cum, events)
        if fee_on:
            self.k_last = b0 * b1
        elif self.k_last:
            self.k_last = 0
        events.append(Mint(sender, amount0, amount1))
        return liquidity, tuple(events)

    def burn(
        self,
        to: str,
        now: int,
        sender: str = "",
        liquidity_in: int = 0,
        lp_from: str | None = None,
    ) -> tuple[int, int, tuple]:
        """Move ``liquidity_in`` LP from ``lp_from`` (default ``sender``) to the pair, then
        ``burn(to)`` as ``sender`` (spec 1.4).

        Burns all LP the pair holds (``balanceOf[pair]``) and pays
        ``floor(liquidity·balance_i/totalSupply)`` of each token (balances, not reserves).
        Returns ``(amount0, amount1, events)``; the amounts go to ``to`` (they stay in the pair
        when ``to`` is the pair). Raises ``ds-math-sub-underflow`` (``sender`` holds too little
        LP), ``[V2_DIV_ZERO]`` (empty pair), ``UniswapV2: INSUFFICIENT_LIQUIDITY_BURNED``,
        ``UniswapV2: OVERFLOW``.
        """
        if liquidity_in < 0:
            raise ValueError("negative LP sent in")
        bal = self.balance_of
        if lp_from is None:
            lp_from = sender
        if liquidity_in:
            have = bal.get(lp_from, 0)
            if have < liquidity_in:
                raise PoolError("ds-math-sub-underflow", f"{lp_from} holds {have} LP")
        liquidity = bal.get(self.address, 0) + liquidity_in
        fee_on, fee_liq, fee_to = self._fee_liquidity()
        supply = self.total_supply + fee_liq
        if supply == 0:
            raise PoolError("[V2_DIV_ZERO]", "burn on an empty pair")
        b0, b1 = self.balance0, self.balance1
        amount0 = liquidity * b0 // supply
        amount1 = liquidity * b1 // supply
        if amount0 <= 0 or amount1 <= 0:
            raise PoolError("UniswapV2: INSUFFICIENT_LIQUIDITY_BURNED", f"liquidity {liquidity}")
        if to != self.address:
            b0 -= amount0
            b1 -= amount1
        if b0 > MAX_UINT112 or b1 > MAX_UINT112:
            raise PoolError("UniswapV2: OVERFLOW", f"balances {b0}/{b1}")
        cum = self._cumulatives(now)
        # ---- commit
        events: list = []
        if liquidity_in:
            events.append(self.transfer(lp_from, self.address, liquidity_in))
        if fee_liq:
            self._lp_mint(fee_to, fee_liq, events)
        bal[self.address] -= liquidity
        self.total_supply -= liquidity
        events.append(Transfer(self.address, ZERO_ADDRESS, liquidity))
        self.balance0 = b0
        self.balance1 = b1
        self._write_update(b0, b1, cum, events)
        if fee_on:
            self.k_last = b0 * b1
        elif self.k_last:
            self.k_last = 0
        events.append(Burn(sender, amount0, amount1, to))
        return amount0, amount1, tuple(events)

    def swap(
        self,
        amount0_out: int,
        amount1_out: int,
        to: str,
        amount0_in: int = 0,
        amount1_in: int = 0,
        now: int = 0,
        sender: str = "",
    ) -> tuple:
        """``swap(amount0Out, amount1Out, to)`` after ``amount0_in``/``amount1_in`` were sent
        to the pair (spec 1.5). A flash swap repays inside the call: pass the repayment as the
        amounts in; the result is the same.

        Returns ``(amount0In, amount1In, events)`` with ``events = (Sync, Swap)``; the
        contract's ``amount_iIn`` counts donations made earlier too. Raises
        ``UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT``, ``UniswapV2: INSUFFICIENT_LIQUIDITY``,
        ``UniswapV2: INVALID_TO``, ``UniswapV2: INSUFFICIENT_INPUT_AMOUNT``, ``UniswapV2: K``,
        ``UniswapV2: OVERFLOW``, ``ds-math-mul-overflow``.
        """
        if amount0_out <= 0 and amount1_out <= 0:
            raise PoolError("UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT")
        if amount0_out < 0 or amount1_out < 0 or amount0_in < 0 or amount1_in < 0:
            raise ValueError("negative swap amount")
        r0, r1 = self.reserve0, self.reserve1
        if amount0_out >= r0 or amount1_out >= r1:
            raise PoolError(
                "UniswapV2: INSUFFICIENT_LIQUIDITY",
                f"out {amount0_out}/{amount1_out} vs reserves {r0}/{r1}",
            )
        if to == self.token0 or to == self.token1:
            raise PoolError("UniswapV2: INVALID_TO", to)
        b0 = self.balance0 + amount0_in
        b1 = self.balance1 + amount1_in
        if to != self.address:
            b0 -= amount0_out
            b1 -= amount1_out
        in0 = b0 - (r0 - amount0_out)
        in1 = b1 - (r1 - amount1_out)
        if in0 < 0:
            in0 = 0
        if in1 < 0:
            in1 = 0
        if in0 == 0 and in1 == 0:
            raise PoolError("UniswapV2: INSUFFICIENT_INPUT_AMOUNT")
        adj0 = b0 * 1000 - in0 * 3
        adj1 = b1 * 1000 - in1 * 3
        lhs = adj0 * adj1
        if lhs >= _U256 or b0 * 1000 >= _U256 or b1 * 1000 >= _U256:
            raise PoolError("ds-math-mul-overflow", "balanceAdjusted product")
        if lhs < r0 * r1 * 1000000:
            raise PoolError("UniswapV2: K", f"{lhs} < {r0 * r1 * 1000000}")
        if b0 > MAX_UINT112 or b1 > MAX_UINT112:
            raise PoolError("UniswapV2: OVERFLOW", f"balances {b0}/{b1}")
        # ---- commit (_cumulatives inlined for speed)
        ts = now % _U32
        elapsed = (ts - self.block_timestamp_last) % _U32
        if elapsed and r0 and r1:
            self.price0_cumulative_last = (
                self.price0_cumulative_last + (r1 * Q112 // r0) * elapsed
            ) & _MASK256
            self.price1_cumulative_last = (
                self.price1_cumulative_last + (r0 * Q112 // r1) * elapsed
            ) & _MASK256
        self.block_timestamp_last = ts
        self.balance0 = self.reserve0 = b0
        self.balance1 = self.reserve1 = b1
        return in0, in1, (Sync(b0, b1), Swap(sender, in0, in1, amount0_out, amount1_out, to))

    def skim(self, to: str) -> tuple[int, int]:
        """``skim(to)``: returns ``(balance0 − reserve0, balance1 − reserve1)`` to send to
        ``to`` (no pair event; spec 1.5). Kept in the pair when ``to`` is the pair."""
        x0 = self.balance0 - self.reserve0
        x1 = self.balance1 - self.reserve1
        if x0 < 0 or x1 < 0:
            raise PoolError("ds-math-sub-underflow", "balance below reserve")
        if to != self.address:
            self.balance0 -= x0
            self.balance1 -= x1
        return x0, x1

    def sync(self, now: int) -> Sync:
        """``sync()``: ``_update`` with the balances (spec 1.5). Raises ``UniswapV2: OVERFLOW``."""
        b0, b1 = self.balance0, self.balance1
        if b0 > MAX_UINT112 or b1 > MAX_UINT112:
            raise PoolError("UniswapV2: OVERFLOW", f"balances {b0}/{b1}")
        events: list = []
        self._write_update(b0, b1, self._cumulatives(now), events)
        return events[0]

    def donate(self, amount0: int = 0, amount1: int = 0) -> None:
        """A plain token transfer to the pair (no pair call): raises the balances only."""
        if amount0 < 0 or amount1 < 0:
            raise ValueError("negative donation")
        self.balance0 += amount0
        self.balance1 += amount1

    # ----------------------------------------------------------------- snapshots

    def _snapshot(self) -> tuple:
        return (
            self.reserve0,
            self.reserve1,
            self.block_timestamp_last,
            self.price0_cumulative_last,
            self.price1_cumulative_last,
            self.k_last,
            self.total_supply,
            dict(self.balance_of),
            self.balance0,
            self.balance1,
        )

    def _restore(self, s: tuple) -> None:
        (
            self.reserve0,
            self.reserve1,
            self.block_timestamp_last,
            self.price0_cumulative_last,
            self.price1_cumulative_last,
            self.k_last,
            self.total_supply,
            self.balance_of,
            self.balance0,
            self.balance1,
        ) = s

    def state(self) -> tuple:
        """Every storage value, for equality checks (tests, replays)."""
        return (self.token0, self.token1, self.address, self._snapshot())
