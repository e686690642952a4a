"""Uniswap V2 pairs on the official bytecode: :class:`EvmV2Factory` and
:class:`EvmV2Pair`, drop-ins for the Python :class:`~defisim.protocols.amm.v2_pair.V2Factory`
and :class:`~defisim.protocols.amm.v2_pair.V2Pair`.

The factory is ``UniswapV2Factory`` and each pair the ``UniswapV2Pair`` it creates
(``@uniswap/v2-core@1.0.1``, :mod:`defisim.evm.artifacts`). The router's arithmetic
stays the Python router library (``v2_router.py``: pure functions of the reserves,
spec 1.7); every state change is the pair's own code, through ``contracts/V2Bridge.sol``
in one transaction per pair call, so a revert undoes the bridge's token moves too.

Core-level accounts: ``LP_HOLDER`` (the plug-in's holder of every party's LP) and
``feeTo`` are the bridge contract; a pool id (``pair.address``) is the pair; a party
is its :func:`~defisim.evm.party_address`. What a pair pays a party is burned by the
bridge (the plug-in credits the party on the ledger), what a party pays in is minted.

Token order: the Python core orders a pair's tokens by asset id, the factory by token
address. A pair whose bridge tokens sort the other way is *flipped*: this class shows
the Python order and swaps indices on the way in and out.

Reverts are :class:`~defisim.protocols.amm.errors.PoolError` with the pair's revert
string (``UniswapV2: K``, ``ds-math-sub-underflow``, ...), as the Python core raises.
"""

from __future__ import annotations

from typing import Any

from defisim.evm import ContractAbi, EvmRevert, load_artifact
from defisim.protocols.amm.errors import PoolError
from defisim.protocols.amm.plugin_base import LP_HOLDER
from defisim.protocols.amm.v2_pair import (
    MAX_UINT112,
    MINIMUM_LIQUIDITY,
    ZERO_ADDRESS,
    Burn,
    Mint,
    Swap,
    Sync,
    Transfer,
)

from .machine import EvmMachine, our_contract

__all__ = ["V2_CORE", "EvmV2Factory", "EvmV2Pair"]

V2_CORE = "@uniswap/v2-core"
_U32 = 1 << 32
_Q112 = 1 << 112
_MASK256 = (1 << 256) - 1


def _revert(exc: EvmRevert) -> PoolError:
    return PoolError(exc.reason, "on the UniswapV2Pair bytecode")


