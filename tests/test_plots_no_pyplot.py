"""Experiment and learning plots draw on their own Agg canvases: they neither switch
the global matplotlib backend (a notebook's or a GUI's) nor load pyplot."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_sweep_and_optimize_plots_leave_the_backend_alone(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from types import SimpleNamespace
        import matplotlib
        matplotlib.use("svg")
        from defisim.experiments.sweep import plot_sweep
        from defisim.experiments.optimize import plot_history
        out = Path({str(tmp_path)!r})
        summary = [((0.1,), "volume", 3, 10.0, 9.0, 11.0), ((0.2,), "volume", 3, 12.0, 11.0, 13.0),
                   ((0.1,), "trades", 3, 5.0, 4.0, 6.0), ((0.2,), "trades", 3, 6.0, 5.0, 7.0)]
        paths = plot_sweep(out, ["sigma"], summary)
        study = SimpleNamespace(trials=[SimpleNamespace(number=i, value=float(v))
                                        for i, v in enumerate([3, 1, 4, 1, 5])])
        plot_history(out / "history.png", study, "volume", "maximize")
        assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
        assert "matplotlib.pyplot" not in sys.modules
        print(len(paths), (out / "history.png").stat().st_size > 1000)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "True"]
    assert (tmp_path / "sweep-sigma.png").stat().st_size > 1000
