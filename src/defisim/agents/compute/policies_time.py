"""Time-dependent policies ``time_poly`` and ``time_exp`` (spec 5; Faratin's decision
functions, Apiary's time buyers and sellers).

With t the seconds since the request was published (simulated clock, spec 10.3):

- polynomial ``α(t) = k + (1 - k)(t/t_max)^(1/β)``; exponential
  ``α(t) = k^((1 - t/t_max)^β)``; both go from k at t = 0 to 1 at t_max;
- a client targets ``x = x_min + α(x_max - x_min)``, a provider
  ``x = x_min + (1 - α)(x_max - x_min)``;
- a client accepts if ``y <= x + tol``, a provider if ``y >= x``; otherwise counter x;
- after t_max (``t > t_max``): ``terminate(deadline)`` (``after_deadline="terminate"``,
  Faratin, the default) or silence (``"noop"``, Apiary);
- a client opens at its target for ``α(0) = k``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .policy import (
    Accept,
    Decision,
    Noop,
    Policy,
    PolicyContext,
    Terminate,
    bound_range,
    require,
)

__all__ = ["AFTER_DEADLINE", "TimeExpPolicy", "TimePolyPolicy"]

AFTER_DEADLINE: tuple[str, ...] = ("terminate", "noop")


@dataclass(frozen=True, kw_only=True)
class _TimePolicy(Policy):
    """Shared parameters and rule of the Faratin policies (spec 5).

    Attributes:
        x_min, x_max: price range, token units (0 <= x_min <= x_max).
        t_max: deadline, seconds after the request's publication, > 0.
        beta: β > 0 (β < 1 Boulware, β > 1 Conceder).
        k: α(0), in [0, 1].
        tol: the client's acceptance tolerance, token units (Apiary: 3).
        after_deadline: ``terminate`` or ``noop``.
    """

    x_min: float | None = None
    x_max: float | None = None
    t_max: float | None = None
    beta: float | None = None
    k: float | None = None
    tol: float | None = None
    after_deadline: str = "terminate"

    def _validate(self) -> None:
        for key in ("x_min", "x_max", "t_max", "beta", "k", "tol"):
            require(getattr(self, key) is not None, self.name, f"needs {key}")
        require(0 <= self.x_min <= self.x_max, self.name,
                f"need 0 <= x_min <= x_max, got {self.x_min!r}, {self.x_max!r}")
        require(self.t_max > 0, self.name, f"t_max must be > 0, got {self.t_max!r}")
        require(self.beta > 0, self.name, f"beta must be > 0, got {self.beta!r}")
        require(0 <= self.k <= 1, self.name, f"k must be in [0, 1], got {self.k!r}")
        require(self.tol >= 0, self.name, f"tol must be >= 0, got {self.tol!r}")
        require(self.after_deadline in AFTER_DEADLINE, self.name,
                f"after_deadline must be one of {AFTER_DEADLINE}, got "
                f"{self.after_deadline!r}")

    def alpha(self, t: float) -> float:
        """α(t) in [k, 1] for 0 <= t <= t_max (spec 5)."""
        raise NotImplementedError

    def target(self, t: float, ctx: PolicyContext) -> float:
        """The target price x at t, token units, within the topic's bounds."""
        lo, hi = bound_range(self.x_min, self.x_max, ctx)
        a = self.alpha(min(max(t, 0.0), self.t_max))
        return lo + a * (hi - lo) if self.role == "client" else lo + (1 - a) * (hi - lo)

    def _open(self, job, ctx: PolicyContext) -> float:
        x = self.target(0.0, ctx)
        ctx.memory.x_prev = x
        return x

    def _respond(self, ctx: PolicyContext) -> Decision:
        if ctx.t > self.t_max:
            return Terminate("deadline") if self.after_deadline == "terminate" else Noop()
        x = self.target(ctx.t, ctx)
        ctx.memory.x_prev = x
        y = ctx.y
        if (y <= x + self.tol) if self.role == "client" else (y >= x):
            return Accept()
        return ctx.counter(x)


@dataclass(frozen=True, kw_only=True)
class TimePolyPolicy(_TimePolicy):
    """``time_poly``: ``α(t) = k + (1 - k)(t/t_max)^(1/β)`` (spec 5). Defaults are the
    spec's configs: client [1, 550], t_max 10, β 1.9, k 0.3, tol 3; provider
    [50, 800], t_max 20, β 5.5, k 0.5."""

    name = "time_poly"
    DEFAULTS: ClassVar = {
        "client": {"x_min": 1.0, "x_max": 550.0, "t_max": 10.0, "beta": 1.9, "k": 0.3,
                   "tol": 3.0},
        "provider": {"x_min": 50.0, "x_max": 800.0, "t_max": 20.0, "beta": 5.5, "k": 0.5,
                     "tol": 0.0},
    }

    def alpha(self, t: float) -> float:
        return self.k + (1 - self.k) * (t / self.t_max) ** (1 / self.beta)


@dataclass(frozen=True, kw_only=True)
class TimeExpPolicy(_TimePolicy):
    """``time_exp``: ``α(t) = k^((1 - t/t_max)^β)`` (spec 5). Defaults are the spec's
    configs: client [1, 550], t_max 30, β 0.5, k 0.3, tol 3; provider [50, 800],
    t_max 7, β 0.6, k 0.5."""

    name = "time_exp"
    DEFAULTS: ClassVar = {
        "client": {"x_min": 1.0, "x_max": 550.0, "t_max": 30.0, "beta": 0.5, "k": 0.3,
                   "tol": 3.0},
        "provider": {"x_min": 50.0, "x_max": 800.0, "t_max": 7.0, "beta": 0.6, "k": 0.5,
                     "tol": 0.0},
    }

    def alpha(self, t: float) -> float:
        # k = 0 gives 0**0 = 1 at t_max, as the formula's limit requires
        return self.k ** ((1 - t / self.t_max) ** self.beta)
