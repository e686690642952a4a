"""Tests for defisim.store: the buffered DuckDB run store."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from defisim.store import RunStore, open_store

TRADES = {
    "step": "BIGINT",
    "amount": "BIGINT",
    "price": "DOUBLE",
    "party": "VARCHAR",
    "is_buy": "BOOLEAN",
    "n": "INTEGER",
}

ROWS = [
    (0, 2**53 + 1, 101.25, "alice", True, 7),
    (1, 2**63 - 1, 0.1, "bob", False, -(2**31)),
    (2, -(2**63), -3.5, "carol ü", None, 2**31 - 1),
    (3, None, None, None, True, None),
]


def store_at(tmp_path: Path, **kw: int) -> RunStore:
    s = RunStore(tmp_path / "run" / "store.duckdb", **kw)
    s.declare("trades", TRADES)
    return s


def raw_count(path: Path, table: str) -> int:
    """Count rows through a second DuckDB connection, without flushing the store."""
    con = duckdb.connect(str(path))
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_round_trip_typed_rows_exact(tmp_path: Path) -> None:
    with store_at(tmp_path) as s:
        s.append_many("trades", ROWS[:2])
        s.append("trades", ROWS[2])
        s.append("trades", ROWS[3])
        got = s.query("SELECT * FROM trades ORDER BY step")
        assert got == ROWS
        # Big ints are exact in SQL arithmetic too (no float round trip).
        assert s.query("SELECT amount - 1 FROM trades WHERE step = 0") == [(2**53,)]
        assert s.query("SELECT count(*) FROM trades WHERE amount IS NULL") == [(1,)]
        table = s.table("trades")
        assert table.column_names == list(TRADES)
        assert table.column("amount").to_pylist() == [r[1] for r in ROWS]
        assert str(table.schema.field("amount").type) == "int64"
        assert s.row_count("trades") == 4
        assert s.tables() == ["trades"]


def test_hugeint_and_query_params(tmp_path: Path) -> None:
    with RunStore(tmp_path / "h.duckdb") as s:
        s.declare("balances", {"account": "VARCHAR", "wei": "HUGEINT"})
        s.append_many("balances", [("a", 10**30 + 1), ("b", -5), ("c", None)])
        assert s.query("SELECT wei FROM balances WHERE account = ?", ["a"]) == [(10**30 + 1,)]
        assert s.query("SELECT sum(wei) FROM balances") == [(10**30 - 4,)]


def test_auto_flush_at_flush_rows(tmp_path: Path) -> None:
    s = store_at(tmp_path, flush_rows=3)
    db = s.path
    assert db is not None
    s.append("trades", ROWS[0])
    s.append("trades", ROWS[1])
    assert s.pending("trades") == 2
    assert raw_count(db, "trades") == 0
    s.append("trades", ROWS[2])  # third row reaches flush_rows
    assert s.pending("trades") == 0
    assert raw_count(db, "trades") == 3
    s.append_many("trades", [ROWS[3]] * 4)  # 4 >= 3: flushed at once
    assert raw_count(db, "trades") == 7
    s.close()


def test_close_then_reopen_keeps_rows(tmp_path: Path) -> None:
    s = store_at(tmp_path)
    s.append_many("trades", ROWS)
    assert s.pending("trades") == 4
    s.close()
    s.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        s.append("trades", ROWS[0])
    again = RunStore(tmp_path / "run" / "store.duckdb")
    again.declare("trades", dict(TRADES))  # same schema: fine
    again.append("trades", (9, 1, 1.0, "d", False, 1))
    assert again.row_count("trades") == 5
    again.close()
    with open_store(tmp_path / "run" / "store.duckdb") as ro:
        assert ro.query("SELECT max(step), min(amount) FROM trades") == [(9, -(2**63))]
        with pytest.raises(ValueError, match="read-only"):
            ro.declare("other", {"x": "BIGINT"})
        with pytest.raises(ValueError, match="read-only"):
            ro.append("trades", ROWS[0])


def test_declare_mismatch(tmp_path: Path) -> None:
    s = store_at(tmp_path)
    s.declare("trades", TRADES)  # same: fine
    other = dict(TRADES, price="VARCHAR")
    with pytest.raises(ValueError, match="already declared as .*price DOUBLE.*price VARCHAR"):
        s.declare("trades", other)
    s.close()
    s2 = RunStore(tmp_path / "run" / "store.duckdb")
    with pytest.raises(ValueError, match="already exists in .* as .*price DOUBLE"):
        s2.declare("trades", other)
    reordered = dict(reversed(list(TRADES.items())))
    with pytest.raises(ValueError, match="already exists"):
        s2.declare("trades", reordered)
    with pytest.raises(ValueError, match="unsupported type 'DECIMAL'"):
        s2.declare("x", {"a": "DECIMAL"})
    with pytest.raises(ValueError, match="identifier"):
        s2.declare("bad name", {"a": "BIGINT"})
    # Aliases are normalised and match the stored canonical types.
    s2.declare("aliased", {"a": "int8", "b": "TEXT", "c": "bool"})
    s2.close()
    s3 = RunStore(tmp_path / "run" / "store.duckdb")
    s3.declare("aliased", {"a": "BIGINT", "b": "VARCHAR", "c": "BOOLEAN"})
    s3.close()


def test_wrong_row_length_and_undeclared_table(tmp_path: Path) -> None:
    s = store_at(tmp_path)
    s.append("trades", ROWS[0])
    with pytest.raises(ValueError, match=r"table 'trades': a row needs 6 values \(step BIGINT"):
        s.append("trades", (1, 2, 3.0))
    with pytest.raises(ValueError, match="needs 6 values"):
        s.append_many("trades", [ROWS[1], (1, 2)])
    assert s.pending("trades") == 1  # nothing from the failed calls was buffered
    with pytest.raises(ValueError, match="table 'orders' is not declared.*declared: trades"):
        s.append("orders", (1,))
    s.close()
    assert RunStore(tmp_path / "run" / "store.duckdb").row_count("trades") == 1


def test_bad_value_drops_only_that_row_and_keeps_flushed_rows(tmp_path: Path) -> None:
    s = store_at(tmp_path, flush_rows=3)
    s.append_many("trades", ROWS[:3])  # flushed
    s.append("trades", (10, 5, 1.0, "x", True, 1))
    s.append("trades", (11, 1.5, 1.0, "y", True, 1))  # float in a BIGINT column
    with pytest.raises(ValueError, match=r"column 'amount' \(BIGINT\) cannot hold 1.5 .*row 1"):
        s.append("trades", (12, 6, 1.0, "z", True, 1))  # triggers the flush
    assert s.query("SELECT step FROM trades ORDER BY step") == [(0,), (1,), (2,), (10,), (12,)]
    s.append("trades", (13, 2**63, 1.0, "big", True, 1))  # beyond BIGINT
    s.append("trades", (14, 7, 1.0, "ok", True, 2**31))  # beyond INTEGER
    with pytest.raises(ValueError, match="dropped 3 bad row.* of 3, wrote the other 0"):
        s.append("trades", (15, 8, 1.0, 99, True, 1))  # int in a VARCHAR column
    s.append("trades", (16, 9, 1.0, "ok", True, 1))
    s.flush()
    assert s.pending("trades") == 0
    assert s.row_count("trades") == 6
    s.close()


def test_parquet_export_round_trip(tmp_path: Path) -> None:
    with store_at(tmp_path) as s:
        s.append_many("trades", ROWS)
        s.declare("kpis", {"step": "BIGINT", "value": "DOUBLE"})
        s.append_many("kpis", [(i, i / 4) for i in range(10)])
        paths = s.export_parquet(tmp_path / "out")
    assert paths == [tmp_path / "out" / "kpis.parquet", tmp_path / "out" / "trades.parquet"]
    trades = pq.read_table(paths[1])
    assert trades.column_names == list(TRADES)
    assert [tuple(r.values()) for r in trades.to_pylist()] == ROWS
    kpis = pq.read_table(paths[0])
    assert kpis.column("value").to_pylist() == [i / 4 for i in range(10)]


def test_memory_store_and_table_errors() -> None:
    s = RunStore(":memory:", flush_rows=2)
    s.declare("t", {"a": "BIGINT"})
    s.append("t", (1,))
    assert s.table("t").column("a").to_pylist() == [1]
    with pytest.raises(ValueError, match="no table 'u'.*tables: t"):
        s.table("u")
    with pytest.raises(ValueError, match="flush_rows"):
        RunStore(":memory:", flush_rows=0)
    s.close()


def test_open_store_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no store file"):
        open_store(tmp_path / "none.duckdb")
