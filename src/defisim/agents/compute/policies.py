"""The registry of the negotiation policies of spec section 5.

``POLICIES`` maps each policy name to its class; :func:`make_policy` builds one for a
role with its parameters (missing ones take the role's Apiary config, spec 5).
"""

from __future__ import annotations

from typing import Any

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
from .policy import Policy

__all__ = ["POLICIES", "make_policy"]

POLICIES: dict[str, type[Policy]] = {
    cls.name: cls for cls in (
        NaiveAccepterPolicy, NaiveRejecterPolicy, IdentityPolicy, RandomPolicy,
        KalmanPolicy, TimePolyPolicy, TimeExpPolicy, TitForTatPolicy, ThresholdPolicy,
    )
}
"""Policy name (spec 5's table) -> class."""


def make_policy(name: str, role: str, **params: Any) -> Policy:
    """The policy ``name`` for ``role`` (``client``/``provider``) with ``params``;
    parameters not given take the role's defaults (spec 5's configs).

    Raises:
        ValueError: an unknown policy name (the message lists the known ones), an
            unknown role, an unknown parameter (the message lists the policy's), or a
            parameter out of range.
    """
    cls = POLICIES.get(name)
    if cls is None:
        raise ValueError(f"unknown policy {name!r}; known policies: {sorted(POLICIES)}")
    known = sorted(f for f in cls.__dataclass_fields__ if f != "role")
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"{name}: unknown parameter(s) {unknown}; known: {known}")
    try:
        return cls(role=role, **params)
    except TypeError as exc:  # a parameter of the wrong type compared with a number
        raise ValueError(f"{name}: bad parameter value(s) {params}: {exc}") from exc
