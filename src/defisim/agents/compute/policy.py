"""The negotiation-policy interface of the compute marketplace (spec section 5).

A policy is a *stateless* object holding its parameters. It has two calls:

- ``open(job, ctx) -> float``: a client's request price, token units, unrounded;
- ``respond(msg, ctx) -> Decision``: the answer to a price message, one of
  :class:`Counter`, :class:`Accept`, :class:`Noop` or :class:`Terminate` (``reject``
  is ``Terminate("rejected")``).

Its memory (Kalman belief, received prices, own last value, bounds fixed when the
request arrived) lives in a :class:`PolicyMemory` that the runner keeps per
``(agent, topic)`` (spec 1, "Policy memory") and passes in :class:`PolicyContext`.

Prices: policies compute in real numbers in token units; a price leaving a policy is
rounded to base units in its sender's favour (:func:`round_price`, spec 5). A
:class:`Counter` carries both: ``price`` (the policy's unrounded value) and
``amount`` (the integer put on the wire).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np

if TYPE_CHECKING:
    from defisim.protocols.compute.types import Job

__all__ = [
    "ROLES",
    "TERMINATE_REASONS",
    "Accept",
    "Bounds",
    "Counter",
    "Decision",
    "Noop",
    "Policy",
    "PolicyContext",
    "PolicyMemory",
    "Role",
    "Terminate",
    "bound_range",
    "reject",
    "require",
    "round_price",
    "to_token_units",
]

Role = Literal["client", "provider"]
ROLES: tuple[str, ...] = ("client", "provider")

TERMINATE_REASONS: tuple[str, ...] = (
    "completed", "cancelled", "rejected", "timeout", "max_rounds", "capacity",
    "slashed", "error", "deadline",
)
"""The ``terminate`` reasons of the ``compute`` scheme (spec 2.3)."""

_ROUND_EPS = 1e-9


def round_price(x: float, role: str, decimals: int = 6) -> int:
    """A policy's real price ``x`` (token units) as base units, in the sender's favour
    (spec 5): a client sends ``floor(x*10^d + 1e-9)``, a provider ``ceil(x*10^d - 1e-9)``.

    The 1e-9 (base units) absorbs float noise; above about 1e7 base units a float's own
    spacing is coarser than that, so the tolerance is widened to 8 ulps of ``x*10^d``
    (under 1e-6 base units for any price below 10^9 USDC).

    Raises:
        ValueError: ``role`` is not ``client``/``provider``, ``x`` is not finite, or
            ``decimals`` is negative.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    if not math.isfinite(x):
        raise ValueError(f"price must be finite, got {x!r}")
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    v = x * 10**decimals
    eps = max(_ROUND_EPS, 8 * math.ulp(v))
    return math.floor(v + eps) if role == "client" else math.ceil(v - eps)


def to_token_units(amount: int, decimals: int = 6) -> float:
    """Base units as token units: ``amount / 10^decimals``."""
    return amount / 10**decimals


# ----------------------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True)
class Counter:
    """Send an ``offer`` at a new price (spec 5 ``counter(price)``).

    Attributes:
        price: the policy's unrounded value, token units (what it keeps internally).
        amount: the price on the wire, integer base units, rounded in the sender's
            favour (:func:`round_price`) or, for an echo, the received amount itself.
    """

    price: float
    amount: int
    kind: Literal["counter"] = "counter"


@dataclass(frozen=True, slots=True)
class Accept:
    """Accept the last received price (spec 5). A client's accept triggers ``escrow``
    and then the ``accept`` message; a provider's is sent as an echo ``offer`` of the
    received terms (spec 10.1: only the client sends ``accept``)."""

    kind: Literal["accept"] = "accept"


@dataclass(frozen=True, slots=True)
class Noop:
    """Stay silent; the scheme's reply timer closes the topic (spec 2.3 row 10)."""

    kind: Literal["noop"] = "noop"


@dataclass(frozen=True, slots=True)
class Terminate:
    """Send ``terminate(reason)`` (spec 2.3). ``reject`` is ``Terminate("rejected")``."""

    reason: str = "rejected"
    kind: Literal["terminate"] = "terminate"

    def __post_init__(self) -> None:
        if self.reason not in TERMINATE_REASONS:
            raise ValueError(f"terminate reason must be one of {TERMINATE_REASONS}, "
                             f"got {self.reason!r}")


Decision = Counter | Accept | Noop | Terminate
"""What ``respond`` returns (spec 5)."""


def reject() -> Terminate:
    """``reject``: ``terminate(rejected)`` (spec 5)."""
    return Terminate("rejected")


# -------------------------------------------------------------------- context and memory


@dataclass(frozen=True, slots=True)
class Bounds:
    """Price bounds tied to state when the request arrives (spec 5, "Economic
    binding"): either may be None (keep the policy's parameter). Token units.
    A client binds ``x_max = V``; a provider binds ``x_min`` to its cost floor
    (:func:`defisim.agents.compute.binding.provider_cost_floor`)."""

    x_min: float | None = None
    x_max: float | None = None


