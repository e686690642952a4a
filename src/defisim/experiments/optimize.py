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

from .errors import ExperimentError
from .sweep import RunSpec, _scenario_cls, execute_run, parse_value, run_id_of

STUDY_NAME = "defisim"


@dataclass
class OptimizeResult:
    out_dir: Path
    best_value: float
    best_params: dict[str, Any]
    trials: int
    failed: int


def parse_ranges(scenario: str, items: list[str]) -> dict[str, tuple[type, Any, Any]]:
    """``--param name=low:high`` items as ``{name: (int | float, low, high)}``.

    Raises:
        ExperimentError: none given, malformed, unknown name, a parameter that is
            not an int or float, bounds of the wrong type or ``low >= high``.
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
        lo = parse_value(model, name, lo_s, scenario)
        hi = parse_value(model, name, hi_s, scenario)
        if isinstance(lo, bool) or not isinstance(lo, int | float) or isinstance(hi, bool):
            raise ExperimentError(f"--param {name}: only int and float parameters can be optimised")
        kind = int if isinstance(lo, int) and isinstance(hi, int) else float
        ann = str(model.model_fields[name].annotation)
        if kind is int and "float" in ann:
            kind = float
        if not lo < hi:
            raise ExperimentError(f"--param {name}: low ({lo}) must be below high ({hi})")
        out[name] = (kind, lo, hi)
    return out


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

    Raises:
        ExperimentError: bad direction/trials, a KPI the scenario does not have
            (the names are listed), or no trial succeeded.
        MissingExtraError: Optuna is not installed (the ``optimize`` extra).
    """
    from defisim.extras import require

    optuna = require("optimize", "optuna", feature="defisim optimize")
    if direction not in ("maximize", "minimize"):
        raise ExperimentError(f"--direction must be maximize or minimize, got {direction!r}")
    if trials < 1:
        raise ExperimentError("--trials must be at least 1")
    cls = _scenario_cls(scenario)
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
            if objective not in r["kpis"]:
                raise ExperimentError(
                    f"scenario {scenario} has no KPI {objective!r}; "
                    f"KPIs: {', '.join(sorted(r['kpis']))}"
                )
            values.append(float(r["kpis"][objective]))
        return sum(values) / len(values)

    study.optimize(fn, n_trials=trials)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    failed = len(study.trials) - len(done)
    if not done:
        raise ExperimentError(f"no trial succeeded ({failed} failed); see {out / 'optuna.db'}")
    best = study.best_trial
    (out / "best.json").write_text(
        json.dumps({"value": best.value, "params": best.params, "trial": best.number}, indent=2)
        + "\n"
    )
    if plots:
        plot_history(out / "history.png", study, objective, direction)
    return OptimizeResult(out, float(best.value), dict(best.params), len(study.trials), failed)


def plot_history(path: Path, study: Any, objective: str, direction: str) -> Path:
    """The objective of every completed trial and the best so far (matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs, ys = [], []
    for t in study.trials:
        if t.value is not None and math.isfinite(t.value):
            xs.append(t.number)
            ys.append(t.value)
    best, cur = [], None
    for y in ys:
        cur = y if cur is None else (max(cur, y) if direction == "maximize" else min(cur, y))
        best.append(cur)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(xs, ys, "o", label=objective, alpha=0.7)
    ax.step(xs, best, where="post", color="C3", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title(f"optimisation history ({direction})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
