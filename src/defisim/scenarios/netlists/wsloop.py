"""``wsloop``: TokenSPICE's Web3 Sustainability Loop (``netlists/wsloop``;
``../shared/specs/token-netlists.md`` 4.4).

Marketplaces pay a toll (network revenue, in USD) to the Ocean community (``opc_address``),
which routes 95 % to the OceanDAO and 5 % to a burner that "buys and burns" OCEAN;
treasuries pay monthly grants and a minter mints OCEAN on a ramped exponential schedule
into the DAO; the DAO and the management route everything to workers, whose spending is
the ecosystem's R&D; the R&D-to-revenue ratio sets the marketplaces' growth rate. The
OCEAN price is max(30 × annual network revenue, a speculative valuation growing 10 % a
year) over the supply (initial + minted − burned).

Agents, in the declared (topological) order of the spec's table; TokenSPICE inserts them
in a Python set's order, so its runs differ from each other (spec 1.7): here every flow
arrives in the tick it is sent and the run is deterministic (wsloop draws no random
numbers). Every SimStrategy constant is a parameter.

After the agents of tick i the KPIs (:class:`WsloopKPIs`) append this tick's R&D spend,
sales rate, number of marketplaces, minted and burned totals and their USD values at
the price then; then the speculative valuation grows by ``1 + (0.10/S_YEAR)·Δ``. A row
(the 31 columns of spec 4.4, in order) is logged every 10 days before the agents act.
Windows follow the spec's ``_salesOverInterval`` with both ends inclusive, including its
1-second "ago" quirk; ``tot_staked`` applies totalSales twice; the "/day" divisor is 30.5.
"""

from __future__ import annotations

import math
from functools import reduce
from operator import add
from typing import TYPE_CHECKING, Any

from pydantic import Field

from defisim.agents.netlist.tokenspice import (
    MarketplacesAgent,
    OceanFuncMinterAgent,
    RampedExpFunc,
    RouterAgent,
)
from defisim.agents.tokenomics import OCEANBurnerAgent
from defisim.scenarios.base import register
from defisim.scenarios.netlist import (
    BOTH,
    COUNT,
    DIV1M,
    DOLLAR,
    LOG,
    MULT1,
    MULT100,
    PERCENT,
    S_DAY,
    S_MONTH,
    S_YEAR,
    Netlist,
    NetlistParams,
    YParam,
)
from defisim.scenarios.simplegrant import GrantGivingAgent, GrantTakingAgent

if TYPE_CHECKING:

    from defisim.agents.base import Agent
    from defisim.service import Simulation


