"""``lp_competition``: liquidity providers competing on fee bids and judged on performance.

One USDT-settled BTC futures market with liquidity provision (spec
``../shared/specs/futures-market.md`` section 8; Vega 0044-LIME, 0042-LIQF,
0041-TSTK). Liquidity providers (:class:`~defisim.agents.LiquidityProvider`) bond a
commitment and bid a fee factor in the opening auction; market makers, takers and
noise traders trade around a GBM reference price. By default four providers:

- ``lp_good``: meets its obligation all the time (quotes 130 % of it, well inside
  the price range);
- ``lp_thin``: quotes too little (40 % of its obligation);
- ``lp_wide``: quotes enough, but outside the obligation's price range;
- ``lp_cheap``: the cheapest fee bid, with a smaller commitment, and it meets its
  obligation.

At each epoch end (every ``epoch_s``) the engine measures each provider's time on
book against the minimum time fraction: the ones below it get no fees (their
share goes to the performers as a bonus) and lose part of their bond to the
insurance pool (``max(0, min(max_slash, slash_slope (1 - t/s)))``); the
performers share the liquidity fees paid by the takers by equity-like share and
liquidity score. The market's liquidity fee factor is then chosen again by
marginal cost: providers sorted by fee bid, the fee of the first at which the
cumulative commitment reaches the target stake (mark x max open interest over
the window x scaling x max risk factor).

KPIs (besides the common ones): ``liquidity_fee_factor`` (fraction),
``target_stake`` and ``supplied_stake`` (USDT), ``lp_epochs``, ``lp_fees_paid``
(USDT, cumulative), and per provider ``<name>.bond``, ``<name>.fees`` (received,
cumulative), ``<name>.slashed`` (cumulative), ``<name>.time_on_book`` (fraction
of the current epoch so far).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from defisim.agents import LiquidityProvider

from ._mechanics import MechanicsParams, MechanicsScenario
from ._reference import gbm_reference
from ._zoo import ASSET, liquidity_config
from .base import register

if TYPE_CHECKING:
    from defisim.agents import Agent, ReferencePriceFeed
    from defisim.prices import PricePath
    from defisim.service import Simulation

MARKET_ID = "BTCUSDT-LP"


class ProviderSpec(BaseModel):
    """One liquidity provider (see :class:`~defisim.agents.LiquidityProvider`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    commitment: float = Field(gt=0)
    """Bond, USDT."""
    fee: float = Field(ge=0, le=1)
    """Fee factor bid (fraction of trade value)."""
    coverage: float = Field(1.3, ge=0)
    """Quoted notional per side / obligation."""
    range_position: float = Field(0.5, gt=0)
    """Outermost quote's distance / the obligation's price range (> 1: outside)."""
    inner_bps: float = Field(10.0, ge=0)
    """Innermost quote's distance from the reference, basis points."""
    time_on_book: float = Field(1.0, ge=0, le=1)
    """Probability of quoting in a step."""
    collateral: float = Field(200_000.0, ge=0)
    """USDT minted to the provider (bond included)."""


def _default_providers() -> list[ProviderSpec]:
    return [
        ProviderSpec(name="lp_good", commitment=20_000, fee=0.0015),
        ProviderSpec(name="lp_thin", commitment=20_000, fee=0.001, coverage=0.4),
        ProviderSpec(
            name="lp_wide", commitment=20_000, fee=0.002, inner_bps=750, range_position=2.0
        ),
        ProviderSpec(name="lp_cheap", commitment=8_000, fee=0.0005),
    ]


class LpCompetitionParams(MechanicsParams):
    """Parameters of ``lp_competition`` (USDT, BTC, seconds; see :class:`MechanicsParams`)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (default 1,440: 24 hours of 60-second steps: five epoch ends, then
    the final distribution at settlement)."""
    step_seconds: float = Field(60.0, gt=0)
    mu: float = 0.0
    """Annualised drift of the GBM reference path."""

    providers: list[ProviderSpec] = Field(default_factory=_default_providers)
    """The liquidity providers (JSON list on the command line)."""

    # liquidity provision (LiquidityParams)
    epoch_s: float = Field(4 * 3600.0, gt=0)
    stake_to_volume: float = Field(1.0, ge=0)
    """Obligation notional per side per unit of commitment."""
    price_range: float = Field(0.05, gt=0)
    """Obligation range around the mid (fraction)."""
    minimum_time_fraction: float = Field(0.9, ge=0, le=1)
    competition_factor: float = Field(0.5, ge=0, le=1)
    slash_slope: float = Field(0.5, ge=0)
    max_slash: float = Field(0.1, ge=0, le=1)
    """Largest fraction of the bond slashed per epoch."""
    target_stake_window_s: float = Field(3600.0, gt=0)
    target_stake_scaling: float = Field(5.0, ge=0)
    early_exit_penalty: float = Field(0.1, ge=0)


@register
class LpCompetition(MechanicsScenario):
    """Liquidity providers with different fee bids and performance (module doc)."""

    name = "lp_competition"
    description = (
        "BTC futures with four liquidity providers (performing, quoting too little, too "
        "wide, cheapest fee) over several epochs: fee factor, target stake, fees, slashes."
    )
    Params = LpCompetitionParams
    market_id = MARKET_ID
    default_steps = 1440
    auction_agent_every_auction = False
    track_lp = True

    def __init__(self, params: LpCompetitionParams | None = None) -> None:
        self.providers: list[LiquidityProvider] = []
        super().__init__(params)
        names = [s.name for s in self.params.providers]  # type: ignore[attr-defined]
        if len(set(names)) != len(names):
            raise ValueError(f"provider names must be unique, got {names}")

    def make_path(self, sim: Simulation, n: int) -> PricePath:
        return gbm_reference(sim, self.params, max(n, 2), self.step_seconds)

    def market_config(self) -> dict:
        p: LpCompetitionParams = self.params  # type: ignore[assignment]
        cfg = super().market_config()
        cfg["liquidity"] = liquidity_config(
            p,
            minimum_time_fraction=p.minimum_time_fraction,
            competition_factor=p.competition_factor,
            slash_slope=p.slash_slope,
            max_slash=p.max_slash,
            target_stake_window_s=p.target_stake_window_s,
            target_stake_scaling=p.target_stake_scaling,
            early_exit_penalty=p.early_exit_penalty,
        )
        return cfg

    def extra_agents(self, sim: Simulation, feed: ReferencePriceFeed) -> list[Agent]:
        p: LpCompetitionParams = self.params  # type: ignore[assignment]
        self.providers = [
            LiquidityProvider(
                s.name,
                self.market_id,
                feed,
                asset=ASSET,
                collateral=s.collateral,
                commitment=s.commitment,
                fee=s.fee,
                coverage=s.coverage,
                range_position=s.range_position,
                inner_bps=s.inner_bps,
                time_on_book=s.time_on_book,
            )
            for s in p.providers
        ]
        return list(self.providers)

    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        m = self.market_id
        tally = self.tally
        out = {
            "liquidity_fee_factor": sim.futures.liquidity_fee_factor(m),
            "target_stake": sim.futures.target_stake(m),
            "supplied_stake": sim.futures.supplied_stake(m),
            "lp_epochs": float(tally.lp_epochs),
            "lp_fees_paid": sim.money(ASSET, tally.lp_fees_paid),
        }
        for lp in self.providers:
            n = lp.name
            out[f"{n}.bond"] = sim.balance(n, ASSET, "bond", m)
            out[f"{n}.fees"] = sim.money(ASSET, tally.lp_fees.get(n, 0))
            out[f"{n}.slashed"] = sim.money(ASSET, tally.lp_slashes.get(n, 0))
            out[f"{n}.time_on_book"] = sim.futures.time_on_book(m, n)
        return out
