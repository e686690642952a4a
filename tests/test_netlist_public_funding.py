"""DARC-SPICE's public-funding netlists (spec 5.5-5.7, 6.3, 8): opsci_public_funding_ps,
growth_public_funding_ps and community_growth_public_funding_ps.

Checked here: the horizon and tick-0 rows (6.3 style), the column names (hex researcher
names, the drawn asset types, the growing growth header), the structural facts of the
spec (5, 4, 3, 2 generated researchers at ticks 0, 30 000, 60 000, 90 000; K projects
funded at once; every fee to the DAO; curiosity in {0, 1}; one project per funding),
OCEAN conservation on the ledger, the public market's running-K fee quirk and its
reconciliation (recorded, or raised in strict mode), determinism, and that skipping
quiet hours changes nothing (same rows, same random state as stepping every hour).

Outside the suite, the three netlists were also compared with DARC-SPICE's own code
(3f0602a, wallets stubbed in memory, ``random.seed(S)``): ``data.csv``, ``datax.csv``
and ``rpdata.csv`` byte-identical over the full 30 years.
"""

from __future__ import annotations

import random
import time

import pytest

from defisim.agents.netlist.darc_public import (
    DarcAssertionError,
    DarcState,
    DarcStrategy,
    PublicKnowledgeMarketAgent,
    VersatileResearcherAgent,
)
from defisim.agents.netlist.wallets import to_base18
from defisim.runner import run_scenario
from defisim.scenarios import get_scenario, scenario_names
from defisim.scenarios.netlist.tokenspice_csv import format_row, read_csv
from defisim.scenarios.netlist.tokenspice_plots import file_name
from defisim.scenarios.netlists.community_growth_public_funding_ps import (
    CommunityGrowthPublicFundingPS,
)
from defisim.scenarios.netlists.growth_public_funding_ps import GrowthPublicFundingPS
from defisim.scenarios.netlists.opsci_public_funding_ps import OpsciPublicFundingPS
from defisim.service import Simulation

NAMES = ["opsci_public_funding_ps", "growth_public_funding_ps", "community_growth_public_funding_ps"]
SEED = 7
WEI = 10**18


def seeded(cls, seed: int = SEED):
    """The netlist with its shared random stream seeded as ``random.Random(seed)`` (as
    DARC-SPICE after ``random.seed(seed)``)."""

    class Seeded(cls):
        def build_agents(self, sim):
            self.rng = random.Random(seed)
            return super().build_agents(sim)

    return Seeded


def run(cls, steps: int, seed: int = SEED, **params):
    scn = seeded(cls, seed)(cls.Params(steps=steps, **params))
    res = run_scenario(scn, seed=0, record=False, progress=False)
    assert res.ok
    return scn


@pytest.fixture(scope="module")
def runs():
    """Each netlist over 100 000 hours (past the growth generator's 4 generations)."""
    return {c.name: run(c, 100_000) for c in (OpsciPublicFundingPS, GrowthPublicFundingPS,
                                              CommunityGrowthPublicFundingPS)}


def col(scn, name):
    out = []
    for header, values in scn.rows:
        out.append(values[header.index(name)] if name in header else None)
    return out


def ledger_total(scn) -> int:
    st = scn.state
    return sum(st.sim.balance(n, "OCEAN", raw=True) for n in st.agents)


# -- registration, horizon ------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_registered_with_darc_horizon(name):
    assert name in scenario_names()
    cls = get_scenario(name)
    scn = cls()
    assert cls.csv_style == "darc" and cls.x_label == "Month"
    assert scn.max_ticks == 262801.0 and scn.total_steps() == 262802  # spec 1.2
    p = scn.params
    assert (p.step_seconds, p.log_interval_s, p.n_public_researchers, p.proposals_funded_at_a_time,
            p.funding_boundary, p.price_of_assets, p.ratio_funds_to_publish) == (3600, 86400, 5, 3,
                                                                                10000, 1000, 0.4)
    assert p.private_publish_cost == {"data": 20000, "algo": 20000, "compute": 30000}
    assert p.asset_costs["public_market"] == {"data": 1000, "algo": 1000, "compute": 2000}
    assert p.dao_init_OCEAN == (1_000_000 if name.startswith("community") else 500_000)


