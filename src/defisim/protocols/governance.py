"""Governance: proposals that enact at a given time (a simple governance step).

A proposal names a target protocol and a payload. It is validated by the target
when submitted (an invalid proposal is a rejected transaction with a reason) and
enacted at the start of the first block at or after its enactment time, before
any other protocol's begin-block hook, so the new rules apply to that whole block.
Proposals enact in submission order.

The target protocol implements ``validate_proposal(payload) -> str`` ("" when
valid, else the reason) and ``enact_proposal(payload) -> str`` ("" when enacted,
else why it could not be at enactment time, e.g. the market has settled since).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from defisim.chain.events import Event
from defisim.chain.protocol import ChainProtocol

if TYPE_CHECKING:
    from defisim.chain import Chain


@dataclass(frozen=True, slots=True)
class ProposalSubmitted(Event):
    proposal_id: int
    target: str
    payload: str  # JSON
    enact_at_ns: int


@dataclass(frozen=True, slots=True)
class ProposalEnacted(Event):
    proposal_id: int
    target: str


@dataclass(frozen=True, slots=True)
class ProposalFailed(Event):
    """A proposal could not be enacted when its time came (``reason`` says why)."""

    proposal_id: int
    target: str
    reason: str


@dataclass
class Proposal:
    proposal_id: int
    target: str
    payload: dict[str, Any]
    enact_at_ns: int


class Governance(ChainProtocol):
    """Proposals waiting for their enactment time; a protocol on the chain.

    Any registered protocol with ``validate_proposal`` and ``enact_proposal`` takes
    proposals. Register governance first so that proposals enact before any other
    begin-block hook. Transaction: ``propose(target, payload, enact_at_ns)``.
    """

    name = "governance"
    gas = {"propose": 200_000}

    def __init__(self, chain: Chain | None = None) -> None:
        self.pending: list[Proposal] = []
        self._seq = 0
        if chain is not None:
            chain.register(self)

    def targets(self) -> dict[str, Any]:
        """The registered protocols that take proposals, by name."""
        return {n: p for n, p in self.chain.by_name.items()
                if hasattr(p, "validate_proposal") and hasattr(p, "enact_proposal")}

    def tx_propose(self, sender: str, target: str, payload: dict[str, Any], enact_at_ns: int) -> int:
        return self.propose(target, payload, enact_at_ns, sender)

    def propose(self, target: str, payload: dict[str, Any], enact_at_ns: int, party: str = "") -> int:
        """Submit a proposal; returns its id, or 0 when rejected (a rejection event says why)."""
        c = self.chain
        targets = self.targets()
        proto = targets.get(target)
        if proto is None:
            c.reject("proposal", party, str(payload.get("market", "")), "UNKNOWN_TARGET",
                     f"no protocol {target!r} takes proposals; known: {sorted(targets)}")
            return 0
        if enact_at_ns < c.now:
            c.reject("proposal", party, str(payload.get("market", "")), "ENACTMENT_IN_THE_PAST",
                     f"enactment time {enact_at_ns} is before now {c.now}")
            return 0
        err = proto.validate_proposal(payload)
        if err:
            c.reject("proposal", party, str(payload.get("market", "")), "INVALID_PROPOSAL", err)
            return 0
        self._seq += 1
        self.pending.append(Proposal(self._seq, target, payload, enact_at_ns))
        c.emit(ProposalSubmitted(c.block, c.now, self._seq, target,
                                 json.dumps(payload, sort_keys=True, default=str), enact_at_ns))
        return self._seq

    def begin_block(self) -> None:
        now = self.chain.now
        due = [p for p in self.pending if p.enact_at_ns <= now]
        if not due:
            return
        self.pending = [p for p in self.pending if p.enact_at_ns > now]
        c = self.chain
        for p in due:
            why = self.chain.by_name[p.target].enact_proposal(p.payload)
            if why:
                c.emit(ProposalFailed(c.block, c.now, p.proposal_id, p.target, why))
            else:
                c.emit(ProposalEnacted(c.block, c.now, p.proposal_id, p.target))


