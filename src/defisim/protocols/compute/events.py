"""Events of the ``compute`` protocol (``compute-marketplace.md`` 4.3, 4.4). Amounts in
base units of the deal's token, times in ns (the event's stamp). ``market`` is the
escrow uid (the deal), ``party`` the acting party: the fields the run's ``events``
table reads. Rejections are the chain's ``TransactionRejected`` events."""

from __future__ import annotations

from dataclasses import dataclass

from defisim.chain.events import Event


@dataclass(frozen=True, slots=True)
class Escrowed(Event):
    """Client ``party`` escrowed ``amount`` = P + D for a job (deal ``market``)."""

    market: str
    party: str
    provider: str
    job_cid: str
    amount: int


@dataclass(frozen=True, slots=True)
class Commenced(Event):
    """Provider ``party`` locked T = ``amount``; the job is due by ``job_deadline_s``."""

    market: str
    party: str
    collateral_uid: str
    amount: int
    job_deadline_s: int


@dataclass(frozen=True, slots=True)
class ResultPosted(Event):
    """Provider ``party`` posted ``result_cid`` and locked C = ``amount``; ``validation_uid``
    ("" for method ``none``) closes for challenges at ``challenge_deadline_s``."""

    market: str
    party: str
    result_uid: str
    result_cid: str
    validation_uid: str
    amount: int
    challenge_deadline_s: int


@dataclass(frozen=True, slots=True)
class MediationRequested(Event):
    """A check of the deal's result: ``kind`` ``audit`` (random(p), with the draw ``u``)
    or ``challenge`` (by ``party``); ``panel`` the mediators drawn."""

    market: str
    party: str
    kind: str
    validation_uid: str
    panel: tuple
    u: float


@dataclass(frozen=True, slots=True)
class VerdictPosted(Event):
    """Mediator ``party`` posted a verdict (``correct``) on the deal's validation."""

    market: str
    party: str
    verdict_uid: str
    correct: bool


@dataclass(frozen=True, slots=True)
class MediationResolved(Event):
    """A mediation ended: ``outcome`` ``correct``, ``wrong`` or ``void`` (no verdicts);
    ``fees``: paid to mediators; ``dropped``: mediators that posted nothing in time."""

    market: str
    party: str
    outcome: str
    fees: int
    dropped: tuple


@dataclass(frozen=True, slots=True)
class DealClosed(Event):
    """The escrow closed: ``reason`` ``collected``, ``refunded`` (timeout claim),
    ``cancelled`` or ``slashed``; ``topic_reason`` the scheme's CLOSED reason (spec 2.3
    row 11: ``completed``, ``timeout``, ``cancelled``, ``slashed``); the
    amounts paid to client, provider, mediators, treasury and jackpot by this close."""

    market: str
    party: str
    reason: str
    topic_reason: str
    to_client: int
    to_provider: int
    to_mediators: int
    to_treasury: int
    to_jackpot: int
