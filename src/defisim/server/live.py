"""A live run: a scenario's :class:`~defisim.runner.Run` in the server process, with
external agents acting on it through the remote API between its steps.

Time advances one of two ways:

- **by the runner**: ``LiveRun(scenario, pace_s=0.05)`` steps the run from a
  background thread every ``pace_s`` seconds of wall time (wall time only paces the
  steps; the simulation's clock is the run's), and finishes it after its last step;
- **by an operator**: without ``pace_s`` nothing moves until the operator calls
  ``POST /v1/step`` (or :meth:`LiveRun.step` in process). Stepped this way, with the
  external agents acting in a fixed order between steps, a live run is as
  deterministic as an in-process one.

A paced run can be paused (:meth:`LiveRun.pause`), resumed and re-paced
(:meth:`LiveRun.set_pace`) from any thread; the operator may still step it while it is
paused (the live console's controls, :mod:`defisim.server.console`).

The scenario's own agents act inside each step, as in any run; each step holds the
host's lock, so an external call happens wholly before or after a step.

Example::

    live = LiveRun(get_scenario("btc_futures")(...), seed=1)
    token = live.host.register_party("alice", {"USDT": 1e6})
    with live.serve() as server:      # http://127.0.0.1:<port>
        ...                           # agents: RemoteSimulation(server.url, token=token)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from defisim.runner import Run

from .host import SimulationHost
from .remote import DEFAULT_BIND, ServerThread, create_app

__all__ = ["LiveRun"]


class LiveRun:
    """A scenario's run hosted for remote agents (module docstring).

    Args:
        scenario: a constructed scenario.
        seed: the run's seed.
        pace_s: seconds of wall time between steps (``None``: the operator steps).
        operator_token: the operator's token (default: a fresh random one).
        sinks, hooks: added to the run (a store's recorder, per-step measurements).
        run_options: more :class:`~defisim.runner.Run` options (``check_invariants``).

    Attributes:
        run: the :class:`~defisim.runner.Run` (started: the agents' ``initialise`` ran).
        host: its :class:`~defisim.server.remote.SimulationHost` (tokens, the lock).
        error: the exception that stopped the pacing thread, if one did.

    Raises:
        ValueError: ``pace_s`` not > 0; the run's set-up errors (``RunSetupError``).
    """

    def __init__(self, scenario: Any, seed: int = 0, *, pace_s: float | None = None,
                 operator_token: str | None = None, sinks: Iterable[Any] = (),
                 hooks: Iterable[Any] = (), **run_options: Any) -> None:
        if pace_s is not None and not pace_s > 0:
            raise ValueError(f"pace_s must be > 0 (or None: the operator steps), got {pace_s!r}")
        self.run = Run(scenario, seed, **run_options)
        self.run.sinks.extend(sinks)
        self.run.hooks.extend(hooks)
        self.host = SimulationHost(run=self.run, operator_token=operator_token)
        self.pace_s = pace_s
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # set: the pacing thread re-reads pace and pause now
        self._paused = threading.Event()
        self._thread: threading.Thread | None = None
        with self.host.lock:
            self.run.start()

    # ------------------------------------------------------------- the clock
    def step(self, n: int = 1) -> None:
        """``n`` more steps now (the operator's step, in process)."""
        with self.host.lock:
            self.run.advance(n)

    def finish(self) -> None:
        """Finish the run (``scenario.finish``, the agents' ``finalise``, the last
        record) unless it has finished."""
        with self.host.lock:
            if not self.run.finished:
                self.run.finish()

    def start(self) -> LiveRun:
        """Start the pacing thread (nothing without ``pace_s``)."""
        if self.pace_s is not None and self._thread is None:
            self._thread = threading.Thread(target=self._pace, name="defisim-live-run",
                                            daemon=True)
            self._thread.start()
        return self

    @property
    def paused(self) -> bool:
        """Whether the pacing thread is paused (:meth:`pause`)."""
        return self._paused.is_set()

    def pause(self) -> None:
        """Stop the pacing thread's steps after the step under way (thread-safe)."""
        self._paused.set()
        self._wake.set()

    def resume(self) -> None:
        """Let the pacing thread step again (thread-safe); starts it if it was not."""
        self._paused.clear()
        self._wake.set()
        self.start()

    def set_pace(self, pace_s: float) -> None:
        """Seconds of wall time between paced steps from now on (thread-safe).

        Raises:
            ValueError: ``pace_s`` not a finite number > 0.
        """
        if not (isinstance(pace_s, int | float) and 0 < pace_s < float("inf")):
            raise ValueError(f"pace_s must be a finite number > 0, got {pace_s!r}")
        self.pace_s = float(pace_s)
        self._wake.set()

    def _pace(self) -> None:
        run = self.run
        try:
            while True:
                woken = self._wake.wait(self.pace_s)
                self._wake.clear()
                if self._stop.is_set():
                    return
                if woken or self._paused.is_set():
                    continue  # a new pace or a pause: wait again (a full pace from now)
                with self.host.lock:
                    if run.finished:
                        return
                    if run.step >= run.steps:
                        run.finish()
                        return
                    run.advance(1)
        except BaseException as exc:  # kept for the operator; the run stops stepping
            self.error = exc

    def stop(self, finish: bool = True) -> None:
        """Stop the pacing thread and (``finish``) finish the run."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if finish:
            self.finish()

    # ------------------------------------------------------------- serving
    def serve(self, bind: str = DEFAULT_BIND, port: int = 0) -> ServerThread:
        """The remote API of this run in a server thread (not started: use it as a
        context manager); ``127.0.0.1`` unless told otherwise."""
        return ServerThread(create_app(self.host), bind=bind, port=port)

    def __enter__(self) -> LiveRun:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
