"""Paper trading: a trained policy trades a live run from outside, through the remote API.

:class:`RemotePolicyTrader` is an external agent: it holds a
:class:`~defisim.service.remote.RemoteSimulation` (or any object with the
``Simulation`` interface) and, each env step, builds the observation the training
environment would build (:class:`~defisim.envs.observations.ObservationBuilder` on a
:class:`~defisim.envs.observations.LearnerView` over the service's views only),
asks the policy for an action and sends its orders with the environment's action
mapping (:class:`~defisim.envs.actions.OrderSender`). After the run has moved on
(``steps_per_action`` scenario steps) it reads its PnL, position and equity,
computes the Sharpe ratio so far and reports them to the host (``POST /v1/metrics``,
:class:`MetricsReporter`), where a console shows them.

The features that read the scenario's feed object (``reference_price``,
``reference_lookahead:K``) are not service views: a checkpoint trained on them cannot
trade remotely (:class:`ValueError` at construction).

:func:`load_checkpoint_policy` reads a ``defisim train`` folder's checkpoint and its
``env.json`` (the observation, action and episode settings the policy was trained
with) into a greedy policy (the most probable action, as ``defisim evaluate``).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from defisim.envs.actions import ActionConfig, OrderSender
from defisim.envs.observations import LearnerView, ObservationBuilder
from defisim.metrics import periods_per_year, returns_from_pnl, sharpe_ratio
from defisim.service import wire

from .sac import DiscreteSAC
from .workflow import ENV_FILE

__all__ = ["MetricsReporter", "PaperPolicy", "RemotePolicyTrader", "load_checkpoint_policy"]

log = logging.getLogger("defisim.learning.paper")

REMOTE_UNAVAILABLE = ("reference_price", "reference_lookahead")
"""Observation features that read the scenario's objects, not the service."""


@dataclass
class PaperPolicy:
    """A trained policy and the environment settings it was trained with.

    Attributes:
        act: observation ``float32 [D]`` -> action (greedy, deterministic).
        env: the checkpoint's ``env.json`` (a :class:`~defisim.envs.TradingEnvConfig` dump).
        agent: the :class:`DiscreteSAC` (``None`` for a policy built otherwise).
    """

    act: Callable[[np.ndarray], int]
    env: dict[str, Any]
    agent: DiscreteSAC | None = None


def load_checkpoint_policy(checkpoint: str | Path) -> PaperPolicy:
    """The greedy policy of a checkpoint (``.pt``, or a training folder's latest) and
    its ``env.json``.

    Raises:
        FileNotFoundError: no checkpoint or no ``env.json`` beside ``checkpoints/``.
        ValueError: not a DiscreteSAC checkpoint.
    """
    path = Path(checkpoint)
    if path.is_dir():
        path = path / "checkpoints" / "latest.pt"
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {checkpoint}")
    env_path = path.parent.parent / ENV_FILE
    if not env_path.is_file():
        raise FileNotFoundError(f"{env_path} not found: paper trading needs the env.json "
                                "written by defisim train beside checkpoints/")
    agent = DiscreteSAC.load(path)
    return PaperPolicy(lambda obs: agent.act(obs, deterministic=True),
                       json.loads(env_path.read_text()), agent)


class MetricsReporter:
    """Posts a party's metrics to ``<url>/v1/metrics`` (wire-encoded; see
    :mod:`defisim.server.remote`). A failed post is logged and counted in
    :attr:`failures`, never raised: reporting must not stop the trading.

    Args:
        url: the server's base URL. token: the party's token.
        client: an ``httpx.Client`` (default a new one; closed by :meth:`close`).
    """

    def __init__(self, url: str, token: str, client: Any = None, timeout: float = 10.0) -> None:
        import httpx

        self.url = url.rstrip("/") + "/v1/metrics"
        self.headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        self._owned = client is None
        self.client = client if client is not None else httpx.Client(timeout=timeout)
        self.failures = 0
        self.last_error: str | None = None

    def __call__(self, metrics: dict[str, float]) -> bool:
        try:
            r = self.client.post(self.url, content=wire.encode({"metrics": metrics}),
                                 headers=self.headers)
            if r.status_code == 200:
                return True
            self.last_error = f"HTTP {r.status_code}: {r.text[:200]}"
        except Exception as exc:  # network trouble: report, keep trading
            self.last_error = f"{type(exc).__name__}: {exc}"
        self.failures += 1
        log.warning("metrics not reported: %s", self.last_error)
        return False

    def close(self) -> None:
        if self._owned:
            self.client.close()


