"""The live web console of ``defisim serve`` (issue 15): a page that charts a run as it
advances (or a recorded run), with controls for a live run's clock.

Routes (:func:`console_router`; :func:`create_live_app` adds the remote API):

- ``GET /``: the page (``static/console.html``, our own JS and CSS); plotly.js is
  served from the installed ``plotly`` package's own bundle at
  ``/console/plotly.min.js``: no CDN, no Node build, no vendored copy;
- ``GET /console/frame[?step=N&history=0|1]``: one frame
  (:mod:`defisim.server.console_frame` describes it; ``step`` picks a recorded
  run's step);
- ``WS /console/ws[?since=K]`` (live runs): a frame after each step, at most
  :data:`MAX_FRAMES_PER_S` a second, with the chart points from index ``K`` on and
  then only the new ones; markers only when they changed;
- ``GET /console/auth``: ``{"operator": bool}`` for the request's token;
- ``POST /console/pause``, ``/console/resume``, ``/console/step`` (``{"n": int}``),
  ``/console/speed`` (``{"pace_s": float}``): the operator's controls of a live run,
  answered ``{"ok": {step, finished, paused, pace_s}}``; 401 without or with an
  unknown token, 403 a party's token, 400 a bad body, 409 a finished run or a step
  that raised, 404 a recorded run.

Security: the server binds 127.0.0.1 unless told otherwise; viewing needs no token
(the page is then read-only); the controls need the operator's token, sent as
``Authorization: Bearer <token>`` (or ``?token=``). ``defisim serve --scenario``
prints the console's URL with it, like Jupyter's ``?token=``; the page keeps it in
the tab's session storage and drops it from the address bar.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from defisim.extras import require

from .console_frame import ConsoleHistory, console_frame, live_frame
from .host import MAX_STEPS_PER_CALL

fastapi = require("serve", "fastapi", feature="defisim serve")
_responses = require("serve", "starlette.responses", feature="defisim serve")
_concurrency = require("serve", "starlette.concurrency", feature="defisim serve")

__all__ = ["MAX_FRAMES_PER_S", "ConsoleHistory", "console_frame", "console_router",
           "create_live_app", "plotly_js_path"]

MAX_FRAMES_PER_S = 10
"""The most frames the websocket pushes a second (the console's throttle)."""

STATIC = ("console.html", "console.js", "console.css")
MIN_PACE_S, MAX_PACE_S = 0.001, 3600.0


def plotly_js_path() -> Path:
    """The installed plotly package's own ``plotly.min.js``.

    Raises:
        FileNotFoundError: plotly is not installed, or its bundle is missing.
    """
    try:
        path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    except ModuleNotFoundError:
        raise FileNotFoundError("plotly is not installed: pip install 'defisim[serve]'") from None
    if not path.is_file():
        raise FileNotFoundError(f"plotly's bundle is missing: {path}")
    return path


def _static(name: str) -> bytes:
    return (resources.files("defisim.server") / "static" / name).read_bytes()


def _token(request: Any) -> str | None:
    auth = request.headers.get("authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.query_params.get("token")


def _json(status: int, body: Any) -> Any:
    return _responses.JSONResponse(body, status_code=status)


def console_router(*, live: Any = None, data: Any = None,
                   history: ConsoleHistory | None = None) -> Any:
    """The console's routes (module docstring) for a live run or a recorded one.

    Args:
        live: a :class:`~defisim.server.live.LiveRun` (its host's lock and tokens).
        data: a :class:`~defisim.server.data.RunData` (a recorded run), instead.
        history: the live run's :class:`ConsoleHistory` (in ``live.run.hooks``).

    Raises:
        ValueError: neither or both of ``live`` and ``data``.
    """
    if (live is None) == (data is None):
        raise ValueError("give live or data (one of them)")
    router = fastapi.APIRouter()
    host = None if live is None else live.host

    def metrics() -> dict[str, dict[str, float]]:
        """External agents' metrics (the paper-trading API's ``host.metrics``, where the
        host has them), copied; take the host's lock around the call."""
        return {p: dict(m) for p, m in dict(getattr(host, "metrics", None) or {}).items()}

    def version() -> tuple:
        """What a new frame would differ in (the websocket's cue to send one)."""
        run = live.run
        with host.lock:
            return (run.step, run.finished, live.paused, live.pace_s,
                    json.dumps(metrics(), sort_keys=True, default=str))

    def build(since: int | None) -> dict[str, Any]:
        with host.lock:
            return live_frame(live.run.sim, live=live, history=history, since=since,
                              metrics=metrics())

    @router.get("/")
    def page() -> Any:
        return _responses.Response(_static("console.html"), media_type="text/html",
                                   headers={"Cache-Control": "no-store",
                                            "Referrer-Policy": "no-referrer"})

    @router.get("/console/static/{name}")
    def static(name: str) -> Any:
        if name not in STATIC:
            return _json(404, {"error": f"no such file {name!r}"})
        kind = {"js": "text/javascript", "css": "text/css"}.get(name.rsplit(".", 1)[-1],
                                                               "text/html")
        return _responses.Response(_static(name), media_type=kind)

    @router.get("/console/plotly.min.js")
    def plotly_js() -> Any:
        return _responses.FileResponse(plotly_js_path(), media_type="text/javascript",
                                       headers={"Cache-Control": "max-age=86400"})

    @router.get("/console/frame")
    async def frame(step: int | None = None, history_: int = fastapi.Query(1, alias="history")
                    ) -> Any:
        if data is not None:
            if step is not None and step < 0:
                return _json(400, {"error": f"step must be >= 0, got {step}"})
            return await _concurrency.run_in_threadpool(
                console_frame, data, step=step, history=bool(history_))
        return await _concurrency.run_in_threadpool(build, 0 if history_ else None)

    # ---------------------------------------------------------------- controls
    def operator(request: fastapi.Request) -> Any:
        """``None`` for the operator, else the refusal (401 / 403 / 404)."""
        if live is None:
            return _json(404, {"error": "a recorded run has no controls"})
        token = _token(request)
        if token and hmac.compare_digest(token.encode(), host.operator_token.encode()):
            return None
        try:
            party = host.caller(token)
        except PermissionError as exc:
            return _json(401, {"error": str(exc)})
        return _json(403, {"error": f"party {party!r} may not control the clock"})

    def clock() -> dict[str, Any]:
        run = live.run
        return {"ok": {"step": run.step, "steps": run.steps, "finished": run.finished,
                       "paused": live.paused, "pace_s": live.pace_s}}

    async def body(request: Any) -> dict[str, Any] | None:
        raw = await request.body()
        if len(raw) > 4096:
            return None
        try:
            value = json.loads(raw or b"{}")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    @router.get("/console/auth")
    def auth(request: fastapi.Request) -> Any:
        return {"operator": live is not None and operator(request) is None,
                "live": live is not None}

    @router.post("/console/pause")
    def pause(request: fastapi.Request) -> Any:
        refused = operator(request)
        if refused is not None:
            return refused
        live.pause()
        return clock()

    @router.post("/console/resume")
    def resume(request: fastapi.Request) -> Any:
        refused = operator(request)
        if refused is not None:
            return refused
        if live.run.finished:
            return _json(409, {"error": "the run has finished"})
        live.resume()
        return clock()

    @router.post("/console/step")
    async def step(request: fastapi.Request) -> Any:
        refused = operator(request)
        if refused is not None:
            return refused
        args = await body(request)
        n = None if args is None else args.get("n", 1)
        if type(n) is not int or not 1 <= n <= MAX_STEPS_PER_CALL:
            return _json(400, {"error": f'the body must be {{"n": int from 1 to '
                                        f'{MAX_STEPS_PER_CALL}}}, got {args!r}'})
        return await _concurrency.run_in_threadpool(_step, n)

    def _step(n: int) -> Any:
        run = live.run
        with host.lock:
            if run.finished:
                return _json(409, {"error": "the run has finished"})
            try:
                run.advance(min(n, max(run.steps - run.step, 0)) or 0)
                if run.step >= run.steps:
                    run.finish()
            except Exception as exc:  # an invariant violation, a failing agent
                return _json(409, {"error": f"{type(exc).__name__}: {exc}"})
            return clock()

    @router.post("/console/speed")
    async def speed(request: fastapi.Request) -> Any:
        refused = operator(request)
        if refused is not None:
            return refused
        args = await body(request)
        pace = None if args is None else args.get("pace_s")
        if (type(pace) not in (int, float) or not math.isfinite(pace)
                or not MIN_PACE_S <= pace <= MAX_PACE_S):
            return _json(400, {"error": f'the body must be {{"pace_s": seconds from '
                                        f'{MIN_PACE_S} to {MAX_PACE_S}}}, got {args!r}'})
        live.set_pace(float(pace))
        return clock()

    # ---------------------------------------------------------------- the feed
    @router.websocket("/console/ws")
    async def ws(websocket: fastapi.WebSocket) -> None:
        await websocket.accept()
        if live is None:
            await websocket.close(code=1008, reason="a recorded run: GET /console/frame")
            return
        try:
            since = max(int(websocket.query_params.get("since", "0")), 0)
        except ValueError:
            since = 0
        last_key: Any = None
        n_markers = -1
        try:
            while True:
                key = await _concurrency.run_in_threadpool(version)
                if key != last_key:
                    frame = await _concurrency.run_in_threadpool(build, since)
                    since = frame["history"]["from"] + len(frame["history"]["points"])
                    if len(frame["markers"]) == n_markers:
                        frame.pop("markers")  # unchanged: the client keeps its own
                    else:
                        n_markers = len(frame["markers"])
                    await websocket.send_text(json.dumps(frame, separators=(",", ":")))
                    last_key = key
                await asyncio.sleep(1 / MAX_FRAMES_PER_S)
        except Exception:  # the client went away (WebSocketDisconnect, a closed socket)
            return

    return router


def create_live_app(live: Any, history: ConsoleHistory | None = None) -> Any:
    """A FastAPI app for a live run: the console (:func:`console_router`), the
    remote Simulation API (``/v1/...``, :mod:`defisim.server.remote`) and, for a run
    with futures markets, read-only GraphQL over it (``/graphql``,
    :class:`~defisim.server.live_data.LiveRunData`) on one port.

    Args:
        live: the :class:`~defisim.server.live.LiveRun`.
        history: its :class:`ConsoleHistory` (default: one is made and added to the
            run's hooks).
    """
    from .remote import remote_router

    if history is None:
        with live.host.lock:
            history = ConsoleHistory(live.run.sim)
            live.run.hooks.append(history)
    app = fastapi.FastAPI(title="defisim serve (live)", docs_url=None, redoc_url=None,
                          openapi_url=None)
    app.include_router(remote_router(live.host))
    app.include_router(console_router(live=live, history=history))
    if "futures" in live.run.sim.protocols:  # the live source reads futures views
        from .app import graphql_router
        from .live_data import LiveRunData

        app.state.data = LiveRunData.of(live)
        app.include_router(graphql_router(app.state.data), prefix="/graphql")
    app.state.host, app.state.live, app.state.history = live.host, live, history
    return app
