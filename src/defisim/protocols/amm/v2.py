"""Uniswap V2: the pair (``UniswapV2Pair``), the factory's pair registry and ``feeTo``, the
library (``UniswapV2Library``) and the router (``UniswapV2Router02``), with the contracts'
exact integer math (``../shared/specs/amm.md`` section 1).

All amounts are raw token base units (int). Time is passed in as seconds (int). Every
operation checks everything before it changes anything and raises :class:`PoolError` with the
contract's revert string (or the spec's bracketed code) otherwise, leaving the state unchanged.

The pair holds the balances the contract would see (``balance0``/``balance1`` =
``token.balanceOf(pair)``); operations take the amounts the caller sends in and return the
amounts to send out, with the events the contract would emit (spec section 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

from .errors import PoolError

__all__ = [
    "MINIMUM_LIQUIDITY",
    "ZERO_ADDRESS",
    "Burn",
    "Mint",
    "Swap",
    "Sync",
    "Transfer",
    "V2Factory",
    "V2Pair",
    "add_liquidity",
    "get_amount_in",
    "get_amount_out",
    "get_amounts_in",
    "get_amounts_out",
    "quote",
    "remove_liquidity",
    "sort_tokens",
    "swap_exact_tokens_for_tokens",
    "swap_tokens_for_exact_tokens",
]

MINIMUM_LIQUIDITY = 1000
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ROUTER = "UniswapV2Router02"
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


# --------------------------------------------------------------------------- library (spec 1.7)


def sort_tokens(token_a: str, token_b: str) -> tuple[str, str]:
    """``UniswapV2Library.sortTokens``: the two token names in address (string) order.

    Raises ``UniswapV2Library: IDENTICAL_ADDRESSES`` / ``UniswapV2Library: ZERO_ADDRESS``.
    """
    if token_a == token_b:
        raise PoolError("UniswapV2Library: IDENTICAL_ADDRESSES", token_a)
    t0, t1 = (token_a, token_b) if token_a < token_b else (token_b, token_a)
    if t0 == ZERO_ADDRESS:
        raise PoolError("UniswapV2Library: ZERO_ADDRESS")
    return t0, t1


def quote(amount_a: int, reserve_a: int, reserve_b: int) -> int:
    """``quote(a, rA, rB) = floor(a·rB/rA)``: the equivalent amount at the reserve ratio.

    Raises ``UniswapV2Library: INSUFFICIENT_AMOUNT`` (a == 0) or
    ``UniswapV2Library: INSUFFICIENT_LIQUIDITY`` (a reserve is 0). Spec 1.7.
    """
    if amount_a <= 0:
        raise PoolError("UniswapV2Library: INSUFFICIENT_AMOUNT")
    if reserve_a <= 0 or reserve_b <= 0:
        raise PoolError("UniswapV2Library: INSUFFICIENT_LIQUIDITY")
    return amount_a * reserve_b // reserve_a


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """``getAmountOut = floor(997·in·rOut / (1000·rIn + 997·in))``: the largest output the
    pair's ``K`` check accepts for ``amount_in`` (0.3 % fee). Spec 1.7.

    Raises ``UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT`` (in == 0) or
    ``UniswapV2Library: INSUFFICIENT_LIQUIDITY`` (a reserve is 0).
    """
    if amount_in <= 0:
        raise PoolError("UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT")
    if reserve_in <= 0 or reserve_out <= 0:
        raise PoolError("UniswapV2Library: INSUFFICIENT_LIQUIDITY")
    amount_in_with_fee = amount_in * 997
    return amount_in_with_fee * reserve_out // (reserve_in * 1000 + amount_in_with_fee)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    """``getAmountIn = floor(1000·rIn·out / (997·(rOut − out))) + 1`` (always + 1). Spec 1.7.

    Raises ``UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT`` (out == 0),
    ``UniswapV2Library: INSUFFICIENT_LIQUIDITY`` (a reserve is 0),
    ``ds-math-sub-underflow`` (out > rOut) and ``[V2_DIV_ZERO]`` (out == rOut).
    """
    if amount_out <= 0:
        raise PoolError("UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT")
    if reserve_in <= 0 or reserve_out <= 0:
        raise PoolError("UniswapV2Library: INSUFFICIENT_LIQUIDITY")
    if amount_out > reserve_out:
        raise PoolError("ds-math-sub-underflow", f"out {amount_out} > reserve {reserve_out}")
    if amount_out == reserve_out:
        raise PoolError("[V2_DIV_ZERO]", "amountOut equals the output reserve")
    return reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1


def _path_reserves(factory: V2Factory, path: list[str] | tuple[str, ...]) -> list[tuple[int, int]]:
    if len(path) < 2:
        raise PoolError("UniswapV2Library: INVALID_PATH")
    out = []
    for i in range(len(path) - 1):
        pair = factory.get_pair(path[i], path[i + 1])
        if pair is None:
            raise PoolError("[V2_NO_PAIR]", f"no pair for {path[i]}/{path[i + 1]}")
        if path[i] == pair.token0:
            out.append((pair.reserve0, pair.reserve1))
        else:
            out.append((pair.reserve1, pair.reserve0))
    return out


def get_amounts_out(
    factory: V2Factory, amount_in: int, path: list[str] | tuple[str, ...]
) -> list[int]:
    """``UniswapV2Library.getAmountsOut``: ``[amount_in, out_1, ..., out_n]`` along ``path``
    (token names), from the current reserves. Raises ``UniswapV2Library: INVALID_PATH``
    (fewer than 2 tokens), ``[V2_NO_PAIR]`` (a hop without a pair; the contract reverts
    without a message) and :func:`get_amount_out`'s errors. Spec 1.7."""
    reserves = _path_reserves(factory, path)
    amounts = [amount_in]
    for r_in, r_out in reserves:
        amounts.append(get_amount_out(amounts[-1], r_in, r_out))
    return amounts


