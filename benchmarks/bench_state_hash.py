"""Cost of ``--state-hash`` on ``comprehensive_market``: a recorded run without it, with
the transaction log only, and with it (a state hash per block); wall and CPU seconds.

    PYTHONPATH=src python benchmarks/bench_state_hash.py [STEPS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from defisim.runner import run_scenario
from defisim.runner.replay_run import replay_run
from defisim.scenarios import get_scenario


def _one(steps: int, state_hash: bool, folder: Path) -> tuple[float, float]:
    cls = get_scenario("comprehensive_market")
    scn = cls(cls.Params(steps=steps))
    w, c = time.perf_counter(), time.process_time()
    run_scenario(scn, seed=0, out_dir=folder, progress=False, state_hash=state_hash)
    return time.perf_counter() - w, time.process_time() - c


def main(steps: int = 1440) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, sh in (("plain", False), ("state-hash", True)):
            w, c = _one(steps, sh, Path(tmp) / name)
            print(f"{name:>10}: {steps} steps  wall {w:6.2f} s ({steps / w:7.1f} steps/s)  "
                  f"cpu {c:6.2f} s")
        w, c = time.perf_counter(), time.process_time()
        res = replay_run(Path(tmp) / "state-hash")
        print(f"    replay: {res.blocks} blocks, {res.transactions} transactions, ok={res.ok}  "
              f"wall {time.perf_counter() - w:6.2f} s  cpu {time.process_time() - c:6.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1440)
