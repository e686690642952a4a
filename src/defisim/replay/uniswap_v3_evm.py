"""The Uniswap V3 day replay (:mod:`defisim.replay.uniswap_v3`) with its swaps run by the
official ``UniswapV3Pool`` bytecode (``@uniswap/v3-core`` 1.0.1) on the embedded EVM.

Everything else is the Python replay's: the file gives the state the replay imposes
(the seed swap's price, tick and liquidity, the inferred tick nets, each MINT/BURN's net
and in-range liquidity move, the resyncs after unmatched swaps); here each imposed
state is also written into the pool's storage (:mod:`defisim.evm_amm.v3_storage`), so
the bytecode swaps from exactly the state the Python pool swaps from. A swap is tried
(exact in, exact out, price limit: spec ``amm.md`` 4.7) as a read-only call of our
payer's ``swapAndRead`` (``V3Payer.sol``: the swap, then slot0 and liquidity), and the
one that matches is then sent as a transaction. The pool is created by the official
factory and initialised at the seed price; it holds 2^200 of each bridge token so
that it can always pay out, and the payer mints what each swap owes. The block clock
does not move (the file's fee growth and oracle are not checked, as in the Python
replay).
"""

from __future__ import annotations

from defisim.evm import Artifact, ContractAbi, EvmRevert, load_artifact
from defisim.evm_amm import EvmMachine, our_contract
from defisim.evm_amm.v3_storage import (
    LIQUIDITY_SLOT,
    SLOT0_SLOT,
    bitmap_slot,
    slot0_word,
    tick_words,
)
from defisim.protocols.amm.v3 import V3Pool
from defisim.protocols.amm.v3.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO

from .uniswap_v3 import _Replay

__all__ = ["EvmReplay"]

CORE = "@uniswap/v3-core"
POOL_FUNDS = 1 << 200


class EvmReplay(_Replay):
    """:class:`~defisim.replay.uniswap_v3._Replay` with the bytecode pool (module doc).

    Raises (on the first imposed state): ``defisim.extras.MissingExtraError`` without the
    ``evm`` extra, :class:`defisim.evm.NpmUnavailable` without the npm artifacts."""

    machine: EvmMachine | None = None

    def _deploy(self, pool: V3Pool) -> None:
        self.machine = m = EvmMachine()
        fac = load_artifact(CORE, "UniswapV3Factory")
        self.pool_abi = m_pool_abi = _abi(load_artifact(CORE, "UniswapV3Pool"))
        fac_abi = _abi(fac)
        factory = m.deploy(fac, abi=fac_abi)
        t0, t1 = m.token("token0"), m.token("token1")
        self.pool = m.transact(m.operator, factory, fac_abi, "createPool", t0, t1,
                               self.fee).output[0]
        if pool.tick_spacing != m.call(self.pool, m_pool_abi, "tickSpacing")[0]:
            raise ValueError(f"fee {self.fee} has tick spacing "
                             f"{m.call(self.pool, m_pool_abi, 'tickSpacing')[0]} in the factory,"
                             f" not {pool.tick_spacing}")
        m.transact(m.operator, self.pool, m_pool_abi, "initialize", pool.sqrt_price_x96)
        payer = our_contract("V3Payer")
        self.payer_abi = _abi(payer)
        self.payer = m.deploy(payer, abi=self.payer_abi)
        m.allow_minter(self.payer)
        m.transact(m.operator, self.payer, self.payer_abi, "setMintPayments", True)
        for asset in ("token0", "token1"):
            m.mint(asset, self.pool, POOL_FUNDS)

    def imposed(self, pool: V3Pool, ticks: tuple[int, ...] | None, price: bool) -> None:
        if self.machine is None:
            self._deploy(pool)
        words = {LIQUIDITY_SLOT: pool.liquidity}
        if price:
            words[SLOT0_SLOT] = slot0_word(pool.sqrt_price_x96, pool.tick)
        spacing = pool.tick_spacing
        for t in pool.ticks if ticks is None else ticks:
            info = pool.ticks.get(t)
            words.update(tick_words(t, info.liquidity_gross, info.liquidity_net) if info
                         else tick_words(t, 0, 0))
            w = (t // spacing) >> 8
            words[bitmap_slot(w)] = pool.bitmap.get(w, 0)
        self.machine.backend.set_storage(self.pool, words)

    def quoter(self, pool: V3Pool):
        call, payer, abi, address = self.machine.call, self.payer, self.payer_abi, self.pool

        def quote(zfo: bool, amount: int, limit: int | None):
            if limit is None:
                limit = MIN_SQRT_RATIO + 1 if zfo else MAX_SQRT_RATIO - 1
            try:
                return call(payer, abi, "swapAndRead", address, payer, zfo, amount, limit)
            except EvmRevert:
                return None

        return quote

    def commit(self, zfo: bool, amount: int, limit: int | None) -> None:  # type: ignore[override]
        if limit is None:
            limit = MIN_SQRT_RATIO + 1 if zfo else MAX_SQRT_RATIO - 1
        m = self.machine
        m.transact(m.operator, self.payer, self.payer_abi, "swapAndRead", self.pool, self.payer,
                   zfo, amount, limit)


def _abi(artifact: Artifact) -> ContractAbi:
    return ContractAbi(artifact.name, artifact.abi)