def get_amounts_in(
    factory: V2Factory, amount_out: int, path: list[str] | tuple[str, ...]
) -> list[int]:
    """``UniswapV2Library.getAmountsIn``: ``[in_0, ..., amount_out]`` along ``path``,
    computed backwards from the last hop. Errors as :func:`get_amounts_out` and
    :func:`get_amount_in`. Spec 1.7."""
    reserves = _path_reserves(factory, path)
    amounts = [0] * len(path)
    amounts[-1] = amount_out
    for i in range(len(path) - 1, 0, -1):
        r_in, r_out = reserves[i - 1]
        amounts[i - 1] = get_amount_in(amounts[i], r_in, r_out)
    return amounts


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


# --------------------------------------------------------------------------- router (spec 1.7)


def _ensure(deadline: int, now: int) -> None:
    if deadline < now:
        raise PoolError("UniswapV2Router: EXPIRED", f"deadline {deadline} < now {now}")


def add_liquidity(
    factory: V2Factory,
    token_a: str,
    token_b: str,
    amount_a_desired: int,
    amount_b_desired: int,
    amount_a_min: int,
    amount_b_min: int,
    to: str,
    deadline: int,
    now: int,
    sender: str = ROUTER,
) -> tuple[int, int, int, V2Pair, tuple]:
    """``UniswapV2Router02.addLiquidity``: creates the pair if needed, deposits the optimal
    amounts (``_addLiquidity``) and mints LP to ``to``.

    Returns ``(amountA, amountB, liquidity, pair, events)``: the caller pays ``amountA`` of
    ``token_a`` and ``amountB`` of ``token_b`` into ``pair``. Raises
    ``UniswapV2Router: EXPIRED``, ``UniswapV2Router: INSUFFICIENT_A_AMOUNT`` /
    ``..._B_AMOUNT``, the factory's and :meth:`V2Pair.mint`'s errors. A new pair is
    registered only if the mint succeeds.
    """
    _ensure(deadline, now)
    pair = factory.get_pair(token_a, token_b)
    new = pair is None
    if new:
        pair = factory.new_pair(token_a, token_b)
    if token_a == pair.token0:
        ra, rb = pair.reserve0, pair.reserve1
    else:
        ra, rb = pair.reserve1, pair.reserve0
    if ra == 0 and rb == 0:
        amount_a, amount_b = amount_a_desired, amount_b_desired
    else:
        b_optimal = quote(amount_a_desired, ra, rb)
        if b_optimal <= amount_b_desired:
            if b_optimal < amount_b_min:
                raise PoolError(
                    "UniswapV2Router: INSUFFICIENT_B_AMOUNT", f"{b_optimal} < {amount_b_min}"
                )
            amount_a, amount_b = amount_a_desired, b_optimal
        else:
            a_optimal = quote(amount_b_desired, rb, ra)
            if a_optimal > amount_a_desired:  # assert in the router
                raise PoolError("[V2_ASSERT]", "amountAOptimal > amountADesired")
            if a_optimal < amount_a_min:
                raise PoolError(
                    "UniswapV2Router: INSUFFICIENT_A_AMOUNT", f"{a_optimal} < {amount_a_min}"
                )
            amount_a, amount_b = a_optimal, amount_b_desired
    if token_a == pair.token0:
        liquidity, events = pair.mint(to, amount_a, amount_b, now, sender)
    else:
        liquidity, events = pair.mint(to, amount_b, amount_a, now, sender)
    if new:
        factory.register(pair)
    return amount_a, amount_b, liquidity, pair, events


