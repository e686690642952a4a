"""A Gymnasium environment over any scenario: one learning party trades among the
scenario's agents.

Each env step: the learner's action becomes orders in the open block
(:mod:`~defisim.envs.actions`), then ``steps_per_action`` scenario steps run (every
due agent acts, blocks close: mark-to-market, auctions, closeouts), then the
observation (:mod:`~defisim.envs.observations`) and reward
(:mod:`~defisim.envs.rewards`) are read. An episode is ``episode_steps`` env steps
from the scenario's warmed-up snapshot (:mod:`~defisim.envs.session`); it
terminates early when the learner is ruined (equity at or below
``ruin_fraction`` of its collateral, e.g. after a closeout).

``reset(seed=s)`` restores the snapshot and reseeds it with ``s`` (no rebuild):
the same seed gives the same first observation and, under the same actions, the
same episode, bit for bit. Without a seed, episodes draw seeds from the env's own
generator (seeded by the first ``reset(seed=...)``, else by ``base_seed``).

``info`` at every step: ``pnl`` (learner PnL since the start of the episode, asset
units), ``position`` (contracts), ``equity``, ``mid``, ``sent`` and ``rejected``
(orders this step), ``traded`` (contracts filled this step), ``step``. Stepping a
finished episode raises ``RuntimeError``: call ``reset``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .actions import ActionConfig, OrderSender
from .observations import DEFAULT_OBSERVATION, LearnerView, ObservationBuilder
from .rewards import RewardConfig, RewardTracker
from .session import EnvSetupError, ScenarioSession


class TradingEnvConfig(BaseModel):
    """Parameters of :class:`TradingEnv` (and of each learner of the multi-agent env)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = "btc_futures"
    scenario_params: dict[str, Any] = Field(default_factory=dict)
    """Overrides of the scenario's parameters."""
    market: str | None = None
    """Market traded (default: the scenario's first)."""
    learner: str = "learner"
    """Party name of the learning agent."""
    collateral: float = Field(100_000.0, gt=0)
    """Learner's deposit in the market's settlement asset."""
    warmup_steps: int = Field(5, ge=0)
    """Scenario steps before the snapshot episodes start from."""
    episode_steps: int = Field(100, ge=1)
    """Env steps per episode."""
    steps_per_action: int = Field(1, ge=1)
    """Scenario steps per env step."""
    observation: tuple[str, ...] = DEFAULT_OBSERVATION
    action: ActionConfig = Field(default_factory=ActionConfig)
    reward: RewardConfig = Field(default_factory=RewardConfig)
    base_seed: int = Field(0, ge=0)
    """Seed the scenario is built and warmed up with."""
    ruin_fraction: float = Field(0.05, ge=0, lt=1)
    """Terminate when equity <= this fraction of the collateral."""
    check_invariants: bool = False


def parse_config(config: TradingEnvConfig | dict[str, Any] | None,
                 overrides: dict[str, Any]) -> TradingEnvConfig:
    """A validated config from a config, a dict and keyword overrides.

    Raises:
        EnvSetupError: unknown or badly typed parameters (one line naming them).
    """
    base = config.model_dump() if isinstance(config, TradingEnvConfig) else dict(config or {})
    base.update(overrides)
    try:
        return TradingEnvConfig(**base)
    except ValidationError as exc:
        errs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise EnvSetupError(f"bad environment parameters: {errs}") from None


_SESSIONS: dict[str, ScenarioSession] = {}


def shared_session(cfg: TradingEnvConfig, learners: dict[str, float]) -> ScenarioSession:
    """The :class:`ScenarioSession` of ``cfg`` (built once per process and reused by
    every environment with the same scenario, warm-up and learners)."""
    key = repr((cfg.scenario, sorted(cfg.scenario_params.items()), cfg.market,
                sorted(learners.items()), cfg.warmup_steps,
                cfg.episode_steps * cfg.steps_per_action, cfg.base_seed, cfg.check_invariants))
    s = _SESSIONS.get(key)
    if s is None:
        s = _SESSIONS[key] = ScenarioSession(
            cfg.scenario, cfg.scenario_params, learners, cfg.market, cfg.warmup_steps,
            cfg.episode_steps * cfg.steps_per_action, cfg.base_seed, cfg.check_invariants)
    return s


def check_features(learner: Learner) -> None:
    """Start the learner on the snapshot and write one observation, so a feature the
    scenario cannot give (a reference price without a feed) or an order size below the
    market's lot fails at construction, not at ``reset``.

    Raises:
        EnvSetupError: naming the feature's problem.
    """
    try:
        learner.start(learner.session.restore(learner.cfg.base_seed))
        learner.observe()
    except ValueError as exc:  # ObservationError, or the order sender's size check
        raise EnvSetupError(f"learner {learner.party!r}: {exc}") from None
    finally:
        learner.view = None


