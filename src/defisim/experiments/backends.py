"""Where a sweep's runs execute: a local process pool or a Ray cluster.

Both yield :func:`~defisim.experiments.sweep.execute_run` results in completion
order; the caller writes them (one writer, one DuckDB file). Same specs, same
results whatever the backend: every run is seeded by its spec.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from .errors import ExperimentError
from .sweep import RunSpec, execute_run


def iter_results(
    specs: list[RunSpec], backend: str, workers: int, address: str | None = None
) -> Iterator[dict[str, Any]]:
    """Run ``specs`` on ``backend`` (``"local"`` or ``"ray"``), yielding results."""
    if backend == "ray":
        return iter_ray(specs, workers, address)
    if address is not None:
        raise ExperimentError("--address is for --backend ray")
    return iter_local(specs, workers)


def iter_local(specs: list[RunSpec], workers: int) -> Iterator[dict[str, Any]]:
    """A ``ProcessPoolExecutor`` of ``workers`` spawned processes (inline for 1).

    At most ``4 * workers`` runs are in flight, so an interrupted sweep loses
    little; pending runs are cancelled on exit.
    """
    if not specs:
        return
    if workers <= 1 or len(specs) == 1:
        for s in specs:
            yield execute_run(s)
        return
    ctx = multiprocessing.get_context("spawn")
    ex = ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=ctx)
    try:
        todo = iter(specs)
        pending = set()
        for s in todo:
            pending.add(ex.submit(execute_run, s))
            if len(pending) >= 4 * workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                nxt = next(todo, None)
                if nxt is not None:
                    pending.add(ex.submit(execute_run, nxt))
                yield f.result()
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def check_address(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a ``host:port`` Ray address nobody listens on.

    Raises:
        ExperimentError: malformed address or no TCP connection within ``timeout``.
    """
    if address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep:
        raise ExperimentError(f"Ray address {address!r} is not host:port or auto")
    try:
        port_n = int(port)
    except ValueError:
        raise ExperimentError(f"Ray address {address!r} is not host:port or auto") from None
    try:
        with socket.create_connection((host or "127.0.0.1", port_n), timeout=timeout):
            pass
    except OSError as exc:
        raise ExperimentError(f"cannot reach the Ray cluster at {address}: {exc}") from None


#: A local Ray instance listens on loopback only (never the machine's other
#: addresses). ``_node_ip_address="127.0.0.1"`` alone is not enough on Linux: ray.init
#: turns a loopback address into the machine's outward one
#: (``ray._private.services.resolve_ip_for_localhost``) unless Ray's cluster mode is off
#: (``ray._private.ray_constants.ENABLE_RAY_CLUSTER``, read from this variable when ray
#: is imported); with it off, the GCS, raylet and workers listen on 127.0.0.1 only.
RAY_LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def local_ray_init_kwargs(workers: int) -> dict[str, Any]:
    """``ray.init`` options of a local instance with ``workers`` CPUs: bound to
    127.0.0.1, no dashboard."""
    return {"num_cpus": workers, "include_dashboard": False, "_node_ip_address": "127.0.0.1"}


def init_local_ray(**kwargs: Any) -> None:
    """``ray.init(**kwargs)`` of a new local instance that listens on 127.0.0.1 only
    (:data:`RAY_LOOPBACK_ENV`): cluster mode is off for the call (the environment the
    Ray processes inherit, and the flag of an already imported ray), then restored.
    ``_node_ip_address`` defaults to 127.0.0.1; tests and local sweeps start Ray here."""
    import ray
    from ray._private import ray_constants

    kwargs.setdefault("_node_ip_address", "127.0.0.1")
    saved_env = {k: os.environ.get(k) for k in RAY_LOOPBACK_ENV}
    saved_flag = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    os.environ.update(RAY_LOOPBACK_ENV)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        ray.init(**kwargs)
    finally:
        if saved_flag is None:
            del ray_constants.ENABLE_RAY_CLUSTER
        else:
            ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def iter_ray(specs: list[RunSpec], workers: int, address: str | None) -> Iterator[dict[str, Any]]:
    """Submit ``specs`` as Ray tasks (1 CPU each) and yield results as they finish.

    Uses Ray as initialised by the caller if it is; else connects to ``address``
    (``"auto"``: the cluster on this machine) or starts a local instance with
    ``workers`` CPUs bound to 127.0.0.1 (:func:`init_local_ray`), and shuts down what
    it started.

    Raises:
        ExperimentError: the cluster cannot be reached.
        MissingExtraError: Ray is not installed (the ``ray`` extra).
    """
    from defisim.extras import require

    ray = require("ray", "ray", feature="defisim sweep --backend ray")
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"logging_level": "ERROR", "log_to_driver": False}
        if address is not None:
            check_address(address)
            kwargs["address"] = address
        else:
            kwargs.update(local_ray_init_kwargs(workers))
        try:
            if address is None:
                init_local_ray(**kwargs)
            else:
                ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = address or "a new local instance"
            line = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
            raise ExperimentError(f"cannot reach the Ray cluster at {where}: {line}") from None
        started = True
    task = ray.remote(num_cpus=1)(execute_run)
    pending = [task.remote(s) for s in specs]
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=min(len(pending), 8), timeout=0.5)
            for ref in done:
                yield ray.get(ref)
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()
