"""The policies without a price model (spec 5): ``naive_accepter``, ``naive_rejecter``,
``identity``, ``random`` and the legacy ``threshold``.

Clients of these policies open at a configured ``open_price`` (token units; spec 5,
"Policies with no price model open at a configured open_price").
"""

from __future__ import annotations

from dataclasses import dataclass

from .policy import Accept, Decision, Policy, PolicyContext, Terminate, require

__all__ = [
    "IdentityPolicy",
    "NaiveAccepterPolicy",
    "NaiveRejecterPolicy",
    "RandomPolicy",
    "ThresholdPolicy",
]


@dataclass(frozen=True, kw_only=True)
class _OpenPricePolicy(Policy):
    """A policy whose client opens at ``open_price`` (token units, > 0; required for a
    client unless the policy says otherwise)."""

    open_price: float | None = None

    def _validate(self) -> None:
        if self.open_price is None:
            require(self.role != "client" or not self._needs_open_price(), self.name,
                    "a client needs open_price (token units, > 0)")
        else:
            require(self.open_price > 0, self.name,
                    f"open_price must be > 0, got {self.open_price!r}")

    def _needs_open_price(self) -> bool:
        return True

    def _open(self, job, ctx: PolicyContext) -> float:
        assert self.open_price is not None  # checked on construction
        ctx.memory.x_prev = self.open_price
        return self.open_price


@dataclass(frozen=True, kw_only=True)
class NaiveAccepterPolicy(_OpenPricePolicy):
    """``naive_accepter`` (spec 5): a client accepts any offer; a provider echoes any
    price (its :class:`Accept` is sent as the echo). Apiary's naive buyer and seller."""

    name = "naive_accepter"

    def _respond(self, ctx: PolicyContext) -> Decision:
        return Accept()


@dataclass(frozen=True, kw_only=True)
class NaiveRejecterPolicy(_OpenPricePolicy):
    """``naive_rejecter`` (spec 5): answers any message with ``terminate(rejected)``."""

    name = "naive_rejecter"

    def _respond(self, ctx: PolicyContext) -> Decision:
        return Terminate("rejected")


@dataclass(frozen=True, kw_only=True)
class IdentityPolicy(_OpenPricePolicy):
    """``identity`` (spec 5): reply with the received terms unchanged. For a provider
    that is acceptance (:class:`Accept`, sent as the echo); a client never accepts and
    counters at exactly the received amount, so two identity agents never agree."""

    name = "identity"

    def _respond(self, ctx: PolicyContext) -> Decision:
        return Accept() if self.role == "provider" else ctx.echo()


@dataclass(frozen=True, kw_only=True)
class RandomPolicy(_OpenPricePolicy):
    """``random`` (spec 5): counter with a price drawn from U{low, ..., high} (integer
    token units, inclusive; default 10..1000, mean 505) from the agent's stream
    ``ctx.rng``; never accepts. A client without ``open_price`` opens with a draw."""

    name = "random"
    low: int = 10
    high: int = 1000

    def _validate(self) -> None:
        super()._validate()
        require(0 < self.low <= self.high, self.name,
                f"need 0 < low <= high, got low={self.low!r}, high={self.high!r}")

    def _needs_open_price(self) -> bool:
        return False

    def _draw(self, ctx: PolicyContext) -> float:
        return float(ctx.rng.integers(self.low, self.high + 1))

    def _open(self, job, ctx: PolicyContext) -> float:
        return self.open_price if self.open_price is not None else self._draw(ctx)

    def _respond(self, ctx: PolicyContext) -> Decision:
        return ctx.counter(self._draw(ctx))


@dataclass(frozen=True, kw_only=True)
class ThresholdPolicy(_OpenPricePolicy):
    """``threshold`` (legacy, spec 5): with utility ``u = V - y`` for a client (V =
    ``ctx.job.value``) and ``u = y`` for a provider, accept if ``u >= 1.05*u_ref``,
    reject if ``u < 0.95*u_ref``, otherwise echo (a provider's echo is its accept).

    Raises:
        ValueError: a client answering without a job (no V).
    """

    name = "threshold"
    u_ref: float | None = None

    def _validate(self) -> None:
        super()._validate()
        require(self.u_ref is not None, self.name, "needs u_ref (the reference utility)")

    def _respond(self, ctx: PolicyContext) -> Decision:
        assert self.u_ref is not None
        if self.role == "client":
            require(ctx.job is not None, self.name, "a client needs ctx.job (its value V)")
            u = ctx.job.value - ctx.y
        else:
            u = ctx.y
        if u >= 1.05 * self.u_ref:
            return Accept()
        if u < 0.95 * self.u_ref:
            return Terminate("rejected")
        return Accept() if self.role == "provider" else ctx.echo()
