"""An example netlist written from scratch: a small data market and its token.

Run it without installing anything:

    defisim netlist run docs/netlists/data_market.py runs/data_market
    defisim netlist plot docs/netlists/data_market.py runs/data_market runs/data_market/png
    defisim run docs/netlists/data_market.py --set toll=0.05     # the usual run folder

The economy (daily ticks, one year, a row every 7 days):

- ``DATA`` is a token (tokenomics protocol). A minter mints 10 million DATA on an
  exponential schedule (half-life 4 years) into the ``treasury`` router; each day the
  router sends 70 % of what it holds to the ``builders`` and keeps the rest (a router
  keeps what its fractions do not cover, and splits its whole balance again next time).
- ``buyers`` buy datasets on a ``market`` each day: a Poisson number of sales (mean
  ``sales_per_day``), each priced lognormally around ``price_USD``; the market pays the
  seller (``publishers``) the price minus the ``toll``, which goes to ``treasury_USD``.
- ``builders`` sell a share ``sell_share`` of the DATA they hold each day to the outside
  at the netlist's DATA price (burned here: it leaves the modelled economy) and count
  the USD they raise.

What a user writes: a parameter model (every constant typed, with a unit in its
docstring), the agents (acting only through ``sim``), and a :class:`Netlist` with
``build_agents``, ``columns``, ``row`` and ``plot_specs``. The engine logs the row before
the agents of every ``log_interval_s`` tick, writes TokenSPICE's ``data.csv`` and draws
TokenSPICE-style plots; ``self.rng`` is the run's seeded generator.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field

from defisim.agents.base import Agent
from defisim.scenarios.netlist import (
    COUNT,
    DOLLAR,
    LINEAR,
    MULT1,
    S_DAY,
    S_YEAR,
    Netlist,
    NetlistParams,
    YParam,
)
from defisim.service.tokenomics import ExpFunc


class DataMarketParams(NetlistParams):
    """The data market's constants."""

    step_seconds: float = Field(S_DAY, gt=0)
    """Δ: seconds per tick (a day)."""
    max_time: float = Field(1.0, gt=0)
    """Horizon in ``max_time_unit`` (a year)."""
    max_time_unit: str = "years"
    """Unit of ``max_time``."""
    log_interval_s: float = Field(7 * S_DAY, gt=0)
    """Seconds between rows (a week)."""
    data_to_mint: float = Field(10e6, gt=0)
    """DATA the minter mints in all, tokens."""
    half_life_years: float = Field(4.0, gt=0)
    """Half-life of the minting schedule, years."""
    builders_share: float = Field(0.7, gt=0, le=1)
    """Share of the minted DATA the treasury routes to the builders (the rest stays)."""
    sales_per_day: float = Field(20.0, ge=0)
    """Mean number of dataset sales a day (Poisson)."""
    price_USD: float = Field(50.0, gt=0)
    """Median dataset price, USD (lognormal, sigma 0.5)."""
    toll: float = Field(0.02, ge=0, le=1)
    """Share of each sale paid to the treasury (fraction)."""
    sell_share: float = Field(0.05, ge=0, le=1)
    """Share of their DATA the builders sell each day (fraction)."""
    data_price_USD: float = Field(0.10, gt=0)
    """DATA's price when the builders sell, USD per DATA."""


class Minting(Agent):
    """Asks the minter to mint what is due, every day."""

    def step(self, sim: Any) -> None:
        sim.tokenomics.mint_due(self.name, "data_minter")
        sim.tokenomics.route(self.name, "treasury", "DATA")


class Buyers(Agent):
    """Buys datasets: a Poisson number a day, lognormal prices, through the market."""

    def __init__(self, name: str, netlist: DataMarket) -> None:
        super().__init__(name)
        self.netlist = netlist
        self.bought = 0

    def step(self, sim: Any) -> None:
        p, rng = self.netlist.params, self.netlist.rng
        n = _poisson(rng, p.sales_per_day)
        for _ in range(n):
            price = round(p.price_USD * math.exp(rng.gauss(0.0, 0.5)), 2)
            sim.mint(self.name, "USD", price)  # their money comes from outside
            if sim.tokenomics.sell(self.name, "market", "publishers", "USD", price).accepted:
                self.bought += 1


class Builders(Agent):
    """Sell a share of their DATA each day to the outside; count the USD raised."""

    def __init__(self, name: str, netlist: DataMarket) -> None:
        super().__init__(name)
        self.netlist = netlist
        self.raised_USD = 0.0

    def step(self, sim: Any) -> None:
        held = sim.balance(self.name, "DATA")
        amount = held * self.netlist.params.sell_share
        if amount > 0 and sim.tokenomics.burn(self.name, "DATA", amount).accepted:
            self.raised_USD += amount * self.netlist.params.data_price_USD


def _poisson(rng: Any, mean: float) -> int:
    """Knuth's Poisson draw from a ``random.Random`` (small means)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class DataMarket(Netlist):
    """A data market, its toll and its token (module docstring)."""

    name = "data_market"
    description = "Example netlist: a data market with a toll, and a minted token routed to builders."
    Params = DataMarketParams
    x_label = "Day"
    protocols = ("governance", "tokenomics")

    def build_agents(self, sim: Any) -> list[Agent]:
        p = self.params
        sim.create_asset("USD", 18)
        sim.create_asset("DATA", 18)
        sim.tokenomics.create_token("DATA")
        for party in ("minting", "buyers", "publishers", "builders", "treasury_USD"):
            sim.create_party(party)
        sim.tokenomics.create_router("treasury", {"builders": p.builders_share})
        sim.tokenomics.create_minter("data_minter", "DATA", "treasury", p.data_to_mint,
                                     ExpFunc(p.half_life_years), interval_s=S_DAY)
        sim.tokenomics.create_marketplace("market", "treasury_USD", p.toll)
        self.buyers = Buyers("buyers", self)
        self.builders = Builders("builders", self)
        return [Minting("minting"), self.buyers, self.builders]

    def columns(self) -> list[str]:
        return ["DATA_supply", "treasury_DATA", "builders_DATA", "builders_raised_USD",
                "treasury_USD", "publishers_USD", "sales"]

    def row(self, sim: Any) -> list[Any]:
        return [sim.tokenomics.supply("DATA").supply,
                sim.tokenomics.router_view("treasury").held.get("DATA", 0.0),
                sim.balance("builders", "DATA"), self.builders.raised_USD,
                sim.balance("treasury_USD", "USD"), sim.balance("publishers", "USD"),
                self.buyers.bought]

    def plot_specs(self, header: list[str]) -> list[YParam]:
        return [
            YParam(["DATA_supply", "treasury_DATA", "builders_DATA"],
                   ["supply", "kept by the treasury", "held by builders"], "DATA tokens",
                   LINEAR, MULT1, COUNT),
            YParam(["treasury_USD", "publishers_USD", "builders_raised_USD"],
                   ["treasury (tolls)", "publishers", "builders (DATA sold)"], "USD income",
                   LINEAR, MULT1, DOLLAR),
            YParam(["sales"], ["datasets sold"], "Sales", LINEAR, MULT1, COUNT),
        ]


SCENARIO = DataMarket
"""The scenario this file defines (``defisim`` looks for this name first)."""

_ = S_YEAR  # a year is 365 days (TokenSPICE's S_YEAR), as max_time_unit="years"
