"""Registry of named scenarios (built-ins register themselves on import)."""

from .base import Scenario, ScenarioParams, get_scenario, register, scenario_names

__all__ = ["Scenario", "ScenarioParams", "get_scenario", "register", "scenario_names"]
