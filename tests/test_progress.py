"""The shared progress bar: counts what it is told and does nothing when disabled."""

from __future__ import annotations

from defisim.progress import ProgressBar


def test_disabled_bar_is_inert():
    bar = ProgressBar(10, "x", enabled=False)
    bar.update(5)
    bar.advance(2)
    bar.describe("y")
    bar.stop(10)
    assert bar.bar is None


def test_enabled_bar_counts_from_done_and_redraws_every_n():
    bar = ProgressBar(10, "runs", done=3, refresh_every=2)
    task = bar.bar.tasks[0]
    assert (task.total, task.completed, task.description) == (10, 3, "runs")
    bar.advance()
    bar.advance(2)
    assert task.completed == 6
    bar.update(7)  # 7 % 2 != 0: not redrawn
    assert task.completed == 6
    bar.update(8)
    assert task.completed == 8
    bar.describe("phase 2")
    assert task.description == "phase 2"
    bar.stop(10)
    assert task.completed == 10


def test_default_refresh_is_a_thousandth_of_the_total():
    assert ProgressBar(23_400, "s", enabled=False).every == 23
    assert ProgressBar(50, "s", enabled=False).every == 1
