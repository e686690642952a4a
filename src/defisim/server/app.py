"""The web app of ``defisim serve``: FastAPI with the GraphQL router over a run.

Routes:

- ``/graphql``: the read-only schema (:mod:`defisim.server.schema`); POST a JSON body
  ``{"query": ..., "variables": ...}`` or GET with ``?query=``; a browser gets GraphiQL.
- ``/health``: ``{"status": "ok", "scenario": ..., "complete": ...}``.

Safety (issue 15): the CLI binds to 127.0.0.1 unless told otherwise; nothing here
changes the run (Query only, the database opened read-only); a request body over
``max_body_bytes`` (default 64 KiB) is refused with 413 before anything parses it, a
query string over the same size with 414; malformed JSON is a 400 (strawberry's);
a query too deep, with too many aliases or tokens, or asking for too large a page is a
GraphQL error (the schema's limits). Resolvers are synchronous: the run file is local
and each page is at most a thousand rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from defisim.extras import require

from .data import DuckDBRunData, RunData
from .schema import build_schema

fastapi = require("serve", "fastapi", feature="defisim serve")
_router = require("serve", "strawberry.fastapi", feature="defisim serve")
_responses = require("serve", "starlette.responses", feature="defisim serve")

MAX_BODY_BYTES = 64 * 1024
"""The largest request body (and query string) accepted, in bytes."""


class BodyLimit:
    """ASGI middleware: refuse an HTTP request whose body is over ``max_bytes`` (413)
    or whose query string is (414), reading at most ``max_bytes + 1`` bytes of it.

    A ``Content-Length`` over the limit is refused without reading; a streamed
    (chunked) body is buffered up to the limit and handed to the app whole.
    """

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_bytes:
            await self._refuse(scope, receive, send, 414, "query string too long")
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await self._refuse(scope, receive, send, 400, "bad Content-Length")
                return
            if declared > self.max_bytes:
                await self._refuse(scope, receive, send, 413, self._too_large())
                return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(scope, receive, send, 413, self._too_large())
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"request body over {self.max_bytes} bytes"

    @staticmethod
    async def _refuse(scope: dict, receive: Any, send: Any, status: int, detail: str) -> None:
        await _responses.JSONResponse({"detail": detail}, status_code=status)(
            scope, receive, send)


def graphql_router(source: RunData, *, graphiql: bool = True) -> Any:
    """The read-only GraphQL router over ``source`` (mount it at ``/graphql``)."""
    context = {"data": source}
    return _router.GraphQLRouter(build_schema(), context_getter=lambda: context,
                                 graphql_ide="graphiql" if graphiql else None)


def create_app(run_dir: str | Path | None = None, *, data: RunData | None = None,
               max_body_bytes: int = MAX_BODY_BYTES, graphiql: bool = True) -> Any:
    """The FastAPI app serving one run.

    Args:
        run_dir: a finished run folder (opened read-only with :class:`DuckDBRunData`).
        data: instead of ``run_dir``, any :class:`RunData` (a live source, a test's).
        max_body_bytes: the largest request body and query string (bytes).
        graphiql: serve GraphiQL to browsers at ``/graphql``.

    Returns:
        a ``fastapi.FastAPI`` (an ASGI app, wrapped in :class:`BodyLimit`; its
        ``state.data`` is the source).

    Raises:
        RunDataError: the run folder cannot be served (see :class:`DuckDBRunData`).
        ValueError: neither or both of ``run_dir`` and ``data``; ``max_body_bytes`` < 1.
    """
    if (run_dir is None) == (data is None):
        raise ValueError("give run_dir or data (one of them)")
    if max_body_bytes < 1:
        raise ValueError(f"max_body_bytes must be 1 or more, got {max_body_bytes}")
    source: RunData = data if data is not None else DuckDBRunData(run_dir)  # type: ignore[arg-type]
    app = fastapi.FastAPI(title="defisim serve", docs_url=None, redoc_url=None,
                          openapi_url=None)
    app.state.data = source
    app.include_router(graphql_router(source, graphiql=graphiql), prefix="/graphql")

    @app.get("/health")
    def health() -> dict[str, Any]:
        info = source.info()
        return {"status": "ok", "scenario": info.get("scenario"),
                "complete": info.get("complete")}

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app
