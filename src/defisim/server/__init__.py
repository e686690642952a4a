"""The server layer: runs served over HTTP (issue 15).

- :mod:`defisim.server.data`: the :class:`RunData` interface (rows shaped like the run
  store's tables) and :class:`DuckDBRunData`, a finished run folder opened read-only;
  core install only.
- :mod:`defisim.server.types`, :mod:`defisim.server.schema`: the GraphQL schema
  (strawberry; Query only), ``serve`` extra.
- :mod:`defisim.server.app`: :func:`create_app`, the FastAPI app (``/graphql``,
  ``/health``, request limits), ``serve`` extra.
- :mod:`defisim.server.remote`: the remote Simulation API (``RemoteSimulation``'s
  server: per-party tokens, operator steps, a websocket), with
  :mod:`defisim.server.host` (tokens, the lock), :mod:`defisim.server.access` (which
  call acts for which party) and :mod:`defisim.server.live` (a scenario's run hosted
  live, stepped by a pacing thread or the operator); ``serve`` extra.
- :mod:`defisim.server.console`: the live web console (``defisim serve``'s page at
  ``/``, its websocket feed and the operator's controls), ``serve`` extra; its frames
  come from :mod:`defisim.server.console_frame` (a live run, through the
  Simulation's views) and :mod:`defisim.server.console_recorded` (a run folder,
  through :class:`RunData`), core install only.

Layer: above ``runner``/``replay``, below ``envs`` (tests/test_layers.py). This package
imports nothing of the ``serve`` extra itself, so ``import defisim.server`` works on the
core install; ``create_app`` is imported on first use.
"""

from __future__ import annotations

from typing import Any

from .data import DuckDBRunData, RunData, RunDataError, Where

__all__ = ["DuckDBRunData", "RunData", "RunDataError", "Where", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":  # needs the serve extra: import it only when asked
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
