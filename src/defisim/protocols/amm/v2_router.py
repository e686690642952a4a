"""Uniswap V2 library (``UniswapV2Library``) and router (``UniswapV2Router02``) over the
pairs of a :class:`V2Factory` (``../shared/specs/amm.md`` section 1.7).

Router calls across several pairs are all-or-nothing: the pairs touched are restored when a
later step fails.
"""

from __future__ import annotations

from .errors import PoolError
from .v2_pair import ZERO_ADDRESS, V2Factory, V2Pair

__all__ = [
    "ROUTER",
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

ROUTER = "UniswapV2Router02"


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
        for p, s in reversed(snaps):  # the latest first: a node drops later snapshots
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
