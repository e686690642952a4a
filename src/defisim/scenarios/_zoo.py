"""The USDT-settled BTC futures market and the agent zoo, built from named parameters.

The BTC futures scenarios (``btc_futures`` and the
:class:`~defisim.scenarios._mechanics.MechanicsScenario` family) name their
parameters alike: ``risk_*`` and the fees for the market, ``mm_*`` for the
Avellaneda-Stoikov and symmetric market makers, ``taker_*`` / ``ps_*`` for the
takers, ``noise_*``, ``informed_*``, ``momentum_*``, ``book_*``, ``glft_*``. The
builders here read those names from a scenario's parameter model ``p`` (any
object with the attributes a builder documents), so the same agents come out
wherever the same parameters go in. Each scenario keeps its own parameter model
(defaults and descriptions differ between scenarios) and the order in which it
lists its agents.

Agent names are part of a run's identity: an agent's random stream is
``sim.rng(f"agent:{name}")`` and the list order is the wake-up order, so the
builders keep the names and orders the scenarios have always used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from defisim.agents import (
    AvellanedaStoikovMarketMaker,
    ExponentialBookMarketMaker,
    InformedTrader,
    LeveragedTrader,
    MomentumTrader,
    NoiseLimitTrader,
    PoissonTaker,
    PriceSensitiveTaker,
    SymmetricMarketMaker,
)
from defisim.prices import SECONDS_PER_YEAR

if TYPE_CHECKING:
    from defisim.agents import Agent, ReferencePriceFeed
    from defisim.service import Simulation

ASSET = "USDT"
ASSET_DECIMALS = 6
PRICE_DECIMALS = 2  # tick 0.01 USDT
POSITION_DECIMALS = 3  # 0.001 BTC

#: Market states in which a market can still be settled (not PENDING, CLOSED or SETTLED).
SETTLEABLE_STATES = ("ACTIVE", "SUSPENDED", "TRADING_TERMINATED")


# ------------------------------------------------------------------ the market
def lognormal_risk_model(risk_aversion: float, tau: float, sigma: float) -> dict[str, Any]:
    """A log-normal risk model (spec section 3) with zero drift and rate:
    ``risk_aversion`` (lambda), ``tau`` (years), ``sigma`` (annualised)."""
    return {
        "kind": "lognormal",
        "risk_aversion": risk_aversion,
        "tau": tau,
        "mu": 0.0,
        "r": 0.0,
        "sigma": sigma,
    }


def futures_market_config(market_id: str, p: Any) -> dict[str, Any]:
    """Keyword arguments of :meth:`Simulation.create_market` for the USDT-settled BTC
    future (0.01 USDT tick, 0.001 BTC lots) of the parameters ``risk_aversion``,
    ``risk_tau``, ``risk_sigma``, ``linear_slippage_factor``, ``maker_fee``,
    ``infrastructure_fee``, ``liquidity_fee`` and ``opening_auction_s``.

    A new dict each call: callers add or change entries (mechanics) freely."""
    return dict(
        market_id=market_id,
        asset=ASSET,
        decimal_places=PRICE_DECIMALS,
        tick_size=1,
        position_decimal_places=POSITION_DECIMALS,
        risk_model=lognormal_risk_model(p.risk_aversion, p.risk_tau, p.risk_sigma),
        linear_slippage_factor=p.linear_slippage_factor,
        fees={
            "maker": p.maker_fee,
            "infrastructure": p.infrastructure_fee,
            "liquidity": p.liquidity_fee,
        },
        opening_auction_duration_s=p.opening_auction_s,
    )


def create_futures_market(sim: Simulation, config: dict[str, Any]) -> None:
    """Create USDT (6 decimals) and the market of ``config`` (:func:`futures_market_config`)."""
    sim.create_asset(ASSET, ASSET_DECIMALS)
    sim.futures.create_market(**config)


def price_monitoring_config(triggers: Sequence[tuple[int, float, int]]) -> dict[str, Any]:
    """The ``price_monitoring`` entry of a market config from ``(horizon seconds,
    probability, extension seconds)`` triggers (spec 0032-PRIM)."""
    return {
        "triggers": [
            {"horizon_s": h, "probability": pr, "extension_s": e} for h, pr, e in triggers
        ]
    }


def liquidity_config(p: Any, **extra: Any) -> dict[str, Any]:
    """The ``liquidity`` entry of a market config (spec 0044-LIME / 0042-LIQF) from
    ``epoch_s`` (also the market-value window), ``stake_to_volume`` and ``price_range``,
    then ``extra`` entries, with the marginal-cost fee method."""
    return {
        "epoch_s": p.epoch_s,
        "market_value_window_s": p.epoch_s,
        "stake_to_volume": p.stake_to_volume,
        "price_range": p.price_range,
        **extra,
        "fee_method": "marginal_cost",
    }


def settle_or_terminate(sim: Simulation, market: str, feed: ReferencePriceFeed | None) -> None:
    """End of a run: settle ``market`` at the feed's last price (the mark price without
    a feed), or terminate it if it is still ``PENDING`` (it never opened)."""
    state = sim.futures.market_state(market)
    if state == "PENDING":
        sim.futures.terminate_market(market)
    elif state in SETTLEABLE_STATES:
        price = feed.price if feed is not None else sim.futures.mark_price(market)
        sim.futures.settle_market(market, price)


# ----------------------------------------------------------------------- agents
def sigma_per_second(sigma_annual: float | None) -> float | None:
    """An annualised volatility as the per-second one the market makers take
    (``None`` stays ``None``: the maker then uses the feed's realised volatility)."""
    return None if sigma_annual is None else sigma_annual / math.sqrt(SECONDS_PER_YEAR)


def mm_kwargs(p: Any, *, sigma: float | None, sigma_prior_annual: float) -> dict[str, Any]:
    """Keyword arguments of :class:`~defisim.agents.AvellanedaStoikovMarketMaker` (and
    its subclasses) from ``mm_collateral``, ``mm_gamma``, ``mm_k``, ``mm_horizon_s``,
    ``mm_order_size``, ``mm_max_inventory``, ``mm_levels``, ``mm_level_spacing_bps``;
    ``sigma`` (per second) and ``sigma_prior_annual`` as given."""
    return dict(
        asset=ASSET,
        collateral=p.mm_collateral,
        gamma=p.mm_gamma,
        k=p.mm_k,
        horizon_s=p.mm_horizon_s,
        order_size=p.mm_order_size,
        max_inventory=p.mm_max_inventory,
        sigma=sigma,
        sigma_prior_annual=sigma_prior_annual,
        levels=p.mm_levels,
        level_spacing_bps=p.mm_level_spacing_bps,
    )


def market_makers(
    p: Any, market: str, feed: ReferencePriceFeed, **kwargs: Any
) -> list[AvellanedaStoikovMarketMaker]:
    """``as_mm_count`` Avellaneda-Stoikov makers ``mm_as_<i>``, then ``sym_mm_count``
    symmetric makers ``mm_sym_<i>``, all with ``kwargs`` (:func:`mm_kwargs`)."""
    makers = [
        AvellanedaStoikovMarketMaker(f"mm_as_{i}", market, feed, **kwargs)
        for i in range(p.as_mm_count)
    ]
    makers += [
        SymmetricMarketMaker(f"mm_sym_{i}", market, feed, **kwargs) for i in range(p.sym_mm_count)
    ]
    return makers


def takers(p: Any, market: str, feed: ReferencePriceFeed, first_dt_s: float) -> list[Agent]:
    """``taker_count`` Poisson market-order takers ``taker_<i>`` (``taker_rate_per_s``),
    then ``ps_taker_count`` price-sensitive IOC takers ``ps_taker_<i>``
    (``ps_taker_rate_per_s``, ``ps_mean_depth_bps``); both with ``taker_collateral``,
    ``taker_buy_prob``, ``taker_mean_size``, ``taker_max_position`` and their first
    arrival drawn ``first_dt_s`` on."""
    kw = dict(
        asset=ASSET,
        collateral=p.taker_collateral,
        buy_prob=p.taker_buy_prob,
        mean_size=p.taker_mean_size,
        max_position=p.taker_max_position,
        first_dt_s=first_dt_s,
    )
    agents: list[Agent] = [
        PoissonTaker(f"taker_{i}", market, rate_per_s=p.taker_rate_per_s, **kw)
        for i in range(p.taker_count)
    ]
    agents += [
        PriceSensitiveTaker(
            f"ps_taker_{i}",
            market,
            feed,
            rate_per_s=p.ps_taker_rate_per_s,
            mean_depth_bps=p.ps_mean_depth_bps,
            **kw,
        )
        for i in range(p.ps_taker_count)
    ]
    return agents


def noise_traders(
    p: Any, market: str, feed: ReferencePriceFeed, first_dt_s: float
) -> list[NoiseLimitTrader]:
    """``noise_count`` noise limit-order traders ``noise_<i>`` from ``noise_collateral``,
    ``noise_rate_per_s``, ``noise_mean_offset_bps``, ``noise_cancel_prob`` and, where
    ``p`` has it, ``noise_mean_size`` (contracts; else the trader's default)."""
    size = getattr(p, "noise_mean_size", None)
    kw = {} if size is None else {"mean_size": size}
    return [
        NoiseLimitTrader(
            f"noise_{i}",
            market,
            feed,
            asset=ASSET,
            collateral=p.noise_collateral,
            rate_per_s=p.noise_rate_per_s,
            mean_offset_bps=p.noise_mean_offset_bps,
            cancel_prob=p.noise_cancel_prob,
            first_dt_s=first_dt_s,
            **kw,
        )
        for i in range(p.noise_count)
    ]


def informed_traders(p: Any, market: str, feed: ReferencePriceFeed) -> list[InformedTrader]:
    """``informed_count`` informed traders ``informed_<i>`` from ``informed_collateral``,
    ``informed_lookahead``, ``informed_threshold_bps``, ``informed_trade_size``,
    ``informed_position_limit``."""
    return [
        InformedTrader(
            f"informed_{i}",
            market,
            feed,
            asset=ASSET,
            collateral=p.informed_collateral,
            lookahead=p.informed_lookahead,
            threshold_bps=p.informed_threshold_bps,
            trade_size=p.informed_trade_size,
            position_limit=p.informed_position_limit,
        )
        for i in range(p.informed_count)
    ]


def momentum_traders(p: Any, market: str, feed: ReferencePriceFeed) -> list[MomentumTrader]:
    """``momentum_count`` momentum traders ``momentum_<i>`` from ``momentum_collateral``,
    ``momentum_trade_size``, ``momentum_position_limit``."""
    return [
        MomentumTrader(
            f"momentum_{i}",
            market,
            feed,
            asset=ASSET,
            collateral=p.momentum_collateral,
            trade_size=p.momentum_trade_size,
            position_limit=p.momentum_position_limit,
        )
        for i in range(p.momentum_count)
    ]


def exponential_books(
    p: Any, market: str, feed: ReferencePriceFeed, *, prefix: str, spacing_bps: float
) -> list[ExponentialBookMarketMaker]:
    """``book_count`` exponential-book makers ``<prefix>_<i>`` around the reference: five
    levels per side ``spacing_bps`` apart from ``book_first_bps``, ``book_total_size``
    per side shaped by ``book_scale_bps``, with ``mm_collateral`` and ``mm_max_inventory``."""
    return [
        ExponentialBookMarketMaker(
            f"{prefix}_{i}",
            market,
            feed,
            asset=ASSET,
            collateral=p.mm_collateral,
            total_size=p.book_total_size,
            levels=5,
            first_bps=p.book_first_bps,
            spacing_bps=spacing_bps,
            scale_bps=p.book_scale_bps,
            max_inventory=p.mm_max_inventory,
        )
        for i in range(p.book_count)
    ]


def glft_kwargs(p: Any) -> dict[str, Any]:
    """Keyword arguments of a :class:`~defisim.agents.GLFTMarketMaker` from
    ``glft_collateral``, ``glft_gamma``, ``glft_k``, ``glft_A``, ``glft_sigma``
    (annualised; ``None``: the feed's realised volatility), ``glft_order_size``,
    ``glft_max_inventory``, ``glft_levels``, ``glft_level_spacing_bps``, with the prior
    volatility ``max(sigma, 0.05)`` of the reference."""
    return dict(
        asset=ASSET,
        collateral=p.glft_collateral,
        gamma=p.glft_gamma,
        k=p.glft_k,
        A=p.glft_A,
        sigma=sigma_per_second(p.glft_sigma),
        sigma_prior_annual=max(p.sigma, 0.05),
        order_size=p.glft_order_size,
        max_inventory=p.glft_max_inventory,
        levels=p.glft_levels,
        level_spacing_bps=p.glft_level_spacing_bps,
    )


def spread_evenly(lo: float, hi: float, n: int, single: float | None = None) -> list[float]:
    """``n`` values evenly spaced from ``lo`` to ``hi`` (``numpy.linspace``); a single
    value is ``single`` when given (else ``lo``)."""
    if n == 1 and single is not None:
        return [float(single)]
    return [float(x) for x in np.linspace(lo, hi, n)]


def leveraged_traders(
    market: str,
    feed: ReferencePriceFeed,
    n_long: int,
    n_short: int = 0,
    *,
    leverage: Sequence[float],
    entry_s: Sequence[float],
    name: str = "degen_{side}_{i}",
    **kwargs: Any,
) -> list[LeveragedTrader]:
    """``n_long`` leveraged longs, then ``n_short`` shorts
    (:class:`~defisim.agents.LeveragedTrader`), trader ``i`` (counted over both) named
    ``name.format(side=..., i=i)`` with leverage fraction ``leverage[i]`` and entry time
    ``entry_s[i]``; ``kwargs`` (collateral, re-entry, order size) go to every one."""
    out = []
    for i in range(n_long + n_short):
        side = "long" if i < n_long else "short"
        out.append(
            LeveragedTrader(
                name.format(side=side, i=i),
                market,
                feed,
                asset=ASSET,
                side=side,
                leverage_fraction=float(leverage[i]),
                entry_s=float(entry_s[i]),
                **kwargs,
            )
        )
    return out
