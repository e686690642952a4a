"""Trustworthy run folders: crash-consistent store, SIGTERM, every failure explained,
the run-folder lock, and plot/report flagging incomplete runs.

The signal tests run ``defisim run`` in a subprocess with this checkout's sources.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from defisim.agents.base import Agent
from defisim.cli import app
from defisim.experiments.report import build_report, incomplete_run
from defisim.runner import (
    RunFolderBusy,
    RunLock,
    lock_holder,
    run_scenario,
    run_status,
)
from defisim.scenarios.base import Scenario, ScenarioParams, register
from defisim.store import RunStore, open_store

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _error_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# ------------------------------------------------------------------ the store
def _two_tables(path) -> RunStore:
    s = RunStore(path)
    s.declare("a", {"step": "INTEGER", "x": "DOUBLE"})
    s.declare("b", {"step": "INTEGER", "y": "VARCHAR"})
    return s


def test_flush_with_step_records_progress_and_hides_its_table(tmp_path):
    s = _two_tables(tmp_path / "r.duckdb")
    assert s.progress() is None
    s.extend({"a": [(0, 1.0), (1, 2.0)], "b": [(1, "x")]})
    assert s.pending("a") == 2  # extend never flushes
    s.flush(step=1, planned_steps=5)
    p = s.progress()
    assert (p.last_step, p.final, p.planned_steps, p.complete) == (1, False, 5, False)
    s.flush(step=5, final=True, planned_steps=5)
    assert s.progress().complete
    assert s.tables() == ["a", "b"]
    s.close()
    with open_store(tmp_path / "r.duckdb") as r:
        assert r.progress().last_step == 5
        assert r.row_count("a") == 2 and r.row_count("b") == 1


def test_a_failing_flush_writes_no_table_and_keeps_the_buffers(tmp_path):
    s = _two_tables(tmp_path / "r.duckdb")
    s.extend({"a": [(0, 1.0)], "b": [(0, "x")]})
    s.flush(step=0)
    s.extend({"a": [(1, 2.0)], "b": [(1, "y")]})
    s._conn().execute("DROP TABLE b")  # the second INSERT of the transaction fails
    with pytest.raises(duckdb.Error):
        s.flush(step=1)
    assert s.pending("a") == 1 and s.pending("b") == 1
    assert s._conn().execute("SELECT count(*) FROM a").fetchone()[0] == 1
    assert s.progress().last_step == 0
    s._con.close()
    s._con = None


def test_extend_checks_every_row_before_buffering(tmp_path):
    s = _two_tables(":memory:")
    with pytest.raises(ValueError, match="table 'b'"):
        s.extend({"a": [(0, 1.0)], "b": [(0,)]})
    assert s.pending("a") == 0
    s.close()


# ------------------------------------------------------------- test scenarios
class _Params(ScenarioParams):
    steps: int | None = None
    step_seconds: float = 60.0


class _SelfTerm(Agent):
    def step(self, sim):
        if sim.now >= 180:  # step 3
            os.kill(os.getpid(), signal.SIGTERM)


@register
class SelfTermScenario(Scenario):
    name = "crashtest_sigterm"
    description = "sends itself SIGTERM at step 3"
    Params = _Params

    def total_steps(self) -> int:
        return self.params.steps or 10

    def build(self, sim):
        sim.create_asset("USD", 6)
        return [_SelfTerm("term")]

    def kpis(self, sim):
        return {"t": sim.now}


@register
class BadBuildScenario(Scenario):
    name = "crashtest_bad_build"
    description = "build raises a RuntimeError"
    Params = _Params

    def total_steps(self) -> int:
        return 3

    def build(self, sim):
        raise RuntimeError("no such market maker")


def test_sigterm_in_process_stops_like_ctrl_c_and_restores_the_handler(tmp_path):
    def before(signum, frame):  # pragma: no cover - never called
        raise AssertionError

    prev = signal.signal(signal.SIGTERM, before)
    try:
        res = run_scenario(SelfTermScenario(_Params()), out_dir=tmp_path / "r", progress=False,
                           handle_sigterm=True)
        assert signal.getsignal(signal.SIGTERM) is before
    finally:
        signal.signal(signal.SIGTERM, prev)
    assert res.interrupted and res.stop_signal == "SIGTERM" and res.steps == 3
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["signal"] == "SIGTERM"
    with open_store(tmp_path / "r" / "run.duckdb") as s:
        p = s.progress()
        assert (p.last_step, p.final, p.planned_steps) == (2, False, 10)
        assert s.query("SELECT max(step) FROM kpis")[0][0] == 2
    assert not (tmp_path / "r" / "run.lock").exists()
    st = run_status(tmp_path / "r")
    assert not st.complete and "interrupted by SIGTERM after 3 of 10 steps" in st.message


# ----------------------------------------------------- CLI: failures explained
def test_out_under_a_file_exits_2_creating_nothing(tmp_path):
    (tmp_path / "f").write_text("x")
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(tmp_path / "f" / "a" / "b"), "-q"])
    assert r.exit_code == 2
    assert "is not a folder" in _error_line(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_unwritable_parent_exits_2_creating_nothing(tmp_path, monkeypatch):
    import defisim.runner.folder as folder

    parent = tmp_path / "ro"
    parent.mkdir()
    real = os.access
    monkeypatch.setattr(folder.os, "access",
                        lambda p, mode: False if Path(p) == parent else real(p, mode))
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(parent / "run"), "-q"])
    assert r.exit_code == 2
    assert f"{parent} is not writable" in _error_line(r)
    assert list(parent.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_parent_exits_2_creating_nothing(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        r = runner.invoke(app, ["run", "simplegrant", "--out", str(parent / "run"), "-q"])
        assert r.exit_code == 2 and "not writable" in _error_line(r)
        assert list(parent.iterdir()) == []
    finally:
        parent.chmod(0o755)


@pytest.mark.parametrize(("args", "expect"), [
    (["--steps", "1000000000000"], "steps must be <= 100,000,000, got 1,000,000,000,000"),
    (["--steps", "1e12"], "steps must be <= 100,000,000, got 1,000,000,000,000"),
    (["--steps", "1.5"], "--steps must be a whole number, got '1.5'"),
    (["--set", "steps=1e12"], "steps must be <= 100,000,000"),
    (["--steps", "100000000"], "beyond the clock's range"),  # 1e8 hours
])
def test_absurd_steps_exit_2_creating_nothing(tmp_path, args, expect):
    r = runner.invoke(app, ["run", "simplegrant", *args, "--out", str(tmp_path / "r"), "-q"])
    assert r.exit_code == 2
    assert expect in _error_line(r)
    assert not (tmp_path / "r").exists()


def test_a_failing_build_exits_2_creating_nothing(tmp_path):
    r = runner.invoke(app, ["run", "crashtest_bad_build", "--out", str(tmp_path / "r"), "-q"])
    assert r.exit_code == 2
    assert "RuntimeError: no such market maker" in _error_line(r)
    assert not (tmp_path / "r").exists()


def test_a_failure_closing_the_store_still_writes_the_summary(tmp_path, monkeypatch):
    real_close = RunStore.close

    def close(self):
        real_close(self)
        if not self.read_only:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunStore, "close", close)
    out = tmp_path / "r"
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(out), "-q", "--no-plots"])
    assert r.exit_code == 1
    line = _error_line(r)
    assert "No space left on device" in line and "see summary.json" in line
    summary = json.loads((out / "summary.json").read_text())
    assert summary["error"].startswith("closing the run store failed: OSError")
    assert summary["error_type"] == "OSError"
    assert not (out / "run.lock").exists()


def test_a_failure_writing_params_still_writes_the_summary(tmp_path, monkeypatch):
    import defisim.runner.loop as loop

    def write_params(*a, **k):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(loop, "write_params", write_params)
    out = tmp_path / "r"
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(out), "-q"])
    assert r.exit_code == 1 and "see summary.json" in _error_line(r)
    summary = json.loads((out / "summary.json").read_text())
    assert "Input/output error" in summary["error"] and summary["steps"] == 0


# ------------------------------------------------------------------ the lock
def test_force_on_a_locked_folder_is_refused_and_deletes_nothing(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "run.duckdb").write_text("someone else's data")
    with RunLock(out):
        assert lock_holder(out) == os.getpid()
        r = runner.invoke(app, ["run", "simplegrant", "--out", str(out), "-q", "--force"])
        assert r.exit_code == 2
        line = _error_line(r)
        assert f"run folder {out} is in use by a running run (pid {os.getpid()})" in line
        assert (out / "run.duckdb").read_text() == "someone else's data"
        r = runner.invoke(app, ["run", "simplegrant", "--out", str(out), "-q"])
        assert r.exit_code == 2 and "is in use by a running run" in _error_line(r)
        r = runner.invoke(app, ["plot", str(out)])
        assert r.exit_code == 2 and "is in use by a running run" in _error_line(r)
        with pytest.raises(RunFolderBusy):
            RunLock(out).acquire()
    assert lock_holder(out) is None and not (out / "run.lock").exists()
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(out), "-q", "--force",
                            "--no-plots"])
    assert r.exit_code == 0, r.output


# ------------------------------------------------------- plot/report flagging
def test_report_and_plot_flag_an_interrupted_run_but_not_a_complete_one(tmp_path):
    ok = tmp_path / "ok"
    assert runner.invoke(app, ["run", "simplegrant", "--out", str(ok), "-q",
                               "--no-plots"]).exit_code == 0
    assert run_status(ok).complete and incomplete_run(ok) is None
    r = runner.invoke(app, ["report", str(ok)])
    assert r.exit_code == 0 and "warning" not in r.stderr
    assert "class='incomplete'" not in (ok / "report.html").read_text()

    cut = tmp_path / "cut"
    run_scenario(SelfTermScenario(_Params()), out_dir=cut, progress=False, handle_sigterm=True)
    r = runner.invoke(app, ["report", str(cut)])
    assert r.exit_code == 0
    assert "warning: incomplete run: interrupted by SIGTERM after 3 of 10 steps" in r.stderr
    page = build_report(cut).read_text()
    assert "<div class='incomplete' role='alert'>incomplete run: interrupted by SIGTERM" in page
    r = runner.invoke(app, ["plot", str(cut)])
    assert r.exit_code == 0 and "warning: incomplete run: interrupted" in r.stderr


# --------------------------------------------------------- real signals (slow)
def _cli(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.Popen([sys.executable, "-m", "defisim.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)


def _steps_by_table(db: Path) -> dict[str, int | None]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'step' "
            "AND NOT starts_with(table_name, '__defisim')").fetchall()]
        return {n: con.execute(f'SELECT max(step) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


@pytest.mark.slow
def test_sigkill_at_a_random_point_leaves_every_table_at_the_same_step(tmp_path):
    delay = random.Random(20260510).uniform(2.5, 5.0)
    out = tmp_path / "killed"
    proc = _cli("run", "btc_futures", "--steps", "100000", "--out", str(out), "-q",
                "--no-plots")
    _wait_for(out / "run.duckdb", proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (out / "summary.json").exists()
    with open_store(out / "run.duckdb") as s:
        p = s.progress()
    assert p is not None and p.last_step > 0 and not p.final and p.planned_steps == 100_000
    steps = _steps_by_table(out / "run.duckdb")
    # every step records KPIs, book tops, positions and accounts: all end at the same step
    for table in ("kpis", "book_top", "positions", "accounts"):
        assert steps[table] == p.last_step, (table, steps, p)
    assert all(v is None or v <= p.last_step for v in steps.values()), steps
    st = run_status(out)
    assert not st.complete and "no summary.json" in st.message
    assert f"the store holds steps up to {p.last_step} of 100000" in st.message
    r = runner.invoke(app, ["report", str(out)])
    assert r.exit_code == 0 and "warning: incomplete run: no summary.json" in r.stderr
    assert "class='incomplete'" in (out / "report.html").read_text()
    r = runner.invoke(app, ["plot", str(out)])
    assert r.exit_code == 0 and "warning: incomplete run" in r.stderr
    # the killed process's lock went with it: --force may reuse the folder
    assert lock_holder(out) is None
    r = runner.invoke(app, ["run", "simplegrant", "--out", str(out), "-q", "--force",
                            "--no-plots"])
    assert r.exit_code == 0, r.output


@pytest.mark.slow
def test_sigterm_exits_130_with_a_summary_and_a_second_writer_is_refused(tmp_path):
    out = tmp_path / "termed"
    proc = _cli("run", "btc_futures", "--steps", "100000", "--out", str(out), "-q",
                "--no-plots")
    _wait_for(out / "run.lock", proc)
    time.sleep(1.5)
    second = _cli("run", "simplegrant", "--out", str(out), "-q", "--force")
    _, err2 = second.communicate(timeout=60)
    assert second.returncode == 2, err2
    assert f"error: run folder {out} is in use by a running run (pid {proc.pid})" in err2
    assert proc.poll() is None  # the first run is untouched
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted by SIGTERM after" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["signal"] == "SIGTERM"
    assert 0 < summary["steps"] < summary["total_steps"] == 100_000
    with open_store(out / "run.duckdb") as s:
        p = s.progress()
        kpi_last = s.query("SELECT max(step) FROM kpis")[0][0]
    assert p.last_step == kpi_last == summary["steps"] - 1
    assert not (out / "run.lock").exists()
    st = run_status(out)
    assert not st.complete and "interrupted by SIGTERM" in st.message


def test_a_signal_inside_a_hold_is_raised_when_the_hold_ends():
    from defisim.runner.loop import RunInterrupted, _Signals

    before = signal.getsignal(signal.SIGTERM)
    with _Signals(True) as sig:
        assert signal.getsignal(signal.SIGTERM) == sig._on_signal
        with pytest.raises(RunInterrupted) as info:
            with sig.hold():
                os.kill(os.getpid(), signal.SIGTERM)
                done = "the held body ran to its end"
        assert done and info.value.signal_name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_ignored_signal_stays_ignored():
    from defisim.runner.loop import _Signals

    prev = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with _Signals(True):
            assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGTERM)  # ignored: nothing happens
    finally:
        signal.signal(signal.SIGTERM, prev)