@dataclass(slots=True)
class PolicyMemory:
    """A policy's memory for one ``(agent, topic)`` (spec 1, "Policy memory"); kept by
    the runner, created empty, mutated only by the policy.

    Attributes:
        x_hat, p: Kalman belief and its variance (token units, token units^2).
        received: the received prices y_1..y_n, token units (every policy appends).
        x_prev: the policy's own last internal (unrounded) value, token units.
        bounds: ``(x_min, x_max)`` fixed at the topic's first call (economic binding).
    """

    x_hat: float | None = None
    p: float | None = None
    received: list[float] = field(default_factory=list)
    x_prev: float | None = None
    bounds: tuple[float, float] | None = None

    def copy(self) -> PolicyMemory:
        """An independent copy (e.g. a request's memory copied into each topic)."""
        return PolicyMemory(self.x_hat, self.p, list(self.received), self.x_prev,
                            self.bounds)


@dataclass(slots=True)
class PolicyContext:
    """What a policy sees on a call (spec 1 "Context", reduced to what section 5 uses).

    Attributes:
        role: ``client`` or ``provider``; must equal the policy's role.
        t: seconds since the request was published (simulated clock, spec 10.3), for
            both sides.
        memory: this ``(agent, topic)``'s :class:`PolicyMemory`.
        rng: the agent's numpy Generator (its named stream of the run seed).
        job: the job negotiated (``job.value`` is V, the client's private value).
        received_amount: the price being answered, base units; None for ``open`` and
            for a payment that is not a single ERC20 amount (answered
            ``terminate(error)``, spec 5).
        decimals: d, the payment token's decimals (USDC: 6).
        bounds: economic binding for this topic (read at the topic's first call).
    """

    role: Role
    t: float
    memory: PolicyMemory
    rng: np.random.Generator
    job: Job | None = None
    received_amount: int | None = None
    decimals: int = 6
    bounds: Bounds | None = None

    @property
    def y(self) -> float:
        """The received price in token units (already rounded to base units).

        Raises:
            ValueError: there is no received price.
        """
        if self.received_amount is None:
            raise ValueError("this context carries no received price")
        return to_token_units(self.received_amount, self.decimals)

    def counter(self, x: float) -> Counter:
        """``counter(x)``: ``x`` rounded in this role's favour (spec 5)."""
        return Counter(x, round_price(x, self.role, self.decimals))

    def echo(self) -> Counter:
        """A counter at exactly the received price (identity, a client's echo)."""
        if self.received_amount is None:
            raise ValueError("nothing to echo: this context carries no received price")
        return Counter(self.y, self.received_amount)


# ------------------------------------------------------------------------ the base class


@dataclass(frozen=True, kw_only=True)
class Policy:
    """Base of the section-5 policies: a frozen set of parameters and a role.

    Subclasses set ``name``, may set ``DEFAULTS`` (role -> parameter defaults, the
    Apiary configs of spec 5, filled in where a parameter is None) and implement
    :meth:`_respond` (and :meth:`_open` for clients).

    Raises (on construction):
        ValueError: unknown role or a parameter out of its range.
    """

    role: str
    name: ClassVar[str] = ""
    DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {}

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"{self.name}: role must be one of {ROLES}, got {self.role!r}")
        for key, value in self.DEFAULTS.get(self.role, {}).items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        self._validate()

    def _validate(self) -> None:
        """Check parameters; raise ValueError naming the bad one."""

    def open(self, job: Job | None, ctx: PolicyContext) -> float:
        """A client's request price, token units, unrounded (round it with
        :func:`round_price` with role ``client``). May initialise ``ctx.memory``.

        Raises:
            ValueError: called for a provider, or ``ctx.role`` differs from the role.
        """
        self._check_ctx(ctx)
        if self.role != "client":
            raise ValueError(f"{self.name}: only a client opens a request")
        return self._open(job, ctx)

    def respond(self, msg: object, ctx: PolicyContext) -> Decision:
        """Answer the price message ``msg`` (the scheme message, passed through; the
        scalar policies read only ``ctx.received_amount``). Appends y to
        ``ctx.memory.received``. A message without a single ERC20 amount
        (``received_amount`` None) gets ``terminate(error)`` (spec 5).

        Raises:
            ValueError: ``ctx.role`` differs from the policy's role.
        """
        self._check_ctx(ctx)
        if ctx.received_amount is None:
            return Terminate("error")
        ctx.memory.received.append(ctx.y)
        return self._respond(ctx)

    def _open(self, job: Job | None, ctx: PolicyContext) -> float:
        raise NotImplementedError

    def _respond(self, ctx: PolicyContext) -> Decision:
        raise NotImplementedError

    def _check_ctx(self, ctx: PolicyContext) -> None:
        if ctx.role != self.role:
            raise ValueError(f"{self.name}: context role {ctx.role!r} but the policy is "
                             f"a {self.role!r} policy")


def bound_range(x_min: float, x_max: float, ctx: PolicyContext) -> tuple[float, float]:
    """The topic's ``(x_min, x_max)``: fixed at its first call from the parameters and
    the economic binding ``ctx.bounds`` (spec 5), then read from memory. A binding that
    crosses the other bound collapses the range onto the bound (``x_min = x_max``)."""
    mem = ctx.memory
    if mem.bounds is None:
        lo, hi = x_min, x_max
        if ctx.bounds is not None:
            if ctx.bounds.x_min is not None:
                lo = ctx.bounds.x_min
                hi = max(hi, lo)
            if ctx.bounds.x_max is not None:
                hi = ctx.bounds.x_max
                lo = min(lo, hi)
        mem.bounds = (lo, hi)
    return mem.bounds


def require(cond: bool, policy: str, message: str) -> None:
    """Raise ``ValueError("<policy>: <message>")`` unless ``cond``."""
    if not cond:
        raise ValueError(f"{policy}: {message}")