def test_params_validated():
    with pytest.raises(ValueError, match="proposals_funded_at_a_time"):
        OpsciPublicFundingPS.Params(n_public_researchers=2)
    with pytest.raises(ValueError, match="grant_min"):
        OpsciPublicFundingPS.Params(grant_min=5, grant_max=4)


# -- tick-0 rows and columns ---------------------------------------------------------------
def test_public_tick0_row_and_columns(runs):
    scn = runs["opsci_public_funding_ps"]
    header, values = scn.rows[0]
    assert header[:8] == ["Tick", "Second", "Min", "Hour", "Day", "Month", "Year",
                          "researcher0_knowledge_access"]
    # hex names: researcher0..4 public, researcher5..e private
    assert [h[:-len("_total_assets_mrkt")] for h in header if h.endswith("_total_assets_mrkt")] == \
        [f"researcher{i:x}" for i in range(15)]
    assert len(header) == 7 + 5 * 7 + 10 * 3 + 5 + 6
    # 6.3 style: pre-step row of tick 0
    expected = [0] * 7 + [1, 0, 0, 0, 0, 0, 0] * 5 + [0, 0, 0] * 10 + [500000, 0, 0, 0, 0] + [0] * 6
    assert format_row(values, "darc") == ", ".join(str(v) for v in expected)


def test_column_names_carry_the_first_of_three_asset_type_draws(runs):
    scn = runs["opsci_public_funding_ps"]
    ref = random.Random(SEED)
    expected = []
    for i in range(15):
        kinds = ["data", "algo"] if i < 5 else ["data", "algo", "compute"]
        draws = [ref.choice(kinds) for _ in range(3)]  # agents, researchers, public/private copies
        kind = "public" if i < 5 else "private"
        expected.append(f"researcher{i:x}_{kind}_total_assets_{draws[0]}_in_market")
    header = scn.rows[0][0]
    assert [h for h in header if "_total_assets_" in h and h.endswith("_in_market")] == expected


def test_growth_and_community_tick0_rows(runs):
    g = runs["growth_public_funding_ps"]
    header, values = g.rows[0]
    assert header[7:7 + 5] == ["dao_treasury_OCEAN", "dao_treasury_funded_proposals_integration",
                               "dao_treasury_funded_proposals_novelty",
                               "dao_treasury_funded_proposals_in_index", "funded_proposals_impact"]
    assert header[7 + 11:7 + 20] == ["total_value_in_treasury", "total_value_in_researchers",
                                     "total_value_in_public_researchers",
                                     "total_value_in_private_researchers", "total_value_in_markets",
                                     "total_value_of_system", "relative_value_in_markets",
                                     "relative_value_in_researchers", "relative_value_in_treasury"]
    assert format_row(values[7:7 + 20], "darc") == ", ".join(["500000"] + ["0"] * 19)
    assert header[27] == "researcher0_knowledge_access"
    c = runs["community_growth_public_funding_ps"]
    header, values = c.rows[0]
    assert header[27:29] == ["community_curiosity", "community_knowledge_access"]
    assert len(header) == 7 + 22 + 5 * 7  # no private researcher
    assert format_row(values[7:], "darc") == ", ".join(["1e+06"] + ["0"] * 21 +
                                                       ["1", "0", "0", "0", "0", "0", "0"] * 5)
    assert c.rp_rows[0][0] == ["Tick", "Second", "Min", "Hour", "Day", "Month", "Year", "total_rp",
                               "total_rp_engagement", "total_rp_integration", "total_rp_novelty",
                               "total_rp_impact"]