def remove_liquidity(
    factory: V2Factory,
    token_a: str,
    token_b: str,
    liquidity: int,
    amount_a_min: int,
    amount_b_min: int,
    owner: str,
    to: str,
    deadline: int,
    now: int,
    sender: str = ROUTER,
) -> tuple[int, int, tuple]:
    """``UniswapV2Router02.removeLiquidity``: moves ``liquidity`` LP from ``owner`` to the pair,
    burns, and checks the minimums; returns ``(amountA, amountB, events)`` to send to ``to``.

    Raises ``UniswapV2Router: EXPIRED``, ``[V2_NO_PAIR]``, :meth:`V2Pair.burn`'s errors,
    ``UniswapV2Router: INSUFFICIENT_A_AMOUNT`` / ``..._B_AMOUNT`` (all undone).
    """
    _ensure(deadline, now)
    pair = factory.get_pair(token_a, token_b)
    if pair is None:
        raise PoolError("[V2_NO_PAIR]", f"{token_a}/{token_b}")
    snap = pair._snapshot()
    amount0, amount1, events = pair.burn(to, now, sender, liquidity, owner)
    if token_a == pair.token0:
        amount_a, amount_b = amount0, amount1
    else:
        amount_a, amount_b = amount1, amount0
    if amount_a < amount_a_min:
        pair._restore(snap)
        raise PoolError("UniswapV2Router: INSUFFICIENT_A_AMOUNT", f"{amount_a} < {amount_a_min}")
    if amount_b < amount_b_min:
        pair._restore(snap)
        raise PoolError("UniswapV2Router: INSUFFICIENT_B_AMOUNT", f"{amount_b} < {amount_b_min}")
    return amount_a, amount_b, events


def _swap_along(
    factory: V2Factory, amounts: list[int], path, to: str, now: int, sender: str
) -> tuple:
    """The router's ``_swap``: hop i pays ``amounts[i]`` into its pair and sends
    ``amounts[i+1]`` to the next pair (or ``to``). All hops or none."""
    n = len(path) - 1
    pairs = [factory.get_pair(path[i], path[i + 1]) for i in range(n)]
    if n == 1:
        pair = pairs[0]
        if path[0] == pair.token0:
            return pair.swap(0, amounts[1], to, amounts[0], 0, now, sender)[2]
        return pair.swap(amounts[1], 0, to, 0, amounts[0], now, sender)[2]
    snaps = [(p, p._snapshot()) for p in dict.fromkeys(pairs)]
    events: list = []
    try:
        for i, pair in enumerate(pairs):
            dst = pairs[i + 1].address if i + 1 < n else to
            a_in, a_out = amounts[i], amounts[i + 1]
            if i and pairs[i - 1] is pair:  # the previous hop sent its output to itself
                a_in = 0
            if path[i] == pair.token0:
                events.extend(pair.swap(0, a_out, dst, a_in, 0, now, sender)[2])
            else:
                events.extend(pair.swap(a_out, 0, dst, 0, a_in, now, sender)[2])
    except PoolError:
        for p, s in snaps:
            p._restore(s)
        raise
    return tuple(events)


def swap_exact_tokens_for_tokens(
    factory: V2Factory,
    amount_in: int,
    amount_out_min: int,
    path: list[str] | tuple[str, ...],
    to: str,
    deadline: int,
    now: int,
    sender: str = ROUTER,
) -> tuple[list[int], tuple]:
    """``swapExactTokensForTokens``: the caller pays ``amount_in`` of ``path[0]``; returns
    ``(amounts, events)`` where ``amounts[-1]`` of ``path[-1]`` goes to ``to``.

    Raises ``UniswapV2Router: EXPIRED``, ``UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT``,
    the library's errors and the pairs' (all hops undone).
    """
    _ensure(deadline, now)
    amounts = get_amounts_out(factory, amount_in, path)
    if amounts[-1] < amount_out_min:
        raise PoolError(
            "UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT", f"{amounts[-1]} < {amount_out_min}"
        )
    return amounts, _swap_along(factory, amounts, path, to, now, sender)


def swap_tokens_for_exact_tokens(
    factory: V2Factory,
    amount_out: int,
    amount_in_max: int,
    path: list[str] | tuple[str, ...],
    to: str,
    deadline: int,
    now: int,
    sender: str = ROUTER,
) -> tuple[list[int], tuple]:
    """``swapTokensForExactTokens``: ``to`` receives ``amount_out`` of ``path[-1]``; the caller
    pays ``amounts[0]`` of ``path[0]``. Returns ``(amounts, events)``.

    Raises ``UniswapV2Router: EXPIRED``, ``UniswapV2Router: EXCESSIVE_INPUT_AMOUNT``, the
    library's errors and the pairs' (all hops undone).
    """
    _ensure(deadline, now)
    amounts = get_amounts_in(factory, amount_out, path)
    if amounts[0] > amount_in_max:
        raise PoolError(
            "UniswapV2Router: EXCESSIVE_INPUT_AMOUNT", f"{amounts[0]} > {amount_in_max}"
        )
    return amounts, _swap_along(factory, amounts, path, to, now, sender)
