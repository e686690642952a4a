"""Parameters of ``compute_marketplace`` (:class:`ComputeMarketplaceParams`; the
scenario's module docstring says what they do)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from defisim.agents.compute.client import CHALLENGE_MODES
from defisim.agents.compute.policies import POLICIES
from defisim.protocols.compute import types as ctypes

from .base import ScenarioParams

__all__ = ["GAS_ACTIONS", "MIXED", "ComputeMarketplaceParams", "policy_of"]

MIXED = ("time_exp", "time_poly", "tit_for_tat", "kalman")
"""The policies ``mixed`` cycles through (agent i takes ``MIXED[i % 4]``)."""

GAS_ACTIONS = ("escrow", "cancel_escrow", "commence", "post_result", "collect", "challenge",
               "mediate", "claim_timeout")


class ComputeMarketplaceParams(ScenarioParams):
    """Parameters of ``compute_marketplace`` (module docstring)."""

    execution: Literal["mempool", "immediate"] = "mempool"
    """``mempool``: each action is a transaction in the next block, paying gas in ETH
    through the chain's EIP-1559 fee market (spec 4.6); ``immediate``: calls execute when
    sent and gas is booked off the ledger at the global state's L2 fee process."""
    ordering: Literal["fifo", "random", "priority"] = "priority"
    step_seconds: float = 2.0
    """Seconds per step = per block (one block per step). Default: 2 in ``mempool``
    (spec 4.6's block time), 1 in ``immediate``."""
    client_eth: float = Field(0.01, ge=0)
    """ETH each client holds for gas (``mempool``)."""
    provider_eth: float = Field(0.01, ge=0)
    mediator_eth: float = Field(0.01, ge=0)
    fee_preset: Literal["eip1559", "op-stack"] = "eip1559"
    """The L2 fee rule (spec 6): EIP-1559 (elasticity 2, denominator 8) or the OP stack
    after Canyon (elasticity 6, denominator 250); gas limit 30M."""
    l2_base_fee_wei: int = Field(10_000_000, gt=0)
    """The L2's first base fee b0 and the background demand's b_ref (spec 6)."""
    value_base_fee_wei: int | None = Field(None, ge=0)
    """The L2 base fee (wei) at which the reference costs c_ref count gas, and so the
    clients' values V = c_ref(1 + u), fees and T (spec 3); ``None``: the run's first
    base fee. Set it apart from ``l2_base_fee_wei`` for a fee regime the clients did
    not price in (the costs experiment of spec 8)."""
    min_base_fee_wei: int = Field(0, ge=0)
    wallet_tip_wei: int = Field(1_000_000, ge=0)
    """The default wallet's tip; its fee cap is 2 x base fee + tip (spec 4.6)."""
    background_demand: bool = True
    """Spec 6's background gas in every block before the marketplace's (``mempool``)."""
    sigma_d: float = Field(0.3, ge=0)
    demand_elasticity: float = Field(1.0, ge=0)
    l1_data_fee: bool = False
    """Charge the OP-stack L1 data fee on every compute transaction (spec 4.6;
    ``mempool`` only), at the L1 base fee the system party posts on chain."""
    hours: float = Field(3.0, gt=0)
    """Run length when ``steps`` is not given."""
    n_clients: int = Field(30, ge=1)
    n_providers: int = Field(20, ge=1)
    n_mediators: int = Field(3, ge=1)
    scheme: Literal["compute", "coophive"] = "compute"
    """The message scheme: ``compute`` (spec 2.3) or ``coophive`` (2.2, the agents
    mapped by 2.3's mapping table, :mod:`defisim.agents.compute.coophive`)."""
    client_policy: str = "mixed"
    """``mixed`` or a policy of spec 5 for every client."""
    provider_policy: str = "mixed"
    rate_per_h: float = Field(2.0, ge=0)
    """Job arrivals per client per hour."""
    class_mix: dict[str, float] = Field(default_factory=lambda: {
        "cpu-small": 0.5, "gpu-infer": 0.3, "cpu-large": 0.15, "gpu-train": 0.05})
    gpu_share: float = Field(0.5, ge=0, le=1)
    """Share of providers whose machine has GPUs."""
    gpus_per_machine: int = Field(4, ge=0)
    cpus_per_machine: int = Field(32, ge=1)
    ram_gib_per_machine: float = Field(256.0, gt=0)
    cheater_share: float = Field(0.2, ge=0, le=1)
    cheat_q: float = Field(0.5, ge=0, le=1)
    cheat_policy: Literal["bernoulli", "rational"] = "bernoulli"
    """How would-be cheaters decide (module docstring, spec 4.4)."""
    cheating_multiplier: float | None = Field(None, ge=0)
    """m, USDC per instruction (C = m*N); ``None``: C about ``collateral_factor * V``."""
    collateral_factor: float = Field(2.0, ge=0)
    fake_delay_s: float = Field(30.0, ge=0)
    verification: str = "random"
    check_probability: float = Field(0.3, ge=0, le=1)
    challenge: str = "never"
    p_c: float = Field(0.0, ge=0, le=1)
    client_capital: float = Field(1000.0, ge=0)
    provider_capital: float = Field(1000.0, ge=0)
    mediator_capital: float = Field(100.0, ge=0)
    rerun_s: float = Field(60.0, ge=0)
    metric_interval_s: float = Field(600.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _step_of_mode(cls, data: Any) -> Any:
        # one block per step: 2 s blocks in mempool mode, 1 s steps in immediate
        if isinstance(data, dict) and "step_seconds" not in data \
                and data.get("execution", "mempool") == "immediate":
            data = {**data, "step_seconds": 1.0}
        return data

    @model_validator(mode="after")
    def _l1_needs_mempool(self) -> ComputeMarketplaceParams:
        if self.l1_data_fee and self.execution != "mempool":
            raise ValueError("l1_data_fee needs execution='mempool' (gas paid on chain)")
        return self

    @field_validator("client_policy", "provider_policy")
    @classmethod
    def _known_policy(cls, v: str) -> str:
        if v != "mixed" and v not in POLICIES:
            raise ValueError(f"unknown policy {v!r}; known: mixed, {', '.join(sorted(POLICIES))}")
        return v

    @field_validator("class_mix")
    @classmethod
    def _known_classes(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(set(v) - set(ctypes.JOB_CLASSES))
        if bad:
            raise ValueError(f"unknown job class(es) {bad}; known: {sorted(ctypes.JOB_CLASSES)}")
        if not v or any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError("class_mix needs weights >= 0 with a positive sum")
        return v

    @field_validator("verification")
    @classmethod
    def _known_verification(cls, v: str) -> str:
        if v not in ctypes.VERIFICATIONS:
            raise ValueError(f"unknown verification {v!r}; known: {', '.join(ctypes.VERIFICATIONS)}")
        return v

    @field_validator("challenge")
    @classmethod
    def _known_challenge(cls, v: str) -> str:
        if v not in CHALLENGE_MODES:
            raise ValueError(f"unknown challenge mode {v!r}; known: {', '.join(CHALLENGE_MODES)}")
        return v


def policy_of(name: str, i: int) -> str:
    """The policy of agent ``i`` for a role's setting ``name`` (``mixed``: :data:`MIXED`)."""
    return MIXED[i % len(MIXED)] if name == "mixed" else name
