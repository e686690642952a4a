"""Balancer V1 weighted pools in the AMM plug-in (spec ``amm.md`` section 3): the
Balancer events, pool creation and the join / exit transactions. Mixed into
:class:`~.protocol.AmmProtocol`; swaps go through the protocol's kind-independent
``swap`` (:meth:`BalancerTransactions._bal_swap`).

The core is :class:`~.balancer.BPool` (``variant="balancer"`` or ``"ocean_v3"``). As for
V2 pairs, every pool share held by a party sits in the core at one address,
:data:`~.plugin_base.LP_HOLDER` (also the core's controller and factory), and the
ledger says who holds it: the LP asset ``<pool_id>-LP`` (18 decimals). The pool's
token balances are the ledger accounts ``reserve(pool_id, asset)``.

All-or-nothing: a core leaves its state unchanged when it rejects an operation; a
transaction the core accepted but the sender cannot pay is undone with the core's
checkpoint pair (``_checkpoint()`` before, ``_rollback(state)``: a copy for the Python
core, an EVM snapshot for a bytecode core). A sender short of a token
or of pool shares is rejected with ``ERR_INSUFFICIENT_BAL`` (the string Balancer's
``BToken``/test tokens revert with; the core's own share check has the same string),
before anything changes. Every other rejection is the core's revert string
(``ERR_LIMIT_OUT``, ``ERR_MAX_IN_RATIO``, ``ERR_NOT_BOUND``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from defisim.chain.events import Event
from defisim.chain.ledger import general
from defisim.chain.transactions import EXECUTED, Receipt

from .balancer import BPool, Result
from .balancer.bnum import BONE, EXIT_FEE, INIT_POOL_SUPPLY, bmul
from .errors import PoolError
from .plugin_base import (
    LP_DECIMALS,
    LP_HOLDER,
    MAX_UINT256,
    AmmPluginBase,
    AmmPoolCreated,
    PoolEntry,
    Reason,
    is_uint,
    lp_asset_id,
    reserve,
)

BAL_GAS = {
    "bal_join_pool": 180_000,
    "bal_exit_pool": 180_000,
    "bal_joinswap_extern_amount_in": 140_000,
    "bal_joinswap_pool_amount_out": 140_000,
    "bal_exitswap_pool_amount_in": 140_000,
    "bal_exitswap_extern_amount_out": 140_000,
}
"""Gas of each Balancer transaction in mempool mode (swaps: ``swap`` in the protocol)."""

INSUFFICIENT_BAL = "ERR_INSUFFICIENT_BAL"
"""The rejection of a sender short of a token or of pool shares (module docstring)."""

assert EXIT_FEE == 0  # exits burn every share taken (a non-zero fee would stay in the core)


def bal_pool_id(assets: tuple[str, ...] | list[str]) -> str:
    """The base id of a Balancer pool of ``assets`` (binding order):
    ``"BAL:<asset1>/<asset2>/..."``."""
    return "BAL:" + "/".join(assets)


# ---------------------------------------------------------------------- events (spec 5)
@dataclass(frozen=True, slots=True)
class BalSwap(Event):
    """``LOG_SWAP(caller, tokenIn, tokenOut, tokenAmountIn, tokenAmountOut)`` of ``party``;
    ``spot_price_after`` is ``spotPriceAfter`` (tokenIn per tokenOut with the fee,
    BONE-scaled); ``fee`` the swap fee paid, base units of ``asset_in``:
    ``amount_in - bmul(amount_in, BONE - swapFee)`` (the part of the input that
    ``calcOutGivenIn`` does not trade, spec 3.3). ``price_after``: the pool's price of
    token0 in token1 after the swap, ``getSpotPrice(token1, token0)`` with the fee
    (BONE-scaled, raw units; not in the contract's event)."""

    market: str
    party: str
    asset_in: str
    asset_out: str
    amount_in: int
    amount_out: int
    spot_price_after: int
    fee: int
    price_after: int


@dataclass(frozen=True, slots=True)
class BalJoin(Event):
    """``party`` paid ``amounts`` (base units, one per pool token in the pool's order, 0
    for tokens not paid) and got ``pool_amount`` shares: a ``joinPool``, a single-asset
    join, or the pool's creation (``LOG_JOIN`` per token)."""

    market: str
    party: str
    pool_amount: int
    amounts: tuple


@dataclass(frozen=True, slots=True)
class BalExit(Event):
    """``party`` gave ``pool_amount`` shares and got ``amounts`` (base units, one per pool
    token in the pool's order): an ``exitPool`` or a single-asset exit (``LOG_EXIT``)."""

    market: str
    party: str
    pool_amount: int
    amounts: tuple


class BalancerTransactions(AmmPluginBase):
    """The Balancer part of :class:`~.protocol.AmmProtocol`.

    Set-up: :meth:`create_balancer_pool`. Transactions (raw integers; ``amounts`` lists
    follow the pool's token order, :attr:`PoolEntry.assets`):

    - ``bal_join_pool(pool_id, pool_amount_out, max_amounts_in)`` (``joinPool``):
      ``value = (pool_amount_out, amounts_in)``;
    - ``bal_exit_pool(pool_id, pool_amount_in, min_amounts_out)`` (``exitPool``):
      ``value = (pool_amount_in, amounts_out)``;
    - ``bal_joinswap_extern_amount_in(pool_id, asset_in, amount_in, min_pool_amount_out)``
      and ``bal_joinswap_pool_amount_out(pool_id, asset_in, pool_amount_out,
      max_amount_in)``: ``value = (amount_in, pool_amount_out)``;
    - ``bal_exitswap_pool_amount_in(pool_id, asset_out, pool_amount_in, min_amount_out)``
      and ``bal_exitswap_extern_amount_out(pool_id, asset_out, amount_out,
      max_pool_amount_in)``: ``value = (pool_amount_in, amount_out)``.
    """

    # -- set-up -------------------------------------------------------------------
    def create_balancer_pool(self, controller: str, tokens: dict[str, tuple[int, int]],
                             swap_fee: int, variant: str = "balancer") -> str:
        """Create, fund and finalise a Balancer pool (``BFactory.newBPool``, ``bind`` per
        token, ``setSwapFee``, ``finalize``; spec 3.4).

        Args:
            controller: the party that funds the pool and receives the first
                ``INIT_POOL_SUPPLY`` (100e18) shares, as LP asset ``<pool_id>-LP``.
            tokens: ``{asset: (balance, denorm)}`` in binding order: raw base units
                pulled from the controller, and the denormalised weight (BONE-scaled,
                in [1e18, 50e18], total <= 50e18); 2 to 8 tokens.
            swap_fee: BONE-scaled (1e15 = 0.1 %), in [MIN_FEE = 1e12, MAX_FEE = 1e17].
            variant: ``"balancer"`` (balancer-core) or ``"ocean_v3"`` (spec 3.5).

        Returns the pool id ``"BAL:<asset1>/<asset2>/..."`` (``"...#2"``, ``"#3"``, ...
        when taken). Emits ``AmmPoolCreated(kind="BAL")`` and a :class:`BalJoin`.

        Raises:
            ValueError: an unknown party or asset, a bad number, a controller short of
                a balance, or the core's revert (``ERR_MIN_WEIGHT``, ``ERR_MIN_BALANCE``,
                ``ERR_MIN_TOKENS``, ``ERR_MAX_FEE``, ...).
        """
        led = self.chain.ledger
        if not isinstance(controller, str) or controller not in led.parties:
            raise ValueError(f"unknown party {controller!r}")
        if not isinstance(tokens, dict):
            raise ValueError(f"tokens must be a dict asset -> (balance, denorm), got {tokens!r}")
        for a, bw in tokens.items():
            if not isinstance(a, str) or a not in led.assets:
                raise ValueError(f"unknown asset {a!r}; known: {sorted(led.assets)}")
            if not (isinstance(bw, tuple | list) and len(bw) == 2 and all(is_uint(x) for x in bw)):
                raise ValueError(f"{a}: (balance, denorm) must be two ints >= 0, got {bw!r}")
            have = led.balance(general(controller, a))
            if have < bw[0]:
                raise ValueError(f"{controller} holds {have} {a}, needs {bw[0]}")
        if not is_uint(swap_fee):
            raise ValueError(f"swap_fee must be an int (BONE-scaled), got {swap_fee!r}")
        base = bal_pool_id(list(tokens))
        pool_id, n = base, 1
        while pool_id in self.pools or lp_asset_id(pool_id) in led.assets:
            n += 1
            pool_id = f"{base}#{n}"
        core = self.cores.balancer_pool(LP_HOLDER, LP_HOLDER, pool_id, variant)  # ValueError
        undo = core._checkpoint()  # a core on an EVM keeps what a failed bind minted
        try:
            for a, (bal, w) in tokens.items():
                core.bind(LP_HOLDER, a, bal, w)
            core.set_swap_fee(LP_HOLDER, swap_fee)
            core.finalize(LP_HOLDER)
        except PoolError as e:
            core._rollback(undo)
            raise ValueError(f"cannot create Balancer pool {pool_id}: {e}") from None
        lp = lp_asset_id(pool_id)
        led.create_asset(lp, LP_DECIMALS)
        for a, (bal, _) in tokens.items():
            if bal:
                led.transfer(general(controller, a), reserve(pool_id, a), bal, "amm_deposit")
        led.issue(general(controller, lp), INIT_POOL_SUPPLY, "amm_liquidity")
        assets = tuple(core.tokens)
        self.pools[pool_id] = PoolEntry(pool_id, "BAL", assets, lp, core)
        self.chain.emit(AmmPoolCreated(*self.chain.stamp(), pool_id, "BAL", assets, lp,
                                       swap_fee / BONE))
        self.chain.emit(BalJoin(*self.chain.stamp(), pool_id, controller, INIT_POOL_SUPPLY,
                                tuple(tokens[a][0] for a in assets)))
        return pool_id

    # -- the common execution -----------------------------------------------------
    def _bal_entry(self, tx: str, sender: Any, pool_id: Any, assets: tuple,
                   ints: dict[str, Any]) -> PoolEntry | Receipt:
        bad = self._check_common(tx, sender, assets, ints)
        if bad is not None:
            return bad
        entry = self._pool(tx, sender, pool_id, ("BAL",))
        if isinstance(entry, Receipt):
            return entry
        for a in assets:
            if a not in entry.assets:
                return self._reject(tx, sender, entry.pool_id, "ERR_NOT_BOUND",
                                    f"{a} is not bound in {entry.pool_id} {entry.assets}")
        return entry

    def _bal_amounts(self, tx: str, sender: str, entry: PoolEntry, name: str,
                     amounts: Any) -> list[int] | Receipt:
        if (not isinstance(amounts, tuple | list) or len(amounts) != len(entry.assets)
                or not all(is_uint(x) for x in amounts)):
            return self._reject(tx, sender, entry.pool_id, Reason.INVALID_ARGUMENT,
                                f"{name} must be {len(entry.assets)} ints >= 0 in the order "
                                f"{entry.assets}, got {amounts!r}")
        return list(amounts)

    def _bal_run(self, tx: str, sender: str, entry: PoolEntry,
                 op: Callable[[BPool], Result]) -> Result | Receipt:
        """Run ``op`` on the core; check the sender's tokens and shares, and roll the
        core back when they fall short; then move the same amounts on the ledger
        (module docstring)."""
        pid = entry.pool_id
        core = entry.core
        state = core._checkpoint()
        try:
            r = op(core)
        except PoolError as e:  # the core is unchanged
            return self._reject(tx, sender, pid, e.reason, e.detail)
        led = self.chain.ledger
        short = None
        for asset, amount in r.tokens_in:
            have = led.balance(general(sender, asset))
            if have < amount:
                short = f"{sender} holds {have} {asset}, needs {amount}"
                break
        joins = bool(r.tokens_in) and r.pool_amount > 0
        exits = bool(r.tokens_out) and r.pool_amount > 0
        if short is None and exits:
            have = led.balance(general(sender, entry.lp_asset))
            if have < r.pool_amount:
                short = f"{sender} holds {have} {entry.lp_asset}, gives {r.pool_amount}"
        if short is not None:
            core._rollback(state)
            return self._reject(tx, sender, pid, INSUFFICIENT_BAL, short)
        for asset, amount in r.tokens_in:
            if amount:
                led.transfer(general(sender, asset), reserve(pid, asset), amount, "amm_deposit")
        for asset, _to, amount in r.tokens_out:
            if amount:
                led.transfer(reserve(pid, asset), general(sender, asset), amount, "amm_withdrawal")
        if joins:
            led.issue(general(sender, entry.lp_asset), r.pool_amount, "amm_liquidity")
        elif exits:
            led.burn(general(sender, entry.lp_asset), r.pool_amount)
        return r

    def _bal_liquidity_event(self, entry: PoolEntry, sender: str, r: Result, join: bool) -> tuple:
        moved = dict.fromkeys(entry.assets, 0)
        if join:
            for asset, amount in r.tokens_in:
                moved[asset] += amount
        else:
            for asset, _to, amount in r.tokens_out:
                moved[asset] += amount
        amounts = tuple(moved.values())
        cls = BalJoin if join else BalExit
        self.chain.emit(cls(*self.chain.stamp(), entry.pool_id, sender, r.pool_amount, amounts))
        return amounts

    # -- transactions -------------------------------------------------------------
    def tx_bal_join_pool(self, sender: str, pool_id: str, pool_amount_out: int,
                         max_amounts_in: tuple[int, ...]) -> Receipt:
        """``joinPool``: mint ``pool_amount_out`` shares for the proportional amounts of
        every token, each at most ``max_amounts_in[i]`` (``ERR_LIMIT_IN``).
        ``value``: ``(pool_amount_out, amounts_in)``."""
        tx = "bal_join_pool"
        entry = self._bal_entry(tx, sender, pool_id, (), {"pool_amount_out": pool_amount_out})
        if isinstance(entry, Receipt):
            return entry
        maxes = self._bal_amounts(tx, sender, entry, "max_amounts_in", max_amounts_in)
        if isinstance(maxes, Receipt):
            return maxes
        r = self._bal_run(tx, sender, entry, lambda p: p.join_pool(LP_HOLDER, pool_amount_out, maxes))
        if isinstance(r, Receipt):
            return r
        amounts = self._bal_liquidity_event(entry, sender, r, True)
        return Receipt(EXECUTED, block=self.chain.block, value=(r.pool_amount, amounts))

    def tx_bal_exit_pool(self, sender: str, pool_id: str, pool_amount_in: int,
                         min_amounts_out: tuple[int, ...]) -> Receipt:
        """``exitPool``: burn ``pool_amount_in`` shares for the proportional amounts of
        every token, each at least ``min_amounts_out[i]`` (``ERR_LIMIT_OUT``).
        ``value``: ``(pool_amount_in, amounts_out)``."""
        tx = "bal_exit_pool"
        entry = self._bal_entry(tx, sender, pool_id, (), {"pool_amount_in": pool_amount_in})
        if isinstance(entry, Receipt):
            return entry
        mins = self._bal_amounts(tx, sender, entry, "min_amounts_out", min_amounts_out)
        if isinstance(mins, Receipt):
            return mins
        r = self._bal_run(tx, sender, entry, lambda p: p.exit_pool(LP_HOLDER, pool_amount_in, mins))
        if isinstance(r, Receipt):
            return r
        amounts = self._bal_liquidity_event(entry, sender, r, False)
        return Receipt(EXECUTED, block=self.chain.block, value=(r.pool_amount, amounts))

    def _bal_single(self, tx: str, sender: str, pool_id: str, asset: str, a: int, b: int,
                    names: tuple[str, str], op: Callable[[BPool], Result], join: bool) -> Receipt:
        entry = self._bal_entry(tx, sender, pool_id, (asset,), {names[0]: a, names[1]: b})
        if isinstance(entry, Receipt):
            return entry
        r = self._bal_run(tx, sender, entry, op)
        if isinstance(r, Receipt):
            return r
        self._bal_liquidity_event(entry, sender, r, join)
        value = (r.amount_in, r.pool_amount) if join else (r.pool_amount, r.amount_out)
        return Receipt(EXECUTED, block=self.chain.block, value=value)

    def tx_bal_joinswap_extern_amount_in(self, sender: str, pool_id: str, asset_in: str,
                                         amount_in: int, min_pool_amount_out: int) -> Receipt:
        """``joinswapExternAmountIn``: pay exactly ``amount_in`` of one token for at least
        ``min_pool_amount_out`` shares (``calcPoolOutGivenSingleIn``, spec 3.3).
        ``value``: ``(amount_in, pool_amount_out)``."""
        return self._bal_single(
            "bal_joinswap_extern_amount_in", sender, pool_id, asset_in, amount_in,
            min_pool_amount_out, ("amount_in", "min_pool_amount_out"),
            lambda p: p.joinswap_extern_amount_in(LP_HOLDER, asset_in, amount_in, min_pool_amount_out),
            True)

    def tx_bal_joinswap_pool_amount_out(self, sender: str, pool_id: str, asset_in: str,
                                        pool_amount_out: int, max_amount_in: int) -> Receipt:
        """``joinswapPoolAmountOut``: get exactly ``pool_amount_out`` shares for at most
        ``max_amount_in`` of one token (``calcSingleInGivenPoolOut``).
        ``value``: ``(amount_in, pool_amount_out)``."""
        return self._bal_single(
            "bal_joinswap_pool_amount_out", sender, pool_id, asset_in, pool_amount_out,
            max_amount_in, ("pool_amount_out", "max_amount_in"),
            lambda p: p.joinswap_pool_amount_out(LP_HOLDER, asset_in, pool_amount_out, max_amount_in),
            True)

    def tx_bal_exitswap_pool_amount_in(self, sender: str, pool_id: str, asset_out: str,
                                       pool_amount_in: int, min_amount_out: int) -> Receipt:
        """``exitswapPoolAmountIn``: give exactly ``pool_amount_in`` shares for at least
        ``min_amount_out`` of one token (``calcSingleOutGivenPoolIn``).
        ``value``: ``(pool_amount_in, amount_out)``."""
        return self._bal_single(
            "bal_exitswap_pool_amount_in", sender, pool_id, asset_out, pool_amount_in,
            min_amount_out, ("pool_amount_in", "min_amount_out"),
            lambda p: p.exitswap_pool_amount_in(LP_HOLDER, asset_out, pool_amount_in, min_amount_out),
            False)

    def tx_bal_exitswap_extern_amount_out(self, sender: str, pool_id: str, asset_out: str,
                                          amount_out: int, max_pool_amount_in: int) -> Receipt:
        """``exitswapExternAmountOut``: get exactly ``amount_out`` of one token for at most
        ``max_pool_amount_in`` shares (``calcPoolInGivenSingleOut``).
        ``value``: ``(pool_amount_in, amount_out)``."""
        return self._bal_single(
            "bal_exitswap_extern_amount_out", sender, pool_id, asset_out, amount_out,
            max_pool_amount_in, ("amount_out", "max_pool_amount_in"),
            lambda p: p.exitswap_extern_amount_out(LP_HOLDER, asset_out, amount_out,
                                                   max_pool_amount_in),
            False)

    def _bal_swap(self, tx: str, sender: str, entry: PoolEntry, asset_in: str, asset_out: str,
                  amount: int, limit: int, exact_in: bool, price_limit: int) -> Receipt:
        """One Balancer swap (``swapExactAmountIn`` when ``exact_in``, else
        ``swapExactAmountOut``; spec 3.4): ``limit`` is ``minAmountOut`` / ``maxAmountIn``;
        ``price_limit`` ``maxPrice`` (tokenIn per tokenOut with the fee, BONE-scaled; 0:
        none, ``MAX_UINT256``). ``value``: ``(amount_in, amount_out)``."""
        max_price = price_limit or MAX_UINT256
        if exact_in:
            def op(p: BPool) -> Result:
                return p.swap_exact_amount_in(LP_HOLDER, asset_in, amount, asset_out, limit, max_price)
        else:
            def op(p: BPool) -> Result:
                return p.swap_exact_amount_out(LP_HOLDER, asset_in, limit, asset_out, amount, max_price)
        fee_rate = entry.core.swap_fee
        r = self._bal_run(tx, sender, entry, op)
        if isinstance(r, Receipt):
            return r
        fee = r.amount_in - bmul(r.amount_in, BONE - fee_rate)
        t0, t1 = entry.assets[0], entry.assets[1]
        price = entry.core.get_spot_price(t1, t0)
        self.chain.emit(BalSwap(*self.chain.stamp(), entry.pool_id, sender, asset_in, asset_out,
                                r.amount_in, r.amount_out, r.spot_price_after, fee, price))
        return Receipt(EXECUTED, block=self.chain.block, value=(r.amount_in, r.amount_out))

    # -- checks -------------------------------------------------------------------
    def _bal_invariant_errors(self, pid: str, e: PoolEntry) -> list[str]:
        """Pool ``pid``: the ledger's pool balances equal the core's token balances, the
        LP asset's ledger supply equals the core's total supply (all of it held at
        ``LP_HOLDER``), and the core's own spec section 5 invariants."""
        led = self.chain.ledger
        core: BPool = e.core
        errors = []
        for asset in sorted(set(e.assets) | set(core.token_balances)):
            held = led.balance(reserve(pid, asset))
            bal = core.token_balances.get(asset, 0)
            if held != bal:
                errors.append(f"amm pool {pid}: ledger holds {held} {asset}, core balance {bal}")
        supply = led.supply.get(e.lp_asset, 0)
        if supply != core.total_supply:
            errors.append(f"amm pool {pid}: {e.lp_asset} ledger supply {supply} != "
                          f"core totalSupply {core.total_supply}")
        held_lp = core.share_balances.get(LP_HOLDER, 0)
        if held_lp != core.total_supply:
            errors.append(f"amm pool {pid}: core shares at {LP_HOLDER} {held_lp} != "
                          f"totalSupply {core.total_supply}")
        errors.extend(f"amm pool {pid}: {m}" for m in core.invariant_errors())
        return errors


__all__ = [
    "BAL_GAS",
    "INSUFFICIENT_BAL",
    "BalExit",
    "BalJoin",
    "BalSwap",
    "BalancerTransactions",
    "bal_pool_id",
]
