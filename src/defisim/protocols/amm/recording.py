"""What the AMM protocol records into a run's store: its tables and built-in KPIs.

The runner's recorder (:mod:`defisim.runner.recorder`) asks every protocol for its
:meth:`~defisim.chain.ChainProtocol.recording`; this is the AMM protocol's
(:meth:`~.protocol.AmmProtocol.recording`).

Tables (DuckDB types; ``*_f`` columns are human floats, the others raw integers; a
pool's "token0"/"token1" are its first two assets in the core's order, as
:class:`~defisim.service.amm.AmmPoolView`). Prices, volumes, fees and TVL are quoted in
the pool's *quote* asset (:meth:`~.protocol.AmmProtocol.set_quote_asset`; by default
the first of :data:`~.plugin_base.QUOTE_PREFERENCE` it holds, USDC before WETH, else
token1): ``price`` is the price of its *base* asset (the first other one) in the quote:

``amm_swaps``
    one row per swap event (``V2Swap`` per hop of a path, ``V3Swap``, ``BalSwap``):
    ``step, time_ns, pool, party, asset_in, asset_out, amount_in, amount_out,
    amount_in_f, amount_out_f, price`` (base in quote, asset units, after the swap)
    ``, fee_f`` (the swap fee, asset units of ``asset_in``: V2 0.3 % of the input;
    V3 the sum of the swap steps' ``feeAmount``; Balancer ``amount_in -
    bmul(amount_in, 1 - swapFee)``).
``amm_liquidity``
    one row per ``V2Mint``/``V2Burn``, ``V3Mint``/``V3Burn``/``V3Collect`` and
    ``BalJoin``/``BalExit``: ``step, time_ns, pool, party, kind`` (``mint``, ``burn``,
    ``collect``; Balancer joins are mints, exits burns) ``, tick_lower, tick_upper``
    (NULL except V3) ``, liquidity`` (V2/Balancer: LP base units minted or burned;
    V3: the position liquidity added or removed, 0 for a collect) ``, amount0,
    amount1, amount0_f, amount1_f`` (token0 / token1 paid in, or paid out / credited;
    a Balancer pool's tokens beyond the second are not in the table).
``amm_pools``
    per step per pool: ``step, time_ns, pool, kind, base, quote, price, reserve0_f,
    reserve1_f, liquidity`` (V3: active liquidity, raw; V2: √(reserve0·reserve1) in
    base units; Balancer: NULL) ``, tick`` (V3, else NULL) ``, tvl`` (every reserve
    valued in the quote asset at the pool's price) ``, volume_cum, fees_cum`` (since the
    run's start, quote units).

Prices: V2 from the reserves; V3 (√P / 2^96)² scaled by the decimals (token0 in
token1, inverted when token0 is the quote); Balancer the spot price of the base in the
quote *with* the fee (``getSpotPrice(quote, base)``, what buying the base costs at the
margin), while its TVL uses the spot prices without the fee.

Volume and fees in quote units: a swap's volume is its quote leg (the amount of the
quote asset paid in or out; a Balancer swap between two other tokens: its input valued
at the input's spot price without fee in the quote after the swap); its fee is the fee
itself when the quote is the input, else the fee valued at the swap's own rate (fee x
volume / amount in).

Built-in KPIs per pool (``kpis`` rows with the pool id): ``price``, ``tvl``, ``volume``
and ``fees`` (this step's, quote units), ``swaps`` (since the start), ``liquidity``
(V2 and V3, as in ``amm_pools``), ``tick`` (V3).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .balancer.bmath import calcSpotPrice
from .balancer.bnum import BONE
from .plugin_balancer import BalExit, BalJoin, BalSwap
from .plugin_v2 import V2Burn, V2Mint, V2Swap, V2Sync
from .plugin_v3 import V3Burn, V3Collect, V3Mint, V3Swap

if TYPE_CHECKING:
    from .protocol import AmmProtocol

TABLES: dict[str, dict[str, str]] = {
    "amm_swaps": {
        "step": "INTEGER",
        "time_ns": "BIGINT",
        "pool": "VARCHAR",
        "party": "VARCHAR",
        "asset_in": "VARCHAR",
        "asset_out": "VARCHAR",
        "amount_in": "HUGEINT",
        "amount_out": "HUGEINT",
        "amount_in_f": "DOUBLE",
        "amount_out_f": "DOUBLE",
        "price": "DOUBLE",
        "fee_f": "DOUBLE",
    },
    "amm_liquidity": {
        "step": "INTEGER",
        "time_ns": "BIGINT",
        "pool": "VARCHAR",
        "party": "VARCHAR",
        "kind": "VARCHAR",
        "tick_lower": "INTEGER",
        "tick_upper": "INTEGER",
        "liquidity": "HUGEINT",
        "amount0": "HUGEINT",
        "amount1": "HUGEINT",
        "amount0_f": "DOUBLE",
        "amount1_f": "DOUBLE",
    },
    "amm_pools": {
        "step": "INTEGER",
        "time_ns": "BIGINT",
        "pool": "VARCHAR",
        "kind": "VARCHAR",
        "base": "VARCHAR",
        "quote": "VARCHAR",
        "price": "DOUBLE",
        "reserve0_f": "DOUBLE",
        "reserve1_f": "DOUBLE",
        "liquidity": "DOUBLE",
        "tick": "INTEGER",
        "tvl": "DOUBLE",
        "volume_cum": "DOUBLE",
        "fees_cum": "DOUBLE",
    },
}
"""Column names and DuckDB types of the AMM tables."""

BUILTIN_KPIS: dict[str, tuple[str, ...]] = {
    "V2": ("price", "tvl", "volume", "fees", "swaps", "liquidity"),
    "V3": ("price", "tvl", "volume", "fees", "swaps", "liquidity", "tick"),
    "BAL": ("price", "tvl", "volume", "fees", "swaps"),
}
"""The built-in KPIs :meth:`AmmRecording.sample` records per pool, by pool kind."""

_V2_FEE = 0.003
_Q192 = float(1 << 192)


class _PoolInfo:
    # no reference to the core: a bundle's revert or a Balancer transaction replaces it
    __slots__ = ("kind", "assets", "dec", "base", "quote", "volume", "fees", "volume_cum",
                 "fees_cum", "swaps", "reserves")

    def __init__(self, protocol: AmmProtocol, pool_id: str) -> None:
        e = protocol.pools[pool_id]
        self.kind = e.kind
        self.assets = e.assets
        self.base, self.quote = e.base_asset, e.quote_asset
        assets = protocol.chain.ledger.assets
        self.dec = {a: 10 ** assets[a].decimals for a in e.assets}
        self.volume = self.fees = 0.0  # this step
        self.volume_cum = self.fees_cum = 0.0
        self.swaps = 0
        self.reserves = (0, 0)  # V2: the last Sync

    def _oriented(self, p01: float) -> float:
        """A price of token0 in token1 as the price of the base in the quote."""
        if self.quote == self.assets[1]:
            return p01
        return 1 / p01 if p01 else 0.0

    def v2_price(self, r0: int, r1: int) -> float:
        d0, d1 = self.dec[self.assets[0]], self.dec[self.assets[1]]
        return self._oriented((r1 / d1) / (r0 / d0) if r0 else 0.0)

    def v3_price(self, sqrt_price_x96: int) -> float:
        d0, d1 = self.dec[self.assets[0]], self.dec[self.assets[1]]
        return self._oriented(sqrt_price_x96 * sqrt_price_x96 / _Q192 * d0 / d1)

    def bal_price(self, raw: int) -> float:
        """A BONE-scaled spot price of the base in the quote (raw units) in asset units."""
        return raw / BONE * self.dec[self.base] / self.dec[self.quote]


def _bal_price_in(core: Any, asset: str, quote: str, fee: int) -> int:
    """``getSpotPrice(quote, asset)``: raw ``quote`` per raw ``asset``, BONE-scaled."""
    rq, ra = core.records[quote], core.records[asset]
    return calcSpotPrice(rq.balance, rq.denorm, ra.balance, ra.denorm, fee)


class AmmRecording:
    """The AMM part of a run's recording (module docstring).

    Args:
        protocol: the chain's AMM protocol.

    Attributes:
        swaps, mints, burns: swap and liquidity events seen (``collect`` rows are not
            mints or burns).
    """

    tables = TABLES

    def __init__(self, protocol: AmmProtocol) -> None:
        self.protocol = protocol
        self.swaps = 0
        self.mints = 0
        self.burns = 0
        self._pools: dict[str, _PoolInfo] = {}

    def counters(self) -> dict[str, int]:
        """Run totals for the run's summary: ``swaps``, ``mints``, ``burns``."""
        return {"swaps": self.swaps, "mints": self.mints, "burns": self.burns}

    def kpi_names(self) -> list[str]:
        """The built-in KPI names recorded for the pools that exist now:
        ``<pool>.<name>`` for every pool and every name of its kind in
        :data:`BUILTIN_KPIS`."""
        return [f"{pid}.{name}" for pid, e in self.protocol.pools.items()
                for name in BUILTIN_KPIS[e.kind]]

    def _info(self, pool_id: str) -> _PoolInfo:
        info = self._pools.get(pool_id)
        if info is None:
            info = self._pools[pool_id] = _PoolInfo(self.protocol, pool_id)
        return info

    # ----------------------------------------------------------------- events
    def on_events(self, step: int, events: list, sink: Any) -> None:
        """Rows of ``amm_swaps`` and ``amm_liquidity`` for this step's events; adds the
        swaps to the pools' volume and fees."""
        swaps = sink.rows("amm_swaps")
        liq = sink.rows("amm_liquidity")
        for ev in events:
            t = type(ev)
            if t is V2Sync:
                self._info(ev.market).reserves = (ev.reserve0, ev.reserve1)
            elif t is V2Swap or t is V3Swap or t is BalSwap:
                self._swap(step, ev, swaps)
            elif t in _LIQUIDITY:
                self._liquidity(step, ev, liq)

    def _swap(self, step: int, ev: Any, rows: list | None) -> None:
        info = self._info(ev.market)
        t0, t1 = info.assets[0], info.assets[1]
        q = info.quote
        t = type(ev)
        if t is V2Swap:
            zero_in = ev.amount0_in > 0
            a_in, a_out = (t0, t1) if zero_in else (t1, t0)
            amt_in = ev.amount0_in if zero_in else ev.amount1_in
            amt_out = ev.amount1_out if zero_in else ev.amount0_out
            price = info.v2_price(*info.reserves)
            fee_f = amt_in * _V2_FEE / info.dec[a_in]
        elif t is V3Swap:
            zero_in = ev.amount0 > 0
            a_in, a_out = (t0, t1) if zero_in else (t1, t0)
            amt_in, amt_out = (ev.amount0, -ev.amount1) if zero_in else (ev.amount1, -ev.amount0)
            price = info.v3_price(ev.sqrt_price_x96)
            fee_f = ev.fee / info.dec[a_in]
        else:
            a_in, a_out, amt_in, amt_out = ev.asset_in, ev.asset_out, ev.amount_in, ev.amount_out
            price = info.bal_price(ev.price_after)
            fee_f = ev.fee / info.dec[a_in]
        in_f, out_f = amt_in / info.dec[a_in], amt_out / info.dec[a_out]
        if a_in == q:
            vol = in_f
        elif a_out == q:
            vol = out_f
        else:  # a Balancer swap between two other tokens
            vol = in_f * self._bal_value(info, ev.market, a_in)
        fees = fee_f if a_in == q else (fee_f * vol / in_f if in_f else 0.0)
        info.volume += vol
        info.fees += fees
        info.volume_cum += vol
        info.fees_cum += fees
        info.swaps += 1
        self.swaps += 1
        if rows is not None:
            rows.append((step, ev.time_ns, ev.market, ev.party, a_in, a_out, amt_in, amt_out,
                         in_f, out_f, price, fee_f))

    def _bal_value(self, info: _PoolInfo, pool_id: str, asset: str) -> float:
        """The spot price without fee of ``asset`` in the quote (asset units), now."""
        core = self.protocol.pools[pool_id].core
        q = info.quote
        raw = _bal_price_in(core, asset, q, 0)
        return raw / BONE * info.dec[asset] / info.dec[q]

    def _liquidity(self, step: int, ev: Any, rows: list | None) -> None:
        t = type(ev)
        kind, lo, up = _LIQUIDITY[t], None, None
        if t is V2Mint or t is V2Burn:
            liq, a0, a1 = ev.liquidity, ev.amount0, ev.amount1
        elif t is BalJoin or t is BalExit:
            liq, a0, a1 = ev.pool_amount, ev.amounts[0], ev.amounts[1]
        else:
            lo, up = ev.tick_lower, ev.tick_upper
            liq = 0 if t is V3Collect else ev.amount
            a0, a1 = ev.amount0, ev.amount1
        if kind == "mint":
            self.mints += 1
        elif kind == "burn":
            self.burns += 1
        if rows is not None:
            info = self._info(ev.market)
            d0, d1 = info.dec[info.assets[0]], info.dec[info.assets[1]]
            rows.append((step, ev.time_ns, ev.market, ev.party, kind, lo, up, liq, a0, a1,
                         a0 / d0, a1 / d1))

    # ---------------------------------------------------------------- samples
    def sample(self, step: int, sink: Any) -> None:
        """Built-in KPIs and ``amm_pools`` rows of every pool at ``step``; this step's
        volume and fees start again from 0."""
        time_ns = self.protocol.chain.now
        rows = sink.rows("amm_pools")
        for pid, e in self.protocol.pools.items():
            info = self._info(pid)
            core = e.core
            t0, t1 = info.assets[0], info.assets[1]
            d0, d1 = info.dec[t0], info.dec[t1]
            liquidity = tick = None
            if e.kind == "V2":
                r0, r1 = core.reserve0, core.reserve1
                price = info.v2_price(r0, r1)
                liquidity = float(math.isqrt(r0 * r1))
                res0, res1 = r0 / d0, r1 / d1
                tvl = res0 + res1 * price if info.quote == t0 else res0 * price + res1
            elif e.kind == "V3":
                price = info.v3_price(core.sqrt_price_x96)
                liquidity, tick = float(core.liquidity), core.tick
                res0, res1 = core.balance0 / d0, core.balance1 / d1
                tvl = res0 + res1 * price if info.quote == t0 else res0 * price + res1
            else:
                q = info.quote
                price = info.bal_price(_bal_price_in(core, info.base, q, core.swap_fee))
                res0, res1 = core.records[t0].balance / d0, core.records[t1].balance / d1
                tvl = core.records[q].balance / info.dec[q] + sum(
                    core.records[a].balance / info.dec[a] * self._bal_value(info, pid, a)
                    for a in info.assets if a != q)
            values = (("price", price), ("tvl", tvl), ("volume", info.volume),
                      ("fees", info.fees), ("swaps", float(info.swaps)),
                      ("liquidity", liquidity), ("tick", None if tick is None else float(tick)))
            for name, value in values:
                if value is not None:
                    sink.kpi(step, pid, name, value)
            info.volume = info.fees = 0.0
            if rows is not None:
                rows.append((step, time_ns, pid, e.kind, info.base, info.quote, price, res0, res1,
                             liquidity, tick, tvl, info.volume_cum, info.fees_cum))


_LIQUIDITY: dict[type, str] = {
    V2Mint: "mint",
    V2Burn: "burn",
    V3Mint: "mint",
    V3Burn: "burn",
    V3Collect: "collect",
    BalJoin: "mint",
    BalExit: "burn",
}


__all__ = ["BUILTIN_KPIS", "TABLES", "AmmRecording"]
