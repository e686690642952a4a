"""The run store: an embedded DuckDB database written through per-table buffers.

:class:`RunStore` is generic: callers (the runner, sweeps, RL recorders) declare
their own tables and append tuples; rows are written in batches through Arrow,
never one by one, all tables of a flush in one transaction (with an optional
progress row: the last step completely written, :meth:`RunStore.progress`). Every
table can be exported to Parquet. :func:`open_store` opens
a finished run read-only for plots and reports.

This package imports nothing else of defisim.
"""

from .runstore import COLUMN_TYPES, PROGRESS_TABLE, Progress, RunStore, open_store

__all__ = ["COLUMN_TYPES", "PROGRESS_TABLE", "Progress", "RunStore", "open_store"]
