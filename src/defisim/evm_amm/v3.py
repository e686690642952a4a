"""Uniswap V3 pools on the official bytecode: :class:`EvmV3Pool`, a drop-in for the Python
:class:`~defisim.protocols.amm.v3.V3Pool` as the AMM plug-in (``plugin_v3.py``) and
``sim.amm`` (``service/amm*.py``) use it.

The pool is a ``UniswapV3Pool`` created by the ``UniswapV3Factory`` of
``@uniswap/v3-core@1.0.1`` (one factory per machine, :class:`V3Factory`; a fee tier the
factory lacks is enabled by its owner, the machine's operator). Mints and swaps go
through our callback payer (``contracts/V3Payer.sol``), which pays by minting the
pool's tokens (the plug-in moves the same amounts on the ledger) and burns a swap's
output (paid to the party on the ledger); burns and collects are sent by the
position owner's EVM address itself (positions are keyed by ``msg.sender``), and
what a collect pays out is burned. The pool's token balances therefore equal its
ledger reserves.

Tokens: each pool gets its own two bridge ERC-20s, the lower address standing for
the smaller asset id. Why not the machine's shared token per asset: a V3 pool orders
its tokens by address, and a pool whose order disagrees with the Python core's
(asset ids) would hold the inverse price, which no integer mapping reproduces to the
wei (ticks and prices round differently in the two directions).

Reads: state comes from the bytecode (``slot0``, ``liquidity``, ``ticks``, ``positions``
...). The previews (``modify_preview``, ``position_tokens_owed``) and the checks whose
``require`` has no reason string run the Python core's code on a *chain view*
(:meth:`EvmV3Pool._view`: a ``V3Pool`` whose ticks, bitmap and positions are read from the
bytecode on demand), so errors carry the Python core's reasons (``V3_TICK_SPACING``,
``V3_MINT_ZERO``, ...); ``tests/test_evm_uniswap_v3.py`` shows the two agree on every
state. :meth:`EvmV3Pool.quote_with_fee` takes amounts and the final state from a
read-only call of the bytecode swap and the fee (not in the contract's event) from
the Python swap loop on the chain view, and checks that both agree.
"""

from __future__ import annotations

from typing import Any

from defisim.evm import ContractAbi, EvmError, EvmRevert, load_artifact
from defisim.evm.bridge import bridge_token_artifact
from defisim.protocols.amm.errors import PoolError
from defisim.protocols.amm.v3 import V3Pool
from defisim.protocols.amm.v3.events import Burn, Collect, Initialize, Mint, Swap
from defisim.protocols.amm.v3.pool import checked_tick_spacing
from defisim.protocols.amm.v3.position import PositionInfo
from defisim.protocols.amm.v3.tick import TickInfo, tick_spacing_to_max_liquidity_per_tick
from defisim.protocols.amm.v3.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO

from .machine import EvmMachine, our_contract
from .v3_chain_view import ChainMap, KnownPositions
from .v3_invariants import v3_invariant_errors
from .v3_storage import position_key

__all__ = ["V3_CORE", "EvmV3Pool", "V3Factory"]

V3_CORE = "@uniswap/v3-core"
_INT127 = 1 << 127


def _revert(exc: EvmRevert) -> PoolError:
    return PoolError(exc.reason or "EVM_REVERT", "on the UniswapV3Pool bytecode")


INITIALIZER = "defisim:v3-initializer"
"""The account that calls a new pool's ``initialize`` (anyone may: the factory's
``createPool`` leaves it to the first caller)."""

