"""``amm_pool``: one Uniswap-v3-style WETH/USDC pool tracking a GBM reference price.

A small AMM scenario (the ground of :class:`defisim.envs.AmmEnv`):

- assets ``WETH`` (18 decimals) and ``USDC`` (6 decimals) and one V3 pool
  ``V3:USDC/WETH/<fee>`` (token0 = USDC, token1 = WETH, fee 0.3 % by default)
  initialised at the first reference price ``s0`` (USDC per WETH);
- a reference price: a GBM path (:func:`defisim.prices.gbm_path`, ``mu``, ``sigma``
  annualised) drawn from ``sim.rng("reference_price")``, replayed by a
  :class:`~defisim.agents.ReferencePriceFeed`; :meth:`AmmPool.reseed_episode` redraws
  its future for each learning episode;
- a background LP (party ``background_lp``) with one full-range position of
  ``lp_liquidity_usd`` (half USDC, half WETH at ``s0``), minted at build;
- an arbitrageur (:class:`_PoolArbitrageur`): each step, when the pool's WETH price is
  more than ``arb_min_gap_bps`` from the reference, one V3 swap with ``price_limit``
  at the reference price moves the pool there;
- noise swappers (:class:`_NoiseSwapper`): each step with probability
  ``noise_trade_prob`` a swap of log-normal notional (mean ``noise_mean_usd``,
  log-sd ``noise_size_sigma``), buying or selling WETH with equal probability, so
  LPs earn fees.

The agents are deliberately minimal; richer AMM agents live in :mod:`defisim.agents`.

KPIs per step (:meth:`AmmPool.kpis`): ``reference_price`` and ``pool_price`` (USDC
per WETH), ``price_gap_bps`` (``1e4 ln(pool / reference)``), ``liquidity`` (active
raw liquidity), ``tick``, ``arb_volume_usd`` and ``noise_volume_usd`` (cumulative
USDC notional of the swaps that executed, valued at the pool price after the step),
``lp_fees_usd`` (fees owed to the background LP, valued at the pool price).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from defisim.agents import Agent, ReferencePriceFeed
from defisim.prices import gbm_path

from .base import PoolBackendParams, Scenario, register

if TYPE_CHECKING:
    from defisim.service import Simulation

BASE = "WETH"
QUOTE = "USDC"
BACKGROUND_LP = "background_lp"
DEFAULT_STEPS = 500
_MAX_TICK = 887272


class AmmPoolParams(PoolBackendParams):
    """Parameters of ``amm_pool`` (money in USDC, prices in USDC per WETH, time in seconds)."""

    steps: int | None = Field(None, ge=1)
    """Steps to run (``None``: 500); the reference path has ``steps + 1`` points."""
    step_seconds: float = Field(3600.0, gt=0)
    """Seconds per step (one reference point per step)."""
    s0: float = Field(3000.0, gt=0)
    """First reference price and the pool's initial price (USDC per WETH)."""
    mu: float = 0.0
    """GBM annualised drift."""
    sigma: float = Field(0.8, ge=0)
    """GBM annualised volatility (365-day year)."""
    fee: Literal[500, 3000, 10000] = 3000
    """Pool fee in pips (3000 = 0.3 %)."""
    lp_liquidity_usd: float = Field(50_000_000.0, gt=0)
    """USDC value the background LP deposits full range at ``s0`` (half in WETH)."""
    arb_min_gap_bps: float = Field(0.0, ge=0)
    """The arbitrageur trades when ``|1e4 ln(pool / reference)|`` exceeds this."""
    arb_capital_usd: float = Field(1e9, gt=0)
    """USDC minted to the arbitrageur (and the same value in WETH at ``s0``)."""
    noise_count: int = Field(2, ge=0)
    """Number of noise swappers."""
    noise_trade_prob: float = Field(0.8, ge=0, le=1)
    """Probability that a noise swapper swaps in a step."""
    noise_mean_usd: float = Field(20_000.0, gt=0)
    """Mean USDC notional of a noise swap."""
    noise_size_sigma: float = Field(1.0, ge=0)
    """Log-standard deviation of the noise swap notional (log-normal)."""
    noise_capital_usd: float = Field(1e8, gt=0)
    """USDC minted to each noise swapper (and the same value in WETH at ``s0``)."""


