"""Balancer V1 ``BPool`` (spec 3.4) and its Ocean V3 / TokenSPICE copy (spec 3.5).

A :class:`BPool` holds the pool's state: controller, factory, public-swap and finalised
flags, swap fee, the bound tokens (in the contract's ``_tokens`` order) with their
denormalised weights and recorded balances, the total weight, the pool-share token
(``BToken``: supply, balances, allowances) and the pool's real token balances
(``balanceOf(pool)``; the chain plug-in keeps the ledger in sync and reports donations
with :meth:`BPool.receive_token`). Addresses are opaque strings; amounts are raw uint256
base units; weights, fees and prices are BONE-scaled (1e18 = 1).

Every operation checks everything, in the contract's order, before it changes anything:
it either succeeds completely and returns the amounts moved plus the events of spec
section 5 (``LOG_SWAP``, ``LOG_JOIN``, ``LOG_EXIT``, share ``Transfer``/``Approval``), or
raises :class:`~defisim.protocols.amm.errors.PoolError` with the contract's revert string
and leaves the state unchanged. Token pulls (from the caller into the pool) and pushes
(out of the pool) are reported in the result (``tokens_in``/``tokens_out``); the core
updates its own ``token_balances`` accordingly.

Differences of ``variant="ocean_v3"`` (spec 3.5): :meth:`BPool.initialize` for proxy
clones, :meth:`BPool.setup`, and ``setController`` rejecting the zero address.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import PoolError
from .bmath import (
    calcInGivenOut,
    calcOutGivenIn,
    calcPoolInGivenSingleOut,
    calcPoolOutGivenSingleIn,
    calcSingleInGivenPoolOut,
    calcSingleOutGivenPoolIn,
    calcSpotPrice,
)
from .bnum import (
    BONE,
    EXIT_FEE,
    INIT_POOL_SUPPLY,
    MAX_BOUND_TOKENS,
    MAX_FEE,
    MAX_IN_RATIO,
    MAX_OUT_RATIO,
    MAX_TOTAL_WEIGHT,
    MAX_WEIGHT,
    MIN_BALANCE,
    MIN_BOUND_TOKENS,
    MIN_FEE,
    MIN_WEIGHT,
    UINT256_MAX,
    badd,
    bdiv,
    bmul,
    bsub,
)

# ruff: noqa: N801, N802, N803, N815 (the contract's event and field names)

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
VARIANTS = ("balancer", "ocean_v3")


# --- events (spec section 5) --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LOG_SWAP:
    """``LOG_SWAP(caller, tokenIn, tokenOut, tokenAmountIn, tokenAmountOut)``."""

    caller: str
    tokenIn: str
    tokenOut: str
    tokenAmountIn: int
    tokenAmountOut: int


@dataclass(frozen=True, slots=True)
class LOG_JOIN:
    """``LOG_JOIN(caller, tokenIn, tokenAmountIn)``."""

    caller: str
    tokenIn: str
    tokenAmountIn: int


@dataclass(frozen=True, slots=True)
class LOG_EXIT:
    """``LOG_EXIT(caller, tokenOut, tokenAmountOut)``."""

    caller: str
    tokenOut: str
    tokenAmountOut: int


@dataclass(frozen=True, slots=True)
class Transfer:
    """Pool-share ``Transfer(src, dst, amt)`` (``BToken``; mint from / burn to 0x0)."""

    src: str
    dst: str
    amt: int


@dataclass(frozen=True, slots=True)
class Approval:
    """Pool-share ``Approval(src, dst, amt)`` (``BToken``)."""

    src: str
    dst: str
    amt: int


# --- results ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Result:
    """What an operation moved, and its events.

    Attributes:
        tokens_in: ``((token, amount), ...)`` pulled from the caller into the pool.
        tokens_out: ``((token, recipient, amount), ...)`` pushed out of the pool (the
            caller, or the factory for the (zero) exit fee).
        pool_amount: pool shares minted to (joins) or taken from (exits) the caller; 0
            for other operations.
        spot_price_after: ``spotPriceAfter`` of a swap (BONE-scaled), else 0.
        events: the events in the contract's emission order.
    """

    tokens_in: tuple[tuple[str, int], ...] = ()
    tokens_out: tuple[tuple[str, str, int], ...] = ()
    pool_amount: int = 0
    spot_price_after: int = 0
    events: tuple = ()

    @property
    def amount_in(self) -> int:
        """The single token amount pulled (swaps and single-asset joins)."""
        return self.tokens_in[0][1] if self.tokens_in else 0

    @property
    def amount_out(self) -> int:
        """The token amount pushed to the caller (swaps and single-asset exits)."""
        return self.tokens_out[0][2] if self.tokens_out else 0


class Record:
    """A bound token: denormalised weight and recorded balance (the contract's ``Record``;
    ``bound`` is membership in :attr:`BPool.records`, ``index`` the position in
    :attr:`BPool.tokens`)."""

    __slots__ = ("denorm", "balance")

    def __init__(self, denorm: int = 0, balance: int = 0) -> None:
        self.denorm = denorm
        self.balance = balance

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Record)
            and self.denorm == other.denorm
            and self.balance == other.balance
        )

    def __repr__(self) -> str:
        return f"Record(denorm={self.denorm}, balance={self.balance})"


def _uint(x: int, name: str) -> None:
    if type(x) is not int or x < 0 or x > UINT256_MAX:
        raise PoolError("[BAD_UINT256]", f"{name} = {x!r} is not a uint256")


class BPool:
    """One Balancer V1 weighted pool (spec 3.4), or the Ocean V3 copy (spec 3.5).

    Args:
        controller: the creator, controller of the pool (``None`` with
            ``variant="ocean_v3"`` gives an uninitialised proxy clone: call
            :meth:`initialize`).
        factory: the factory (receives the zero exit fee); defaults to the controller:
            the constructor sets both to ``msg.sender`` (a ``BFactory`` then hands the
            control to the user with ``setController``).
        address: the pool's own address (holds pulled shares before a burn).
        variant: ``"balancer"`` (balancer-core) or ``"ocean_v3"``.

    Construction gives ``swapFee = MIN_FEE``, not public, not finalised.
    """

    __slots__ = (
        "variant", "address", "controller", "factory", "initialized", "public_swap",
        "finalized", "swap_fee", "tokens", "records", "total_weight", "total_supply",
        "share_balances", "allowances", "token_balances",
    )

    def __init__(
        self,
        controller: str | None,
        factory: str | None = None,
        address: str = "bpool",
        variant: str = "balancer",
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
        self.variant = variant
        self.address = address
        self.controller: str | None = controller
        if factory is None:
            factory = controller
        self.factory: str | None = factory
        self.initialized = controller is not None
        self.public_swap = False
        self.finalized = False
        self.swap_fee = MIN_FEE
        self.tokens: list[str] = []
        self.records: dict[str, Record] = {}
        self.total_weight = 0
        self.total_supply = 0
        self.share_balances: dict[str, int] = {}
        self.allowances: dict[tuple[str, str], int] = {}
        self.token_balances: dict[str, int] = {}

    # ------------------------------------------------------------------ internal helpers
    def _require_controller(self, caller: str) -> None:
        if caller != self.controller:
            raise PoolError("ERR_NOT_CONTROLLER", f"{caller} is not {self.controller}")

    def _require_not_finalized(self) -> None:
        if self.finalized:
            raise PoolError("ERR_IS_FINALIZED")

    def _require_finalized(self) -> None:
        if not self.finalized:
            raise PoolError("ERR_NOT_FINALIZED")

    def _record(self, token: str) -> Record:
        rec = self.records.get(token)
        if rec is None:
            raise PoolError("ERR_NOT_BOUND", token)
        return rec

    def _share_of(self, who: str) -> int:
        return self.share_balances.get(who, 0)

    def _add_share(self, who: str, amt: int) -> None:
        self.share_balances[who] = self.share_balances.get(who, 0) + amt

    def _sub_share(self, who: str, amt: int) -> None:
        self.share_balances[who] = self.share_balances.get(who, 0) - amt

    def _add_token(self, token: str, amt: int) -> None:
        self.token_balances[token] = self.token_balances.get(token, 0) + amt

    def _sub_token(self, token: str, amt: int) -> None:
        have = self.token_balances.get(token, 0)
        if amt > have:  # cannot happen while recorded <= real; keep the state consistent
            raise PoolError("[POOL_TOKEN_BALANCE]", f"{token}: pool holds {have} < {amt}")
        self.token_balances[token] = have - amt

    def _check_rebind(self, token: str, balance: int, denorm: int, rec: Record | None) -> int:
        """Checks of ``rebind`` after the controller/bound/finalised ones; returns the new
        total weight."""
        if denorm < MIN_WEIGHT:
            raise PoolError("ERR_MIN_WEIGHT", f"{denorm}")
        if denorm > MAX_WEIGHT:
            raise PoolError("ERR_MAX_WEIGHT", f"{denorm}")
        if balance < MIN_BALANCE:
            raise PoolError("ERR_MIN_BALANCE", f"{balance}")
        old_weight = rec.denorm if rec is not None else 0
        total = self.total_weight
        if denorm > old_weight:
            total = badd(total, bsub(denorm, old_weight))
            if total > MAX_TOTAL_WEIGHT:
                raise PoolError("ERR_MAX_TOTAL_WEIGHT", f"{total}")
        elif denorm < old_weight:
            total = bsub(total, bsub(old_weight, denorm))
        old_balance = rec.balance if rec is not None else 0
        if balance < old_balance:
            withdrawn = bsub(old_balance, balance)
            fee = bmul(withdrawn, EXIT_FEE)
            bsub(withdrawn, fee)
            if withdrawn > self.token_balances.get(token, 0):
                raise PoolError("[POOL_TOKEN_BALANCE]", f"{token}")
        return total

    def _apply_rebind(self, caller: str, token: str, balance: int, denorm: int,
                      total: int, rec: Record) -> tuple[tuple, tuple]:
        self.total_weight = total
        rec.denorm = denorm
        old_balance = rec.balance
        rec.balance = balance
        if balance > old_balance:
            amt = balance - old_balance
            self._add_token(token, amt)
            return ((token, amt),), ()
        if balance < old_balance:
            withdrawn = old_balance - balance
            fee = bmul(withdrawn, EXIT_FEE)
            self._sub_token(token, withdrawn)
            return (), ((token, caller, withdrawn - fee), (token, self.factory, fee))
        return (), ()

    # ------------------------------------------------------------------ admin (spec 3.4)
    def set_swap_fee(self, caller: str, swap_fee: int) -> Result:
        """``setSwapFee``: ``ERR_IS_FINALIZED``, ``ERR_NOT_CONTROLLER``, ``ERR_MIN_FEE``,
        ``ERR_MAX_FEE``."""
        _uint(swap_fee, "swapFee")
        self._check_swap_fee(caller, swap_fee)
        self.swap_fee = swap_fee
        return Result()

    def _check_swap_fee(self, caller: str, swap_fee: int) -> None:
        self._require_not_finalized()
        self._require_controller(caller)
        if swap_fee < MIN_FEE:
            raise PoolError("ERR_MIN_FEE", f"{swap_fee}")
        if swap_fee > MAX_FEE:
            raise PoolError("ERR_MAX_FEE", f"{swap_fee}")

    def set_public_swap(self, caller: str, public: bool) -> Result:
        """``setPublicSwap``: ``ERR_IS_FINALIZED``, ``ERR_NOT_CONTROLLER``."""
        self._require_not_finalized()
        self._require_controller(caller)
        self.public_swap = bool(public)
        return Result()

    def set_controller(self, caller: str, manager: str) -> Result:
        """``setController``: ``ERR_NOT_CONTROLLER``; Ocean V3 first rejects the zero
        address (``ERR_INVALID_MANAGER_ADDRESS``)."""
        if self.variant == "ocean_v3" and (not manager or manager == ZERO_ADDRESS):
            raise PoolError("ERR_INVALID_MANAGER_ADDRESS")
        self._require_controller(caller)
        self.controller = manager
        return Result()

    def bind(self, caller: str, token: str, balance: int, denorm: int) -> Result:
        """``bind``: ``ERR_NOT_CONTROLLER``, ``ERR_IS_BOUND``, ``ERR_IS_FINALIZED``,
        ``ERR_MAX_TOKENS``, then the checks of :meth:`rebind`. Pulls ``balance`` of
        ``token`` from the caller."""
        _uint(balance, "balance")
        _uint(denorm, "denorm")
        self._require_controller(caller)
        if token in self.records:
            raise PoolError("ERR_IS_BOUND", token)
        self._require_not_finalized()
        if len(self.tokens) >= MAX_BOUND_TOKENS:
            raise PoolError("ERR_MAX_TOKENS")
        total = self._check_rebind(token, balance, denorm, None)
        rec = Record()
        self.records[token] = rec
        self.tokens.append(token)
        tin, tout = self._apply_rebind(caller, token, balance, denorm, total, rec)
        return Result(tokens_in=tin, tokens_out=tout)

    def rebind(self, caller: str, token: str, balance: int, denorm: int) -> Result:
        """``rebind``: ``ERR_NOT_CONTROLLER``, ``ERR_NOT_BOUND``, ``ERR_IS_FINALIZED``,
        ``ERR_MIN_WEIGHT``, ``ERR_MAX_WEIGHT``, ``ERR_MIN_BALANCE``,
        ``ERR_MAX_TOTAL_WEIGHT`` (only when the total grows). Pulls a balance increase
        from the caller, or pushes a decrease back (exit fee 0 to the factory)."""
        _uint(balance, "balance")
        _uint(denorm, "denorm")
        self._require_controller(caller)
        rec = self._record(token)
        self._require_not_finalized()
        total = self._check_rebind(token, balance, denorm, rec)
        tin, tout = self._apply_rebind(caller, token, balance, denorm, total, rec)
        return Result(tokens_in=tin, tokens_out=tout)

    def unbind(self, caller: str, token: str) -> Result:
        """``unbind``: ``ERR_NOT_CONTROLLER``, ``ERR_NOT_BOUND``, ``ERR_IS_FINALIZED``.
        Pushes the recorded balance to the caller; the last token takes the freed slot."""
        self._require_controller(caller)
        rec = self._record(token)
        self._require_not_finalized()
        balance = rec.balance
        fee = bmul(balance, EXIT_FEE)
        total = bsub(self.total_weight, rec.denorm)
        if balance > self.token_balances.get(token, 0):
            raise PoolError("[POOL_TOKEN_BALANCE]", token)
        self.total_weight = total
        index = self.tokens.index(token)
        last = self.tokens.pop()
        if index < len(self.tokens):
            self.tokens[index] = last
        del self.records[token]
        self._sub_token(token, balance)
        return Result(tokens_out=((token, caller, balance - fee), (token, self.factory, fee)))

    def finalize(self, caller: str) -> Result:
        """``finalize``: ``ERR_NOT_CONTROLLER``, ``ERR_IS_FINALIZED``, ``ERR_MIN_TOKENS``.
        Sets finalised and public; mints ``INIT_POOL_SUPPLY`` shares to the caller."""
        self._require_controller(caller)
        self._require_not_finalized()
        if len(self.tokens) < MIN_BOUND_TOKENS:
            raise PoolError("ERR_MIN_TOKENS")
        supply = badd(self.total_supply, INIT_POOL_SUPPLY)
        self.finalized = True
        self.public_swap = True
        self.total_supply = supply
        self._add_share(caller, INIT_POOL_SUPPLY)
        return Result(
            pool_amount=INIT_POOL_SUPPLY,
            events=(
                Transfer(ZERO_ADDRESS, self.address, INIT_POOL_SUPPLY),
                Transfer(self.address, caller, INIT_POOL_SUPPLY),
            ),
        )

    def gulp(self, caller: str, token: str) -> Result:
        """``gulp``: ``ERR_NOT_BOUND``. The recorded balance becomes the real balance."""
        rec = self._record(token)
        rec.balance = self.token_balances.get(token, 0)
        return Result()

    def receive_token(self, token: str, amount: int) -> None:
        """A plain ERC20 transfer into the pool (a donation): the real balance grows, the
        recorded one does not until :meth:`gulp`. Not a pool operation."""
        _uint(amount, "amount")
        self._add_token(token, amount)

    # ------------------------------------------------------------------ Ocean V3 (spec 3.5)
    def _require_ocean(self, name: str) -> None:
        if self.variant != "ocean_v3":
            raise PoolError("[NO_SUCH_FUNCTION]", f"{name} exists only in the Ocean V3 BPool")

    def initialize(
        self, controller: str, factory: str, swap_fee: int, public_swap: bool, finalized: bool,
    ) -> Result:
        """Ocean ``initialize`` of a proxy clone: ``ERR_ALREADY_INITIALIZED``,
        ``ERR_INVALID_CONTROLLER_ADDRESS``, ``ERR_INVALID_FACTORY_ADDRESS``,
        ``ERR_MIN_FEE``, ``ERR_MAX_FEE``."""
        self._require_ocean("initialize")
        _uint(swap_fee, "swapFee")
        if self.initialized:
            raise PoolError("ERR_ALREADY_INITIALIZED")
        if not controller or controller == ZERO_ADDRESS:
            raise PoolError("ERR_INVALID_CONTROLLER_ADDRESS")
        if not factory or factory == ZERO_ADDRESS:
            raise PoolError("ERR_INVALID_FACTORY_ADDRESS")
        if swap_fee < MIN_FEE:
            raise PoolError("ERR_MIN_FEE", f"{swap_fee}")
        if swap_fee > MAX_FEE:
            raise PoolError("ERR_MAX_FEE", f"{swap_fee}")
        self.controller = controller
        self.factory = factory
        self.swap_fee = swap_fee
        self.public_swap = bool(public_swap)
        self.finalized = bool(finalized)
        self.initialized = True
        return Result()

    def setup(
        self, caller: str, data_token: str, data_token_amount: int, data_token_weight: int,
        base_token: str, base_token_amount: int, base_token_weight: int, swap_fee: int,
    ) -> Result:
        """Ocean ``setup``: ``ERR_INVALID_DATATOKEN_ADDRESS``,
        ``ERR_INVALID_BASETOKEN_ADDRESS``, then ``bind`` the datatoken (``LOG_JOIN``),
        ``bind`` the base token (``LOG_JOIN``), ``setSwapFee``, ``finalize``; all or
        nothing."""
        self._require_ocean("setup")
        if not data_token or data_token == ZERO_ADDRESS:
            raise PoolError("ERR_INVALID_DATATOKEN_ADDRESS")
        if not base_token or base_token == ZERO_ADDRESS:
            raise PoolError("ERR_INVALID_BASETOKEN_ADDRESS")
        # a dry run on a copy finds the first revert with nothing changed here
        trial = self._copy()
        trial.bind(caller, data_token, data_token_amount, data_token_weight)
        trial.bind(caller, base_token, base_token_amount, base_token_weight)
        trial.set_swap_fee(caller, swap_fee)
        trial.finalize(caller)
        r1 = self.bind(caller, data_token, data_token_amount, data_token_weight)
        r2 = self.bind(caller, base_token, base_token_amount, base_token_weight)
        self.set_swap_fee(caller, swap_fee)
        r3 = self.finalize(caller)
        return Result(
            tokens_in=r1.tokens_in + r2.tokens_in,
            pool_amount=r3.pool_amount,
            events=(
                LOG_JOIN(caller, data_token, data_token_amount),
                LOG_JOIN(caller, base_token, base_token_amount),
            ) + r3.events,
        )

    def _checkpoint(self) -> BPool:
        """The state now, for :meth:`_rollback` (the plug-in's undo of a step the ledger
        refuses; ``protocols/amm/cores.py``)."""
        return self._copy()

    def _rollback(self, state: BPool) -> None:
        """Back to the state of :meth:`_checkpoint` (``state`` is not used again)."""
        for name in BPool.__slots__:
            setattr(self, name, getattr(state, name))

    def _copy(self) -> BPool:
        new = BPool.__new__(BPool)
        for name in BPool.__slots__:
            setattr(new, name, getattr(self, name))
        new.tokens = list(self.tokens)
        new.records = {t: Record(r.denorm, r.balance) for t, r in self.records.items()}
        new.share_balances = dict(self.share_balances)
        new.allowances = dict(self.allowances)
        new.token_balances = dict(self.token_balances)
        return new

    # ------------------------------------------------------------------ views
    def get_spot_price(self, token_in: str, token_out: str) -> int:
        """``getSpotPrice``: tokenIn per tokenOut with the fee, BONE-scaled;
        ``ERR_NOT_BOUND``."""
        ri = self._record(token_in)
        ro = self._record(token_out)
        return calcSpotPrice(ri.balance, ri.denorm, ro.balance, ro.denorm, self.swap_fee)

    def get_spot_price_sans_fee(self, token_in: str, token_out: str) -> int:
        """``getSpotPriceSansFee``: as :meth:`get_spot_price` with a zero fee."""
        ri = self._record(token_in)
        ro = self._record(token_out)
        return calcSpotPrice(ri.balance, ri.denorm, ro.balance, ro.denorm, 0)

    def get_balance(self, token: str) -> int:
        """``getBalance``: the recorded balance; ``ERR_NOT_BOUND``."""
        return self._record(token).balance

    def get_denormalized_weight(self, token: str) -> int:
        """``getDenormalizedWeight``; ``ERR_NOT_BOUND``."""
        return self._record(token).denorm

    def get_normalized_weight(self, token: str) -> int:
        """``getNormalizedWeight`` = ``bdiv(denorm, totalWeight)``; ``ERR_NOT_BOUND``."""
        return bdiv(self._record(token).denorm, self.total_weight)

    def balances(self) -> dict[str, int]:
        """Recorded balances of the bound tokens, in ``_tokens`` order."""
        return {t: self.records[t].balance for t in self.tokens}

    def weights(self) -> dict[str, int]:
        """Denormalised weights of the bound tokens, in ``_tokens`` order."""
        return {t: self.records[t].denorm for t in self.tokens}

    def balance_of(self, who: str) -> int:
        """Pool-share balance of ``who``."""
        return self.share_balances.get(who, 0)

    def allowance(self, src: str, dst: str) -> int:
        """Pool-share allowance."""
        return self.allowances.get((src, dst), 0)

    # ------------------------------------------------------------------ share token (BToken)
    def transfer(self, caller: str, dst: str, amt: int) -> Result:
        """``BToken.transfer``: ``ERR_INSUFFICIENT_BAL``."""
        _uint(amt, "amt")
        if self._share_of(caller) < amt:
            raise PoolError("ERR_INSUFFICIENT_BAL")
        self._sub_share(caller, amt)
        self._add_share(dst, amt)
        return Result(events=(Transfer(caller, dst, amt),))

    def approve(self, caller: str, dst: str, amt: int) -> Result:
        """``BToken.approve``."""
        _uint(amt, "amt")
        self.allowances[(caller, dst)] = amt
        return Result(events=(Approval(caller, dst, amt),))

    def transfer_from(self, caller: str, src: str, dst: str, amt: int) -> Result:
        """``BToken.transferFrom``: ``ERR_BTOKEN_BAD_CALLER`` (allowance),
        ``ERR_INSUFFICIENT_BAL``. An infinite (2**256-1) allowance is not decreased. The
        ``Approval`` event carries ``(msg.sender, dst, ...)`` as upstream does."""
        _uint(amt, "amt")
        allowed = self.allowances.get((src, caller), 0)
        if caller != src and amt > allowed:
            raise PoolError("ERR_BTOKEN_BAD_CALLER")
        if self._share_of(src) < amt:
            raise PoolError("ERR_INSUFFICIENT_BAL")
        self._sub_share(src, amt)
        self._add_share(dst, amt)
        events: tuple = (Transfer(src, dst, amt),)
        if caller != src and allowed != UINT256_MAX:
            self.allowances[(src, caller)] = allowed - amt
            events += (Approval(caller, dst, allowed - amt),)
        return Result(events=events)

    # ------------------------------------------------------------------ joins and exits
    def join_pool(self, caller: str, pool_amount_out: int, max_amounts_in: list[int]) -> Result:
        """``joinPool`` (proportional): ``ERR_NOT_FINALIZED``, ``ERR_MATH_APPROX`` (ratio 0
        or an amount 0), ``ERR_LIMIT_IN``. ``max_amounts_in`` follows :attr:`tokens`."""
        _uint(pool_amount_out, "poolAmountOut")
        self._require_finalized()
        ratio = bdiv(pool_amount_out, self.total_supply)
        if ratio == 0:
            raise PoolError("ERR_MATH_APPROX", "ratio 0")
        amounts = []
        for i, t in enumerate(self.tokens):
            bal = self.records[t].balance
            amount = bmul(ratio, bal)
            if amount == 0:
                raise PoolError("ERR_MATH_APPROX", f"{t} amount 0")
            if i >= len(max_amounts_in):
                raise PoolError("[ARRAY_LENGTH]", "maxAmountsIn is too short")
            if amount > max_amounts_in[i]:
                raise PoolError("ERR_LIMIT_IN", f"{t}: {amount} > {max_amounts_in[i]}")
            badd(bal, amount)
            amounts.append(amount)
        supply = badd(self.total_supply, pool_amount_out)
        events: list = []
        for t, amount in zip(self.tokens, amounts, strict=False):
            self.records[t].balance += amount
            self._add_token(t, amount)
            events.append(LOG_JOIN(caller, t, amount))
        self.total_supply = supply
        self._add_share(caller, pool_amount_out)
        events.append(Transfer(ZERO_ADDRESS, self.address, pool_amount_out))
        events.append(Transfer(self.address, caller, pool_amount_out))
        return Result(
            tokens_in=tuple(zip(self.tokens, amounts, strict=False)),
            pool_amount=pool_amount_out,
            events=tuple(events),
        )

    def exit_pool(self, caller: str, pool_amount_in: int, min_amounts_out: list[int]) -> Result:
        """``exitPool`` (proportional): ``ERR_NOT_FINALIZED``, ``ERR_MATH_APPROX`` (ratio 0),
        ``ERR_INSUFFICIENT_BAL`` (shares), then per token ``ERR_MATH_APPROX`` (0) and
        ``ERR_LIMIT_OUT``. ``min_amounts_out`` follows :attr:`tokens`."""
        _uint(pool_amount_in, "poolAmountIn")
        self._require_finalized()
        exit_fee = bmul(pool_amount_in, EXIT_FEE)
        after_fee = bsub(pool_amount_in, exit_fee)
        ratio = bdiv(after_fee, self.total_supply)
        if ratio == 0:
            raise PoolError("ERR_MATH_APPROX", "ratio 0")
        if self._share_of(caller) < pool_amount_in:
            raise PoolError("ERR_INSUFFICIENT_BAL", "pool shares")
        supply = bsub(self.total_supply, after_fee)
        amounts = []
        for i, t in enumerate(self.tokens):
            bal = self.records[t].balance
            amount = bmul(ratio, bal)
            if amount == 0:
                raise PoolError("ERR_MATH_APPROX", f"{t} amount 0")
            if i >= len(min_amounts_out):
                raise PoolError("[ARRAY_LENGTH]", "minAmountsOut is too short")
            if amount < min_amounts_out[i]:
                raise PoolError("ERR_LIMIT_OUT", f"{t}: {amount} < {min_amounts_out[i]}")
            bsub(bal, amount)
            if amount > self.token_balances.get(t, 0):
                raise PoolError("[POOL_TOKEN_BALANCE]", t)
            amounts.append(amount)
        events: list = [
            Transfer(caller, self.address, pool_amount_in),
            Transfer(self.address, self.factory, exit_fee),
            Transfer(self.address, ZERO_ADDRESS, after_fee),
        ]
        self._sub_share(caller, pool_amount_in)
        self._add_share(self.factory, exit_fee)
        self.total_supply = supply
        outs = []
        for t, amount in zip(self.tokens, amounts, strict=False):
            self.records[t].balance -= amount
            self._sub_token(t, amount)
            events.append(LOG_EXIT(caller, t, amount))
            outs.append((t, caller, amount))
        return Result(tokens_out=tuple(outs), pool_amount=pool_amount_in, events=tuple(events))

    # ------------------------------------------------------------------ swaps
    def _swap_records(self, token_in: str, token_out: str) -> tuple[Record, Record]:
        ri = self._record(token_in)
        ro = self._record(token_out)
        if not self.public_swap:
            raise PoolError("ERR_SWAP_NOT_PUBLIC")
        return ri, ro

    def swap_exact_amount_in(
        self, caller: str, token_in: str, token_amount_in: int, token_out: str,
        min_amount_out: int, max_price: int,
    ) -> Result:
        """``swapExactAmountIn``: ``ERR_NOT_BOUND``, ``ERR_SWAP_NOT_PUBLIC``,
        ``ERR_MAX_IN_RATIO``, ``ERR_BAD_LIMIT_PRICE``, ``ERR_LIMIT_OUT``,
        ``ERR_MATH_APPROX``, ``ERR_LIMIT_PRICE``, ``ERR_MATH_APPROX``/``ERR_DIV_ZERO``.
        Result: ``amount_out``, ``spot_price_after``, ``LOG_SWAP``."""
        _uint(token_amount_in, "tokenAmountIn")
        _uint(min_amount_out, "minAmountOut")
        _uint(max_price, "maxPrice")
        ri, ro = self._swap_records(token_in, token_out)
        bi, wi, bo, wo, fee = ri.balance, ri.denorm, ro.balance, ro.denorm, self.swap_fee
        if token_amount_in > bmul(bi, MAX_IN_RATIO):
            raise PoolError("ERR_MAX_IN_RATIO", f"{token_amount_in}")
        sp_before = calcSpotPrice(bi, wi, bo, wo, fee)
        if sp_before > max_price:
            raise PoolError("ERR_BAD_LIMIT_PRICE", f"{sp_before} > {max_price}")
        amount_out = calcOutGivenIn(bi, wi, bo, wo, token_amount_in, fee)
        if amount_out < min_amount_out:
            raise PoolError("ERR_LIMIT_OUT", f"{amount_out} < {min_amount_out}")
        return self._settle_swap(caller, ri, ro, token_in, token_out, token_amount_in,
                                 amount_out, sp_before, max_price)

    def swap_exact_amount_out(
        self, caller: str, token_in: str, max_amount_in: int, token_out: str,
        token_amount_out: int, max_price: int,
    ) -> Result:
        """``swapExactAmountOut``: ``ERR_NOT_BOUND``, ``ERR_SWAP_NOT_PUBLIC``,
        ``ERR_MAX_OUT_RATIO``, ``ERR_BAD_LIMIT_PRICE``, ``ERR_LIMIT_IN``,
        ``ERR_MATH_APPROX``, ``ERR_LIMIT_PRICE``, ``ERR_MATH_APPROX``/``ERR_DIV_ZERO``.
        Result: ``amount_in``, ``spot_price_after``, ``LOG_SWAP``."""
        _uint(max_amount_in, "maxAmountIn")
        _uint(token_amount_out, "tokenAmountOut")
        _uint(max_price, "maxPrice")
        ri, ro = self._swap_records(token_in, token_out)
        bi, wi, bo, wo, fee = ri.balance, ri.denorm, ro.balance, ro.denorm, self.swap_fee
        if token_amount_out > bmul(bo, MAX_OUT_RATIO):
            raise PoolError("ERR_MAX_OUT_RATIO", f"{token_amount_out}")
        sp_before = calcSpotPrice(bi, wi, bo, wo, fee)
        if sp_before > max_price:
            raise PoolError("ERR_BAD_LIMIT_PRICE", f"{sp_before} > {max_price}")
        amount_in = calcInGivenOut(bi, wi, bo, wo, token_amount_out, fee)
        if amount_in > max_amount_in:
            raise PoolError("ERR_LIMIT_IN", f"{amount_in} > {max_amount_in}")
        return self._settle_swap(caller, ri, ro, token_in, token_out, amount_in,
                                 token_amount_out, sp_before, max_price)

    def _settle_swap(
        self, caller: str, ri: Record, ro: Record, token_in: str, token_out: str,
        amount_in: int, amount_out: int, sp_before: int, max_price: int,
    ) -> Result:
        """The common end of both swaps (``BPool.swapExactAmountIn``/``Out`` after the
        amount is computed): new balances, the spot-price checks in the contract's
        order, then the commit. Nothing changes before the last check passes."""
        fee = self.swap_fee
        bi, wi, bo, wo = ri.balance, ri.denorm, ro.balance, ro.denorm
        new_bi = badd(bi, amount_in)
        if ri is ro:  # tokenIn == tokenOut: one storage record, both updates apply to it
            new_bi = new_bo = bsub(new_bi, amount_out)
        else:
            new_bo = bsub(bo, amount_out)
        sp_after = calcSpotPrice(new_bi, wi, new_bo, wo, fee)
        if sp_after < sp_before:
            raise PoolError("ERR_MATH_APPROX", "spot price fell")
        if sp_after > max_price:
            raise PoolError("ERR_LIMIT_PRICE", f"{sp_after} > {max_price}")
        if sp_before > bdiv(amount_in, amount_out):
            raise PoolError("ERR_MATH_APPROX", "effective price below spot")
        if amount_out > self.token_balances.get(token_out, 0) + (ri is ro) * amount_in:
            raise PoolError("[POOL_TOKEN_BALANCE]", token_out)
        ri.balance = new_bi
        ro.balance = new_bo
        self._add_token(token_in, amount_in)
        self._sub_token(token_out, amount_out)
        return Result(
            tokens_in=((token_in, amount_in),),
            tokens_out=((token_out, caller, amount_out),),
            spot_price_after=sp_after,
            events=(LOG_SWAP(caller, token_in, token_out, amount_in, amount_out),),
        )

    # ------------------------------------------------------------------ single-asset
    def _single_record(self, token: str) -> Record:
        self._require_finalized()
        return self._record(token)

    def _mint_push(self, caller: str, amt: int) -> tuple:
        self.total_supply += amt
        self._add_share(caller, amt)
        return (Transfer(ZERO_ADDRESS, self.address, amt), Transfer(self.address, caller, amt))

    def joinswap_extern_amount_in(
        self, caller: str, token_in: str, token_amount_in: int, min_pool_amount_out: int,
    ) -> Result:
        """``joinswapExternAmountIn``: ``ERR_NOT_FINALIZED``, ``ERR_NOT_BOUND``,
        ``ERR_MAX_IN_RATIO``, ``ERR_LIMIT_OUT``. No ``publicSwap`` check."""
        _uint(token_amount_in, "tokenAmountIn")
        _uint(min_pool_amount_out, "minPoolAmountOut")
        rec = self._single_record(token_in)
        bal = rec.balance
        if token_amount_in > bmul(bal, MAX_IN_RATIO):
            raise PoolError("ERR_MAX_IN_RATIO", f"{token_amount_in}")
        pool_out = calcPoolOutGivenSingleIn(
            bal, rec.denorm, self.total_supply, self.total_weight, token_amount_in,
            self.swap_fee,
        )
        if pool_out < min_pool_amount_out:
            raise PoolError("ERR_LIMIT_OUT", f"{pool_out} < {min_pool_amount_out}")
        new_bal = badd(bal, token_amount_in)
        badd(self.total_supply, pool_out)
        rec.balance = new_bal
        self._add_token(token_in, token_amount_in)
        events = (LOG_JOIN(caller, token_in, token_amount_in),) + self._mint_push(caller, pool_out)
        return Result(
            tokens_in=((token_in, token_amount_in),), pool_amount=pool_out, events=events,
        )

    def joinswap_pool_amount_out(
        self, caller: str, token_in: str, pool_amount_out: int, max_amount_in: int,
    ) -> Result:
        """``joinswapPoolAmountOut``: ``ERR_NOT_FINALIZED``, ``ERR_NOT_BOUND``,
        ``ERR_MATH_APPROX`` (0 in), ``ERR_LIMIT_IN``, ``ERR_MAX_IN_RATIO``."""
        _uint(pool_amount_out, "poolAmountOut")
        _uint(max_amount_in, "maxAmountIn")
        rec = self._single_record(token_in)
        bal = rec.balance
        amount_in = calcSingleInGivenPoolOut(
            bal, rec.denorm, self.total_supply, self.total_weight, pool_amount_out,
            self.swap_fee,
        )
        if amount_in == 0:
            raise PoolError("ERR_MATH_APPROX", "amount in 0")
        if amount_in > max_amount_in:
            raise PoolError("ERR_LIMIT_IN", f"{amount_in} > {max_amount_in}")
        if amount_in > bmul(bal, MAX_IN_RATIO):
            raise PoolError("ERR_MAX_IN_RATIO", f"{amount_in}")
        new_bal = badd(bal, amount_in)
        badd(self.total_supply, pool_amount_out)
        rec.balance = new_bal
        self._add_token(token_in, amount_in)
        events = (LOG_JOIN(caller, token_in, amount_in),) + self._mint_push(
            caller, pool_amount_out
        )
        return Result(
            tokens_in=((token_in, amount_in),), pool_amount=pool_amount_out, events=events,
        )

    def _pull_burn(self, caller: str, pool_amount_in: int) -> tuple:
        fee = bmul(pool_amount_in, EXIT_FEE)
        burned = pool_amount_in - fee
        self._sub_share(caller, pool_amount_in)
        self.total_supply -= burned
        self._add_share(self.factory, fee)
        return (
            Transfer(caller, self.address, pool_amount_in),
            Transfer(self.address, ZERO_ADDRESS, burned),
            Transfer(self.address, self.factory, fee),
        )

    def _check_pull_burn(self, caller: str, pool_amount_in: int) -> None:
        if self._share_of(caller) < pool_amount_in:
            raise PoolError("ERR_INSUFFICIENT_BAL", "pool shares")
        bsub(self.total_supply, bsub(pool_amount_in, bmul(pool_amount_in, EXIT_FEE)))

    def exitswap_pool_amount_in(
        self, caller: str, token_out: str, pool_amount_in: int, min_amount_out: int,
    ) -> Result:
        """``exitswapPoolAmountIn``: ``ERR_NOT_FINALIZED``, ``ERR_NOT_BOUND``,
        ``ERR_LIMIT_OUT``, ``ERR_MAX_OUT_RATIO``, ``ERR_INSUFFICIENT_BAL`` (shares)."""
        _uint(pool_amount_in, "poolAmountIn")
        _uint(min_amount_out, "minAmountOut")
        rec = self._single_record(token_out)
        bal = rec.balance
        amount_out = calcSingleOutGivenPoolIn(
            bal, rec.denorm, self.total_supply, self.total_weight, pool_amount_in,
            self.swap_fee,
        )
        if amount_out < min_amount_out:
            raise PoolError("ERR_LIMIT_OUT", f"{amount_out} < {min_amount_out}")
        if amount_out > bmul(bal, MAX_OUT_RATIO):
            raise PoolError("ERR_MAX_OUT_RATIO", f"{amount_out}")
        new_bal = bsub(bal, amount_out)
        self._check_pull_burn(caller, pool_amount_in)
        if amount_out > self.token_balances.get(token_out, 0):
            raise PoolError("[POOL_TOKEN_BALANCE]", token_out)
        rec.balance = new_bal
        self._sub_token(token_out, amount_out)
        events = (LOG_EXIT(caller, token_out, amount_out),) + self._pull_burn(
            caller, pool_amount_in
        )
        return Result(
            tokens_out=((token_out, caller, amount_out),), pool_amount=pool_amount_in,
            events=events,
        )

    def exitswap_extern_amount_out(
        self, caller: str, token_out: str, token_amount_out: int, max_pool_amount_in: int,
    ) -> Result:
        """``exitswapExternAmountOut``: ``ERR_NOT_FINALIZED``, ``ERR_NOT_BOUND``,
        ``ERR_MAX_OUT_RATIO``, ``ERR_MATH_APPROX`` (0 shares), ``ERR_LIMIT_IN``,
        ``ERR_INSUFFICIENT_BAL`` (shares)."""
        _uint(token_amount_out, "tokenAmountOut")
        _uint(max_pool_amount_in, "maxPoolAmountIn")
        rec = self._single_record(token_out)
        bal = rec.balance
        if token_amount_out > bmul(bal, MAX_OUT_RATIO):
            raise PoolError("ERR_MAX_OUT_RATIO", f"{token_amount_out}")
        pool_in = calcPoolInGivenSingleOut(
            bal, rec.denorm, self.total_supply, self.total_weight, token_amount_out,
            self.swap_fee,
        )
        if pool_in == 0:
            raise PoolError("ERR_MATH_APPROX", "pool amount in 0")
        if pool_in > max_pool_amount_in:
            raise PoolError("ERR_LIMIT_IN", f"{pool_in} > {max_pool_amount_in}")
        new_bal = bsub(bal, token_amount_out)
        self._check_pull_burn(caller, pool_in)
        if token_amount_out > self.token_balances.get(token_out, 0):
            raise PoolError("[POOL_TOKEN_BALANCE]", token_out)
        rec.balance = new_bal
        self._sub_token(token_out, token_amount_out)
        events = (LOG_EXIT(caller, token_out, token_amount_out),) + self._pull_burn(
            caller, pool_in
        )
        return Result(
            tokens_out=((token_out, caller, token_amount_out),), pool_amount=pool_in,
            events=events,
        )

    # ------------------------------------------------------------------ invariants (spec 5)
    def invariant_errors(self) -> list[str]:
        """The Balancer invariants of spec section 5 that the state alone can show; an
        empty list when all hold. (That the spot price never falls across a swap is
        checked by every swap itself, ``ERR_MATH_APPROX``.)"""
        errors: list[str] = []
        if len(self.tokens) != len(self.records) or set(self.tokens) != set(self.records):
            errors.append("tokens list and records differ")
        total = 0
        for t, rec in self.records.items():
            held = self.token_balances.get(t, 0)
            if rec.balance < 0:
                errors.append(f"{t}: negative recorded balance {rec.balance}")
            if rec.balance > held:
                errors.append(f"{t}: recorded balance {rec.balance} > held {held}")
            if not MIN_WEIGHT <= rec.denorm <= MAX_WEIGHT:
                errors.append(f"{t}: denorm {rec.denorm} outside [1e18, 50e18]")
            total += rec.denorm
        if total != self.total_weight:
            errors.append(f"totalWeight {self.total_weight} != sum of denorms {total}")
        if self.total_weight > MAX_TOTAL_WEIGHT:
            errors.append(f"totalWeight {self.total_weight} > 50e18")
        for t, held in self.token_balances.items():
            if held < 0:
                errors.append(f"{t}: negative pool token balance {held}")
        shares = 0
        for who, b in self.share_balances.items():
            if b < 0:
                errors.append(f"{who}: negative share balance {b}")
            shares += b
        if shares != self.total_supply:
            errors.append(f"share supply {self.total_supply} != sum of holders {shares}")
        if self.finalized and not MIN_BOUND_TOKENS <= len(self.tokens) <= MAX_BOUND_TOKENS:
            errors.append(f"finalised with {len(self.tokens)} tokens")
        if len(self.tokens) > MAX_BOUND_TOKENS:
            errors.append(f"{len(self.tokens)} tokens > 8")
        if not MIN_FEE <= self.swap_fee <= MAX_FEE:
            errors.append(f"swap fee {self.swap_fee} outside [MIN_FEE, MAX_FEE]")
        return errors


def ocean_v3_pool(controller: str, factory: str | None = None, address: str = "bpool") -> BPool:
    """A TokenSPICE-style Ocean V3 pool, initialised (controller, factory, ``MIN_FEE``,
    not public, not finalised) and ready for :meth:`BPool.setup`."""
    return BPool(controller, factory=factory, address=address, variant="ocean_v3")


__all__ = [
    "BONE", "BPool", "LOG_EXIT", "LOG_JOIN", "LOG_SWAP", "Approval", "Record", "Result",
    "Transfer", "ZERO_ADDRESS", "ocean_v3_pool",
]
