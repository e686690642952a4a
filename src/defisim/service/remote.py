""":class:`RemoteSimulation`: the :class:`~defisim.service.Simulation` interface of a
simulation in another process or on another machine, over HTTP.

The client is :class:`~defisim.service.wire_client.WireSimulation` (the same one the
in-process :class:`~defisim.service.loopback.JsonLoopbackSimulation` uses) with an HTTP
transport: each call is one ``POST <url>/v1/call`` of the wire request, on one
keep-alive connection (httpx), with the party's bearer token. The server is
:mod:`defisim.server.remote`. An agent written for the in-process API runs unchanged
against it::

    sim = RemoteSimulation("http://127.0.0.1:8765", token=token)
    sim.futures.submit_order("alice", "BTC", "buy", 0.1, 30_000.0)

Exceptions raised by the service come back with their type and arguments, as through
the loopback; the remote API's refusals too: ``PermissionError`` (no or a wrong
token, a transaction for another party, an operator's call), ``AttributeError`` (a
name that is not part of the interface), ``ValueError`` / ``TypeError`` (a request
the server could not read). A server that cannot be reached raises one
``ConnectionError`` naming the URL; no answer within ``timeout`` a ``TimeoutError``.
"""

from __future__ import annotations

from typing import Any

from .wire_client import WireSimulation

__all__ = ["HttpTransport", "RemoteSimulation"]


def _httpx() -> Any:
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - the serve extra is missing
        raise ImportError(f"RemoteSimulation needs httpx ({exc}): "
                          "pip install 'defisim[serve]'") from exc
    return httpx


class HttpTransport:
    """One wire round trip as ``POST <url>/v1/call`` (the transport of
    :class:`RemoteSimulation`).

    Args:
        url: the server's base URL (``http://host:port``; a trailing ``/`` is dropped).
        token: the bearer token (``None`` or empty: none sent; the server answers 401).
        timeout: seconds to wait for a connection and for an answer.
        client: an ``httpx.Client`` to send with (e.g. a test client); default a new
            keep-alive client, closed by :meth:`close`.

    Raises:
        ValueError: (at construction) a URL that is not http(s), a token with spaces
            or control characters.
        ConnectionError: the server cannot be reached (the message names the URL).
        TimeoutError: no answer within ``timeout`` seconds.
        RuntimeError: an answer that is not the remote API's (another server).
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0,
                 client: Any = None) -> None:
        httpx = _httpx()
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {url!r}")
        self.url = url.rstrip("/")
        self._errors = (httpx.TimeoutException, httpx.TransportError)
        self._timeout_error = httpx.TimeoutException
        self._owned = client is None
        self.client = client if client is not None else httpx.Client(timeout=timeout)
        self.timeout = timeout
        self.headers = {"content-type": "application/json"}
        if token is not None and (not isinstance(token, str) or not token.isprintable()
                                  or any(c.isspace() for c in token)):
            raise ValueError("token must be a string of printable characters without spaces")
        if token:
            self.headers["authorization"] = f"Bearer {token}"

    def __call__(self, text: str) -> str:
        target = f"{self.url}/v1/call"
        try:
            r = self.client.post(target, content=text.encode("utf-8"), headers=self.headers)
        except self._timeout_error as exc:
            raise TimeoutError(f"RemoteSimulation: no answer from {target} within "
                               f"{self.timeout} s ({type(exc).__name__})") from None
        except self._errors as exc:
            raise ConnectionError(f"RemoteSimulation: cannot reach {target} "
                                  f"({type(exc).__name__}: {exc})") from None
        body = r.text
        # the remote API answers every status with a wire response; anything else is
        # another server (a proxy's error page, a wrong URL)
        if r.status_code != 200 and not body.startswith('{"error"'):
            raise RuntimeError(f"RemoteSimulation: {target} answered HTTP {r.status_code}, "
                               f"not the remote Simulation API: {body[:200]!r}")
        return body

    def close(self) -> None:
        if self._owned:
            self.client.close()


class RemoteSimulation(WireSimulation):
    """The :class:`~defisim.service.Simulation` interface of a remote simulation
    (module docstring). The interface is fetched once at construction (so a wrong URL
    or token fails here, not at the first call) and again when a name is not known.

    Args:
        url: the server's base URL, e.g. ``http://127.0.0.1:8765``.
        token: a party's or the operator's token (the server's host issues them).
        timeout: seconds to wait for a connection and for an answer.
        client: an ``httpx.Client`` to send with (tests); default a new one.

    Attributes:
        calls, errors, bytes_sent, bytes_received: as
            :class:`~defisim.service.wire_client.WireSimulation`.
        url: the server's base URL.

    Raises:
        ConnectionError, TimeoutError, RuntimeError: as :class:`HttpTransport`.
        PermissionError: (at construction) a missing or unknown token.
    """

    _own_names = (*WireSimulation._own_names, "url", "close")

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 30.0,
                 client: Any = None) -> None:
        transport = HttpTransport(url, token, timeout, client)
        try:
            super().__init__(transport, transport.url)
        except BaseException:
            transport.close()
            raise

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self._state.origin

    def close(self) -> None:
        """Close the connection (a client made here; a given ``client`` stays open)."""
        self._state.transport.close()

    def __enter__(self) -> RemoteSimulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