def _fund(sim: Simulation, party: str, usd: float, price: float) -> None:
    sim.create_party(party)
    sim.mint(party, QUOTE, usd)
    sim.mint(party, BASE, usd / price)


class _PoolArbitrageur(Agent):
    """Moves the pool's WETH price to the reference price each step: one V3 swap with
    a large input and ``price_limit`` at the reference (the swap stops there, paying
    only what it needs). Trades only when the gap exceeds ``min_gap_bps``.

    ``volume_usd``: cumulative USDC notional of its executed swaps (the USDC leg).
    """

    def __init__(self, name: str, pool_id: str, feed: ReferencePriceFeed, capital_usd: float,
                 s0: float, min_gap_bps: float) -> None:
        super().__init__(name)
        self.pool_id = pool_id
        self.feed = feed
        self.capital_usd = capital_usd
        self.s0 = s0
        self.min_gap_bps = min_gap_bps
        self.volume_usd = 0.0

    def initialise(self, sim: Simulation) -> None:
        _fund(sim, self.name, self.capital_usd, self.s0)

    def step(self, sim: Simulation) -> None:
        view = sim.amm.pool_view(self.pool_id)
        pool = view.price_of(BASE)
        ref = self.feed.price
        if abs(1e4 * math.log(pool / ref)) <= self.min_gap_bps:
            return
        # price_limit is token0 in token1; buy WETH (pay USDC) when it is cheap in the pool
        asset_in = QUOTE if pool < ref else BASE
        limit0 = ref if view.assets[0] == BASE else 1.0 / ref
        amount = 0.5 * sim.balance(self.name, asset_in)
        if amount <= 0:
            return
        r = sim.amm.swap(self.name, self.pool_id, asset_in, amount, price_limit=limit0)
        if r.accepted and r.value is not None and r.status != "PENDING":
            a_in, a_out = r.value
            self.volume_usd += a_in if asset_in == QUOTE else a_out


class _NoiseSwapper(Agent):
    """Each step, with probability ``trade_prob``, swaps a log-normal USDC notional
    (``exp(N(ln(mean) - s^2/2, s))``, mean ``mean_usd``) buying or selling WETH with
    equal probability (a sale of WETH is sized at the pool price). Draws come from
    :attr:`rng` only. ``volume_usd``: cumulative USDC notional sent and executed.
    Phase 2: after the arbitrageur, so the pool ends a step off the reference."""

    phase = 2

    def __init__(self, name: str, pool_id: str, capital_usd: float, s0: float, trade_prob: float,
                 mean_usd: float, size_sigma: float) -> None:
        super().__init__(name)
        self.pool_id = pool_id
        self.capital_usd = capital_usd
        self.s0 = s0
        self.trade_prob = trade_prob
        self.mean_usd = mean_usd
        self.size_sigma = size_sigma
        self.volume_usd = 0.0

    def initialise(self, sim: Simulation) -> None:
        _fund(sim, self.name, self.capital_usd, self.s0)

    def step(self, sim: Simulation) -> None:
        rng = self.rng
        if rng.random() >= self.trade_prob:
            return
        s = self.size_sigma
        usd = float(np.exp(rng.normal(math.log(self.mean_usd) - s * s / 2, s)))
        buy = bool(rng.random() < 0.5)
        price = sim.amm.pool_view(self.pool_id).price_of(BASE)
        asset_in, amount = (QUOTE, usd) if buy else (BASE, usd / price)
        amount = min(amount, sim.balance(self.name, asset_in))
        if amount <= 0:
            return
        r = sim.amm.swap(self.name, self.pool_id, asset_in, amount)
        if r.accepted:
            self.volume_usd += usd