class _ServiceState:
    """What :class:`LearnerView` needs of an episode: the simulation (here a remote
    one); there is no scenario object on this side."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        self.scenario = None


class RemotePolicyTrader:
    """A policy trading through the service from outside (module docstring).

    Args:
        sim: the simulation interface (a :class:`~defisim.service.remote.RemoteSimulation`
            holding the party's token, or an in-process ``Simulation``).
        party: the trading party (registered and funded by the host).
        policy: observation ``float32 [D]`` -> action of the action space.
        market: the futures market traded.
        observation: feature names (the checkpoint's ``env.json`` ``observation``).
        action: the :class:`~defisim.envs.actions.ActionConfig` (or its dict).
        episode_steps: env steps of the ``time_left`` feature's episode.
        capital: the party's collateral (asset units), the base of the returns.
        step_seconds: seconds of simulated time per env step (annualises the Sharpe).
        report: called with the metrics after each step (a :class:`MetricsReporter`).

    Attributes:
        metrics: the latest metrics: ``step``, ``action``, ``pnl`` (since
            :meth:`begin`, asset units), ``position`` (contracts), ``equity``,
            ``mid``, ``sharpe`` (annualised, 365-day year, of the per-step returns of
            ``capital + pnl``; NaN with fewer than 2 returns or none varying),
            ``sent``, ``rejected``.
        actions, observations: every action taken and observation seen.

    Raises:
        ValueError: a feature that reads the scenario (:data:`REMOTE_UNAVAILABLE`), an
            unknown feature, an order size below the market's lot.
    """

    def __init__(self, sim: Any, party: str, policy: Callable[[np.ndarray], Any], *,
                 market: str, observation: list[str] | tuple[str, ...],
                 action: ActionConfig | dict[str, Any], episode_steps: int, capital: float,
                 step_seconds: float, report: Callable[[dict[str, float]], Any] | None = None
                 ) -> None:
        bad = [f for f in observation if f.split(":")[0] in REMOTE_UNAVAILABLE]
        if bad:
            raise ValueError(f"observation features {bad} read the scenario's feed, not the "
                             "service's views; a policy trained on them cannot trade remotely")
        self.sim = sim
        self.party = party
        self.policy = policy
        self.market = market
        self.builder = ObservationBuilder(list(observation))
        self.action_config = action if isinstance(action, ActionConfig) else ActionConfig(**action)
        self.episode_steps = int(episode_steps)
        self.capital = float(capital)
        self.step_seconds = float(step_seconds)
        self.report = report
        self.view: LearnerView | None = None
        self.metrics: dict[str, float] = {}
        self.actions: list[Any] = []
        self.observations: list[np.ndarray] = []
        self._pnl: list[float] = []

    def begin(self) -> np.ndarray:
        """Start: read the market's units, the first mid and PnL; the first observation."""
        asset = self.sim.futures.market_view(self.market).asset
        self.view = LearnerView(self.party, self.market, asset, _ServiceState(self.sim), 0,
                                self.episode_steps, deque(maxlen=self.builder.history))
        self.view.mids.append(self.view.mid())
        self.sender = OrderSender(self.action_config, self.view)
        self.start_pnl = self.view.pnl()
        self._pnl = [0.0]
        return self.observe()

    def observe(self) -> np.ndarray:
        """The observation now, ``float32 [D]``."""
        return self.builder.write(self.view)

    def act(self) -> Any:
        """Observe, ask the policy, send the orders; returns the action."""
        obs = self.observe()
        action = self.policy(obs)
        self.counts = self.sender.apply(action)
        self.observations.append(obs)
        self.actions.append(action)
        return action

    def after_step(self) -> dict[str, float]:
        """After the run moved one env step: the metrics (reported, if a reporter)."""
        v = self.view
        v.step += 1
        v.mids.append(v.mid())
        pnl = v.pnl() - self.start_pnl
        self._pnl.append(pnl)
        sharpe = math.nan
        if len(self._pnl) >= 3:
            r = returns_from_pnl(np.asarray(self._pnl), self.capital)
            sharpe = sharpe_ratio(r, periods_per_year=periods_per_year(self.step_seconds))
        c = self.counts
        self.metrics = {"step": float(v.step), "action": float(np.asarray(self.actions[-1])
                                                                .reshape(-1)[0]),
                        "pnl": pnl, "position": v.position(), "equity": v.equity(),
                        "mid": v.mids[-1], "sharpe": sharpe,
                        "sent": float(c["sent"]), "rejected": float(c["rejected"])}
        if self.report is not None:
            self.report(self.metrics)
        return self.metrics

    def run(self, steps: int, step_ns: int, *, steps_per_action: int = 1,
            stall_s: float = 30.0, stop: threading.Event | None = None) -> int:
        """Trade ``steps`` env steps of a paced live run: act, wait until the run's
        clock has moved ``steps_per_action`` steps of ``step_ns``, read the metrics.
        Ends early when the clock has not moved for ``stall_s`` wall seconds (the run
        finished) or ``stop`` is set. Returns the env steps traded."""
        if self.view is None:
            self.begin()
        done = 0
        for _ in range(steps):
            t0 = self.sim.now_ns
            self.act()
            target = t0 + steps_per_action * step_ns
            deadline = time.monotonic() + stall_s
            while self.sim.now_ns < target:
                if (stop is not None and stop.is_set()) or time.monotonic() > deadline:
                    return done
                time.sleep(0.005)
            self.after_step()
            done += 1
        return done
