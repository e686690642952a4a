"""The ``kalman`` negotiation policy (spec 5, "Kalman"; Apiary's Kalman buyer and seller).

The agent keeps a belief x̂ (its valuation, token units) with variance P and treats
each received price y as a measurement with noise R:

- accept check with the old belief: a client accepts if ``y <= x̂ + tol``, a provider
  if ``y >= x̂``;
- otherwise ``K = P/(P + R)``, ``P <- (1 - K)P``, ``x̂ <- (1 - K)x̂ + K y`` and counter
  with the new x̂.

A client opens at x̂0 (Apiary overwrites x̂0 with the opening price).
"""

from __future__ import annotations

from dataclasses import dataclass

from .policy import Accept, Decision, Policy, PolicyContext, require

__all__ = ["KalmanPolicy"]


@dataclass(frozen=True, kw_only=True)
class KalmanPolicy(Policy):
    """``kalman`` (spec 5). Parameters (None takes the role's Apiary config):

    Attributes:
        x0: initial belief x̂0, token units (client 200, provider 1000).
        p0: initial variance P0 (client 50, provider 20), > 0.
        r: measurement noise R (client 12, provider 10), >= 0.
        tol: the client's acceptance tolerance, token units (client 2; a provider
            accepts at ``y >= x̂`` and its tol is 0 and unused).
    """

    name = "kalman"
    DEFAULTS = {
        "client": {"x0": 200.0, "p0": 50.0, "r": 12.0, "tol": 2.0},
        "provider": {"x0": 1000.0, "p0": 20.0, "r": 10.0, "tol": 0.0},
    }
    x0: float | None = None
    p0: float | None = None
    r: float | None = None
    tol: float | None = None

    def _validate(self) -> None:
        require(self.p0 > 0, self.name, f"p0 must be > 0, got {self.p0!r}")
        require(self.r >= 0, self.name, f"r must be >= 0, got {self.r!r}")
        require(self.tol >= 0, self.name, f"tol must be >= 0, got {self.tol!r}")
        require(self.x0 > 0, self.name, f"x0 must be > 0, got {self.x0!r}")

    def _init(self, ctx: PolicyContext) -> None:
        if ctx.memory.x_hat is None:
            ctx.memory.x_hat, ctx.memory.p = self.x0, self.p0

    def _open(self, job, ctx: PolicyContext) -> float:
        self._init(ctx)
        return ctx.memory.x_hat

    def _respond(self, ctx: PolicyContext) -> Decision:
        self._init(ctx)
        mem, y = ctx.memory, ctx.y
        if (y <= mem.x_hat + self.tol) if self.role == "client" else (y >= mem.x_hat):
            return Accept()
        k = mem.p / (mem.p + self.r)
        mem.p = (1 - k) * mem.p
        mem.x_hat = (1 - k) * mem.x_hat + k * y
        mem.x_prev = mem.x_hat
        return ctx.counter(mem.x_hat)
