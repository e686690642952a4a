"""Uniswap V3 tick.csv replay (spec amm.md 4.7): the real 2024-01-05 USDC/WETH day, a
synthetic day written from a pool we drive ourselves, format errors and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defisim.cli import app
from defisim.protocols.amm.v3 import V3Pool
from defisim.protocols.amm.v3.tick_math import get_sqrt_ratio_at_tick
from defisim.replay import (
    UniswapV3FormatError,
    infer_tick_nets,
    read_tick_csv,
    replay_uniswap_v3,
)
from defisim.replay.uniswap_v3 import format_result

DATA = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/uniswap_v3/ethereum-0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640-2024-01-05.tick.csv"
)
needs_data = pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is absent")

HEADER = (
    "block_number,block_timestamp,tx_type,transaction_hash,pool_tx_index,pool_log_index,"
    "proxy_log_index,sender,receipt,amount0,amount1,total_liquidity,total_liquidity_delta,"
    "sqrtPriceX96,current_tick,position_id,tick_lower,tick_upper,liquidity"
)
JSON_KEYS = {
    "swaps",
    "swaps_matched",
    "events",
    "events_matched",
    "inferred_ticks",
    "swaps_per_second",
    "exact_input",
    "exact_output",
    "price_limit",
    "mints",
    "mints_matched",
    "burns",
    "burns_matched",
    "collects",
    "unmatched",
    "resyncs",
}


class Day:
    """Writes tick.csv rows for the events of a :class:`V3Pool` we drive (fee 500)."""

    def __init__(self, pool: V3Pool):
        self.pool = pool
        self.rows: list[str] = []
        self.block = 100

    def row(self, kind, a0, a1, lower="", upper="", liq="", delta=0) -> None:
        p = self.pool
        self.block += 1
        self.rows.append(
            f"{self.block},2024-01-05 00:00:00,{kind},0xabc,0,{len(self.rows)},,0xs,0xr,"
            f"{a0},{a1},{p.liquidity},{delta},{p.sqrt_price_x96},{p.tick}.0,,"
            f"{lower}{'.0' if lower != '' else ''},{upper}{'.0' if upper != '' else ''},{liq}"
        )

    def swap(self, zfo: bool, amount: int, limit: int | None = None) -> None:
        e = self.pool.swap("t", "t", zfo, amount, limit)
        self.row("SWAP", e.amount0, e.amount1)

    def mint(self, lower: int, upper: int, amount: int) -> None:
        e = self.pool.mint("lp2", "lp2", lower, upper, amount)
        self.row("MINT", e.amount0, e.amount1, lower, upper, amount, amount)

    def burn(self, lower: int, upper: int, amount: int) -> None:
        e = self.pool.burn("lp2", lower, upper, amount)
        self.row("BURN", e.amount0, e.amount1, lower, upper, amount, -amount)

    def write(self, path: Path) -> Path:
        path.write_text(HEADER + "\n" + "\n".join(self.rows) + "\n")
        return path


def synthetic_day(path: Path) -> tuple[Path, V3Pool, dict[int, int]]:
    """A pool with positions opened before the file starts, then swaps that walk the
    price across their bounds (mostly one spacing multiple at a time), mints and burns.
    Returns the file, the pool and the nets of the ticks at the start of the file."""
    pool = V3Pool(500)
    pool.initialize(get_sqrt_ratio_at_tick(5) + 12345)
    for lower, upper, liq in (
        (-2000, 2000, 10**21),
        (-50, 30, 3 * 10**20),
        (-20, 60, 2 * 10**20),
        (10, 40, 5 * 10**20),
    ):
        pool.mint("lp", "lp", lower, upper, liq)
    start_nets = {t: info.liquidity_net for t, info in pool.ticks.items()}
    day = Day(pool)
    step = 2 * 10**17  # about 2 ticks at this liquidity
    day.swap(True, step)  # the seed swap
    for _ in range(45):  # up to about tick 80
        day.swap(False, step)
    day.mint(20, 50, 4 * 10**20)  # in range: moves L
    for _ in range(70):  # down to about tick -70
        day.swap(True, step)
    day.swap(False, -step)  # exact output of token0
    day.swap(True, -step)  # exact output of token1
    day.swap(True, 10**22, pool.sqrt_price_x96 - 10**26)  # stopped by a price limit
    day.burn(20, 50, 10**20)  # out of range: ticks only
    day.row("BURN", 0, 0, 20, 50, 0)  # a poke
    for _ in range(60):
        day.swap(False, step)
    day.burn(20, 50, 3 * 10**20)
    day.row("COLLECT", 5, 6, 20, 50)
    for _ in range(30):
        day.swap(True, step)
    return day.write(path), pool, start_nets


def test_synthetic_day_reproduces_and_infers_nets(tmp_path):
    path, pool, start_nets = synthetic_day(tmp_path / "day.tick.csv")
    ev = read_tick_csv(path)
    nets = infer_tick_nets(ev)
    assert nets.conflicts == [] and nets.unresolved == {}
    crossed = {t: n for t, n in start_nets.items() if -60 < t < 80}
    # every crossed bound, from the swaps alone; 20 and 50 (only today's mint) have base 0
    assert nets.base == crossed | {20: 0, 50: 0}
    r = replay_uniswap_v3(path)
    swap_rows = sum(1 for row in path.read_text().split("\n") if ",SWAP," in row)
    assert r.swaps == r.swaps_matched == swap_rows - 1  # all but the seed
    assert r.unmatched == [] and r.resyncs == 0
    assert r.exact_output >= 2 and r.exact_input > 100
    assert (r.mints, r.mints_matched, r.burns, r.burns_matched) == (1, 1, 2, 2)
    assert (r.pokes, r.pokes_matched, r.collects, r.unchecked) == (1, 1, 1, 1)
    assert r.events == r.events_checked + r.collects + r.unchecked
    assert r.events_matched == r.events_checked
    assert "reproduced to the wei" in format_result(r)


def test_synthetic_day_wrong_amount_is_unmatched_and_resynced(tmp_path):
    path, _, _ = synthetic_day(tmp_path / "day.tick.csv")
    lines = path.read_text().split("\n")
    fields = lines[10].split(",")
    fields[9] = str(int(fields[9]) + 1)  # amount0 of data row 9 (line 11), one wei off
    lines[10] = ",".join(fields)
    path.write_text("\n".join(lines))
    r = replay_uniswap_v3(path)
    assert r.swaps_matched == r.swaps - 1 and r.resyncs == 1
    (u,) = r.unmatched
    assert (u["row"], u["line"], u["type"]) == (9, 11, "SWAP")
    assert "reproduces it" in u["reason"]


def test_an_unknown_replay_backend_is_one_clear_error(tmp_path):
    path, _, _ = synthetic_day(tmp_path / "day.tick.csv")
    with pytest.raises(ValueError, match="unknown replay backend 'evmm'"):
        replay_uniswap_v3(path, backend="evmm")


UNMATCHED_ROWS = (1827, 1828, 1874, 1875, 4375, 4377, 4378, 4412, 4413, 4414, 4426, 4427, 4428)


@needs_data
def test_real_day():
    r = replay_uniswap_v3(DATA)
    assert r.events == 6234
    assert (r.swaps, r.swaps_matched) == (6045, 6032)
    assert (r.exact_input, r.exact_output, r.price_limit) == (5227, 614, 191)
    assert (r.mints, r.mints_matched, r.burns, r.burns_matched) == (54, 54, 55, 55)
    assert (r.pokes, r.pokes_matched, r.collects) == (14, 14, 65)
    assert r.inferred_ticks == 32 and r.inferred_range == (199000, 199310)
    assert r.liquidity_changing_swaps == 567 and r.single_candidate_swaps == 484
    assert r.net_conflicts == 0 and r.resyncs == 13
    assert r.unresolved_ticks == [198980, 198990] + list(range(199320, 199390, 10))
    assert tuple(u["row"] for u in r.unmatched) == UNMATCHED_ROWS
    assert all("only ever seen summed" in u["reason"] for u in r.unmatched)
    assert r.events_matched == 6032 + 54 + 55 + 14
    # row 90 (spec 4.7): crosses 199030 going down with net -72789684269746546
    assert infer_tick_nets(read_tick_csv(DATA)).base[199030] == -72789684269746546


# -- format errors -------------------------------------------------------------------------------

GOOD_SWAP = (
    "18937382,2024-01-05 00:00:23,SWAP,0x0b,33,169,,0x3f,0x3f,-22686110,10000000000000000,"
    "12453647101533358277,0,1662995104975155420368771254341874,199045.0,,,,"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.tick.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("", "line 1: the file is empty"),
        (HEADER + "\n", "no data rows"),
        (
            HEADER.replace(",sqrtPriceX96", ",price") + "\n" + GOOD_SWAP,
            "missing column 'sqrtPriceX96'",
        ),
        (
            HEADER + "\n" + GOOD_SWAP + "\n" + GOOD_SWAP.replace("-22686110", "-2.5e7"),
            "line 3 (row 1), column 'amount0': not an integer: '-2.5e7'",
        ),
        (
            HEADER + "\n" + GOOD_SWAP.replace("199045.0", "199045.5"),
            "line 2 (row 0), column 'current_tick': not an integer",
        ),
        (
            HEADER + "\n" + GOOD_SWAP.replace(",SWAP,", ",FLASH,"),
            "line 2 (row 0), column 'tx_type': unknown tx_type 'FLASH'",
        ),
        (
            HEADER + "\n" + GOOD_SWAP.replace(",SWAP,", ",MINT,"),
            "line 2 (row 0), column 'tick_lower': not an integer, got an empty field",
        ),
        (
            HEADER + "\n" + GOOD_SWAP.replace(",12453647101533358277,", ",,"),
            "line 2 (row 0), column 'total_liquidity': not an integer",
        ),
        (HEADER + "\n" + GOOD_SWAP.rsplit(",", 5)[0], "line 2 (row 0): 14 fields"),
        (
            HEADER + "\n" + GOOD_SWAP.replace("1662995104975155420368771254341874", "0"),
            "column 'sqrtPriceX96': 0 outside",
        ),
    ],
)
def test_format_errors_name_line_row_and_column(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(UniswapV3FormatError) as err:
        read_tick_csv(path)
    assert str(path) in str(err.value) and where in str(err.value)


def test_tick_columns_accept_floats_and_file_needs_a_swap(tmp_path):
    ev = read_tick_csv(write(tmp_path, HEADER + "\n" + GOOD_SWAP))
    assert (ev.tick, ev.amount0, ev.total_liquidity) == (
        [199045],
        [-22686110],
        [12453647101533358277],
    )
    collect = GOOD_SWAP.replace(",SWAP,", ",COLLECT,").replace(",,,,", ",,199040.0,199050.0,")
    with pytest.raises(UniswapV3FormatError, match="no SWAP row"):
        replay_uniswap_v3(write(tmp_path, HEADER + "\n" + collect))
    with pytest.raises(FileNotFoundError):
        replay_uniswap_v3(tmp_path / "absent.csv")


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_json_keys(tmp_path):
    path, _, _ = synthetic_day(tmp_path / "day.tick.csv")
    res = CliRunner().invoke(app, ["replay-uniswap-v3", str(path), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert JSON_KEYS <= d.keys()
    assert d["swaps"] == d["swaps_matched"] and d["unmatched"] == []
    res = CliRunner().invoke(app, ["replay-uniswap-v3", str(path)])
    assert res.exit_code == 0 and "swaps/s" in res.output


def test_cli_malformed_file_exits_2(tmp_path):
    path = write(tmp_path, HEADER + "\n" + GOOD_SWAP.replace(",SWAP,", ",FLASH,"))
    res = CliRunner().invoke(app, ["replay-uniswap-v3", str(path)])
    assert res.exit_code == 2
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "tx_type" in lines[0]
    res = CliRunner().invoke(app, ["replay-uniswap-v3", str(tmp_path / "absent.csv")])
    assert res.exit_code == 2 and res.output.startswith("error:")
