"""The AMM chain plug-in (``amm``): pools of several kinds on the null chain, by pool id.

Kinds: Uniswap V2 pairs (:mod:`.plugin_v2`, spec ``amm.md`` section 1), Uniswap V3
pools (:mod:`.plugin_v3`, section 2) and Balancer V1 weighted pools
(:mod:`.plugin_balancer`, section 3), each run by its exact core (:mod:`.v2_pair`,
:mod:`.v3`, :mod:`.balancer`). A core holds the pool's state and its token balances; this plug-in moves
the same amounts on the chain's ledger, turns a core :class:`~.errors.PoolError` into a
``TransactionRejected`` event whose reason is the contract's revert string, and checks
at every block end that the ledger and the core agree (spec section 5).

Ledger layout (account keys ``(type, owner, asset, scope)``; scope = the pool id):

- ``("amm_reserve", "", asset, pool_id)``: the pool's balance of ``asset``
  (= the core's token balance), :func:`reserve`;
- ``("amm_locked", "", lp_asset, pool_id)``: the 1,000 ``MINIMUM_LIQUIDITY`` LP that
  a V2 pair's first mint locks at the zero address, :func:`locked`;
- fungible LP tokens held by parties (V2): their general accounts in ``<pool_id>-LP``
  (18 decimals). In the core every party-held LP token sits at one address,
  :data:`LP_HOLDER`, so LP moved between parties on the ledger stays consistent.
  V3 positions belong to the party that minted them and live in the core.

Pool ids: ``"V2:<token0>/<token1>"``, ``"V3:<token0>/<token1>/<fee>"`` (tokens sorted
as the factories sort them), ``"BAL:<asset1>/<asset2>/..."`` (binding order; ``#n``
appended when taken).

What the protocol records into a run's store (tables ``amm_swaps``, ``amm_liquidity``,
``amm_pools`` and built-in KPIs per pool) is :mod:`.recording`.
"""

from __future__ import annotations

from typing import Any

from defisim.chain.protocol import ChainProtocol
from defisim.chain.transactions import Receipt

from .cores import PoolCores
from .plugin_balancer import BAL_GAS, BalancerTransactions, BalExit, BalJoin, BalSwap, bal_pool_id
from .plugin_base import (
    LOCKED_TYPE,
    LP_DECIMALS,
    LP_HOLDER,
    MAX_UINT256,
    NAME,
    RESERVE_TYPE,
    AmmPoolCreated,
    PoolEntry,
    Reason,
    locked,
    lp_asset_id,
    reserve,
)
from .plugin_v2 import V2_GAS, V2Burn, V2Mint, V2Swap, V2Sync, V2Transactions, v2_pool_id
from .plugin_v3 import (
    V3_GAS,
    V3Burn,
    V3Collect,
    V3Initialize,
    V3Mint,
    V3Swap,
    V3Transactions,
    v3_pool_id,
)
from .recording import TABLES, AmmRecording
from .v2_pair import V2Factory

GAS = {**V2_GAS, **V3_GAS, **BAL_GAS, "swap": 120_000}
"""Gas of each transaction in mempool mode."""


