"""The compute marketplace's shared vocabulary (``../shared/specs/compute-marketplace.md``
sections 2.3 and 3): jobs, machines, deal terms, and the content ids derived from them.

Everything here is plain data with exact, deterministic hashing: the on-chain side
(attestations, escrow), the schemes (messages quote ``terms_hash``) and the agents
(policies) all use these types and nothing else of each other.

Units: token amounts are integers in base units of the payment token (USDC, 6
decimals); durations and times in seconds of simulated time; RAM in GiB; power in W.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "JOB_CLASSES",
    "PRICINGS",
    "VERIFICATIONS",
    "Job",
    "JobClass",
    "Machine",
    "Terms",
    "canonical_json",
    "fake_result_cid",
    "result_cid",
    "run_time_s",
    "sha256_hex",
]

Verification = Literal["none", "optimistic", "random"]
VERIFICATIONS: tuple[str, ...] = ("none", "optimistic", "random")
PRICINGS: tuple[str, ...] = ("fixed", "per_instruction")
"""How ``Terms.price`` reads (spec 4.3): the total P, or a price per instruction π
(legacy ``pricing="per_instruction"``: the escrow holds π*N, the provider is paid
π*N_reported)."""
"""Validation methods (spec 4.4); ``random`` carries its probability in
:attr:`Terms.check_probability`."""


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: the canonical encoding hashed into ids."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_hex(text: str) -> str:
    """``sha256(text)`` as 64 lower-case hex digits."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class JobClass:
    """A row of the demand table (spec 3): resources, run time on a speed-1 machine
    (s) and instruction count N."""

    name: str
    cpu: int
    gpu: int
    ram_gib: int
    duration_s: int
    instruction_count: int


JOB_CLASSES: dict[str, JobClass] = {
    c.name: c for c in (
        JobClass("cpu-small", 2, 0, 4, 600, 2),
        JobClass("cpu-large", 16, 0, 64, 3600, 40),
        JobClass("gpu-infer", 4, 1, 16, 900, 10),
        JobClass("gpu-train", 8, 4, 128, 14400, 400),
    )
}
"""The spec's job classes (section 3, "Demand")."""


@dataclass(frozen=True, slots=True)
class Job:
    """A compute job (spec 3). Public fields are everything but ``value``, the
    client's private value of the result (USD, never sent in a message).

    Attributes:
        job_id, client, job_class: identity.
        cpu, gpu, ram_gib: resources needed (cores, GPUs, GiB).
        duration_s: run time on a speed-1 machine, seconds.
        instruction_count: N, work units (collateral ``m*N``).
        deadline: absolute simulated time the result is due, seconds.
        value: V, private.
    """

    job_id: str
    client: str
    job_class: str
    cpu: int
    gpu: int
    ram_gib: float
    duration_s: int
    instruction_count: int
    deadline: float
    value: float = 0.0

    def public(self) -> dict[str, Any]:
        """The fields a request publishes (all but ``value``)."""
        d = asdict(self)
        d.pop("value")
        return d

    @property
    def cid(self) -> str:
        """``job_cid``: sha256 of the canonical JSON of the public fields (spec 3)."""
        return sha256_hex(canonical_json(self.public()))


def result_cid(job_cid: str) -> str:
    """The correct result's CID: ``sha256("result:" + job_cid)`` (spec 3)."""
    return sha256_hex("result:" + job_cid)


def fake_result_cid(job_cid: str, provider: str) -> str:
    """A faked result's CID: ``sha256("fake:" + job_cid + provider)`` (spec 3)."""
    return sha256_hex("fake:" + job_cid + provider)


