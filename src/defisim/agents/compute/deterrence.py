"""Rational deterrence: a would-be cheater's per-deal decision (spec 4.4, "Rational
deterrence (a check for experiments)").

Let c be the cost a cheat saves (energy at the provider's region's current
electricity price plus amortisation of the job's run, spec 3) and p the detection
probability. Cheating pays iff ``c > p*(P + m*N)``: a detected cheat forfeits the
payment P and the cheating collateral C = m*N. Gas is not saved (a cheater posts a
result too) and the timeout deposit T is returned on delivery either way, so neither
enters the rule.

The detection probability a provider assumes (a choice, the spec leaves it open):
with the terms' ``random(p)`` the protocol audits with probability p, and a client
that challenges with probability ``p_c`` (known to the provider, e.g. a public
checking policy) catches the rest independently, so ``p_detect = 1 - (1-p)(1-p_c)``;
under ``optimistic`` only the challenge detects (``p_c``); under ``none`` nothing
does (0). Honest mediators always find a fake (spec 4.4), so a check is a detection.
"""

from __future__ import annotations

from defisim.protocols.compute.types import Job, Machine, Terms

from .binding import provider_cost_floor

__all__ = ["cheat_saving", "cheating_pays", "detection_probability"]


def detection_probability(terms: Terms, challenge_p: float = 0.0) -> float:
    """The probability a fake result of a deal under ``terms`` is caught (module
    docstring): ``1 - (1 - p)(1 - challenge_p)`` for ``random(p)``, ``challenge_p``
    for ``optimistic``, 0 for ``none``.

    Raises:
        ValueError: ``challenge_p`` outside [0, 1].
    """
    if not 0.0 <= challenge_p <= 1.0:
        raise ValueError(f"challenge_p must be in [0, 1], got {challenge_p!r}")
    if terms.verification == "none":
        return 0.0
    if terms.verification == "optimistic":
        return challenge_p
    p = terms.check_probability
    return p + challenge_p - p * challenge_p  # = 1 - (1-p)(1-p_c), exact when p_c = 0


def cheat_saving(job: Job, machine: Machine, *, electricity_usd_per_kwh: float,
                 token_usd: float, usd_per_core_hour: float = 0.02,
                 usd_per_gpu_hour: float = 1.0, decimals: int = 6) -> float:
    """c: the cost a cheat saves, payment-token base units (float): energy
    ``power_w*run_h*E`` plus amortisation ``(cpu*r_core + gpu*r_gpu)*run_h`` in USD
    (spec 3, :func:`~.binding.provider_cost_floor` without gas), divided by
    ``token_usd`` and scaled by ``10**decimals``.

    Raises:
        ValueError: negative rates or electricity price, ``token_usd <= 0``.
    """
    tokens = provider_cost_floor(job, machine, electricity_usd_per_kwh=electricity_usd_per_kwh,
                                 gas_units=0, base_fee_wei=0, eth_usd=0.0, token_usd=token_usd,
                                 usd_per_core_hour=usd_per_core_hour,
                                 usd_per_gpu_hour=usd_per_gpu_hour)
    return tokens * 10**decimals


def cheating_pays(saving: float, terms: Terms, p_detect: float) -> bool:
    """Spec 4.4: ``True`` iff ``saving > p_detect * (P + m*N)`` (all base units; P =
    ``terms.price``, m*N = ``terms.cheating_collateral``). At equality the cheat is
    deterred.

    Raises:
        ValueError: ``p_detect`` outside [0, 1] or a negative ``saving``.
    """
    if not 0.0 <= p_detect <= 1.0:
        raise ValueError(f"p_detect must be in [0, 1], got {p_detect!r}")
    if saving < 0:
        raise ValueError(f"saving must be >= 0, got {saving!r}")
    return saving > p_detect * (terms.price + terms.cheating_collateral)