class V3Factory:
    """The machine's ``UniswapV3Factory`` (owner: the operator), the pool ABI and the
    shared callback payer; built once per :class:`~.cores.EvmCores`.

    Raises ``NpmUnavailable`` / ``ArtifactError`` when the artifacts cannot be loaded."""

    def __init__(self, machine: EvmMachine) -> None:
        self.machine = m = machine
        factory = load_artifact(V3_CORE, "UniswapV3Factory")
        pool = load_artifact(V3_CORE, "UniswapV3Pool")
        payer = our_contract("V3Payer")
        self.abi = ContractAbi(factory.name, factory.abi)
        self.pool_abi = ContractAbi(pool.name, pool.abi)
        self.payer_abi = ContractAbi(payer.name, payer.abi)
        self.address = m.deploy(factory, abi=self.abi)
        self.payer = m.deploy(payer, abi=self.payer_abi)
        m.transact(m.operator, self.payer, self.payer_abi, "setMintPayments", True)
        self._token = bridge_token_artifact()
        self._pools = 0

    def spacing(self, fee: int, tick_spacing: int) -> None:
        """Enable ``fee`` with ``tick_spacing`` unless it is (``enableFeeAmount``).
        Raises ``ValueError`` if the factory has the fee with another spacing."""
        m = self.machine
        have = m.call(self.address, self.abi, "feeAmountTickSpacing", fee)[0]
        if have == 0:
            m.transact(m.operator, self.address, self.abi, "enableFeeAmount", fee, tick_spacing)
        elif have != tick_spacing:
            raise ValueError(f"the V3 factory has fee {fee} with tick spacing {have}, "
                             f"not {tick_spacing}")

    def token_pair(self) -> tuple[str, str]:
        """Two new bridge tokens (the payer may mint and burn them), lower address first."""
        m = self.machine
        self._pools += 1
        made = []
        for side in ("a", "b"):
            name = f"V3-{self._pools}-{side}"
            t = m.deploy(self._token, name, name, 18, abi=m.token_abi)
            m.transact(m.operator, t, m.token_abi, "setMinter", self.payer, True)
            made.append(t)
        lo, hi = sorted(made, key=lambda a: int(a, 16))
        return lo, hi


