"""Balancer V1 ``BConst`` constants and ``BNum`` fixed-point arithmetic (spec 3.1, 3.2).

All values are uint256 integers scaled by ``BONE = 10**18``. The rounding of every
operation is part of the protocol (``bmul``/``bdiv`` round half up), and the overflow
checks revert with the contract's strings (``ERR_MUL_OVERFLOW`` ...), raised here as
:class:`~defisim.protocols.amm.errors.PoolError`. Inputs are assumed to be uint256
(0 <= x < 2**256); the pool checks the amounts a caller passes in.
"""

from __future__ import annotations

from ..errors import PoolError

# --- BConst (spec 3.1) -------------------------------------------------------------------
BONE = 10**18
MIN_BOUND_TOKENS = 2
MAX_BOUND_TOKENS = 8
MIN_FEE = BONE // 10**6  # 1e12, 0.0001 %
MAX_FEE = BONE // 10  # 1e17, 10 %
EXIT_FEE = 0
MIN_WEIGHT = BONE
MAX_WEIGHT = BONE * 50
MAX_TOTAL_WEIGHT = BONE * 50
MIN_BALANCE = BONE // 10**12  # 1e6
INIT_POOL_SUPPLY = BONE * 100
MIN_BPOW_BASE = 1
MAX_BPOW_BASE = 2 * BONE - 1
BPOW_PRECISION = BONE // 10**10  # 1e8
MAX_IN_RATIO = BONE // 2
MAX_OUT_RATIO = BONE // 3 + 1  # 333333333333333334

UINT256_MAX = 2**256 - 1
_HALF_BONE = BONE // 2
_MUL_LIMIT = UINT256_MAX - _HALF_BONE  # a*b above this overflows the product or the sum


# --- BNum (spec 3.2) ---------------------------------------------------------------------
def btoi(a: int) -> int:
    """``⌊a / BONE⌋``."""
    return a // BONE


def bfloor(a: int) -> int:
    """``btoi(a) * BONE``."""
    return (a // BONE) * BONE


def badd(a: int, b: int) -> int:
    """``a + b``; ``ERR_ADD_OVERFLOW`` past 2**256 - 1."""
    c = a + b
    if c > UINT256_MAX:
        raise PoolError("ERR_ADD_OVERFLOW", f"{a} + {b}")
    return c


def bsub(a: int, b: int) -> int:
    """``a - b``; ``ERR_SUB_UNDERFLOW`` if ``b > a``."""
    if b > a:
        raise PoolError("ERR_SUB_UNDERFLOW", f"{a} - {b}")
    return a - b


def bsubSign(a: int, b: int) -> tuple[int, bool]:  # noqa: N802 (the contract's name)
    """``(|a - b|, a < b)``."""
    if a >= b:
        return a - b, False
    return b - a, True


def bmul(a: int, b: int) -> int:
    """``⌊(a·b + BONE/2) / BONE⌋`` (round half up); ``ERR_MUL_OVERFLOW`` if the product or
    the sum exceeds 256 bits."""
    c0 = a * b
    if c0 > _MUL_LIMIT:
        raise PoolError("ERR_MUL_OVERFLOW", f"{a} * {b}")
    return (c0 + _HALF_BONE) // BONE


def bdiv(a: int, b: int) -> int:
    """``⌊(a·BONE + ⌊b/2⌋) / b⌋`` (round half up); ``ERR_DIV_ZERO`` if ``b == 0``,
    ``ERR_DIV_INTERNAL`` if ``a·BONE`` or the sum exceeds 256 bits."""
    if b == 0:
        raise PoolError("ERR_DIV_ZERO", f"{a} / 0")
    c1 = a * BONE + (b >> 1)
    if c1 > UINT256_MAX:
        # a*BONE alone overflowing, or the sum overflowing: the same revert string
        raise PoolError("ERR_DIV_INTERNAL", f"{a} / {b}")
    return c1 // b


def bpowi(a: int, n: int) -> int:
    """Integer power by squaring with ``bmul`` (spec 3.2): ``a`` is BONE-scaled, ``n`` a
    plain integer."""
    z = a if n % 2 != 0 else BONE
    n //= 2
    while n != 0:
        a = bmul(a, a)
        if n % 2 != 0:
            z = bmul(z, a)
        n //= 2
    return z


def bpowApprox(base: int, exp: int, precision: int) -> int:  # noqa: N802
    """Binomial series of ``base ** exp`` for a fractional ``exp`` (spec 3.2): terms are
    added while the previous term is >= ``precision``; stops early on a zero term."""
    a = exp
    x, xneg = bsubSign(base, BONE)
    term = BONE
    total = BONE
    negative = False
    i = 1
    while term >= precision:
        big_k = i * BONE
        c, cneg = bsubSign(a, bsub(big_k, BONE))
        term = bmul(term, bmul(c, x))
        term = bdiv(term, big_k)
        if term == 0:
            break
        if xneg:
            negative = not negative
        if cneg:
            negative = not negative
        if negative:
            total = bsub(total, term)
        else:
            total = badd(total, term)
        i += 1
    return total


def bpow(base: int, exp: int) -> int:
    """``base ** exp``, both BONE-scaled (spec 3.2): ``bpowi`` of the whole part times
    ``bpowApprox`` of the remainder at ``BPOW_PRECISION``. Reverts
    ``ERR_BPOW_BASE_TOO_LOW`` if ``base < 1``, ``ERR_BPOW_BASE_TOO_HIGH`` if
    ``base > 2·BONE − 1``."""
    if base < MIN_BPOW_BASE:
        raise PoolError("ERR_BPOW_BASE_TOO_LOW", f"base {base}")
    if base > MAX_BPOW_BASE:
        raise PoolError("ERR_BPOW_BASE_TOO_HIGH", f"base {base}")
    whole = bfloor(exp)
    remain = bsub(exp, whole)
    whole_pow = bpowi(base, btoi(whole))
    if remain == 0:
        return whole_pow
    partial = bpowApprox(base, remain, BPOW_PRECISION)
    return bmul(whole_pow, partial)
