"""Scenarios (netlists among them) from a user's Python file, loaded without installing
it: ``defisim run path/to/my_netlist.py``, ``defisim netlist run path/to/my_netlist.py``.

The file is imported as a fresh module (its own name, not added to ``sys.path``) and
must define exactly one :class:`~defisim.scenarios.Scenario` subclass with a ``name``
(classes it imports from elsewhere do not count), or name one in a module-level
``SCENARIO`` variable. Registering it with ``@register`` is allowed but not needed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path

from .base import Scenario


class ScenarioFileError(ValueError):
    """A scenario file that cannot be used; the message names the file (and line)."""


def is_scenario_path(name: str) -> bool:
    """Whether ``name`` names a file rather than a registered scenario."""
    return name.endswith(".py") or "/" in name or "\\" in name


def load_scenario_file(path: str | Path) -> type[Scenario]:
    """The scenario class a Python file defines (module docstring).

    Raises:
        ScenarioFileError: no such file, a syntax error (file:line), an exception while
            importing it (file:line of the innermost frame in the file), no scenario
            class or several without ``SCENARIO``.
    """
    p = Path(path)
    if not p.is_file():
        raise ScenarioFileError(f"{p}: no such file")
    digest = hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:12]
    mod_name = f"defisim_user_scenario_{p.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, p)
    if spec is None or spec.loader is None:
        raise ScenarioFileError(f"{p}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(mod_name, None)
        raise ScenarioFileError(f"{p}:{exc.lineno}: SyntaxError: {exc.msg}") from None
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        line = "?"
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if Path(frame.filename).resolve() == p.resolve():
                line = str(frame.lineno)
                break
        raise ScenarioFileError(f"{p}:{line}: {type(exc).__name__}: {exc}") from None
    chosen = getattr(module, "SCENARIO", None)
    if chosen is not None:
        if not (inspect.isclass(chosen) and issubclass(chosen, Scenario)):
            raise ScenarioFileError(f"{p}: SCENARIO is not a Scenario subclass")
        return chosen
    found = [c for c in vars(module).values()
             if inspect.isclass(c) and issubclass(c, Scenario) and c.__module__ == mod_name
             and getattr(c, "name", "")]
    if not found:
        raise ScenarioFileError(f"{p}: defines no scenario (a subclass of "
                                "defisim.scenarios.Scenario with a name)")
    if len(found) > 1:
        names = ", ".join(c.__name__ for c in found)
        raise ScenarioFileError(f"{p}: defines several scenarios ({names}); "
                                "name one with SCENARIO = ...")
    return found[0]


__all__ = ["ScenarioFileError", "is_scenario_path", "load_scenario_file"]
