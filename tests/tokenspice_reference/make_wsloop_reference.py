"""Run TokenSPICE's *own* wsloop code, in the declared agent order and without a chain,
and write its ``data.csv``: the reference of spec token-netlists.md section 7.2 (b).

This is a developer tool. It needs an exported TokenSPICE tree (``tokenspice/tokenspice``,
commit 3bd4622) and the ``enforce-typing`` package, which TokenSPICE's modules import; it is
not collected or imported by the test suite (pytest collects only ``test_*.py``). Its output
is committed as ``tests/data/wsloop_tokenspice_reference.csv`` and compared with defisim's
wsloop by ``tests/test_netlist_wsloop_reference.py``.

Usage (from the repository root)::

    git -C <mirror-of-tokenspice> archive 3bd4622 | tar -x -C /tmp/tokenspice
    pip install --target /tmp/tspkgs enforce-typing        # if not installed
    PYTHONPATH=/tmp/tspkgs python tests/tokenspice_reference/make_wsloop_reference.py \\
        --tree /tmp/tokenspice --out tests/data/wsloop_tokenspice_reference.csv

What runs unchanged: TokenSPICE's ``netlists/wsloop/{SimStrategy,SimState,KPIs,netlist}.py``,
``engine/{SimEngine,SimStateBase,SimStrategyBase,KPIsBase,AgentBase,AgentWallet,AgentDict}.py``,
``agents/*.py`` and ``util/*.py``, imported from the exported tree, run by ``SimEngine.run``
exactly as ``tsp run netlists/wsloop/netlist.py OUTDIR`` does (``SimState()``, then
``SimEngine(state, outdir, netlist_createLogData).run()``), with ``SAFETY = True`` from the
tree's own ``tokenspice.ini`` (so ``enforce_types`` type-checks every call, as in a normal run).
No file of the tree is edited; everything below is patched at run time in this process.

What is patched, and why:

1. **A fake ``brownie`` package in ``sys.modules``** (``brownie``, ``brownie.network``,
   ``brownie.network.account``, ``brownie._config``, ``brownie.exceptions``). TokenSPICE imports
   brownie at module level even on the pure-Python path: ``util/constants.py`` loads the two
   Solidity projects, connects to the "development" network and reads ``accounts[8]``/``[9]``;
   ``engine/AgentDict.py`` imports ``agents/PublisherAgent.py``, which imports the sol057/sol080
   helper modules (``GOD_ACCOUNT.address`` at import); ``engine/AgentWallet.py`` imports
   ``Account``; ``engine/SimEngine.py`` imports ``chain``. The stub provides exactly those
   names. Its projects and accounts raise on any other use, so a contract call or EVM wallet
   would fail loudly: wsloop's twelve agents are all ``AgentBaseNoEvm`` and never touch them.
2. **``chain.mine``** is a counting no-op. ``SimEngine.run`` calls
   ``chain.mine(blocks=1, timedelta=time_step)`` after every tick but the last (spec 1.1 step 4);
   wsloop never reads the chain, so mining has no effect on the output. The harness checks the
   call count (731 = one per tick advance).
3. **The agent order** (spec 1.7 and 4.4). ``netlists/wsloop/SimState.py`` collects its agents
   in ``new_agents = set()`` and inserts them into ``self.agents`` in set-iteration order, which
   depends on object addresses and so changes between processes. The harness sets the module
   global ``set`` of ``netlists.wsloop.SimState`` to an insertion-ordered container with the same
   ``add``/iteration interface, so the unmodified ``SimState.__init__`` inserts the agents in the
   order its source adds them, which is spec 4.4's declared order (marketplaces1, opc_address,
   opc_burner, ocean_51, opf_treasury_for_ocean_dao, opf_treasury_for_opf_mgmt, bdb_treasury,
   ocean_dao, opf_mgmt, bdb_mgmt, opc_workers, bdb_workers). This is the spec's "build a list
   instead of the set". Only that module's name ``set`` is shadowed; the builtin is untouched.
   The harness asserts the resulting order.
4. **The working directory** is the tree's root while the netlist is imported, because
   ``util/constants.py`` reads ``./tokenspice.ini`` (relative path) at import time.

wsloop draws no random numbers, so no seeding is needed; with the order fixed the run is
deterministic (two runs of this harness give byte-identical CSVs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import types
from pathlib import Path

DECLARED_ORDER = [
    "marketplaces1", "opc_address", "opc_burner", "ocean_51",
    "opf_treasury_for_ocean_dao", "opf_treasury_for_opf_mgmt", "bdb_treasury",
    "ocean_dao", "opf_mgmt", "bdb_mgmt", "opc_workers", "bdb_workers",
]


class _NoChain:
    """Stands for any brownie object wsloop must never use: any attribute access raises."""

    def __init__(self, what: str, **attrs):
        object.__setattr__(self, "_what", what)
        for k, v in attrs.items():
            object.__setattr__(self, k, v)

    def __getattr__(self, name):
        raise RuntimeError(f"wsloop reference harness: {self._what}.{name} used (no chain here)")


class _Chain:
    """brownie.network.chain: ``mine`` counts calls and does nothing else."""

    def __init__(self):
        self.mined: list[tuple[int, int]] = []

    def mine(self, blocks: int = 1, timedelta: int = 0) -> None:
        self.mined.append((blocks, timedelta))

    def __getattr__(self, name):
        raise RuntimeError(f"wsloop reference harness: chain.{name} used (no chain here)")


def install_fake_brownie() -> _Chain:
    """Put a minimal ``brownie`` into sys.modules (see the module docstring, item 1)."""
    chain = _Chain()

    brownie = types.ModuleType("brownie")
    network = types.ModuleType("brownie.network")
    account = types.ModuleType("brownie.network.account")
    config = types.ModuleType("brownie._config")
    exceptions = types.ModuleType("brownie.exceptions")

    class Account:  # only imported for type annotations by engine/AgentWallet.py
        pass

    class ContractNotFound(Exception):
        pass

    class _Accounts:
        def __getitem__(self, i):
            return _NoChain(f"accounts[{i}]", address=f"0x{i:040x}")

    class _Project:
        def load(self, path, name=None):
            return _NoChain(f"project {name}")

    account.Account = Account
    exceptions.ContractNotFound = ContractNotFound
    config.CONFIG = types.SimpleNamespace(argv={})
    network.chain = chain
    network.accounts = _Accounts()
    network.account = account
    network.connect = lambda *a, **k: None
    network.is_connected = lambda: False
    brownie.network = network
    brownie.project = _Project()
    brownie.exceptions = exceptions
    brownie._config = config

    sys.modules.update({
        "brownie": brownie,
        "brownie.network": network,
        "brownie.network.account": account,
        "brownie._config": config,
        "brownie.exceptions": exceptions,
    })
    return chain


class _InsertionOrderedSet:
    """Replaces ``set`` inside netlists/wsloop/SimState.py only (module docstring, item 3):
    ``add`` appends (wsloop adds twelve distinct objects) and iteration is in insertion order."""

    def __init__(self, items=()):
        self._items: list = []
        for x in items:
            self.add(x)

    def add(self, x) -> None:
        if not any(x is y for y in self._items):
            self._items.append(x)

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def run_reference(tree: Path, out_csv: Path) -> None:
    tree = tree.resolve()
    out_csv = out_csv.resolve()
    if not (tree / "netlists" / "wsloop" / "SimState.py").is_file():
        raise SystemExit(f"{tree} is not an exported TokenSPICE tree")
    try:
        import enforce_typing  # noqa: F401  (TokenSPICE imports it everywhere)
    except ImportError:
        raise SystemExit("TokenSPICE needs the enforce-typing package: "
                         "pip install --target DIR enforce-typing; PYTHONPATH=DIR") from None

    chain = install_fake_brownie()
    sys.path.insert(0, str(tree))
    cwd = os.getcwd()
    os.chdir(tree)  # util/constants.py reads ./tokenspice.ini
    try:
        import importlib

        simstate_mod = importlib.import_module("netlists.wsloop.SimState")
        simstate_mod.set = _InsertionOrderedSet  # shadow the builtin in that module only
        netlist = importlib.import_module("netlists.wsloop.netlist")
        from engine.SimEngine import SimEngine
        from util import constants
    finally:
        os.chdir(cwd)
    assert constants.SAFETY is True

    state = netlist.SimState()
    order = list(state.agents.keys())
    assert order == DECLARED_ORDER, order

    with tempfile.TemporaryDirectory() as tmp:
        outdir = os.path.join(tmp, "out")  # SimEngine creates it, like `tsp run`
        SimEngine(state, outdir, netlist.netlist_createLogData).run()
        assert len(chain.mined) == 731 and set(chain.mined) == {(1, 86400)}, len(chain.mined)
        out_csv.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(os.path.join(outdir, "data.csv"), out_csv)
    print(f"wrote {out_csv}: ticks 0..{state.tick} stepped, agent order {order}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, required=True,
                    help="exported TokenSPICE tree (git archive 3bd4622 | tar -x)")
    ap.add_argument("--out", type=Path, required=True, help="where to write data.csv")
    args = ap.parse_args(argv)
    run_reference(args.tree, args.out)


if __name__ == "__main__":
    main()
