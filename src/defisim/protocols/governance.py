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


class Governance:
    """Proposals waiting for their enactment time; a protocol on the chain."""

    name = "governance"

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.targets: dict[str, Any] = {}
        self.pending: list[Proposal] = []
        self._seq = 0
        chain.register(self)

    def add_target(self, protocol) -> None:
        """Let proposals target ``protocol`` (by its ``name``)."""
        self.targets[protocol.name] = protocol

    def propose(self, target: str, payload: dict[str, Any], enact_at_ns: int, party: str = "") -> int:
        """Submit a proposal; returns its id, or 0 when rejected (a rejection event says why)."""
        c = self.chain
        proto = self.targets.get(target)
        if proto is None:
            c.reject("proposal", party, str(payload.get("market", "")), "UNKNOWN_TARGET",
                     f"no protocol {target!r} takes proposals; known: {sorted(self.targets)}")
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
            why = self.targets[p.target].enact_proposal(p.payload)
            if why:
                c.emit(ProposalFailed(c.block, c.now, p.proposal_id, p.target, why))
            else:
                c.emit(ProposalEnacted(c.block, c.now, p.proposal_id, p.target))

    def end_block(self) -> None:
        pass

    def invariant_errors(self) -> list[str]:
        return []
