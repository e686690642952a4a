"""Optimise scenario parameters with Optuna (TPE, seeded), stored in ``optuna.db``.

The study folder holds ``optuna.db`` (sqlite storage, study ``defisim``; running
again with the same folder continues the study), ``optimize.json`` (settings),
``best.json`` (best value and parameters) and ``history.png`` (the objective per
trial and the best so far).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checks import check_kpis, check_range, scenario_kpis, validate_params
from .errors import ExperimentError
from .sweep import RunSpec, _scenario_cls, _type_name, execute_run, parse_value, run_id_of

STUDY_NAME = "defisim"
FLAT_RTOL = 1e-9
"""Objective values of all trials within this relative distance count as flat."""


@dataclass
class OptimizeResult:
    """What :func:`run_optimize` did: the best trial, the number of trials in the
    study and of failed ones; ``flat`` when every completed trial gave the same
    objective (:func:`is_flat`), with ``warning`` saying so (else ``None``)."""

    out_dir: Path
    best_value: float
    best_params: dict[str, Any]
    trials: int
    failed: int
    flat: bool = False
    warning: str | None = None


def parse_ranges(scenario: str, items: list[str]) -> dict[str, tuple[type, Any, Any]]:
    """``--param name=low:high`` items as ``{name: (int | float, low, high)}``.

    Raises:
        ExperimentError: none given, malformed, a name given twice, unknown name, a
            parameter that is not an int or float, bounds of the wrong type, an end
            outside the parameter's bounds (``ge``/``gt``/``le``/``lt`` of its
            ``Field``, named) or ``low >= high``.
    """
    if not items:
        raise ExperimentError("no parameter to optimise: give --param name=low:high")
    model = _scenario_cls(scenario).Params
    out: dict[str, tuple[type, Any, Any]] = {}
    for item in items:
        name, sep, rng = item.partition("=")
        name = name.strip()
        lo_s, sep2, hi_s = rng.partition(":")
        if not sep or not sep2 or not name:
            raise ExperimentError(f"--param expects name=low:high, got {item!r}")
        if name in out:
            raise ExperimentError(f"--param {name} given twice")
        lo = parse_value(model, name, lo_s, scenario)
        hi = parse_value(model, name, hi_s, scenario)
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (lo, hi)):
            raise ExperimentError(
                f"--param {name}: only int and float parameters can be optimised "
                f"({name} is {_type_name(model.model_fields[name].annotation)})"
            )
        kind = int if isinstance(lo, int) and isinstance(hi, int) else float
        ann = str(model.model_fields[name].annotation)
        if kind is int and "float" in ann:
            kind = float
        check_range(model, name, lo, hi)
        out[name] = (kind, lo, hi)
    return out


def is_flat(values: list[float], rtol: float = FLAT_RTOL) -> bool:
    """True when there are two values or more and all are equal to within ``rtol``
    of the largest magnitude (exactly equal when that is 0)."""
    if len(values) < 2:
        return False
    lo, hi = min(values), max(values)
    return hi - lo <= rtol * max(abs(lo), abs(hi))


def run_optimize(
    scenario: str,
    ranges: dict[str, tuple[type, Any, Any]],
    objective: str,
    out_dir: str | Path,
    *,
    direction: str = "maximize",
    trials: int = 20,
    seed: int = 0,
    run_seeds: int = 1,
    fixed: dict[str, Any] | None = None,
    plots: bool = True,
) -> OptimizeResult:
    """Optimise KPI ``objective`` (its final value, mean over run seeds
    ``0 .. run_seeds-1``) over ``ranges`` with a TPE sampler seeded by ``seed``.

    A trial whose run fails (or has no finite objective) is a failed trial.
    Everything given is checked before the folder is made: the direction, the
    trials, the parameters (at both ends of every range) and the objective against
    the KPI names of the scenario (:func:`~.checks.scenario_kpis`, built not run).
    When every completed trial of the study gave the same objective
    (:func:`is_flat`), the result's ``flat``/``warning`` and ``best.json``'s
    ``flat``/``warning`` say that the objective is flat in the parameters.

    Raises:
        ExperimentError: bad direction/trials, parameters the model refuses, a
            KPI the scenario does not have (the closest and all names listed), or no
            trial succeeded.
        MissingExtraError: Optuna is not installed (the ``optimize`` extra).
    """
    from defisim.extras import require

    optuna = require("optimize", "optuna", feature="defisim optimize")
    if direction not in ("maximize", "minimize"):
        raise ExperimentError(f"--direction must be maximize or minimize, got {direction!r}")
    if trials < 1:
        raise ExperimentError(f"--trials must be at least 1, got {trials}")
    if run_seeds < 1:
        raise ExperimentError(f"--run-seeds must be at least 1, got {run_seeds}")
    cls = _scenario_cls(scenario)
    if not ranges:
        raise ExperimentError("no parameter to optimise: give --param name=low:high")
    for end in (1, 2):
        validate_params(cls, {**(fixed or {}), **{k: v[end] for k, v in ranges.items()}})
    lows = {**(fixed or {}), **{k: v[1] for k, v in ranges.items()}}
    check_kpis([objective], scenario_kpis(scenario, lows), scenario, "--objective")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExperimentError(f"study folder {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    settings = {
        "scenario": scenario,
        "ranges": {k: [t.__name__, lo, hi] for k, (t, lo, hi) in ranges.items()},
        "objective": objective,
        "direction": direction,
        "seed": seed,
        "run_seeds": run_seeds,
        "fixed": fixed or {},
    }
    (out / "optimize.json").write_text(json.dumps(settings, indent=2) + "\n")

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(out / 'optuna.db').resolve()}"
    existing = 0
    try:
        study = optuna.load_study(study_name=STUDY_NAME, storage=storage)
        existing = len(study.trials)
    except KeyError:
        study = None
    # a resumed study is seeded by seed + trials already run (same sequence otherwise)
    sampler = optuna.samplers.TPESampler(seed=seed + existing)
    study = optuna.create_study(
        study_name=STUDY_NAME,
        storage=storage,
        direction=direction,
        sampler=sampler,
        load_if_exists=True,
    )

    def fn(trial: optuna.Trial) -> float:
        params = dict(fixed or {})
        for name, (kind, lo, hi) in ranges.items():
            if kind is int:
                params[name] = trial.suggest_int(name, lo, hi)
            else:
                params[name] = trial.suggest_float(name, float(lo), float(hi))
        try:
            cls.Params(**params)
        except ValueError:
            return math.nan
        values = []
        for s in range(run_seeds):
            r = execute_run(RunSpec(run_id_of(scenario, params, s), scenario, params, (), s))
            if r["status"] != "ok":
                trial.set_user_attr("error", r["error"])
                return math.nan
            if objective not in r["kpis"]:  # no finite value at the end of the run
                trial.set_user_attr("error", f"{objective} has no value at the end of the run")
                return math.nan
            values.append(float(r["kpis"][objective]))
        return sum(values) / len(values)

    study.optimize(fn, n_trials=trials)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    failed = len(study.trials) - len(done)
    if not done:
        raise ExperimentError(f"no trial succeeded ({failed} failed); see {out / 'optuna.db'}")
    best = study.best_trial
    values = [float(t.value) for t in done if t.value is not None and math.isfinite(t.value)]
    flat = is_flat(values)
    warning = None
    if flat:
        warning = (
            f"the objective {objective} is flat in {', '.join(ranges)}: all {len(values)} "
            f"trials gave {values[0]:.6g}; these parameters do not change it "
            f"(try other parameters, a longer run or another KPI)"
        )
    summary = {
        "value": best.value,
        "params": best.params,
        "trial": best.number,
        "flat": flat,
        "objective_min": min(values, default=None),
        "objective_max": max(values, default=None),
        "warning": warning,
    }
    (out / "best.json").write_text(json.dumps(summary, indent=2) + "\n")
    if plots:
        plot_history(out / "history.png", study, objective, direction)
    return OptimizeResult(
        out, float(best.value), dict(best.params), len(study.trials), failed, flat, warning
    )


def plot_history(path: Path, study: Any, objective: str, direction: str) -> Path:
    """The objective of every completed trial and the best so far (matplotlib)."""
    from defisim.runner.plot_style import new_figure

    xs, ys = [], []
    for t in study.trials:
        if t.value is not None and math.isfinite(t.value):
            xs.append(t.number)
            ys.append(t.value)
    best, cur = [], None
    for y in ys:
        cur = y if cur is None else (max(cur, y) if direction == "maximize" else min(cur, y))
        best.append(cur)
    fig, ax = new_figure(figsize=(7, 4))
    ax.plot(xs, ys, "o", label=objective, alpha=0.7)
    ax.step(xs, best, where="post", color="C3", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title(f"optimisation history ({direction})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path
