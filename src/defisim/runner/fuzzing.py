"""Run the fuzz scenario and shrink what it finds: :func:`run_fuzz`.

Replaying, shrinking and saving failing sequences live with the fuzz scenario
(:mod:`defisim.scenarios.fuzzing`); this module adds the run itself (the runner sits
above the scenarios) and re-exports those tools.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from defisim.scenarios.fuzzing import FuzzFailure, _params_model, minimise, save_failure

from .summary import RunResult

if TYPE_CHECKING:
    from defisim.scenarios.fuzz import Fuzz, FuzzParams


def run_fuzz(
    params: FuzzParams | dict[str, Any] | None = None,
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    record: bool = False,
    check_invariants: bool = True,
    progress: bool = False,
) -> tuple[RunResult, Fuzz, FuzzFailure | None]:
    """Run the fuzz scenario; on a violation, shrink it (and save it into ``out_dir``).

    Returns ``(run result, the scenario, the failure or None)``.
    """
    from defisim.scenarios.fuzz import Fuzz, FuzzParams

    from .loop import run_scenario

    p = FuzzParams() if params is None else _params_model(params)
    scn = Fuzz(p)
    result = run_scenario(scn, seed=seed, out_dir=out_dir if record else None,
                          check_invariants=check_invariants, progress=progress, record=record)
    if result.error_type != "InvariantViolation":
        return result, scn, None  # run_scenario called scn.after_run (stats written)
    failure = getattr(scn, "failure", None)  # shrunk by scn.after_run (saved if recording)
    if failure is None:
        failure = minimise(scn, seed)
    if out_dir is not None and result.out_dir is None:
        save_failure(out_dir, failure)
    return result, scn, failure


__all__ = ["run_fuzz"]
