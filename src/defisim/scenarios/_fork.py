"""What a fork (``defisim fork``, :func:`defisim.runner.replay_run.fork_run`) can change
in the futures scenarios, and how: :func:`apply_fork_changes`.

Two kinds of parameter change mid-run:

- **market parameters** (fees, the risk model, slippage, price monitoring, liquidity
  provision) go through the market's own governance: one
  :meth:`~defisim.service.futures.FuturesFacade.propose_market_update` proposal with
  every changed field, enacted at the start of the second block after the fork
  (``enact_at`` = fork time + 1.5 steps). Why not the next block: the fork applies
  its changes between blocks, and a replay of the fork's run folder sends the
  proposal inside the next block, after governance's begin-block hook has run; with
  the enactment a step and a half on, both enact it in the same block and the fork's
  folder replays block for block. A proposal the protocol rejects (an invalid
  combination) applies nothing, and the fork refuses the parameters.
- **agent parameters** (order-flow rates, quote shapes) are set on the scenario's
  own agents (plain attributes the agents read at every step: ``rate_per_s``,
  ``gamma``...), in force from the next block.

The scenarios pick the tables they use: :data:`MARKET_PARAMS` (both),
:data:`MECHANICS_MARKET_PARAMS` (``comprehensive_market``'s price monitoring and
liquidity), :data:`AGENT_PARAMS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._zoo import liquidity_config, lognormal_risk_model, price_monitoring_config

if TYPE_CHECKING:
    from defisim.agents import Agent
    from defisim.service import Simulation

MarketChange = Callable[[Any], dict[str, Any]]
"""``params -> MarketConfig changes`` (nested dicts merge into the market's config)."""

MARKET_PARAMS: dict[str, MarketChange] = {
    "maker_fee": lambda p: {"fees": {"maker": p.maker_fee}},
    "infrastructure_fee": lambda p: {"fees": {"infrastructure": p.infrastructure_fee}},
    "liquidity_fee": lambda p: {"fees": {"liquidity": p.liquidity_fee}},
    "risk_aversion": lambda p: {"risk_model": _risk_model(p)},
    "risk_tau": lambda p: {"risk_model": _risk_model(p)},
    "risk_sigma": lambda p: {"risk_model": _risk_model(p)},
    "linear_slippage_factor": lambda p: {"linear_slippage_factor": p.linear_slippage_factor},
}
"""Market parameters of :func:`~defisim.scenarios._zoo.futures_market_config` a fork can
change (``opening_auction_s`` cannot: the market is open)."""

MECHANICS_MARKET_PARAMS: dict[str, MarketChange] = {
    "price_monitoring_triggers": lambda p: {
        "price_monitoring": price_monitoring_config(p.price_monitoring_triggers)},
    "min_auction_duration_s": lambda p: {"min_auction_duration_s": p.min_auction_duration_s},
    "stake_to_volume": lambda p: {"liquidity": liquidity_config(p)},
    "price_range": lambda p: {"liquidity": liquidity_config(p)},
}
"""Price monitoring (spec 0032-PRIM) and liquidity-provision (spec 0044-LIME) parameters
of ``comprehensive_market``'s market."""

AGENT_PARAMS: dict[str, tuple[tuple[str, ...], str]] = {
    "taker_rate_per_s": (("taker_",), "rate_per_s"),
    "ps_taker_rate_per_s": (("ps_taker_",), "rate_per_s"),
    "taker_buy_prob": (("taker_", "ps_taker_"), "buy_prob"),
    "taker_mean_size": (("taker_", "ps_taker_"), "mean_size"),
    "noise_rate_per_s": (("noise_",), "rate_per_s"),
    "noise_mean_offset_bps": (("noise_",), "mean_offset_bps"),
    "noise_cancel_prob": (("noise_",), "cancel_prob"),
    "mm_gamma": (("mm_as_", "mm_sym_", "mm_glft_"), "gamma"),
    "mm_k": (("mm_as_", "mm_sym_", "mm_glft_"), "k"),
    "mm_order_size": (("mm_as_", "mm_sym_", "mm_glft_"), "order_size"),
    "mm_level_spacing_bps": (("mm_as_", "mm_sym_", "mm_glft_"), "level_spacing_bps"),
    "mm_max_inventory": (("mm_as_", "mm_sym_", "mm_glft_", "mm_book_"), "max_inventory"),
}
"""Agent parameter -> (the name prefixes of the agents :mod:`~defisim.scenarios._zoo`
builds with it, the agent attribute it sets). Every agent built with the parameter is
listed, so that a change reaches them all."""


def _risk_model(p: Any) -> dict[str, Any]:
    return lognormal_risk_model(p.risk_aversion, p.risk_tau, p.risk_sigma)


def _merge(into: dict[str, Any], upd: Mapping[str, Any]) -> None:
    for k, v in upd.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict) and "kind" not in v:
            _merge(into[k], v)
        else:
            into[k] = v


def apply_fork_changes(
    sim: Simulation,
    market: str,
    params: Any,
    changes: Mapping[str, tuple[Any, Any]],
    agents: Iterable[Agent],
    market_params: Mapping[str, MarketChange],
    step_seconds: float,
) -> set[str]:
    """Apply the changed parameters the tables know (module docstring); return their names.

    Args:
        sim: the running simulation (at the fork block, between blocks).
        market: the market the proposal updates.
        params: the scenario's new parameters (read by the ``market_params`` entries).
        changes: parameter name -> ``(old, new)``.
        agents: the scenario's agents (those named by :data:`AGENT_PARAMS` prefixes change).
        market_params: parameter -> MarketConfig change (:data:`MARKET_PARAMS` ...).
        step_seconds: the run's step; the proposal enacts 1.5 steps after now.

    Returns:
        The names applied: the agent parameters, and the market parameters when the
        proposal was accepted (a rejected proposal leaves a rejection event naming why).
    """
    applied: set[str] = set()
    update: dict[str, Any] = {}
    market_names = sorted(n for n in changes if n in market_params)
    for name in market_names:
        _merge(update, market_params[name](params))
    if update:
        pid = sim.futures.propose_market_update(market, update, sim.now + 1.5 * step_seconds)
        if pid:
            applied.update(market_names)
    agents = list(agents)
    for name, (_old, new) in changes.items():
        spec = AGENT_PARAMS.get(name)
        if spec is None:
            continue
        prefixes, attr = spec
        for a in agents:
            if a.name.startswith(prefixes) and hasattr(a, attr):
                setattr(a, attr, new)
        applied.add(name)
    return applied
