"""The run folder: checking where it goes, its lock, and whether a run in it is complete.

- :func:`check_run_dir` says, before anything is created, why a run folder cannot
  be made at a path (a parent that is a file, an unwritable or read-only parent).
- :class:`RunLock`: an exclusive ``flock`` on the run folder held for a run's
  whole life (``run.lock`` names the holder's pid meanwhile). A second run (even with ``--force``) is refused while it is
  held; the operating system releases it when the process dies, however it dies
  (a SIGKILLed run never leaves a stale lock). :func:`lock_holder` tells whether
  a live process holds it.
- :func:`run_status` reads a run folder (``summary.json``, the store's progress
  row, the lock) and says whether the run it holds is complete, and if not why:
  what ``defisim plot`` and ``defisim report`` warn about.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCK_FILE",
    "RunFolderBusy",
    "RunLock",
    "RunStatus",
    "check_run_dir",
    "in_use",
    "lock_holder",
    "run_status",
]

LOCK_FILE = "run.lock"
"""The file naming the pid of the run writing the folder (present while it runs)."""


class RunFolderBusy(FileExistsError):
    """Another live process holds the run folder's lock."""


def check_run_dir(path: str | os.PathLike) -> str | None:
    """Why a run folder cannot be created (or written) at ``path``, else ``None``.

    Looks at ``path`` if it exists, else at its nearest existing parent: it must be
    a folder the process may write to and create entries in. Nothing is created.
    """
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            return f"run folder {p} exists and is not a folder"
        if not os.access(p, os.W_OK | os.X_OK):
            return f"run folder {p} is not writable"
        return None
    parent = p.absolute().parent
    while not parent.exists():
        if parent.is_symlink():  # a dangling link
            return f"cannot create run folder {p}: {parent} is a broken link"
        parent = parent.parent
    if not parent.is_dir():
        return f"cannot create run folder {p}: {parent} is not a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create run folder {p}: {parent} is not writable"
    return None


class RunLock:
    """An exclusive, non-blocking ``flock`` on the run folder itself.

    The lock is on the folder (opened read-only), so it leaves no file behind;
    while it is held, ``<folder>/run.lock`` holds the holder's pid, for messages
    only (it is removed on :meth:`release`; one left by a killed process means
    nothing, and ``--force`` removes it). The operating system frees the lock when
    the process dies, however it dies. Where the file system cannot lock (some
    network mounts) the run goes on unlocked.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.pid_file = self.folder / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """This object holds the lock."""
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock (the folder must exist).

        Raises:
            RunFolderBusy: another live process holds it (the message names the
                folder and the holder's pid).
        """
        if self._fd is not None or fcntl is None:
            return self
        fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return self  # no locking on this file system
            raise RunFolderBusy(_busy(self.folder, _read_pid(self.pid_file))) from None
        self._fd = fd
        try:
            self.pid_file.write_text(f"{os.getpid()}\n")
        except OSError:
            pass  # the pid is only for messages
        return self

    def release(self) -> None:
        """Free the lock and remove the pid file (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _read_pid(self.pid_file) == os.getpid():
                self.pid_file.unlink()
        except OSError:
            pass
        finally:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def _busy(folder: Path, pid: int | None) -> str:
    who = f"pid {pid}" if pid else "another process"
    return f"run folder {folder} is in use by a running run ({who}); wait for it to end or stop it"


def in_use(folder: str | os.PathLike) -> str | None:
    """``"run folder F is in use by a running run (pid N); ..."`` when a live process
    holds ``folder``'s lock, else ``None``."""
    pid = lock_holder(folder)
    return None if pid is None else _busy(Path(folder), pid)


def lock_holder(folder: str | os.PathLike) -> int | None:
    """The pid of the live process holding ``folder``'s run lock (0 when its pid is
    not known), or ``None`` when nobody holds it (or there is no such folder)."""
    d = Path(folder)
    if fcntl is None or not d.is_dir():
        return None
    try:
        fd = os.open(d, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            return _read_pid(d / LOCK_FILE) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


@dataclass
class RunStatus:
    """Whether a run folder holds a complete run.

    Attributes:
        complete: ``summary.json`` says the run ended without error or
            interruption and the store recorded its final step.
        problems: why not, one short sentence each (empty when complete).
        last_step: the store's last completely recorded step (``None``: unknown).
        planned_steps: the steps the run was to make (``None``: unknown).
    """

    complete: bool
    problems: list[str] = field(default_factory=list)
    last_step: int | None = None
    planned_steps: int | None = None

    @property
    def message(self) -> str:
        """One line: ``"incomplete run: <problems>"``, or ``""`` when complete."""
        return "" if self.complete else "incomplete run: " + "; ".join(self.problems)


def run_status(folder: str | os.PathLike) -> RunStatus:
    """Read ``folder`` and say whether its run is complete (see :class:`RunStatus`).

    Never raises for a damaged folder: what cannot be read becomes a problem.
    """
    d = Path(folder)
    problems: list[str] = []
    planned: int | None = None
    last: int | None = None
    holder = lock_holder(d)
    if holder is not None:
        problems.append(f"still being written by a running run (pid {holder or '?'})")
    summary: dict | None = None
    sp = d / "summary.json"
    if sp.is_file():
        try:
            summary = json.loads(sp.read_text())
            if not isinstance(summary, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            problems.append(f"summary.json cannot be read ({str(exc).splitlines()[0]})")
            summary = None
    elif holder is None:
        problems.append("no summary.json (the run was killed or crashed before it ended)")
    if summary is not None:
        planned = summary.get("total_steps") if isinstance(summary.get("total_steps"), int) else None
        done = summary.get("steps")
        if summary.get("interrupted"):
            sig = summary.get("signal")
            problems.append(
                f"interrupted{f' by {sig}' if sig else ''} after {done} of {planned} steps"
            )
        if summary.get("error"):
            first = str(summary["error"]).strip().splitlines()[0]
            problems.append(f"failed: {first}")
    db = d / "run.duckdb"
    if holder is None and db.is_file():
        try:
            from defisim.store import open_store

            with open_store(db) as store:
                progress = store.progress()
        except Exception as exc:  # a damaged or foreign file: say so, do not crash
            problems.append(f"run.duckdb cannot be read ({str(exc).splitlines()[0]})")
        else:
            if progress is not None:
                last = progress.last_step
                if progress.planned_steps is not None:
                    planned = progress.planned_steps
                if not progress.complete:
                    of = f" of {planned}" if planned is not None else ""
                    problems.append(f"the store holds steps up to {last}{of}")
    elif holder is None and summary is not None and not summary.get("error"):
        problems.append("no run.duckdb")
    return RunStatus(not problems, problems, last, planned)