@register
class AmmPool(Scenario):
    """One V3 WETH/USDC pool around a GBM reference price (module docstring).

    Attributes (after :meth:`build`): ``pool_id``, ``feed`` (the reference price
    feed), ``base_asset`` (``"WETH"``), ``quote_asset`` (``"USDC"``), ``lp_ticks``
    (the background LP's full range).
    """

    name = "amm_pool"
    description = ("One Uniswap-v3 WETH/USDC pool (0.3 %) kept at a GBM reference price by an "
                   "arbitrageur, with noise swappers and a full-range background LP.")
    Params = AmmPoolParams
    protocols = ("amm",)
    base_asset = BASE
    quote_asset = QUOTE

    def __init__(self, params: AmmPoolParams | None = None) -> None:
        super().__init__(params)
        self.feed: ReferencePriceFeed | None = None
        self.pool_id = ""
        self.lp_ticks = (0, 0)
        self._arb: _PoolArbitrageur | None = None
        self._noise: list[_NoiseSwapper] = []

    def total_steps(self) -> int:
        return self.params.steps if self.params.steps is not None else DEFAULT_STEPS

    def build(self, sim: Simulation) -> list[Agent]:
        """Create the assets, the pool, the background LP's full-range position and the
        agents (feed first)."""
        p: AmmPoolParams = self.params  # type: ignore[assignment]
        sim.create_asset(BASE, 18)
        sim.create_asset(QUOTE, 6)
        self.pool_id = pid = sim.amm.create_v3_pool(BASE, QUOTE, p.fee, price=p.s0)
        view = sim.amm.pool_view(pid)
        spacing = view.tick_spacing
        top = _MAX_TICK // spacing * spacing
        self.lp_ticks = (-top, top)
        _fund(sim, BACKGROUND_LP, p.lp_liquidity_usd, p.s0)
        half = p.lp_liquidity_usd / 2
        amounts = (half, half / p.s0) if view.assets[0] == QUOTE else (half / p.s0, half)
        r = sim.amm.mint_position(BACKGROUND_LP, pid, -top, top, *amounts)
        if not r.accepted:
            raise ValueError(f"amm_pool: background LP mint rejected: {r.reason} {r.detail}")
        path = gbm_path(self.total_steps() + 1, p.step_seconds, p.s0, p.mu, p.sigma,
                        sim.rng("reference_price"))
        self.feed = feed = ReferencePriceFeed("reference", path)
        self._arb = _PoolArbitrageur("arbitrageur", pid, feed, p.arb_capital_usd, p.s0,
                                     p.arb_min_gap_bps)
        self._noise = [_NoiseSwapper(f"noise_{i}", pid, p.noise_capital_usd, p.s0,
                                     p.noise_trade_prob, p.noise_mean_usd, p.noise_size_sigma)
                       for i in range(p.noise_count)]
        return [feed, self._arb, *self._noise]

    def reseed_episode(self, sim: Simulation, streams) -> None:
        """The GBM reference path gets a new future (same ``mu``, ``sigma``) from the
        current price, drawn from ``streams.generator("episode:reference_price")``."""
        feed = self.feed
        if feed is None:
            return
        n_future = len(feed.path) - feed.index
        if n_future < 2:
            return
        p: AmmPoolParams = self.params  # type: ignore[assignment]
        future = gbm_path(n_future, p.step_seconds, feed.price, p.mu, p.sigma,
                          streams.generator("episode:reference_price"))
        feed.replace_future(future.prices[1:])

    def kpis(self, sim: Simulation) -> dict[str, float]:
        view = sim.amm.pool_view(self.pool_id)
        pool = view.price_of(BASE)
        ref = self.feed.price if self.feed is not None else float("nan")
        fees = 0.0
        for pos in sim.amm.positions(BACKGROUND_LP, self.pool_id):
            f = dict(zip(view.assets, (pos.fees0, pos.fees1), strict=True))
            fees += f[QUOTE] + f[BASE] * pool
        return {
            "reference_price": ref,
            "pool_price": pool,
            "price_gap_bps": 1e4 * math.log(pool / ref),
            "liquidity": float(view.liquidity or 0),
            "tick": float(view.tick or 0),
            "arb_volume_usd": self._arb.volume_usd if self._arb is not None else 0.0,
            "noise_volume_usd": float(sum(a.volume_usd for a in self._noise)),
            "lp_fees_usd": fees,
        }
