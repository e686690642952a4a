"""The common part of the compute marketplace's agents (spec 1, 7.1): a party with
USDC capital, its costs outside the ledger, W_t sampling, gas booking, its
transactions' receipts, and the policy scaling shared by clients and providers.

Gas (spec 4.6): in ``immediate`` execution (no fee market) a call executes when sent
and its gas is booked off the ledger at the global state's L2 base fee
(:meth:`ComputeAgent._tx`). With the chain's fee market (``mempool`` execution) the
agent also holds ETH (``eth_capital``) and pays gas on chain; a call returns a pending
receipt, and :meth:`ComputeAgent._submit` keeps it until its block executes it: the
agent reads the receipt (``sim.receipt``) at its next step, books what the chain
charged (gas used x effective price, plus any L1 data fee) and runs the action's
follow-up (``then``). A transaction refused at submission (``FEE_TOO_LOW``,
``INSUFFICIENT_GAS_FUNDS``) costs nothing; one included and refused pays the revert
gas; both reach ``then`` with a receipt whose ``accepted`` is false.

Policy scaling (a choice; spec 5's configs are Apiary's, priced for ~hundreds of USDC
jobs): an agent builds its section-5 policy per job with every price parameter (x0,
x_min, x_max, tol, m) multiplied by a scale and the variances (p0, r) by its square:
a client's scale is ``V / 550`` (its default x_max is 550), a provider's ``floor / 50``
(its default x_min is 50). The economic binding of spec 5 (client ``x_max = V``,
provider ``x_min`` = cost floor) is passed as ``Bounds`` too.
"""

from __future__ import annotations

from collections.abc import Callable
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


Then = Callable[[Any, Any, float], None]
"""A transaction's follow-up: ``then(sim, receipt, gas_usd)``."""


class ComputeAgent(Agent):
    """A party of the marketplace holding ``capital`` USDC (token units), with costs
    booked outside the ledger in ``cost_usd`` (electricity; gas in immediate mode) and
    W_t sampled every ``metric_interval_s`` (spec 7.1). With the chain's fee market it
    is also given ``eth_capital`` ETH (set by the scenario before the run) to pay gas
    (module docstring)."""

    role = "agent"
    eth_capital: float = 0.0
    """ETH minted to the party at the start when the chain has a fee market."""

    def __init__(self, name: str, market: Market, capital: float,
                 metric_interval_s: float = 3600.0) -> None:
        super().__init__(name)
        self.market = market
        self.capital = float(capital)
        self.cost_usd = 0.0
        self.portfolio = PortfolioTracker(metric_interval_s)
        self.invalid_messages = 0
        self.native: str | None = None  # the fee market's asset: gas is paid on chain
        self._inflight: dict[int, tuple[str, str, Then | None]] = {}
        self._busy_keys: set[str] = set()

    def initialise(self, sim: Simulation) -> None:
        sim.create_party(self.name)
        if self.capital > 0:
            sim.mint(self.name, TOKEN, self.capital)
        fm = sim.fee_market
        if fm is not None:
            self.native = fm.native_asset
            if self.eth_capital > 0:
                sim.mint(self.name, fm.native_asset, self.eth_capital)

    # -- transactions ---------------------------------------------------------------------
    def _submit(self, sim: Simulation, action: str, receipt: Any, then: Then | None = None,
                key: str = "") -> None:
        """Follow the transaction of ``action`` whose call returned ``receipt``.

        Immediate mode: book its gas (:meth:`_tx`) and call ``then(sim, receipt, gas
        USD)`` now (``then``: a bound method or a ``functools.partial`` of one, so that
        an agent with transactions in flight pickles). With a fee market: a pending receipt waits (``key``, e.g. the escrow uid,
        is :meth:`_busy` meanwhile) until :meth:`_poll` finds the executed one; a
        receipt refused at submission goes to ``then`` now with 0 USD."""
        if self.native is None:
            self._tx(action, receipt)
            if then is not None:
                then(sim, receipt, self.market.gas_usd(action))
            return
        if getattr(receipt, "pending", False):
            self._inflight[receipt.tx_id] = (action, key, then)
            if key:
                self._busy_keys.add(key)
        elif then is not None:
            then(sim, receipt, 0.0)

    def _poll(self, sim: Simulation) -> None:
        """Book and follow up every in-flight transaction whose block has executed it
        (submission order); those still in the mempool wait."""
        if not self._inflight:
            return
        for tx_id in list(self._inflight):
            rc = sim.receipt(tx_id)
            if rc is None:
                continue
            action, key, then = self._inflight.pop(tx_id)
            self._busy_keys.discard(key)
            usd = self.market.book_receipt(self.role, action, rc)
            if then is not None:
                then(sim, rc, usd)

    def _busy(self, key: str) -> bool:
        """A transaction about ``key`` is in flight (never in immediate mode)."""
        return key in self._busy_keys

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
        """W_t (spec 7.1): USDC held and locked, at Z's USDC price, plus (with a fee
        market) the ETH held at Z's ETH price, less booked costs."""
        z = self.market.snapshot
        usdc = sim.balance(self.name, TOKEN) + self.locked(sim) / 1e6
        w = usdc * z.prices[z.payment_symbol] - self.cost_usd
        if self.native is not None:
            w += sim.balance(self.name, self.native) * z.prices["ETH"]
        return w

    def _sample(self, sim: Simulation) -> None:
        if self.portfolio.due(sim.now):
            self.portfolio.record(sim.now, self.value_usd(sim))

    def _read_rejections(self, sim: Simulation) -> None:
        self.invalid_messages += len(sim.compute.rejections(self.name))

    def metrics(self) -> dict[str, float]:
        """The 7.1 summary of this agent's W_t samples."""
        return self.portfolio.summary()
