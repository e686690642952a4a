"""TokenSPICE-style netlists as scenarios: the engine (:mod:`.engine`: horizon, logged
rows, declared agent order), the CSV files (:mod:`.tokenspice_csv`) and the plots
(:mod:`.tokenspice_plots`) of ``../shared/specs/token-netlists.md`` section 1."""

from .engine import (
    BASE_COLUMNS,
    S_DAY,
    S_HOUR,
    S_MIN,
    S_MONTH,
    S_YEAR,
    Netlist,
    NetlistParams,
    base_values,
    human,
    max_ticks,
)
from .tokenspice_csv import NetlistCsvError, read_csv, write_rows
from .tokenspice_plots import (
    BOTH,
    COUNT,
    DIV1B,
    DIV1M,
    DOLLAR,
    LINEAR,
    LOG,
    MULT1,
    MULT100,
    PERCENT,
    YParam,
)

__all__ = [
    "BASE_COLUMNS",
    "BOTH",
    "COUNT",
    "DIV1B",
    "DIV1M",
    "DOLLAR",
    "LINEAR",
    "LOG",
    "MULT1",
    "MULT100",
    "PERCENT",
    "S_DAY",
    "S_HOUR",
    "S_MIN",
    "S_MONTH",
    "S_YEAR",
    "Netlist",
    "NetlistCsvError",
    "NetlistParams",
    "YParam",
    "base_values",
    "human",
    "max_ticks",
    "read_csv",
    "write_rows",
]