class EvmV3Pool:
    """A ``UniswapV3Pool`` on an :class:`~.machine.EvmMachine` with the attributes,
    methods, results and :class:`PoolError` reasons of
    :class:`~defisim.protocols.amm.v3.V3Pool` that the plug-in and the service use
    (module doc). Owners and recipients are core-level accounts (party names).

    Raises ``ValueError`` for a fee tier or spacing as ``V3Pool`` does, or a spacing
    the factory has otherwise for this fee."""

    def __init__(self, factory: V3Factory, fee: int, tick_spacing: int | None = None) -> None:
        tick_spacing = checked_tick_spacing(fee, tick_spacing)
        self.factory = factory
        self.machine = m = factory.machine
        factory.spacing(fee, tick_spacing)
        self.fee = fee
        self.tick_spacing = tick_spacing
        self.max_liquidity_per_tick = tick_spacing_to_max_liquidity_per_tick(tick_spacing)
        self.factory_owner: Any = None
        self.token0, self.token1 = factory.token_pair()
        self.evm_address = m.transact(m.operator, factory.address, factory.abi, "createPool",
                                      self.token0, self.token1, fee).output[0]
        self.positions = KnownPositions(self)
        self._funded: set[str] = set()

    # -- plumbing ------------------------------------------------------------------------
    def _call(self, fn: str, *args: Any) -> tuple:
        return self.machine.call(self.evm_address, self.factory.pool_abi, fn, *args)

    def _sender(self, account: Any) -> str:
        """The EVM address of ``account``, given gas money the first time."""
        addr = self.machine.address(account)
        if addr not in self._funded:
            self.machine.backend.fund(addr, 10**24)
            self._funded.add(addr)
        return addr

    def _send(self, account: Any, fn: str, *args: Any) -> tuple:
        m = self.machine
        try:
            return m.transact(self._sender(account), self.evm_address, self.factory.pool_abi, fn,
                              *args).output
        except EvmRevert as exc:
            raise _revert(exc) from None

    def _pay(self, fn: str, *args: Any) -> tuple:
        m, f = self.machine, self.factory
        try:
            return m.transact(m.operator, f.payer, f.payer_abi, fn, self.evm_address, *args).output
        except EvmRevert as exc:
            raise _revert(exc) from None

    def _position(self, key: tuple[Any, int, int]) -> PositionInfo | None:
        owner, lower, upper = key
        liq, g0, g1, o0, o1 = self._call("positions",
                                         position_key(self.machine.address(owner), lower, upper))
        if not (liq or g0 or g1 or o0 or o1):
            return None
        return PositionInfo(liq, g0, g1, o0, o1)

    def _tick(self, tick: int) -> TickInfo | None:
        gross, net, g0, g1, *_, initialized = self._call("ticks", tick)
        return TickInfo(gross, net, g0, g1) if initialized else None

    def _view(self) -> V3Pool:
        """The Python core's code on the bytecode's state (module doc)."""
        v = V3Pool(self.fee, self.tick_spacing, self.factory_owner)
        v.sqrt_price_x96, v.tick, _, _, _, v.fee_protocol, v.unlocked = self._call("slot0")
        v.liquidity = self.liquidity
        v.fee_growth_global0_x128 = self._call("feeGrowthGlobal0X128")[0]
        v.fee_growth_global1_x128 = self._call("feeGrowthGlobal1X128")[0]
        v.ticks = ChainMap(self._tick)  # type: ignore[assignment]
        v.bitmap = ChainMap(lambda w: self._call("tickBitmap", w)[0])  # type: ignore[assignment]
        v.positions = ChainMap(self._position)  # type: ignore[assignment]
        # protocol fees and balances stay 0: no preview or quote reads them
        return v

    # -- state ---------------------------------------------------------------------------
    @property
    def slot0(self) -> tuple[int, int, int, bool]:
        """``(sqrtPriceX96, tick, feeProtocol, unlocked)`` as ``V3Pool.slot0``."""
        p, t, _, _, _, f, u = self._call("slot0")
        return p, t, f, u

    @property
    def sqrt_price_x96(self) -> int:
        return self._call("slot0")[0]

    @property
    def tick(self) -> int:
        return self._call("slot0")[1]

    @property
    def fee_protocol(self) -> int:
        return self._call("slot0")[5]

    @property
    def unlocked(self) -> bool:
        return self._call("slot0")[6]

    @property
    def liquidity(self) -> int:
        return self._call("liquidity")[0]

    @property
    def fee_growth_global0_x128(self) -> int:
        return self._call("feeGrowthGlobal0X128")[0]

    @property
    def fee_growth_global1_x128(self) -> int:
        return self._call("feeGrowthGlobal1X128")[0]

    @property
    def protocol_fees0(self) -> int:
        return self._call("protocolFees")[0]

    @property
    def protocol_fees1(self) -> int:
        return self._call("protocolFees")[1]

    @property
    def balance0(self) -> int:
        m = self.machine
        return m.call(self.token0, m.token_abi, "balanceOf", self.evm_address)[0]

    @property
    def balance1(self) -> int:
        m = self.machine
        return m.call(self.token1, m.token_abi, "balanceOf", self.evm_address)[0]

    def fee_growth_inside(self, tick_lower: int, tick_upper: int) -> tuple[int, int]:
        """``getFeeGrowthInside`` at the current tick (as ``V3Pool``)."""
        return self._view().fee_growth_inside(tick_lower, tick_upper)

    def position_tokens_owed(self, owner: Any, tick_lower: int, tick_upper: int) -> tuple[int, int]:
        """``tokensOwed`` plus the fees earned up to now, as if poked (as ``V3Pool``)."""
        return self._view().position_tokens_owed(owner, tick_lower, tick_upper)

    def modify_preview(self, owner: Any, tick_lower: int, tick_upper: int,
                       delta: int) -> tuple[int, int]:
        """As ``V3Pool.modify_preview`` (the Python code on the bytecode's state)."""
        return self._view().modify_preview(owner, tick_lower, tick_upper, delta)

    def invariant_errors(self) -> list[str]:
        """The spec section 5 invariants over the positions minted through this core."""
        return v3_invariant_errors(self)

    # -- operations ------------------------------------------------------------------------
    def initialize(self, sqrt_price_x96: int, *, time: int = 0) -> Initialize:
        """``initialize``; raises ``AI``, ``R``."""
        self.machine.set_time(time)
        self._send(INITIALIZER, "initialize", sqrt_price_x96)
        return Initialize(sqrt_price_x96, self.tick)

    def mint(self, sender: Any, owner: Any, tick_lower: int, tick_upper: int, amount: int,
             paid0: int | None = None, paid1: int | None = None, *, time: int = 0) -> Mint:
        """As ``V3Pool.mint``: the payer pays ``paid0``/``paid1`` (default: what is owed)."""
        view = self._view()
        view._check_lock()
        if amount <= 0:
            raise PoolError("V3_MINT_ZERO", "mint of zero liquidity")
        if amount >= _INT127:
            raise PoolError("V3_CAST", f"amount {amount} does not fit int128")
        owed0, owed1 = view.modify_preview(owner, tick_lower, tick_upper, amount)
        short0 = max(owed0 - paid0, 0) if paid0 is not None else 0
        short1 = max(owed1 - paid1, 0) if paid1 is not None else 0
        self.machine.set_time(time)
        a0, a1 = self._pay("mint", self._sender(owner), tick_lower, tick_upper, amount,
                           short0, short1)
        self.positions.remember((owner, tick_lower, tick_upper))
        return Mint(sender, owner, tick_lower, tick_upper, amount, a0, a1)

    def burn(self, owner: Any, tick_lower: int, tick_upper: int, amount: int, *,
             time: int = 0) -> Burn:
        """As ``V3Pool.burn``, sent by ``owner``."""
        view = self._view()
        view._check_lock()
        if amount < 0 or amount >= _INT127:
            raise PoolError("V3_CAST", f"amount {amount} does not fit int128")
        view.modify_preview(owner, tick_lower, tick_upper, -amount)  # the Python reasons
        self.machine.set_time(time)
        a0, a1 = self._send(owner, "burn", tick_lower, tick_upper, amount)
        return Burn(owner, tick_lower, tick_upper, amount, a0, a1)

    def collect(self, owner: Any, recipient: Any, tick_lower: int, tick_upper: int,
                amount0_requested: int, amount1_requested: int) -> Collect:
        """As ``V3Pool.collect``, sent by ``owner``; what it pays leaves the EVM (burned)."""
        if not self.unlocked:
            raise PoolError("LOK", "pool not initialised")
        to = self._sender(recipient)
        a0, a1 = self._send(owner, "collect", to, tick_lower, tick_upper, amount0_requested,
                            amount1_requested)
        m = self.machine
        for token, amount in ((self.token0, a0), (self.token1, a1)):
            if amount:
                m.transact(m.operator, token, m.token_abi, "burn", to, amount)
        return Collect(owner, recipient, tick_lower, tick_upper, a0, a1)

    def _limit(self, zero_for_one: bool, limit: int | None) -> int:
        if limit is not None:
            return limit
        return MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1

    def _checked_swap_args(self, zero_for_one: bool, amount: int, limit: int | None) -> None:
        """The checks of ``V3Pool._swap_compute`` before the loop, with its reasons."""
        if amount == 0:
            raise PoolError("AS", "amountSpecified is 0")
        if not -(1 << 255) <= amount < 1 << 255:
            raise PoolError("V3_CAST", f"amountSpecified {amount} is not an int256")

    def quote(self, zero_for_one: bool, amount_specified: int,
              sqrt_price_limit_x96: int | None = None) -> tuple[int, int, int, int, int]:
        """A read-only call of the bytecode swap: ``(amount0, amount1, sqrtPriceX96, tick,
        liquidity)`` after it; raises ``AS``, ``LOK``, ``SPL`` as ``V3Pool.quote``."""
        self._checked_swap_args(zero_for_one, amount_specified, sqrt_price_limit_x96)
        f = self.factory
        try:
            return self.machine.call(f.payer, f.payer_abi, "swapAndRead", self.evm_address,
                                     f.payer, zero_for_one, amount_specified,
                                     self._limit(zero_for_one, sqrt_price_limit_x96))
        except EvmRevert as exc:
            raise _revert(exc) from None

    def quote_with_fee(self, zero_for_one: bool, amount_specified: int,
                       sqrt_price_limit_x96: int | None = None) -> tuple[int, int, int, int, int, int]:
        """:meth:`quote` and the swap fee (the Python swap loop on the bytecode's state;
        module doc). Raises ``EvmError`` if the two disagree (they never should)."""
        got = self.quote(zero_for_one, amount_specified, sqrt_price_limit_x96)
        py = self._view().quote_with_fee(zero_for_one, amount_specified, sqrt_price_limit_x96)
        if tuple(py[:5]) != tuple(got):
            raise EvmError(f"V3 swap quote: bytecode {got} != Python loop {py[:5]}")
        return (*got, py[5])

    def swap(self, sender: Any, recipient: Any, zero_for_one: bool, amount_specified: int,
             sqrt_price_limit_x96: int | None = None, paid: int | None = None, *,
             time: int = 0) -> Swap:
        """As ``V3Pool.swap``; the payer pays ``paid`` (default: what is owed) and the
        output leaves the EVM (the plug-in pays it on the ledger)."""
        short = 0
        if paid is not None:
            a0, a1, *_ = self.quote(zero_for_one, amount_specified, sqrt_price_limit_x96)
            short = max((a0 if zero_for_one else a1) - paid, 0)
        else:
            self._checked_swap_args(zero_for_one, amount_specified, sqrt_price_limit_x96)
        self.machine.set_time(time)
        a0, a1 = self._pay("swap", self.factory.payer, zero_for_one, amount_specified,
                           self._limit(zero_for_one, sqrt_price_limit_x96), short)
        p, t, *_ = self._call("slot0")
        return Swap(sender, recipient, a0, a1, p, self.liquidity, t)
