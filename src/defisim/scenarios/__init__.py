"""Registry of named scenarios (built-ins register themselves on import)."""

from . import btc_futures  # noqa: F401  (registers btc_futures)
from .base import Scenario, ScenarioParams, get_scenario, register, scenario_names
from .simplegrant import SimpleGrant  # noqa: F401  (registers simplegrant)

__all__ = ["Scenario", "ScenarioParams", "get_scenario", "register", "scenario_names"]
