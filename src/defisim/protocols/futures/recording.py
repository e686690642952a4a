"""What the futures protocol records into a run's store: its tables and built-in KPIs.

The runner's recorder (:mod:`defisim.runner.recorder`) writes the chain's tables
(``events``, ``accounts``, ``kpis``) and asks every protocol for its
:meth:`~defisim.chain.ChainProtocol.recording`; this is the futures protocol's.

Tables (DuckDB types; ``*_f`` columns are human floats, the others raw integers):

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
    the settlement asset: the definition of ``Simulation.pnl``) ``,
    average_entry_price, realised_pnl, unrealised_pnl`` (the position's own
    accounting at the mark price, fees excluded; the network party included).

Built-in KPIs per market (``kpis`` rows with the market id): ``mark_price``,
``best_bid``, ``best_ask``, ``mid``, ``spread``, ``open_interest``, ``volume``,
``trades``, ``insurance_pool``, ``closeouts``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .events import OrderUpdated, TradeExecuted
from .types import MarketState

if TYPE_CHECKING:
    from .protocol import FuturesProtocol

TABLES: dict[str, dict[str, str]] = {
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
}
"""Column names and DuckDB types of the futures tables."""

BUILTIN_KPIS: tuple[str, ...] = (
    "mark_price",
    "best_bid",
    "best_ask",
    "mid",
    "spread",
    "open_interest",
    "volume",
    "trades",
    "insurance_pool",
    "closeouts",
)
"""The built-in KPIs :meth:`FuturesRecording.sample` records per market (a KPI without
a value at a step, such as the spread of a one-sided book, is left out there)."""

_AUCTION_STATES = frozenset({MarketState.PENDING, MarketState.SUSPENDED})
_EQUITY_TYPES = frozenset({"general", "margin", "bond"})


class _MarketInfo:
    # no reference to the market object: a bundle's revert replaces it
    __slots__ = ("asset", "pf", "sf", "mf", "traded")

    def __init__(self, protocol: FuturesProtocol, market_id: str) -> None:
        m = protocol.markets[market_id]
        self.asset = m.asset
        self.pf = 10**m.config.decimal_places
        self.sf = m.position_factor
        self.mf = 10 ** protocol.chain.ledger.asset(m.asset).decimals
        self.traded: dict[str, None] = {}  # parties seen in trades, in first-seen order


class IdSet:
    """A set of ints that counts its distinct members (``len``), in one bit per id for
    the ids a counter hands out (0, 1, 2, ...; a run's order ids): a run of a million
    orders takes 125 kB, where a ``set`` takes about 50 MB. Ids far beyond the largest
    seen so far, and negative ones, go to a plain set."""

    __slots__ = ("_bits", "_count", "_other")

    GROW = 1 << 16
    """Bytes the bitmap may grow by for one new id (a larger id goes to the plain set)."""

    def __init__(self) -> None:
        self._bits = bytearray()
        self._count = 0
        self._other: set[int] = set()

    def __len__(self) -> int:
        return self._count + len(self._other)

    def __contains__(self, i: int) -> bool:
        if 0 <= i < len(self._bits) * 8:
            return bool(self._bits[i >> 3] & (1 << (i & 7)))
        return i in self._other

    def update(self, ids) -> None:
        """Add every id of ``ids`` (ints)."""
        bits = self._bits
        for i in ids:
            byte = i >> 3
            if i < 0 or byte >= len(bits) + self.GROW:
                self._other.add(i)
                continue
            if byte >= len(bits):
                bits.extend(bytes(max(byte + 1 - len(bits), len(bits))))  # at least double
            mask = 1 << (i & 7)
            if not bits[byte] & mask:
                bits[byte] |= mask
                self._count += 1


class FuturesRecording:
    """The futures part of a run's recording (module docstring).

    Args:
        protocol: the chain's futures protocol.
        depth_levels: levels per side summed into ``book_top.bid_depth/ask_depth``.

    Attributes:
        trades, order_updates: ``TradeExecuted`` and ``OrderUpdated`` events seen.
    """

    tables = TABLES

    def __init__(self, protocol: FuturesProtocol, depth_levels: int = 10) -> None:
        self.protocol = protocol
        self.depth_levels = depth_levels
        self.trades = 0
        self.order_updates = 0
        self._order_ids = IdSet()  # distinct order ids, one bit each
        self._markets: dict[str, _MarketInfo] = {}

    def counters(self) -> dict[str, int]:
        """Run totals for the run's summary: trades, orders (distinct ids), order updates."""
        return {"trades": self.trades, "orders": len(self._order_ids),
                "order_updates": self.order_updates}

    def kpi_names(self) -> list[str]:
        """The built-in KPI names recorded for the markets that exist now:
        ``<market>.<name>`` for every market and every name of :data:`BUILTIN_KPIS`."""
        return [f"{mid}.{name}" for mid in self.protocol.markets for name in BUILTIN_KPIS]

    def _info(self, market_id: str) -> _MarketInfo:
        info = self._markets.get(market_id)
        if info is None:
            info = self._markets[market_id] = _MarketInfo(self.protocol, market_id)
        return info

    # ----------------------------------------------------------------- events
    def on_events(self, step: int, events: list, sink: Any) -> None:
        """Rows of ``trades`` and ``orders`` for this step's events."""
        trades = [ev for ev in events if type(ev) is TradeExecuted]
        orders = [ev for ev in events if type(ev) is OrderUpdated]
        if trades:
            self._record_trades(step, trades, sink)
        if orders:
            self._record_orders(step, orders, sink)

    def _record_trades(self, step: int, trades: list, sink: Any) -> None:
        self.trades += len(trades)
        rows = sink.rows("trades")
        for ev in trades:
            info = self._info(ev.market)
            info.traded[ev.buyer] = None
            info.traded[ev.seller] = None
            if rows is not None:
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

    def _record_orders(self, step: int, orders: list, sink: Any) -> None:
        self.order_updates += len(orders)
        self._order_ids.update([ev.order_id for ev in orders])
        rows = sink.rows("orders")
        if rows is None:
            return
        for ev in orders:
            info = self._info(ev.market)
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
    def sample(self, step: int, sink: Any) -> None:
        """Built-in KPIs, ``book_top`` and ``positions`` rows of every market at ``step``."""
        chain = self.protocol.chain
        time_ns = chain.now
        ledger = chain.ledger
        balances = ledger.balances
        recording = sink.recording
        equity: dict[tuple[str, str], int] | None = None
        for mid, m in self.protocol.markets.items():
            info = self._info(mid)
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
                    sink.kpi(step, mid, name, value)
            if not recording:
                continue
            bids, asks = book.depth(self.depth_levels)
            ind_p = ind_v = None
            if m.state in _AUCTION_STATES:
                p, v = m.indicative()
                ind_p = p / pf if v else None
                ind_v = v / sf
            sink.rows("book_top").append(
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
                pos_rows = sink.rows("positions")
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