class EvmV2Factory:
    """``UniswapV2Factory`` on an :class:`~.machine.EvmMachine`, with the methods and
    checks of the Python :class:`~defisim.protocols.amm.v2_pair.V2Factory`:
    ``new_pair`` calls ``createPair``; setting ``fee_to`` to an account calls
    ``setFeeTo`` (the bridge holds the protocol fee's LP for the ledger).

    Raises ``NpmUnavailable`` / ``ArtifactError`` when the artifacts cannot be loaded.
    """

    def __init__(self, machine: EvmMachine, fee_to_setter: str = "") -> None:
        self.machine = machine
        factory = load_artifact(V2_CORE, "UniswapV2Factory")
        pair = load_artifact(V2_CORE, "UniswapV2Pair")
        self.abi = ContractAbi(factory.name, factory.abi)
        self.pair_abi = ContractAbi(pair.name, pair.abi)
        bridge = our_contract("V2Bridge")
        self.bridge_abi = ContractAbi(bridge.name, bridge.abi)
        self.bridge = machine.deploy(bridge, abi=self.bridge_abi)
        machine.name(self.bridge, LP_HOLDER)
        machine.allow_minter(self.bridge)
        self.evm_address = machine.deploy(factory, machine.operator, abi=self.abi)
        self.fee_to_setter = fee_to_setter
        self._fee_to: str | None = None
        self.pairs: dict[tuple[str, str], EvmV2Pair] = {}
        self.all_pairs: list[EvmV2Pair] = []

    @property
    def fee_to(self) -> str | None:
        """The account paid the protocol fee (``feeTo``), or None (off)."""
        return self._fee_to

    @fee_to.setter
    def fee_to(self, account: str | None) -> None:
        m = self.machine
        target = m.address(account) if account else ZERO_ADDRESS
        m.transact(m.operator, self.evm_address, self.abi, "setFeeTo", target)
        self._fee_to = account or None

    def set_fee_to(self, caller: str, fee_to: str | None) -> None:
        """``setFeeTo``: only ``feeToSetter``; else ``UniswapV2: FORBIDDEN``."""
        if caller != self.fee_to_setter:
            raise PoolError("UniswapV2: FORBIDDEN", caller)
        self.fee_to = fee_to

    def get_pair(self, token_a: str, token_b: str) -> EvmV2Pair | None:
        """The pair of two assets in either order, or None."""
        key = (token_a, token_b) if token_a < token_b else (token_b, token_a)
        return self.pairs.get(key)

    def new_pair(self, token_a: str, token_b: str, address: str | None = None) -> EvmV2Pair:
        """``createPair`` (not registered until :meth:`register`). Raises
        ``UniswapV2: IDENTICAL_ADDRESSES``, ``UniswapV2: ZERO_ADDRESS``,
        ``UniswapV2: PAIR_EXISTS``."""
        if token_a == token_b:
            raise PoolError("UniswapV2: IDENTICAL_ADDRESSES", token_a)
        t0, t1 = sorted((token_a, token_b))
        if t0 == ZERO_ADDRESS:
            raise PoolError("UniswapV2: ZERO_ADDRESS")
        if (t0, t1) in self.pairs:
            raise PoolError("UniswapV2: PAIR_EXISTS", f"{t0}/{t1}")
        m = self.machine
        try:
            m.transact(m.operator, self.evm_address, self.abi, "createPair", m.token(t0), m.token(t1))
        except EvmRevert as exc:
            raise _revert(exc) from None
        evm_pair = m.call(self.evm_address, self.abi, "getPair", m.token(t0), m.token(t1))[0]
        return EvmV2Pair(self, t0, t1, evm_pair.lower(), address)

    def register(self, pair: EvmV2Pair) -> None:
        """Record a pair built by :meth:`new_pair`."""
        self.pairs[(pair.token0, pair.token1)] = pair
        self.all_pairs.append(pair)

    def create_pair(self, token_a: str, token_b: str, address: str | None = None) -> EvmV2Pair:
        """``createPair`` and register it."""
        pair = self.new_pair(token_a, token_b, address)
        self.register(pair)
        return pair


class _LpBalances:
    """``balance_of`` of an EVM pair: LP balances by core-level account, read from the
    pair (``get`` only: an ERC-20 cannot list its holders)."""

    __slots__ = ("_pair",)

    def __init__(self, pair: EvmV2Pair) -> None:
        self._pair = pair

    def get(self, account: str, default: int = 0) -> int:
        p = self._pair
        return p._call("balanceOf", p._addr(account))[0] or default

    def __getitem__(self, account: str) -> int:
        return self.get(account)


