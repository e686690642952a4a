"""The GraphQL object types of a run, one per recorded table (:mod:`defisim.server.schema`).

Each type's fields are its table's columns (:mod:`defisim.server.data`), camelCased by
GraphQL (``time_ns`` is ``timeNs``). Numbers are the tables' numbers:

- raw integers (the BIGINT and HUGEINT columns: ``timeNs``, raw prices, sizes, fees,
  amounts, balances, liquidity, ids) are decimal **strings**, exact at any size
  (GraphQL's ``Int`` is 32-bit and JSON numbers lose digits past 2**53);
- INTEGER and SMALLINT columns (``step``, ``side``, ``tick``) are ``Int``;
- DOUBLE columns (``priceF``, ``balance``, KPI values) are ``Float``; a NaN or
  infinite value (not valid in JSON) is ``null``.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import Any, TypeVar

from defisim.extras import require

strawberry = require("serve", "strawberry", feature="defisim.server")
JSON = require("serve", "strawberry.scalars", feature="defisim.server").JSON

T = TypeVar("T")


def from_row(cls: type[T], row: dict[str, Any]) -> T:
    """An instance of the GraphQL type ``cls`` from a table row (extra columns ignored):
    ints of string fields become decimal strings, non-finite floats ``None``."""
    kwargs = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in row:
            continue
        v = row[f.name]
        if type(v) is int and f.name in _BIG_NAMES:
            v = str(v)
        elif type(v) is float and not math.isfinite(v):
            v = None
        kwargs[f.name] = v
    return cls(**kwargs)


_BIG_NAMES = frozenset({
    "time_ns", "order_id", "trade_id", "price", "size", "remaining", "expires_at_ns",
    "buyer_fee", "seller_fee", "balance_raw", "amount_in", "amount_out", "liquidity",
    "amount0", "amount1", "block", "seq",
})
"""Integer columns shown as decimal strings (the BIGINT/HUGEINT ones; amm_pools'
``liquidity`` and ``price`` are DOUBLE and stay floats, see :func:`from_row`)."""


@strawberry.type(description="A futures order update: one row of `orders` (one per "
                 "OrderUpdated event). Raw integers are decimal strings.")
class Order:
    step: int
    time_ns: str
    market: str
    order_id: str
    party: str
    side: int = strawberry.field(description="+1 buy, -1 sell")
    order_type: str
    tif: str
    price: str = strawberry.field(description="raw price (decimal_places of the market)")
    price_f: float | None
    size: str = strawberry.field(description="raw size (position_decimal_places)")
    size_f: float | None
    remaining: str
    remaining_f: float | None
    status: str
    reason: str | None
    expires_at_ns: str


@strawberry.type(description="A futures trade: one row of `trades` (one per TradeExecuted).")
class Trade:
    step: int
    time_ns: str
    market: str
    trade_id: str
    price: str
    price_f: float | None
    size: str
    size_f: float | None
    buyer: str
    seller: str
    aggressor: int = strawberry.field(description="+1 buy, -1 sell, 0 auction")
    trade_type: str
    buyer_fee: str = strawberry.field(description="base units of the settlement asset")
    seller_fee: str
    buyer_fee_f: float | None
    seller_fee_f: float | None


@strawberry.type(description="A party's position in a futures market at a step: one row "
                 "of `positions` (every step, every party that has traded there).")
class Position:
    step: int
    time_ns: str
    market: str
    party: str
    position: float | None
    margin: float | None
    general: float | None
    pnl: float | None
    average_entry_price: float | None
    realised_pnl: float | None
    unrealised_pnl: float | None


@strawberry.type(description="The top of a futures order book at a step: a row of "
                 "`book_top` (null sides: empty).")
class BookTop:
    step: int
    time_ns: str
    market: str
    state: str
    best_bid: float | None
    best_ask: float | None
    bid_volume: float | None
    ask_volume: float | None
    mid: float | None
    spread: float | None
    bid_depth: float | None
    ask_depth: float | None
    mark_price: float | None
    indicative_price: float | None
    indicative_volume: float | None


@strawberry.type(description="An account's balance at a sampled step: a row of `accounts`.")
class Account:
    step: int
    time_ns: str
    account_type: str
    owner: str
    asset: str
    market: str = strawberry.field(description="'' for an account of no market")
    balance_raw: str = strawberry.field(description="base units (exact)")
    balance: float | None


@strawberry.type(description="A chain event: a row of `events`.")
class Event:
    seq: str = strawberry.field(description="0, 1, ... in emission order")
    step: int
    block: str
    time_ns: str
    type: str = strawberry.field(description="the event class name")
    market: str | None
    party: str | None
    payload: str = strawberry.field(
        description="the fields after block and time_ns, as the recorded JSON text "
        "(exact integers)")

    @strawberry.field(description="payload parsed (integers past 2**53 may lose digits "
                      "in JavaScript clients: use payload for those)")
    def data(self) -> JSON:
        return json.loads(self.payload)


@strawberry.type(description="A KPI value at a step: a row of `kpis`.")
class Kpi:
    step: int
    time_s: float
    market: str | None = strawberry.field(
        description="the market or pool of a protocol's built-in KPI; null for the "
        "scenario's KPIs")
    name: str
    value: float | None


@strawberry.type(description="An AMM swap: a row of `amm_swaps`.")
class Swap:
    step: int
    time_ns: str
    pool: str
    party: str
    asset_in: str
    asset_out: str
    amount_in: str
    amount_out: str
    amount_in_f: float | None
    amount_out_f: float | None
    price: float | None
    fee_f: float | None


@strawberry.type(description="A liquidity change of an AMM pool: a row of `amm_liquidity`.")
class LiquidityChange:
    step: int
    time_ns: str
    pool: str
    party: str
    kind: str
    tick_lower: int | None
    tick_upper: int | None
    liquidity: str
    amount0: str
    amount1: str
    amount0_f: float | None
    amount1_f: float | None


@strawberry.type(description="An AMM pool's state at a step: a row of `amm_pools`.")
class PoolState:
    step: int
    time_ns: str
    pool: str
    kind: str
    base: str
    quote: str
    price: float | None
    reserve0_f: float | None
    reserve1_f: float | None
    liquidity: float | None
    tick: int | None
    tvl: float | None
    volume_cum: float | None
    fees_cum: float | None


@strawberry.type(description="The run: its scenario, parameters and summary.")
class Run:
    scenario: str | None
    seed: int | None
    params: JSON
    summary: JSON | None
    complete: bool
    problems: list[str]
    last_step: int | None
    tables: list[str]
    truncated_before: JSON = strawberry.field(
        default_factory=dict,
        description="rows dropped per table by a live source's cap (oldest first; "
                    "offsets count the rows kept); {} for a recorded run")

