"""Where the server's numbers come from: the :class:`RunData` interface and its
implementation over a finished run folder (:class:`DuckDBRunData`).

The interface is table-shaped on purpose: a source serves rows with the columns of the
run store's tables, as the runner records them (the schemas are the recorder's
``CHAIN_TABLES``, :mod:`defisim.runner.recorder`, and each protocol's
``recording_tables``: the futures ``trades``, ``orders``, ``positions``, ``book_top``,
the AMM ``amm_pools``, ``amm_swaps``, ``amm_liquidity``). The GraphQL layer
(:mod:`defisim.server.schema`) knows only those columns, so it shows a recorded run
and, later, a live one the same way, and its numbers are the tables' numbers.

A live source (a :class:`~defisim.service.Simulation` being run in the server's
process) would implement the same five methods through the simulation's read-only
views and its event cursor, never the chain or protocol objects: ``events``,
``orders`` and ``trades`` rows from ``sim.event_cursor()`` (the recorder's encoding),
``positions``, ``accounts``, ``book_top`` and ``amm_pools`` rows sampled from the views
each step (or only the latest step), ``kpis`` from ``Scenario.kpis`` and the
protocols' built-ins, and ``markets()``/``pools()`` from the views' market and pool
lists. It must hand out copies and hold a lock across a step, since the simulation
moves while a query runs.

This module needs only the core install (DuckDB); the GraphQL schema and the web app
need the ``serve`` extra.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb

from defisim.runner.folder import run_status

__all__ = ["DuckDBRunData", "RunData", "RunDataError", "Where"]


class RunDataError(ValueError):
    """A run folder that cannot be served (no folder, no or unreadable run.duckdb)."""


@dataclass(frozen=True)
class Where:
    """Which rows of a table: every given condition holds (an empty ``Where``: all rows).

    Attributes:
        equal: column -> value; the column equals the value (``None``: it is NULL).
        any_equal: ``(columns, value)`` pairs; at least one of the columns equals the
            value (a trade's party is its buyer or its seller).
        step_from, step_to: ``step`` within ``[step_from, step_to]`` (inclusive).
        time_from_s, time_to_s: simulated time within ``[time_from_s, time_to_s]``
            seconds (inclusive), compared in nanoseconds (``time_ns``, rounded to the
            nearest ns) or as ``time_s`` where the table has that (``kpis``).
        latest: only the rows of the last step among the rows meeting the other
            conditions (a snapshot: the current positions, the final balances).
    """

    equal: Mapping[str, Any] = field(default_factory=dict)
    any_equal: tuple[tuple[tuple[str, ...], Any], ...] = ()
    step_from: int | None = None
    step_to: int | None = None
    time_from_s: float | None = None
    time_to_s: float | None = None
    latest: bool = False


@runtime_checkable
class RunData(Protocol):
    """A source of a run's data, as rows of the run store's tables (module docstring).

    Rows are dicts from column name to value with the DuckDB column's Python type:
    ``int`` for INTEGER/BIGINT/HUGEINT (exact, any size), ``float`` for DOUBLE, ``str``
    or ``None``. Rows come in recording order (the order the runner wrote them).
    """

    def info(self) -> dict[str, Any]:
        """The run: ``scenario``, ``seed``, ``params`` (dict), ``summary`` (dict or
        None), ``complete`` (bool), ``problems`` (list of str), ``last_step`` (int or
        None), ``tables`` (sorted names of the tables it has)."""
        ...

    def has(self, table: str) -> bool:
        """Whether the run has ``table`` (a futures-only run has no ``amm_pools``)."""
        ...

    def count(self, table: str, where: Where) -> int:
        """How many rows of ``table`` meet ``where`` (0 for a table it does not have)."""
        ...

    def rows(self, table: str, where: Where, offset: int, limit: int) -> list[dict[str, Any]]:
        """Rows ``offset .. offset + limit - 1`` of those of ``table`` meeting ``where``,
        in recording order ([] for a table it does not have)."""
        ...

    def markets(self) -> list[dict[str, Any]]:
        """The futures markets in creation order: ``id, asset, config`` (the
        MarketConfig as a dict), ``state, mark_price, best_bid, best_ask, last_step``
        (the last ``book_top`` row; ``mark_price`` the last one set), ``trades,
        volume`` (count and sum of ``size_f`` of its trades), ``settlement_price``
        (raw integer of ``MarketSettled``, or None)."""
        ...

    def pools(self) -> list[dict[str, Any]]:
        """The AMM pools in creation order: ``id, kind, assets, lp_asset, fee`` (of
        ``AmmPoolCreated``), ``swaps`` (rows of ``amm_swaps``) and ``last``: the pool's
        last ``amm_pools`` row (or None)."""
        ...


def _time_bounds(where: Where) -> tuple[int | None, int | None]:
    def ns(t: float | None) -> int | None:
        if t is None:
            return None
        if not math.isfinite(t):
            raise ValueError(f"time must be finite seconds, got {t}")
        return round(t * 1_000_000_000)

    return ns(where.time_from_s), ns(where.time_to_s)


class DuckDBRunData:
    """:class:`RunData` over a finished run folder's ``run.duckdb``, opened read-only.

    Each call runs on its own cursor of one read-only connection (DuckDB cursors are
    safe to use from different threads), so the web server may answer requests in
    parallel. Identifiers in SQL are only the tables' own column names (checked);
    values are bound parameters.

    Args:
        run_dir: a run folder (``defisim run ... --out DIR``).

    Raises:
        RunDataError: no such folder, no ``run.duckdb`` in it, or DuckDB cannot open
            it (damaged, or a run is writing it now).
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        if not self.run_dir.is_dir():
            raise RunDataError(f"run folder {self.run_dir} does not exist")
        db = self.run_dir / "run.duckdb"
        if not db.is_file():
            raise RunDataError(f"run folder {self.run_dir} has no run.duckdb")
        try:
            self._con = duckdb.connect(str(db), read_only=True)
        except duckdb.Error as exc:
            raise RunDataError(f"cannot open {db}: {str(exc).splitlines()[0]}") from None
        self._lock = threading.Lock()
        self._columns: dict[str, tuple[str, ...]] = {}
        for table, column in self._query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name NOT LIKE '\\_\\_%' ESCAPE '\\' "
            "ORDER BY table_name, ordinal_position"
        ):
            self._columns[table] = (*self._columns.get(table, ()), column)
        self._info: dict[str, Any] | None = None

    def close(self) -> None:
        """Close the connection (later calls raise)."""
        self._con.close()

    # ------------------------------------------------------------------ queries
    def _query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        with self._lock:  # cursor() on the shared connection is not thread-safe itself
            cur = self._con.cursor()
        try:
            return cur.execute(sql, params or []).fetchall()
        finally:
            cur.close()

    def _check(self, table: str, where: Where) -> tuple[str, ...]:
        cols = self._columns[table]
        named = [*where.equal, *(c for cs, _ in where.any_equal for c in cs)]
        unknown = [c for c in named if c not in cols]
        if unknown:
            raise ValueError(f"table {table} has no column {unknown[0]!r}")
        return cols

    def _where(self, table: str, where: Where) -> tuple[str, list[Any]]:
        """``WHERE ...`` (or "") and its parameters."""
        cols = self._check(table, where)
        terms: list[str] = []
        params: list[Any] = []
        for col, value in where.equal.items():
            if value is None:
                terms.append(f'"{col}" IS NULL')
            else:
                terms.append(f'"{col}" = ?')
                params.append(value)
        for group, value in where.any_equal:
            terms.append("(" + " OR ".join(f'"{c}" = ?' for c in group) + ")")
            params.extend([value] * len(group))
        if where.step_from is not None:
            terms.append("step >= ?")
            params.append(where.step_from)
        if where.step_to is not None:
            terms.append("step <= ?")
            params.append(where.step_to)
        t_from, t_to = _time_bounds(where)
        if "time_ns" in cols:
            time_col, t_from_v, t_to_v = "time_ns", t_from, t_to
        else:  # kpis: seconds
            time_col, t_from_v, t_to_v = "time_s", where.time_from_s, where.time_to_s
        if t_from_v is not None:
            terms.append(f"{time_col} >= ?")
            params.append(t_from_v)
        if t_to_v is not None:
            terms.append(f"{time_col} <= ?")
            params.append(t_to_v)
        if where.latest:
            inner = " AND ".join(terms) or "TRUE"
            terms.append(f'step = (SELECT max(step) FROM "{table}" WHERE {inner})')
            params = params + params
        return (" WHERE " + " AND ".join(terms)) if terms else "", params

    def has(self, table: str) -> bool:
        return table in self._columns

    def count(self, table: str, where: Where) -> int:
        if not self.has(table):
            return 0
        sql, params = self._where(table, where)
        return int(self._query(f'SELECT count(*) FROM "{table}"{sql}', params)[0][0])

    def rows(self, table: str, where: Where, offset: int, limit: int) -> list[dict[str, Any]]:
        if not self.has(table) or limit <= 0:
            return []
        sql, params = self._where(table, where)
        cols = self._columns[table]
        select = ", ".join(f'"{c}"' for c in cols)
        found = self._query(
            f'SELECT {select} FROM "{table}"{sql} ORDER BY rowid LIMIT ? OFFSET ?',
            [*params, limit, max(offset, 0)],
        )
        return [dict(zip(cols, r, strict=True)) for r in found]

    # ------------------------------------------------------------------ the run
    def info(self) -> dict[str, Any]:
        if self._info is None:
            params_file = _read_json(self.run_dir / "params.json") or {}
            summary = _read_json(self.run_dir / "summary.json")
            status = run_status(self.run_dir)
            self._info = {
                "scenario": params_file.get("scenario"),
                "seed": params_file.get("seed"),
                "params": params_file.get("params") or {},
                "summary": summary,
                "complete": status.complete,
                "problems": list(status.problems),
                "last_step": status.last_step,
                "tables": sorted(self._columns),
            }
        return self._info

    def _created(self, event_type: str) -> list[tuple[str, dict[str, Any]]]:
        if not self.has("events"):
            return []
        found = self._query(
            "SELECT market, payload FROM events WHERE type = ? ORDER BY seq", [event_type]
        )
        seen: dict[str, dict[str, Any]] = {}
        for market, payload in found:
            seen.setdefault(market, json.loads(payload))  # the first creation counts
        return list(seen.items())

    def markets(self) -> list[dict[str, Any]]:
        out = []
        for mid, payload in self._created("MarketCreated"):
            config = payload.get("config")
            config = json.loads(config) if isinstance(config, str) else (config or {})
            m: dict[str, Any] = {
                "id": mid, "asset": payload.get("asset"), "config": config,
                "state": None, "mark_price": None, "best_bid": None, "best_ask": None,
                "last_step": None, "trades": 0, "volume": 0.0, "settlement_price": None,
            }
            if self.has("book_top"):
                last = self._query(
                    "SELECT state, best_bid, best_ask, step FROM book_top WHERE market = ? "
                    "ORDER BY rowid DESC LIMIT 1", [mid])
                if last:
                    m["state"], m["best_bid"], m["best_ask"], m["last_step"] = last[0]
                mark = self._query(
                    "SELECT mark_price FROM book_top WHERE market = ? AND mark_price IS NOT "
                    "NULL ORDER BY rowid DESC LIMIT 1", [mid])
                m["mark_price"] = mark[0][0] if mark else None
            if self.has("trades"):
                n, vol = self._query(
                    "SELECT count(*), coalesce(sum(size_f), 0) FROM trades WHERE market = ?",
                    [mid])[0]
                m["trades"], m["volume"] = int(n), float(vol)
            settled = self._query(
                "SELECT payload FROM events WHERE type = 'MarketSettled' AND market = ? "
                "ORDER BY seq DESC LIMIT 1", [mid])
            if settled:
                m["settlement_price"] = json.loads(settled[0][0]).get("price")
            out.append(m)
        return out

    def pools(self) -> list[dict[str, Any]]:
        out = []
        for pid, payload in self._created("AmmPoolCreated"):
            p: dict[str, Any] = {
                "id": pid, "kind": payload.get("kind"), "assets": list(payload.get("assets") or []),
                "lp_asset": payload.get("lp_asset"), "fee": payload.get("fee"),
                "swaps": self.count("amm_swaps", Where(equal={"pool": pid})), "last": None,
            }
            if self.has("amm_pools"):
                sql, params = self._where("amm_pools", Where(equal={"pool": pid}))
                cols = self._columns["amm_pools"]
                last = self._query(
                    f'SELECT {", ".join(cols)} FROM amm_pools{sql} ORDER BY rowid DESC LIMIT 1',
                    params)
                p["last"] = dict(zip(cols, last[0], strict=True)) if last else None
            out.append(p)
        return out


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None
