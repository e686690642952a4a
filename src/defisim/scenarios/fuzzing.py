"""Fuzzing support: replay, shrink and save the transaction sequences of the ``fuzz`` scenario.

The ``fuzz`` scenario's agents send every transaction through a
:class:`~defisim.agents.fuzzers.TxLog`, which keeps them as plain data together
with a block marker per step. That sequence, from the world the scenario builds
(:meth:`~defisim.scenarios.fuzz.Fuzz.setup_world`, no randomness), replays the run
exactly: :func:`replay` executes it on a fresh
:class:`~defisim.Simulation` (each marker closes the open block and opens the next at
its time; the last block is closed at the end) with the invariant checks on.

When a run stops on an :class:`~defisim.chain.InvariantViolation`, :func:`shrink`
looks for a short sequence that still fails the same way (delta debugging, Zeller
and Hildebrandt 2002, "Simplifying and isolating failure-inducing input"): drop chunks
of decreasing size (and, once the sequence is short, all entries of one kind at a
time), keeping a candidate whenever its replay still raises a violation with the same
*signature* (the first violation line with its numbers blanked out), and cutting it at
the block where it failed. Replays restart from pickled checkpoints of the current
shortest sequence, so removing entries near its end costs only its end. Dropping
a block marker merges two blocks; transactions refer to orders through the id of the
transaction that created them (``ref``), so dropping an order does not retarget the
amendments of another. The result is 1-minimal when the budget allows: removing any
single entry makes it pass.

:func:`after_run` (called by ``defisim run``) writes ``fuzz-stats.json`` (transaction
counts by kind and outcome, closeouts, auctions, slashes) and, after a violation,
``fuzz-failure-<seed>.json``: the seed, the parameters, the violation text, the shortest
failing sequence found (with each transaction's outcome in the replay) and the shrink
statistics. ``defisim replay-fuzz FILE`` replays such a file; ``defisim run fuzz --seed
S`` with the same parameters reproduces the original run. Files are JSON, except that
non-finite numbers of malformed transactions are written as ``NaN``/``Infinity`` (as
Python's :mod:`json` reads and writes them).
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defisim.agents.fuzzers import BLOCK, TxLog
from defisim.chain import InvariantViolation
from defisim.service import Simulation

if TYPE_CHECKING:
    from defisim.scenarios.fuzz import Fuzz, FuzzParams


FORMAT = "defisim-fuzz-failure/1"
STATS_FILE = "fuzz-stats.json"


def failure_file_name(seed: int) -> str:
    return f"fuzz-failure-{seed}.json"


# ------------------------------------------------------------------------- signatures
_NUMBER = re.compile(r"-?\d+")


def violation_signature(violation: InvariantViolation) -> list[str]:
    """The violation lines with every number replaced by ``#`` (what a shrunk sequence
    must still produce: its first line)."""
    return [_NUMBER.sub("#", v) for v in violation.violations]


def _matches(violation: InvariantViolation | None, signature: Sequence[str]) -> bool:
    if violation is None:
        return False
    if not signature:
        return True
    return signature[0] in violation_signature(violation)


# ---------------------------------------------------------------------------- replay
@dataclass
class ReplayResult:
    """What a replay did.

    Attributes:
        violation: the violation raised, or ``None`` if every block closed cleanly.
        executed: entries executed before the failing block end (all of them when the
            last block failed): ``sequence[:executed]`` fails the same way.
        log: the replay's transaction log (outcomes by transaction id, statistics).
        sim: the simulation after the replay.
    """

    violation: InvariantViolation | None
    executed: int
    log: TxLog
    sim: Simulation


def _params_model(params: FuzzParams | dict[str, Any]) -> FuzzParams:
    from defisim.scenarios.fuzz import FuzzParams

    return params if isinstance(params, FuzzParams) else FuzzParams.model_validate(params)


def replay(params: FuzzParams | dict[str, Any], seed: int, sequence: Sequence[dict],
           check_invariants: bool = True) -> ReplayResult:
    """Execute ``sequence`` (transactions and block markers) on the fuzz world.

    The simulation is ``Simulation(seed, check_invariants)``; the world is
    :meth:`Fuzz.setup_world`; each transaction goes through a fresh :class:`TxLog`
    (same ids, so ``ref`` resolves to the orders this replay created); the last block
    is closed at the end. Only an :class:`InvariantViolation` is caught.
    """
    from defisim.scenarios.fuzz import Fuzz

    scn = Fuzz(_params_model(params))
    sim = scn.make_simulation(seed, check_invariants, keep_events=False)
    log = scn.setup_world(sim).log
    done = 0
    try:
        for i, e in enumerate(sequence):
            if e["kind"] == BLOCK:
                done = i  # a violation at this block end needs only the entries before it
                sim.end_block()
                sim.begin_block(max(int(e["t_ns"]), sim.now_ns))
            else:
                log.run(sim, dict(e))
        done = len(sequence)
        sim.end_block()
    except InvariantViolation as exc:
        return ReplayResult(exc, done, log, sim)
    return ReplayResult(None, len(sequence), log, sim)


# ---------------------------------------------------------------------------- shrink
@dataclass
class ShrinkResult:
    """The shortest failing sequence found, and what it took."""

    sequence: list[dict]
    violation: InvariantViolation
    replays: int
    seconds: float
    complete: bool
    """True when the sequence is 1-minimal (the budget did not cut the search short)."""


def count_transactions(sequence: Sequence[dict]) -> int:
    """Entries that are transactions (not block markers)."""
    return sum(1 for e in sequence if e["kind"] != BLOCK)


class _Replayer:
    """Replays the candidates of one shrink, each from the latest checkpoint of the
    current best sequence that lies in the prefix the candidate shares with it.

    A checkpoint is the pickled ``(simulation, log)`` before entry ``i`` (about 20 ms and
    a few hundred kB for a busy world); about ``n`` of them are kept along the best
    sequence, so removing a chunk near its end replays only the end.
    """

    def __init__(self, params: FuzzParams, seed: int, n: int = 32) -> None:
        self.params = params
        self.seed = seed
        self.n = n
        self.checkpoints: list[tuple[int, bytes]] = []  # (entry index, state), sorted

    def fresh(self) -> tuple[Simulation, TxLog]:
        from defisim.scenarios.fuzz import Fuzz

        scn = Fuzz(self.params)
        sim = scn.make_simulation(self.seed, True, keep_events=False)
        log = scn.setup_world(sim, keep_log=False).log
        return sim, log

    def run(self, seq: Sequence[dict], shared: int
            ) -> tuple[InvariantViolation | None, int, list[tuple[int, bytes]]]:
        """Replay ``seq``, whose first ``shared`` entries are those of the best sequence:
        ``(violation, entries executed, checkpoints along seq)``."""
        usable = [c for c in self.checkpoints if c[0] <= shared]
        if usable:
            start = usable[-1][0]
            sim, log = pickle.loads(usable[-1][1])
        else:
            start = 0
            sim, log = self.fresh()
        every = max(1, len(seq) // self.n)
        cps = list(usable)
        done = start
        try:
            for i in range(start, len(seq)):
                if i > start and i % every == 0:
                    cps.append((i, pickle.dumps((sim, log), protocol=pickle.HIGHEST_PROTOCOL)))
                e = seq[i]
                if e["kind"] == BLOCK:
                    done = i
                    sim.end_block()
                    sim.begin_block(max(int(e["t_ns"]), sim.now_ns))
                else:
                    log.run(sim, dict(e))
            done = len(seq)
            sim.end_block()
        except InvariantViolation as exc:
            return exc, done, cps
        return None, len(seq), cps


def _shared_prefix(a: Sequence[dict], b: Sequence[dict]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] is not b[i]:
            return i
    return n


def shrink(
    params: FuzzParams | dict[str, Any],
    seed: int,
    sequence: Sequence[dict],
    signature: Sequence[str] | None = None,
    budget_s: float = 300.0,
    max_replays: int = 100_000,
    progress: Callable[[str], None] | None = None,
) -> ShrinkResult:
    """Delta-debug ``sequence`` down to a short one that fails with the same signature.

    Passes: chunks of the sequence from its end, halving the chunk size when a pass
    removes nothing (a pass that removed something is repeated); once the sequence is
    short (<= 2,000 entries), first all entries of one kind at a time. Replays restart
    from checkpoints (:class:`_Replayer`).

    Args:
        params, seed: the fuzz world (as :func:`replay`).
        sequence: a failing sequence (transactions and block markers).
        signature: what must still fail (:func:`violation_signature`); default the
            signature of ``sequence``'s own violation.
        budget_s, max_replays: stop early (the best sequence so far is returned).
        progress: called with a one-line status after each pass.

    Raises:
        ValueError: ``sequence`` does not fail when replayed.
    """
    t0 = time.perf_counter()
    rp = _Replayer(_params_model(params), seed)
    seq = list(sequence)
    violation, executed, rp.checkpoints = rp.run(seq, 0)
    replays = 1
    if violation is None:
        raise ValueError("the sequence does not fail when replayed")
    sig = list(signature) if signature is not None else violation_signature(violation)
    if not _matches(violation, sig):
        raise ValueError("the sequence fails differently: " + violation.violations[0])
    best = seq[:executed]
    best_violation = violation
    rp.checkpoints = [c for c in rp.checkpoints if c[0] <= executed]

    def out_of_budget() -> bool:
        return time.perf_counter() - t0 > budget_s or replays >= max_replays

    def attempt(candidate: list[dict]) -> bool:
        nonlocal best, best_violation, replays
        replays += 1
        v, n, cps = rp.run(candidate, _shared_prefix(best, candidate))
        if _matches(v, sig):
            best, best_violation = candidate[:n], v
            rp.checkpoints = [c for c in cps if c[0] <= n]
            return True
        return False

    def say(what: str) -> None:
        if progress is not None:
            progress(f"shrinking: {len(best)} entries ({count_transactions(best)} transactions) "
                     f"after {what}, {replays} replays, {time.perf_counter() - t0:.1f} s")

    kinds_done = False
    complete = False
    chunk = max(1, len(best) // 2)
    while best and not out_of_budget():
        if not kinds_done and len(best) <= 2000:  # whole kinds at once, most frequent first
            kinds_done = True
            counts: dict[str, int] = {}
            for e in best:
                counts[e["kind"]] = counts.get(e["kind"], 0) + 1
            for kind in sorted(counts, key=lambda k: -counts[k]):
                if out_of_budget():
                    break
                cand = [e for e in best if e["kind"] != kind]
                if len(cand) < len(best):
                    attempt(cand)
            chunk = min(chunk, max(1, len(best) // 2))
            say("removing whole kinds")
        removed = False
        start = len(best) - chunk  # from the end: later entries depend on earlier ones
        while start > -chunk and not out_of_budget():
            lo = max(0, start)
            cand = best[:lo] + best[start + chunk:]
            if len(cand) < len(best) and attempt(cand):
                removed = True
            start -= chunk
        say(f"chunks of {chunk}")
        if removed:
            chunk = min(chunk, max(1, len(best) // 2))
            continue
        if chunk == 1:
            complete = kinds_done and not out_of_budget()
            break
        chunk = max(1, chunk // 2)
    return ShrinkResult(best, best_violation, replays, time.perf_counter() - t0, complete)


# ---------------------------------------------------------------------- failure files
@dataclass
class FuzzFailure:
    """A saved failure: enough to replay it (``defisim replay-fuzz FILE``)."""

    seed: int
    params: dict[str, Any]
    violation: str
    signature: list[str]
    sequence: list[dict]
    outcomes: list[str | None] = field(default_factory=list)
    original_entries: int = 0
    original_transactions: int = 0
    shrink: dict[str, Any] = field(default_factory=dict)

    @property
    def transactions(self) -> int:
        return count_transactions(self.sequence)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "scenario": "fuzz",
            "seed": self.seed,
            "params": self.params,
            "violation": self.violation,
            "signature": self.signature,
            "transactions": self.transactions,
            "entries": len(self.sequence),
            "original_entries": self.original_entries,
            "original_transactions": self.original_transactions,
            "shrink": self.shrink,
            "sequence": self.sequence,
            "outcomes": self.outcomes,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FuzzFailure:
        if d.get("format") != FORMAT:
            raise ValueError(f"not a fuzz failure file (format {d.get('format')!r}, expected {FORMAT})")
        return cls(int(d["seed"]), dict(d["params"]), d["violation"], list(d["signature"]),
                   list(d["sequence"]), list(d.get("outcomes", [])),
                   int(d.get("original_entries", 0)), int(d.get("original_transactions", 0)),
                   dict(d.get("shrink", {})))


def outcomes_of(sequence: Sequence[dict], log: TxLog) -> list[str | None]:
    """Each entry's outcome in a replay (``None`` for block markers)."""
    return [None if e["kind"] == BLOCK else log.outcomes.get(e["id"]) for e in sequence]