class WsloopParams(NetlistParams):
    """wsloop's SimStrategy (spec 4.4); money in USD, token amounts in OCEAN."""

    step_seconds: float = Field(S_DAY, gt=0)
    """Δ: seconds per tick (one day)."""
    max_time: float = Field(2.0, gt=0)
    """Horizon, in ``max_time_unit`` (2 years: 731 ticks)."""
    max_time_unit: str = "years"
    """Unit of ``max_time``."""
    log_interval_s: float = Field(10 * S_DAY, gt=0)
    """Seconds between logged rows (10 days)."""
    percent_consume_sales_for_network: float = Field(0.03, ge=0)
    """Share of consume sales the network takes (fraction)."""
    percent_swap_sales_for_network: float = Field(0.001, ge=0)
    """Share of swap sales the network takes (fraction)."""
    swap_to_consume_sales_ratio: float = Field(100.0, ge=0)
    """Swap sales per unit of consume sales."""
    percent_burn: float = Field(0.05, ge=0, le=1)
    """Share of the toll routed to the burner (the DAO gets the rest)."""
    p_s_ratio: float = Field(30.0, ge=0)
    """Price-to-sales ratio of the fundamentals valuation."""
    init_speculation_valuation: float = Field(150e6, ge=0)
    """Speculative valuation at tick 0, USD."""
    percent_increase_speculation_valuation_per_year: float = Field(0.10)
    """Yearly growth of the speculative valuation (fraction; applied per second)."""
    growth_rate_if_0_sales: float = -0.118
    """Marketplaces' annual growth rate at an R&D ratio of 0."""
    max_growth_rate: float = 0.415
    """Their annual growth rate as the ratio goes to infinity."""
    tau: float = Field(0.6, gt=0)
    """Half-life of the growth curve in the R&D ratio."""
    init_n_marketplaces: float = Field(1.0, ge=0)
    """Marketplaces at tick 0."""
    sales_per_marketplace_per_month: float = Field(20e3, ge=0)
    """Consume sales of one marketplace at tick 0, USD per 30 days."""
    total_ocean_supply: float = Field(1.41e9, gt=0)
    """OCEAN ever to exist."""
    init_ocean_supply_fraction: float = Field(0.49, gt=0, le=1)
    """Share of it that exists at tick 0."""
    opf_treasury_usd: float = Field(2e6, ge=0)
    """OPF treasury's USD (granted to OPF management)."""
    opf_treasury_ocean_for_dao: float = Field(100e6, ge=0)
    """OPF treasury's OCEAN for the OceanDAO."""
    opf_treasury_ocean_for_mgmt: float = Field(100e6, ge=0)
    """OPF treasury's OCEAN for OPF management."""
    bdb_treasury_usd: float = Field(2e6, ge=0)
    """BigchainDB treasury's USD."""
    bdb_treasury_ocean: float = Field(20e6, ge=0)
    """BigchainDB treasury's OCEAN."""
    opf_n_grants: int = Field(36, ge=1)
    """Monthly grants of each OPF treasury."""
    bdb_n_grants: int = Field(17, ge=1)
    """Monthly grants of the BigchainDB treasury."""
    minter_half_life_years: float = Field(4.0, gt=0)
    """H of the minter's RampedExpFunc, years."""
    minter_ramp: tuple[float, float, float, float, float, float, float] = (
        0.5, 1.0, 1.4, 3.0, 0.10, 0.25, 0.50)
    """(T0, T1, T2, T3 in years, M1, M2, M3) of the minter's RampedExpFunc."""

    @property
    def init_ocean_supply(self) -> float:
        """0.49 x 1.41e9 = 690,900,000.0 OCEAN."""
        return self.init_ocean_supply_fraction * self.total_ocean_supply

    @property
    def unminted_ocean_supply(self) -> float:
        """1.41e9 − the initial supply = 719,100,000.0 OCEAN."""
        return self.total_ocean_supply - self.init_ocean_supply