class EvmV2Pair:
    """A ``UniswapV2Pair`` deployed by :class:`EvmV2Factory`, with the attributes,
    methods, results and errors of :class:`~defisim.protocols.amm.v2_pair.V2Pair`
    (read from and done on the bytecode). ``address`` is the core-level name (the
    plug-in sets it to the pool id); ``evm_address`` the contract's."""

    def __init__(self, factory: EvmV2Factory, token0: str, token1: str, evm_address: str,
                 address: str | None = None) -> None:
        self.factory = factory
        self.machine = factory.machine
        self.token0, self.token1 = token0, token1
        self.evm_address = evm_address
        self._address = ""
        self.address = address or f"UniswapV2Pair:{token0}/{token1}"
        m = self.machine
        self._flip = int(m.token(token0), 16) > int(m.token(token1), 16)
        self.balance_of = _LpBalances(self)

    # -- plumbing -------------------------------------------------------------------
    @property
    def address(self) -> str:
        return self._address

    @address.setter
    def address(self, name: str) -> None:
        self._address = name
        self.machine.name(self.evm_address, name)

    def _addr(self, account: str) -> str:
        return self.machine.address(account)

    def _call(self, fn: str, *args: Any) -> tuple:
        return self.machine.call(self.evm_address, self.factory.pair_abi, fn, *args)

    def _bridge(self, fn: str, *args: Any) -> tuple:
        m, f = self.machine, self.factory
        try:
            return m.transact(m.operator, f.bridge, f.bridge_abi, fn, *args).output
        except EvmRevert as exc:
            raise _revert(exc) from None

    def _order(self, a: int, b: int) -> tuple[int, int]:
        """(Python token0, token1) <-> (EVM token0, token1): the same swap both ways."""
        return (b, a) if self._flip else (a, b)

    def _withdraw(self, to: str) -> bool:
        return to != self._address

    # -- state ------------------------------------------------------------------------
    @property
    def reserve0(self) -> int:
        return self.get_reserves()[0]

    @property
    def reserve1(self) -> int:
        return self.get_reserves()[1]

    @property
    def block_timestamp_last(self) -> int:
        return self.get_reserves()[2]

    def get_reserves(self) -> tuple[int, int, int]:
        """``getReserves()``: ``(reserve0, reserve1, blockTimestampLast)``."""
        r0, r1, ts = self._call("getReserves")
        # blockTimestampLast in chain seconds, as the Python core keeps it
        return (*self._order(r0, r1), (ts - self.machine.genesis_timestamp) % _U32)

    @property
    def price0_cumulative_last(self) -> int:
        return self._call("price1CumulativeLast" if self._flip else "price0CumulativeLast")[0]

    @property
    def price1_cumulative_last(self) -> int:
        return self._call("price0CumulativeLast" if self._flip else "price1CumulativeLast")[0]

    @property
    def k_last(self) -> int:
        return self._call("kLast")[0]

    @property
    def total_supply(self) -> int:
        return self._call("totalSupply")[0]

    @property
    def balance0(self) -> int:
        return self.machine.balance_of(self.token0, self.evm_address)

    @property
    def balance1(self) -> int:
        return self.machine.balance_of(self.token1, self.evm_address)

    def lp_balance(self, account: str) -> int:
        """The LP balance of ``account``."""
        return self.balance_of.get(account)

    def fee_on(self) -> bool:
        """Whether the factory's ``feeTo`` is set."""
        return self.factory.fee_to is not None

    def current_cumulative_prices(self, now: int) -> tuple[int, int, int]:
        """As :meth:`V2Pair.current_cumulative_prices` (the oracle library's view), from
        the pair's stored accumulators."""
        ts = now % _U32
        r0, r1, last = self.get_reserves()
        p0, p1 = self.price0_cumulative_last, self.price1_cumulative_last
        if last != ts:
            if r0 == 0 or r1 == 0:
                raise PoolError("FixedPoint: DIV_BY_ZERO")
            elapsed = (ts - last) % _U32
            p0 = (p0 + (r1 * _Q112 // r0) * elapsed) & _MASK256
            p1 = (p1 + (r0 * _Q112 // r1) * elapsed) & _MASK256
        return p0, p1, ts

    def invariant_errors(self) -> list[str]:
        """The spec section 5 V2 invariants readable from the contract (the sum of LP
        balances needs the holders, which the plug-in checks on the ledger)."""
        errs = []
        r0, r1, _ = self.get_reserves()
        b0, b1, supply = self.balance0, self.balance1, self.total_supply
        if b0 < r0 or b1 < r1:
            errs.append(f"balances {b0}/{b1} below reserves {r0}/{r1}")
        if r0 > MAX_UINT112 or r1 > MAX_UINT112:
            errs.append(f"reserves {r0}/{r1} outside uint112")
        if supply and self.balance_of.get(ZERO_ADDRESS) < MINIMUM_LIQUIDITY:
            errs.append("the 1000 locked LP are missing from the zero address")
        if self.fee_on() and self.k_last > r0 * r1:
            errs.append(f"kLast {self.k_last} > k {r0 * r1}")
        return errs

    # -- operations (the Python core's signatures and results) -----------------------------
    def transfer(self, src: str, dst: str, value: int) -> Transfer:
        """LP ``transfer`` from the bridge's holding (``src`` must be ``LP_HOLDER``)."""
        if src != LP_HOLDER:
            raise ValueError(f"an EVM pair moves LP only from {LP_HOLDER!r}, not {src!r}")
        have = self.balance_of.get(src)
        if have < value:
            raise PoolError("ds-math-sub-underflow", f"{src} holds {have} LP < {value}")
        self._bridge("transferLp", self.evm_address, self._addr(dst), value)
        return Transfer(src, dst, value)

    def mint(self, to: str, amount0_in: int, amount1_in: int, now: int,
             sender: str = "") -> tuple[int, tuple]:
        """Pay in, then ``mint(to)`` on the pair. Returns ``(liquidity, (Sync, Mint))``
        (the LP ``Transfer`` events are the ledger's here)."""
        if amount0_in < 0 or amount1_in < 0:
            raise ValueError("negative amount sent in")
        r0, r1, _ = self.get_reserves()
        self.machine.set_time(now)
        e0, e1 = self._order(amount0_in, amount1_in)
        (liquidity,) = self._bridge("mint", self.evm_address, e0, e1, self._addr(to))
        n0, n1, _ = self.get_reserves()
        return liquidity, (Sync(n0, n1), Mint(sender, n0 - r0, n1 - r1))

    def burn(self, to: str, now: int, sender: str = "", liquidity_in: int = 0,
             lp_from: str | None = None) -> tuple[int, int, tuple]:
        """Move ``liquidity_in`` LP from ``lp_from`` (``LP_HOLDER``) to the pair, then
        ``burn(to)``. Returns ``(amount0, amount1, (Sync, Burn))``."""
        if liquidity_in < 0:
            raise ValueError("negative LP sent in")
        lp_from = sender if lp_from is None else lp_from
        if liquidity_in and lp_from != LP_HOLDER:
            raise ValueError(f"an EVM pair burns LP held by {LP_HOLDER!r}, not {lp_from!r}")
        if liquidity_in and self.balance_of.get(lp_from) < liquidity_in:
            raise PoolError("ds-math-sub-underflow", f"{lp_from} holds too little LP")
        if self.total_supply == 0:  # the bytecode divides by zero (no reason string)
            raise PoolError("[V2_DIV_ZERO]", "burn on an empty pair")
        self.machine.set_time(now)
        a0, a1 = self._order(*self._bridge("burn", self.evm_address, liquidity_in,
                                           self._addr(to), self._withdraw(to)))
        n0, n1, _ = self.get_reserves()
        return a0, a1, (Sync(n0, n1), Burn(sender, a0, a1, to))

    def swap(self, amount0_out: int, amount1_out: int, to: str, amount0_in: int = 0,
             amount1_in: int = 0, now: int = 0, sender: str = "") -> tuple:
        """Pay in, then ``swap(amount0Out, amount1Out, to, "")`` on the pair. Returns
        ``(amount0In, amount1In, (Sync, Swap))`` as the Python core."""
        if amount0_out < 0 or amount1_out < 0 or amount0_in < 0 or amount1_in < 0:
            raise ValueError("negative swap amount")
        r0, r1, _ = self.get_reserves()
        self.machine.set_time(now)
        i0, i1 = self._order(amount0_in, amount1_in)
        o0, o1 = self._order(amount0_out, amount1_out)
        self._bridge("swap", self.evm_address, i0, i1, o0, o1, self._addr(to), self._withdraw(to))
        n0, n1, _ = self.get_reserves()
        in0 = max(0, n0 - (r0 - amount0_out))  # the pair's amount0In (spec 1.5)
        in1 = max(0, n1 - (r1 - amount1_out))
        return in0, in1, (Sync(n0, n1), Swap(sender, in0, in1, amount0_out, amount1_out, to))

    def skim(self, to: str) -> tuple[int, int]:
        """``skim(to)``: ``(balance0 - reserve0, balance1 - reserve1)`` sent to ``to``."""
        return self._order(*self._bridge("skim", self.evm_address, self._addr(to),
                                         self._withdraw(to)))

    def sync(self, now: int) -> Sync:
        """``sync()`` on the pair."""
        self.machine.set_time(now)
        m = self.machine
        try:
            m.transact(m.operator, self.evm_address, self.factory.pair_abi, "sync")
        except EvmRevert as exc:
            raise _revert(exc) from None
        r0, r1, _ = self.get_reserves()
        return Sync(r0, r1)

    def donate(self, amount0: int = 0, amount1: int = 0) -> None:
        """A plain token transfer to the pair (no pair call)."""
        if amount0 < 0 or amount1 < 0:
            raise ValueError("negative donation")
        self._bridge("donate", self.evm_address, *self._order(amount0, amount1))

    # -- checkpoints --------------------------------------------------------------------
    def _snapshot(self) -> Any:
        """The whole EVM (a router step the ledger refuses is undone with it)."""
        return self.machine.snapshot()

    def _restore(self, state: Any) -> None:
        self.machine.restore(state)

    def state(self) -> tuple:
        """``(token0, token1, address, (reserve0, reserve1, blockTimestampLast,
        price0CumulativeLast, price1CumulativeLast, kLast, totalSupply))``: the Python
        core's ``state()`` without its LP balances (an ERC-20 cannot list its holders)."""
        return (self.token0, self.token1, self._address,
                (*self.get_reserves()[:2], self.block_timestamp_last,
                 self.price0_cumulative_last, self.price1_cumulative_last, self.k_last,
                 self.total_supply))
