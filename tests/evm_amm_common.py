"""What the tests of the AMM plug-in on the bytecode (``test_evm_amm_*.py``) share: the
artifacts check, the AMM events of a run in a comparable form, and a scenario run on
one backend with its recorded swaps."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from defisim import Simulation
from defisim.chain.events import Event
from defisim.evm import NpmUnavailable, load_artifact
from defisim.runner import run_scenario
from defisim.scenarios import get_scenario


def require_artifacts(package: str, contract: str, ours: str) -> None:
    """Skip the module when the npm artifacts or solc-js cannot be installed."""
    try:
        load_artifact(package, contract)
        from defisim.evm_amm import our_contract

        our_contract(ours)
    except NpmUnavailable as exc:
        pytest.skip(f"npm artifacts unavailable: {exc}")


def amm_events(sim: Simulation) -> list[tuple]:
    """The AMM events drained from ``sim`` as tuples; a rejection by its transaction,
    party, market and reason (not its detail: the bytecode's reverts carry no Python
    detail text)."""
    out = []
    for ev in sim.drain_events():
        if isinstance(ev, Event) and type(ev).__module__.startswith("defisim.protocols.amm"):
            out.append((type(ev).__name__, *(getattr(ev, f) for f in ev.__dataclass_fields__)))
        elif type(ev).__name__ == "TransactionRejected":
            out.append(("TransactionRejected", ev.tx, ev.party, ev.market, ev.reason))
    return out


def scenario_run(name: str, backend: str, tmp: Path, seed: int = 5, **params) -> tuple[dict, list]:
    """Run scenario ``name`` on ``backend`` into ``tmp/<backend>``: ``(KPIs, amm_swaps
    rows)``."""
    cls = get_scenario(name)
    scn = cls(cls.Params(**{**params, "backend": backend}))
    out = tmp / f"{backend}-{params.get('evm_node', 'embedded')}"
    res = run_scenario(scn, seed=seed, out_dir=out, progress=False)
    assert res.error is None, res.error
    with duckdb.connect(str(out / "run.duckdb"), read_only=True) as con:
        swaps = con.execute("select * from amm_swaps order by all").fetchall()
    return res.kpis, swaps
