"""Action spaces of the trading environments and how an action becomes orders.

Three kinds (:class:`ActionConfig.kind`):

``"discrete"`` (``Discrete(3)``)
    0 = hold, 1 = buy ``size`` contracts, 2 = sell ``size`` contracts, as a market
    order (IOC). The learner's resting orders, if any, are left alone.
``"continuous"`` (``Box([-1, 0, -1], [1, 1, 1])``)
    ``(side, size, offset)``: the learner's previous limit order is cancelled, then
    a GTC limit order is placed for ``size * max_size`` contracts (rounded down to
    the market's size step; nothing when that is 0 or ``|side| < dead_zone``) on
    the side of ``sign(side)`` at ``mid * (1 - sign(side) * offset * max_offset_bps
    / 1e4)`` rounded to a tick away from the mid: ``offset > 0`` rests behind the
    mid, ``offset < 0`` crosses it (takes liquidity).
``"quotes"`` (``Discrete(len(spreads_bps) + 1)``)
    A market maker's choice: 0 = cancel both quotes, ``i >= 1`` = replace them
    with a post-only bid and ask of ``size`` contracts each at ``mid * (1 -/+
    spreads_bps[i-1] / 2e4)`` (rounded away from the mid onto the tick grid).

The mid is that of the best bid and ask, or the mark price when a side is empty;
with neither, nothing is sent. A rejected order (margin, post-only, auction rules)
is recorded by the chain as a ``TransactionRejected`` event and counted in the
step's ``info["rejected"]``; it never raises.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from gymnasium import spaces
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .observations import LearnerView


class ActionConfig(BaseModel):
    """The action space of a learner (module docstring). Sizes in contracts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["discrete", "continuous", "quotes"] = "discrete"
    size: float = Field(0.1, gt=0)
    """Contracts per market order (discrete) or per quote (quotes)."""
    max_size: float = Field(0.5, gt=0)
    """Largest limit order of the continuous kind (contracts)."""
    max_offset_bps: float = Field(50.0, gt=0)
    """Largest distance of the continuous kind's limit price from the mid (bps)."""
    dead_zone: float = Field(0.05, ge=0, lt=1)
    """``|side|`` below this means hold (continuous kind)."""
    spreads_bps: tuple[float, ...] = (5.0, 10.0, 20.0, 40.0)
    """Quoted spreads of the quotes kind (full spread, bps of the mid)."""

    @model_validator(mode="after")
    def _check(self) -> ActionConfig:
        if self.kind == "quotes" and (not self.spreads_bps or min(self.spreads_bps) <= 0):
            raise ValueError("quotes actions need at least one spread, all > 0 bps")
        return self

    def space(self) -> spaces.Space:
        """The Gymnasium space of this kind."""
        if self.kind == "discrete":
            return spaces.Discrete(3)
        if self.kind == "quotes":
            return spaces.Discrete(len(self.spreads_bps) + 1)
        return spaces.Box(np.array([-1.0, 0.0, -1.0], dtype=np.float32),
                          np.array([1.0, 1.0, 1.0], dtype=np.float32), dtype=np.float32)

    def names(self) -> list[str]:
        """Names of the discrete actions (empty for the continuous kind)."""
        if self.kind == "discrete":
            return ["hold", "buy", "sell"]
        if self.kind == "quotes":
            return ["no_quotes"] + [f"quote_{s:g}bps" for s in self.spreads_bps]
        return []


