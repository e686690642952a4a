"""The host of a live simulation behind the remote API: the tokens it issues, the
access rules it enforces (:mod:`defisim.server.access`) and the lock that serialises
every access (:mod:`defisim.server.remote` serves it over HTTP; its module docstring
lists the statuses).

:meth:`SimulationHost.handle` takes a token and a request body and answers
``(HTTP status, wire response text)``: 200 the call ran (the service's own exception
is its answer), 400 a malformed request, 401 no or an unknown token, 403 a call for
another party or an operator's call, 404 a name outside the interface, 413 a body
over the limit, 503 no simulation attached. It never raises for what a client sends.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from defisim.service import wire
from defisim.service.loopback import ServiceEndpoint

from .access import acting_parties

__all__ = ["MAX_METRICS", "MAX_REQUEST_BYTES", "MAX_STEPS_PER_CALL", "SimulationHost",
           "wire_error"]

MAX_REQUEST_BYTES = 1 << 20
"""The largest request body accepted (1 MiB); a larger one is answered 413."""

MAX_STEPS_PER_CALL = 100_000
"""The most steps one ``/v1/step`` may ask for (a bounded amount of work per call)."""

MAX_METRICS = 64
"""The most metrics one party may report (names of at most 64 characters)."""

_OPERATOR = object()


def wire_error(status: int, exc: BaseException) -> tuple[int, str]:
    """``(status, the wire response {"error": exc})``."""
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
        metrics: what external agents reported (``POST /v1/metrics``): party ->
            metric name -> value (the latest report of each party; a console shows them).
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
        self.metrics: dict[str, dict[str, float]] = {}
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
            return wire_error(401, exc)
        if len(body) > self.max_request_bytes:
            return wire_error(413, ValueError(f"request of {len(body)} bytes; the limit is "
                                          f"{self.max_request_bytes}"))
        try:
            req = wire.decode(body.decode("utf-8"))
        except RecursionError:
            return wire_error(400, ValueError("malformed request: nested too deeply"))
        except UnicodeDecodeError as exc:
            return wire_error(400, ValueError(f"malformed request: not UTF-8 ({exc.reason})"))
        except (ValueError, TypeError) as exc:
            return wire_error(400, exc)
        with self.lock:
            ep = self.endpoint
            if ep is None:
                return wire_error(503, RuntimeError("no simulation attached yet"))
            try:
                label, obj, kind = ep.resolve(req)
            except ValueError as exc:
                return wire_error(400, exc)
            except AttributeError as exc:
                return wire_error(404, exc)
            if kind == "method" and party is not _OPERATOR:
                try:
                    acting = acting_parties(obj, req["name"], tuple(req.get("args", ())),
                                            req.get("kwargs", {}))
                except TypeError as exc:
                    return wire_error(400, TypeError(f"{label}: {exc}"))
                if acting is None:
                    return wire_error(403, PermissionError(
                        f"{label} is an operator's call (set-up, the clock, minting); "
                        f"party {party!r} may not call it"))
                other = [p for p in acting if p != party]
                if other:
                    return wire_error(403, PermissionError(
                        f"{label} acts for {other[0]!r}; this token is party {party!r}'s"))
            return 200, ep.answer(ep.execute(req), label)

    def advance(self, token: str | None, n: int = 1) -> tuple[int, str]:
        """The operator's ``/v1/step``: ``n`` more steps of the run (its agents act in
        them); ``(status, wire response)``."""
        try:
            if self.caller(token) is not _OPERATOR:
                return wire_error(403, PermissionError("only the operator advances time"))
        except PermissionError as exc:
            return wire_error(401, exc)
        if type(n) is not int or not 1 <= n <= MAX_STEPS_PER_CALL:
            return wire_error(400, ValueError(f"n must be an int from 1 to {MAX_STEPS_PER_CALL}, "
                                          f"got {n!r}"))
        with self.lock:
            if self.run is None or self.run.finished:
                return wire_error(409, RuntimeError("no run to advance" if self.run is None
                                                else "the run has finished"))
            try:
                self.run.advance(n)
            except Exception as exc:  # an invariant violation, a failing agent: the run
                return wire_error(409, exc)  # stopped inside a step; the operator is told why
            return 200, wire.encode({"ok": self.clock()})

    def finish(self, token: str | None) -> tuple[int, str]:
        """The operator's ``/v1/finish``: the run's :meth:`~defisim.runner.Run.finish`."""
        try:
            if self.caller(token) is not _OPERATOR:
                return wire_error(403, PermissionError("only the operator finishes the run"))
        except PermissionError as exc:
            return wire_error(401, exc)
        with self.lock:
            if self.run is None or self.run.finished:
                return wire_error(409, RuntimeError("no run to finish" if self.run is None
                                                else "the run has finished"))
            self.run.finish()
            return 200, wire.encode({"ok": self.clock()})

    def report_metrics(self, token: str | None, body: bytes) -> tuple[int, str]:
        """``POST /v1/metrics``: a party reports its own metrics. The body is a wire
        value ``{"metrics": {name: number}}`` (optionally ``"party"``, which must be
        the token's); they replace the party's previous report in :attr:`metrics`.
        401 no or an unknown token; 403 the operator's token or another party named;
        400 a malformed body (names not strings of 1 to 64 characters, values not
        numbers, more than :data:`MAX_METRICS`)."""
        try:
            party = self.caller(token)
        except PermissionError as exc:
            return wire_error(401, exc)
        if party is _OPERATOR:
            return wire_error(403, PermissionError("metrics are a party's; report them with "
                                                   "the party's token"))
        try:
            req = wire.decode(body.decode("utf-8")) if len(body) <= self.max_request_bytes \
                else None
        except (ValueError, TypeError, UnicodeDecodeError, RecursionError):
            req = None
        if not isinstance(req, dict) or not isinstance(req.get("metrics"), dict):
            return wire_error(400, ValueError('the body must be {"metrics": {name: number}}'))
        named = req.get("party", party)
        if named != party:
            return wire_error(403, PermissionError(f"this token is party {party!r}'s, not "
                                                   f"{named!r}'s"))
        metrics = req["metrics"]
        if len(metrics) > MAX_METRICS:
            return wire_error(400, ValueError(f"{len(metrics)} metrics; at most {MAX_METRICS}"))
        clean: dict[str, float] = {}
        for name, value in metrics.items():
            if not (isinstance(name, str) and 1 <= len(name) <= 64 and name.isprintable()):
                return wire_error(400, ValueError(f"metric name {name!r}: 1 to 64 printable "
                                                  "characters"))
            if isinstance(value, bool) or not isinstance(value, int | float):
                return wire_error(400, ValueError(f"metric {name!r}: a number, got "
                                                  f"{type(value).__name__}"))
            clean[name] = float(value)
        with self.lock:
            self.metrics[party] = clean
        return 200, wire.encode({"ok": None})

    def read_metrics(self, token: str | None) -> tuple[int, str]:
        """``GET /v1/metrics``: every party's latest metrics (any valid token)."""
        try:
            self.caller(token)
        except PermissionError as exc:
            return wire_error(401, exc)
        with self.lock:
            snapshot = {p: dict(m) for p, m in self.metrics.items()}
        return 200, wire.encode({"ok": snapshot})

    def clock(self) -> dict[str, Any]:
        """``{"step", "now_ns", "finished"}`` of the run (``step`` -1 without one)."""
        run = self.run
        return {"step": -1 if run is None else run.step,
                "now_ns": self.sim.now_ns if self.sim is not None else 0,
                "finished": bool(run is not None and run.finished)}