class Learner:
    """One learning party inside an episode: its view, order sender and reward."""

    def __init__(self, cfg: TradingEnvConfig, party: str, session: ScenarioSession,
                 builder: ObservationBuilder) -> None:
        self.cfg = cfg
        self.party = party
        self.session = session
        self.builder = builder
        self.view: LearnerView | None = None

    def start(self, state) -> None:
        cfg = self.cfg
        self.view = LearnerView(self.party, self.session.market, self.session.asset, state,
                                0, cfg.episode_steps, deque(maxlen=self.builder.history))
        self.view.mids.append(self.view.mid())
        self.sender = OrderSender(cfg.action, self.view)
        self.start_pnl = self.view.pnl()
        self.tracker = RewardTracker(cfg.reward, cfg.collateral, self.start_pnl)
        self.last_counts = {"sent": 0, "rejected": 0, "traded": 0}

    def observe(self) -> np.ndarray:
        return self.builder.write(self.view)

    def finish_step(self, last: bool) -> tuple[float, bool, dict[str, Any]]:
        v = self.view
        v.mids.append(v.mid())
        equity_raw = v.equity_raw()
        pnl = (equity_raw - v.minted) / v.money_scale
        equity = equity_raw / v.money_scale
        pos = v.position()
        ruined = equity <= self.cfg.ruin_fraction * self.cfg.collateral
        reward = self.tracker.reward(pnl, pos, last or ruined)  # ruin ends the episode too
        c = self.last_counts
        info = {"pnl": pnl - self.start_pnl, "position": pos, "equity": equity,
                "mid": v.mids[-1], "step": v.step, "sent": c["sent"], "rejected": c["rejected"],
                "traded": c["traded"] / v.size_scale}
        return float(reward), ruined, info


class TradingEnv(gym.Env):
    """One learning party in a scenario (module docstring).

    Args:
        config: a :class:`TradingEnvConfig` or a dict of its fields.
        render_mode: ``None`` or ``"ansi"`` (a one-line text summary).
        **overrides: config fields given directly, e.g.
            ``TradingEnv(scenario="btc_futures", episode_steps=200)``.

    Spaces: ``observation_space`` is a ``Box(-inf, inf, (n,), float32)`` with
    ``n`` the size of the chosen features (names in :attr:`observation_names`);
    ``action_space`` as :class:`ActionConfig` says.

    Raises:
        EnvSetupError: bad parameters, unknown scenario/market/feature, or a
            learner name the scenario already uses.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(self, config: TradingEnvConfig | dict[str, Any] | None = None,
                 render_mode: str | None = None, **overrides: Any) -> None:
        super().__init__()
        cfg = parse_config(config, overrides)
        self.config = cfg
        try:
            builder = ObservationBuilder(list(cfg.observation))
        except ValueError as exc:
            raise EnvSetupError(str(exc)) from None
        self.session = shared_session(cfg, {cfg.learner: cfg.collateral})
        self.learner = Learner(cfg, cfg.learner, self.session, builder)
        check_features(self.learner)
        self.observation_names = builder.names
        self.action_names = cfg.action.names()
        self.observation_space = spaces.Box(-np.inf, np.inf, (builder.size,), np.float32)
        self.action_space = cfg.action.space()
        self.render_mode = render_mode
        self.state = None
        self._seed_rng = np.random.default_rng(cfg.base_seed)
        self._step = 0
        self._done = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Restore the warmed-up snapshot reseeded with ``seed`` (module docstring).

        Returns:
            ``(observation, info)``.
        """
        super().reset(seed=seed)
        if seed is not None:
            self._seed_rng = np.random.default_rng(seed)
            episode_seed = int(seed)
        else:
            episode_seed = int(self._seed_rng.integers(0, 2**63 - 1))
        self.state = self.session.restore(episode_seed)
        self.learner.start(self.state)
        self._step = 0
        self._done = False
        info = {"pnl": 0.0, "position": self.learner.view.position(),
                "equity": self.learner.view.equity(), "mid": self.learner.view.mids[-1],
                "step": 0, "seed": episode_seed}
        return self.learner.observe(), info

    def step(self, action):
        """Apply ``action``, run ``steps_per_action`` scenario steps, observe.

        Returns:
            ``(observation, reward, terminated, truncated, info)``; ``terminated``
            at the episode's last step or on ruin, ``truncated`` never.

        Raises:
            RuntimeError: ``step`` before ``reset``.
            ValueError: an action outside the action space.
        """
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if self._done:
            raise RuntimeError("the episode has ended (terminated); call reset()")
        ln = self.learner
        ln.last_counts = ln.sender.apply(action)
        self.state.advance(self.config.steps_per_action, self.session.step_ns)
        self._step += 1
        ln.view.step = self._step
        last = self._step >= self.config.episode_steps
        reward, ruined, info = ln.finish_step(last)
        self._done = bool(last or ruined)
        return ln.observe(), reward, self._done, False, info

    def render(self):
        if self.render_mode == "ansi" and self.state is not None:
            v = self.learner.view
            return (f"step {self._step}/{self.config.episode_steps} mid {v.mids[-1]:.2f} "
                    f"position {v.position():g} pnl {v.pnl() - self.learner.start_pnl:.2f}")
        return None
