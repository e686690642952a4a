"""A fuzz campaign from the command line: ``fuzz`` over several seeds, one process each.

Prints one line per seed (transactions, steps, wall time, transactions per second,
peak resident memory, violation) and the totals; exits 1 on a violation, on fewer
transactions than ``--min-transactions`` or on a peak above ``--max-rss-mb``. The CI
campaign (``tests/test_fuzz_campaign.py``) is the default: seeds 1-4, 25,000 steps
each, two processes at a time. Usage::

    .venv/bin/python benchmarks/fuzz_campaign.py [--seeds 1 2 3 4] [--steps 25000] \\
        [--workers 2] [--core python] [--failures DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    from defisim.experiments.fuzz_campaign import CORES, run_campaign

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--steps", type=int, default=25_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--core", choices=CORES, default="python")
    ap.add_argument("--failures", default=None, help="folder for fuzz-failure-<seed>.json files")
    ap.add_argument("--json", default=None, help="write the result as JSON here")
    ap.add_argument("--min-transactions", type=int, default=0)
    ap.add_argument("--max-rss-mb", type=float, default=float("inf"))
    a = ap.parse_args(argv)
    res = run_campaign(a.seeds, a.steps, a.workers, a.core, failures_dir=a.failures)
    print(res.report())
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res.to_json_dict(), f, indent=1)
    ok = (not res.violations and res.transactions >= a.min_transactions
          and res.peak_rss_mb <= a.max_rss_mb)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
