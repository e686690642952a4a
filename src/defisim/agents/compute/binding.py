"""Economic binding of policy bounds (spec 5, "Economic binding (optional)").

Any bounded policy (``time_poly``, ``time_exp``, ``tit_for_tat``) may have its bounds
tied to state when the request arrives: a client's ``x_max = V``; a provider's
``x_min`` = energy at ``E_region(now)`` + amortisation + gas of its actions at the
current base fee and ETH price. The lead computes a :class:`~.policy.Bounds` with these
helpers and passes it in ``PolicyContext.bounds``; the policy fixes it in the topic's
memory at its first call (:func:`~.policy.bound_range`). This is how global state
(section 6) reaches the Apiary policies.
"""

from __future__ import annotations

import math

from defisim.protocols.compute.types import Job, Machine

from .policy import Bounds

__all__ = ["client_bounds", "provider_bounds", "provider_cost_floor"]


def client_bounds(job: Job, token_usd: float = 1.0) -> Bounds:
    """``x_max = V`` (the job's private value, USD) in token units at ``token_usd``.

    Raises:
        ValueError: ``token_usd <= 0``.
    """
    if token_usd <= 0:
        raise ValueError(f"token_usd must be > 0, got {token_usd!r}")
    return Bounds(x_max=job.value / token_usd)


def provider_cost_floor(
    job: Job,
    machine: Machine,
    *,
    electricity_usd_per_kwh: float,
    gas_units: int,
    base_fee_wei: int,
    eth_usd: float,
    token_usd: float = 1.0,
    usd_per_core_hour: float = 0.02,
    usd_per_gpu_hour: float = 1.00,
) -> float:
    """A provider's cost of running ``job`` on ``machine``, token units (spec 5, 3):

    energy ``power_w(job)/1000 * run_h * E`` + amortisation
    ``(cpu*usd_per_core_hour + gpu*usd_per_gpu_hour) * run_h`` + gas
    ``gas_units * base_fee_wei * 1e-18 * eth_usd``, all USD, divided by ``token_usd``;
    ``run_h = ceil(duration_s / speed) / 3600`` (spec 3's run time). Amortisation defaults are spec 3's.

    Raises:
        ValueError: a negative rate, gas or fee, or ``token_usd <= 0``.
    """
    for key, v in (("electricity_usd_per_kwh", electricity_usd_per_kwh),
                   ("gas_units", gas_units), ("base_fee_wei", base_fee_wei),
                   ("eth_usd", eth_usd), ("usd_per_core_hour", usd_per_core_hour),
                   ("usd_per_gpu_hour", usd_per_gpu_hour)):
        if v < 0:
            raise ValueError(f"{key} must be >= 0, got {v!r}")
    if token_usd <= 0:
        raise ValueError(f"token_usd must be > 0, got {token_usd!r}")
    # spec 3's run_time_s (the layer rule lets agents import only types from protocols)
    run_h = math.ceil(job.duration_s / machine.speed) / 3600
    energy = machine.power_w(job) / 1000 * run_h * electricity_usd_per_kwh
    amortisation = (job.cpu * usd_per_core_hour + job.gpu * usd_per_gpu_hour) * run_h
    gas = gas_units * base_fee_wei * 1e-18 * eth_usd
    return (energy + amortisation + gas) / token_usd


def provider_bounds(cost_floor: float) -> Bounds:
    """``x_min`` = the provider's cost floor (token units, from
    :func:`provider_cost_floor`)."""
    return Bounds(x_min=cost_floor)
