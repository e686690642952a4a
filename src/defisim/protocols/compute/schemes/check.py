"""Checking a user's scheme file (``defisim scheme check FILE``, spec 2: a scheme is
data, so a user adds one without touching the engine).

The file is imported as a fresh module (not added to ``sys.path``) and must define a
:class:`~.engine.SchemeDefinition` in a module-level ``SCHEME`` variable, or exactly
one ``SchemeDefinition`` among its module-level values. The definition's own checks
run when it is built (:class:`~.engine.SchemeDefinition` raises one ``ValueError``);
:func:`structure_problem` adds the checks that need the whole table (reachability,
dead ends, rows that can never fire). Every failure is one
:class:`SchemeFileError` whose message names the file (and line where known).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from .engine import SchemeDefinition

__all__ = ["SchemeFileError", "SchemeSummary", "load_scheme_file", "structure_problem",
           "summarize"]


class SchemeFileError(ValueError):
    """A scheme file that cannot be used; the message names the file (and line)."""


def _line_in(path: Path, exc: BaseException) -> str:
    # the innermost frame of the traceback that lies in the user's file
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename).resolve() == path.resolve():
            return str(frame.lineno)
    return "?"


def _import(path: Path) -> dict:
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    mod_name = f"defisim_user_scheme_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise SchemeFileError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # dataclasses in the file look their module up
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise SchemeFileError(f"{path}:{exc.lineno}: SyntaxError: {exc.msg}") from None
    except ValueError as exc:  # SchemeDefinition's own validation, among others
        raise SchemeFileError(f"{path}:{_line_in(path, exc)}: malformed scheme: {exc}") \
            from None
    except Exception as exc:
        raise SchemeFileError(
            f"{path}:{_line_in(path, exc)}: {type(exc).__name__}: {exc}") from None
    finally:
        sys.modules.pop(mod_name, None)
    return vars(module)


def load_scheme_file(path: str | Path) -> SchemeDefinition:
    """The scheme a Python file defines (module docstring), checked as a whole.

    Raises:
        SchemeFileError: no such file, a syntax error (file:line), an exception while
            importing it (file:line of the innermost frame in the file; a malformed
            definition says ``malformed scheme: scheme 'name': <problem>``), no scheme
            or several without ``SCHEME``, ``SCHEME`` not a definition, or a
            :func:`structure_problem`.
    """
    p = Path(path)
    if not p.is_file():
        raise SchemeFileError(f"{p}: no such file")
    names = _import(p)
    if "SCHEME" in names:
        defn = names["SCHEME"]
        if not isinstance(defn, SchemeDefinition):
            raise SchemeFileError(f"{p}: SCHEME is a {type(defn).__name__}, not a "
                                  "SchemeDefinition")
    else:
        found = {id(v): v for v in names.values() if isinstance(v, SchemeDefinition)}
        if not found:
            raise SchemeFileError(f"{p}: defines no scheme (a module-level "
                                  "SchemeDefinition, or SCHEME = ...)")
        if len(found) > 1:
            listed = ", ".join(sorted(repr(d.name) for d in found.values()))
            raise SchemeFileError(f"{p}: defines several schemes ({listed}); name one "
                                  "with SCHEME = ...")
        (defn,) = found.values()
    problem = structure_problem(defn)
    if problem:
        raise SchemeFileError(f"{p}: malformed scheme: scheme {defn.name!r}: {problem}")
    return defn


def _reachable(defn: SchemeDefinition) -> set[str]:
    seen, todo = {defn.initial_state}, [defn.initial_state]
    while todo:
        state = todo.pop()
        for row in defn.transitions:
            if row.state == state and row.next not in seen:
                seen.add(row.next)
                todo.append(row.next)
    if defn.closed_state and seen & set(defn.timers.reply_states
                                        + defn.timers.negotiation_states):
        seen.add(defn.closed_state)  # a timer closes a topic there
    return seen


def structure_problem(defn: SchemeDefinition) -> str | None:
    """The first whole-table problem of ``defn`` (beyond what its constructor
    checks), or None: no terminal state; a row leaving a terminal state (the engine
    refuses every message there with ``topic_closed``, so it never fires); a state
    no row or timer reaches from the initial state; a non-terminal state with no
    row out and no timer (a topic there is stuck forever)."""
    if not defn.terminal_states:
        return "no terminal state (a topic could never end)"
    for i, row in enumerate(defn.transitions):
        if row.state in defn.terminal_states:
            return (f"transition {i} ({row.state}, {row.message}) leaves terminal "
                    f"state {row.state!r} and can never fire")
    reached = _reachable(defn)
    if unreached := [s for s in defn.states if s not in reached]:
        return f"states {unreached} are unreachable from {defn.initial_state!r}"
    timed = set(defn.timers.reply_states + defn.timers.negotiation_states)
    for s in defn.states:
        if s in defn.terminal_states or s in timed:
            continue
        if not any(row.state == s for row in defn.transitions):
            return f"state {s!r} is not terminal but has no transition out (a dead end)"
    return None


@dataclass(frozen=True)
class SchemeSummary:
    """What ``scheme check`` prints: the scheme's ``name``, ``roles``, ``messages``
    (name -> sender roles), ``states``, ``transitions`` (row count), ``terminal``
    states, ``timed`` (whether it declares any timer)."""

    name: str
    roles: tuple[str, ...]
    messages: dict[str, tuple[str, ...]]
    states: tuple[str, ...]
    transitions: int
    terminal: tuple[str, ...]
    timed: bool

    def lines(self) -> list[str]:
        """The summary as text lines."""
        msgs = ", ".join(f"{m} ({'/'.join(s)})" for m, s in self.messages.items())
        return [f"scheme {self.name!r}: ok",
                f"roles: {', '.join(self.roles)}",
                f"messages ({len(self.messages)}): {msgs}",
                f"states ({len(self.states)}): {', '.join(self.states)}",
                f"transitions: {self.transitions}",
                f"terminal states: {', '.join(self.terminal)}",
                f"timers: {'yes' if self.timed else 'none'}"]


def summarize(defn: SchemeDefinition) -> SchemeSummary:
    """The :class:`SchemeSummary` of a (valid) definition."""
    t = defn.timers
    return SchemeSummary(
        defn.name, tuple(defn.roles), {m.name: tuple(m.senders) for m in defn.messages},
        tuple(defn.states), len(defn.transitions), tuple(defn.terminal_states),
        any(x is not None for x in (t.reply_timeout_s, t.negotiation_timeout_s,
                                    t.request_ttl_s)))