# -- structural facts -------------------------------------------------------------------------
def test_growth_generator_5_4_3_2(runs):
    g = runs["growth_public_funding_ps"]
    gen = g.state.agents["generator"]
    assert gen.generated_at == [(0, 5), (30000, 4), (60000, 3), (90000, 2)]
    assert gen.agents_generated == 14 and len(g.state.private_researchers) == 24
    # first stepped the next tick, after the markets (appended to the order)
    order = list(g.state.agents)
    assert order[-15:] == ["public_market", *[f"new_researcher_{k}" for k in range(14)]]
    # the header grows: day 0 without them, day 1 with the first 5
    n_cols = [len(h) for h, _ in g.rows]
    assert n_cols[0] == 7 + 20 + 35 + 30 and n_cols[1] == n_cols[0] + 15
    assert n_cols[-1] == n_cols[0] + 14 * 3
    assert g.rows[1][0][-3:] == ["new_researcher_4_total_assets_mrkt", "new_researcher_4_private_OCEAN",
                                 g.rows[1][0][-1]]
    assert g.rows[1][0][-1].startswith("new_researcher_4_private_total_assets_")


def test_growth_csv_rows_longer_than_header_and_datax_padded(runs, tmp_path):
    g = runs["growth_public_funding_ps"]
    paths = g.write_csv(tmp_path)
    assert [p.name for p in paths] == ["data.csv", "datax.csv", "rpdata.csv"]
    data = (tmp_path / "data.csv").read_text().splitlines()
    first_header = data[0].split(", ")
    assert len(first_header) == len(g.rows[0][0])
    assert len(data[-1].split(", ")) == len(g.rows[-1][0]) > len(first_header)
    header, rows = read_csv(tmp_path / "datax.csv")
    assert header == g.rows[-1][0] and all(len(r) == len(header) for r in rows)
    assert rows[0][len(first_header):] == [0.0] * (len(header) - len(first_header))
    rp_header, rp_rows = read_csv(tmp_path / "rpdata.csv")
    assert rp_header == ["Tick", "Second", "Min", "Hour", "Day", "Month", "Year"]
    assert len(rp_rows) == len(g.rows)


@pytest.mark.parametrize("name", NAMES)
def test_k_projects_funded_at_once_and_fees_to_the_dao(name):
    """The first funding (tick 1: proposals exist from tick 0): exactly K = 3 public
    researchers are funded; the DAO pays their grants and gets back every market fee."""
    scn = run(get_scenario(name), 25)
    header, values = scn.rows[1]  # the row of tick 24
    row = dict(zip(header, values, strict=True))
    funded = [row[f"researcher{i}_no_proposals_funded"] for i in range(5)]
    assert sorted(funded) == [0, 0, 1, 1, 1]
    assert all(row[f"researcher{i}_no_proposals"] == 1 for i in range(5))
    grants = sum(row[f"researcher{i}_total_funding"] for i in range(5))
    fees = row["private_market_fees_OCEAN"] + row["public_market_fees_OCEAN"]
    init = scn.params.dao_init_OCEAN
    assert row["dao_treasury_OCEAN"] == pytest.approx(init - grants + fees, abs=1e-9)
    dao = scn.state.agents["dao_treasury"]
    assert len(dao.proposal_evaluation) == 3 and dao.total_research_funds_disbursed == grants


@pytest.mark.parametrize("name", NAMES)
def test_ocean_conserved_on_the_ledger(runs, name):
    scn = runs[name]
    assert ledger_total(scn) == scn.state.minted_wei
    p = scn.params
    # each wallet is funded with int(x * 1e18) (DARC's toBase18: 200 000 OCEAN is
    # 199999999999999991611392 wei)
    init = to_base18(p.dao_init_OCEAN) + 5 * to_base18(p.public_researcher_init_OCEAN)
    if name == "community_growth_public_funding_ps":
        init += to_base18(p.member_init_OCEAN)
    else:
        init += 10 * to_base18(p.private_researcher_init_OCEAN)
    if name == "growth_public_funding_ps":
        init += 14 * to_base18(p.generated_researcher_init_OCEAN)
    assert scn.state.minted_wei == init


def test_private_researchers_act_only_on_dao_update_ticks():
    """Private researchers alternate buy and publish, and only on ticks where the DAO
    funds: before the first funding (tick 1) nothing of theirs moves."""
    scn = run(OpsciPublicFundingPS, 2)
    st = scn.state
    for name in st.private_researchers:
        r = st.agents[name]
        assert r.private_bought_last_tick  # tick 1 was an update tick: they tried to buy
        assert r.total_assets_in_mrkt == 0
    scn0 = run(OpsciPublicFundingPS, 1)
    assert all(scn0.state.sim.balance(n, "OCEAN", raw=True) == to_base18(200_000)
               for n in scn0.state.private_researchers)


