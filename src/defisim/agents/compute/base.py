"""The common part of the compute marketplace's agents (spec 1, 7.1): a party with
USDC capital, its costs outside the ledger, W_t sampling, gas booking, and the policy
scaling shared by clients and providers.

Policy scaling (a choice; spec 5's configs are Apiary's, priced for ~hundreds of USDC
jobs): an agent builds its section-5 policy per job with every price parameter (x0,
x_min, x_max, tol, m) multiplied by a scale and the variances (p0, r) by its square:
a client's scale is ``V / 550`` (its default x_max is 550), a provider's ``floor / 50``
(its default x_min is 50). The economic binding of spec 5 (client ``x_max = V``,
provider ``x_min`` = cost floor) is passed as ``Bounds`` too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from defisim.agents.base import Agent

from .market import Market
from .policies import POLICIES, make_policy
from .policy import Policy
from .portfolio import PortfolioTracker

if TYPE_CHECKING:
    from defisim.service import Simulation

__all__ = ["ComputeAgent", "scaled_policy"]

TOKEN = "USDC"
_PRICE_KEYS = ("x0", "x_min", "x_max", "tol", "m")
_VARIANCE_KEYS = ("p0", "r")


def scaled_policy(name: str, role: str, scale: float) -> Policy:
    """``make_policy(name, role)`` with its role's defaults scaled (module docstring).

    Raises:
        ValueError: unknown policy (the message lists the known ones) or ``scale <= 0``.
    """
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; known policies: {sorted(POLICIES)}")
    if not scale > 0:
        raise ValueError(f"policy scale must be > 0, got {scale!r}")
    defaults = POLICIES[name].DEFAULTS.get(role, {})
    params: dict[str, Any] = {}
    for key, v in defaults.items():
        if key in _PRICE_KEYS and isinstance(v, float | int) and not isinstance(v, bool):
            params[key] = float(v) * scale
        elif key in _VARIANCE_KEYS:
            params[key] = float(v) * scale * scale
    return make_policy(name, role, **params)


class ComputeAgent(Agent):
    """A party of the marketplace holding ``capital`` USDC (token units), with costs
    booked outside the ledger in ``cost_usd`` (gas, electricity) and W_t sampled every
    ``metric_interval_s`` (spec 7.1)."""

    role = "agent"

    def __init__(self, name: str, market: Market, capital: float,
                 metric_interval_s: float = 3600.0) -> None:
        super().__init__(name)
        self.market = market
        self.capital = float(capital)
        self.cost_usd = 0.0
        self.portfolio = PortfolioTracker(metric_interval_s)
        self.invalid_messages = 0

    def initialise(self, sim: Simulation) -> None:
        sim.create_party(self.name)
        if self.capital > 0:
            sim.mint(self.name, TOKEN, self.capital)

    # -- bookkeeping ----------------------------------------------------------------------
    def _tx(self, action: str, receipt: Any) -> Any:
        """Book the gas of ``action`` (spec 4.7; a refused call its revert gas is not
        modelled: it is booked at the action's gas) and return the receipt."""
        self.cost_usd += self.market.book_gas(self.role, action)
        return receipt

    def locked(self, sim: Simulation) -> int:
        """Base units of this agent's own escrow / collateral at face value."""
        return 0

    def value_usd(self, sim: Simulation) -> float:
        """W_t (spec 7.1): USDC held and locked, at Z's USDC price, less booked costs."""
        z = self.market.snapshot
        usdc = sim.balance(self.name, TOKEN) + self.locked(sim) / 1e6
        return usdc * z.prices[z.payment_symbol] - self.cost_usd

    def _sample(self, sim: Simulation) -> None:
        if self.portfolio.due(sim.now):
            self.portfolio.record(sim.now, self.value_usd(sim))

    def _read_rejections(self, sim: Simulation) -> None:
        self.invalid_messages += len(sim.compute.rejections(self.name))

    def metrics(self) -> dict[str, float]:
        """The 7.1 summary of this agent's W_t samples."""
        return self.portfolio.summary()
