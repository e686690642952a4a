"""The statements ``compute`` uses (``compute-marketplace.md`` 4.2) as registry schemas.

Each schema's resolver checks what the table's ``ref_uid`` column says: a collateral
and a result reference an escrow, a validation a result, a verdict a validation
(``bad_reference`` otherwise), and ``escrow`` and ``result`` attestations reference
nothing. Revocability is the table's: escrow, collateral and validation yes; result
and verdict no.
"""

from __future__ import annotations

from functools import partial

from .attestations import Attestation, AttestationRegistry

STATEMENTS: dict[str, tuple[dict[str, str], str, bool]] = {
    "escrow": ({"token": "string", "amount": "uint", "price": "uint", "arbiter": "string",
                "demand": "tuple"}, "", True),
    "collateral": ({"token": "string", "timeout_deposit": "uint", "machine_id": "string",
                    "job_deadline": "uint"}, "escrow", True),
    "result": ({"result_cid": "string", "instruction_count": "uint", "cheating_collateral": "uint"},
               "escrow", False),
    "validation": ({"query": "string", "method": "string", "challenge_deadline": "uint"}, "result", True),
    "verdict": ({"correct": "bool"}, "validation", False),
}
"""schema name -> (fields, the schema its ref_uid must have ("" none), revocable)."""


def register_statement_schemas(registry: AttestationRegistry) -> None:
    """Register the five statement schemas of spec 4.2 on ``registry``."""
    for name, (fields, ref_schema, revocable) in STATEMENTS.items():
        registry.register_schema(name, fields, partial(_resolve, ref_schema), revocable)


def _resolve(ref_schema: str, registry: AttestationRegistry, a: Attestation, revoking: bool) -> str:
    if revoking:
        return ""
    if not ref_schema:
        return "bad_reference" if a.ref_uid else ""
    ref = registry.get(a.ref_uid)
    return "" if ref is not None and ref.schema == ref_schema else "bad_reference"
