"""Parameter sweeps: a grid of scenario parameters times N seeds, into ``sweep.duckdb``.

A sweep folder holds:

- ``sweep.duckdb`` with the tables
  ``runs(run_id, point, params, seed, status, error, wall_s, steps)`` (one row per
  run; ``point`` and ``params`` are JSON: the swept values, all given values),
  ``final_kpis(run_id, kpi, value)`` (every KPI at the end of the run: the
  scenario's by name, the built-ins as ``<market>.<name>``) and
  ``step_kpis(run_id, step, kpi, value)`` (the scenario's KPIs at every step);
  Every scenario KPI whose name ends in ``pnl`` (a party's cumulative PnL, quote
  units) also gets risk metrics of its per-step changes in ``final_kpis``
  (:func:`pnl_risk`): ``<kpi>.sharpe`` and ``<kpi>.sortino`` (annualised with a
  365-day year), ``<kpi>.max_drawdown`` (quote units) and ``<kpi>.cvar`` (95 %
  historical CVaR of one step's change, quote units);
- ``sweep.json``: scenario, grid, seeds, fixed parameters;
- ``results.csv``: the full results table: a row per grid point and KPI with the
  swept values, ``kpi``, ``n`` (ok runs), ``mean``, ``ci95_low``, ``ci95_high``;
- ``sweep-<param>.png``: every KPI against each swept parameter, with error bars.

A run id is a hash of (scenario, parameters, seed), so ``resume`` skips the runs
already in the database and the same sweep gives the same ids. A run that raises
or violates an invariant is a row with ``status`` ``failed`` / ``violation`` and its
error; the sweep goes on.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defisim.progress import ProgressBar

from .errors import ExperimentError

RUNS_COLUMNS = {
    "run_id": "VARCHAR",
    "point": "VARCHAR",
    "params": "VARCHAR",
    "seed": "BIGINT",
    "status": "VARCHAR",
    "error": "VARCHAR",
    "wall_s": "DOUBLE",
    "steps": "BIGINT",
}
FINAL_COLUMNS = {"run_id": "VARCHAR", "kpi": "VARCHAR", "value": "DOUBLE"}
STEP_COLUMNS = {"run_id": "VARCHAR", "step": "BIGINT", "kpi": "VARCHAR", "value": "DOUBLE"}
DB_NAME = "sweep.duckdb"


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: ``params`` (all given values) of ``scenario`` with ``seed``."""

    run_id: str
    scenario: str
    params: dict[str, Any]
    point: tuple[Any, ...]
    seed: int
    check_invariants: bool = True


@dataclass
class SweepResult:
    """What :func:`run_sweep` did: ``ran`` runs now, ``skipped`` (resume), ``failed``
    (not ok), ``wall_s`` seconds, ``summary`` rows ``(point, kpi, n, mean, lo, hi)``."""

    out_dir: Path
    grid: dict[str, list[Any]]
    ran: int = 0
    skipped: int = 0
    failed: int = 0
    wall_s: float = 0.0
    summary: list[tuple] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    interrupted: bool = False
    kpis: list[str] | None = None
    """The KPIs asked for (``--kpi``, checked against the scenario's), or ``None``."""


# ------------------------------------------------------------------- parsing
def _scenario_cls(name: str) -> type:
    from defisim.scenarios import get_scenario

    try:
        return get_scenario(name)
    except KeyError as exc:
        raise ExperimentError(str(exc.args[0])) from None


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("NoneType", "None")


