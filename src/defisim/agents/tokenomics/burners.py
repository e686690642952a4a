"""Burners: buy-and-burn through a pool, and TokenSPICE's accounting-only burner.

A protocol may not call another protocol, so buy-and-burn is an agent: it swaps
through ``sim.amm`` and burns the bought tokens through ``sim.tokenomics``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from defisim.agents.base import Agent

if TYPE_CHECKING:
    from defisim.service import Simulation


def _units(raw: int, decimals: int) -> Decimal:
    """Base units as an exact Decimal in asset units (the facades convert it exactly)."""
    return Decimal(raw).scaleb(-decimals)


class BuyAndBurnAgent(Agent):
    """Each step, swap ``pay_asset`` for token ``burn_asset`` in AMM pool ``pool_id``
    (exact input) and burn every ``burn_asset`` it holds (``sim.tokenomics.burn``, so
    the token's books count it: its supply falls by exactly the amount bought).

    Spends ``amount`` asset units of ``pay_asset`` per step (``None``: all it holds),
    at most what it holds. In immediate mode the bought tokens are burned in the same
    step; in mempool mode the swap executes at the block's close and its proceeds are
    burned at the next step. A rejected swap burns nothing. Totals in base units:
    ``spent_raw``, ``bought_raw`` (immediate mode), ``burned_raw``.

    The agent must be a party holding ``pay_asset`` (``initialise`` creates the party
    if it does not exist; funding it is the scenario's job).

    Raises:
        ValueError: ``amount`` not ``None`` or a finite number > 0.
    """

    def __init__(self, name: str, pool_id: str, pay_asset: str, burn_asset: str,
                 amount: float | None = None) -> None:
        super().__init__(name)
        if amount is not None and not (isinstance(amount, int | float | Decimal) and 0 < amount < float("inf")):
            raise ValueError(f"{name}: amount must be None or a finite number > 0, got {amount!r}")
        self.pool_id = pool_id
        self.pay_asset = pay_asset
        self.burn_asset = burn_asset
        self.amount = amount
        self.spent_raw = 0
        self.bought_raw = 0
        self.burned_raw = 0

    def initialise(self, sim: Simulation) -> None:
        if self.name not in sim.parties:
            sim.create_party(self.name)

    def step(self, sim: Simulation) -> None:
        have = sim.balance(self.name, self.pay_asset, raw=True)
        pay_dec = sim.tokenomics.decimals(self.pay_asset)
        spend = have
        if self.amount is not None:
            spend = min(have, int(Decimal(str(self.amount)).scaleb(pay_dec)))
        if spend > 0:
            before = sim.balance(self.name, self.burn_asset, raw=True)
            r = sim.amm.swap(self.name, self.pool_id, self.pay_asset, _units(spend, pay_dec), exact="in")
            if r.accepted:
                self.spent_raw += spend
                self.bought_raw += sim.balance(self.name, self.burn_asset, raw=True) - before
        held = sim.balance(self.name, self.burn_asset, raw=True)
        if held > 0:
            r = sim.tokenomics.burn(self.name, self.burn_asset, _units(held, sim.tokenomics.decimals(self.burn_asset)))
            if r.accepted:
                self.burned_raw += held


class OCEANBurnerAgent(Agent):
    """TokenSPICE's ``OCEANBurnerAgent`` (``agents/OCEANBurnerAgent.py``; spec
    ``token-netlists.md`` 2.1): an accounting-only buy-and-burn.

    Each step, if it holds ``usd`` > 0 of ``usd_asset``, it does ``slices`` (10)
    iterations: ``p = price(sim, self)`` (re-evaluated every iteration: a netlist's
    price reads :attr:`total_burned`, so it rises as the burn proceeds), ``OCEAN =
    (usd / slices) / p``, ``total_burned += OCEAN``, ``total_burned_usd += usd /
    slices`` (doubles, in that order). Then it spends all its ``usd_asset``: burned
    through ``sim.tokenomics.burn`` when it is a token of the tokenomics protocol, else
    ``sim.burn`` (TokenSPICE's withdrawal: the money leaves the modelled economy).
    **No OCEAN token moves**: the burn is pure accounting, as in TokenSPICE; a netlist
    subtracts :attr:`total_burned` from its supply. For a burn that moves tokens use
    :class:`BuyAndBurnAgent`.

    Args:
        price: ``price(sim, agent) -> float``, the OCEAN price in USD now.
        usd_asset: the asset it receives and spends.
        slices: iterations per step (TokenSPICE: 10).
    """

    def __init__(self, name: str, price: Callable[[Simulation, OCEANBurnerAgent], float],
                 usd_asset: str = "USD", slices: int = 10) -> None:
        super().__init__(name)
        if type(slices) is not int or slices < 1:
            raise ValueError(f"{name}: slices must be an integer >= 1, got {slices!r}")
        self.price = price
        self.usd_asset = usd_asset
        self.slices = slices
        self.total_burned = 0.0
        self.total_burned_usd = 0.0

    def initialise(self, sim: Simulation) -> None:
        if self.name not in sim.parties:
            sim.create_party(self.name)

    def step(self, sim: Simulation) -> None:
        raw = sim.balance(self.name, self.usd_asset, raw=True)
        if raw <= 0:
            return
        usd = sim.balance(self.name, self.usd_asset)
        for _ in range(self.slices):
            p = self.price(sim, self)
            self.total_burned += (usd / self.slices) / p
            self.total_burned_usd += usd / self.slices
        amount = _units(raw, sim.tokenomics.decimals(self.usd_asset))
        if self.usd_asset in sim.tokenomics.tokens:
            sim.tokenomics.burn(self.name, self.usd_asset, amount)
        else:
            sim.burn(self.name, self.usd_asset, amount)
