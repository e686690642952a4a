"""The read-only GraphQL schema over a run (strawberry): markets, orders, trades,
positions, accounts, pools, swaps, events and KPIs, with filters and pagination.

Only a ``Query`` type: there is no ``Mutation`` (a mutation is a GraphQL validation
error) and no ``Subscription`` yet. Resolvers read a :class:`~defisim.server.data.RunData`
from the context (``info.context["data"]``), so the same schema serves a recorded run
folder and, later, a live simulation.

Lists are pages: ``offset`` (default 0) and ``limit`` (default :data:`DEFAULT_LIMIT`,
at most :data:`MAX_LIMIT`; outside ``1..MAX_LIMIT`` it is a GraphQL error), in recording
order; a page has ``items``, ``hasMore`` and ``total`` (counted only when asked for).
Filters are the columns users look for (``market``, ``party``, ``type``, ``name``,
``status``, ...) and a ``window`` of steps and simulated seconds. Numbers: see
:mod:`defisim.server.types` (raw integers are decimal strings).

Cost limits (validation errors, before anything runs): query depth
:data:`MAX_DEPTH` (introspection not counted), :data:`MAX_ALIASES` aliases,
:data:`MAX_TOKENS` tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from defisim.extras import require

from .data import RunData, Where
from .types import (
    JSON,
    Account,
    BookTop,
    Event,
    Kpi,
    LiquidityChange,
    Order,
    PoolState,
    Position,
    Run,
    Swap,
    Trade,
    from_row,
)

strawberry = require("serve", "strawberry", feature="defisim.server")
_ext = require("serve", "strawberry.extensions", feature="defisim.server")

DEFAULT_LIMIT = 100
"""Rows per page when ``limit`` is not given."""
MAX_LIMIT = 1000
"""The largest ``limit`` a page may ask for."""
MAX_DEPTH = 6
"""The deepest selection a query may have (``{markets{trades{items{price}}}}`` is 4, the
deepest the schema has now; the limit guards future nesting)."""
MAX_ALIASES = 20
"""Aliases per query (each may ask for a page of :data:`MAX_LIMIT` rows)."""
MAX_TOKENS = 4000
"""Tokens per query document."""

T = TypeVar("T")


@strawberry.input(description="Steps and simulated seconds, both ends included; "
                  "unset ends are open.")
class Window:
    from_step: int | None = None
    to_step: int | None = None
    from_time: float | None = strawberry.field(default=None, description="seconds")
    to_time: float | None = strawberry.field(default=None, description="seconds")


@strawberry.type(description="A page of rows in recording order.")
class Page(Generic[T]):
    items: list[T]
    offset: int
    limit: int
    has_more: bool = strawberry.field(description="rows follow this page")
    count: strawberry.Private[Callable[[], int]]

    @strawberry.field(description="rows meeting the filters, over all pages")
    def total(self) -> int:
        return self.count()


def _data(info: Any) -> RunData:
    return info.context["data"]


def _where(window: Window | None = None, latest: bool = False,
           any_equal: tuple = (), **equal: Any) -> Where:
    w = window or Window()
    return Where(
        equal={k: v for k, v in equal.items() if v is not None},
        any_equal=tuple((cols, v) for cols, v in any_equal if v is not None),
        step_from=w.from_step, step_to=w.to_step,
        time_from_s=w.from_time, time_to_s=w.to_time, latest=latest,
    )


def _page(info: Any, table: str, cls: type[T], where: Where, offset: int,
          limit: int) -> Page[T]:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, got {offset}")
    data = _data(info)
    rows = data.rows(table, where, offset, limit + 1)  # one more: is there a next page?
    return Page(items=[from_row(cls, r) for r in rows[:limit]], offset=offset, limit=limit,
                has_more=len(rows) > limit, count=lambda: data.count(table, where))


@strawberry.type(description="A futures market: its configuration (MarketCreated) and its "
                 "last recorded state; its rows through the paged fields.")
class Market:
    id: str
    asset: str | None
    config: JSON = strawberry.field(description="the MarketConfig as created")
    decimal_places: int | None
    position_decimal_places: int | None
    state: str | None = strawberry.field(description="at the last recorded step")
    mark_price: float | None = strawberry.field(description="the last mark price set")
    best_bid: float | None
    best_ask: float | None
    last_step: int | None
    trade_count: int
    volume: float = strawberry.field(description="sum of the trades' sizes (contracts)")
    settlement_price: str | None = strawberry.field(description="raw, when settled")

    @strawberry.field
    def trades(self, info: strawberry.Info, party: str | None = None,
               window: Window | None = None, offset: int = 0,
               limit: int = DEFAULT_LIMIT) -> Page[Trade]:
        return _page(info, "trades", Trade, _where(
            window, market=self.id, any_equal=((("buyer", "seller"), party),)), offset, limit)

    @strawberry.field
    def orders(self, info: strawberry.Info, party: str | None = None,
               status: str | None = None, window: Window | None = None, offset: int = 0,
               limit: int = DEFAULT_LIMIT) -> Page[Order]:
        return _page(info, "orders", Order, _where(
            window, market=self.id, party=party, status=status), offset, limit)

    @strawberry.field
    def positions(self, info: strawberry.Info, party: str | None = None,
                  latest: bool = False, window: Window | None = None, offset: int = 0,
                  limit: int = DEFAULT_LIMIT) -> Page[Position]:
        return _page(info, "positions", Position, _where(
            window, latest, market=self.id, party=party), offset, limit)

    @strawberry.field
    def book(self, info: strawberry.Info, window: Window | None = None, offset: int = 0,
             limit: int = DEFAULT_LIMIT) -> Page[BookTop]:
        return _page(info, "book_top", BookTop, _where(window, market=self.id), offset, limit)


def _market(m: dict[str, Any]) -> Market:
    cfg = m["config"] or {}
    settled = m["settlement_price"]
    return Market(
        id=m["id"], asset=m["asset"], config=cfg, decimal_places=cfg.get("decimal_places"),
        position_decimal_places=cfg.get("position_decimal_places"), state=m["state"],
        mark_price=m["mark_price"], best_bid=m["best_bid"], best_ask=m["best_ask"],
        last_step=m["last_step"], trade_count=m["trades"], volume=m["volume"],
        settlement_price=None if settled is None else str(settled),
    )


@strawberry.type(description="An AMM pool: its creation (AmmPoolCreated) and last "
                 "recorded state; its rows through the paged fields.")
class Pool:
    id: str
    kind: str | None = strawberry.field(description="V2, V3 or BAL")
    assets: list[str]
    lp_asset: str | None
    fee: float | None
    swap_count: int
    state: PoolState | None = strawberry.field(description="the last amm_pools row")

    @strawberry.field
    def swaps(self, info: strawberry.Info, party: str | None = None,
              window: Window | None = None, offset: int = 0,
              limit: int = DEFAULT_LIMIT) -> Page[Swap]:
        return _page(info, "amm_swaps", Swap, _where(window, pool=self.id, party=party),
                     offset, limit)

    @strawberry.field
    def states(self, info: strawberry.Info, window: Window | None = None, offset: int = 0,
               limit: int = DEFAULT_LIMIT) -> Page[PoolState]:
        return _page(info, "amm_pools", PoolState, _where(window, pool=self.id), offset, limit)


def _pool(p: dict[str, Any]) -> Pool:
    last = p["last"]
    return Pool(id=p["id"], kind=p["kind"], assets=p["assets"], lp_asset=p["lp_asset"],
                fee=p["fee"], swap_count=p["swaps"],
                state=None if last is None else from_row(PoolState, last))


@strawberry.type(description="A recorded run of defisim, read-only.")
class Query:
    @strawberry.field
    def run(self, info: strawberry.Info) -> Run:
        i = _data(info).info()
        return Run(scenario=i["scenario"], seed=i["seed"], params=i["params"],
                   summary=i["summary"], complete=i["complete"], problems=i["problems"],
                   last_step=i["last_step"], tables=i["tables"],
                   truncated_before=i.get("truncated_before", {}))

    @strawberry.field(description="The futures markets, in creation order.")
    def markets(self, info: strawberry.Info) -> list[Market]:
        return [_market(m) for m in _data(info).markets()]

    @strawberry.field
    def market(self, info: strawberry.Info, id: str) -> Market | None:
        return next((_market(m) for m in _data(info).markets() if m["id"] == id), None)

    @strawberry.field
    def orders(self, info: strawberry.Info, market: str | None = None,
               party: str | None = None, status: str | None = None,
               order_id: int | None = None, window: Window | None = None, offset: int = 0,
               limit: int = DEFAULT_LIMIT) -> Page[Order]:
        return _page(info, "orders", Order, _where(
            window, market=market, party=party, status=status, order_id=order_id),
            offset, limit)

    @strawberry.field(description="Trades; `party` matches the buyer or the seller.")
    def trades(self, info: strawberry.Info, market: str | None = None,
               party: str | None = None, trade_type: str | None = None,
               window: Window | None = None, offset: int = 0,
               limit: int = DEFAULT_LIMIT) -> Page[Trade]:
        return _page(info, "trades", Trade, _where(
            window, market=market, trade_type=trade_type,
            any_equal=((("buyer", "seller"), party),)), offset, limit)

    @strawberry.field(description="Positions per step; `latest`: only the last step's.")
    def positions(self, info: strawberry.Info, market: str | None = None,
                  party: str | None = None, latest: bool = False,
                  window: Window | None = None, offset: int = 0,
                  limit: int = DEFAULT_LIMIT) -> Page[Position]:
        return _page(info, "positions", Position, _where(
            window, latest, market=market, party=party), offset, limit)

    @strawberry.field(description="Book tops per step and market.")
    def book(self, info: strawberry.Info, market: str | None = None,
             window: Window | None = None, offset: int = 0,
             limit: int = DEFAULT_LIMIT) -> Page[BookTop]:
        return _page(info, "book_top", BookTop, _where(window, market=market), offset, limit)

    @strawberry.field(description="Sampled balances; `latest`: only the last sample's.")
    def accounts(self, info: strawberry.Info, owner: str | None = None,
                 asset: str | None = None, account_type: str | None = None,
                 market: str | None = None, latest: bool = False,
                 window: Window | None = None, offset: int = 0,
                 limit: int = DEFAULT_LIMIT) -> Page[Account]:
        return _page(info, "accounts", Account, _where(
            window, latest, owner=owner, asset=asset, account_type=account_type,
            market=market), offset, limit)

    @strawberry.field(description="The AMM pools, in creation order.")
    def pools(self, info: strawberry.Info) -> list[Pool]:
        return [_pool(p) for p in _data(info).pools()]

    @strawberry.field
    def pool(self, info: strawberry.Info, id: str) -> Pool | None:
        return next((_pool(p) for p in _data(info).pools() if p["id"] == id), None)

    @strawberry.field
    def swaps(self, info: strawberry.Info, pool: str | None = None, party: str | None = None,
              window: Window | None = None, offset: int = 0,
              limit: int = DEFAULT_LIMIT) -> Page[Swap]:
        return _page(info, "amm_swaps", Swap, _where(window, pool=pool, party=party),
                     offset, limit)

    @strawberry.field
    def liquidity_changes(self, info: strawberry.Info, pool: str | None = None,
                          party: str | None = None, kind: str | None = None,
                          window: Window | None = None, offset: int = 0,
                          limit: int = DEFAULT_LIMIT) -> Page[LiquidityChange]:
        return _page(info, "amm_liquidity", LiquidityChange, _where(
            window, pool=pool, party=party, kind=kind), offset, limit)

    @strawberry.field
    def pool_states(self, info: strawberry.Info, pool: str | None = None,
                    latest: bool = False, window: Window | None = None, offset: int = 0,
                    limit: int = DEFAULT_LIMIT) -> Page[PoolState]:
        return _page(info, "amm_pools", PoolState, _where(window, latest, pool=pool),
                     offset, limit)

    @strawberry.field(description="Chain events; `type` is the event class name.")
    def events(self, info: strawberry.Info, type: str | None = None,
               market: str | None = None, party: str | None = None,
               window: Window | None = None, offset: int = 0,
               limit: int = DEFAULT_LIMIT) -> Page[Event]:
        return _page(info, "events", Event, _where(
            window, type=type, market=market, party=party), offset, limit)

    @strawberry.field(description="KPI values; `scenarioOnly`: only the scenario's own "
                      "(no market), else `market` picks a protocol's built-ins.")
    def kpis(self, info: strawberry.Info, name: str | None = None,
             market: str | None = None, scenario_only: bool = False,
             window: Window | None = None, offset: int = 0,
             limit: int = DEFAULT_LIMIT) -> Page[Kpi]:
        where = _where(window, name=name, market=market)
        if scenario_only:
            if market is not None:
                raise ValueError("give market or scenarioOnly, not both")
            where = Where(**{**where.__dict__, "equal": {**where.equal, "market": None}})
        return _page(info, "kpis", Kpi, where, offset, limit)


class _Schema(strawberry.Schema):
    """Logs only unexpected errors: a user's bad query or argument (a validation error,
    a ``ValueError`` of a resolver) is the user's answer, not the server's problem."""

    def process_errors(self, errors: list, execution_context: Any = None) -> None:
        unexpected = [e for e in errors if e.original_error is not None
                      and not isinstance(e.original_error, ValueError)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema() -> Any:
    """The schema (a ``strawberry.Schema``: Query only, with the cost limits above).

    Execute with ``context_value={"data": run_data}`` (a :class:`RunData`).
    """
    return _Schema(
        query=Query,
        extensions=[
            # factories: a fresh extension per request (strawberry >= 0.341)
            lambda: _ext.QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: _ext.MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: _ext.MaxTokensLimiter(max_token_count=MAX_TOKENS),
        ],
    )
