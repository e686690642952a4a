"""Run one of DARC-SPICE's *own* netlists and write its ``data.csv``/``datax.csv``/``rpdata.csv``.

A developer tool for checking defisim's DARC netlists (spec ``token-netlists.md`` 7.4); pytest
does not collect it (``conftest.py``), and no test imports it. It needs a DARC-SPICE checkout,
which is not vendored here::

    git clone https://github.com/opscientia/darcspice /tmp/darcspice
    git -C /tmp/darcspice checkout 3f0602a      # HEAD of 2022-02-18, the spec's reference

Usage (from the defisim repository root; numpy, tqdm and defisim importable)::

    PYTHONPATH=src python tests/darcspice_reference/run_darc.py DARC_DIR NETLIST OUTDIR \\
        --seed 1 --ticks 20000 [--set TICKS_BETWEEN_PROPOSALS=2000 ...] [--no-researchers N]

It runs ``assets/netlists/NETLIST/netlist.py`` of DARC_DIR with DARC-SPICE's own engine
(``engine/SimEngine.py``, ``SimStateBase``, ``AgentBase``, ``AgentWallet``), agents, KPIs and
``web3tools/web3util.py`` conversions, patched at runtime only as follows (DARC_DIR is
read, never written):

1. **No ganache.** DARC-SPICE keeps every agent's OCEAN on an ERC20 in a local ganache chain
   (``engine/AgentWallet.py``: ``globaltokens.mintOCEAN``, ``OCEANtoken().balanceOf_base``,
   ``.transfer``) and gives each wallet a random account (``web3wallet.randomWeb3Wallet``,
   ``fundFromAbove``). Here ``globaltokens.mintOCEAN``/``OCEANtoken`` are an in-memory
   integer-wei ledger and ``web3wallet.randomWeb3Wallet`` returns an in-memory account with
   a unique address. ``AgentWallet`` itself is unchanged, so amounts are still converted
   with DARC's ``toBase18`` (``int(amt * 10**18)``) and read with its ``fromBase18``
   (``float(n / 10**18)``), and its transfer rules (0 wei: nothing; empty balance: raise;
   a/balance within 1e-12 of 1: the whole balance; above the balance: raise) apply as is
   (spec 1.6). A ganache ERC20 ``transfer``/``mint`` is exact integer arithmetic, so the
   ledger gives the same balances.
2. **Third-party imports.** ``web3``, ``eth_account``, ``eth_utils``, ``eth_keys`` are empty
   stand-ins (only the chain code above uses them), and ``enforce_typing.enforce_types`` is
   the identity (it only type-checks arguments at run time).
3. **Seed.** ``random.seed(R)`` before the netlist is built (DARC-SPICE never seeds its global
   ``random``). ``--seed S`` is a *defisim run seed*: R is the integer defisim's netlist
   engine seeds its ``random.Random`` with for run seed S
   (``int(RandomStreams(S).generator("netlist").integers(0, 2**63))``,
   ``defisim/scenarios/netlist/engine.py``), so both draw the same numbers; ``--random-seed R``
   gives R directly.
4. **Driver.** ``tsp run`` builds ``SimState(SimStrategy(n))`` only with ``--no_researchers=n``
   and raises ``UnboundLocalError`` without it (spec 1.3). This driver builds
   ``ss = SimStrategy()`` (``SimStrategy(n)`` with ``--no-researchers n``), applies
   ``ss.setMaxTime(TICKS, 'ticks')`` (max_ticks = TICKS: ticks 0..TICKS are stepped, the same
   horizon as defisim's ``--set max_time=TICKS --set max_time_unit=ticks``) and any
   ``--set NAME=VALUE`` to ``ss`` (parameters only), then ``SimState(ss)`` and
   ``SimEngine(state, OUTDIR, netlist_createLogData, netlist_rp_createLogData).run()``, as
   ``tsp run`` does.
5. **Declared agent order** (``opsci_mult_profit_sharing`` only). Its ``SimState`` collects the
   agents (and ``state.researchers``) in Python ``set``\\ s, so its stepping and column order
   are a per-process permutation (objects hash by address; spec 1.7, 5.3). The tool replaces
   the name ``set`` in that module's globals by an insertion-ordered set, so agents are
   inserted in source order: ``dao_treasury``, ``staker``, ``researcher0..``, ``market``.

``--set`` values are parsed as Python literals (``int``, ``float``, ``bool``, ...).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import itertools
import os
import random
import sys
import types


def defisim_netlist_seed(seed: int) -> int:
    """The integer defisim's netlist engine seeds its ``random.Random`` with for run ``seed``."""
    from defisim.chain.rng import RandomStreams

    return int(RandomStreams(seed).generator("netlist").integers(0, 2**63))


class _OrderedSet(dict):
    """A ``set`` stand-in that iterates in insertion order (patch 5)."""

    def add(self, item) -> None:
        self[item] = None


class _MemAccount:
    """An in-memory stand-in for a ganache account (patch 1)."""

    _ids = itertools.count(1)

    def __init__(self, private_key=None) -> None:
        self.address = f"0x{next(self._ids):040x}"

    def fundFromAbove(self, num_wei: int) -> None:  # gas ETH: not tracked
        pass


