"""Learning agents for defisim environments: transition datasets and offline SAC.

- :mod:`.rollout`: running a policy in a Gymnasium env (1-D ``Box`` observations,
  ``Discrete(n)`` actions), the seeding convention, episode statistics.
- :mod:`.transitions`: SARSA tuples recorded to self-describing Parquet files,
  read back as torch tensors (:class:`TransitionDataset`).
- :mod:`.sac`: :class:`DiscreteSAC`, soft actor-critic for discrete actions
  (Haarnoja et al. 2018; Christodoulou 2019), trained offline on a dataset.
- :mod:`.train`: :func:`train_offline`, alternating collection and fitting, with
  checkpoints, a log and a plot; :func:`evaluate_policy`.
"""

try:
    import gymnasium  # noqa: F401
    import torch  # noqa: F401
except ImportError:  # one message naming the extra (defisim.extras)
    from defisim.extras import require

    require("rl", "torch", "gymnasium", feature="defisim.learning")
    raise

from .rollout import EpisodeStats, check_spaces, epsilon_greedy, random_policy, run_episode
from .sac import DiscreteSAC, ObservationNormalizer, SACConfig
from .train import (
    EvaluationResult,
    TrainConfig,
    TrainResult,
    evaluate_policy,
    load_config,
    plot_training_curve,
    read_log,
    train_offline,
)
from .transitions import (
    TransitionBatch,
    TransitionDataset,
    TransitionSchema,
    TransitionWriter,
    collect_transitions,
    read_transitions,
)

__all__ = [
    "DiscreteSAC",
    "EpisodeStats",
    "EvaluationResult",
    "ObservationNormalizer",
    "SACConfig",
    "TrainConfig",
    "TrainResult",
    "TransitionBatch",
    "TransitionDataset",
    "TransitionSchema",
    "TransitionWriter",
    "check_spaces",
    "collect_transitions",
    "epsilon_greedy",
    "evaluate_policy",
    "load_config",
    "plot_training_curve",
    "random_policy",
    "read_log",
    "read_transitions",
    "run_episode",
    "train_offline",
]
