"""Balancer V1 pools on Ocean's ``BPool`` bytecode: :class:`EvmBPool`, a drop-in for the
Python :class:`~defisim.protocols.amm.balancer.BPool` with ``variant="ocean_v3"``.

The contracts are the Truffle artifacts of ``@oceanprotocol/contracts@0.5.16``
(Apache-2.0, solc 0.5.7; :mod:`defisim.evm.artifacts`): one ``BPool`` template and one
``BFactory`` per machine (:class:`OceanBalancer`), whose ``newBPool`` makes each pool, an
initialised proxy clone (spec ``amm.md`` 3.5) -- the pools TokenSPICE ran. No npm
package ships balancer-core's own ``BPool`` bytecode, so ``variant="balancer"`` raises
``NotImplementedError``.

Accounts and tokens: a core-level account (the plug-in's ``LP_HOLDER``, the pool's
controller) acts from its own EVM address (``"bpool:<account>"``). The pool pulls tokens
from that address with ``transferFrom`` and pushes them back there, so the address
keeps a standing float of every bound bridge token (:data:`FLOAT`, minted once) and
an unlimited allowance to the pool; what it holds is no party's: parties' balances stay
on the ledger, and the pool's ERC-20 balances equal its ledger reserve accounts.

State: every read the plug-in and ``sim.amm`` make (``tokens``, ``records``,
``total_supply``, ``token_balances`` ...) is a mirror of the contract's state, read
back from the bytecode after each transaction of this core (the views
``get_spot_price`` ... call the contract). Reverts are
:class:`~defisim.protocols.amm.errors.PoolError` with the contract's revert string.
:meth:`EvmBPool._checkpoint` / :meth:`_rollback` snapshot and restore the machine.
"""

from __future__ import annotations

from typing import Any

from defisim.evm import ContractAbi, EvmRevert, load_artifact
from defisim.protocols.amm.balancer.bnum import (
    MAX_BOUND_TOKENS,
    MAX_FEE,
    MAX_TOTAL_WEIGHT,
    MAX_WEIGHT,
    MIN_BOUND_TOKENS,
    MIN_FEE,
    MIN_WEIGHT,
    UINT256_MAX,
)
from defisim.protocols.amm.balancer.pool import (
    LOG_EXIT,
    LOG_JOIN,
    LOG_SWAP,
    ZERO_ADDRESS,
    Record,
    Result,
    Transfer,
)
from defisim.protocols.amm.errors import PoolError

from .machine import EvmMachine

__all__ = ["FLOAT", "OCEAN", "EvmBPool", "OceanBalancer"]

OCEAN = "@oceanprotocol/contracts"
FLOAT = 2**200
"""Bridge tokens minted once to a caller's EVM address per bound token (module doc):
far above any amount the pool's 256-bit maths accepts."""


def _uint(x: int, name: str) -> None:
    if type(x) is not int or x < 0 or x > UINT256_MAX:
        raise PoolError("[BAD_UINT256]", f"{name} = {x!r} is not a uint256")


class OceanBalancer:
    """Ocean's ``BPool`` template and ``BFactory`` deployed on one machine (set-up once
    per :class:`~.cores.EvmCores`). Raises ``NpmUnavailable``/``ArtifactError`` when the
    artifacts cannot be loaded."""

    def __init__(self, machine: EvmMachine) -> None:
        self.machine = machine
        pool = load_artifact(OCEAN, "BPool")
        factory = load_artifact(OCEAN, "BFactory")
        self.pool_abi = ContractAbi(pool.name, pool.abi)
        self.factory_abi = ContractAbi(factory.name, factory.abi)
        template = machine.deploy(pool, abi=self.pool_abi)
        self.evm_address = machine.deploy(factory, template, abi=self.factory_abi)

    def new_pool(self, controller: str, factory: str, address: str,
                 variant: str = "ocean_v3") -> EvmBPool:
        """``BFactory.newBPool`` sent by ``controller``'s address: an initialised clone."""
        return EvmBPool(self, controller, factory, address, variant)