class WsloopKPIs:
    """wsloop's ``KPIs`` (spec 4.4): per-tick lists and the window sums.

    ``tick`` is the number of ticks stepped (``_tick``); ``elapsed`` = tick·Δ seconds.
    """

    def __init__(self, netlist: Wsloop) -> None:
        self.nl = netlist
        self.tick = 0
        self.rnd: list[float] = []
        self.sales: list[float] = []
        self.n_mkts: list[float] = []
        self.minted: list[float] = []
        self.burned: list[float] = []
        self.minted_usd: list[float] = []
        self.burned_usd: list[float] = []
        self._year_cache = (-1, 0.0)
        self._full: tuple[list[float], list[float], list[float]] = ([], [], [])

    def take_step(self) -> None:
        """After the agents of a tick: ``_tick`` += 1, then the lists (spec 4.4)."""
        nl = self.nl
        self.tick += 1
        self.rnd.append(_fsum_ordered(w.spent_at_tick for w in nl.workers))
        s, n = nl.marketplaces.s, nl.marketplaces.n
        self.sales.append(s)
        self.n_mkts.append(n)
        dt = float(nl.params.step_seconds)
        self._full[0].append(s * dt)
        self._full[1].append(s * n * dt)
        self._full[2].append(nl.network_revenue(n * s) * dt)
        self.minted.append(nl.total_minted)
        self.burned.append(nl.total_burned)
        price = nl.ocean_price()
        self.minted_usd.append(nl.total_minted * price)
        self.burned_usd.append(nl.total_burned_usd)

    # -- windows -----------------------------------------------------------------------
    ONE_MKT, ALL_MKTS, REVENUE = 0, 1, 2
    """The three sales rates: one marketplace's consume sales, all marketplaces',
    network revenue (USD per second, per tick)."""

    def _rate(self, which: int, k: int) -> float:
        s, n = self.sales[k], self.n_mkts[k]
        if which == self.ONE_MKT:
            return s
        if which == self.ALL_MKTS:
            return s * n
        return self.nl.network_revenue(n * s)

    def _over(self, t1: float, t2: float, which: int) -> float:
        """``_salesOverInterval(t1, t2, rate)`` (seconds, both ends inclusive): ticks
        ``[max(0, ⌊t1/Δ⌋), min(tick, ⌊t2/Δ⌋ + 1))``, tick k contributing rate(k)·(min(t2,
        (k+1)Δ−1) − max(t1, kΔ) + 1), added from 0.0 in increasing k. A whole tick's
        contribution is rate(k)·Δ exactly (kept per tick), so the interior of a window is
        a left-to-right sum of those: the same floats in the same order, in C."""
        dt = self.nl.params.step_seconds
        lo = max(0, math.floor(t1 / dt))
        hi = min(self.tick, math.floor(t2 / dt) + 1)
        total = 0.0
        if hi <= lo:
            return total
        full = self._full[which]

        def part(k: int) -> float:
            return self._rate(which, k) * (min(t2, (k + 1) * dt - 1) - max(t1, k * dt) + 1)

        first_whole = lo if t1 <= lo * dt else lo + 1
        last_whole = hi - 1 if t2 >= hi * dt - 1 else hi - 2
        if first_whole > lo:
            total += part(lo)
        if last_whole >= first_whole:
            total = reduce(add, full[first_whole:last_whole + 1], total)
        for k in range(max(last_whole + 1, first_whole), hi):
            total += part(k)
        return total

    def _now(self, span: int, which: int) -> float:
        t2 = self.tick * self.nl.params.step_seconds
        return self._over(t2 - span, t2, which)

    def _ago(self, span: int, which: int) -> float:
        t2 = self.tick * self.nl.params.step_seconds - span
        return self._over(t2 - span, t2, which)

    def annual_network_revenue_now(self) -> float:
        """Network revenue over the last year of ticks (cached per tick: the price is
        read many times a tick and the sum must be taken in the same order)."""
        if self._year_cache[0] != self.tick:
            self._year_cache = (self.tick, self._now(S_YEAR, self.REVENUE))
        return self._year_cache[1]

    def monthly_network_revenue_now(self) -> float:
        return self._now(S_MONTH, self.REVENUE)

    def rnd_per_month(self) -> float:
        """R&D spend of the last 30 ticks (slice ``[-30:]``), added left to right from 0.0."""
        return _fsum_ordered(self.rnd[-30:])

    def rnd_to_sales_ratio(self) -> float:
        """``mktsRNDToSalesRatio``: R&D/month over network revenue/month (the quirk: not
        consume sales); 0.0 without R&D."""
        rnd = self.rnd_per_month()
        if rnd == 0.0:
            return 0.0
        return rnd / self.monthly_network_revenue_now()

    def _per_month(self, values: list[float]) -> float:
        """Columns 20-23: 0.0 at t = 0; the last value up to t = 30; else its change over
        the last 30 ticks (⌈S_MONTH/Δ⌉)."""
        t = self.tick
        n = math.ceil(S_MONTH / self.nl.params.step_seconds)
        if t == 0:
            return 0.0
        if t <= n:
            return values[t - 1]
        return values[t - 1] - values[t - 1 - n]


def _fsum_ordered(values: Any) -> float:
    """Floats added left to right from 0.0 (Python >= 3.12's ``sum`` compensates; the
    model's sums are the plain ones)."""
    return reduce(add, values, 0.0)


COLUMNS = [
    "Num_mkts", "onemkt_cons_sales/mo", "onemkt_cons_sales/yr", "allmkts_cons_sales/mo",
    "allmkts_cons_sales/yr", "allmkts_tot_sales/day", "allmkts_tot_sales/mo",
    "allmkts_tot_sales/yr", "tot_staked", "network_rev/mo", "network_rev/yr",
    "network_rev_growth/mo", "network_rev_growth/yr", "overall_valuation",
    "fundamentals_valuation", "speculation_valuation", "tot_OCEAN_supply", "tot_OCEAN_minted",
    "tot_OCEAN_burned", "OCEAN_minted/mo", "OCEAN_burned/mo", "OCEAN_minted_USD/mo",
    "OCEAN_burned_USD/mo", "OCEAN_price", "RND/mo", "rnd_to_cons_sales_ratio",
    "mkts_annual_growth_rate", "dao_USD/mo", "dao_OCEAN/mo", "dao_OCEAN_in_USD/mo",
    "dao_total_in_USD/mo",
]
"""The 31 columns after the engine's 7 (spec 4.4, 6.2)."""


