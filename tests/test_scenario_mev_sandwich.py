"""``mev_sandwich``: the same victims and searcher under fifo, random and priority
ordering, run through the runner (invariants on: every asset conserved)."""

from __future__ import annotations

import pytest

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario, scenario_names


def run(seed: int = 3, **params):
    cls = get_scenario("mev_sandwich")
    scenario = cls(cls.Params(**{"steps": 300, **params}))
    result = run_scenario(scenario, seed=seed, record=False, progress=False)
    assert result.error is None and result.steps == scenario.params.steps
    return scenario, result.kpis


@pytest.fixture(scope="module")
def by_ordering():
    return {o: run(ordering=o) for o in ("priority", "fifo", "random")}


def test_searcher_profits_under_priority_only(by_ordering):
    sc, k = by_ordering["priority"]
    assert "mev_sandwich" in scenario_names()
    assert k["sandwiches_attempted"] > 50
    assert k["sandwiches_landed"] >= 0.9 * k["sandwiches_attempted"]
    assert k["searcher_profit"] > 1_000  # USDC, after gas and tips
    assert 0 < k["searcher_gas_paid"] and 0 < k["priority_fees_paid"]
    _, f = by_ordering["fifo"]
    assert f["sandwiches_landed"] == 0 and f["searcher_profit"] < 0
    assert f["priority_fees_paid"] == 0  # no fee market without priority
    _, r = by_ordering["random"]
    assert 0 < r["sandwiches_landed"] < 0.5 * r["sandwiches_attempted"]
    assert r["searcher_profit"] < k["searcher_profit"]


def test_victims_pay_the_searchers_profit_in_slippage(by_ordering):
    _, k = by_ordering["priority"]
    _, f = by_ordering["fifo"]
    # the front-runs push the victims towards their 1 % tolerance
    assert k["victim_shortfall_bps"] > f["victim_shortfall_bps"] + 30
    assert k["victim_shortfall"] > 0
    # what the searcher earns before gas comes out of the victims (and the pool's fees)
    assert k["searcher_gross_profit"] == pytest.approx(k["victim_shortfall"] - f["victim_shortfall"], rel=0.5)
    assert k["victim_rejected"] >= f["victim_rejected"]
    assert k["lp_fees"] > f["lp_fees"] * 0.9 and 1_000 < k["pool_price"] < 4_000


def test_same_seed_same_kpis_and_no_searcher_no_profit():
    _, a = run(seed=5, steps=120)
    _, b = run(seed=5, steps=120)
    assert a == b
    _, c = run(seed=5, steps=120, searcher=False)
    assert "searcher_profit" not in c and c["victim_swaps"] > 0


def test_jit_option_and_bad_execution():
    _, k = run(steps=200, jit=True)
    assert k["jit_captured"] > 0 and k["jit_fee_income"] > 0
    cls = get_scenario("mev_sandwich")
    with pytest.raises(ValueError, match="mempool"):
        cls(cls.Params(execution="immediate"))
