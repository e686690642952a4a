"""``fee_risk_study``: how a market's risk and fee parameters reach a market maker's
return on capital, the spread and the closeouts (the worked experiment of
``docs/experiments/fee-and-risk.md``).

One USDT-settled BTC futures market (as ``btc_futures``: 0.01 USDT tick, 0.001 BTC
lots, log-normal risk model, liquidity provision on) around a seeded reference path:
a GBM with a crash of ``crash_return`` at ``crash_at_s`` and a partial rebound
(:func:`defisim.prices.crash_path`). The three swept market parameters are:

- ``linear_slippage_factor`` (``f1``): the margin on an open position is
  ``P V (f1 + RF)`` (spec ``../shared/specs/futures-market.md`` section 4);
- ``tau`` (years): the log-normal risk model's horizon; the risk factors ``RF`` grow
  about like ``sigma sqrt(tau)`` (section 3) and enter the margin of positions *and*
  of resting orders (``B RF P``);
- ``liquidity_fee_factor``: the fee bid of the market's only liquidity provider, the
  studied market maker; with one provider the marginal-cost method (section 8) makes
  it the market's liquidity fee factor, paid by every aggressor and returned to the
  provider at each epoch end (by equity-like share and time on book).

Agents, each chosen so that one of the parameters acts on it:

- ``glft`` (:class:`FeeAwareGLFTMaker`): a Gueant-Lehalle-Fernandez-Tapia market
  maker with a *finite* capital ``glft_collateral`` that also bonds ``glft_commitment``
  as the liquidity provider. Its quotes and inventory need margin, so higher ``f1``
  and ``tau`` shrink what it can quote (rejected orders, one-sided quotes, a missed
  liquidity obligation). It knows that the takers pay the fee: it prices with the
  fill intensity ``A exp(-k f_taker)`` (see :class:`FeeAwareGLFTMaker`), which widens
  the inventory part of its spread when fees rise.
- ``fee_taker_*`` (:class:`FeeAwareTaker`): price-sensitive takers that only pay up
  to a private edge *net of fees*, so a higher fee removes part of their flow.
- ``taker_*``: Poisson market-order takers that ignore fees (their liquidity fees go
  to the maker whatever the fee level).
- ``degen_*`` (:class:`~defisim.agents.LeveragedTrader`): leveraged longs and shorts
  at fractions ``[degen_leverage_min, degen_leverage_max]`` of the maximum position
  ``E / (P (f1 + RF) s_initial)``, re-entering ``degen_reentry_s`` after a closeout:
  higher ``f1`` or ``tau`` means smaller positions that survive larger moves.
- background: an exponential book maker (``book``, deep and wide, large capital),
  noise limit traders and the opening-auction agent (the common agents of
  :class:`~defisim.scenarios._mechanics.MechanicsScenario`; its reference arbitrageur
  is off by default, ``arb_count=0``: it ignores fees and, at high fees, pays them on
  every catch-up order).

KPIs (besides the common ones, among which ``closeouts`` and ``insurance_pool``):

- maker: ``mm_roc_pct`` (PnL / ``glft_collateral``, %), ``mm_return_on_margin_pct``
  (PnL / (peak margin account + commitment), %), ``mm_pnl``, ``mm_lp_fees``
  (liquidity fees received, USDT), ``mm_lp_slashed`` (bond slashed for missing the
  obligation, USDT), ``mm_margin_peak`` (USDT), ``mm_rejections``
  (orders refused, mostly for margin), ``mm_closed_out`` (its own closeouts),
  ``mm_two_sided_pct`` (% of continuous-trading steps with both sides quoted),
  ``mm_mean_quoted_spread_bps`` (mean over those steps of its best ask minus best
  bid, bps of the reference), ``mm_fills``,
  ``mm_volume`` (BTC), ``mm_inventory`` (BTC) and the other ``mm_*`` of
  :func:`~defisim.scenarios.ideal_market_maker.maker_kpis`;
- market: ``mean_spread_bps`` (mean over continuous-trading steps with both sides of
  (best ask - best bid) / mid, bps), ``volume`` (BTC, cumulative),
  ``liquidity_fee_factor``, ``lp_epochs``;
- flow: ``fee_taker_priced_out_pct`` (% of fee-aware arrivals whose edge did not
  cover the fee), ``degens_closed_out``, ``degen_mean_exposure`` (time-mean of the
  degens' summed ``|position|``, BTC), ``closeout_volume`` (BTC moved to the network
  party), ``insurance_pool_peak`` and ``insurance_pool_end`` (USDT, before the
  settlement moves the pool to the global one).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from defisim.agents import GLFTMarketMaker, LeveragedTrader
from defisim.agents.takers import PriceSensitiveTaker

from ._mechanics import NAN, MechanicsParams, MechanicsScenario
from ._reference import crash_reference
from ._zoo import (
    ASSET,
    exponential_books,
    glft_kwargs,
    leveraged_traders,
    liquidity_config,
    spread_evenly,
)
from .base import register
from .ideal_market_maker import MakerTally, maker_kpis

if TYPE_CHECKING:
    from defisim.agents import Agent, ReferencePriceFeed
    from defisim.prices import PricePath
    from defisim.protocols.futures import LiquidityResult
    from defisim.service import Simulation

MARKET_ID = "BTCUSDT-FUT"
MM_NAME = "glft"
ONE = 10**18

#: One hour as a year fraction (365.25-day year, as the risk model).
HOUR_YEARS = 1.0 / (365.25 * 24)


def taker_fee_rate(sim: Simulation, market: str) -> float:
    """The fraction of trade value an aggressor pays in continuous trading: maker +
    infrastructure + liquidity fee factors (spec section 7, 0029-FEES)."""
    return sim.futures.market_view(market).total_fee


class FeeAwareTaker(PriceSensitiveTaker):
    """A price-sensitive taker that pays at most a private edge, fees included.

    Arrivals, sides and sizes as :class:`~defisim.agents.PoissonTaker`. For each order
    it draws an edge ``e ~ Exponential(mean_depth_bps)`` (basis points of the
    reference: what trading now is worth to it) and reads the market's taker fee rate
    ``f`` (:func:`taker_fee_rate`). If ``e <= f`` the order is not sent
    (:attr:`priced_out` counts it); otherwise it is an IOC limit at
    ``reference x (1 +/- (e - f))``, so price plus fee never exceeds the edge.

    With quotes at a half-spread ``delta`` from the reference, an order fills when
    ``e > delta + f``, which happens with probability ``exp(-(delta + f) / mean)``:
    the flow meets a quote at the intensity ``A exp(-k (delta + f))`` of the GLFT
    model with ``k = 10_000 / mean_depth_bps`` per unit of relative price. A higher
    fee scales the whole intensity down by ``exp(-k df)``.

    Args: as :class:`~defisim.agents.PriceSensitiveTaker` (``mean_depth_bps`` is the
    mean edge, bps).

    Attributes:
        priced_out: orders not sent because the edge did not cover the fee.
        sent: orders sent.
    """

    def __init__(self, name: str, market: str, feed: ReferencePriceFeed, **kwargs: Any) -> None:
        super().__init__(name, market, feed, **kwargs)
        self.priced_out = 0
        self.sent = 0

    def place(self, sim: Simulation, side: str, size: float) -> None:
        """Send one IOC limit order priced at the edge net of fees (or nothing)."""
        edge = self.rng.exponential(self.mean_depth_bps) / 10_000
        d = edge - taker_fee_rate(sim, self.market)
        if d <= 0:
            self.priced_out += 1
            return
        ref = self.feed.price
        self.sent += 1
        self.send(
            sim, side, size, ref * (1 + d) if side == "buy" else ref * (1 - d), time_in_force="IOC"
        )


class FeeAwareGLFTMaker(GLFTMarketMaker):
    """A GLFT market maker that is also the market's liquidity provider and prices the
    takers' fee into its fill intensity.

    - Liquidity provision: in :meth:`initialise` it bonds ``commitment`` (asset units)
      with fee bid ``fee_bid`` (:meth:`Simulation.submit_liquidity`); its quotes then
      count towards its obligation (section 8) and it receives its share of the
      liquidity fees at each epoch end.
    - Fee-aware intensity (``fee_aware=True``): before quoting, ``A`` is set to
      ``A0 exp(-k f)`` with ``f`` the current taker fee rate (:func:`taker_fee_rate`)
      and ``k`` the relative decay (``relative_units``): the intensity that
      :class:`FeeAwareTaker` flow produces (a taker who pays ``f`` on top of the
      half-spread ``delta`` fills at ``A0 exp(-k (delta + f))``). In the GLFT closed
      form (:func:`~defisim.agents.glft_asymptotic_half_spreads`) a smaller ``A``
      widens the inventory term ``sqrt(sigma^2 gamma / (2 k A) ...)`` and so the quoted
      spread; the base term ``(1/gamma) ln(1 + gamma/k)`` does not change.

    Args:
        commitment: bond, asset units (> 0).
        fee_bid: liquidity fee factor bid, fraction of trade value in [0, 1].
        fee_aware: price the fee into ``A`` as above.
        Other arguments: as :class:`~defisim.agents.GLFTMarketMaker` (``A`` is ``A0``).

    Attributes:
        base_A: ``A0``; commitment_result: the commitment's
        :class:`~defisim.protocols.futures.LiquidityResult` (true when accepted).
    """

    def __init__(
        self,
        name: str,
        market: str,
        feed: ReferencePriceFeed,
        *,
        commitment: float = 5_000.0,
        fee_bid: float = 0.001,
        fee_aware: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, market, feed, **kwargs)
        if not commitment > 0 or not 0 <= fee_bid <= 1:
            raise ValueError(f"{name}: need commitment > 0 and fee_bid in [0, 1]")
        self.commitment = float(commitment)
        self.fee_bid = float(fee_bid)
        self.fee_aware = fee_aware
        self.base_A = self.A
        self.commitment_result: LiquidityResult | None = None

    def initialise(self, sim: Simulation) -> None:
        """Create and fund the party, then bond the commitment."""
        super().initialise(sim)
        self.commitment_result = sim.futures.submit_liquidity(
            self.name, self.market, self.commitment, self.fee_bid
        )

    def effective_A(self, sim: Simulation, s: float) -> float:
        """``A0 exp(-k f)`` (fills per second), ``k`` per unit of relative price."""
        k_rel = self.k if self.relative_units else self.k * s
        return self.base_A * math.exp(-k_rel * taker_fee_rate(sim, self.market))

    def step(self, sim: Simulation) -> None:
        if self.fee_aware and self.trading(sim, self.market):
            self.A = self.effective_A(sim, self.reference(sim))
        super().step(sim)


class FeeRiskStudyParams(MechanicsParams):
    """Parameters of ``fee_risk_study`` (USDT, BTC, seconds, years for ``tau``; the
    common ones are :class:`~defisim.scenarios._mechanics.MechanicsParams`).

    ``tau`` replaces ``risk_tau`` and ``liquidity_fee_factor`` replaces
    ``liquidity_fee`` (setting those two is an error).
    """

    steps: int | None = Field(None, ge=1)
    """Steps to run (default 1,440: one day of 60-second steps)."""

    # ------------------------------------------------------- the swept parameters
    linear_slippage_factor: float = Field(0.01, ge=0, le=1)
    """``f1`` of the margin formula (section 4)."""
    tau: float = Field(HOUR_YEARS, gt=0, le=1)
    """Risk-model horizon, years (default one hour, 1/8766)."""
    liquidity_fee_factor: float = Field(0.001, ge=0, le=0.1)
    """Fee bid of the only liquidity provider (the maker) = the market's liquidity fee."""

    # ------------------------------------------------------------- reference path
    mu: float = 0.0
    """Annualised drift of the GBM parts."""
    crash_at_s: float = Field(14 * 3600.0, ge=0)
    """Start of the crash, seconds since the start."""
    crash_duration_s: float = Field(1800.0, gt=0)
    crash_return: float = Field(-0.10, gt=-1)
    """Total relative move of the crash (-0.10: a 10 % fall)."""
    sigma_after: float = Field(0.9, ge=0)
    """Annualised volatility from the crash on."""
    rebound: float = Field(0.03, gt=-1)
    rebound_duration_s: float = Field(7200.0, ge=0)

    # ---------------------------------------------------------------- liquidity
    epoch_s: float = Field(7200.0, gt=0)
    """Liquidity epoch (seconds): fees are paid to the provider at each epoch end."""
    stake_to_volume: float = Field(1.0, ge=0)
    price_range: float = Field(0.05, gt=0)
    """Obligation range around the mid (fraction)."""

    # -------------------------------------------------- the studied market maker
    glft_collateral: float = Field(5_000.0, gt=0)
    """USDT minted to the maker: the capital of ``mm_roc_pct`` (small, so margin binds)."""
    glft_commitment: float = Field(2_000.0, gt=0)
    """USDT bonded as the liquidity provider (part of the collateral)."""
    glft_fee_aware: bool = True
    """Price the taker fee into the fill intensity (:class:`FeeAwareGLFTMaker`)."""
    glft_gamma: float = Field(20.0, gt=0)
    """Risk aversion per lot, per fraction of the price."""
    glft_k: float = Field(500.0, gt=0)
    """Fill-intensity decay per fraction of the price (500: e-fold every 20 bps,
    = 10,000 / ``fee_taker_mean_edge_bps``)."""
    glft_A: float = Field(1 / 60, gt=0)
    """Fill intensity at a zero half-spread before fees, fills per second."""
    glft_sigma: float | None = Field(0.6, ge=0)
    """Annualised volatility it assumes (``None``: the feed's realised volatility)."""
    glft_order_size: float = Field(0.2, gt=0)
    """BTC per quote (one lot of the model)."""
    glft_levels: int = Field(3, ge=1)
    glft_level_spacing_bps: float = Field(5.0, ge=0)
    glft_max_inventory: float = Field(3.0, gt=0)
    """BTC."""

    # ------------------------------------------------------------------- flow
    as_mm_count: int = Field(0, ge=0)
    sym_mm_count: int = Field(0, ge=0)
    ps_taker_count: int = Field(0, ge=0)
    arb_count: int = Field(0, ge=0)
    """Reference arbitrageurs (off: they ignore fees and pay them on every catch-up)."""
    taker_count: int = Field(2, ge=0)
    """Poisson market-order takers (ignore fees)."""
    taker_rate_per_s: float = Field(1 / 300, ge=0)
    fee_taker_count: int = Field(4, ge=0)
    """Fee-aware takers (:class:`FeeAwareTaker`)."""
    fee_taker_rate_per_s: float = Field(1 / 60, ge=0)
    """Arrivals per second per fee-aware taker."""
    fee_taker_mean_edge_bps: float = Field(20.0, gt=0)
    """Mean private edge of the fee-aware takers (bps of the reference)."""
    fee_taker_mean_size: float = Field(0.05, gt=0)
    """BTC."""
    book_count: int = Field(1, ge=0)
    """Background exponential-book makers (large capital)."""
    book_total_size: float = Field(3.0, gt=0)
    """BTC per side."""
    book_first_bps: float = Field(30.0, ge=0)
    book_scale_bps: float = Field(40.0, gt=0)

    # --------------------------------------------------------- leveraged traders
    degen_long_count: int = Field(6, ge=0)
    degen_short_count: int = Field(4, ge=0)
    degen_collateral: float = Field(5_000.0, gt=0)
    """USDT each."""
    degen_leverage_min: float = Field(0.3, gt=0, le=1)
    degen_leverage_max: float = Field(0.9, gt=0, le=1)
    degen_entry_start_s: float = Field(1800.0, ge=0)
    """Entries spread evenly over [degen_entry_start_s, degen_entry_end_s]."""
    degen_entry_end_s: float = Field(6 * 3600.0, ge=0)
    degen_reentry_s: float = Field(3600.0, ge=0)
    """Seconds between a closeout and the next entry."""

    @model_validator(mode="before")
    @classmethod
    def _replaced_names(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, new in (("risk_tau", "tau"), ("liquidity_fee", "liquidity_fee_factor")):
                if old in data:
                    raise ValueError(f"fee_risk_study: set {new!r}, not {old!r}")
        return data


@register
class FeeRiskStudy(MechanicsScenario):
    """A finite-capital GLFT maker and liquidity provider, fee-aware takers and
    leveraged traders through a crash, to study ``linear_slippage_factor``, ``tau``
    and ``liquidity_fee_factor`` (module doc)."""

    name = "fee_risk_study"
    description = (
        "Effect of the linear slippage factor, the risk model's tau and the liquidity fee "
        "factor on a finite-capital market maker's return on capital, the spread and "
        "closeouts (fee-aware takers, leveraged traders, a crash)."
    )
    Params = FeeRiskStudyParams
    market_id = MARKET_ID
    default_steps = 1440
    track_lp = True

    def __init__(self, params: FeeRiskStudyParams | None = None) -> None:
        self.maker: FeeAwareGLFTMaker | None = None
        self.fee_takers: list[FeeAwareTaker] = []
        self.degens: list[LeveragedTrader] = []
        self.maker_tally = MakerTally(MM_NAME, MARKET_ID)
        self._reset_stats()
        super().__init__(params)

    def _reset_stats(self) -> None:
        self._spread_sum = 0.0
        self._spread_n = 0
        self._quoted_sum = 0.0
        self._quoted_n = 0
        self._continuous_n = 0
        self._exposure_sum = 0.0
        self._exposure_n = 0
        self._margin_peak = 0.0
        self._pool_peak = 0.0
        self._pool_end: float | None = None

    # ------------------------------------------------------------------ set-up
    def make_path(self, sim: Simulation, n: int) -> PricePath:
        """:func:`~defisim.prices.crash_path` drawn from ``sim.rng("reference_price")``."""
        return crash_reference(sim, self.params, max(n, 3), self.step_seconds)

    def market_config(self) -> dict[str, Any]:
        """The common market with ``tau`` in the risk model and liquidity provision on
        (marginal-cost fee: with one provider, its bid)."""
        p: FeeRiskStudyParams = self.params  # type: ignore[assignment]
        cfg = super().market_config()
        cfg["risk_model"]["tau"] = p.tau
        cfg["fees"]["liquidity"] = p.liquidity_fee_factor
        cfg["liquidity"] = liquidity_config(p)
        return cfg

    def extra_agents(self, sim: Simulation, feed: ReferencePriceFeed) -> list[Agent]:
        """The maker, the background book, the fee-aware takers and the degens."""
        p: FeeRiskStudyParams = self.params  # type: ignore[assignment]
        m = self.market_id
        self._reset_stats()
        self.maker_tally = MakerTally(MM_NAME, m)
        self.maker = FeeAwareGLFTMaker(
            MM_NAME,
            m,
            feed,
            commitment=p.glft_commitment,
            fee_bid=p.liquidity_fee_factor,
            fee_aware=p.glft_fee_aware,
            **glft_kwargs(p),
        )
        books = exponential_books(p, m, feed, prefix="book", spacing_bps=10.0)
        self.fee_takers = [
            FeeAwareTaker(
                f"fee_taker_{i}",
                m,
                feed,
                asset=ASSET,
                collateral=p.taker_collateral,
                rate_per_s=p.fee_taker_rate_per_s,
                mean_depth_bps=p.fee_taker_mean_edge_bps,
                mean_size=p.fee_taker_mean_size,
                max_position=p.taker_max_position,
                first_dt_s=self.step_seconds,
            )
            for i in range(p.fee_taker_count)
        ]
        n_long, n_short = p.degen_long_count, p.degen_short_count
        lo, hi = sorted((p.degen_leverage_min, p.degen_leverage_max))
        t0 = p.degen_entry_start_s
        t1 = max(t0, p.degen_entry_end_s)
        # longs and shorts each spread over the leverage range and the entry window
        self.degens = leveraged_traders(
            m,
            feed,
            n_long,
            n_short,
            leverage=[*spread_evenly(lo, hi, n_long), *spread_evenly(lo, hi, n_short)],
            entry_s=[*spread_evenly(t0, t1, n_long), *spread_evenly(t0, t1, n_short)],
            collateral=p.degen_collateral,
            max_order_size=0.25,
            reenter=True,
            reentry_delay_s=p.degen_reentry_s,
        )
        return [self.maker, *books, *self.fee_takers, *self.degens]

    # -------------------------------------------------------------------- KPIs
    def extra_kpis(self, sim: Simulation) -> dict[str, float]:
        p: FeeRiskStudyParams = self.params  # type: ignore[assignment]
        m = self.market_id
        ref = self.feed.price if self.feed is not None else NAN
        out = maker_kpis(sim, MM_NAME, m, self.maker_tally, p.glft_collateral, ref)
        parties = sim.parties
        continuous = sim.futures.market_state(m) == "ACTIVE" and not sim.futures.in_auction(m)
        if continuous:
            self._continuous_n += 1
            bid, ask = sim.futures.best_prices(m)
            if bid is not None and ask is not None and ask > bid:
                self._spread_sum += (ask - bid) / ((ask + bid) / 2) * 10_000
                self._spread_n += 1
            q = out["mm_quoted_spread_bps"]
            if math.isfinite(q):
                self._quoted_sum += q
                self._quoted_n += 1
            self._exposure_sum += sum(
                abs(sim.futures.position(a.name, m)) for a in self.degens if a.name in parties
            )
            self._exposure_n += 1
        if MM_NAME in parties:
            self._margin_peak = max(self._margin_peak, sim.balance(MM_NAME, ASSET, "margin", m))
        pnl = out["mm_pnl"]
        lp_fees = sim.money(ASSET, self.tally.lp_fees.get(MM_NAME, 0))
        pool = sim.futures.insurance_pool(m)
        self._pool_peak = max(self._pool_peak, pool)
        arrivals = sum(t.priced_out + t.sent for t in self.fee_takers)
        priced_out = sum(t.priced_out for t in self.fee_takers)
        out.update(
            {
                "mm_roc_pct": 100.0 * pnl / p.glft_collateral,
                "mm_return_on_margin_pct": 100.0 * pnl / (self._margin_peak + p.glft_commitment),
                "mm_lp_fees": lp_fees,
                "mm_lp_slashed": sim.money(ASSET, self.tally.lp_slashes.get(MM_NAME, 0)),
                "mm_margin_peak": self._margin_peak,
                "mm_closed_out": float(self.maker_tally.closed_out),
                "mm_rejections": float(self.maker.rejections) if self.maker else 0.0,
                "mm_two_sided_pct": (
                    100.0 * self._quoted_n / self._continuous_n if self._continuous_n else NAN
                ),
                "mm_mean_quoted_spread_bps": (
                    self._quoted_sum / self._quoted_n if self._quoted_n else NAN
                ),
                "mean_spread_bps": self._spread_sum / self._spread_n if self._spread_n else NAN,
                "volume": sim.futures.market_view(m).volume,
                "liquidity_fee_factor": sim.futures.liquidity_fee_factor(m),
                "lp_epochs": float(self.tally.lp_epochs),
                "fee_taker_priced_out_pct": 100.0 * priced_out / arrivals if arrivals else NAN,
                "degens_closed_out": float(sum(a.closed_out for a in self.degens)),
                "degen_mean_exposure": (
                    self._exposure_sum / self._exposure_n if self._exposure_n else 0.0
                ),
                "closeout_volume": self.tally.closeout_size / sim.futures.units(m).size_factor,
                "insurance_pool_peak": self._pool_peak,
                "insurance_pool_end": pool if self._pool_end is None else self._pool_end,
            }
        )
        return out

    def finish(self, sim: Simulation) -> None:
        """Keep the insurance pool (it moves to the global pool at settlement), then
        settle at the last reference price."""
        self._pool_end = sim.futures.insurance_pool(self.market_id)
        super().finish(sim)
