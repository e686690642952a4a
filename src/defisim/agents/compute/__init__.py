"""Compute-marketplace agents, their negotiation policies (spec section 5) and the
global state they observe (spec section 6).

- :mod:`.policy`: the interface: :class:`Policy` (``open``/``respond``), the decisions
  (:class:`Counter`, :class:`Accept`, :class:`Noop`, :class:`Terminate`), the per-topic
  :class:`PolicyMemory`, :class:`PolicyContext`, :func:`round_price`.
- :mod:`.policies`: :data:`POLICIES` and :func:`make_policy`; the policies live in
  :mod:`.policies_simple`, :mod:`.policies_kalman`, :mod:`.policies_time`,
  :mod:`.policies_tft`.
- :mod:`.binding`: economic binding of the bounds (spec 5).
- :mod:`.negotiate`: a deterministic two-party driver (vector 9(a)).
- :mod:`.global_state`: Z_t, the token prices, base fees, electricity by region and
  market history (:mod:`.token_prices`, :mod:`.base_fee`, :mod:`.electricity`,
  :mod:`.market_history`, :mod:`.stochastic`, :mod:`.replay`).
"""

from .binding import client_bounds, provider_bounds, provider_cost_floor
from .negotiate import NegotiationOutcome, PriceMessage, RejectedMessage, negotiate
from .policies import POLICIES, make_policy
from .policies_kalman import KalmanPolicy
from .policies_simple import (
    IdentityPolicy,
    NaiveAccepterPolicy,
    NaiveRejecterPolicy,
    RandomPolicy,
    ThresholdPolicy,
)
from .policies_tft import TitForTatPolicy
from .policies_time import TimeExpPolicy, TimePolyPolicy
from .policy import (
    Accept,
    Bounds,
    Counter,
    Decision,
    Noop,
    Policy,
    PolicyContext,
    PolicyMemory,
    Terminate,
    reject,
    round_price,
    to_token_units,
)

__all__ = [
    "POLICIES",
    "Accept",
    "Bounds",
    "Counter",
    "Decision",
    "IdentityPolicy",
    "KalmanPolicy",
    "NaiveAccepterPolicy",
    "NaiveRejecterPolicy",
    "NegotiationOutcome",
    "Noop",
    "Policy",
    "PolicyContext",
    "PolicyMemory",
    "PriceMessage",
    "RandomPolicy",
    "RejectedMessage",
    "Terminate",
    "ThresholdPolicy",
    "TimeExpPolicy",
    "TimePolyPolicy",
    "TitForTatPolicy",
    "client_bounds",
    "make_policy",
    "negotiate",
    "provider_bounds",
    "provider_cost_floor",
    "reject",
    "round_price",
    "to_token_units",
]
