"""Rewards of the trading environments.

With ``dpnl_t`` the change of the learner's PnL over env step ``t`` (equity minus
everything minted to it, asset units; mark-to-market settles positions at every
mark, so this includes the open position's gains at the mark price) and ``q_t``
its position after the step (contracts):

``"pnl"``
    ``r_t = scale * dpnl_t``.
``"pnl_inventory"``
    ``r_t = scale * (dpnl_t - inventory_penalty * |q_t|)``: a running penalty per
    contract held per env step (asset units), the usual inventory-averse
    objective of market-making RL (e.g. Spooner et al. 2018, "Market making via
    reinforcement learning", the dampened PnL and inventory terms).
``"dsr"``
    The differential Sharpe ratio of the per-step return ``dpnl_t / capital``
    (Moody and Saffell 2001, eq. 10; :class:`defisim.metrics.DifferentialSharpe`
    with adaptation rate ``eta``); ``"ddr"`` its downside-deviation variant
    (:class:`defisim.metrics.DifferentialDownsideDeviation`).
``"terminal"``
    0 until the last step, then ``scale * (PnL at the end - PnL at the start)``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from defisim.metrics import DifferentialDownsideDeviation, DifferentialSharpe


class RewardConfig(BaseModel):
    """How a learner is rewarded (module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["pnl", "pnl_inventory", "dsr", "ddr", "terminal"] = "pnl"
    scale: float = Field(1.0, gt=0)
    """Multiplier of PnL-based rewards (e.g. 1e-3 for rewards in thousands)."""
    inventory_penalty: float = Field(0.0, ge=0)
    """Asset units per contract held per env step (``pnl_inventory``)."""
    eta: float = Field(0.01, gt=0, lt=1)
    """Adaptation rate of the differential ratios (``dsr``, ``ddr``)."""


class RewardTracker:
    """Computes one learner's reward step by step (module docstring).

    Args:
        config: the reward configuration.
        capital: the learner's collateral (asset units), the base of returns.
        start_pnl: its PnL at the start of the episode.
    """

    def __init__(self, config: RewardConfig, capital: float, start_pnl: float) -> None:
        self.config = config
        self.capital = capital
        self.start_pnl = start_pnl
        self.last_pnl = start_pnl
        self.ratio = None
        if config.kind == "dsr":
            self.ratio = DifferentialSharpe(config.eta)
        elif config.kind == "ddr":
            self.ratio = DifferentialDownsideDeviation(config.eta)

    def reward(self, pnl: float, position: float, last: bool) -> float:
        """The reward of a step that ended with ``pnl`` and ``position``; ``last``
        marks the episode's final step."""
        cfg = self.config
        d = pnl - self.last_pnl
        self.last_pnl = pnl
        kind = cfg.kind
        if kind == "pnl":
            return cfg.scale * d
        if kind == "pnl_inventory":
            return cfg.scale * (d - cfg.inventory_penalty * abs(position))
        if kind == "terminal":
            return cfg.scale * (pnl - self.start_pnl) if last else 0.0
        return float(self.ratio.update(d / self.capital))
