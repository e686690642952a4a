"""``defisim serve``: a read-only web server over a run (issue 15).

- :mod:`defisim.server.data`: the :class:`RunData` interface (rows shaped like the run
  store's tables) and :class:`DuckDBRunData`, a finished run folder opened read-only;
  core install only.
- :mod:`defisim.server.types`, :mod:`defisim.server.schema`: the GraphQL schema
  (strawberry; Query only), ``serve`` extra.
- :mod:`defisim.server.app`: :func:`create_app`, the FastAPI app (``/graphql``,
  ``/health``, request limits), ``serve`` extra.

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
