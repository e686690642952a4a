"""``mev_sandwich``: the same victims and searcher under fifo, random and priority
ordering, run through the runner (invariants on: every asset conserved). The searcher
sends Flashbots-style bundles by default (``searcher_mode="bundle"``); the numbers
below are those of seed 3 over 300 steps."""

from __future__ import annotations

import pytest

from defisim.runner import run_scenario
from defisim.scenarios import get_scenario, scenario_names

VICTIM_KPIS = ("victim_swaps", "victim_rejected", "victim_shortfall", "victim_shortfall_bps", "pool_price")


def run(seed: int = 3, **params):
    cls = get_scenario("mev_sandwich")
    scenario = cls(cls.Params(**{"steps": 300, **params}))
    result = run_scenario(scenario, seed=seed, record=False, progress=False)
    assert result.error is None and result.steps == scenario.params.steps
    return scenario, result.kpis


@pytest.fixture(scope="module")
def by_ordering():
    return {o: run(ordering=o) for o in ("priority", "fifo", "random")}


def test_searcher_profits_under_priority_and_makes_exactly_nothing_otherwise(by_ordering):
    sc, k = by_ordering["priority"]
    assert "mev_sandwich" in scenario_names()
    assert k["sandwiches_attempted"] > 100 and k["sandwiches_refused"] == 0
    assert k["sandwiches_landed"] >= 0.9 * k["sandwiches_attempted"]
    # every bundle sent either landed or reverted (at no cost)
    assert k["sandwiches_landed"] + k["sandwiches_reverted"] == k["sandwiches_attempted"]
    assert k["searcher_profit"] > 3_000  # USDC, after gas and tips (5,958 measured)
    assert 0 < k["searcher_gas_paid"] and 0 < k["priority_fees_paid"]
    assert k["searcher_gross_profit"] - k["searcher_profit"] < 0.05 * k["searcher_gross_profit"]
    for o in ("fifo", "random"):
        _, f = by_ordering[o]
        # the same victims are found, every bundle is refused: zero, not a loss
        assert f["sandwiches_refused"] > 100 and f["sandwiches_attempted"] == 0
        assert f["sandwiches_landed"] == f["sandwiches_reverted"] == 0
        assert f["searcher_profit"] == f["searcher_gross_profit"] == f["searcher_gas_paid"] == 0.0
        assert f["priority_fees_paid"] == 0  # no fee market without priority


def test_a_refused_searcher_changes_nothing_for_the_victims(by_ordering):
    _, f = by_ordering["fifo"]
    _, alone = run(ordering="fifo", searcher=False)
    assert {n: f[n] for n in VICTIM_KPIS} == {n: alone[n] for n in VICTIM_KPIS}


def test_victims_pay_the_searchers_profit_in_slippage(by_ordering):
    _, k = by_ordering["priority"]
    _, f = by_ordering["fifo"]
    # the front-runs push the victims towards their 1 % tolerance: +50 bps against
    # -19.8 bps (opposite swaps earlier in a block improve a swap's price)
    assert k["victim_shortfall_bps"] > 40 and f["victim_shortfall_bps"] < -10
    assert k["victim_shortfall_bps"] - f["victim_shortfall_bps"] > 60
    # what the searcher earns before gas comes out of the victims (and the pool's fees)
    assert k["searcher_gross_profit"] == pytest.approx(k["victim_shortfall"] - f["victim_shortfall"], rel=0.5)
    assert k["victim_rejected"] >= f["victim_rejected"]
    assert k["lp_fees"] > f["lp_fees"] * 0.9 and 1_000 < k["pool_price"] < 4_000
    # the landed sandwiches' cost to their victims (output without the front-run minus
    # the executed one): the searcher's gross profit plus the two extra pool fees and
    # impact, so more than the profit; nothing under fifo (9,303 USDC, 98 bps measured)
    assert k["searcher_gross_profit"] < k["victim_loss_to_searcher"] < 2 * k["searcher_gross_profit"]
    assert 50 < k["victim_loss_to_searcher_bps"] < 150
    assert f["victim_loss_to_searcher"] == f["victim_loss_to_searcher_bps"] == 0.0


def test_tips_mode_loses_under_fifo():
    _, t = run(ordering="fifo", searcher_mode="tips", steps=150)
    assert t["sandwiches_attempted"] > 50 and t["sandwiches_refused"] == 0
    assert t["sandwiches_landed"] == 0 and t["searcher_profit"] < 0


def test_same_seed_same_kpis_and_no_searcher_no_profit():
    _, a = run(seed=5, steps=120)
    _, b = run(seed=5, steps=120)
    assert a == b
    _, c = run(seed=5, steps=120, searcher=False)
    assert "searcher_profit" not in c and c["victim_swaps"] > 0


def test_jit_option_and_bad_execution():
    _, k = run(steps=200, jit=True)
    assert k["jit_captured"] > 0 and k["jit_fee_income"] > 0 and k["jit_refused"] == 0
    _, f = run(steps=200, jit=True, ordering="fifo")
    assert f["jit_refused"] > 0 and f["jit_captured"] == 0 and f["jit_pnl"] == 0.0
    cls = get_scenario("mev_sandwich")
    with pytest.raises(ValueError, match="mempool"):
        cls(cls.Params(execution="immediate"))
