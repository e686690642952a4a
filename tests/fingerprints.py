"""Fingerprints of recorded runs: one digest per table of a run's store.

The rebuild of issue 9 must leave every scenario's tables bit-identical in
immediate mode. :func:`fingerprint_run` runs a scenario into a temporary folder
and hashes every table (rows in stored order, each value's ``repr``), so two
builds of the code can be compared table by table. ``python tests/fingerprints.py``
rewrites ``tests/data/fingerprints.json`` (only after a deliberate change; the
closing note says which fingerprints changed and why).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

FINGERPRINT_FILE = Path(__file__).parent / "data" / "fingerprints.json"

#: (scenario, seed, --set overrides): short runs that still exercise each scenario's
#: mechanics (auctions, closeouts, settlement, LP epochs, funding, fuzz rejections).
CASES: list[tuple[str, int, dict]] = [
    ("btc_futures", 0, {"steps": 120}),
    ("btc_futures", 7, {"steps": 120}),
    ("market_crash", 0, {}),
    ("market_crash", 3, {}),
    ("liquidation_cascade", 0, {}),
    ("liquidation_cascade", 5, {}),
    ("perp_btc", 0, {"steps": 200}),
    ("lp_competition", 0, {}),
    ("lp_competition", 2, {}),
    ("fuzz", 1, {"steps": 300}),
    ("fuzz", 9, {"steps": 300}),
    ("ideal_market_maker", 0, {"steps": 300}),
    ("historic_market_maker", 0, {"steps": 200}),
    ("comprehensive_market", 0, {}),
    ("fee_risk_study", 0, {}),
    ("rmsc04", 1, {"steps": 1500}),
    ("load_test", 0, {"steps": 60}),
    ("simplegrant", 0, {}),
    ("simplegrant", 4, {}),
]

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BTC_1H = str(DATA / "crypto" / "BTCUSDT_1h.csv")

#: Cases on the real price file (skipped when ``../shared/data`` is absent).
DATA_CASES: list[tuple[str, int, dict]] = [
    ("btc_futures", 0, {"prices_file": BTC_1H, "steps": 150}),
    ("historic_market_maker", 0, {"prices_file": BTC_1H, "steps": 150}),
    ("perp_btc", 0, {"prices_file": BTC_1H, "steps": 150}),
]


def case_id(scenario: str, seed: int, overrides: dict) -> str:
    extra = ",".join(f"{k}={Path(v).name if k == 'prices_file' else v}"
                     for k, v in sorted(overrides.items()))
    return f"{scenario}:{seed}" + (f":{extra}" if extra else "")


def fingerprint_run(scenario: str, seed: int, overrides: dict) -> dict[str, str]:
    """``{table: sha256 of its rows}`` plus ``"summary"`` (steps and final KPIs)."""
    import duckdb

    from defisim.runner import run_scenario
    from defisim.scenarios import get_scenario

    cls = get_scenario(scenario)
    sc = cls(cls.Params(**overrides))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        res = run_scenario(sc, seed=seed, out_dir=out, progress=False, plots=False,
                           command=["fingerprint"])
        digests: dict[str, str] = {}
        con = duckdb.connect(str(out / "run.duckdb"), read_only=True)
        try:
            # the store's own progress row (__defisim_progress) is not a result table
            names = sorted(r[0] for r in con.execute(
                "SELECT table_name FROM information_schema.tables").fetchall()
                if not r[0].startswith("__defisim"))
            for name in names:
                h = hashlib.sha256()
                cols = con.execute(f'DESCRIBE "{name}"').fetchall()
                h.update(repr([(c[0], c[1]) for c in cols]).encode())
                for row in con.execute(f'SELECT * FROM "{name}"').fetchall():
                    h.update(repr(row).encode())
                    h.update(b"\n")
                digests[name] = h.hexdigest()
        finally:
            con.close()
    summary = {"steps": res.steps, "error": res.error,
               "kpis": {k: repr(v) for k, v in sorted(res.kpis.items())}}
    digests["summary"] = hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()
    return digests


if __name__ == "__main__":
    only = set(sys.argv[1:])
    data = json.loads(FINGERPRINT_FILE.read_text()) if FINGERPRINT_FILE.exists() else {}
    for c in CASES + (DATA_CASES if DATA.exists() else []):
        cid = case_id(*c)
        if only and c[0] not in only:
            continue
        data[cid] = fingerprint_run(*c)
        print(cid, "done", flush=True)
    FINGERPRINT_FILE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
