"""Replaying a recorded run and forking it: :func:`replay_run`, :func:`fork_run`.

A run recorded with ``state_hash=True`` (``defisim run --state-hash``) holds each
block's state hash and every transaction (:mod:`defisim.runner.replay_log`).

Replay rebuilds the scenario's initial state from the run folder's
``params.json`` (scenario, resolved parameters, seed; ``overrides`` change
parameters), then, without agents, re-executes the recorded transactions block by
block: each block opens at its recorded time, its transactions (and set-up calls)
are sent in their recorded order, the block closes and the chain's state hash is
compared with the recorded one. The first block whose hash differs is reported.

Fork (:func:`fork_run`) continues a run from block ``N`` under changed parameters.
Agents keep state of their own (inventories, signals, random generators) that the
transactions do not give back, so the fork re-runs the original scenario with its
agents and seed to block ``N`` (exact: the hash of every block up to ``N`` is
checked against the recorded one), then switches to the changed parameters: the
scenario's parameters are replaced by the new ones (agents and protocols keep their
objects; what reads ``scenario.params`` from then on, such as the number of steps
and the scenario's hooks, sees the new values) and the run continues, recorded into
a new run folder whose blocks up to ``N`` equal the original's.

What a changed parameter can change after the fork is what the scenario declares
(:attr:`~defisim.scenarios.base.Scenario.fork_params`) and applies at the fork
(:meth:`~defisim.scenarios.base.Scenario.apply_fork`: a market parameter through a
governance proposal, an agent's setting on the agent), plus the run-length
parameters (``steps``, ``hours``: a fork may lengthen a run, not shorten it).
Parameters used once by ``build`` that the scenario cannot change in a running
simulation are refused (:class:`ReplayError` naming them and listing those it can):
a what-if that silently changed nothing would mislead. ``on_fork`` callables get the
:class:`~defisim.runner.run.Run` at the fork, after the scenario's changes: a Python
what-if beyond parameters (add an agent with :meth:`Run.add_agent`, change an
agent's attribute, send a transaction).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defisim.chain import SETUP, Transaction
from defisim.chain.tx_codec import decode_args

__all__ = ["BlockDivergence", "ReplayError", "ReplayResult", "check_forkable", "fork_changes",
           "fork_run", "load_run", "replay_run"]


class ReplayError(ValueError):
    """The run folder cannot be replayed (missing, not recorded with state hashes, a
    block beyond the run, a bad parameter); the message is one line."""


@dataclass
class BlockDivergence:
    """The first block whose state hash differs.

    Attributes:
        block, time_ns: the block and its time.
        recorded, replayed: the two hashes (64 hex digits).
        transactions: the block's transactions (``Transaction``, in order).
    """

    block: int
    time_ns: int
    recorded: str
    replayed: str
    transactions: list[Transaction] = field(default_factory=list)


@dataclass
class ReplayResult:
    """What a replay found: ``blocks`` checked (all, or up to the divergence),
    ``transactions`` sent, ``divergence`` (``None``: every block matched)."""

    blocks: int
    transactions: int
    divergence: BlockDivergence | None = None

    @property
    def ok(self) -> bool:
        return self.divergence is None


@dataclass
class RecordedRun:
    """A run folder's replay record: ``params.json``'s ``scenario``, ``params`` and
    ``seed``; ``blocks`` as ``(block, time_ns, step, hash)``; ``transactions`` per
    block (in order)."""

    folder: Path
    scenario: str
    params: dict[str, Any]
    seed: int
    blocks: list[tuple[int, int, int, str]]
    transactions: dict[int, list[Transaction]]


def load_run(folder: str | os.PathLike) -> RecordedRun:
    """Read a run folder's ``params.json`` and replay tables.

    Raises:
        ReplayError: no such folder, no ``params.json`` / ``run.duckdb``, or a run
            recorded without state hashes.
    """
    from defisim.store import RunStore

    p = Path(folder)
    if not p.is_dir():
        raise ReplayError(f"run folder {p} does not exist" if not p.exists()
                          else f"{p} is not a folder")
    pj, db = p / "params.json", p / "run.duckdb"
    if not pj.is_file() or not db.is_file():
        raise ReplayError(f"{p} is not a run folder (no {'params.json' if not pj.is_file() else 'run.duckdb'})")
    try:
        meta = json.loads(pj.read_text())
        scenario, params, seed = meta["scenario"], dict(meta["params"]), int(meta["seed"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ReplayError(f"{pj}: unreadable ({type(exc).__name__}: {exc})") from None
    with RunStore(db, read_only=True) as store:
        if "block_hashes" not in store.tables():
            raise ReplayError(f"run {p} was recorded without state hashes (run it with --state-hash)")
        blocks = [(int(b), int(t), int(s), str(h)) for b, t, s, h in store.query(
            "SELECT block, time_ns, step, hash FROM block_hashes ORDER BY block")]
        rows = store.query(
            "SELECT block, arrival, tx_id, nonce, sender, protocol, call, args, gas_limit, "
            "max_fee_per_gas, max_priority_fee_per_gas FROM transactions ORDER BY seq")
    txs: dict[int, list[Transaction]] = {}
    for b, arrival, tx_id, nonce, sender, protocol, call, args, gas, fee, tip in rows:
        tx = Transaction(sender, protocol, call, decode_args(args), int(nonce), int(gas), int(fee),
                         int(tip), int(tx_id), int(arrival))
        txs.setdefault(int(b), []).append(tx)
    return RecordedRun(p, scenario, params, seed, blocks, txs)


def make_scenario(scenario: str, params: dict[str, Any], overrides: dict[str, Any] | None = None):
    """The scenario ``scenario`` (a registered name or a file) with ``params``, changed
    by ``overrides``.

    Raises:
        ReplayError: unknown scenario or parameter, or an invalid value.
    """
    from pydantic import ValidationError

    from defisim.scenarios import get_scenario
    from defisim.scenarios.loader import ScenarioFileError, is_scenario_path, load_scenario_file

    try:
        cls = load_scenario_file(scenario) if is_scenario_path(scenario) else get_scenario(scenario)
    except (KeyError, ScenarioFileError) as exc:
        raise ReplayError(f"scenario {scenario!r}: {exc}") from None
    values = dict(params)
    for name, v in (overrides or {}).items():
        if name not in cls.Params.model_fields:
            raise ReplayError(f"scenario {scenario} has no parameter {name!r}")
        values[name] = v
    try:
        return cls(cls.Params(**values))
    except ValidationError as exc:
        e = exc.errors()[0]
        raise ReplayError(f"invalid parameter {'.'.join(map(str, e['loc']))}: {e['msg']}") from None


def _apply(sim: Any, tx: Transaction) -> None:
    """Send a recorded transaction, or re-apply a recorded set-up call."""
    if tx.protocol == SETUP:
        owner: Any = sim
        facade, _, method = tx.call.rpartition(".")
        if facade:
            owner = getattr(sim, facade, None)
        fn = getattr(owner, method, None) if not method.startswith("_") else None
        if fn is None:
            raise ReplayError(f"unknown set-up call {tx.call!r} in the transaction log")
        fn(*tx.args)
        return
    sim.send(Transaction(tx.sender, tx.protocol, tx.call, tx.args, gas_limit=tx.gas_limit,
                         max_fee_per_gas=tx.max_fee_per_gas,
                         max_priority_fee_per_gas=tx.max_priority_fee_per_gas))


def replay_run(folder: str | os.PathLike, overrides: dict[str, Any] | None = None,
               to_block: int | None = None) -> ReplayResult:
    """Re-execute a recorded run's transactions without agents and check every block's
    hash (module docstring); stop at the first divergence (or after ``to_block``).

    Args:
        folder: the run folder (recorded with ``state_hash=True``).
        overrides: parameter name -> value, replacing the recorded ones (a
            deliberate change shows where it first changes the state).
        to_block: the last block to check (``None``: every recorded block).

    Raises:
        ReplayError: bad folder, parameters, or ``to_block`` beyond the run.
    """
    rec = load_run(folder)
    if to_block is not None and not 1 <= to_block <= (rec.blocks[-1][0] if rec.blocks else 0):
        raise ReplayError(f"block {to_block} is not in the run (blocks 1 to "
                          f"{rec.blocks[-1][0] if rec.blocks else 0})")
    scn = make_scenario(rec.scenario, rec.params, overrides)
    sim = scn.make_simulation(rec.seed, check_invariants=False, keep_events=False)
    scn.build(sim)  # the markets, parties and funding; the agents are not used
    chain = sim.chain
    chain.start_tx_log()
    sent = 0
    checked = 0
    for block, time_ns, _step, recorded in rec.blocks:
        if to_block is not None and block > to_block:
            break
        if chain.block != block:
            chain.begin_block(time_ns)
        block_txs = rec.transactions.get(block, [])
        for tx in block_txs:
            _apply(sim, tx)
        sent += len(block_txs)
        chain.end_block()
        chain.tx_log.clear()
        checked += 1
        h = chain.state_hash()
        if h != recorded:
            return ReplayResult(checked, sent,
                                BlockDivergence(block, time_ns, recorded, h, list(block_txs)))
    return ReplayResult(checked, sent)


def fork_changes(original: Any, changed: Any) -> dict[str, tuple[Any, Any]]:
    """Parameter name -> ``(old, new)`` for every parameter whose value differs."""
    a, b = original.params.model_dump(), changed.params.model_dump()
    return {k: (a[k], b[k]) for k in b if a.get(k) != b[k]}


def check_forkable(scenario: Any, changes: dict[str, tuple[Any, Any]]) -> None:
    """Refuse changed parameters the scenario cannot apply mid-run.

    Raises:
        ReplayError: naming the refused parameters and listing those it can change.
    """
    from defisim.scenarios.base import RUN_LENGTH_PARAMS

    allowed = set(scenario.fork_params) | (RUN_LENGTH_PARAMS & set(scenario.Params.model_fields))
    refused = sorted(set(changes) - allowed)
    if refused:
        can = sorted(allowed)
        raise ReplayError(f"scenario {scenario.name} cannot change {', '.join(refused)} in a "
                          f"running simulation (a fork can change: {', '.join(can)})")


def fork_run(folder: str | os.PathLike, at_block: int, out: str | os.PathLike,
             overrides: dict[str, Any] | None = None, *, force: bool = False,
             progress: bool = False, plots: bool = False, command: list[str] | None = None,
             on_fork: list[Callable[[Any], None]] | None = None):
    """Continue a recorded run from block ``at_block`` under changed parameters, into a
    new run folder ``out`` (module docstring: the original is re-run with its agents to
    ``at_block``, every hash checked, then the scenario applies the changes).

    Args:
        on_fork: callables ``f(run)`` called once at the fork, after the scenario's
            changes (the :class:`~defisim.runner.run.Run`, between block ``at_block``
            and the next).

    Returns:
        The new run's :class:`~defisim.runner.summary.RunResult`.

    Raises:
        ReplayError: bad folder or parameters, a parameter the scenario cannot change
            mid-run (before anything runs), ``at_block`` outside the run, or a re-run
            whose hash differs from the recorded one (the code changed since).
    """
    from .loop import run_scenario

    rec = load_run(folder)
    last = rec.blocks[-1][0] if rec.blocks else 0
    if not 1 <= at_block <= last:
        raise ReplayError(f"block {at_block} is not in the run (blocks 1 to {last})")
    expected = {b: h for b, _t, _s, h in rec.blocks}
    original = make_scenario(rec.scenario, rec.params)
    changed = make_scenario(rec.scenario, rec.params, overrides)
    if changed.total_steps() < original.total_steps():
        raise ReplayError(f"a fork cannot shorten the run ({changed.total_steps()} steps < "
                          f"{original.total_steps()})")
    changes = fork_changes(original, changed)
    check_forkable(original, changes)
    switch = _ForkSwitch(original, changed, at_block, expected, changes, list(on_fork or ()))
    return run_scenario(original, seed=rec.seed, out_dir=out, progress=progress, plots=plots,
                        force=force, command=command, hooks=[switch], state_hash=True)


class _ForkSwitch:
    """A step hook: checks each block's hash against the original's up to the fork
    block, then gives the scenario the changed parameters."""

    def __init__(self, scenario: Any, changed: Any, at_block: int, expected: dict[int, str],
                 changes: dict[str, tuple[Any, Any]], on_fork: list[Callable[[Any], None]]):
        from defisim.scenarios.base import RUN_LENGTH_PARAMS

        self.scenario, self.changed = scenario, changed
        self.at_block, self.expected = at_block, expected
        self.changes = {k: v for k, v in changes.items() if k not in RUN_LENGTH_PARAMS}
        self.on_fork = on_fork
        self.switched = False

    def __call__(self, run: Any, step: int, kpis: Any) -> None:
        if self.switched:
            return
        chain = run.sim.chain
        block = chain.block
        h = chain.state_hash()
        if h != self.expected.get(block):
            raise ReplayError(f"fork: block {block} of the re-run has hash {h[:16]}..., the "
                              f"recorded run {str(self.expected.get(block))[:16]}... (the code or "
                              "its inputs changed since the run)")
        if block >= self.at_block:
            self.scenario.params = self.changed.params
            if self.changes:
                applied = set(self.scenario.apply_fork(run.sim, dict(self.changes)))
                missed = sorted(set(self.changes) - applied)
                if missed:
                    raise ReplayError(f"fork: scenario {self.scenario.name} did not apply "
                                      f"{', '.join(missed)} at block {block} (see its "
                                      "rejection events)")
            steps = self.scenario.total_steps()
            run.steps = steps
            self.switched = True
            for f in self.on_fork:
                f(run)
