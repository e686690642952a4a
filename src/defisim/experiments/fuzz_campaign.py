"""A fuzz campaign: the ``fuzz`` scenario over several seeds, one process per seed.

:func:`run_campaign` runs ``fuzz`` (invariants on, nothing recorded) for each seed in a
fresh process (``spawn``, one seed per process, ``workers`` at a time), so each seed's
peak resident memory (:func:`peak_rss_mb`, which the process reports itself) is its own. A
seed that stops on an invariant violation is shrunk (``params.shrink``) and, with
``failures_dir``, saved there as ``fuzz-failure-<seed>.json`` (``defisim replay-fuzz``
replays it; ``defisim run fuzz --seed S --steps N`` reruns the seed).

Transactions are counted as the scenario counts them: every transaction its
:class:`~defisim.agents.fuzzers.TxLog` executed, accepted, rejected or crashed (the
``transactions`` KPI, including the final settlements).

``core`` selects the simulation core. Only the Python core exists now
(:data:`CORES`); a compiled core (issue 16) adds its name there and its
:func:`_scenario_class` branch, and the campaign runs unchanged on it.

``python benchmarks/fuzz_campaign.py`` runs a campaign from the command line and
prints its report; ``tests/test_fuzz_campaign.py`` runs the CI campaign (at least a
million transactions).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

CORES = ("python",)
"""Simulation cores a campaign can run on (a compiled core, issue 16, joins here)."""


@dataclass
class SeedResult:
    """One seed's run: counts, the violation (if any) and its cost."""

    seed: int
    steps: int
    core: str
    transactions: int
    accepted: int
    rejected: int
    crashed: int
    violation: str | None
    failure_file: str | None
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


@dataclass
class CampaignResult:
    """Every seed's :class:`SeedResult` and the campaign's totals."""

    seeds: list[SeedResult] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def transactions(self) -> int:
        """Transactions over every seed."""
        return sum(s.transactions for s in self.seeds)

    @property
    def violations(self) -> list[SeedResult]:
        """The seeds that stopped on an invariant violation."""
        return [s for s in self.seeds if s.violation is not None]

    @property
    def peak_rss_mb(self) -> float:
        """The largest peak resident memory of any seed's process."""
        return max((s.peak_rss_mb for s in self.seeds), default=0.0)

    def report(self) -> str:
        """A few lines: one per seed, then the totals."""
        lines = []
        for s in self.seeds:
            state = "ok" if s.violation is None else f"VIOLATION: {s.violation.splitlines()[0]}"
            lines.append(
                f"seed {s.seed}: {s.transactions:,} transactions in {s.steps:,} steps, "
                f"{s.wall_s:.1f} s ({s.transactions / max(s.wall_s, 1e-9):,.0f} tx/s), "
                f"peak RSS {s.peak_rss_mb:.0f} MB, {state}"
                + (f" (saved {s.failure_file})" if s.failure_file else ""))
        cpu = sum(s.cpu_s for s in self.seeds)
        lines.append(
            f"total: {self.transactions:,} transactions, {len(self.violations)} violations, "
            f"{self.wall_s:.1f} s wall ({self.transactions / max(self.wall_s, 1e-9):,.0f} tx/s), "
            f"{cpu:.1f} s CPU in the seeds ({self.transactions / max(cpu, 1e-9):,.0f} tx/CPU-s), "
            f"largest peak RSS {self.peak_rss_mb:.0f} MB")
        return "\n".join(lines)

    def to_json_dict(self) -> dict[str, Any]:
        """The result as plain data."""
        return {"transactions": self.transactions, "violations": len(self.violations),
                "wall_s": self.wall_s, "peak_rss_mb": self.peak_rss_mb,
                "seeds": [asdict(s) for s in self.seeds]}


def check_core(core: str) -> str:
    """``core`` if it is a known simulation core, else ValueError naming the known ones."""
    if core not in CORES:
        raise ValueError(f"unknown simulation core {core!r}; known: {', '.join(CORES)}")
    return core


def _scenario_class(core: str):
    """The scenario class that builds its simulation on ``core`` (the hook for issue 16:
    a compiled core overrides ``Fuzz.make_simulation``)."""
    from defisim.scenarios.fuzz import Fuzz

    check_core(core)
    return Fuzz


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB since it started its program.

    On Linux the ``VmHWM`` line of ``/proc/self/status`` (the high-water mark of this
    program's memory): ``ru_maxrss`` is carried over an ``exec``, so a process spawned
    by a big parent (pytest after heavy tests) would report the parent's peak.
    Elsewhere ``ru_maxrss`` (KiB on Linux and BSDs, bytes on macOS).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def run_seed(seed: int, steps: int, core: str = "python", params: dict[str, Any] | None = None,
             failures_dir: str | None = None) -> SeedResult:
    """Run ``fuzz`` for ``seed`` in this process (invariants on, nothing recorded).

    ``peak_rss_mb`` is this process's peak so far: call it in a fresh process (as
    :func:`run_campaign` does) for the seed's own.
    """
    from defisim.runner import run_scenario
    from defisim.scenarios.fuzzing import minimise, save_failure

    scenario_cls = _scenario_class(core)
    scn = scenario_cls(scenario_cls.Params(**{**(params or {}), "steps": steps}))
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_scenario(scn, seed=seed, record=False, progress=False, check_invariants=True)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    log = scn.ctx.log if scn.ctx is not None else None
    by_label = {"accepted": 0, "rejected": 0, "crashed": 0}
    for (_, label, _), n in (log.stats.items() if log is not None else ()):
        by_label[label] += n
    path = None
    if result.error is not None and failures_dir is not None:
        failure = getattr(scn, "failure", None)  # shrunk by the scenario's after_run
        if failure is None and result.error_type == "InvariantViolation":
            failure = minimise(scn, seed)
        if failure is not None:
            path = str(save_failure(failures_dir, failure))
    if log is not None:
        log.close()
    peak = peak_rss_mb()
    return SeedResult(seed, result.steps, core, sum(by_label.values()), by_label["accepted"],
                      by_label["rejected"], by_label["crashed"], result.error, path,
                      round(wall, 3), round(cpu, 3), round(peak, 1))


def run_campaign(seeds: list[int], steps: int, workers: int = 2, core: str = "python",
                 params: dict[str, Any] | None = None, failures_dir: str | os.PathLike | None = None,
                 ) -> CampaignResult:
    """Run ``fuzz`` for every seed, each in a fresh process, ``workers`` at a time.

    Args:
        seeds: the seeds (each a run of ``steps`` steps).
        steps: steps per seed (about 11.6 transactions per step with the default
            parameters).
        workers: processes at once (1: one after the other, still each in its own).
        core: the simulation core (:data:`CORES`).
        params: ``fuzz`` parameters other than ``steps``.
        failures_dir: where failing seeds save ``fuzz-failure-<seed>.json``.

    Raises:
        ValueError: unknown core, no seeds, ``steps`` or ``workers`` below 1.
    """
    check_core(core)
    if not seeds:
        raise ValueError("a campaign needs at least one seed")
    if steps < 1 or workers < 1:
        raise ValueError(f"steps and workers must be >= 1, got {steps} and {workers}")
    fdir = None if failures_dir is None else os.fspath(failures_dir)
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(seeds)), mp_context=ctx,
                             max_tasks_per_child=1) as pool:
        futures = [pool.submit(run_seed, s, steps, core, params, fdir) for s in seeds]
        results = [f.result() for f in futures]
    return CampaignResult(results, round(time.perf_counter() - t0, 3))


__all__ = ["CORES", "CampaignResult", "SeedResult", "check_core", "run_campaign", "run_seed"]
