"""Recording a run into the run store: every event, trades, orders and per-step samples.

The :class:`Recorder` is called by the runner once per step, after the block has
closed. It drains the chain's events, turns them into rows of the ``events``,
``trades`` and ``orders`` tables, samples the books, positions, accounts and
KPIs, and hands everything to :class:`defisim.store.RunStore`, which buffers
rows and writes them in batches. With ``store=None`` it only counts (a run with
``record=False`` still reports trades, orders and final KPIs).

Tables (DuckDB types; ``*_f`` columns are human floats, the others raw integers):

``events``
    ``seq BIGINT`` (0, 1, ... in emission order), ``step INTEGER``, ``block BIGINT``,
    ``time_ns BIGINT``, ``type VARCHAR`` (event class name), ``market VARCHAR``
    (NULL if the event has none), ``party VARCHAR`` (the ``party`` field, the owner
    of a ``Minted``/``Burned`` account, else NULL), ``payload VARCHAR`` (JSON object
    of the fields after ``block`` and ``time_ns``; account keys are arrays).
``trades``
    one row per ``TradeExecuted``: ``step, time_ns, market, trade_id, price, price_f,
    size, size_f, buyer, seller, aggressor (+1 buy, -1 sell, 0 auction), trade_type,
    buyer_fee, seller_fee`` (base units of the settlement asset) ``, buyer_fee_f,
    seller_fee_f``.
``orders``
    one row per ``OrderUpdated``: ``step, time_ns, market, order_id, party, side,
    order_type, tif, price, price_f, size, size_f, remaining, remaining_f, status,
    reason, expires_at_ns``.
``book_top``
    per step per market: ``step, time_ns, market, state, best_bid, best_ask`` (NULL
    when the side is empty) ``, bid_volume, ask_volume, mid, spread, bid_depth,
    ask_depth`` (volume within the top ``depth_levels`` levels) ``, mark_price``
    (NULL before the first mark) ``, indicative_price, indicative_volume`` (NULL
    outside auctions).
``positions``
    per step per market per party that has traded in the market (so parties whose
    position went back to 0 keep a row): ``step, time_ns, market, party, position,
    margin, general, pnl`` (pnl = equity minus everything minted to the party in
    the settlement asset: the definition of :meth:`Simulation.pnl`) ``,
    average_entry_price, realised_pnl, unrealised_pnl`` (the position's own
    accounting at the mark price, fees excluded; the network party included).
``accounts``
    every ``accounts_every`` steps (and at the final record), every account that
    ever held money: ``step, time_ns, account_type, owner, asset, market,
    balance_raw HUGEINT, balance DOUBLE``.
``kpis``
    long format, per step: ``step, time_s, market, name, value``. ``market`` is NULL
    for the scenario's KPIs (:meth:`Scenario.kpis`) and the market id for the
    built-ins (``mark_price``, ``best_bid``, ``best_ask``, ``mid``, ``spread``,
    ``open_interest``, ``volume``, ``trades``, ``insurance_pool``, ``closeouts``).
    ``None``/NaN values are not recorded.

The final record (after ``Scenario.finish`` and the agents' ``finalise``) has
``step`` = the number of steps run.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import fields
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from defisim.chain import NS_PER_SECOND
from defisim.protocols.futures import MarketState, OrderUpdated, TradeExecuted

if TYPE_CHECKING:
    from defisim.service import Simulation

SCHEMAS: dict[str, dict[str, str]] = {
    "events": {
        "seq": "BIGINT",
        "step": "INTEGER",
        "block": "BIGINT",
        "time_ns": "BIGINT",
        "type": "VARCHAR",
        "market": "VARCHAR",
        "party": "VARCHAR",
        "payload": "VARCHAR",
    },
    "trades": {
        "step": "INTEGER",
        "time_ns": "BIGINT",
        "market": "VARCHAR",
        "trade_id": "BIGINT",
        "price": "BIGINT",
        "price_f": "DOUBLE",
        "size": "BIGINT",
        "size_f": "DOUBLE",
        "buyer": "VARCHAR",
        "seller": "VARCHAR",
        "aggressor": "SMALLINT",
        "trade_type": "VARCHAR",
        "buyer_fee": "HUGEINT",
        "seller_fee": "HUGEINT",
        "buyer_fee_f": "DOUBLE",
        "seller_fee_f": "DOUBLE",
    },
    "orders": {
        "step": "INTEGER",
        "time_ns": "BIGINT",
        "market": "VARCHAR",
        "order_id": "BIGINT",
        "party": "VARCHAR",
        "side": "SMALLINT",
        "order_type": "VARCHAR",
        "tif": "VARCHAR",
        "price": "BIGINT",
        "price_f": "DOUBLE",
        "size": "BIGINT",
        "size_f": "DOUBLE",
        "remaining": "BIGINT",
        "remaining_f": "DOUBLE",
        "status": "VARCHAR",
        "reason": "VARCHAR",
        "expires_at_ns": "BIGINT",
    },
    "book_top": {
        "step": "INTEGER",
        "time_ns": "BIGINT",
        "market": "VARCHAR",
        "state": "VARCHAR",
        "best_bid": "DOUBLE",
        "best_ask": "DOUBLE",
        "bid_volume": "DOUBLE",
        "ask_volume": "DOUBLE",
        "mid": "DOUBLE",
        "spread": "DOUBLE",
        "bid_depth": "DOUBLE",
        "ask_depth": "DOUBLE",
        "mark_price": "DOUBLE",
        "indicative_price": "DOUBLE",
        "indicative_volume": "DOUBLE",
    },
    "positions": {
        "step": "INTEGER",
        "time_ns": "BIGINT",
        "market": "VARCHAR",
        "party": "VARCHAR",
        "position": "DOUBLE",
        "margin": "DOUBLE",
        "general": "DOUBLE",
        "pnl": "DOUBLE",
        "average_entry_price": "DOUBLE",
        "realised_pnl": "DOUBLE",
        "unrealised_pnl": "DOUBLE",
    },
    "accounts": {
        "step": "INTEGER",
        "time_ns": "BIGINT",
        "account_type": "VARCHAR",
        "owner": "VARCHAR",
        "asset": "VARCHAR",
        "market": "VARCHAR",
        "balance_raw": "HUGEINT",
        "balance": "DOUBLE",
    },
    "kpis": {
        "step": "INTEGER",
        "time_s": "DOUBLE",
        "market": "VARCHAR",
        "name": "VARCHAR",
        "value": "DOUBLE",
    },
}
"""Column names and DuckDB types of every table the recorder writes."""

_EQUITY_TYPES = frozenset({"general", "margin", "bond"})
_AUCTION_STATES = frozenset({MarketState.PENDING, MarketState.SUSPENDED})

# ----------------------------------------------------------------- event encoding
_json_encode = json.JSONEncoder(
    separators=(",", ":"), check_circular=False, ensure_ascii=False
).encode


def _str_tuple(v: tuple) -> str:
    """A tuple of strings (an account key) as a JSON array; TypeError for anything else."""
    if type(v) is not tuple:
        raise TypeError("not a tuple")
    return "[" + ",".join([encode_basestring(x) for x in v]) + "]"


class _TupleCache(dict):
    """Encoded account keys: a run has few accounts and each appears in many events."""

    def __missing__(self, key: tuple) -> str:
        text = _str_tuple(key)
        if len(self) < 200_000:
            self[key] = text
        return text


_TUPLES = _TupleCache()


def _owner(account: Any) -> str | None:
    """The owner of an account key tuple ``(type, owner, asset, market)``, or None."""
    if type(account) is tuple and len(account) > 1 and isinstance(account[1], str):
        return account[1] or None
    return None


_json_safe = json.JSONEncoder(
    separators=(",", ":"), check_circular=False, ensure_ascii=False, default=repr
).encode


class _EventCodec:
    """How to turn one event class into an ``events`` row, compiled once per class.

    ``row(seq, step, event)`` is a generated function that returns the whole row;
    its payload is an f-string building the JSON object text directly
    (``encode_basestring`` for ``str`` fields, ``:d`` for ``int`` fields, cached
    arrays for ``tuple`` fields of strings, the account keys): about 1 us per
    event, a third of ``json.dumps`` of a dict. A field of another declared type
    goes through :mod:`json`; an event whose values do not fit their declared
    types goes through :meth:`slow_row` (``json`` with ``repr`` for the
    unknown).
    """

    __slots__ = ("type_name", "names", "row", "market_of", "party_of")

    def __init__(self, cls: type) -> None:
        self.type_name = cls.__name__
        flds = list(fields(cls))[2:]  # after block, time_ns
        self.names = tuple(f.name for f in flds)
        parts = []
        for f in flds:
            ann = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            key = json.dumps(f.name).replace("{", "{{").replace("}", "}}").replace("'", "\\'")
            if ann == "str":
                parts.append(f"{key}:{{_s(e.{f.name})}}")
            elif ann == "int":
                parts.append(f"{key}:{{e.{f.name}:d}}")
            elif ann == "tuple":
                parts.append(f"{key}:{{_t(e.{f.name})}}")
            else:
                parts.append(f"{key}:{{_j(e.{f.name})}}")
        names = set(self.names)
        self.market_of = "market" in names
        self.party_of = "party" if "party" in names else "account" if "account" in names else None
        market = "(e.market or None)" if self.market_of else "None"
        party = {"party": "(e.party or None)", "account": "_o(e.account)"}.get(
            self.party_of or "", "None"
        )
        body = ",".join(parts)
        src = (
            f"def row(seq, step, e):\n"
            f"    return (seq, step, e.block, e.time_ns, {self.type_name!r}, {market}, {party}, "
            f"f'{{{{{body}}}}}')\n"
        )
        ns: dict[str, Any] = {
            "_s": encode_basestring,
            "_j": _json_encode,
            "_t": _TUPLES.__getitem__,
            "_o": _owner,
        }
        exec(compile(src, f"<events row {cls.__name__}>", "exec"), ns)  # noqa: S102
        self.row: Callable[[int, int, Any], tuple] = ns["row"]

    def slow_row(self, seq: int, step: int, ev: Any) -> tuple:
        """The row of an event whose values do not fit their declared types."""
        market = getattr(ev, "market", None) if self.market_of else None
        if self.party_of == "party":
            party = getattr(ev, "party", None)
        elif self.party_of == "account":
            party = _owner(getattr(ev, "account", None))
        else:
            party = None
        return (
            seq,
            step,
            ev.block,
            ev.time_ns,
            self.type_name,
            market if isinstance(market, str) and market else None,
            party if isinstance(party, str) and party else None,
            _json_safe({n: getattr(ev, n) for n in self.names}),
        )


# --------------------------------------------------------------------- recorder
class _MarketInfo:
    __slots__ = ("market", "asset", "pf", "sf", "mf", "traded")

    def __init__(self, sim: Simulation, market_id: str) -> None:
        m = sim.futures.internal_market(market_id)
        self.market = m
        self.asset = m.asset
        self.pf = 10**m.config.decimal_places
        self.sf = m.position_factor
        self.mf = 10 ** sim.chain.ledger.asset(m.asset).decimals
        self.traded: dict[str, None] = {}  # parties seen in trades, in first-seen order


class Recorder:
    """Turns a running simulation into rows of the run store (see the module docstring).

    Args:
        store: an open :class:`defisim.store.RunStore`, or ``None`` to only count.
        accounts_every: record the ``accounts`` table every this many steps (0: only
            at the final record; negative: never).
        depth_levels: levels per side summed into ``book_top.bid_depth/ask_depth``.

    Attributes:
        counts: events per event class name.
        trades, order_updates, orders: trades, ``OrderUpdated`` events and distinct
            order ids seen.
        last_kpis: the latest value of every KPI (``name`` for the scenario's,
            ``market.name`` for the built-ins).
    """

    def __init__(self, store: Any | None, accounts_every: int = 1, depth_levels: int = 10) -> None:
        self.store = store
        self.accounts_every = accounts_every
        self.depth_levels = depth_levels
        self.seq = 0
        self.counts: dict[str, int] = {}
        self.trades = 0
        self.order_updates = 0
        self._order_ids: set[int] = set()
        self.last_kpis: dict[str, float] = {}
        self._codecs: dict[type, _EventCodec] = {}
        self._markets: dict[str, _MarketInfo] = {}
        self._buf: dict[str, list[tuple]] = {name: [] for name in SCHEMAS}
        if store is not None:
            for name, cols in SCHEMAS.items():
                store.declare(name, cols)

    @property
    def orders(self) -> int:
        return len(self._order_ids)

    @property
    def events(self) -> int:
        return self.seq

    # ----------------------------------------------------------------- events
    def _info(self, sim: Simulation, market_id: str) -> _MarketInfo:
        info = self._markets.get(market_id)
        if info is None:
            info = self._markets[market_id] = _MarketInfo(sim, market_id)
        return info

    def record_events(self, step: int, events: list, sim: Simulation) -> None:
        """Rows for ``events`` (drained from the chain, in emission order) in ``step``."""
        if not events:
            return
        codecs = self._codecs
        counts = self.counts
        for cls, n in Counter(map(type, events)).items():
            codec = codecs.get(cls)
            if codec is None:
                codec = codecs[cls] = _EventCodec(cls)
            counts[codec.type_name] = counts.get(codec.type_name, 0) + n
        trades = [ev for ev in events if type(ev) is TradeExecuted]
        orders = [ev for ev in events if type(ev) is OrderUpdated]
        if trades:
            self._record_trades(step, trades, sim)
        if orders:
            self._record_orders(step, orders, sim)
        seq = self.seq
        if self.store is not None:
            rows = self._buf["events"]
            append = rows.append
            for ev in events:
                codec = codecs[type(ev)]
                try:
                    append(codec.row(seq, step, ev))
                except (TypeError, ValueError, AttributeError):
                    append(codec.slow_row(seq, step, ev))
                seq += 1
        else:
            seq += len(events)
        self.seq = seq

    def _record_trades(self, step: int, trades: list, sim: Simulation) -> None:
        self.trades += len(trades)
        rows = self._buf["trades"]
        store = self.store
        for ev in trades:
            info = self._info(sim, ev.market)
            info.traded[ev.buyer] = None
            info.traded[ev.seller] = None
            if store is not None:
                pf, sf, mf = info.pf, info.sf, info.mf
                rows.append(
                    (
                        step,
                        ev.time_ns,
                        ev.market,
                        ev.trade_id,
                        ev.price,
                        ev.price / pf,
                        ev.size,
                        ev.size / sf,
                        ev.buyer,
                        ev.seller,
                        int(ev.aggressor),
                        str(ev.trade_type),
                        ev.buyer_fee,
                        ev.seller_fee,
                        ev.buyer_fee / mf,
                        ev.seller_fee / mf,
                    )
                )

    def _record_orders(self, step: int, orders: list, sim: Simulation) -> None:
        self.order_updates += len(orders)
        self._order_ids.update([ev.order_id for ev in orders])
        if self.store is None:
            return
        rows = self._buf["orders"]
        for ev in orders:
            info = self._info(sim, ev.market)
            pf, sf = info.pf, info.sf
            rows.append(
                (
                    step,
                    ev.time_ns,
                    ev.market,
                    ev.order_id,
                    ev.party,
                    int(ev.side),
                    str(ev.order_type),
                    str(ev.tif),
                    ev.price,
                    ev.price / pf,
                    ev.size,
                    ev.size / sf,
                    ev.remaining,
                    ev.remaining / sf,
                    str(ev.status),
                    str(ev.reason),
                    ev.expires_at,
                )
            )

    # ---------------------------------------------------------------- samples
    def record_step(
        self,
        step: int,
        sim: Simulation,
        scenario_kpis: dict[str, float] | None,
        final: bool = False,
    ) -> None:
        """Drain the events, then sample books, positions, accounts and KPIs at ``step``.

        ``final`` forces the ``accounts`` sample (the last record of a run).
        """
        self.record_events(step, sim.drain_events(), sim)
        time_ns = sim.chain.now
        time_s = time_ns / NS_PER_SECOND
        store = self.store
        kpi_rows = self._buf["kpis"]
        last = self.last_kpis
        ledger = sim.chain.ledger
        balances = ledger.balances
        markets = sim.futures.markets
        equity: dict[tuple[str, str], int] | None = None
        if scenario_kpis:
            for name, value in scenario_kpis.items():
                if value is None:
                    continue
                v = float(value)
                if math.isnan(v):
                    continue
                last[name] = v
                if store is not None:
                    kpi_rows.append((step, time_s, None, name, v))
        for mid in markets:
            info = self._info(sim, mid)
            m = info.market
            pf, sf, mf = info.pf, info.sf, info.mf
            book = m.book
            b, a = book.best_bid(), book.best_ask()
            bid = None if b is None else b / pf
            ask = None if a is None else a / pf
            mid_p = spread = None
            if b is not None and a is not None:
                mid_p = (bid + ask) / 2
                spread = ask - bid
            mark = m.mark_price / pf if m.mark_price else None
            oi = m.open_interest() / sf
            insurance = balances.get(m.insurance_key, 0) / mf
            builtins = (
                ("mark_price", mark),
                ("best_bid", bid),
                ("best_ask", ask),
                ("mid", mid_p),
                ("spread", spread),
                ("open_interest", oi),
                ("volume", m.volume_traded / sf),
                ("trades", float(m.trade_seq)),
                ("insurance_pool", insurance),
                ("closeouts", float(m.closeouts)),
            )
            for name, value in builtins:
                if value is not None:
                    last[f"{mid}.{name}"] = value
                    if store is not None:
                        kpi_rows.append((step, time_s, mid, name, value))
            if store is None:
                continue
            bids, asks = book.depth(self.depth_levels)
            ind_p = ind_v = None
            if m.state in _AUCTION_STATES:
                p, v = m.indicative()
                ind_p = p / pf if v else None
                ind_v = v / sf
            self._buf["book_top"].append(
                (
                    step,
                    time_ns,
                    mid,
                    str(m.state),
                    bid,
                    ask,
                    book.best_bid_volume() / sf,
                    book.best_ask_volume() / sf,
                    mid_p,
                    spread,
                    sum(v for _, v in bids) / sf,
                    sum(v for _, v in asks) / sf,
                    mark,
                    ind_p,
                    ind_v,
                )
            )
            if info.traded:
                if equity is None:
                    equity = {}
                    for key, bal in balances.items():
                        if key[0] in _EQUITY_TYPES:
                            ok = (key[1], key[2])
                            equity[ok] = equity.get(ok, 0) + bal
                minted = ledger.minted_to
                asset = info.asset
                pos_rows = self._buf["positions"]
                parties = m.parties
                money = m.price_factor / sf / mf  # raw price x raw size -> asset units
                for party in info.traded:
                    ps = parties.get(party)
                    if ps is None:
                        continue
                    pnl = equity.get((party, asset), 0) - minted.get((party, asset), 0)
                    pos_rows.append(
                        (
                            step,
                            time_ns,
                            mid,
                            party,
                            ps.position / sf,
                            balances.get(ps.margin_key, 0) / mf,
                            balances.get(ps.general_key, 0) / mf,
                            pnl / mf,
                            ps.average_entry_price() / pf,
                            ps.realised_pnl() * money,
                            ps.unrealised(m.mark_price) * money,
                        )
                    )
        every = self.accounts_every
        if store is not None and every >= 0 and (final or (every > 0 and step % every == 0)):
            acc = self._buf["accounts"]
            decimals = {a: 10**x.decimals for a, x in ledger.assets.items()}
            for (typ, owner, asset, market), bal in balances.items():
                acc.append((step, time_ns, typ, owner, asset, market, bal, bal / decimals[asset]))
        if store is not None and sum(map(len, self._buf.values())) >= self.HAND_OVER_ROWS:
            self._hand_over()

    HAND_OVER_ROWS = 8192
    """Rows buffered here before they are handed to the store (fewer, larger calls)."""

    def _hand_over(self) -> None:
        store = self.store
        for name, rows in self._buf.items():
            if rows:
                store.append_many(name, rows)
                self._buf[name] = []

    def close(self) -> None:
        """Hand over what is buffered and flush the store (it stays open)."""
        if self.store is not None:
            self._hand_over()
            self.store.flush()