class AmmProtocol(V2Transactions, V3Transactions, BalancerTransactions, ChainProtocol):
    """Every AMM pool on a chain, by pool id.

    Set-up (raise ``ValueError``): :meth:`create_pair` (V2), :meth:`set_fee_to` (V2),
    :meth:`create_v3_pool`, :meth:`create_balancer_pool`. Transactions (``Transaction(sender, "amm", call, args)``,
    raw integers, each all-or-nothing; deadlines in whole seconds of chain time):

    - any pool kind: ``swap(pool_id, asset_in, asset_out, amount, limit, exact_in,
      deadline_s, price_limit=0)`` -> ``value = (amount_in, amount_out)``
      (:meth:`tx_swap`);
    - V2 router: ``add_liquidity``, ``remove_liquidity``, ``swap_exact_in``,
      ``swap_exact_out`` (multi-hop paths), ``sync`` (:class:`~.plugin_v2.V2Transactions`);
    - V3 positions: ``v3_mint``, ``v3_burn``, ``v3_collect``
      (:class:`~.plugin_v3.V3Transactions`);
    - Balancer joins and exits: ``bal_join_pool``, ``bal_exit_pool`` and the four
      single-asset ones (:class:`~.plugin_balancer.BalancerTransactions`).

    A rejection emits ``TransactionRejected`` (reason: the contract's revert string or
    a :class:`Reason`) and changes nothing else.

    Args:
        cores: where the pools' state and math live (:class:`~.cores.PoolCores`): the
            exact Python cores by default, or ``defisim.evm_amm.EvmCores()`` for the
            official contract bytecode on an EVM.
    """

    name = NAME
    gas = GAS
    recording_tables = TABLES

    def __init__(self, cores: PoolCores | None = None) -> None:
        self.cores = cores if cores is not None else PoolCores()
        self.pools: dict[str, PoolEntry] = {}
        self.v2_factory: V2Factory = self.cores.v2_factory(fee_to_setter="")
        self.fee_to_party: str | None = None

    def set_quote_asset(self, pool_id: str, asset: str) -> None:
        """Quote the recorded prices, volumes and TVL of ``pool_id`` in ``asset`` (by
        default the first of :data:`~.plugin_base.QUOTE_PREFERENCE` it holds, else its
        token1). Raises ``KeyError`` (unknown pool), ``ValueError`` (asset not in it)."""
        entry = self.pools.get(pool_id)
        if entry is None:
            raise KeyError(f"unknown pool {pool_id!r}; known: {sorted(self.pools)}")
        if asset not in entry.assets:
            raise ValueError(f"{pool_id} holds {entry.assets}, not {asset!r}")
        entry.quote = asset

    # -- the kind-independent swap --------------------------------------------------
    def tx_swap(self, sender: str, pool_id: str, asset_in: str, asset_out: str, amount: int,
                limit: int, exact_in: bool, deadline_s: int, price_limit: int = 0) -> Receipt:
        """Swap ``asset_in`` for ``asset_out`` in one pool.

        Args:
            amount: base units of ``asset_in`` paid (``exact_in``) or of ``asset_out``
                received (not ``exact_in``).
            limit: the minimum received (exact in) or maximum paid (exact out), base units.
            deadline_s: latest chain time, whole seconds.
            price_limit: V3: a ``sqrtPriceLimitX96`` the swap stops at (0: none; spec
                2.10). Balancer: ``maxPrice``, the highest spot price (tokenIn per
                tokenOut with the fee, BONE-scaled) before and after the swap (0: none,
                ``MAX_UINT256``; ``ERR_BAD_LIMIT_PRICE``, ``ERR_LIMIT_PRICE``). Must be 0
                for V2.

        ``value``: ``(amount_in, amount_out)`` in base units. Rejections: the kind's
        router/periphery reasons (``UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT``,
        ``Too little received``, ``SPL``, Balancer's ``ERR_LIMIT_OUT``, ``ERR_LIMIT_IN``,
        ``ERR_MAX_IN_RATIO``, ``ERR_INSUFFICIENT_BAL``, ...), ``UNKNOWN_POOL``,
        ``INVALID_ARGUMENT``. Balancer pools have no deadline of their own: the
        plug-in checks it as V3's periphery does (``Transaction too old``).
        """
        tx = "swap"
        bad = self._check_common(tx, sender, (asset_in, asset_out), {
            "amount": amount, "limit": limit, "deadline_s": deadline_s, "price_limit": price_limit})
        if bad is not None:
            return bad
        entry = self._pool(tx, sender, pool_id, ("V2", "V3", "BAL"))
        if isinstance(entry, Receipt):
            return entry
        pid = entry.pool_id
        if asset_in == asset_out or asset_in not in entry.assets or asset_out not in entry.assets:
            return self._reject(tx, sender, pid, Reason.INVALID_ARGUMENT,
                                f"{pid} swaps between {entry.assets}, not {asset_in} -> {asset_out}")
        if type(exact_in) is not bool:
            return self._reject(tx, sender, pid, Reason.INVALID_ARGUMENT,
                                f"exact_in must be a bool, got {exact_in!r}")
        if entry.kind == "V2":
            if price_limit:
                return self._reject(tx, sender, pid, Reason.INVALID_ARGUMENT,
                                    "price_limit applies to V3 pools only")
            return self._swap(tx, sender, (asset_in, asset_out), amount, limit, deadline_s, exact_in)
        bad = self._expired(tx, sender, pid, deadline_s)
        if bad is not None:
            return bad
        if entry.kind == "BAL":
            return self._bal_swap(tx, sender, entry, asset_in, asset_out, amount, limit, exact_in,
                                  price_limit)
        return self._v3_swap(tx, sender, entry, asset_in, amount, limit, exact_in, price_limit)

    # -- snapshots ----------------------------------------------------------------
    def snapshot_shared(self) -> tuple:
        return self.cores.shared()

    def snapshot(self) -> Any:
        """The plug-in's state and its cores' state outside Python (an EVM's, taken by
        the EVM's own snapshot: an anvil node is not copied)."""
        return super().snapshot(), self.cores.snapshot()

    def restore(self, state: Any) -> None:
        own, cores = state
        super().restore(own)
        self.cores.restore(cores)

    # -- checks -------------------------------------------------------------------
    def invariant_errors(self) -> list[str]:
        """Every pool's checks (:meth:`_v2_invariant_errors`, :meth:`_v3_invariant_errors`,
        :meth:`_bal_invariant_errors`)."""
        checks: dict[str, Any] = {"V2": self._v2_invariant_errors, "V3": self._v3_invariant_errors,
                                  "BAL": self._bal_invariant_errors}
        errors: list[str] = []
        for pid, e in self.pools.items():
            errors.extend(checks[e.kind](pid, e))
        return errors

    # -- recording ----------------------------------------------------------------
    def recording(self, **options: Any) -> AmmRecording:
        """The AMM tables and built-in KPIs (:mod:`.recording`)."""
        return AmmRecording(self)


__all__ = [
    "GAS",
    "LOCKED_TYPE",
    "LP_DECIMALS",
    "LP_HOLDER",
    "MAX_UINT256",
    "NAME",
    "RESERVE_TYPE",
    "AmmPoolCreated",
    "AmmProtocol",
    "AmmRecording",
    "PoolCores",
    "BalExit",
    "BalJoin",
    "BalSwap",
    "PoolEntry",
    "Reason",
    "V2Burn",
    "V2Mint",
    "V2Swap",
    "V2Sync",
    "V3Burn",
    "V3Collect",
    "V3Initialize",
    "V3Mint",
    "V3Swap",
    "bal_pool_id",
    "locked",
    "lp_asset_id",
    "reserve",
    "v2_pool_id",
    "v3_pool_id",
]
