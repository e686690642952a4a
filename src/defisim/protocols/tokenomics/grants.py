"""Grant schedules: a treasury that pays ``n`` grants to a receiver, one per interval.

Source: TokenSPICE ``agents/GrantGivingAgent.py`` (spec ``token-netlists.md`` 2.1),
made exact. The payer funds the schedule's escrow with ``total`` base units when it is
created (a treasury contract holding the grant). Each grant pays ``total // n``; the
last one pays what is left (``total - paid``), so the escrow ends at exactly 0
(TokenSPICE pays ``min(balance, total/n)`` in floats with the same intent).

When: a permissionless ``disburse`` transaction pays one grant when it is due:

- the first grant at the first ``disburse`` at or after ``start`` (TokenSPICE: "on its
  first step", tick 0 with ``start`` = the creation time);
- each later one at the first ``disburse`` with ``now - last_paid >= interval``
  (TokenSPICE: ``(t - t_last) * dt >= s_between_grants``; the interval counts from the
  last payment, not from a fixed calendar).

A ``disburse`` that finds nothing due executes and pays 0 (a keeper may call it every
step). There is no automatic payment from a block hook: the order of payments within
a step is the order of the agents that call ``disburse``, as TokenSPICE's agent order.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class GrantSchedule:
    """One grant schedule's books (base units, chain nanoseconds)."""

    grant_id: str
    payer: str
    receiver: str
    asset: str
    total: int
    n_grants: int
    interval_ns: int
    start_ns: int
    paid: int = 0
    grants_made: int = 0
    last_paid_ns: int | None = None

    @property
    def held(self) -> int:
        """What the escrow holds: ``total - paid``."""
        return self.total - self.paid

    @property
    def per_grant(self) -> int:
        """Every grant but the last: ``total // n_grants``."""
        return self.total // self.n_grants

    def next_due_ns(self) -> int | None:
        """When the next grant falls due (``None``: all paid)."""
        if self.grants_made >= self.n_grants:
            return None
        if self.last_paid_ns is None:
            return self.start_ns
        return self.last_paid_ns + self.interval_ns

    def due(self, now_ns: int) -> int:
        """The grant payable at ``now_ns`` (0 when none is due)."""
        nxt = self.next_due_ns()
        if nxt is None or now_ns < nxt:
            return 0
        if self.grants_made == self.n_grants - 1:
            return self.held
        return self.per_grant

    def record_payment(self, amount: int, now_ns: int) -> None:
        self.paid += amount
        self.grants_made += 1
        self.last_paid_ns = now_ns
