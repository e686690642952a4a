"""The remote Simulation API: a live :class:`~defisim.service.Simulation` served over
HTTP (and a websocket) to agents in other processes or on other machines.

Routes (:func:`create_app`, or :func:`remote_router` to mount them in another app):

- ``POST /v1/call``: the body is one request of the service wire
  (:mod:`defisim.service.loopback`: ``{"op": "call"|"get"|"interface", "target",
  "name", "args", "kwargs"}`` encoded by :mod:`defisim.service.wire`); the answer is
  the wire response ``{"ok": value}`` or ``{"error": exception}``. The client is
  :class:`~defisim.service.remote.RemoteSimulation`.
- ``GET /v1/interface``: the interface (``{"ok": {target: {name: kind}}}``).
- ``POST /v1/step`` (body ``{"n": int}``, default 1) and ``POST /v1/finish``: the
  operator advances the hosted run (:class:`SimulationHost` with a runner's
  :class:`~defisim.runner.Run`); answers ``{"ok": {"step", "now_ns", "finished"}}``.
- ``POST /v1/metrics`` (a party's token; body, wire-encoded, ``{"metrics": {name:
  number}}``): an external agent reports its metrics (PnL, position, ...), kept in
  :attr:`SimulationHost.metrics` for a console; ``GET /v1/metrics`` (any valid token)
  answers ``{"ok": {party: {name: value}}}``.
- ``WS /v1/ws``: the same requests and responses as ``/v1/call``, one per message
  (a connection without a valid token is refused at the handshake: HTTP 403).

Every request carries a bearer token (``Authorization: Bearer <token>``; on the
websocket also ``?token=``). The host issues one per party
(:meth:`SimulationHost.register_party`, :meth:`SimulationHost.token_for`) and one
operator token. A view needs any valid token; a transaction needs its party's token
or the operator's (the rules: :mod:`defisim.server.access`); set-up and the clock are
the operator's.

Statuses (the body is always a wire response, so the client re-raises the same
exception types as the in-process loopback): 200 the call ran (an exception the
service raised is its answer, as in process); 400 malformed JSON, a payload the wire
refuses, a request of the wrong shape, or a party's transaction whose arguments do not
fit the method (they are bound to find its party; nothing ran); 401 no
or an unknown token (``PermissionError``); 403 a call for another party or an
operator's call (``PermissionError``; nothing ran); 404 a name that is not part of
the interface (``AttributeError`` with the reason); 409 stepping without a run, after
it finished, or a step that raised (the exception: an invariant violation, a failing
agent); 413 a body over :attr:`SimulationHost.max_request_bytes`; 503 no
simulation attached yet. Nothing a client sends makes a 500.

The host is :class:`~defisim.server.host.SimulationHost`. A lock serialises every
access to the simulation (calls, steps, the pacing thread
of :class:`~defisim.server.live.LiveRun`). The server binds ``127.0.0.1`` unless
told otherwise (:class:`ServerThread`, :func:`serve`).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from .host import MAX_REQUEST_BYTES, SimulationHost, wire_error

try:
    import uvicorn
    from fastapi import APIRouter, FastAPI, Request, WebSocket, WebSocketDisconnect
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import Response
except ImportError as exc:  # pragma: no cover - the serve extra is missing
    raise ImportError(f"defisim.server.remote needs fastapi and uvicorn ({exc}): "
                      "pip install 'defisim[serve]'") from exc

__all__ = ["DEFAULT_BIND", "MAX_REQUEST_BYTES", "ServerThread", "SimulationHost", "create_app",
           "remote_router", "serve"]

DEFAULT_BIND = "127.0.0.1"
"""Where the server listens unless told otherwise: this machine only."""


# ------------------------------------------------------------------- the app
def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


async def _body(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` once it exceeds ``limit`` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _reply(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="application/json")


def remote_router(host: SimulationHost) -> APIRouter:
    """The remote API's routes (module docstring) for ``host``."""
    router = APIRouter()
    too_big = ValueError(f"the request body is over {host.max_request_bytes} bytes")

    @router.post("/v1/call")
    async def call(request: Request) -> Response:
        body = await _body(request, host.max_request_bytes)
        if body is None:
            host.statuses[413] += 1
            return _reply(*wire_error(413, too_big))
        token = _bearer(request.headers.get("authorization"))
        # handled on the event loop: a call is short and holds the lock anyway, and a
        # hop to a worker thread costs more than most calls (GIL switches)
        return _reply(*host.handle(token, body))

    @router.get("/v1/interface")
    def interface(request: Request) -> Response:
        token = _bearer(request.headers.get("authorization"))
        return _reply(*host.handle(token, b'{"op": "interface"}'))

    @router.post("/v1/step")
    async def step(request: Request) -> Response:
        body = await _body(request, host.max_request_bytes)
        if body is None:
            return _reply(*wire_error(413, too_big))
        try:
            n = json.loads(body or b"{}").get("n", 1)
        except (ValueError, AttributeError, RecursionError):
            return _reply(*wire_error(400, ValueError('the body must be {"n": int}')))
        token = _bearer(request.headers.get("authorization"))
        return _reply(*await run_in_threadpool(host.advance, token, n))

    @router.post("/v1/finish")
    async def finish(request: Request) -> Response:
        token = _bearer(request.headers.get("authorization"))
        return _reply(*await run_in_threadpool(host.finish, token))

    @router.post("/v1/metrics")
    async def report_metrics(request: Request) -> Response:
        body = await _body(request, host.max_request_bytes)
        if body is None:
            return _reply(*wire_error(413, too_big))
        return _reply(*host.report_metrics(_bearer(request.headers.get("authorization")), body))

    @router.get("/v1/metrics")
    def read_metrics(request: Request) -> Response:
        return _reply(*host.read_metrics(_bearer(request.headers.get("authorization"))))

    @router.websocket("/v1/ws")
    async def ws(websocket: WebSocket) -> None:
        token = (_bearer(websocket.headers.get("authorization"))
                 or websocket.query_params.get("token"))
        try:
            host.caller(token)
        except PermissionError:
            await websocket.close(code=1008)  # before accept: the handshake gets a 403
            return
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                data = text.encode()
                if len(data) > host.max_request_bytes:
                    await websocket.send_text(wire_error(413, too_big)[1])
                    continue
                _, answer = host.handle(token, data)
                await websocket.send_text(answer)
        except WebSocketDisconnect:
            pass

    return router


