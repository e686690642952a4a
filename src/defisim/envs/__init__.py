"""Reinforcement-learning environments over defisim scenarios.

- :class:`TradingEnv`: a Gymnasium environment, one learning party trading among a
  scenario's agents (registered as ``defisim/Trading-v0``);
- :class:`AmmEnv`: a learning swapper or LP on an AMM pool (``defisim/Amm-v0``);
- :func:`make_vector_env`: many of them in one process (a Gymnasium vector env);
- :class:`MultiAgentTradingEnv`: a PettingZoo parallel environment with several
  learning parties (competing market makers, a maker against a taker, ...);
- :class:`ComputeMarketEnv`: a PettingZoo parallel environment where learning clients
  and providers negotiate compute jobs in ``compute_marketplace`` (compute spec 8);
- :class:`ComputeMarketAEC`: the same market as a PettingZoo AEC environment, turn by
  turn (spec 8's native view: the learner with the earliest pending decision moves);
- :class:`ComputeGymEnv`: its single-learner case as a Gymnasium environment
  (``defisim/Compute-v0``).

Episodes start from a snapshot of the scenario after its warm-up
(:class:`ScenarioSession`), reseeded per episode.
"""

try:
    import gymnasium
    import pettingzoo  # noqa: F401
except ImportError:  # one message naming the extra (defisim.extras)
    from defisim.extras import require

    require("rl", "gymnasium", "pettingzoo", feature="defisim.envs")
    raise

from .actions import ActionConfig
from .amm import AmmEnv, AmmEnvConfig
from .compute import ComputeEnvConfig, ComputeMarketEnv
from .compute_aec import ComputeMarketAEC
from .compute_gym import ComputeGymEnv
from .multi import MultiAgentTradingEnv
from .observations import DEFAULT_OBSERVATION, FEATURES, ObservationBuilder, ObservationError
from .rewards import RewardConfig
from .session import EnvSetupError, EpisodeState, ScenarioSession
from .trading import TradingEnv, TradingEnvConfig
from .vector import make_vector_env

ENV_ID = "defisim/Trading-v0"
"""The Gymnasium id of :class:`TradingEnv`: ``gymnasium.make(ENV_ID, scenario=...)``."""

AMM_ENV_ID = "defisim/Amm-v0"
"""The Gymnasium id of :class:`AmmEnv`: ``gymnasium.make(AMM_ENV_ID, mode="lp")``."""

COMPUTE_ENV_ID = "defisim/Compute-v0"
"""The Gymnasium id of :class:`ComputeGymEnv`: ``gymnasium.make(COMPUTE_ENV_ID,
learner="client0")``."""

if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="defisim.envs.trading:TradingEnv")
if AMM_ENV_ID not in gymnasium.registry:
    gymnasium.register(id=AMM_ENV_ID, entry_point="defisim.envs.amm:AmmEnv")
if COMPUTE_ENV_ID not in gymnasium.registry:
    gymnasium.register(id=COMPUTE_ENV_ID, entry_point="defisim.envs.compute_gym:ComputeGymEnv")

__all__ = [
    "AMM_ENV_ID",
    "COMPUTE_ENV_ID",
    "DEFAULT_OBSERVATION",
    "ENV_ID",
    "FEATURES",
    "ActionConfig",
    "AmmEnv",
    "AmmEnvConfig",
    "ComputeEnvConfig",
    "ComputeGymEnv",
    "ComputeMarketAEC",
    "ComputeMarketEnv",
    "EnvSetupError",
    "EpisodeState",
    "MultiAgentTradingEnv",
    "ObservationBuilder",
    "ObservationError",
    "RewardConfig",
    "ScenarioSession",
    "TradingEnv",
    "TradingEnvConfig",
    "make_vector_env",
]