class _Shares:
    """``share_balances`` of an EVM pool: ``get(account)`` reads ``balanceOf``."""

    __slots__ = ("_pool",)

    def __init__(self, pool: EvmBPool) -> None:
        self._pool = pool

    def get(self, account: str, default: int = 0) -> int:
        return self._pool.balance_of(account) or default

    def __getitem__(self, account: str) -> int:
        return self.get(account)


class EvmBPool:
    """One Ocean V3 ``BPool`` clone with the attributes, methods, results and revert
    reasons of the Python ``BPool(variant="ocean_v3")`` (module doc).

    Args:
        ocean: the machine's template and factory.
        controller: the account that creates and controls the pool.
        factory: the core-level name of the factory (the Python core's ``factory``;
            on the EVM it is the ``BFactory``, paid the zero exit fee).
        address: the pool's core-level name (the plug-in's pool id).
        variant: ``"ocean_v3"`` only.
    """

    def __init__(self, ocean: OceanBalancer, controller: str, factory: str | None = None,
                 address: str = "bpool", variant: str = "ocean_v3") -> None:
        if variant != "ocean_v3":
            raise NotImplementedError(
                f"Balancer variant {variant!r} has no bytecode here: no npm package ships "
                "balancer-core's BPool; use variant='ocean_v3' or the Python core")
        self.ocean, self.machine, self.abi = ocean, ocean.machine, ocean.pool_abi
        self.variant = variant
        self.controller = controller
        self.factory = controller if factory is None else factory
        self.initialized = True
        self._funded: set[tuple[str, str]] = set()  # (account, asset) with float + allowance
        m = self.machine
        out = m.transact(self._eoa(controller), ocean.evm_address, ocean.factory_abi, "newBPool")
        self.evm_address = out.output[0].lower()
        self.address = address
        m.name(self.evm_address, address)
        self.share_balances = _Shares(self)
        self._read_all()

    # -- plumbing -------------------------------------------------------------------
    def _eoa(self, account: str) -> str:
        return self.machine.address(f"bpool:{account}")

    def _call(self, fn: str, *args: Any) -> tuple:
        try:
            return self.machine.call(self.evm_address, self.abi, fn, *args)
        except EvmRevert as exc:
            raise PoolError(exc.reason, "on Ocean's BPool bytecode") from None

    def _fund(self, account: str, asset: str) -> str:
        """``account``'s address holds the float of ``asset`` and lets the pool take it."""
        m = self.machine
        token = m.token(asset)
        if (account, asset) not in self._funded:
            eoa = self._eoa(account)
            m.mint(asset, eoa, FLOAT)
            m.approve(asset, eoa, self.evm_address, UINT256_MAX)
            self._funded.add((account, asset))
        return token

    def _tx(self, caller: str, fn: str, *args: Any, full: bool = False) -> tuple:
        """``fn(*args)`` from ``caller``; then the mirror is read back (module doc)."""
        try:
            out = self.machine.transact(self._eoa(caller), self.evm_address, self.abi, fn, *args)
        except EvmRevert as exc:
            raise PoolError(exc.reason, "on Ocean's BPool bytecode") from None
        if full:
            self._read_all()
        else:
            self._read_balances()
        return out.output

    def _read_all(self) -> None:
        m = self.machine
        self.swap_fee = self._call("getSwapFee")[0]
        self.public_swap = self._call("isPublicSwap")[0]
        self.finalized = self._call("isFinalized")[0]
        self.total_weight = self._call("getTotalDenormalizedWeight")[0]
        self.tokens = [m.asset_of(t) for t in self._call("getCurrentTokens")[0]]
        self.records = {a: Record(self._call("getDenormalizedWeight", m.token(a))[0], 0)
                        for a in self.tokens}
        self._read_balances()

    def _read_balances(self) -> None:
        m = self.machine
        balances = {}
        for a, rec in self.records.items():
            rec.balance = self._call("getBalance", m.token(a))[0]
            balances[a] = m.balance_of(a, self.evm_address)
        self.token_balances = balances
        self.total_supply = self._call("totalSupply")[0]

    def _checkpoint(self) -> Any:
        """The machine's whole state (the plug-in's undo of a step the ledger refuses)."""
        return self.machine.snapshot(), set(self._funded)

    def _rollback(self, state: Any) -> None:
        """Back to :meth:`_checkpoint`'s state (this pool's mirror and its record of
        funded callers too)."""
        evm, funded = state
        self.machine.restore(evm)
        self._funded = set(funded)
        self._read_all()

    # -- admin -----------------------------------------------------------------------
    def set_swap_fee(self, caller: str, swap_fee: int) -> Result:
        """``setSwapFee``."""
        _uint(swap_fee, "swapFee")
        self._tx(caller, "setSwapFee", swap_fee, full=True)
        return Result()

    def set_public_swap(self, caller: str, public: bool) -> Result:
        """``setPublicSwap``."""
        self._tx(caller, "setPublicSwap", bool(public), full=True)
        return Result()

    def set_controller(self, caller: str, manager: str) -> Result:
        """``setController`` (``ERR_INVALID_MANAGER_ADDRESS`` for the zero address)."""
        target = ZERO_ADDRESS if manager in ("", ZERO_ADDRESS) else self._eoa(manager)
        self._tx(caller, "setController", target, full=True)
        self.controller = manager
        return Result()

    def bind(self, caller: str, token: str, balance: int, denorm: int) -> Result:
        """``bind``: pulls ``balance`` of ``token`` from the caller."""
        _uint(balance, "balance")
        _uint(denorm, "denorm")
        self._tx(caller, "bind", self._fund(caller, token), balance, denorm, full=True)
        return Result(tokens_in=((token, balance),))

    def rebind(self, caller: str, token: str, balance: int, denorm: int) -> Result:
        """``rebind``: pulls a balance increase, pushes a decrease back (zero exit fee)."""
        _uint(balance, "balance")
        _uint(denorm, "denorm")
        old = self.records[token].balance if token in self.records else 0
        self._tx(caller, "rebind", self._fund(caller, token), balance, denorm, full=True)
        if balance > old:
            return Result(tokens_in=((token, balance - old),))
        if balance < old:
            return Result(tokens_out=((token, caller, old - balance), (token, self.factory, 0)))
        return Result()

    def unbind(self, caller: str, token: str) -> Result:
        """``unbind``: pushes the recorded balance to the caller."""
        old = self.records[token].balance if token in self.records else 0
        self._tx(caller, "unbind", self.machine.token(token), full=True)
        return Result(tokens_out=((token, caller, old), (token, self.factory, 0)))

    def finalize(self, caller: str) -> Result:
        """``finalize``: mints ``INIT_POOL_SUPPLY`` shares to the caller."""
        before = self.total_supply
        self._tx(caller, "finalize", full=True)
        minted = self.total_supply - before
        return Result(pool_amount=minted, events=(
            Transfer(ZERO_ADDRESS, self.address, minted), Transfer(self.address, caller, minted)))

    def setup(self, caller: str, data_token: str, data_token_amount: int, data_token_weight: int,
              base_token: str, base_token_amount: int, base_token_weight: int,
              swap_fee: int) -> Result:
        """Ocean ``setup``: bind both tokens, ``setSwapFee``, ``finalize`` in one call."""
        for x, n in ((data_token_amount, "dataTokenAmount"), (data_token_weight, "dataTokenWeight"),
                     (base_token_amount, "baseTokenAmount"), (base_token_weight, "baseTokenWeight"),
                     (swap_fee, "swapFee")):
            _uint(x, n)
        before = self.total_supply
        self._tx(caller, "setup", self._fund(caller, data_token), data_token_amount,
                 data_token_weight, self._fund(caller, base_token), base_token_amount,
                 base_token_weight, swap_fee, full=True)
        minted = self.total_supply - before
        return Result(
            tokens_in=((data_token, data_token_amount), (base_token, base_token_amount)),
            pool_amount=minted,
            events=(LOG_JOIN(caller, data_token, data_token_amount),
                    LOG_JOIN(caller, base_token, base_token_amount),
                    Transfer(ZERO_ADDRESS, self.address, minted),
                    Transfer(self.address, caller, minted)))

    def gulp(self, caller: str, token: str) -> Result:
        """``gulp``: the recorded balance becomes the real balance."""
        self._tx(caller, "gulp", self.machine.token(token))
        return Result()

    def receive_token(self, token: str, amount: int) -> None:
        """A plain transfer into the pool (a donation): minted to the pool."""
        _uint(amount, "amount")
        self.machine.mint(token, self.evm_address, amount)
        self._read_balances()

    # -- views ------------------------------------------------------------------------
    def get_spot_price(self, token_in: str, token_out: str) -> int:
        """``getSpotPrice`` (tokenIn per tokenOut with the fee, BONE-scaled)."""
        m = self.machine
        return self._call("getSpotPrice", m.token(token_in), m.token(token_out))[0]

    def get_spot_price_sans_fee(self, token_in: str, token_out: str) -> int:
        """``getSpotPriceSansFee``."""
        m = self.machine
        return self._call("getSpotPriceSansFee", m.token(token_in), m.token(token_out))[0]

    def get_balance(self, token: str) -> int:
        """``getBalance``: the recorded balance; ``ERR_NOT_BOUND``."""
        return self._call("getBalance", self.machine.token(token))[0]

    def get_denormalized_weight(self, token: str) -> int:
        """``getDenormalizedWeight``; ``ERR_NOT_BOUND``."""
        return self._call("getDenormalizedWeight", self.machine.token(token))[0]

    def get_normalized_weight(self, token: str) -> int:
        """``getNormalizedWeight``; ``ERR_NOT_BOUND``."""
        return self._call("getNormalizedWeight", self.machine.token(token))[0]

    def balances(self) -> dict[str, int]:
        """Recorded balances of the bound tokens, in ``_tokens`` order."""
        return {t: self.records[t].balance for t in self.tokens}

    def weights(self) -> dict[str, int]:
        """Denormalised weights of the bound tokens, in ``_tokens`` order."""
        return {t: self.records[t].denorm for t in self.tokens}

    def balance_of(self, who: str) -> int:
        """Pool-share balance of the account ``who``."""
        return self._call("balanceOf", self._eoa(who))[0]

    def allowance(self, src: str, dst: str) -> int:
        """Pool-share allowance."""
        return self._call("allowance", self._eoa(src), self._eoa(dst))[0]

    # -- share token -----------------------------------------------------------------------
    def transfer(self, caller: str, dst: str, amt: int) -> Result:
        """``BToken.transfer``."""
        _uint(amt, "amt")
        self._tx(caller, "transfer", self._eoa(dst), amt)
        return Result(events=(Transfer(caller, dst, amt),))

    def approve(self, caller: str, dst: str, amt: int) -> Result:
        """``BToken.approve``."""
        _uint(amt, "amt")
        self._tx(caller, "approve", self._eoa(dst), amt)
        return Result()

    def transfer_from(self, caller: str, src: str, dst: str, amt: int) -> Result:
        """``BToken.transferFrom``."""
        _uint(amt, "amt")
        self._tx(caller, "transferFrom", self._eoa(src), self._eoa(dst), amt)
        return Result(events=(Transfer(src, dst, amt),))

    # -- joins, exits, swaps ------------------------------------------------------------------
    def _moved(self, caller: str, before: dict[str, int]) -> tuple[tuple, tuple]:
        """Tokens in and out of the pool since ``before`` (recorded balances)."""
        tin, tout = [], []
        for t in self.tokens:
            d = self.records[t].balance - before.get(t, 0)
            if d > 0:
                tin.append((t, d))
            elif d < 0:
                tout.append((t, caller, -d))
        return tuple(tin), tuple(tout)

    def join_pool(self, caller: str, pool_amount_out: int, max_amounts_in: list[int]) -> Result:
        """``joinPool``; ``max_amounts_in`` follows :attr:`tokens`."""
        _uint(pool_amount_out, "poolAmountOut")
        before = self.balances()
        for t in self.tokens:
            self._fund(caller, t)
        self._tx(caller, "joinPool", pool_amount_out, list(max_amounts_in))
        tin, _ = self._moved(caller, before)
        events = tuple(LOG_JOIN(caller, t, a) for t, a in tin) + (
            Transfer(ZERO_ADDRESS, self.address, pool_amount_out),
            Transfer(self.address, caller, pool_amount_out))
        return Result(tokens_in=tin, pool_amount=pool_amount_out, events=events)

    def exit_pool(self, caller: str, pool_amount_in: int, min_amounts_out: list[int]) -> Result:
        """``exitPool`` (zero exit fee); ``min_amounts_out`` follows :attr:`tokens`."""
        _uint(pool_amount_in, "poolAmountIn")
        before = self.balances()
        self._tx(caller, "exitPool", pool_amount_in, list(min_amounts_out))
        _, tout = self._moved(caller, before)
        events = (Transfer(caller, self.address, pool_amount_in),
                  Transfer(self.address, self.factory, 0),
                  Transfer(self.address, ZERO_ADDRESS, pool_amount_in)) + tuple(
            LOG_EXIT(caller, t, a) for t, _to, a in tout)
        return Result(tokens_out=tout, pool_amount=pool_amount_in, events=events)

    def _swap(self, caller: str, token_in: str, amount_in: int, token_out: str,
              amount_out: int, spot_price_after: int) -> Result:
        return Result(tokens_in=((token_in, amount_in),),
                      tokens_out=((token_out, caller, amount_out),),
                      spot_price_after=spot_price_after,
                      events=(LOG_SWAP(caller, token_in, token_out, amount_in, amount_out),))

    def swap_exact_amount_in(self, caller: str, token_in: str, token_amount_in: int,
                             token_out: str, min_amount_out: int, max_price: int) -> Result:
        """``swapExactAmountIn``: ``amount_out``, ``spot_price_after``."""
        for x, n in ((token_amount_in, "tokenAmountIn"), (min_amount_out, "minAmountOut"),
                     (max_price, "maxPrice")):
            _uint(x, n)
        out, spa = self._tx(caller, "swapExactAmountIn", self._fund(caller, token_in),
                            token_amount_in, self.machine.token(token_out), min_amount_out,
                            max_price)
        return self._swap(caller, token_in, token_amount_in, token_out, out, spa)

    def swap_exact_amount_out(self, caller: str, token_in: str, max_amount_in: int,
                              token_out: str, token_amount_out: int, max_price: int) -> Result:
        """``swapExactAmountOut``: ``amount_in``, ``spot_price_after``."""
        for x, n in ((max_amount_in, "maxAmountIn"), (token_amount_out, "tokenAmountOut"),
                     (max_price, "maxPrice")):
            _uint(x, n)
        amount_in, spa = self._tx(caller, "swapExactAmountOut", self._fund(caller, token_in),
                                  max_amount_in, self.machine.token(token_out),
                                  token_amount_out, max_price)
        return self._swap(caller, token_in, amount_in, token_out, token_amount_out, spa)

    def _join(self, caller: str, token: str, amount_in: int, pool_out: int) -> Result:
        return Result(tokens_in=((token, amount_in),), pool_amount=pool_out,
                      events=(LOG_JOIN(caller, token, amount_in),
                              Transfer(ZERO_ADDRESS, self.address, pool_out),
                              Transfer(self.address, caller, pool_out)))

    def _exit(self, caller: str, token: str, amount_out: int, pool_in: int) -> Result:
        return Result(tokens_out=((token, caller, amount_out),), pool_amount=pool_in,
                      events=(LOG_EXIT(caller, token, amount_out),
                              Transfer(caller, self.address, pool_in),
                              Transfer(self.address, ZERO_ADDRESS, pool_in),
                              Transfer(self.address, self.factory, 0)))

    def joinswap_extern_amount_in(self, caller: str, token_in: str, token_amount_in: int,
                                  min_pool_amount_out: int) -> Result:
        """``joinswapExternAmountIn``."""
        _uint(token_amount_in, "tokenAmountIn")
        _uint(min_pool_amount_out, "minPoolAmountOut")
        (pool_out,) = self._tx(caller, "joinswapExternAmountIn", self._fund(caller, token_in),
                               token_amount_in, min_pool_amount_out)
        return self._join(caller, token_in, token_amount_in, pool_out)

    def joinswap_pool_amount_out(self, caller: str, token_in: str, pool_amount_out: int,
                                 max_amount_in: int) -> Result:
        """``joinswapPoolAmountOut``."""
        _uint(pool_amount_out, "poolAmountOut")
        _uint(max_amount_in, "maxAmountIn")
        (amount_in,) = self._tx(caller, "joinswapPoolAmountOut", self._fund(caller, token_in),
                                pool_amount_out, max_amount_in)
        return self._join(caller, token_in, amount_in, pool_amount_out)

    def exitswap_pool_amount_in(self, caller: str, token_out: str, pool_amount_in: int,
                                min_amount_out: int) -> Result:
        """``exitswapPoolAmountIn``."""
        _uint(pool_amount_in, "poolAmountIn")
        _uint(min_amount_out, "minAmountOut")
        (amount_out,) = self._tx(caller, "exitswapPoolAmountIn", self.machine.token(token_out),
                                 pool_amount_in, min_amount_out)
        return self._exit(caller, token_out, amount_out, pool_amount_in)

    def exitswap_extern_amount_out(self, caller: str, token_out: str, token_amount_out: int,
                                   max_pool_amount_in: int) -> Result:
        """``exitswapExternAmountOut``."""
        _uint(token_amount_out, "tokenAmountOut")
        _uint(max_pool_amount_in, "maxPoolAmountIn")
        (pool_in,) = self._tx(caller, "exitswapExternAmountOut", self.machine.token(token_out),
                              token_amount_out, max_pool_amount_in)
        return self._exit(caller, token_out, token_amount_out, pool_in)

    # -- invariants ---------------------------------------------------------------------------
    def invariant_errors(self) -> list[str]:
        """The spec section 5 invariants readable from the contract (the sum of share
        balances needs the holders: the plug-in checks its holder against the supply)."""
        errors: list[str] = []
        total = 0
        for t, rec in self.records.items():
            held = self.token_balances.get(t, 0)
            if rec.balance > held:
                errors.append(f"{t}: recorded balance {rec.balance} > held {held}")
            if not MIN_WEIGHT <= rec.denorm <= MAX_WEIGHT:
                errors.append(f"{t}: denorm {rec.denorm} outside [1e18, 50e18]")
            total += rec.denorm
        if total != self.total_weight or self.total_weight > MAX_TOTAL_WEIGHT:
            errors.append(f"totalWeight {self.total_weight} vs sum of denorms {total}")
        if self.finalized and not MIN_BOUND_TOKENS <= len(self.tokens) <= MAX_BOUND_TOKENS:
            errors.append(f"finalised with {len(self.tokens)} tokens")
        if not MIN_FEE <= self.swap_fee <= MAX_FEE:
            errors.append(f"swap fee {self.swap_fee} outside [MIN_FEE, MAX_FEE]")
        return errors