def save_failure(folder: str | os.PathLike, failure: FuzzFailure) -> Path:
    """Write ``fuzz-failure-<seed>.json`` into ``folder`` (created if needed); return its path."""
    p = Path(folder)
    p.mkdir(parents=True, exist_ok=True)
    path = p / failure_file_name(failure.seed)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(failure.to_json(), indent=1) + "\n")
    tmp.replace(path)
    return path


def load_failure(path: str | os.PathLike) -> FuzzFailure:
    """Read a failure file.

    Raises:
        ValueError: not a fuzz failure file (or malformed JSON); OSError: unreadable.
    """
    try:
        d = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    if not isinstance(d, dict):
        raise ValueError(f"{path}: not a fuzz failure file")
    try:
        return FuzzFailure.from_json(d)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: malformed fuzz failure file ({exc!r})") from None


def replay_failure(failure: FuzzFailure) -> ReplayResult:
    """Replay a saved failure's sequence."""
    return replay(failure.params, failure.seed, failure.sequence)


def minimise(
    scenario: Fuzz,
    seed: int,
    budget_s: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> FuzzFailure:
    """Shrink the logged sequence of a fuzz run that stopped on a violation (unless
    ``params.shrink`` is off: then the sequence up to the failing block), replay the
    result once more for its outcomes, and return it as a :class:`FuzzFailure`.

    Raises:
        ValueError: the scenario kept no log, or its log does not fail when replayed.
    """
    if scenario.ctx is None or not scenario.ctx.log.keep:
        raise ValueError("the fuzz scenario kept no transaction log")
    params = scenario.params.model_dump(mode="json")
    seq = list(scenario.ctx.log.entries)
    budget = scenario.params.shrink_budget_s if budget_s is None else budget_s
    if scenario.params.shrink:
        res = shrink(params, seed, seq, budget_s=budget, progress=progress)
        best, v = res.sequence, res.violation
        info = {"replays": res.replays, "seconds": round(res.seconds, 3), "complete": res.complete}
    else:
        r = replay(params, seed, seq)
        if r.violation is None:
            raise ValueError("the sequence does not fail when replayed")
        best, v, info = seq[: r.executed], r.violation, {"replays": 1, "complete": False}
    final = replay(params, seed, best)
    return FuzzFailure(seed, params, str(final.violation or v), violation_signature(v), best,
                       outcomes_of(best, final.log), len(seq), count_transactions(seq), info)


def stats_of(scenario: Fuzz) -> dict[str, Any]:
    """Transaction counts by kind and outcome, and the run's event counters."""
    log = scenario.ctx.log if scenario.ctx is not None else None
    by_label: dict[str, int] = {"accepted": 0, "rejected": 0, "crashed": 0}
    if log is not None:
        for (_, label, _), n in log.stats.items():
            by_label[label] = by_label.get(label, 0) + n
    return {
        "transactions": sum(by_label.values()),
        **by_label,
        "counters": scenario.counters.as_dict(),
        "by_kind": log.summary() if log is not None else {},
    }


def after_run(scenario: Any, result: Any, echo: Callable[[str], None] = print) -> FuzzFailure | None:
    """What ``defisim run`` does after a run of the ``fuzz`` scenario (others: nothing).

    Writes ``fuzz-stats.json`` into the run folder; after an invariant violation,
    shrinks the logged sequence (``params.shrink``), saves ``fuzz-failure-<seed>.json``
    there and says where (``echo``). Returns the failure, if any.
    """
    from defisim.scenarios.fuzz import Fuzz

    if not isinstance(scenario, Fuzz):
        return None
    out = result.out_dir
    if out is not None:
        (Path(out) / STATS_FILE).write_text(json.dumps(stats_of(scenario), indent=1) + "\n")
    if result.error_type != "InvariantViolation":
        return None
    echo(f"fuzz: invariant violation after {result.steps} steps; shrinking the "
         f"{len(scenario.ctx.log) if scenario.ctx else 0}-entry sequence ...")
    last = [time.perf_counter()]

    def progress(line: str) -> None:  # at most one status line every 10 s
        if time.perf_counter() - last[0] >= 10:
            last[0] = time.perf_counter()
            echo(line)

    try:
        failure = minimise(scenario, result.seed, progress=progress)
    except ValueError as exc:
        echo(f"fuzz: could not replay the failure: {exc}")
        return None
    echo(f"fuzz: shortest failing sequence: {failure.transactions} transactions, "
         f"{len(failure.sequence)} entries (from {failure.original_entries}; "
         f"{failure.shrink.get('replays')} replays)")
    if out is not None:
        path = save_failure(out, failure)
        echo(f"fuzz: saved {path}; replay it with `defisim replay-fuzz {path}`")
    return failure


def format_replay(failure: FuzzFailure, result: ReplayResult) -> str:
    """The sequence with each transaction's outcome in ``result``, and the violation."""
    lines = [f"fuzz failure (seed {failure.seed}): {failure.transactions} transactions, "
             f"{len(failure.sequence)} entries"]
    t = 0
    for e in failure.sequence:
        if e["kind"] == BLOCK:
            t = e["t_ns"]
            lines.append(f"  -- block at t={t / 1e9:g} s")
            continue
        fields = {k: v for k, v in e.items() if k not in ("id", "kind")}
        text = ", ".join(f"{k}={_fmt(v)}" for k, v in fields.items())
        lines.append(f"  #{e['id']} {e['kind']}({text}) -> {result.log.outcomes.get(e['id'], '?')}")
    if result.violation is None:
        lines.append("no violation: the sequence passes now")
    else:
        lines.append(str(result.violation).splitlines()[0])
        lines += [f"  - {v}" for v in result.violation.violations]
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return json.dumps(v) if isinstance(v, dict | list) else repr(v)


__all__ = [
    "FORMAT",
    "STATS_FILE",
    "FuzzFailure",
    "ReplayResult",
    "ShrinkResult",
    "after_run",
    "count_transactions",
    "failure_file_name",
    "format_replay",
    "load_failure",
    "minimise",
    "replay",
    "replay_failure",
    "save_failure",
    "shrink",
    "stats_of",
    "violation_signature",
]