@dataclass(frozen=True, slots=True)
class Machine:
    """A provider's machine (spec 3): capacity, speed, power draw (W per core / GPU)
    and region (an electricity region of section 6)."""

    machine_id: str
    cpu: int
    gpu: int
    ram_gib: float
    region: str
    speed: float = 1.0
    w_cpu: float = 10.0
    w_gpu: float = 300.0

    def fits(self, job: Job, match: Literal["fit", "exact"] = "fit") -> bool:
        """Eligibility (spec 3): each resource >= the job's (``fit``), or CPU and RAM
        equal with GPU ignored (``exact``, the legacy solver)."""
        if match == "exact":
            return self.cpu == job.cpu and self.ram_gib == job.ram_gib
        return self.cpu >= job.cpu and self.gpu >= job.gpu and self.ram_gib >= job.ram_gib

    def power_w(self, job: Job) -> float:
        """Power while running ``job``: ``cpu*w_cpu + gpu*w_gpu`` (spec 3), W."""
        return job.cpu * self.w_cpu + job.gpu * self.w_gpu


def run_time_s(job: Job, machine: Machine) -> int:
    """``ceil(duration_s / speed)`` (spec 3), seconds."""
    return math.ceil(job.duration_s / machine.speed)


@dataclass(frozen=True, slots=True)
class Terms:
    """The terms a price message carries (spec 2.3, "Terms"). Amounts in base units.

    Attributes:
        price: P, the total payment.
        token: the payment asset id.
        client_deposit: D. timeout_s: delivery window after commencement.
        timeout_deposit: T. cheating_multiplier: m (base units per instruction).
        instruction_count: N. verification: ``none`` / ``optimistic`` / ``random``;
        check_probability: p of ``random``. panel: k mediators per check;
        threshold: wrong verdicts that make a result wrong. mediators: the deal's
        mediator set (sorted). mediation_period_s, mediation_fee (f per mediator).
        pricing: ``fixed`` (``price`` is P) or ``per_instruction`` (``price`` is π per
            instruction, spec 4.3 "Per-instruction pricing"); left out of the canonical
            JSON when ``fixed``, so the terms hashes of fixed-price terms do not change.
    """

    price: int
    token: str = "USDC"
    client_deposit: int = 0
    timeout_s: int = 600
    timeout_deposit: int = 0
    cheating_multiplier: int = 0
    instruction_count: int = 0
    verification: Verification = "none"
    check_probability: float = 0.0
    panel: int = 1
    threshold: int = 1
    mediators: tuple[str, ...] = field(default_factory=tuple)
    mediation_period_s: int = 600
    mediation_fee: int = 0
    pricing: str = "fixed"

    def __post_init__(self) -> None:
        if self.pricing not in PRICINGS:
            raise ValueError(f"pricing must be one of {PRICINGS}, got {self.pricing!r}")
        if self.verification not in VERIFICATIONS:
            raise ValueError(f"verification must be one of {VERIFICATIONS}, "
                             f"got {self.verification!r}")
        if not 0.0 <= self.check_probability <= 1.0:
            raise ValueError(f"check_probability must be in [0, 1], got {self.check_probability}")

    def with_price(self, price: int) -> Terms:
        """The same terms at another price (a scalar counter-offer)."""
        return _replace(self, price=price)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mediators"] = sorted(self.mediators)
        if self.pricing == "fixed":  # the hash of fixed-price terms predates the field
            del d["pricing"]
        return d

    @property
    def hash(self) -> str:
        """``terms_hash``: sha256 of the canonical JSON of every field."""
        return sha256_hex(canonical_json(self.to_dict()))

    @property
    def max_payment(self) -> int:
        """What the escrow holds for the payment: P, or π*N (per instruction)."""
        return self.payment(self.instruction_count)

    def payment(self, instructions: int) -> int:
        """The payment for ``instructions`` reported: P (fixed), π*instructions (per
        instruction; spec 4.3)."""
        return self.price * instructions if self.pricing == "per_instruction" else self.price

    @property
    def cheating_collateral(self) -> int:
        """C = m*N, base units."""
        return self.cheating_multiplier * self.instruction_count


def _replace(terms: Terms, **changes: Any) -> Terms:
    d = {f: getattr(terms, f) for f in terms.__dataclass_fields__}
    d.update(changes)
    return Terms(**d)
