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

A lock serialises every access to the simulation (calls, steps, the pacing thread
of :class:`~defisim.server.live.LiveRun`). The server binds ``127.0.0.1`` unless
told otherwise (:class:`ServerThread`, :func:`serve`).
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from defisim.service import wire
from defisim.service.loopback import ServiceEndpoint

from .access import acting_parties

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

MAX_REQUEST_BYTES = 1 << 20
"""The largest request body accepted (1 MiB); a larger one is answered 413."""

MAX_STEPS_PER_CALL = 100_000
"""The most steps one ``/v1/step`` may ask for (a bounded amount of work per call)."""

_OPERATOR = object()


def _error(status: int, exc: BaseException) -> tuple[int, str]:
    return status, wire.encode({"error": exc})


class SimulationHost:
    """A live simulation (optionally a runner's :class:`~defisim.runner.Run`) behind the
    remote API: tokens, the access rules and a lock (module docstring).

    Args:
        sim: the simulation served (``None``: :meth:`attach` one later).
        run: the run whose simulation it is; the operator then advances it
            (``/v1/step``); ``sim`` defaults to ``run.sim``.
        operator_token: the operator's token (default: a fresh random one).
        max_request_bytes: the largest request body accepted.

    Attributes:
        lock: held for every access to the simulation (take it to act in process).
        operator_token: the operator's token.
        statuses: ``Counter`` of answered HTTP statuses.
    """

    def __init__(self, sim: Any = None, *, run: Any = None, operator_token: str | None = None,
                 max_request_bytes: int = MAX_REQUEST_BYTES) -> None:
        if max_request_bytes <= 0:
            raise ValueError(f"max_request_bytes must be > 0, got {max_request_bytes}")
        self.lock = threading.RLock()
        self.max_request_bytes = max_request_bytes
        self.operator_token = operator_token or secrets.token_urlsafe(32)
        self._party_of: dict[str, str] = {}
        self._token_of: dict[str, str] = {}
        self.statuses: Counter = Counter()
        self.run = None
        self.endpoint: ServiceEndpoint | None = None
        if sim is not None or run is not None:
            self.attach(sim if sim is not None else run.sim, run=run)

    # ------------------------------------------------------------- set-up
    def attach(self, sim: Any, run: Any = None) -> Any:
        """Serve ``sim`` (of ``run``, if given) from now on; returns ``sim``. The
        parties' tokens of a previous simulation are revoked (the operator's stays)."""
        with self.lock:
            self._party_of.clear()
            self._token_of.clear()
            self.run = run
            self.endpoint = ServiceEndpoint(sim)
        return sim

    @property
    def sim(self) -> Any:
        """The simulation served (``None`` before :meth:`attach`)."""
        return None if self.endpoint is None else self.endpoint.sim

    def token_for(self, party: str) -> str:
        """``party``'s token (issued at the first ask, the same afterwards).

        Raises:
            RuntimeError: no simulation attached. ValueError: an unknown party.
        """
        with self.lock:
            if self.sim is None:
                raise RuntimeError("no simulation attached")
            if party not in self.sim.parties:
                raise ValueError(f"unknown party {party!r}; register it first")
            token = self._token_of.get(party)
            if token is None:
                token = secrets.token_urlsafe(32)
                self._token_of[party], self._party_of[token] = token, party
            return token

    def register_party(self, party: str, funds: Mapping[str, float] | None = None) -> str:
        """Create ``party`` (unless it exists), mint it ``funds`` (asset -> units) and
        return its token.

        Raises:
            ValueError: a bad name, an unknown asset or amount (the service's errors).
        """
        with self.lock:
            if party not in self.sim.parties:
                self.sim.create_party(party)
            for asset, amount in (funds or {}).items():
                self.sim.mint(party, asset, amount)
            return self.token_for(party)

    def caller(self, token: str | None) -> Any:
        """The party a token belongs to (the operator's: a private sentinel).

        Raises:
            PermissionError: no token or an unknown one.
        """
        if not token:
            raise PermissionError("no token: send 'Authorization: Bearer <token>'")
        if hmac.compare_digest(token.encode(), self.operator_token.encode()):
            return _OPERATOR
        party = self._party_of.get(token)
        if party is None:
            raise PermissionError("unknown token")
        return party

    # ------------------------------------------------------------- requests
    def handle(self, token: str | None, body: bytes) -> tuple[int, str]:
        """One ``/v1/call`` request: ``(HTTP status, wire response text)``."""
        status, text = self._handle(token, body)
        self.statuses[status] += 1
        return status, text

    def _handle(self, token: str | None, body: bytes) -> tuple[int, str]:
        try:
            party = self.caller(token)
        except PermissionError as exc:
            return _error(401, exc)
        if len(body) > self.max_request_bytes:
            return _error(413, ValueError(f"request of {len(body)} bytes; the limit is "
                                          f"{self.max_request_bytes}"))
        try:
            req = wire.decode(body.decode("utf-8"))
        except RecursionError:
            return _error(400, ValueError("malformed request: nested too deeply"))
        except UnicodeDecodeError as exc:
            return _error(400, ValueError(f"malformed request: not UTF-8 ({exc.reason})"))
        except (ValueError, TypeError) as exc:
            return _error(400, exc)
        with self.lock:
            ep = self.endpoint
            if ep is None:
                return _error(503, RuntimeError("no simulation attached yet"))
            try:
                label, obj, kind = ep.resolve(req)
            except ValueError as exc:
                return _error(400, exc)
            except AttributeError as exc:
                return _error(404, exc)
            if kind == "method" and party is not _OPERATOR:
                try:
                    acting = acting_parties(obj, req["name"], tuple(req.get("args", ())),
                                            req.get("kwargs", {}))
                except TypeError as exc:
                    return _error(400, TypeError(f"{label}: {exc}"))
                if acting is None:
                    return _error(403, PermissionError(
                        f"{label} is an operator's call (set-up, the clock, minting); "
                        f"party {party!r} may not call it"))
                other = [p for p in acting if p != party]
                if other:
                    return _error(403, PermissionError(
                        f"{label} acts for {other[0]!r}; this token is party {party!r}'s"))
            return 200, ep.answer(ep.execute(req), label)

    def advance(self, token: str | None, n: int = 1) -> tuple[int, str]:
        """The operator's ``/v1/step``: ``n`` more steps of the run (its agents act in
        them); ``(status, wire response)``."""
        try:
            if self.caller(token) is not _OPERATOR:
                return _error(403, PermissionError("only the operator advances time"))
        except PermissionError as exc:
            return _error(401, exc)
        if type(n) is not int or not 1 <= n <= MAX_STEPS_PER_CALL:
            return _error(400, ValueError(f"n must be an int from 1 to {MAX_STEPS_PER_CALL}, "
                                          f"got {n!r}"))
        with self.lock:
            if self.run is None or self.run.finished:
                return _error(409, RuntimeError("no run to advance" if self.run is None
                                                else "the run has finished"))
            try:
                self.run.advance(n)
            except Exception as exc:  # an invariant violation, a failing agent: the run
                return _error(409, exc)  # stopped inside a step; the operator is told why
            return 200, wire.encode({"ok": self.clock()})

    def finish(self, token: str | None) -> tuple[int, str]:
        """The operator's ``/v1/finish``: the run's :meth:`~defisim.runner.Run.finish`."""
        try:
            if self.caller(token) is not _OPERATOR:
                return _error(403, PermissionError("only the operator finishes the run"))
        except PermissionError as exc:
            return _error(401, exc)
        with self.lock:
            if self.run is None or self.run.finished:
                return _error(409, RuntimeError("no run to finish" if self.run is None
                                                else "the run has finished"))
            self.run.finish()
            return 200, wire.encode({"ok": self.clock()})

    def clock(self) -> dict[str, Any]:
        """``{"step", "now_ns", "finished"}`` of the run (``step`` -1 without one)."""
        run = self.run
        return {"step": -1 if run is None else run.step,
                "now_ns": self.sim.now_ns if self.sim is not None else 0,
                "finished": bool(run is not None and run.finished)}


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
            return _reply(*_error(413, too_big))
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
            return _reply(*_error(413, too_big))
        try:
            n = json.loads(body or b"{}").get("n", 1)
        except (ValueError, AttributeError, RecursionError):
            return _reply(*_error(400, ValueError('the body must be {"n": int}')))
        token = _bearer(request.headers.get("authorization"))
        return _reply(*await run_in_threadpool(host.advance, token, n))

    @router.post("/v1/finish")
    async def finish(request: Request) -> Response:
        token = _bearer(request.headers.get("authorization"))
        return _reply(*await run_in_threadpool(host.finish, token))

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
                    await websocket.send_text(_error(413, too_big)[1])
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
