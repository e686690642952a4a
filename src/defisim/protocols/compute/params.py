"""Parameters of the compute marketplace's on-chain side (``compute-marketplace.md``
4.3 to 4.7): windows, taxes, jackpot, slashing split, gas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .gas import GAS, REVERT_GAS

NAME = "compute"
"""The protocol's name on the chain, in transactions and as ``sim.compute``."""


class ComputeParams(BaseModel):
    """Experiment parameters of the ``compute`` protocol (defaults: the spec's).

    Attributes:
        commit_window_s: a provider may commence until ``escrow.time + window`` (4.3.2).
        mediation_timeout_s: a panel mediator's verdict is due within this long of the
            mediation request (4.4); later ones are refused and the mediator dropped.
        tax_rate: fraction of each collected price, ``ceil(tax_rate*P)`` (4.3.4, 4.5).
        jackpot_fraction: fraction of each tax (floored) that goes to the jackpot (4.5).
        cheat_report_reward: paid from the jackpot (as far as it holds) to a client whose
            challenge finds a wrong result (4.5), base units.
        slash_to_client: share of ``C - fees`` of a slashed result paid to the client
            (floored; the rest to the treasury; 4.3.6).
        gas: gas units per call (4.7); revert_gas: gas of a refused call (4.6).
        treasury, jackpot: the reserved parties receiving taxes and the jackpot share.
        latency_s, jitter_s, think_s: the message bus's base latency, mean exponential
            jitter and reply delay (spec 2.1), seconds.
        max_offers, request_ttl_s, max_deals, reply_timeout_s, negotiation_timeout_s:
            the ``compute`` scheme's limits and timers (spec 2.3; its defaults).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    commit_window_s: int = Field(120, ge=0)
    mediation_timeout_s: int = Field(600, ge=0)
    tax_rate: float = Field(0.0, ge=0, le=1)
    jackpot_fraction: float = Field(0.0, ge=0, le=1)
    cheat_report_reward: int = Field(0, ge=0)
    slash_to_client: float = Field(1.0, ge=0, le=1)
    gas: dict[str, int] = Field(default_factory=lambda: dict(GAS))
    revert_gas: int = Field(REVERT_GAS, ge=0)
    latency_s: float = Field(1.0, ge=0)
    jitter_s: float = Field(0.0, ge=0)
    think_s: float = Field(0.0, ge=0)
    max_offers: int = Field(100, ge=1)
    request_ttl_s: float = Field(300.0, gt=0)
    max_deals: int = Field(1, ge=1)
    reply_timeout_s: float = Field(30.0, gt=0)
    negotiation_timeout_s: float = Field(300.0, gt=0)
    treasury: str = "compute_treasury"
    jackpot: str = "compute_jackpot"
    l1_data_fee: bool = False
    """Charge the OP-stack L1 data fee on every compute call (4.6, :mod:`.l1_fee`)."""
    l1_oracle: str = "l2_system"
    """The party allowed to post the L1 base fee (``set_l1_base_fee``)."""
    l1_fee_sink: str = "l1_fee_vault"
    """The reserved party receiving the L1 data fees (OP's ``L1FeeVault``)."""
