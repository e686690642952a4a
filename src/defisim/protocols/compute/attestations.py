"""An EAS-like attestation registry (``compute-marketplace.md`` 4.1).

Schemas are registered by name (``"escrow"``, ``"collateral"``, ``"result"``,
``"validation"``, ``"verdict"``, spec 4.2); an attestation's ``schema`` is that name.
A schema's ``resolver`` is the protocol hook that may refuse an attestation or a
revocation: ``resolver(registry, attestation, revoking) -> reason`` (``""`` accepts).

UIDs are ``sha256`` over the canonical JSON of every field of the attestation plus
the registry's nonce (a counter), 64 hex digits: deterministic, not EAS-byte-compatible.
Times are integer seconds of simulated time; ``expiration_time`` 0 means none and
``revocation_time`` 0 means live.

Refusals are values, not exceptions: :meth:`AttestationRegistry.attest` and
:meth:`~AttestationRegistry.revoke` return an :class:`Outcome` whose ``reason`` the
protocol turns into a rejected transaction. Set-up errors (a duplicate schema,
data that does not match the schema's fields) raise ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .types import canonical_json, sha256_hex

Resolver = Callable[["AttestationRegistry", "Attestation", bool], str]
"""``resolver(registry, attestation, revoking) -> reason`` (``""``: accepted). The
registry is passed in (not closed over) so that a deep copy of the registry (a chain
snapshot) keeps resolvers that look at the copy."""

FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "uint": (int,), "bool": (bool,), "bytes32": (str,), "address": (str,),
    "float": (float, int), "tuple": (dict,), "list": (list, tuple),
}
"""Field types a schema may declare, and the Python types their values take."""


@dataclass(frozen=True, slots=True)
class Schema:
    """A registered schema: ``uid`` (sha256 of its definition), ``name``, ``fields``
    (``name -> type`` of :data:`FIELD_TYPES`), ``resolver`` hook, ``revocable``."""

    uid: str
    name: str
    fields: dict[str, str]
    resolver: Resolver | None = None
    revocable: bool = True


@dataclass(frozen=True, slots=True)
class Attestation:
    """One attestation (spec 4.1). ``schema`` is the schema's name; ``data`` its typed
    fields; ``attester`` the statement contract, ``recipient`` the party that made the
    statement (Alkahest's convention)."""

    uid: str
    schema: str
    time: int
    expiration_time: int
    revocation_time: int
    ref_uid: str
    recipient: str
    attester: str
    revocable: bool
    data: dict[str, Any] = field(default_factory=dict)

    def valid(self, now: int) -> bool:
        """Not revoked and not expired at ``now`` (seconds)."""
        return self.revocation_time == 0 and (self.expiration_time == 0 or now < self.expiration_time)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What :meth:`AttestationRegistry.attest` / ``revoke`` did: ``uid`` ("" when
    refused) and the refusal ``reason`` ("" when done)."""

    uid: str = ""
    reason: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


class AttestationRegistry:
    """Schemas and attestations (spec 4.1). Plain Python books, no ledger."""

    def __init__(self) -> None:
        self.schemas: dict[str, Schema] = {}
        self.attestations: dict[str, Attestation] = {}
        self.nonce = 0

    def register_schema(self, name: str, fields: dict[str, str], resolver: Resolver | None = None,
                        revocable: bool = True) -> Schema:
        """Register schema ``name``; returns it.

        Raises:
            ValueError: duplicate name, empty name, or an unknown field type.
        """
        if not name or name in self.schemas:
            raise ValueError(f"schema name {name!r} is empty or already registered")
        for f, t in fields.items():
            if t not in FIELD_TYPES:
                raise ValueError(f"schema {name!r}: field {f!r} has unknown type {t!r}; "
                                 f"known: {sorted(FIELD_TYPES)}")
        uid = sha256_hex(canonical_json({"name": name, "fields": fields, "revocable": revocable}))
        s = Schema(uid, name, dict(fields), resolver, revocable)
        self.schemas[name] = s
        return s

    def attest(self, schema: str, time: int, recipient: str, attester: str,
               data: dict[str, Any], ref_uid: str = "", expiration_time: int = 0,
               revocable: bool | None = None) -> Outcome:
        """Make an attestation; the schema's resolver may refuse it (an :class:`Outcome`
        with a reason). ``revocable`` defaults to the schema's (and may not exceed it).

        Raises:
            ValueError: unknown schema, or ``data`` whose keys or value types differ
                from the schema's fields (a programming error of the caller).
        """
        s = self.schemas.get(schema)
        if s is None:
            raise ValueError(f"unknown schema {schema!r}; known: {sorted(self.schemas)}")
        if set(data) != set(s.fields):
            raise ValueError(f"schema {schema!r} takes fields {sorted(s.fields)}, got {sorted(data)}")
        for f, t in s.fields.items():
            v = data[f]
            if not isinstance(v, FIELD_TYPES[t]) or (t == "uint" and (isinstance(v, bool) or v < 0)):
                raise ValueError(f"schema {schema!r}: field {f!r} must be {t}, got {v!r}")
        rev = s.revocable if revocable is None else (revocable and s.revocable)
        if ref_uid and ref_uid not in self.attestations:
            return Outcome(reason="unknown_attestation", detail=f"ref_uid {ref_uid} does not exist")
        self.nonce += 1
        fields = {"schema": s.uid, "time": time, "expiration_time": expiration_time,
                  "revocation_time": 0, "ref_uid": ref_uid, "recipient": recipient,
                  "attester": attester, "revocable": rev, "data": data, "nonce": self.nonce}
        uid = sha256_hex(canonical_json(fields))
        a = Attestation(uid, schema, time, expiration_time, 0, ref_uid, recipient, attester, rev,
                        dict(data))
        if s.resolver is not None:
            reason = s.resolver(self, a, False)
            if reason:
                return Outcome(reason=reason, detail=f"{schema} attestation refused by its resolver")
        self.attestations[uid] = a
        return Outcome(uid)

    def revoke(self, uid: str, by: str, time: int) -> Outcome:
        """Revoke ``uid`` at ``time``: only its ``attester`` (``by``), only if revocable
        and live; the schema's resolver may refuse. Reasons: ``unknown_attestation``,
        ``not_attester``, ``irrevocable``, ``already_revoked`` or the resolver's."""
        a = self.attestations.get(uid)
        if a is None:
            return Outcome(reason="unknown_attestation", detail=f"no attestation {uid}")
        if by != a.attester:
            return Outcome(reason="not_attester", detail=f"{by} is not the attester {a.attester}")
        if not a.revocable:
            return Outcome(reason="irrevocable", detail=f"{a.schema} attestations are not revocable")
        if a.revocation_time:
            return Outcome(reason="already_revoked", detail=f"revoked at {a.revocation_time}")
        resolver = self.schemas[a.schema].resolver
        if resolver is not None:
            reason = resolver(self, a, True)
            if reason:
                return Outcome(reason=reason, detail="revocation refused by the resolver")
        # revocation_time 0 means live: a revocation at time 0 is stamped 1 ns later in spirit
        self.attestations[uid] = replace(a, revocation_time=max(time, 1))
        return Outcome(uid)

    def get(self, uid: str) -> Attestation | None:
        """The attestation ``uid``, or ``None``."""
        return self.attestations.get(uid)

    def valid(self, uid: str, now: int) -> bool:
        """``uid`` exists, is not revoked, and has not expired at ``now`` (spec 4.1)."""
        a = self.attestations.get(uid)
        return a is not None and a.valid(now)

    def referencing(self, uid: str, schema: str) -> list[Attestation]:
        """Attestations of ``schema`` whose ``ref_uid`` is ``uid``, in creation order."""
        return [a for a in self.attestations.values() if a.ref_uid == uid and a.schema == schema]
