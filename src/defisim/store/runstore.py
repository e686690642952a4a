"""Buffered writer over an embedded DuckDB database (the run store)."""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa

__all__ = ["COLUMN_TYPES", "PROGRESS_TABLE", "Progress", "RunStore", "open_store"]

#: Column types a table may declare, with the Arrow type rows are converted to.
#: HUGEINT (128-bit) goes through ``decimal128(38, 0)``, so it holds integers up to
#: ``10**38 - 1`` in absolute value (enough for token amounts in wei; a full
#: uint256 needs VARCHAR).
COLUMN_TYPES: dict[str, pa.DataType] = {
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "SMALLINT": pa.int16(),
    "UBIGINT": pa.uint64(),
    "HUGEINT": pa.decimal128(38, 0),
    "DOUBLE": pa.float64(),
    "FLOAT": pa.float32(),
    "VARCHAR": pa.string(),
    "BOOLEAN": pa.bool_(),
    "BLOB": pa.binary(),
}
_ALIASES = {
    "INT8": "BIGINT",
    "LONG": "BIGINT",
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "SIGNED": "INTEGER",
    "INT2": "SMALLINT",
    "SHORT": "SMALLINT",
    "INT128": "HUGEINT",
    "FLOAT8": "DOUBLE",
    "FLOAT4": "FLOAT",
    "REAL": "FLOAT",
    "TEXT": "VARCHAR",
    "STRING": "VARCHAR",
    "BOOL": "BOOLEAN",
    "LOGICAL": "BOOLEAN",
    "BYTEA": "BLOB",
}
_INT_TYPES = frozenset({"BIGINT", "INTEGER", "SMALLINT", "UBIGINT", "HUGEINT"})
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BUF_VIEW = "__defisim_flush_buffer"
PROGRESS_TABLE = "__defisim_progress"
"""The store's own table (one row): the last step whose rows are all written, whether
that was the final record of the run, and the planned number of steps. Hidden from
:meth:`RunStore.tables`; read it with :meth:`RunStore.progress`."""


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a run store got (see :meth:`RunStore.flush`).

    Attributes:
        last_step: every table holds every row of steps ``<= last_step`` (the rows
            of later steps, if any, are the events of a step that stopped).
        final: the run's final record (after ``finish``) is written: the run ended.
        planned_steps: the steps the run was to make (``None`` if not given).
    """

    last_step: int
    final: bool
    planned_steps: int | None

    @property
    def complete(self) -> bool:
        """The final record is written and no planned step is missing."""
        return self.final and (self.planned_steps is None or self.last_step >= self.planned_steps)


def _canonical_type(sql_type: str) -> str | None:
    t = sql_type.strip().upper()
    t = _ALIASES.get(t, t)
    return t if t in COLUMN_TYPES else None


@dataclass(slots=True)
class _Buffer:
    names: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class RunStore:
    """A DuckDB database with per-table row buffers written in batches.

    Rows are kept as tuples in a Python list per table (an append costs a length
    check and a ``list.append``). A flush transposes each buffer into columns,
    converts them to a ``pyarrow.Table`` with the declared types and writes every
    table with one ``INSERT ... SELECT`` each, all in ONE transaction: the file
    holds all of a flush or none of it, whenever the process dies (even SIGKILL;
    DuckDB replays its committed write-ahead log on the next open). Every buffer is
    flushed when one table's buffer holds ``flush_rows`` rows (:meth:`append`,
    :meth:`append_many`; :meth:`extend` never flushes), and on :meth:`flush`,
    :meth:`close`, :meth:`query`, :meth:`table`, :meth:`row_count` and
    :meth:`export_parquet`.

    Crash-consistent recording: append a step's rows with :meth:`extend` and call
    ``flush(step=k)`` at step boundaries; the same transaction records ``k`` in the
    store's progress row (:meth:`progress`), so after any crash every table holds
    exactly the rows of the steps up to the recorded one.

    Values are checked when they are converted, i.e. at flush, not at append:

    - integer columns take Python/numpy ints only (a float or a bool is an error,
      never silently truncated); BIGINT holds ``-2**63 .. 2**63 - 1`` exactly;
    - DOUBLE/FLOAT take ints and floats; VARCHAR takes ``str``; BOOLEAN takes
      ``bool``; BLOB takes ``bytes``; ``None`` is NULL in every column.

    A row that cannot be converted is dropped from its batch, the rest of the batch
    is written, and the flush raises ``ValueError`` naming the table, the column,
    the row and the value (so the call that raises may be a later ``append`` that
    triggered the automatic flush).

    Not thread-safe: use one store per thread or process. Opening the same file
    from two processes at once is refused by DuckDB unless all are read-only.

    Args:
        path: the DuckDB file (created with its parent folders if missing), or
            ``":memory:"``.
        flush_rows: rows buffered per table before an automatic flush (>= 1).
        read_only: open an existing file for reading only (see :func:`open_store`).
        memory_limit: DuckDB's ``memory_limit`` for this database (e.g. ``"128MB"``;
            ``None``: DuckDB's default, 80 % of the machine's memory). DuckDB keeps the
            pages it wrote cached up to the limit, so a long run's store grows the
            process by the size of its file unless this is set; the setting holds for
            every connection to the file in this process while it is open.

    Raises:
        ValueError: ``flush_rows`` not a positive int.
        FileNotFoundError: ``read_only`` and the file does not exist.
    """

    def __init__(
        self, path: str | os.PathLike[str], flush_rows: int = 50_000, *, read_only: bool = False,
        memory_limit: str | None = None,
    ) -> None:
        if isinstance(flush_rows, bool) or not isinstance(flush_rows, int) or flush_rows < 1:
            raise ValueError(f"RunStore: flush_rows must be an int >= 1, got {flush_rows!r}")
        self.path: Path | None
        if isinstance(path, str) and path == ":memory:":
            if read_only:
                raise ValueError("RunStore: an in-memory store cannot be read-only")
            self.path, target = None, ":memory:"
        else:
            self.path = Path(os.fspath(path))
            target = str(self.path)
            if read_only and not self.path.is_file():
                raise FileNotFoundError(f"RunStore: no store file at {self.path}")
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
        self.flush_rows = flush_rows
        self.read_only = read_only
        self._buffers: dict[str, _Buffer] = {}
        if read_only:
            try:
                self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(target, read_only=True)
            except duckdb.ConnectionException:
                # Already open for writing in this process: DuckDB shares one
                # instance per file, so join it; this object still refuses writes.
                self._con = duckdb.connect(target)
        else:
            self._con = duckdb.connect(target)
        if memory_limit is not None:
            self._con.execute(f"SET memory_limit = '{_memory_limit(memory_limit)}'")

    # ------------------------------------------------------------------ writing

    def declare(self, table: str, columns: dict[str, str]) -> None:
        """Declare a table: ``CREATE TABLE IF NOT EXISTS`` with ``columns`` in order.

        Args:
            table: identifier (letters, digits, ``_``; not starting with a digit).
            columns: column name -> type, one of :data:`COLUMN_TYPES` (``BIGINT``,
                ``INTEGER``, ``SMALLINT``, ``UBIGINT``, ``HUGEINT``, ``DOUBLE``,
                ``FLOAT``, ``VARCHAR``, ``BOOLEAN``, ``BLOB``; common aliases such
                as ``INT``, ``TEXT``, ``BOOL`` are accepted and normalised).

        Declaring a table again with the same schema (in this session, or one
        already in the file) is fine and keeps its rows and buffer.

        Raises:
            ValueError: bad identifier, empty or unknown type, or a schema that
                differs from the one already declared or stored (both are shown).
        """
        self._check_writable()
        if not isinstance(table, str) or not _IDENT.match(table):
            raise ValueError(f"declare: table name must be an identifier, got {table!r}")
        if table.startswith("__defisim"):
            raise ValueError(
                f"declare: table names starting with '__defisim' are reserved: {table!r}"
            )
        if not isinstance(columns, dict) or not columns:
            raise ValueError(f"declare({table!r}): columns must be a non-empty dict name -> type")
        names: list[str] = []
        types: list[str] = []
        for name, sql_type in columns.items():
            if not isinstance(name, str) or not _IDENT.match(name):
                raise ValueError(
                    f"declare({table!r}): column name must be an identifier, got {name!r}"
                )
            canon = _canonical_type(sql_type) if isinstance(sql_type, str) else None
            if canon is None:
                raise ValueError(
                    f"declare({table!r}): column {name!r} has unsupported type {sql_type!r}; "
                    f"use one of {', '.join(COLUMN_TYPES)}"
                )
            names.append(name)
            types.append(canon)
        lowered = [n.lower() for n in names]
        if len(set(lowered)) != len(lowered):
            raise ValueError(f"declare({table!r}): duplicate column names in {names}")
        new = _Buffer(tuple(names), tuple(types))
        old = self._buffers.get(table)
        if old is not None:
            if (old.names, old.types) != (new.names, new.types):
                raise ValueError(
                    f"declare: table {table!r} is already declared as {_schema(old)}; "
                    f"cannot re-declare it as {_schema(new)}"
                )
            return
        stored = self._stored_schema(table)
        if stored is not None:
            if stored != list(zip(new.names, new.types, strict=True)):
                shown = ", ".join(f"{n} {t}" for n, t in stored)
                raise ValueError(
                    f"declare: table {table!r} already exists in {self._where()} as ({shown}); "
                    f"cannot declare it as {_schema(new)}"
                )
        else:
            cols = ", ".join(f'"{n}" {t}' for n, t in zip(names, types, strict=True))
            self._conn().execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({cols})')
        self._buffers[table] = new

    def append(self, table: str, row: tuple) -> None:
        """Buffer one row (values in declared column order; ``None`` is NULL).

        Flushes the table when its buffer reaches ``flush_rows`` rows.

        Raises:
            ValueError: undeclared table, or a row whose length differs from the
                number of declared columns (the message lists them); the buffer is
                unchanged. Also any conversion error raised by an automatic flush
                (see the class docs).
        """
        buf = self._buffers.get(table)
        if buf is None:
            raise self._undeclared(table)
        if len(row) != len(buf.names):
            raise self._bad_length(table, buf, row)
        rows = buf.rows
        rows.append(row)
        if len(rows) >= self.flush_rows:
            self.flush()

    def append_many(self, table: str, rows: list[tuple]) -> None:
        """Buffer many rows; all are checked for length before any is buffered.

        Raises:
            ValueError: as :meth:`append`; on a bad length nothing is buffered.
        """
        buf = self._buffers.get(table)
        if buf is None:
            raise self._undeclared(table)
        rows = list(rows)
        width = len(buf.names)
        for row in rows:
            if len(row) != width:
                raise self._bad_length(table, buf, row)
        buf.rows.extend(rows)
        if len(buf.rows) >= self.flush_rows:
            self.flush()

    def extend(self, batches: dict[str, list[tuple]]) -> None:
        """Buffer rows of several tables at once, never flushing (see the class docs).

        Every row of every table is checked for length before any is buffered.

        Raises:
            ValueError: undeclared table or bad row length; nothing is buffered.
        """
        checked = []
        for table, rows in batches.items():
            buf = self._buffers.get(table)
            if buf is None:
                raise self._undeclared(table)
            width = len(buf.names)
            for row in rows:
                if len(row) != width:
                    raise self._bad_length(table, buf, row)
            checked.append((buf, rows))
        for buf, rows in checked:
            if rows:
                buf.rows.extend(rows)

    def pending(self, table: str) -> int:
        """Rows of ``table`` buffered and not yet written.

        Raises:
            ValueError: undeclared table.
        """
        buf = self._buffers.get(table)
        if buf is None:
            raise self._undeclared(table)
        return len(buf.rows)

    def flush(
        self, *, step: int | None = None, final: bool = False, planned_steps: int | None = None
    ) -> None:
        """Write every non-empty buffer in one transaction (one INSERT per table).

        Args:
            step: also record, in the same transaction, that every row of the steps
                up to ``step`` is now written (:meth:`progress`); ``None``: leave
                the progress row as it is.
            final: with ``step``: this is the run's final record.
            planned_steps: with ``step``: the steps the run was to make.

        Raises:
            ValueError: rows that could not be converted (the first such error;
                the good rows of every batch are still written, the bad ones are
                dropped). If a buffer cannot be converted at all, nothing is
                written and every buffer is kept.
            duckdb.Error: the write failed; the transaction is rolled back and the
                buffers are kept.
        """
        pending = [(name, buf) for name, buf in self._buffers.items() if buf.rows]
        if not pending and step is None:
            return
        self._check_writable()
        con = self._conn()
        prepared: list[tuple[str, _Buffer, pa.Table | None]] = []
        first: ValueError | None = None
        for name, buf in pending:
            data, problem = self._convert(name, buf)
            prepared.append((name, buf, data))
            first = first or problem
        con.begin()
        try:
            for name, buf, data in prepared:
                if data is None:
                    continue
                cols = ", ".join(f'"{n}"' for n in buf.names)
                con.register(_BUF_VIEW, data)
                try:
                    con.execute(f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM {_BUF_VIEW}')
                finally:
                    con.unregister(_BUF_VIEW)
            if step is not None:
                con.execute(
                    f'CREATE TABLE IF NOT EXISTS "{PROGRESS_TABLE}" '
                    "(last_step BIGINT, final BOOLEAN, planned_steps BIGINT)"
                )
                con.execute(f'DELETE FROM "{PROGRESS_TABLE}"')
                con.execute(
                    f'INSERT INTO "{PROGRESS_TABLE}" VALUES (?, ?, ?)',
                    [int(step), bool(final), planned_steps],
                )
            con.commit()
        except BaseException:
            try:
                con.rollback()
            except Exception:  # the connection itself failed: nothing more to undo
                pass
            raise
        for _name, buf, _data in prepared:
            buf.rows = []
        if first is not None:
            raise first

    def progress(self) -> Progress | None:
        """The last :meth:`flush` with a ``step`` (``None`` if there was none).

        Rows buffered and not yet flushed are not counted (nothing is flushed here).
        """
        con = self._conn()
        (exists,) = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_name = ?",
            [PROGRESS_TABLE],
        ).fetchone()
        if not exists:
            return None
        row = con.execute(
            f'SELECT last_step, final, planned_steps FROM "{PROGRESS_TABLE}"'
        ).fetchone()
        if row is None:
            return None
        return Progress(int(row[0]), bool(row[1]), None if row[2] is None else int(row[2]))

    def close(self) -> None:
        """Flush and close. Idempotent; the connection is closed even if the flush raises."""
        if self._con is None:
            return
        try:
            if not self.read_only:
                self.flush()
        finally:
            self._con.close()
            self._con = None
            self._buffers.clear()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        con = getattr(self, "_con", None)
        if con is not None and any(b.rows for b in getattr(self, "_buffers", {}).values()):
            warnings.warn(
                f"RunStore({self._where()}) was not closed; its buffered rows were lost",
                ResourceWarning,
                stacklevel=1,
            )

    def __repr__(self) -> str:
        state = "closed" if self._con is None else ("read-only" if self.read_only else "open")
        return f"RunStore({self._where()}, {state})"

    # ------------------------------------------------------------------ reading

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        """Run SQL (after flushing) and return all result rows as tuples.

        ``params`` are DuckDB prepared-statement parameters (``?`` or ``$name``).
        Statements without a result return ``[]``. DuckDB errors propagate as
        ``duckdb.Error``.
        """
        if not self.read_only:
            self.flush()
        return self._conn().execute(sql, params).fetchall()

    def table(self, name: str) -> pa.Table:
        """The whole table as a ``pyarrow.Table`` (after flushing), rows in insert order.

        Raises:
            ValueError: no such table (the message lists the tables).
        """
        self._check_exists(name)
        if not self.read_only:
            self.flush()
        return self._conn().sql(f'SELECT * FROM "{name}"').to_arrow_table()

    def tables(self) -> list[str]:
        """Names of the tables in the database, sorted."""
        rows = (
            self._conn()
            .execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' "
                "AND NOT starts_with(table_name, '__defisim') ORDER BY table_name"
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    def row_count(self, table: str) -> int:
        """Number of rows in ``table``, buffered rows included (they are flushed first).

        Raises:
            ValueError: no such table.
        """
        self._check_exists(table)
        buf = self._buffers.get(table)
        if buf is not None and buf.rows:
            self.flush()
        (count,) = self._conn().execute(f'SELECT count(*) FROM "{table}"').fetchone()
        return int(count)

    def export_parquet(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write every table to ``directory/<table>.parquet`` (after flushing).

        The folder is created if needed; existing files of the same name are
        replaced. Returns the written paths, sorted by table name.
        """
        if not self.read_only:
            self.flush()
        out_dir = Path(os.fspath(directory))
        out_dir.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for name in self.tables():
            target = out_dir / f"{name}.parquet"
            quoted = str(target).replace("'", "''")
            self._conn().execute(f"COPY \"{name}\" TO '{quoted}' (FORMAT parquet)")
            written.append(target)
        return written

    # ---------------------------------------------------------------- internals

    def _conn(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise ValueError(f"RunStore({self._where()}) is closed")
        return self._con

    def _where(self) -> str:
        return ":memory:" if self.path is None else str(self.path)

    def _check_writable(self) -> None:
        self._conn()
        if self.read_only:
            raise ValueError(f"RunStore({self._where()}) is open read-only")

    def _check_exists(self, name: str) -> None:
        existing = self.tables()
        if name not in existing:
            raise ValueError(
                f"no table {name!r} in {self._where()}; tables: {', '.join(existing) or '(none)'}"
            )

    def _stored_schema(self, table: str) -> list[tuple[str, str]] | None:
        rows = (
            self._conn()
            .execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main' AND lower(table_name) = lower(?) "
                "ORDER BY ordinal_position",
                [table],
            )
            .fetchall()
        )
        if not rows:
            return None
        return [(n, _canonical_type(t) or t) for n, t in rows]

    def _undeclared(self, table: str) -> ValueError:
        if self._con is None:
            return ValueError(f"RunStore({self._where()}) is closed")
        if self.read_only:
            return ValueError(f"RunStore({self._where()}) is open read-only")
        declared = ", ".join(self._buffers) or "(none)"
        return ValueError(
            f"table {table!r} is not declared; call declare({table!r}, {{...}}) first "
            f"(declared: {declared})"
        )

    @staticmethod
    def _bad_length(table: str, buf: _Buffer, row: Any) -> ValueError:
        try:
            got = f"{len(row)} values"
        except TypeError:
            got = f"a {type(row).__name__}, not a tuple"
        return ValueError(
            f"table {table!r}: a row needs {len(buf.names)} values {_schema(buf)}, got {got}: "
            f"{row!r:.200}"
        )

    def _convert(self, table: str, buf: _Buffer) -> tuple[pa.Table | None, ValueError | None]:
        """The buffer as an Arrow table (``None``: no good row) and the error of the
        rows dropped (``None``: none). Raises ``ValueError`` when the buffer cannot
        be converted at all (it is kept)."""
        columns = _transpose(buf.rows, len(buf.names))
        try:
            arrays = [_to_arrow(col, t) for col, t in zip(columns, buf.types, strict=True)]
            problem = None
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            arrays, problem = self._drop_bad_rows(table, buf)
        if arrays is None:
            return None, problem
        return pa.Table.from_arrays(arrays, names=list(buf.names)), problem

    def _drop_bad_rows(self, table: str, buf: _Buffer) -> tuple[list[pa.Array] | None, ValueError]:
        """Slow path: find the rows that cannot be converted, keep the rest."""
        rows = buf.rows
        bad: dict[int, tuple[str, str, Any, str]] = {}
        for j, (name, sql_type) in enumerate(zip(buf.names, buf.types, strict=True)):
            for i, row in enumerate(rows):
                if i in bad:
                    continue
                try:
                    _to_arrow((row[j],), sql_type)
                except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
                    bad[i] = (name, sql_type, row[j], str(exc).splitlines()[0])
        if not bad:
            # Every value converts alone but the column does not: keep the buffer.
            raise ValueError(
                f"table {table!r}: cannot convert the {len(rows)} buffered rows to "
                f"{_schema(buf)}; they are kept in the buffer"
            )
        i = min(bad)
        name, sql_type, value, why = bad[i]
        good = [r for k, r in enumerate(rows) if k not in bad]
        arrays = None
        if good:
            arrays = [
                _to_arrow(col, t)
                for col, t in zip(_transpose(good, len(buf.names)), buf.types, strict=True)
            ]
        err = ValueError(
            f"table {table!r}: column {name!r} ({sql_type}) cannot hold {value!r} "
            f"({type(value).__name__}) in buffered row {i} ({why}); dropped {len(bad)} bad "
            f"row(s) of {len(rows)}, wrote the other {len(good)}"
        )
        return arrays, err