@register
class Wsloop(Netlist):
    """TokenSPICE's Web3 Sustainability Loop (module docstring)."""

    name = "wsloop"
    description = ("TokenSPICE wsloop: the Web3 Sustainability Loop (marketplace tolls, "
                   "OceanDAO, burning, ramped minting, R&D-driven growth); 2 years of daily ticks.")
    Params = WsloopParams
    x_label = "Year"
    protocols = ("governance", "tokenomics")

    def __init__(self, params: WsloopParams | None = None) -> None:
        super().__init__(params)
        self._reset_model()

    def _reset_model(self) -> None:
        """A fresh model (totals, valuation, KPI lists) for a run."""
        p = self.params
        self.total_minted = 0.0
        self.burner: OCEANBurnerAgent | None = None
        self.speculation = p.init_speculation_valuation
        self.kpis_model = WsloopKPIs(self)
        self.workers: list[GrantTakingAgent] = []
        self.marketplaces: MarketplacesAgent | None = None
        self.ocean_dao: RouterAgent | None = None
        self.minter: OceanFuncMinterAgent | None = None

    # -- strategy functions (spec 4.4) ----------------------------------------------
    def swap_sales(self, x: float) -> float:
        return self.params.swap_to_consume_sales_ratio * x

    def total_sales(self, x: float) -> float:
        return x + self.swap_sales(x)

    def network_revenue(self, x: float) -> float:
        p = self.params
        return p.percent_consume_sales_for_network * x + p.percent_swap_sales_for_network * self.swap_sales(x)

    def annual_mkts_growth_rate(self, ratio: float) -> float:
        """g(r) = g0 + (gmax − g0)·(1 − 0.5^(r/τ))."""
        p = self.params
        lo, hi = p.growth_rate_if_0_sales, p.max_growth_rate
        return lo + (hi - lo) * (1 - math.pow(0.5, ratio / p.tau))

    @property
    def total_burned(self) -> float:
        """OCEAN "burned" by the burner's accounting (TokenSPICE ``_total_OCEAN_burned``)."""
        return self.burner.total_burned if self.burner is not None else 0.0

    @property
    def total_burned_usd(self) -> float:
        """USD spent on those burns (``_total_OCEAN_burned_USD``)."""
        return self.burner.total_burned_usd if self.burner is not None else 0.0

    # -- price machinery ---------------------------------------------------------------
    def ocean_supply(self) -> float:
        return self.params.init_ocean_supply + self.total_minted - self.total_burned

    def fundamentals_valuation(self) -> float:
        return self.params.p_s_ratio * self.kpis_model.annual_network_revenue_now()

    def overall_valuation(self) -> float:
        return max(self.fundamentals_valuation(), self.speculation)

    def ocean_price(self) -> float:
        """overall / supply (``util/valuation.py: OCEANprice``)."""
        return self.overall_valuation() / self.ocean_supply()

    # -- netlist -----------------------------------------------------------------------
    def build_agents(self, sim: Simulation) -> list[Agent]:
        p = self.params
        dt = p.step_seconds
        self._reset_model()
        for asset in ("USD", "OCEAN"):
            sim.create_asset(asset, 18)
        parties = ["marketplaces1", "opc_address", "opc_burner", "ocean_51",
                   "opf_treasury_for_ocean_dao", "opf_treasury_for_opf_mgmt", "bdb_treasury",
                   "ocean_dao", "opf_mgmt", "bdb_mgmt", "opc_workers", "bdb_workers"]
        for party in parties:
            sim.create_party(party)
        funds = {"opf_treasury_for_ocean_dao": (0.0, p.opf_treasury_ocean_for_dao),
                 "opf_treasury_for_opf_mgmt": (p.opf_treasury_usd, p.opf_treasury_ocean_for_mgmt),
                 "bdb_treasury": (p.bdb_treasury_usd, p.bdb_treasury_ocean)}
        for party, (usd, ocean) in funds.items():
            for asset, amount in (("USD", usd), ("OCEAN", ocean)):
                if amount:
                    sim.mint_raw(party, asset, int(amount) * 10**18 if float(amount).is_integer()
                                 else round(amount * 1e18))
        self.marketplaces = MarketplacesAgent(
            "marketplaces1", "opc_address", p.init_n_marketplaces,
            p.sales_per_marketplace_per_month / S_MONTH, dt,
            self.kpis_model.rnd_to_sales_ratio, self.annual_mkts_growth_rate, self.network_revenue)
        opc = RouterAgent("opc_address", [("ocean_dao", lambda: 1.0 - p.percent_burn),
                                          ("opc_burner", lambda: p.percent_burn)], self, dt)
        self.burner = burner = OCEANBurnerAgent("opc_burner", lambda sim, agent: self.ocean_price())
        h, *ramp = (p.minter_half_life_years, *p.minter_ramp)
        self.minter = minter = OceanFuncMinterAgent("ocean_51", "ocean_dao", p.unminted_ocean_supply, S_DAY,
                                      RampedExpFunc(h, *ramp), self, dt)
        grants = [GrantGivingAgent("opf_treasury_for_ocean_dao", "ocean_dao", S_MONTH, p.opf_n_grants,
                                   assets=("USD", "OCEAN")),
                  GrantGivingAgent("opf_treasury_for_opf_mgmt", "opf_mgmt", S_MONTH, p.opf_n_grants,
                                   assets=("USD", "OCEAN")),
                  GrantGivingAgent("bdb_treasury", "bdb_mgmt", S_MONTH, p.bdb_n_grants,
                                   assets=("USD", "OCEAN"))]
        self.ocean_dao = RouterAgent("ocean_dao", [("opc_workers", lambda: 1.0)], self, dt)
        opf_mgmt = RouterAgent("opf_mgmt", [("opc_workers", lambda: 1.0)], self, dt)
        bdb_mgmt = RouterAgent("bdb_mgmt", [("bdb_workers", lambda: 1.0)], self, dt)
        self.workers = [_PricedTaker("opc_workers", self), _PricedTaker("bdb_workers", self)]
        return [self.marketplaces, opc, burner, minter, *grants, self.ocean_dao, opf_mgmt,
                bdb_mgmt, *self.workers]

    @property
    def tick(self) -> int:
        """The model's tick, TokenSPICE's ``state.tick``: t while tick t's row is logged and
        its agents act (= the KPIs' ``_tick``, the number of ticks stepped so far).

        Fix (checked against TokenSPICE's code, tests/test_netlist_wsloop_reference.py):
        this was a counter set in ``before_tick``, which the engine runs *after* the row is
        logged, so the row of tick t saw t−1 and ``ocean_dao.monthly*received`` summed 31
        entries (k1 = t−31) instead of TokenSPICE's 30 (``dao_*`` columns 3 % high)."""
        return self.kpis_model.tick

    def after_tick(self, sim: Simulation) -> None:
        """``KPIs.takeStep``, then the speculative valuation's growth (spec 4.4)."""
        self.kpis_model.take_step()
        p = self.params
        self.speculation = self.speculation * (
            1.0 + p.percent_increase_speculation_valuation_per_year / S_YEAR * p.step_seconds)

    def columns(self) -> list[str]:
        return list(COLUMNS)

    def row(self, sim: Simulation) -> list[Any]:
        k = self.kpis_model
        mk = self.marketplaces
        one_mo, one_yr = k._now(S_MONTH, k.ONE_MKT), k._now(S_YEAR, k.ONE_MKT)
        all_mo, all_yr = k._now(S_MONTH, k.ALL_MKTS), k._now(S_YEAR, k.ALL_MKTS)
        tot_day = self.total_sales(all_mo / 30.5)
        rev_mo, rev_yr = k.monthly_network_revenue_now(), k.annual_network_revenue_now()
        ago_mo, ago_yr = k._ago(S_MONTH, k.REVENUE), k._ago(S_YEAR, k.REVENUE)
        growth_mo = math.inf if ago_mo == 0.0 else rev_mo / ago_mo - 1
        growth_yr = math.inf if ago_yr == 0.0 else rev_yr / ago_yr - 1
        fundamentals = self.p_s(rev_yr)
        price = self.ocean_price()
        rnd = k.rnd_per_month()
        ratio = k.rnd_to_sales_ratio()
        dao_usd = self.ocean_dao.monthly_usd_received()
        dao_ocean = self.ocean_dao.monthly_ocean_received()
        dao_ocean_usd = dao_ocean * price
        return [mk.n, one_mo, one_yr, all_mo, all_yr, tot_day, self.total_sales(all_mo),
                self.total_sales(all_yr), self.total_sales(tot_day), rev_mo, rev_yr, growth_mo,
                growth_yr, max(fundamentals, self.speculation), fundamentals, self.speculation,
                self.ocean_supply(), self.total_minted, self.total_burned,
                k._per_month(k.minted), k._per_month(k.burned), k._per_month(k.minted_usd),
                k._per_month(k.burned_usd), price, rnd, ratio, self.annual_mkts_growth_rate(ratio),
                dao_usd, dao_ocean, dao_ocean_usd, dao_usd + dao_ocean_usd]

    def p_s(self, annual_revenue: float) -> float:
        """fundamentalsValuation(a) = P/S · a."""
        return self.params.p_s_ratio * annual_revenue

    def plot_specs(self, header: list[str]) -> list[YParam]:
        """The 9 plot instructions of spec 4.4 (13 PNGs)."""
        return [
            YParam(["OCEAN_price"], [""], "OCEAN Price", LOG, MULT1, DOLLAR),
            YParam(["overall_valuation", "fundamentals_valuation", "speculation_valuation"],
                   ["Overall", "Fundamentals (P/S=30)", "Speculation"], "Valuation", LOG, DIV1M,
                   DOLLAR),
            YParam(["dao_USD/mo", "dao_OCEAN_in_USD/mo", "dao_total_in_USD/mo"],
                   ["Income in USD", "Income in OCEAN (USD)", "Total Income (USD)"],
                   "Monthly OceanDAO Income", LOG, DIV1M, DOLLAR),
            YParam(["network_rev/yr", "allmkts_cons_sales/yr", "allmkts_tot_sales/yr"],
                   ["Network Revenue", "Marketplaces Consume Sales", "Marketplaces Total Sales"],
                   "Annual Revenue or Sales", LOG, DIV1M, DOLLAR),
            YParam(["tot_staked"], [""], "Total OCEAN Staked (in USD)", LOG, DIV1M, DOLLAR),
            YParam(["tot_OCEAN_supply", "tot_OCEAN_minted", "tot_OCEAN_burned"],
                   ["Total supply", "Minted to date", "Burned to date"], "OCEAN Token Count",
                   BOTH, DIV1M, COUNT),
            YParam(["OCEAN_minted/mo", "OCEAN_burned/mo"], ["# Minted", "# Burned"],
                   "Monthly # OCEAN Minted & Burned", BOTH, DIV1M, COUNT),
            YParam(["rnd_to_cons_sales_ratio", "mkts_annual_growth_rate"],
                   ["R&D/Sales ratio", "Marketplaces annual growth rate"],
                   "R&D/Sales Ratio and Marketplaces Growth Rate", BOTH, MULT100, PERCENT),
            YParam(["RND/mo"], [""], "Monthly R&D Spend", BOTH, DIV1M, DOLLAR),
        ]


class _PricedTaker(GrantTakingAgent):
    """A ``GrantTakingAgent`` whose OCEAN is valued at the netlist's price at the moment
    it spends (``state.OCEANprice()``, spec 2.1)."""

    def __init__(self, name: str, netlist: Wsloop) -> None:
        super().__init__(name, 0.0)
        self.netlist = netlist

    def step(self, sim: Simulation) -> None:
        self.ocean_price = self.netlist.ocean_price()
        super().step(sim)


__all__ = ["COLUMNS", "Wsloop", "WsloopKPIs", "WsloopParams"]