class _MemToken:
    """An in-memory stand-in for the OCEAN ERC20: integer wei per address (patch 1)."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.address = "0x" + "0" * 39 + "c"

    def balanceOf_base(self, address: str) -> int:
        return self.balances.get(address, 0)

    def transfer(self, dst_address: str, amt_base: int, from_wallet) -> None:
        src = from_wallet.address
        bal = self.balances.get(src, 0)
        if amt_base < 0 or amt_base > bal:  # the contract reverts
            raise ValueError(f"ERC20 transfer of {amt_base} wei exceeds balance {bal}")
        self.balances[src] = bal - amt_base
        self.balances[dst_address] = self.balances.get(dst_address, 0) + amt_base

    def mint(self, address: str, value_base: int) -> None:
        self.balances[address] = self.balances.get(address, 0) + value_base


def _install_stubs() -> None:
    """Patch 2: empty third-party modules, identity ``enforce_types``."""

    def stub(name: str) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__getattr__ = lambda attr: type(attr, (), {})  # type: ignore[method-assign]
        return mod

    for name in ("web3", "eth_account", "eth_utils", "eth_keys"):
        sys.modules.setdefault(name, stub(name))
    et = types.ModuleType("enforce_typing")
    et.enforce_types = lambda x: x  # type: ignore[attr-defined]
    sys.modules["enforce_typing"] = et


def _patch_chain() -> _MemToken:
    """Patch 1: in-memory OCEAN ledger and accounts."""
    from web3engine import globaltokens
    from web3tools import web3wallet

    token = _MemToken()
    web3wallet.randomWeb3Wallet = lambda: _MemAccount()
    globaltokens.OCEANtoken = lambda: token
    globaltokens.OCEAN_address = lambda: token.address
    globaltokens.mintOCEAN = lambda address, value_base: token.mint(address, value_base)
    return token


def _write_repr(path: str, header: list[str], rows: list[list]) -> None:
    with open(path, "w") as f:
        f.write(", ".join(header) + "\n")
        for row in rows:
            f.write(", ".join(repr(v) for v in row) + "\n")


def run(
    darc_dir: str,
    netlist: str,
    outdir: str,
    ticks: int,
    random_seed: int,
    sets: dict[str, object] | None = None,
    no_researchers: int | None = None,
    full_precision: bool = False,
) -> None:
    darc_dir = os.path.abspath(darc_dir)
    outdir = os.path.abspath(outdir)
    if os.path.exists(outdir):
        raise SystemExit(f"{outdir} exists (tsp run refuses an existing OUTDIR too)")
    _install_stubs()
    sys.dont_write_bytecode = True  # no __pycache__ in DARC_DIR
    sys.path.insert(0, darc_dir)
    cwd = os.getcwd()
    os.chdir(darc_dir)  # util/constants.py reads ./tokenspice.ini
    try:
        import logging

        logging.disable(logging.CRITICAL)
        _patch_chain()
        from engine.SimEngine import SimEngine

        mod = importlib.import_module(f"assets.netlists.{netlist}.netlist")
        if netlist == "opsci_mult_profit_sharing":  # patch 5
            state_mod = importlib.import_module(f"assets.netlists.{netlist}.SimState")
            state_mod.set = _OrderedSet
        random.seed(random_seed)  # patch 3
        ss = mod.SimStrategy() if no_researchers is None else mod.SimStrategy(no_researchers)
        ss.setMaxTime(ticks, "ticks")
        for key, value in (sets or {}).items():
            if not hasattr(ss, key):
                raise SystemExit(f"{netlist}'s SimStrategy has no attribute {key}")
            setattr(ss, key, value)
        state = mod.SimState(ss)
        engine = SimEngine(state, outdir, mod.netlist_createLogData, mod.netlist_rp_createLogData)
        engine.run()
        if full_precision:  # diagnostics: datax.csv's rows with every float's repr
            _write_repr(os.path.join(outdir, "datax_repr.csv"), engine.dataheader, engine.all_rows)
            _write_repr(os.path.join(outdir, "rpdata_repr.csv"), engine.rp_dataheader,
                        engine.all_rp_rows)
    finally:
        os.chdir(cwd)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("darc_dir", help="a DARC-SPICE checkout (opscientia/darcspice at 3f0602a)")
    ap.add_argument("netlist", help="e.g. opsci_naive")
    ap.add_argument("outdir", help="a new folder for data.csv, datax.csv, rpdata.csv")
    seed = ap.add_mutually_exclusive_group(required=True)
    seed.add_argument("--seed", type=int, help="a defisim run seed (needs defisim importable)")
    seed.add_argument("--random-seed", type=int, help="the integer for random.seed directly")
    ap.add_argument("--ticks", type=int, required=True, help="max_ticks: ticks 0..TICKS run")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="set a SimStrategy attribute before SimState is built")
    ap.add_argument("--no-researchers", type=int, default=None,
                    help="SimStrategy(N), as tsp run --no_researchers=N (opsci_profit_sharing)")
    ap.add_argument("--full-precision", action="store_true",
                    help="also write datax_repr.csv/rpdata_repr.csv: the rows with repr(value) "
                         "instead of %%g (diagnostics; not DARC-SPICE output)")
    a = ap.parse_args(argv)
    sets: dict[str, object] = {}
    for item in a.set:
        key, _, value = item.partition("=")
        try:
            sets[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            sets[key] = value
    r = a.random_seed if a.random_seed is not None else defisim_netlist_seed(a.seed)
    run(a.darc_dir, a.netlist, a.outdir, a.ticks, r, sets, a.no_researchers, a.full_precision)


if __name__ == "__main__":
    main()
