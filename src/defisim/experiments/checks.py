"""Checks of what an experiment is given, done before anything is created.

- :func:`scenario_kpis`: the KPI names a sweep or study of a scenario can use (the
  run's KPIs, :func:`defisim.runner.kpis.kpi_names`, plus the risk metrics a sweep
  adds to every ``*pnl`` KPI), known by building the scenario, not running it.
- :func:`check_kpis`: every name given is one of them (else the closest names and
  the valid ones, in one line).
- :func:`param_bounds` / :func:`check_range`: a ``low:high`` range lies within a
  parameter's pydantic bounds (``ge``/``gt``/``le``/``lt`` of its ``Field``).
- :func:`validate_params`: the parameter model accepts a set of values.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Iterable
from typing import Any

from .errors import ExperimentError

PNL_RISK_METRICS = ("sharpe", "sortino", "max_drawdown", "cvar")
"""What :func:`~defisim.experiments.sweep.pnl_risk` adds to every ``*pnl`` KPI."""

_BOUNDS = {
    "ge": (operator.ge, ">="),
    "gt": (operator.gt, ">"),
    "le": (operator.le, "<="),
    "lt": (operator.lt, "<"),
}


def validate_params(cls: type, params: dict[str, Any]) -> Any:
    """``cls.Params(**params)``; a refusal as one line naming the parameter.

    Raises:
        ExperimentError: ``invalid parameter <name>: <pydantic's message>``.
    """
    from pydantic import ValidationError

    try:
        return cls.Params(**params)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e.get("loc", ())) or "parameters"
        raise ExperimentError(f"invalid parameter {loc}: {e.get('msg', '')}") from None


def scenario_kpis(scenario: str, params: dict[str, Any] | None = None) -> list[str]:
    """The KPI names of a run of ``scenario`` with ``params`` in a sweep or study:
    the scenario's KPIs, the built-ins (``<market>.<name>``) and, for every KPI whose
    name ends in ``pnl``, ``<kpi>.sharpe/.sortino/.max_drawdown/.cvar``.

    The scenario is built, not run (no step, nothing written).

    Raises:
        ExperimentError: unknown scenario, parameters the model refuses, or a
            scenario that cannot be built with them.
    """
    from defisim.runner import RunSetupError
    from defisim.runner.kpis import kpi_names

    from .sweep import _scenario_cls

    cls = _scenario_cls(scenario)
    scn = cls(validate_params(cls, dict(params or {})))
    try:
        names = kpi_names(scn)
    except RunSetupError as exc:
        raise ExperimentError(str(exc)) from None
    risk = [f"{n}.{m}" for n in names if n.lower().endswith("pnl") for m in PNL_RISK_METRICS]
    return names + risk


def describe_kpis(names: Iterable[str]) -> str:
    """``names`` in a short line: dotted names sharing a prefix as ``prefix.{a,b}``."""
    plain: list[str] = []
    groups: dict[str, list[str]] = {}
    for n in names:
        head, dot, tail = n.partition(".")
        if dot:
            groups.setdefault(head, []).append(tail)
        else:
            plain.append(n)
    parts = list(plain)
    for head, tails in groups.items():
        parts.append(f"{head}.{tails[0]}" if len(tails) == 1 else f"{head}.{{{','.join(tails)}}}")
    return ", ".join(parts)


def check_kpis(
    names: Iterable[str], valid: list[str], scenario: str, option: str = "--kpi"
) -> list[str]:
    """``names`` (without repeats) when all are in ``valid``.

    Raises:
        ExperimentError: a name not in ``valid``: the closest valid names
            (:func:`difflib.get_close_matches`) and all valid names, in one line.
    """
    out: list[str] = []
    for name in names:
        if name in valid:
            if name not in out:
                out.append(name)
            continue
        close = difflib.get_close_matches(name, valid, n=3, cutoff=0.6)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        raise ExperimentError(
            f"{option}: scenario {scenario} has no KPI {name!r}{hint}; "
            f"KPIs: {describe_kpis(valid)}"
        )
    return out


def param_bounds(model: type, name: str) -> list[tuple[str, Any]]:
    """The bounds of parameter ``name`` of ``model`` as ``[(kind, value)]``, ``kind``
    one of ``ge``, ``gt``, ``le``, ``lt`` (from its ``Field`` metadata)."""
    out: list[tuple[str, Any]] = []
    for meta in model.model_fields[name].metadata:
        for kind in _BOUNDS:
            value = getattr(meta, kind, None)
            if value is not None:
                out.append((kind, value))
    return out


def check_range(model: type, name: str, low: Any, high: Any, option: str = "--param") -> None:
    """``low < high`` and both within the bounds of parameter ``name``.

    Raises:
        ExperimentError: the end outside a bound, naming it (``maker_fee <= 1 (le)``),
            or ``low >= high``.
    """
    for kind, bound in param_bounds(model, name):
        op, sym = _BOUNDS[kind]
        for end, value in (("low", low), ("high", high)):
            if not op(value, bound):
                raise ExperimentError(
                    f"{option} {name}={low}:{high}: {end} {value} is out of bounds; "
                    f"the parameter must be {name} {sym} {bound} ({kind}={bound})"
                )
    if not low < high:
        raise ExperimentError(f"{option} {name}: low ({low}) must be below high ({high})")