def test_community_curiosity_salary_and_projects(runs):
    c = runs["community_growth_public_funding_ps"]
    assert set(col(c, "community_curiosity")) <= {0, 1}
    st = c.state
    funded = sum(st.agents[n].no_proposals_funded for n in st.public_researchers)
    assert funded > 3 and len(st.projects) == funded
    assert all(p.name == f"{p.creator}_{p.name.rsplit('_', 1)[1]}" for p in st.projects.values())
    assert c.rp_rows[-1][0][12:14] == [f"{next(iter(st.projects))}_impact",
                                       f"{next(iter(st.projects))}_engagement"]
    # engagement: one per member interaction
    assert sum(p.engagement for p in st.projects.values()) == st.agents["member"].knowledge_access
    # VV salary: a grant is base + time/24/30 * 2000 with base an integer
    for n in st.public_researchers:
        r = st.agents[n]
        if r.proposal:
            p = r.proposal
            base = p["grant_requested"] - p["time"] / 24 / 30 * 2000
            assert base == pytest.approx(round(base)) and 10000 <= round(base) <= 50000


# -- markets -----------------------------------------------------------------------------------
def _market_state(strict: bool = False):
    sim = Simulation(seed=0, protocols=("governance",))
    sim.create_asset("OCEAN", 18)
    st = DarcState(sim, random.Random(0), DarcStrategy(), strict=strict)
    for name in ("dao_treasury", "public_market", "researcher0", "researcher1"):
        st.open_wallet(name, 0.0)
    r0 = VersatileResearcherAgent("researcher0", "public", st.rng)
    r1 = VersatileResearcherAgent("researcher1", "public", st.rng)
    m = PublicKnowledgeMarketAgent("public_market", 0.1)
    for a in (r0, r1, m):
        st.addAgent(a)
    st.researchers += ["researcher0", "researcher1"]
    return st, r0, r1, m


def test_public_market_running_k_fee_quirk():
    """r0 publishes 10 000 (ratio 0.4), r1 buys 1000: fee_0 = 1000, K = 3600, fees +=
    10 000 − 1000 − 3600 = 5400; fee_1 = 100, fees += 1000 − 100 − 3600 (running K) =
    −2700: fees = 1000 + 5400 + 100 − 2700 = 3800 to the DAO, 7200 stay."""
    st, r0, r1, m = _market_state()
    st.sim.mint_raw("public_market", "OCEAN", 11_000 * WEI)
    r0.proposal = {"assets_generated": 4}
    r0.last_OCEAN_spent = {"spent": 10_000, "market": "public_market", "publish": True, "ratio": 0.4}
    r1.last_OCEAN_spent = {"spent": 1000, "market": "public_market", "publish": False, "ratio": 0}
    m.take_step(st)
    assert m.total_fees == pytest.approx(3800)
    assert st.sim.balance("dao_treasury", "OCEAN") == pytest.approx(3800)
    assert st.sim.balance("public_market", "OCEAN") == pytest.approx(7200)
    assert m.total_knowledge_assets == 4 and not st.anomalies


def test_public_market_reconciliation_failure_is_recorded_or_raised():
    """A community member's 1000 arriving with a researcher's publish (spec 5.7): K =
    3600 + (11 000 − 10 000), S = 10 000 + K ≠ 11 000, DARC-SPICE's assertion fails."""
    for strict in (False, True):
        st, r0, _, m = _market_state(strict)
        st.sim.mint_raw("public_market", "OCEAN", 11_000 * WEI)
        r0.proposal = {"assets_generated": 1}
        r0.last_OCEAN_spent = {"spent": 10_000, "market": "public_market", "publish": True, "ratio": 0.4}
        if strict:
            with pytest.raises(DarcAssertionError, match="reconciled"):
                m.take_step(st)
        else:
            m.take_step(st)
            assert len(st.anomalies) == 1 and "reconciled sum 14600" in st.anomalies[0][1]
            assert m.total_fees == pytest.approx(6400)  # 1000 + 5400: the researchers' fees go to the DAO
    # the member's 1000 alone is reconciled silently (K absorbs it)
    st, *_, m = _market_state()
    st.sim.mint_raw("public_market", "OCEAN", 1000 * WEI)
    m.take_step(st)
    assert not st.anomalies and m.total_fees == 0


