"""Shared test helpers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# Test files that import an extra's packages at module level (pyproject.toml's extras;
# `pip install -e '.[test]'` has them all): in a venv without them they are not
# collected, and the summary says so.
NEEDS_EXTRA = {
    "test_envs.py": ("gymnasium", "pettingzoo"),
    "test_learning.py": ("torch", "gymnasium"),
    "test_cli_learning.py": ("torch", "gymnasium"),
}
MISSING = {
    name: [m for m in mods if importlib.util.find_spec(m) is None]
    for name, mods in NEEDS_EXTRA.items()
}
collect_ignore = [name for name, missing in MISSING.items() if missing]


def pytest_terminal_summary(terminalreporter):
    if collect_ignore:
        terminalreporter.write_line(
            "not collected (extras not installed): "
            + ", ".join(f"{n} (no {', '.join(MISSING[n])})" for n in collect_ignore)
        )


def pytest_collection_modifyitems(config, items):
    if DATA.exists():
        return
    skip = pytest.mark.skip(reason=f"{DATA} not present")
    for item in items:
        if "data" in item.keywords:
            item.add_marker(skip)
