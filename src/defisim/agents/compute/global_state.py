"""The global state Z_t of the compute marketplace and its read-only snapshot (spec section 6).

:class:`GlobalState` holds the processes that every agent sees: token prices
(:mod:`.token_prices`), the L1 and L2 base fees (:mod:`.base_fee`), electricity by
region (:mod:`.electricity`) and the market history (:mod:`.market_history`). The
runner calls :meth:`GlobalState.step` once per step of ``dt_s`` seconds; policies and
observations read :meth:`GlobalState.snapshot`, a frozen :class:`GlobalSnapshot`.

Each process draws from its own named stream (``GlobalState.default`` asks the
caller for them by :data:`STREAMS` name), so switching one process to a replayed
file or changing its parameters leaves the others' paths unchanged. This module
imports nothing of the chain or the service: when the chain runs the L2 fee market,
pass ``l2_fee=None`` and report the chain's base fee with
:meth:`GlobalState.set_l2_base_fee`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from .base_fee import EIP1559, L1_MAINNET, BackgroundDemand, BaseFeeProcess, FeeRule
from .electricity import Electricity
from .market_history import MarketHistory, MarketSummary
from .token_prices import DepegParams, TokenPrices

__all__ = ["STREAMS", "GlobalSnapshot", "GlobalState"]

STREAMS = ("global.prices", "global.depeg", "global.l1_fee", "global.l2_fee", "global.electricity")
"""Names of the random streams :meth:`GlobalState.default` asks for, one per process."""

WEI_PER_ETH = 10**18


@dataclass(frozen=True)
class GlobalSnapshot:
    """Z_t: what every agent sees at simulated time ``t_s`` (read-only).

    Attributes:
        t_s: simulated seconds since the start.
        prices: token symbol -> USD price (``ETH``, the L2 token, the payment token).
        payment_symbol: the payment token's symbol (``USDC``).
        l1_base_fee: L1 base fee, wei per gas.
        l2_base_fee: L2 base fee, wei per gas.
        electricity: region -> USD/kWh.
        market: the market history (:class:`~.market_history.MarketSummary`).
    """

    t_s: float
    prices: Mapping[str, float]
    payment_symbol: str
    l1_base_fee: int
    l2_base_fee: int
    electricity: Mapping[str, float]
    market: MarketSummary

    def __reduce__(self):
        # MappingProxyType does not pickle: rebuild the proxies from plain dicts
        return (_snapshot, (self.t_s, dict(self.prices), self.payment_symbol, self.l1_base_fee,
                            self.l2_base_fee, dict(self.electricity), self.market))

    def gas_cost_usd(self, gas: int, gas_price_wei: int | None = None) -> float:
        """USD cost of ``gas`` units at ``gas_price_wei`` (default the L2 base fee), paid in ETH."""
        price = self.l2_base_fee if gas_price_wei is None else gas_price_wei
        return gas * price * self.prices["ETH"] / WEI_PER_ETH


def _snapshot(t_s: float, prices: dict, payment_symbol: str, l1_base_fee: int,
              l2_base_fee: int, electricity: dict, market: MarketSummary) -> GlobalSnapshot:
    return GlobalSnapshot(t_s, MappingProxyType(prices), payment_symbol, l1_base_fee,
                          l2_base_fee, MappingProxyType(electricity), market)


class GlobalState:
    """The global processes, advanced together per runner step.

    Args:
        prices: token prices.
        l1_fee: the L1 base fee process.
        l2_fee: the L2 base fee process, or ``None`` when the chain's fee market owns
            it (then call :meth:`set_l2_base_fee` each step; it starts at
            ``l2_initial_base_fee``).
        electricity: electricity by region.
        history: the market history accumulator (fed by the caller from events).
        l2_initial_base_fee: the L2 fee reported before the first ``set_l2_base_fee``.
    """

    def __init__(
        self,
        prices: TokenPrices,
        l1_fee: BaseFeeProcess,
        l2_fee: BaseFeeProcess | None,
        electricity: Electricity,
        history: MarketHistory | None = None,
        l2_initial_base_fee: int = EIP1559.b0,
    ) -> None:
        self.prices, self.l1_fee, self.l2_fee = prices, l1_fee, l2_fee
        self.electricity = electricity
        self.history = MarketHistory() if history is None else history
        self._l2_external = int(l2_initial_base_fee)
        self.t_s = 0.0

    @classmethod
    def default(
        cls,
        rng: Callable[[str], np.random.Generator],
        *,
        l2_rule: FeeRule = EIP1559,
        l2_from_chain: bool = False,
        depeg: DepegParams | None = None,
        **overrides,
    ) -> GlobalState:
        """Every process with the spec's defaults, each on its named stream.

        Args:
            rng: name -> Generator, e.g. ``sim.rng``; called with the names in
                :data:`STREAMS` (``global.depeg`` only with ``depeg``).
            l2_rule: the L2 rule (``EIP1559``, ``OP_STACK``, ``OP_STACK_CANYON``).
            l2_from_chain: leave the L2 fee to the chain (``l2_fee=None``).
            depeg: the payment token's optional depeg.
            overrides: ``prices=``, ``l1_fee=``, ``l2_fee=``, ``electricity=``,
                ``history=`` to replace one process.
        """
        parts = {
            "prices": lambda: TokenPrices(
                rng("global.prices"), depeg=depeg,
                depeg_rng=rng("global.depeg") if depeg is not None else None,
            ),
            "l1_fee": lambda: BaseFeeProcess(
                L1_MAINNET, BackgroundDemand(L1_MAINNET, rng("global.l1_fee"))
            ),
            "l2_fee": lambda: None if l2_from_chain else BaseFeeProcess(
                l2_rule, BackgroundDemand(l2_rule, rng("global.l2_fee"))
            ),
            "electricity": lambda: Electricity(rng("global.electricity")),
            "history": MarketHistory,
        }
        unknown = set(overrides) - set(parts)
        if unknown:
            raise ValueError(f"unknown process override(s) {sorted(unknown)}; known: {list(parts)}")
        built = {k: overrides[k] if k in overrides else make() for k, make in parts.items()}
        return cls(**built, l2_initial_base_fee=l2_rule.b0)

    def set_l2_base_fee(self, wei_per_gas: int) -> None:
        """Report the chain's L2 base fee (when ``l2_fee`` is ``None``).

        Raises:
            ValueError: a negative fee, or an L2 process already runs here.
        """
        if self.l2_fee is not None:
            raise ValueError("the L2 base fee is simulated here (l2_fee is set); not settable")
        if wei_per_gas < 0:
            raise ValueError(f"base fee must be >= 0, got {wei_per_gas}")
        self._l2_external = int(wei_per_gas)

    def step(self, dt_s: float) -> GlobalSnapshot:
        """Advance every process by ``dt_s`` seconds (>= 0); return the new snapshot."""
        self.prices.step(dt_s)
        self.l1_fee.step(dt_s)
        if self.l2_fee is not None:
            self.l2_fee.step(dt_s)
        self.electricity.step(dt_s)
        self.t_s += float(dt_s)
        return self.snapshot()

    def snapshot(self) -> GlobalSnapshot:
        """Z_t now, as a frozen :class:`GlobalSnapshot` (copies; later steps do not change it)."""
        l2 = self._l2_external if self.l2_fee is None else self.l2_fee.base_fee
        return GlobalSnapshot(
            t_s=self.t_s,
            prices=MappingProxyType(self.prices.prices()),
            payment_symbol=self.prices.payment_symbol,
            l1_base_fee=self.l1_fee.base_fee,
            l2_base_fee=l2,
            electricity=MappingProxyType(self.electricity.prices()),
            market=self.history.summary(),
        )