class OrderSender:
    """Turns one learner's actions into orders (module docstring).

    Args:
        config: the action configuration.
        view: the learner's :class:`LearnerView` (party, market, simulation).

    Raises:
        ValueError: the order size (``max_size`` for the continuous kind) is below
            one lot of the market, so no action could ever send an order.
    """

    def __init__(self, config: ActionConfig, view: LearnerView) -> None:
        self.config = config
        self.view = view
        self.space = config.space()
        u = view.units
        self._tick = u.tick  # raw price units
        self._pdp_factor = u.size_factor
        size = config.max_size if config.kind == "continuous" else config.size
        if self._raw_size(size) <= 0:
            name = "max_size" if config.kind == "continuous" else "size"
            raise ValueError(f"action {name} {size:g} is below one lot of market "
                             f"{view.market} ({u.lot:g} contracts)")

    def _raw_size(self, size: float) -> int:
        return int(math.floor(size * self._pdp_factor + 1e-9))

    def apply(self, action) -> dict[str, int]:
        """Send the orders of ``action``; returns counts ``{"sent", "rejected", "traded"}``.

        Raises:
            ValueError: ``action`` is not in the action space.
        """
        cfg = self.config
        if cfg.kind == "continuous":
            a = np.asarray(action, dtype=np.float32).reshape(-1)
            if a.shape != (3,) or not np.all(np.isfinite(a)):
                raise ValueError(f"continuous action must be 3 finite numbers, got {action!r}")
            return self._limit(float(np.clip(a[0], -1, 1)), float(np.clip(a[1], 0, 1)),
                               float(np.clip(a[2], -1, 1)))
        try:
            i = int(action)
        except (TypeError, ValueError):
            raise ValueError(f"discrete action must be an integer, got {action!r}") from None
        if not self.space.contains(i):
            raise ValueError(f"action {i} out of range 0..{self.space.n - 1}")
        if cfg.kind == "discrete":
            if i == 0:
                return {"sent": 0, "rejected": 0, "traded": 0}
            return self._market(1 if i == 1 else -1, self._raw_size(cfg.size))
        return self._quotes(i)

    # ------------------------------------------------------------------ orders
    def _submit(self, side: int, size: int, order_type: str, tif: str, price: int,
                post_only: bool = False) -> tuple[int, int]:
        v = self.view
        r = v.futures.submit_order_raw(v.party, v.market, side, size, price, order_type, tif, 0,
                                       post_only, False, "", 0)
        rejected = int(r.status == "REJECTED")
        traded = sum(t.size for t in r.trades) if r.trades else 0
        return rejected, traded

    def _market(self, side: int, size: int) -> dict[str, int]:
        if size <= 0:
            return {"sent": 0, "rejected": 0, "traded": 0}
        rej, traded = self._submit(side, size, "MARKET", "IOC", 0)
        return {"sent": 1, "rejected": rej, "traded": traded}

    def _away(self, price: float, side: int) -> int:
        """``price`` (raw, float) rounded onto the tick grid away from the mid."""
        t = self._tick
        p = math.floor(price / t) * t if side > 0 else math.ceil(price / t) * t
        return max(int(p), t)

    def _limit(self, side_signal: float, size_frac: float, offset: float) -> dict[str, int]:
        v = self.view
        v.futures.cancel_all(v.party, v.market)
        size = self._raw_size(size_frac * self.config.max_size)
        mid = self.view.mid_raw()
        if abs(side_signal) < self.config.dead_zone or size <= 0 or mid <= 0:
            return {"sent": 0, "rejected": 0, "traded": 0}
        side = 1 if side_signal > 0 else -1
        price = self._away(mid * (1 - side * offset * self.config.max_offset_bps / 1e4), side)
        rej, traded = self._submit(side, size, "LIMIT", "GTC", price)
        return {"sent": 1, "rejected": rej, "traded": traded}

    def _quotes(self, i: int) -> dict[str, int]:
        v = self.view
        v.futures.cancel_all(v.party, v.market)
        if i == 0:
            return {"sent": 0, "rejected": 0, "traded": 0}
        mid = self.view.mid_raw()
        size = self._raw_size(self.config.size)
        if mid <= 0 or size <= 0:
            return {"sent": 0, "rejected": 0, "traded": 0}
        half = self.config.spreads_bps[i - 1] / 2e4
        out = {"sent": 2, "rejected": 0, "traded": 0}
        for side in (1, -1):
            price = self._away(mid * (1 - side * half), side)
            rej, traded = self._submit(side, size, "LIMIT", "GTC", price, post_only=True)
            out["rejected"] += rej
            out["traded"] += traded
        return out
