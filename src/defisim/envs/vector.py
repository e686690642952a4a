"""Many :class:`~defisim.envs.trading.TradingEnv` at once, as a Gymnasium vector env.

In one process (``SyncVectorEnv``) every copy shares the same warmed-up snapshot
(:func:`~defisim.envs.trading.shared_session`: the scenario is built once), so
creating 64 environments costs one build. ``asynchronous=True`` gives an
``AsyncVectorEnv``: one worker process per copy (each builds its own snapshot),
for machines with cores to spare.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium

from .trading import TradingEnv, TradingEnvConfig, parse_config


def make_vector_env(num_envs: int, config: TradingEnvConfig | dict[str, Any] | None = None,
                    *, asynchronous: bool = False, **overrides: Any) -> gymnasium.vector.VectorEnv:
    """``num_envs`` trading environments with the same configuration.

    ``reset(seed=s)`` seeds copy ``i`` with ``s + i`` (Gymnasium's convention), so
    the copies play different episodes. Finished copies reset themselves on the
    next step (Gymnasium's next-step autoreset).

    Raises:
        ValueError: ``num_envs < 1``.
        EnvSetupError: bad parameters (checked before any copy is made).
    """
    if num_envs < 1:
        raise ValueError(f"num_envs must be >= 1, got {num_envs}")
    cfg = parse_config(config, overrides)
    fns = [functools.partial(TradingEnv, cfg.model_dump()) for _ in range(num_envs)]
    if asynchronous:
        return gymnasium.vector.AsyncVectorEnv(fns)
    return gymnasium.vector.SyncVectorEnv(fns)