# -- determinism, event-driven ---------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes(tmp_path, name):
    cls = get_scenario(name)
    texts = []
    for k in range(2):
        scn = cls(cls.Params(steps=30_001))
        run_scenario(scn, seed=5, record=False, progress=False)
        out = tmp_path / str(k)
        scn.write_csv(out)
        texts.append([(out / f).read_bytes() for f in ("data.csv", "datax.csv", "rpdata.csv")])
    assert texts[0] == texts[1]


@pytest.mark.parametrize("name", NAMES)
def test_skipping_quiet_hours_changes_nothing(name):
    """Event-driven (the default) and hour-by-hour runs give the same rows and leave the
    random stream in the same state (the quiet hours' draws are replayed in order)."""
    cls = get_scenario(name)
    got = []
    for ed in (True, False):
        scn = run(cls, 16_000, event_driven=ed)
        got.append(([format_row(v, "darc") for _, v in scn.rows], scn.rows[-1][0],
                    scn.state.rng.getstate(), scn.world.full_ticks))
    assert got[0][:3] == got[1][:3]
    assert got[1][3] == 16_000 and got[0][3] < 200


def test_run_folder_holds_the_darc_csvs(tmp_path):
    scn = CommunityGrowthPublicFundingPS(CommunityGrowthPublicFundingPS.Params(steps=49))
    res = run_scenario(scn, seed=1, out_dir=tmp_path / "run", progress=False)
    assert res.ok
    for f in ("data.csv", "datax.csv", "rpdata.csv", "run.duckdb"):
        assert (tmp_path / "run" / f).is_file()
    assert len((tmp_path / "run" / "data.csv").read_text().splitlines()) == 1 + 3


# -- plots -----------------------------------------------------------------------------------
def test_plot_instructions(runs):
    pub = runs["opsci_public_funding_ps"]
    specs = pub.plot_specs(pub.rows[-1][0])
    assert len(specs) == 14  # spec 5.5
    assert [s.y_pretty_name for s in specs][:3] == ["#_proposals_FUNDED",
                                                    "integration vs novelty in funded proposals",
                                                    "impact of funded proposals"]
    assert file_name(specs[-2].y_pretty_name, "LOG") == "Private_vs_Public_Market_OCEAN_LOG.png"
    funded = specs[0]
    assert len(funded.y_header_names) == 5 and funded.labels == ("",) * 5  # 15 labels: no legend
    g = runs["growth_public_funding_ps"]
    gspecs = g.plot_specs(g.rows[-1][0])
    assert len(gspecs) == 18 and gspecs[0].y_pretty_name == "Value distribution in the system"
    assert len(gspecs[9].y_header_names) == 15  # zip with the 15 hex labels: 15 of 29 columns
    c = runs["community_growth_public_funding_ps"]
    cspecs = c.plot_specs(c.rows[-1][0])
    assert len(cspecs) == 18 and cspecs[0].y_pretty_name == "Community curiosity"
    assert len(c.rp_plot_specs(c.rp_rows[-1][0])) == 7


# -- full horizon -----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_full_thirty_years(name):
    cls = get_scenario(name)
    scn = cls()
    t0 = time.perf_counter()
    res = run_scenario(scn, seed=0, record=False, progress=False)
    wall = time.perf_counter() - t0
    assert res.ok and res.steps == 262_802 and len(scn.rows) == 10_951
    assert scn.rows[-1][1][0] == 262_800
    assert ledger_total(scn) == scn.state.minted_wei
    print(f"{name}: {wall:.2f} s, {scn.world.full_ticks} hours stepped agent by agent")
    if name == "growth_public_funding_ps":
        assert scn.state.agents["generator"].agents_generated == 14
