"""A deal's on-chain state and accounts (``compute-marketplace.md`` 4.2, 4.3).

A deal is keyed by its escrow attestation's uid. Its money sits in two ledger
accounts scoped by that uid: the client's escrow (P + D, less mediation fees paid
out of D) and the provider's collateral (T while running, then C once the result is
posted). :meth:`Deal.expected_escrow` / :meth:`Deal.expected_collateral` are what the
block-end invariant compares the ledger with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from defisim.chain.ledger import AccountKey

from .types import Terms

ESCROW = "compute_escrow"
COLLATERAL = "compute_collateral"

OPEN, COMMITTED, DELIVERED, CLOSED = "open", "committed", "delivered", "closed"
"""Deal states: escrowed; commenced (T locked); result posted (C locked); closed."""

CLOSE_REASONS = ("collected", "refunded", "cancelled", "slashed")
"""Why an escrow closed (spec 2.3 row 11)."""

TOPIC_REASON = {"collected": "completed", "refunded": "timeout", "cancelled": "cancelled",
                "slashed": "slashed"}
"""The scheme's ``terminate`` reason for each close (spec 2.3 row 11; 9(c) c1: a
refund after a timeout closes the topic with ``timeout``)."""


def escrow_key(client: str, token: str, escrow_uid: str) -> AccountKey:
    """The client's escrow account of a deal."""
    return (ESCROW, client, token, escrow_uid)


def collateral_key(provider: str, token: str, escrow_uid: str) -> AccountKey:
    """The provider's collateral account of a deal."""
    return (COLLATERAL, provider, token, escrow_uid)


@dataclass(slots=True)
class Deal:
    """One escrowed job (base units; times in integer seconds).

    Attributes:
        escrow_uid, client, provider ("" until an open escrow is committed), job_cid, terms.
        escrow_time: when the escrow was made; state: :data:`OPEN` ... :data:`CLOSED`.
        collateral_uid, job_deadline: set by ``commence``.
        result_uid, result_cid, validation_uid, challenge_deadline: set by ``post_result``.
        fees_paid: mediation fees already paid out of D (correct verdicts).
        close_reason: one of :data:`CLOSE_REASONS` once closed.
    """

    escrow_uid: str
    client: str
    provider: str
    job_cid: str
    terms: Terms
    escrow_time: int
    state: str = OPEN
    collateral_uid: str = ""
    job_deadline: int = 0
    result_uid: str = ""
    result_cid: str = ""
    validation_uid: str = ""
    challenge_deadline: int = 0
    fees_paid: int = 0
    reported: int = 0  # N_reported by the result (per-instruction pricing)
    close_reason: str = ""
    mediations: list[str] = field(default_factory=list)

    @property
    def token(self) -> str:
        return self.terms.token

    @property
    def amount(self) -> int:
        """P + D (per instruction: π*N + D), what the escrow took."""
        return self.terms.max_payment + self.terms.client_deposit

    @property
    def method(self) -> str:
        return self.terms.verification

    @property
    def panel_fee(self) -> int:
        """k*f, what one check costs."""
        return self.terms.panel * self.terms.mediation_fee

    def expected_escrow(self) -> int:
        """What the escrow account must hold: P + D - fees paid, 0 once closed."""
        return 0 if self.state == CLOSED else self.amount - self.fees_paid

    def expected_collateral(self) -> int:
        """What the collateral account must hold: T while committed, C once delivered."""
        if self.state == COMMITTED:
            return self.terms.timeout_deposit
        if self.state == DELIVERED:
            return self.terms.cheating_collateral
        return 0
