"""LOBSTER replay through the futures order book: real sample files and hand-made ones."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from defisim.replay import (
    ASK_PAD,
    BID_PAD,
    LobsterFormatError,
    ReplayResult,
    format_result,
    read_messages,
    read_orderbook,
    replay_lobster,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lobster"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} is absent")

A, B = ASK_PAD, BID_PAD


def write(path: Path, rows: list[tuple]) -> Path:
    text = "\n".join(",".join(str(x) for x in r) for r in rows) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


# Level 2. Snapshot 0 shows a bid of 50 at 990 that no message explains: seeded before
# message 0 (one adjustment). Then every event type on known and unknown orders.
MESSAGES_L2 = [
    (34200.0, 1, 1, 100, 1000, -1),  # new sell 100 @ 1000 (id 1)
    (34200.1, 1, 2, 30, 995, 1),  # new buy 30 @ 995 (id 2)
    (34200.2, 2, 1, 40, 1000, -1),  # partial cancel of id 1: 60 left
    (34200.3, 4, 2, 30, 995, 1),  # execution of id 2, in priority
    (34200.4, 5, 0, 10, 997, -1),  # hidden execution: book unchanged
    (34200.5, 3, 999, 20, 990, 1),  # deletion of an unknown id: seeded 50 -> 30
    (34200.6, 1, 3, 10, 990, 1),  # new buy 10 @ 990 (id 3) behind the seeded 30
    (34200.7, 4, 3, 10, 990, 1),  # execution of id 3: seeded liquidity is in front
    (34200.8, 4, 888, 5, 990, 1),  # execution of an unknown id: seeded 30 -> 25
    (34200.9, 1, 4, 25, 1000, -1),  # new sell 25 @ 1000 (id 4) behind id 1
    (34201.0, 4, 1, 60, 1000, -1),  # execution of id 1, in priority
    (34201.1, 7, 0, 0, -1, -1),  # trading halt: skipped
    (34201.2, 6, 0, 100, 1000, -1),  # cross trade: skipped
    (34201.3, 3, 4, 25, 1000, -1),  # deletion of id 4: the ask side is empty
]
BOOK_L2 = [
    (1000, 100, 990, 50, A, 0, B, 0),
    (1000, 100, 995, 30, A, 0, 990, 50),
    (1000, 60, 995, 30, A, 0, 990, 50),
    (1000, 60, 990, 50, A, 0, B, 0),
    (1000, 60, 990, 50, A, 0, B, 0),
    (1000, 60, 990, 30, A, 0, B, 0),
    (1000, 60, 990, 40, A, 0, B, 0),
    (1000, 60, 990, 30, A, 0, B, 0),
    (1000, 60, 990, 25, A, 0, B, 0),
    (1000, 85, 990, 25, A, 0, B, 0),
    (1000, 25, 990, 25, A, 0, B, 0),
    (1000, 25, 990, 25, A, 0, B, 0),
    (1000, 25, 990, 25, A, 0, B, 0),
    (A, 0, 990, 25, A, 0, B, 0),
]

# Level 1: liquidity moves out of view and comes back changed, with no message.
MESSAGES_L1 = [
    (34200.1, 1, 1, 10, 101, 1),  # new bid 10 @ 101 (id 1); ask 5 @ 200 is seeded
    (34200.2, 1, 2, 20, 102, 1),  # new bid 20 @ 102 (id 2): 101 leaves the view
    (34200.3, 1, 3, 30, 103, 1),  # new bid 30 @ 103 (id 3): 102 leaves the view
    (34200.4, 3, 3, 30, 103, 1),  # 102 is back with 5: 15 of id 2 went unseen (trim)
    (34200.5, 4, 2, 5, 102, 1),  # execution of id 2; 99 shows 70: 101 is cleared, 99 seeded
    (34200.6, 2, 777, 20, 99, 1),  # partial cancel of an unknown id at 99
    (34200.7, 3, 555, 5, 200, -1),  # deletion of the seeded ask; 201 (7) comes into view
    (34200.8, 1, 5, 10, 201, -1),  # new ask 10 @ 201 (id 5) behind the seeded 7
    (34200.9, 3, 5, 8, 201, -1),  # deletion of id 5 for 8, not 10: a size mismatch
]
BOOK_L1 = [
    (200, 5, 101, 10),
    (200, 5, 102, 20),
    (200, 5, 103, 30),
    (200, 5, 102, 5),
    (200, 5, 99, 70),
    (200, 5, 99, 50),
    (201, 7, 99, 50),
    (201, 17, 99, 50),
    (201, 9, 99, 50),
]


@pytest.fixture
def files_l2(tmp_path: Path) -> tuple[Path, Path]:
    return (
        write(tmp_path / "X_message_2.csv", MESSAGES_L2),
        write(tmp_path / "X_orderbook_2.csv", BOOK_L2),
    )


def test_every_event_type(files_l2: tuple[Path, Path]) -> None:
    r = replay_lobster(*files_l2)
    assert isinstance(r, ReplayResult)
    assert (r.messages, r.snapshots_matched, r.snapshots_total) == (14, 14, 14)
    assert r.first_mismatch is None and r.resyncs == 0
    assert r.levels == 2
    assert (r.new_orders, r.cancels, r.deletions, r.executions) == (4, 1, 2, 4)
    assert (r.hidden_executions, r.skipped, r.cross_trades, r.halts) == (1, 2, 1, 1)
    # only the bid of snapshot 0 had to be seeded
    assert r.seeded_adjustments == 1
    assert r.adjusted_snapshots == 1
    assert (r.seeded_levels, r.seeded_volume, r.trimmed_levels, r.cleared_levels) == (1, 50, 0, 0)
    # id 2 and id 1 first in their queues; id 3 behind seeded liquidity; 888 unknown
    assert r.executions_in_priority == 2
    assert r.executions_out_of_priority == 1
    assert r.out_of_priority_behind_seeded == 1
    assert r.executions_unknown_id == 1
    assert r.executions_unknown_id_in_priority == 1
    assert r.unknown_id_messages == 2  # the deletion of 999 and the execution of 888
    assert r.size_mismatches == 0 and r.short_volume == 0


def test_unseen_liquidity_is_seeded_trimmed_and_cleared(tmp_path: Path) -> None:
    r = replay_lobster(write(tmp_path / "m.csv", MESSAGES_L1), write(tmp_path / "b.csv", BOOK_L1))
    assert (r.messages, r.snapshots_matched, r.snapshots_total) == (9, 9, 9)
    # seeded: ask 200 (before message 0), bid 99 and ask 201 coming into view
    assert (r.seeded_levels, r.seeded_volume) == (3, 5 + 70 + 7)
    # trimmed: 15 of id 2 at 102; cleared: the stale bid of 10 at 101
    assert (r.trimmed_levels, r.cleared_levels, r.trimmed_volume) == (1, 1, 15 + 10)
    assert r.seeded_adjustments == 5
    assert r.adjusted_snapshots == 4  # rows 0, 3, 4 and 6
    assert r.executions_in_priority == 1
    assert r.unknown_id_messages == 2  # 777 and 555
    assert r.size_mismatches == 1  # id 5 deleted for 8 of its 10
    assert r.short_volume == 0 and r.resyncs == 0


def test_initial_seed_puts_message_zero_behind_resting_liquidity(tmp_path: Path) -> None:
    # snapshot 0 shows 100 at 1000 after a new order of 30 there: 70 rested before it,
    # so the execution of the new order for 30 is out of priority behind seeded liquidity
    msgs = [(1.0, 1, 7, 30, 1000, -1), (2.0, 4, 7, 30, 1000, -1)]
    book = [(1000, 100, 900, 10), (1000, 70, 900, 10)]
    r = replay_lobster(write(tmp_path / "m.csv", msgs), write(tmp_path / "b.csv", book))
    assert (r.snapshots_matched, r.seeded_adjustments, r.seeded_volume) == (2, 2, 80)
    assert (r.executions_out_of_priority, r.out_of_priority_behind_seeded) == (1, 1)


def test_initial_seed_restores_liquidity_taken_by_message_zero(tmp_path: Path) -> None:
    # message 0 deletes an unknown order of 40 at 995, the best bid before the file starts
    msgs = [(1.0, 3, 5, 40, 995, 1), (2.0, 3, 6, 10, 990, 1)]
    book = [(1000, 100, 990, 50), (1000, 100, 990, 40)]
    r = replay_lobster(write(tmp_path / "m.csv", msgs), write(tmp_path / "b.csv", book))
    assert (r.snapshots_matched, r.snapshots_total) == (2, 2)
    assert (r.seeded_levels, r.seeded_volume) == (3, 100 + 50 + 40)
    assert r.unknown_id_messages == 2 and r.short_volume == 0


def test_mismatch_is_reported_with_line(files_l2: tuple[Path, Path], tmp_path: Path) -> None:
    book = list(BOOK_L2)
    book[-1] = (A, 0, 990, 24, A, 0, B, 0)  # one share off in the last row
    r = replay_lobster(files_l2[0], write(tmp_path / "bad_orderbook.csv", book))
    assert (r.snapshots_matched, r.snapshots_total, r.resyncs) == (13, 14, 1)
    assert r.first_mismatch is not None
    assert "X_message_2.csv:14:" in r.first_mismatch
    assert "[9999999999, 0, 990, 25" in r.first_mismatch  # the book
    assert "[9999999999, 0, 990, 24" in r.first_mismatch  # the file


def test_wrong_message_is_detected(files_l2: tuple[Path, Path], tmp_path: Path) -> None:
    msgs = list(MESSAGES_L2)
    msgs[2] = (34200.2, 2, 1, 41, 1000, -1)  # cancels 41 instead of 40
    r = replay_lobster(write(tmp_path / "m.csv", msgs), files_l2[1])
    assert r.snapshots_matched < r.snapshots_total
    assert ":3:" in (r.first_mismatch or "")


def test_gzip_and_levels(files_l2: tuple[Path, Path], tmp_path: Path) -> None:
    gz = (
        write(tmp_path / "m.csv.gz", MESSAGES_L2),
        write(tmp_path / "b.csv.gz", BOOK_L2),
    )
    plain, zipped = replay_lobster(*files_l2), replay_lobster(*gz)
    drop = {"seconds", "parse_seconds", "messages_per_second", "end_to_end_seconds"}
    drop |= {"message_file", "orderbook_file"}
    a = {k: v for k, v in plain.to_json_dict().items() if k not in drop}
    b = {k: v for k, v in zipped.to_json_dict().items() if k not in drop}
    assert a == b
    top1 = replay_lobster(*files_l2, levels=1)
    assert (top1.levels, top1.snapshots_matched, top1.snapshots_total) == (1, 14, 14)
    with pytest.raises(ValueError, match="levels=3"):
        replay_lobster(*files_l2, levels=3)


def test_result_json_and_summary(files_l2: tuple[Path, Path]) -> None:
    r = replay_lobster(*files_l2)
    d = r.to_json_dict()
    for key in ("messages", "snapshots_matched", "snapshots_total", "messages_per_second"):
        assert key in d
    assert d["messages"] == 14 and d["snapshots_matched"] == 14
    assert d["seeded_adjustments"] == 1
    assert d["messages_per_second"] == pytest.approx(14 / r.seconds)
    json.dumps(d)
    text = format_result(r)
    assert "14 of 14 matched (100.00 %)" in text
    assert "1 level adjustments" in text


def test_readers(files_l2: tuple[Path, Path]) -> None:
    m = read_messages(files_l2[0])
    assert len(m) == 14
    assert m.event_type[:4] == [1, 1, 2, 4]
    assert m.time[1] == pytest.approx(34200.1)
    rows = read_orderbook(files_l2[1])
    assert rows[0] == [1000, 100, 990, 50, A, 0, B, 0]


# -- malformed files -----------------------------------------------------------------------------

GOOD_MSG = [(1.0, 1, 1, 10, 100, 1), (2.0, 3, 1, 10, 100, 1), (3.0, 5, 0, 1, 100, -1)]
GOOD_BOOK = [(200, 5, 100, 10), (200, 5, 99, 3), (200, 5, 99, 3)]


@pytest.mark.parametrize(
    ("lines", "pattern"),
    [
        (
            ["1.0,1,1,10,100,1", "2.0,3,1,10,100,1", "3.0,5,0,1,100"],
            r"m\.csv:3: expected 6 .*got 5",
        ),
        (
            ["1.0,1,1,10,100,1", "2.0,3,abc,10,100,1", "3.0,5,0,1,100,-1"],
            r"m\.csv:2: field 3 .*'abc'",
        ),
        (["1.0,1,1,10,100,1", "2.0,3,1,10,100.5,1", "3.0,5,0,1,100,-1"], r"m\.csv:2: field 5"),
        (["1.0,1,1,10,100,1", "2.0,3,1,,100,1", "3.0,5,0,1,100,-1"], r"m\.csv:2: field 4"),
        (["1.0,1,1,10,100,1", "2.0,9,1,10,100,1", "3.0,5,0,1,100,-1"], r"m\.csv:2: event type 9"),
        (["1.0,1,1,10,100,1", "2.0,3,1,10,100,0", "3.0,5,0,1,100,-1"], r"m\.csv:2: direction 0"),
        (["1.0,1,1,0,100,1", "2.0,3,1,10,100,1", "3.0,5,0,1,100,-1"], r"m\.csv:1: size 0"),
        (["1.0,1,1,10,-5,1", "2.0,3,1,10,100,1", "3.0,5,0,1,100,-1"], r"m\.csv:1: price -5"),
        (["time,type,id,size,price,direction", "1.0,1,1,10,100,1"], r"m\.csv:1: field 1"),
        ([], r"m\.csv:1: the file is empty"),
    ],
)
def test_malformed_message_file(tmp_path: Path, lines: list[str], pattern: str) -> None:
    msg = tmp_path / "m.csv"
    msg.write_text("\n".join(lines))
    book = write(tmp_path / "b.csv", GOOD_BOOK)
    with pytest.raises(LobsterFormatError, match=pattern):
        replay_lobster(msg, book)


@pytest.mark.parametrize(
    ("lines", "pattern"),
    [
        (["200,5,100", "200,5,99", "200,5,99"], r"b\.csv:1: an orderbook row needs 4 x LEVEL"),
        (["200,5,100,10", "200,5,99,3,300,1,98,1", "200,5,99,3"], r"b\.csv:2: expected 4 "),
        (["200,5,100,10", "200,5,99,x", "200,5,99,3"], r"b\.csv:2: field 4 is not an integer"),
        (["200,5,100,10", "200,5,99,0", "200,5,99,3"], r"b\.csv:2: a bid level has no size"),
        (["200,5,100,10", "200,5,99,3", "99,5,99,3"], r"b\.csv:3: the book is crossed"),
        (
            ["200,5,100,10,199,1,99,1", "200,5,99,3,300,1,98,1", "200,5,99,3,300,1,98,1"],
            r"b\.csv:1: ask prices do not rise",
        ),
    ],
)
def test_malformed_orderbook_file(tmp_path: Path, lines: list[str], pattern: str) -> None:
    msg = write(tmp_path / "m.csv", GOOD_MSG)
    book = tmp_path / "b.csv"
    book.write_text("\n".join(lines))
    with pytest.raises(LobsterFormatError, match=pattern):
        replay_lobster(msg, book)


def test_row_count_mismatch(tmp_path: Path) -> None:
    msg = write(tmp_path / "m.csv", GOOD_MSG)
    book = write(tmp_path / "b.csv", GOOD_BOOK[:2])
    with pytest.raises(LobsterFormatError, match=r"m\.csv has 3 rows but .*b\.csv has 2"):
        replay_lobster(msg, book)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        replay_lobster(tmp_path / "nope.csv", write(tmp_path / "b.csv", GOOD_BOOK))


def test_good_small_files_match(tmp_path: Path) -> None:
    r = replay_lobster(write(tmp_path / "m.csv", GOOD_MSG), write(tmp_path / "b.csv", GOOD_BOOK))
    assert (r.snapshots_matched, r.snapshots_total, r.seeded_adjustments) == (3, 3, 2)


def test_padded_levels_are_compared(tmp_path: Path) -> None:
    # the ask side runs out: the book must show padding too
    msgs = [(1.0, 1, 1, 10, 100, 1), (2.0, 4, 2, 5, 200, -1)]
    book = [(200, 5, 100, 10), (A, 0, 100, 10)]
    r = replay_lobster(write(tmp_path / "m.csv", msgs), write(tmp_path / "b.csv", book))
    assert (r.snapshots_matched, r.snapshots_total, r.executions_unknown_id) == (2, 2, 1)


# -- the real LOBSTER samples --------------------------------------------------------------------


@pytest.mark.data
@needs_data
def test_amzn_level1_full_day() -> None:
    stem = DATA / "AMZN_2012-06-21_34200000_57600000"
    r = replay_lobster(f"{stem}_message_1.csv", f"{stem}_orderbook_1.csv")
    assert (r.messages, r.snapshots_matched, r.snapshots_total) == (57_515, 57_515, 57_515)
    assert r.first_mismatch is None and r.resyncs == 0
    assert r.levels == 1
    assert (r.new_orders, r.cancels, r.deletions) == (27_845, 16, 18_235)
    assert (r.executions, r.hidden_executions, r.skipped) == (8_974, 2_445, 0)
    assert r.seeded_adjustments == 10_972
    assert r.adjusted_snapshots == 8_168  # the other 49,347 rows matched on messages alone
    assert (r.seeded_levels, r.trimmed_levels, r.cleared_levels) == (5_116, 2_610, 3_246)
    assert r.executions_in_priority == 5_620
    assert (r.executions_out_of_priority, r.out_of_priority_behind_seeded) == (110, 16)
    assert (r.executions_unknown_id, r.executions_unknown_id_in_priority) == (3_244, 2_026)
    assert (r.unknown_id_messages, r.size_mismatches, r.short_volume) == (7_871, 120, 0)


@pytest.mark.data
@needs_data
def test_aapl_level10_first_999_rows() -> None:
    folder = DATA / "AAPL_2012-06-21_level10_first999rows"
    stem = folder / "AAPL_2012-06-21_34200000_57600000"
    r = replay_lobster(f"{stem}_message_10.csv", f"{stem}_orderbook_10.csv")
    assert (r.messages, r.snapshots_matched, r.snapshots_total) == (999, 999, 999)
    assert r.first_mismatch is None and r.levels == 10
    assert (r.new_orders, r.deletions, r.executions, r.hidden_executions) == (471, 369, 98, 61)
    assert (r.seeded_adjustments, r.adjusted_snapshots) == (33, 15)
    assert (r.seeded_levels, r.trimmed_levels, r.cleared_levels) == (30, 1, 2)
    assert (r.executions_in_priority, r.executions_out_of_priority) == (94, 0)
    assert (r.executions_unknown_id, r.unknown_id_messages, r.size_mismatches) == (4, 9, 0)


@pytest.mark.data
@needs_data
def test_goog_level10_full_day_gzip() -> None:
    stem = DATA / "GOOG_2012-06-21_34200000_57600000"
    r = replay_lobster(f"{stem}_message_10.csv.gz", f"{stem}_orderbook_10.csv.gz")
    assert (r.messages, r.snapshots_matched, r.snapshots_total) == (147_916, 147_916, 147_916)
    assert r.first_mismatch is None
    assert (r.seeded_adjustments, r.adjusted_snapshots) == (8_352, 6_280)
    assert (r.executions_in_priority, r.executions_out_of_priority) == (7_213, 10)
    assert (r.executions_unknown_id, r.size_mismatches, r.short_volume) == (542, 50, 0)
