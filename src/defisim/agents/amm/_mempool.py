"""Helpers the MEV agents share: reading pending AMM swaps out of the mempool, valuing
assets and gas in a quote asset, and the Uniswap V2 amount formula.

Everything here reads through :class:`~defisim.service.Simulation` (``pool_view``,
``pending_transactions``, ``fee_market``); nothing touches the pools' internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from defisim.chain.transactions import Transaction

if TYPE_CHECKING:
    from defisim.service import Simulation
    from defisim.service.amm import AmmPoolView

NO_DEADLINE = (1 << 256) - 1
"""``deadline_s`` meaning "no deadline" (the routers' ``type(uint256).max``)."""

MODES = ("bundle", "tips")
"""How a MEV agent orders its transactions around its victim's: one bundle that pulls
in the victim's pending transaction, or separate transactions that outbid it in tips."""

SWAP_GAS = 120_000
"""Gas of the AMM's kind-independent ``swap`` in mempool mode (``amm`` protocol ``GAS``)."""


@dataclass(frozen=True, slots=True)
class PendingSwap:
    """An exact-in swap waiting in the mempool, in base units.

    ``tx`` is the transaction itself (``tx.max_priority_fee_per_gas`` its tip per gas,
    base units of the native asset); ``amount_in`` what it pays of ``asset_in``,
    ``min_out`` the least it accepts of ``asset_out``."""

    tx: Transaction
    pool_id: str
    asset_in: str
    asset_out: str
    amount_in: int
    min_out: int


def pending_swaps(sim: Simulation, view: AmmPoolView, exclude: str = "") -> list[PendingSwap]:
    """The exact-in swaps pending in pool ``view.pool_id`` (arrival order), except those
    sent by ``exclude``: the kind-independent ``swap`` with ``exact_in`` and no
    ``price_limit``, and the V2 router's ``swap_exact_in`` along a two-asset path of
    this pool. Malformed transactions (which the pool will reject) are skipped."""
    out: list[PendingSwap] = []
    assets = view.assets
    for tx in sim.pending_transactions():
        if tx.protocol != "amm" or tx.sender == exclude:
            continue
        a = tx.args
        try:
            if tx.call == "swap":
                pid, a_in, a_out, amount, limit, exact_in = a[:6]
                if pid != view.pool_id or exact_in is not True or (len(a) > 7 and a[7]):
                    continue
            elif tx.call == "swap_exact_in" and view.kind == "V2":
                path, amount, limit = a[:3]
                if len(path) != 2:
                    continue
                a_in, a_out = path
            else:
                continue
        except (TypeError, ValueError):
            continue
        if (a_in in assets and a_out in assets and a_in != a_out and type(amount) is int
                and type(limit) is int and amount > 0 and limit >= 0):
            out.append(PendingSwap(tx, view.pool_id, a_in, a_out, amount, limit))
    return out


def v2_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """``UniswapV2Library.getAmountOut`` (spec ``amm.md`` 1.3): the output of a swap
    paying ``amount_in`` into reserves ``(reserve_in, reserve_out)`` with the 0.3 % fee:
    ``amount_in * 997 * reserve_out // (reserve_in * 1000 + amount_in * 997)``; base
    units; 0 for a non-positive input or an empty side."""
    if amount_in <= 0 or reserve_in <= 0 or reserve_out <= 0:
        return 0
    a = amount_in * 997
    return a * reserve_out // (reserve_in * 1000 + a)


def price_in(sim: Simulation, view: AmmPoolView, asset: str, quote: str,
             native_price: float | None = None) -> float:
    """Asset units of ``quote`` per unit of ``asset``: 1 for the quote asset itself, the
    pool's marginal price for its other asset, ``native_price`` (if given) for
    anything else, else 0 (unknown: valued at nothing)."""
    if asset == quote:
        return 1.0
    if asset in view.assets and quote in view.assets:
        return view.price_of(asset)
    return native_price or 0.0


def native_info(sim: Simulation) -> tuple[str, int] | None:
    """``(native asset, decimals)`` of the fee market, or ``None`` without one."""
    fm = sim.fee_market
    return None if fm is None else (fm.native_asset, fm.native_decimals)


def open_mev_account(sim: Simulation, name: str, funds: dict[str, float],
                     quote_asset: str, view: AmmPoolView) -> tuple[str, int] | None:
    """What a mempool agent (searcher, JIT LP) does once: check ``quote_asset`` is in the
    pool and the chain runs a mempool, create its party, mint ``funds``, tip 0 by default.
    Returns the native asset and its decimals (None without a fee market).

    Raises:
        ValueError: a quote asset not in the pool, or immediate execution.
    """
    if quote_asset not in view.assets:
        raise ValueError(f"{name}: quote_asset {quote_asset!r} not in {view.assets}")
    if sim.execution != "mempool":
        raise ValueError(f"{name}: needs execution='mempool' (it reads the mempool)")
    if name not in sim.parties:
        sim.create_party(name)
    for asset, amount in funds.items():
        if amount > 0:
            sim.mint(name, asset, amount)
    native = native_info(sim)
    if native is not None:
        sim.set_gas_price(name, 0.0)
    return native


def gas_paid(receipts: Any) -> int:
    """Base units of the native asset the receipts paid (burned base fee + tip)."""
    return sum(r.fee_burned + r.tip for r in receipts if r is not None)