def create_app(host: SimulationHost) -> FastAPI:
    """A FastAPI app serving ``host`` (the routes of :func:`remote_router`)."""
    app = FastAPI(title="defisim remote Simulation API", docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.include_router(remote_router(host))
    app.state.host = host
    return app


class ServerThread:
    """A uvicorn server for ``app`` in a daemon thread (tests, notebooks, a live run).

    Args:
        app: the ASGI app (:func:`create_app`).
        bind: the interface to listen on (default ``127.0.0.1``: this machine only;
            ``"0.0.0.0"`` exposes the API to the network: give it only behind TLS).
        port: the port (0: a free one; :attr:`url` tells which).

    Use as a context manager, or :meth:`start` / :meth:`stop`.

    Raises:
        RuntimeError: (``start``) the server did not start within 10 s.
    """

    def __init__(self, app: Any, bind: str = DEFAULT_BIND, port: int = 0) -> None:
        self.bind = bind
        config = uvicorn.Config(app, host=bind, port=port, log_level="warning",
                                lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="defisim-remote",
                                       daemon=True)
        self.port = port

    @property
    def url(self) -> str:
        """``http://<bind>:<port>``."""
        return f"http://{self.bind}:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        for _ in range(1000):
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.01)
        if not self.server.started:
            raise RuntimeError(f"the remote API did not start on {self.bind}:{self.port}")
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(host: SimulationHost, bind: str = DEFAULT_BIND, port: int = 8765) -> None:
    """Serve ``host`` until interrupted (blocking; ``127.0.0.1`` unless told otherwise)."""
    uvicorn.run(create_app(host), host=bind, port=port, log_level="info")
