"""One progress bar for every long loop of defisim (runs, sweeps, training).

A thin wrapper over :class:`rich.progress.Progress` on stderr that does nothing
when disabled, so callers never branch on ``--quiet``. Imports nothing of defisim.
"""

from __future__ import annotations


class ProgressBar:
    """A rich progress bar over ``total`` units, ``done`` of them already complete.

    Args:
        total: units of work (steps, runs, iterations).
        label: the description shown left of the bar (changeable: :meth:`describe`).
        enabled: ``False`` gives a bar whose methods do nothing.
        done: units complete at the start (a resumed sweep or training run).
        unit: a word shown after the ``done/total`` count (e.g. ``"steps"``).
        refresh_every: :meth:`update` redraws only when ``done`` is a multiple of this
            (hot loops call it every step; default: about 1,000 redraws per bar).
    """

    def __init__(self, total: int, label: str, enabled: bool = True, *, done: int = 0,
                 unit: str = "", refresh_every: int | None = None) -> None:
        self.bar = None
        self.every = refresh_every if refresh_every is not None else max(1, total // 1000)
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn()]
        if unit:
            columns.append(TextColumn(unit))
        columns += [TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
        self.bar = Progress(*columns, console=Console(stderr=True), transient=False)
        self.task = self.bar.add_task(label, total=total, completed=done)
        self.bar.start()

    def update(self, done: int) -> None:
        """``done`` units complete (redrawn every ``refresh_every``)."""
        if self.bar is not None and done % self.every == 0:
            self.bar.update(self.task, completed=done)

    def advance(self, n: int = 1) -> None:
        """``n`` more units complete."""
        if self.bar is not None:
            self.bar.advance(self.task, n)

    def describe(self, text: str) -> None:
        """Replace the label (e.g. the phase of a training iteration)."""
        if self.bar is not None:
            self.bar.update(self.task, description=text)

    def stop(self, done: int | None = None) -> None:
        """Draw ``done`` (if given) and stop the bar."""
        if self.bar is not None:
            if done is not None:
                self.bar.update(self.task, completed=done)
            self.bar.stop()
