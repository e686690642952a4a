"""Validation checks and mediator panels (``compute-marketplace.md`` 4.3.5, 4.3.6, 4.4).

A check (an ``audit`` drawn under ``random(p)`` or a client's ``challenge``) draws a
panel of k mediators uniformly without replacement from the deal's mediator set,
from the mediation stream. Each panel mediator may post one verdict within
``mediation_timeout_s`` of the request. The result is wrong as soon as ``threshold``
verdicts say so; it is correct once every panel mediator has posted (or been dropped
for silence) without that many. A mediation whose mediators all stayed silent is
void: the result stands and nobody is paid.

:class:`MediationDraws` is the stream: ``u`` draws for audits and the panel draws,
from one generator (the chain's ``"compute:mediation"`` stream), with a queue of
forced audit draws a test may set (vector 9(b) forces the first ``u``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

AUDIT, CHALLENGE = "audit", "challenge"
CORRECT, WRONG, VOID, PENDING = "correct", "wrong", "void", "pending"


@dataclass(slots=True)
class Mediation:
    """One check of a deal's result (times in seconds).

    Attributes:
        escrow_uid, validation_uid: the deal and the validation checked.
        kind: :data:`AUDIT` or :data:`CHALLENGE`; challenger: the client ("" for audits).
        panel: the k mediators drawn; threshold: wrong verdicts that make it wrong.
        requested_at, deadline: request time and ``requested_at + mediation_timeout_s``.
        verdicts: mediator -> ``correct``; outcome: :data:`PENDING` until resolved.
    """

    escrow_uid: str
    validation_uid: str
    kind: str
    challenger: str
    panel: tuple[str, ...]
    threshold: int
    requested_at: int
    deadline: int
    verdicts: dict[str, bool] = field(default_factory=dict)
    outcome: str = PENDING

    @property
    def wrong_votes(self) -> int:
        return sum(1 for ok in self.verdicts.values() if not ok)

    def tally(self, now: int) -> str:
        """The outcome the verdicts decide at ``now``: :data:`WRONG` once ``threshold``
        say wrong; once all have posted or the deadline passed, :data:`CORRECT` (or
        :data:`VOID` with no verdict at all); else :data:`PENDING`."""
        if self.wrong_votes >= self.threshold:
            return WRONG
        if len(self.verdicts) == len(self.panel) or now > self.deadline:
            return CORRECT if self.verdicts else VOID
        return PENDING

    def dropped(self) -> tuple[str, ...]:
        """Panel mediators that posted no verdict."""
        return tuple(m for m in self.panel if m not in self.verdicts)


class MediationDraws:
    """The mediation stream (spec 4.4): audit draws ``u`` in [0, 1) and panel draws.

    Args:
        rng: the stream's generator (the chain's ``"compute:mediation"``).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.forced: deque[float] = deque()

    def force(self, *us: float) -> None:
        """Make the next audit draws ``us`` (in order) instead of the stream's; each
        forced value replaces one draw (the stream is not advanced for it).

        Raises:
            ValueError: a value outside [0, 1].
        """
        for u in us:
            if not 0.0 <= u <= 1.0:
                raise ValueError(f"a forced draw must be in [0, 1], got {u!r}")
        self.forced.extend(float(u) for u in us)

    def audit_draw(self) -> float:
        """The next ``u`` (spec 4.3.3: an audit when ``u < p``)."""
        return self.forced.popleft() if self.forced else float(self.rng.random())

    def panel(self, mediators: tuple[str, ...], k: int) -> tuple[str, ...]:
        """``k`` of the sorted ``mediators``, uniformly without replacement, in draw order."""
        pool = sorted(mediators)
        if k > len(pool):
            raise ValueError(f"panel of {k} from {len(pool)} mediators")
        if k == len(pool):  # everyone sits: nothing to draw
            return tuple(pool)
        picks = self.rng.choice(len(pool), size=k, replace=False)
        return tuple(pool[int(i)] for i in picks)
