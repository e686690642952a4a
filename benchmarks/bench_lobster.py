"""Throughput of the LOBSTER replay (``defisim.replay.replay_lobster``) on AMZN level 1.

Run: ``.venv/bin/python benchmarks/bench_lobster.py [--repeat N] [MESSAGE_CSV ORDERBOOK_CSV]``

Parses the two files once, then times the replay loop alone (book updates plus a snapshot
check after every message) ``N`` times, and prints messages, matched/total snapshots, seeded
adjustments and messages per second (best and median). It also times ``N`` end-to-end calls
of :func:`replay_lobster` (parsing both files included). Single process, single core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from defisim.replay import lobster

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lobster"
AMZN = DATA / "AMZN_2012-06-21_34200000_57600000"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="MESSAGE_CSV ORDERBOOK_CSV (default: AMZN level 1)")
    ap.add_argument("--repeat", type=int, default=7, help="timed runs of each kind (default 7)")
    args = ap.parse_args(argv)
    if args.files and len(args.files) != 2:
        ap.error("give both MESSAGE_CSV and ORDERBOOK_CSV, or neither")
    msg_path, book_path = args.files or (
        f"{AMZN}_message_1.csv",
        f"{AMZN}_orderbook_1.csv",
    )
    if not Path(msg_path).exists():
        print(f"skipped: {msg_path} is absent", file=sys.stderr)
        return 0

    lobster.replay_lobster(msg_path, book_path)  # warm-up: imports, file cache
    t0 = time.perf_counter()
    msgs = lobster.read_messages(msg_path)
    t1 = time.perf_counter()
    rows = lobster.read_orderbook(book_path)
    t2 = time.perf_counter()
    levels = len(rows[0]) // 4

    loop, loop_cpu = [], []
    for _ in range(args.repeat):
        rep = lobster._Replay(msgs, rows, levels, levels)
        t, c = time.perf_counter(), time.process_time()
        rep.run()
        loop.append(time.perf_counter() - t)
        loop_cpu.append(time.process_time() - c)
    result = rep.result(min(loop), t2 - t0, book_path)

    e2e = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        lobster.replay_lobster(msg_path, book_path)
        e2e.append(time.perf_counter() - t)

    n = result.messages
    print(f"file            {Path(msg_path).name} (level {levels})")
    print(f"messages        {n:,}")
    print(f"matched/total   {result.snapshots_matched:,} / {result.snapshots_total:,}")
    print(
        f"adjustments     {result.seeded_adjustments:,} seeded adjustments on "
        f"{result.adjusted_snapshots:,} snapshots"
    )
    print(
        f"replay loop     best {n / min(loop):,.0f} msg/s ({min(loop) * 1e3:.1f} ms), "
        f"median {n / statistics.median(loop):,.0f} msg/s ({statistics.median(loop) * 1e3:.1f} ms)"
    )
    print(f"replay loop CPU best {n / min(loop_cpu):,.0f} msg/CPU-s ({min(loop_cpu) * 1e3:.1f} ms)")
    print(f"parse           messages {(t1 - t0) * 1e3:.1f} ms, orderbook {(t2 - t1) * 1e3:.1f} ms")
    print(
        f"end to end      best {min(e2e) * 1e3:.1f} ms = {n / min(e2e):,.0f} msg/s, "
        f"median {statistics.median(e2e) * 1e3:.1f} ms = {n / statistics.median(e2e):,.0f} msg/s"
    )
    print(f"repeats         {args.repeat}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