def parse_value(model: type, name: str, raw: str, scenario: str = "") -> Any:
    """``raw`` (a command-line string) as a value of parameter ``name`` of ``model``.

    Tried: the string (pydantic lax conversion: ``"10"`` -> 10), then JSON, then
    ``none``/``null`` as ``None``. The validated value is returned.

    Raises:
        ExperimentError: unknown name (valid names listed) or no conversion fits.
    """
    from pydantic import TypeAdapter, ValidationError

    if name not in model.model_fields:
        import difflib

        close = difflib.get_close_matches(name, list(model.model_fields), n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise ExperimentError(
            f"scenario {scenario} has no parameter {name!r}{hint}; "
            f"valid names: {', '.join(model.model_fields)}"
        )
    f = model.model_fields[name]
    adapter = TypeAdapter(f.annotation)
    candidates: list[Any] = [raw.strip()]
    try:
        candidates.append(json.loads(raw))
    except ValueError:
        pass
    if raw.strip().lower() in ("none", "null"):
        candidates.append(None)
    for value in candidates:
        try:
            out = adapter.validate_python(value)
        except ValidationError:
            continue
        # keep JSON-friendly values (the run id hashes them)
        return out if isinstance(out, bool | int | float | str | None) else value
    raise ExperimentError(f"parameter {name} expects {_type_name(f.annotation)}, got {raw!r}")


def parse_assignments(scenario: str, items: list[str], option: str = "--set") -> dict[str, Any]:
    """``name=value`` items as validated values (``--set``)."""
    model = _scenario_cls(scenario).Params
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ExperimentError(f"{option} expects name=value, got {item!r}")
        out[name.strip()] = parse_value(model, name.strip(), raw, scenario)
    return out


def parse_grid(scenario: str, items: list[str]) -> dict[str, list[Any]]:
    """``--grid name=v1,v2,...`` items as ``{name: [values]}`` (in the order given).

    Raises:
        ExperimentError: no item, an item without ``=``, an empty value list, a
            repeated name, an unknown name or a value of the wrong type.
    """
    if not items:
        raise ExperimentError("empty grid: give at least one --grid name=v1,v2,...")
    model = _scenario_cls(scenario).Params
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ExperimentError(f"--grid expects name=v1,v2,..., got {item!r}")
        if name in grid:
            raise ExperimentError(f"--grid {name} given twice")
        values = [v for v in (x.strip() for x in raw.split(",")) if v]
        if not values:
            raise ExperimentError(f"empty grid for {name}: give --grid {name}=v1,v2,...")
        parsed = [parse_value(model, name, v, scenario) for v in values]
        grid[name] = list(dict.fromkeys(parsed))  # drop repeats, keep order
    return grid


def run_id_of(scenario: str, params: dict[str, Any], seed: int) -> str:
    """A stable 16-hex-digit id of (scenario, parameters, seed)."""
    text = json.dumps({"s": scenario, "p": params, "seed": seed}, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def expand_grid(
    scenario: str,
    grid: dict[str, list[Any]],
    seeds: int | list[int],
    fixed: dict[str, Any] | None = None,
    check_invariants: bool = True,
) -> list[RunSpec]:
    """The cartesian product of ``grid`` times the seeds (``range(seeds)`` for an
    int), grid point major. Every point's parameters are validated here.

    Raises:
        ExperimentError: no seeds, empty grid, a point the parameter model refuses.
    """
    from pydantic import ValidationError

    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list or any(s < 0 for s in seed_list):
        raise ExperimentError("--seeds must be at least 1")
    if not grid or any(not v for v in grid.values()):
        raise ExperimentError("empty grid: give at least one --grid name=v1,v2,...")
    cls = _scenario_cls(scenario)
    names = list(grid)
    specs: list[RunSpec] = []
    for point in itertools.product(*(grid[n] for n in names)):
        params = dict(fixed or {})
        params.update(zip(names, point, strict=True))
        try:
            cls.Params(**params)
        except ValidationError as exc:
            e = exc.errors()[0]
            loc = ".".join(str(x) for x in e.get("loc", ())) or "parameters"
            raise ExperimentError(f"invalid parameter {loc}: {e.get('msg', '')}") from None
        for seed in seed_list:
            specs.append(
                RunSpec(
                    run_id_of(scenario, params, seed),
                    scenario,
                    params,
                    tuple(point),
                    seed,
                    check_invariants,
                )
            )
    return specs


# ------------------------------------------------------------------ one run
def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


def execute_run(spec: RunSpec) -> dict[str, Any]:
    """Run ``spec`` without recording a run folder; never raises for a run's failure.

    A step hook keeps every step's scenario KPIs (the run records each step and,
    after ``finish``, the final step).

    Returns:
        ``{"run_id", "status" ("ok" | "violation" | "failed" | "interrupted"),
        "error", "wall_s", "steps", "kpis" (final), "step_kpis" [(step, kpi, value)]}``.
    """
    from defisim.runner import MemorySink, run_scenario
    from defisim.scenarios import get_scenario

    t0 = time.perf_counter()
    memory = MemorySink()
    rows = memory.rows
    status, error, kpis, steps = "ok", None, {}, 0
    try:
        cls = get_scenario(spec.scenario)
        scn = cls(cls.Params(**spec.params))
        res = run_scenario(
            scn,
            seed=spec.seed,
            record=False,
            progress=False,
            check_invariants=spec.check_invariants,
            hooks=[lambda run, step, k: memory.record(run, step, k, False)],
        )
        kpis, steps = dict(res.kpis), res.steps
        kpis.update(pnl_risk(rows, float(scn.params.step_seconds or 0.0)))
        if res.interrupted:
            status, error = "interrupted", "interrupted"
        elif res.error is not None:
            status, error = "violation", _first_line(res.error)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        status, error = "failed", f"{type(exc).__name__}: {_first_line(str(exc))}"
    return {
        "run_id": spec.run_id,
        "status": status,
        "error": error,
        "wall_s": time.perf_counter() - t0,
        "steps": steps,
        "kpis": kpis,
        "step_kpis": rows,
    }


def pnl_risk(rows: list[tuple[int, str, float]], step_seconds: float) -> dict[str, float]:
    """Risk metrics of every ``*pnl`` KPI series in ``rows`` (``(step, kpi, value)``).

    With ``d`` the per-step changes of the series (quote units): ``sharpe`` =
    :func:`~defisim.metrics.sharpe_ratio` of ``d`` and ``sortino`` =
    :func:`~defisim.metrics.sortino_ratio` (target 0), both annualised with
    :func:`~defisim.metrics.periods_per_year` of ``step_seconds`` (365-day year;
    not annualised when ``step_seconds`` is 0); ``max_drawdown`` =
    :func:`~defisim.metrics.max_drawdown_abs` of the series; ``cvar`` =
    :func:`~defisim.metrics.historical_cvar` of ``d`` at 95 %. Ratios of PnL changes
    need no capital: they are those of returns on any fixed capital. NaN (left out)
    where undefined (fewer than 3 points, no variation).
    """
    from defisim.metrics import (
        historical_cvar,
        max_drawdown_abs,
        periods_per_year,
        pnl_changes,
        sharpe_ratio,
        sortino_ratio,
    )

    series: dict[str, list[float]] = {}
    for _, name, v in rows:
        if name.lower().endswith("pnl"):
            series.setdefault(name, []).append(v)
    ppy = periods_per_year(step_seconds) if step_seconds > 0 else None
    out: dict[str, float] = {}
    for name, values in series.items():
        if len(values) < 3:
            continue
        d = pnl_changes(values)
        metrics = {
            "sharpe": sharpe_ratio(d, periods_per_year=ppy),
            "sortino": sortino_ratio(d, periods_per_year=ppy),
            "max_drawdown": max_drawdown_abs(values),
            "cvar": historical_cvar(d, 0.95),
        }
        for k, v in metrics.items():
            if math.isfinite(v):
                out[f"{name}.{k}"] = float(v)
    return out


# -------------------------------------------------------------------- sweep
def _open_db(path: Path):
    from defisim.store import RunStore

    store = RunStore(path, flush_rows=200_000)
    store.declare("step_kpis", STEP_COLUMNS)
    store.declare("final_kpis", FINAL_COLUMNS)
    store.declare("runs", RUNS_COLUMNS)
    return store


def _write(store, spec: RunSpec, r: dict[str, Any]) -> None:
    rid = spec.run_id
    store.append_many("step_kpis", [(rid, s, k, v) for s, k, v in r["step_kpis"]])
    store.append_many(
        "final_kpis",
        [(rid, k, float(v)) for k, v in r["kpis"].items() if v is not None],
    )
    store.append(
        "runs",
        (
            rid,
            json.dumps(list(spec.point)),
            json.dumps(spec.params, sort_keys=True),
            spec.seed,
            r["status"],
            r["error"],
            float(r["wall_s"]),
            int(r["steps"]),
        ),
    )


def run_sweep(
    scenario: str,
    grid: dict[str, list[Any]],
    seeds: int,
    out_dir: str | Path,
    *,
    fixed: dict[str, Any] | None = None,
    workers: int = 1,
    backend: str = "local",
    address: str | None = None,
    resume: bool = False,
    progress: bool = False,
    check_invariants: bool = True,
    plots: bool = True,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    kpis: list[str] | None = None,
) -> SweepResult:
    """Run the sweep into ``out_dir`` (see the module docstring).

    Args:
        grid: ``{name: [values]}`` (see :func:`parse_grid`); ``seeds``: seeds
            ``0 .. seeds-1`` per grid point; ``fixed``: other parameter values.
        workers: processes (local) or CPUs of a started local Ray instance.
        backend: ``"local"`` (process pool; inline for ``workers <= 1``) or ``"ray"``.
        address: Ray cluster (``"auto"`` or ``host:port``); ``None`` starts one.
        resume: keep ``sweep.duckdb`` and skip the run ids already in it.
        kpis: KPIs of interest (the results table's columns), checked against the
            scenario's KPI names (:func:`~.checks.scenario_kpis`) before anything
            runs; kept in ``SweepResult.kpis`` and ``sweep.json``. Every KPI is
            recorded either way.

    Raises:
        ExperimentError: bad grid/seeds/backend, an unknown KPI, ``sweep.duckdb``
            exists without ``resume``, unreachable Ray cluster.
        MissingExtraError: ``backend="ray"`` without Ray (the ``ray`` extra).
    """
    from .backends import iter_results

    if backend not in ("local", "ray"):
        raise ExperimentError(f"unknown backend {backend!r}; use local or ray")
    if workers < 1:
        raise ExperimentError("--workers must be at least 1")
    if backend == "ray":
        from defisim.extras import require

        require("ray", "ray", feature="defisim sweep --backend ray")  # before anything is written
    specs = expand_grid(scenario, grid, seeds, fixed, check_invariants)
    if kpis is not None:
        from .checks import check_kpis, scenario_kpis

        kpis = check_kpis(kpis, scenario_kpis(scenario, specs[0].params), scenario)
    if backend == "ray" and address is not None:
        from .backends import check_address

        check_address(address)  # before anything is written
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExperimentError(f"sweep folder {out} exists and is not a folder")
    db = out / DB_NAME
    if db.exists() and not resume:
        raise ExperimentError(f"{db} exists (use --resume to continue that sweep)")
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "scenario": scenario,
        "grid": grid,
        "seeds": seeds,
        "fixed": fixed or {},
        "backend": backend,
        "workers": workers,
        "kpis": kpis,
    }
    (out / "sweep.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")

    store = _open_db(db)
    result = SweepResult(out_dir=out, grid=grid, kpis=kpis)
    t0 = time.perf_counter()
    try:
        done = {r[0] for r in store.query("SELECT run_id FROM runs")}
        # rows of a run interrupted between flushes have no runs row: drop them
        for t in ("step_kpis", "final_kpis"):
            store.query(f"DELETE FROM {t} WHERE run_id NOT IN (SELECT run_id FROM runs)")
        todo = [s for s in specs if s.run_id not in done]
        result.skipped = len(specs) - len(todo)
        by_id = {s.run_id: s for s in todo}
        bar = ProgressBar(len(specs), "runs", progress, done=result.skipped, refresh_every=1)
        try:
            for r in iter_results(todo, backend, workers, address):
                _write(store, by_id[r["run_id"]], r)
                result.ran += 1
                if r["status"] != "ok":
                    result.failed += 1
                if result.ran % 32 == 0:
                    store.flush()
                if on_result is not None:
                    on_result(r)
                bar.advance()
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            bar.stop()
            store.flush()
        result.wall_s = time.perf_counter() - t0
        result.summary = summary_of(store, list(grid))
    finally:
        store.close()
    write_results_csv(out / "results.csv", list(grid), result.summary)
    if plots and result.summary:
        result.plots = plot_sweep(out, list(grid), result.summary)
    return result


# ------------------------------------------------------------------ results
def summary_of(store, names: list[str]) -> list[tuple]:
    """``(point, kpi, n, mean, ci_low, ci_high)`` over the ok runs of the database."""
    from .stats import summarize

    rows = store.query(
        "SELECT r.point, f.kpi, f.value FROM final_kpis f JOIN runs r USING (run_id) "
        "WHERE r.status = 'ok' ORDER BY r.run_id, f.kpi"
    )
    return summarize((tuple(json.loads(p)), k, v) for p, k, v in rows)


def load_summary(sweep_dir: str | Path) -> tuple[list[str], list[tuple], dict[str, int]]:
    """``(param names, summary rows, status counts)`` of a sweep folder."""
    from defisim.store import RunStore

    d = Path(sweep_dir)
    meta = json.loads((d / "sweep.json").read_text())
    names = list(meta["grid"])
    store = RunStore(d / DB_NAME, read_only=True)
    try:
        counts = dict(store.query("SELECT status, count(*) FROM runs GROUP BY status"))
        return names, summary_of(store, names), counts
    finally:
        store.close()


def write_results_csv(path: Path, names: list[str], summary: list[tuple]) -> None:
    """The summary rows as ``results.csv`` (see the module docstring)."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*names, "kpi", "n", "mean", "ci95_low", "ci95_high"])
        for point, kpi, n, m, lo, hi in summary:
            w.writerow([*point, kpi, n, m, lo, hi])


def plot_sweep(out: Path, names: list[str], summary: list[tuple]) -> list[Path]:
    """One PNG per swept parameter: a panel per KPI, the mean against the parameter
    with 95 % CI error bars, one line per combination of the other parameters."""
    from defisim.runner.plot_style import new_figure

    kpis = sorted({r[1] for r in summary})
    written: list[Path] = []
    for i, pname in enumerate(names):
        ncols = min(4, len(kpis))
        nrows = math.ceil(len(kpis) / ncols)
        fig, axes = new_figure(nrows, ncols, figsize=(4.2 * ncols, 3.0 * nrows), squeeze=False)
        values = sorted({r[0][i] for r in summary}, key=_key)
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        for ax, kpi in zip(axes.flat, kpis, strict=False):
            lines: dict[tuple, list[tuple]] = {}
            for point, k, _n, m, lo, hi in summary:
                if k != kpi:
                    continue
                rest = point[:i] + point[i + 1 :]
                lines.setdefault(rest, []).append((point[i], m, lo, hi))
            for rest, pts in sorted(lines.items(), key=lambda kv: str(kv[0])):
                pts.sort(key=lambda t: _key(t[0]))
                xs = [p[0] if numeric else values.index(p[0]) for p in pts]
                ms = [p[1] for p in pts]
                err = [
                    [m - lo if math.isfinite(lo) else 0.0 for _, m, lo, _ in pts],
                    [hi - m if math.isfinite(hi) else 0.0 for _, m, _, hi in pts],
                ]
                other = [n for j, n in enumerate(names) if j != i]
                label = ", ".join(f"{n}={v}" for n, v in zip(other, rest, strict=True))
                ax.errorbar(xs, ms, yerr=err, marker="o", capsize=3, label=label or None)
            ax.set_title(kpi, fontsize=9)
            ax.set_xlabel(pname, fontsize=8)
            ax.tick_params(labelsize=7)
            if not numeric:
                ax.set_xticks(range(len(values)), [str(v) for v in values])
        for ax in list(axes.flat)[len(kpis) :]:
            ax.set_visible(False)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        if labels and len(labels) <= 12:
            fig.legend(handles, labels, loc="lower center", fontsize=7, ncol=min(4, len(labels)))
        fig.suptitle(f"KPIs against {pname} (mean, 95 % CI)")
        fig.tight_layout(rect=(0, 0.05 if labels else 0, 1, 0.97))
        path = out / f"sweep-{pname}.png"
        fig.savefig(path, dpi=80)
        written.append(path)
    return written


def _key(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return (1, str(v))
    return (0, float(v))