def _memory_limit(text: str) -> str:
    """``text`` if it is a DuckDB memory size (``"128MB"``, ``"1.5 GiB"``), else ValueError."""
    import re

    if not isinstance(text, str) or not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", text.strip()):
        raise ValueError(f"RunStore: memory_limit must be a size like '128MB', got {text!r}")
    return text.strip()


def _to_arrow(values: list | tuple, sql_type: str) -> pa.Array:
    """Convert one column of Python values to the Arrow type of ``sql_type``."""
    target = COLUMN_TYPES[sql_type]
    if sql_type not in _INT_TYPES:
        return pa.array(values, type=target)
    # pa.array(floats, type=int64) truncates silently, so infer first and insist on
    # an integer (or all-null) result; the safe cast then catches overflow.
    try:
        inferred = pa.array(values)
    except OverflowError:
        # Beyond int64: only UBIGINT / HUGEINT can hold it.
        if sql_type not in ("UBIGINT", "HUGEINT"):
            raise
        if any(isinstance(v, float) for v in values):
            raise TypeError(f"{sql_type} column got a float") from None
        return pa.array(values, type=target)
    if pa.types.is_null(inferred.type):
        return pa.nulls(len(values), type=target)
    if not pa.types.is_integer(inferred.type):
        raise TypeError(f"{sql_type} column got {inferred.type} values")
    return inferred.cast(target)


def _transpose(rows: list[tuple], width: int) -> list[list]:
    """Rows -> columns (``itemgetter`` per column: about twice as fast as ``zip(*rows)``)."""
    return [list(map(itemgetter(j), rows)) for j in range(width)]


def _schema(buf: _Buffer) -> str:
    return "(" + ", ".join(f"{n} {t}" for n, t in zip(buf.names, buf.types, strict=True)) + ")"


def open_store(path: str | os.PathLike[str]) -> RunStore:
    """Open an existing run store for reading (plots, notebooks, reports).

    Equivalent to ``RunStore(path, read_only=True)``: :meth:`RunStore.query`,
    :meth:`~RunStore.table`, :meth:`~RunStore.tables`, :meth:`~RunStore.row_count`
    and :meth:`~RunStore.export_parquet` work; ``declare`` and ``append`` raise
    ``ValueError``. Several processes may read one file at once, but not while a
    process has it open for writing. Close it (or use ``with``) when done.

    Raises:
        FileNotFoundError: no file at ``path``.
    """
    return RunStore(path, read_only=True)
