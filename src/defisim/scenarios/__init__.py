"""Registry of named scenarios (built-ins register themselves on import)."""

from . import (  # noqa: F401  (importing a module registers its scenarios)
    amm_arbitrage,
    amm_pool,
    amm_vs_orderbook,
    btc_futures,
    comprehensive_market,
    compute_marketplace,
    fee_risk_study,
    fuzz,
    historic_market_maker,
    ideal_market_maker,
    liquidation_cascade,
    load_test,
    lp_competition,
    market_crash,
    mev_sandwich,
    perp_btc,
    rmsc04,
    uniswap_v3_day,
)
from .base import Scenario, ScenarioParams, get_scenario, register, scenario_names
from .netlists import (  # noqa: F401  (registers the netlists)
    community_growth_public_funding_ps,
    growth_public_funding_ps,
    oceanv3,
    oceanv4,
    opsci_mult_profit_sharing,
    opsci_mult_time_profit_sharing,
    opsci_naive,
    opsci_profit_sharing,
    opsci_public_funding_ps,
    scheduler,
    simplepool,
    wsloop,
)
from .simplegrant import SimpleGrant  # noqa: F401  (registers simplegrant)

__all__ = ["Scenario", "ScenarioParams", "get_scenario", "register", "scenario_names"]
