"""The imitative ``tit_for_tat`` policy (spec 5, "Tit-for-tat"; Faratin's imitative
tactics as Apiary implements them).

The agent keeps the received prices y_1..y_n (``y_n`` is the one being answered):

- if n < 2: ``x = x_min`` (client) or ``x_max`` (provider);
- otherwise, with ``d = min(n-1, δ)`` and x_prev the agent's own last internal value
  (starting at x_min for a client, who opens there, and x_max for a provider):
  relative ``x = (y_{n-d} / y_{n-d+1}) x_prev`` (x_prev if the divisor is 0);
  random_absolute ``x = x_prev + (y_{n-d} - y_{n-d+1}) + s M ε²``, ε ~ N(0, 1) from the
  agent's stream; averaged ``x = (y_{n-d} / y_n) x_prev``;
- clip x to [x_min, x_max] and store it as x_prev;
- a client accepts if ``y_n <= x + tol``, a provider if ``y_n >= x``; otherwise counter x.

The sign s of the random term is +1 (Apiary, ``sign="apiary"``); ``sign="role"`` is
Faratin's role-dependent sign, +1 for a client and -1 for a provider, so both concede
(spec 10.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .policy import Accept, Decision, Policy, PolicyContext, bound_range, require

__all__ = ["TFT_SIGNS", "TFT_TYPES", "TitForTatPolicy"]

TFT_TYPES: tuple[str, ...] = ("relative", "random_absolute", "averaged")
TFT_SIGNS: tuple[str, ...] = ("apiary", "role")


@dataclass(frozen=True, kw_only=True)
class TitForTatPolicy(Policy):
    """``tit_for_tat`` (spec 5). Parameters (None takes the role's Apiary config:
    client random_absolute, [100, 550], δ 10, M 30, tol 1; provider averaged,
    [50, 800], δ 2, M 1, tol 0):

    Attributes:
        x_min, x_max: price range, token units (0 <= x_min <= x_max).
        delta: δ, the imitation window, an integer >= 1.
        type: ``relative``, ``random_absolute`` or ``averaged``.
        m: M, the scale of the random term (random_absolute), >= 0.
        tol: the client's acceptance tolerance, token units.
        sign: ``apiary`` (s = +1) or ``role`` (client +1, provider -1).
    """

    name = "tit_for_tat"
    DEFAULTS: ClassVar = {
        "client": {"x_min": 100.0, "x_max": 550.0, "delta": 10, "type": "random_absolute",
                   "m": 30.0, "tol": 1.0},
        "provider": {"x_min": 50.0, "x_max": 800.0, "delta": 2, "type": "averaged",
                     "m": 1.0, "tol": 0.0},
    }
    x_min: float | None = None
    x_max: float | None = None
    delta: int | None = None
    type: str | None = None
    m: float | None = None
    tol: float | None = None
    sign: str = "apiary"

    def _validate(self) -> None:
        require(0 <= self.x_min <= self.x_max, self.name,
                f"need 0 <= x_min <= x_max, got {self.x_min!r}, {self.x_max!r}")
        require(isinstance(self.delta, int) and self.delta >= 1, self.name,
                f"delta must be an integer >= 1, got {self.delta!r}")
        require(self.type in TFT_TYPES, self.name,
                f"type must be one of {TFT_TYPES}, got {self.type!r}")
        require(self.m >= 0, self.name, f"m must be >= 0, got {self.m!r}")
        require(self.tol >= 0, self.name, f"tol must be >= 0, got {self.tol!r}")
        require(self.sign in TFT_SIGNS, self.name,
                f"sign must be one of {TFT_SIGNS}, got {self.sign!r}")

    def _start(self, ctx: PolicyContext) -> float:
        lo, hi = bound_range(self.x_min, self.x_max, ctx)
        return lo if self.role == "client" else hi

    def _open(self, job, ctx: PolicyContext) -> float:
        x = self._start(ctx)
        ctx.memory.x_prev = x
        return x

    def _respond(self, ctx: PolicyContext) -> Decision:
        mem = ctx.memory
        ys = mem.received  # y_1..y_n, y_n appended by Policy.respond
        n = len(ys)
        lo, hi = bound_range(self.x_min, self.x_max, ctx)
        if n < 2:
            x = self._start(ctx)
        else:
            d = min(n - 1, self.delta)
            x_prev = mem.x_prev if mem.x_prev is not None else self._start(ctx)
            y_a, y_b = ys[n - d - 1], ys[n - d]  # y_{n-d}, y_{n-d+1} (1-based)
            if self.type == "relative":
                x = (y_a / y_b) * x_prev if y_b != 0 else x_prev
            elif self.type == "averaged":
                x = (y_a / ys[-1]) * x_prev if ys[-1] != 0 else x_prev
            else:
                s = -1.0 if (self.sign == "role" and self.role == "provider") else 1.0
                eps = float(ctx.rng.standard_normal())
                x = x_prev + (y_a - y_b) + s * self.m * eps * eps
        x = min(max(x, lo), hi)
        mem.x_prev = x
        y = ys[-1]
        if (y <= x + self.tol) if self.role == "client" else (y >= x):
            return Accept()
        return ctx.counter(x)
