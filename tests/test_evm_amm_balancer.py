"""Balancer pools of the AMM plug-in on Ocean's ``BPool`` bytecode
(``AmmProtocol(cores=EvmCores())``, :mod:`defisim.evm_amm.balancer`) against the same
plug-in on the Python core, to the wei.

Two simulations get the same seeded random transactions (swaps exact in and out with
limits, proportional and single-asset joins and exits, some beyond what the sender
holds): every receipt (status, value, rejection reason), the whole ledger, ``sim.amm``'s
pool view and the core's mirror are equal after each, with the chain's invariants (the
pool's bridge-token balances equal its ledger reserves) checked at every block end.
Skipped without the ``evm`` extra or npm.
"""

from __future__ import annotations

import random

import pytest

from defisim import extras

if not extras.available("evm"):
    pytest.skip("needs the evm extra (simular-evm, eth-abi, eth-hash)", allow_module_level=True)

from defisim import Simulation  # noqa: E402
from defisim.chain import Transaction  # noqa: E402
from defisim.evm import NpmUnavailable  # noqa: E402
from defisim.evm_amm import EvmCores  # noqa: E402
from defisim.evm_amm.balancer import EvmBPool  # noqa: E402
from defisim.protocols.amm.plugin_base import LP_HOLDER  # noqa: E402
from defisim.protocols.amm.protocol import AmmProtocol  # noqa: E402

E18 = 10**18
PARTIES = ("ctl", "bob", "carol")
ASSETS = ("DT", "OCEAN", "X")


def make(cores=None, n_tokens: int = 2) -> tuple[Simulation, str]:
    sim = Simulation(seed=1, protocols=[AmmProtocol(cores=cores)])
    for a in ASSETS:
        sim.create_asset(a, 18)
    for p in PARTIES:
        sim.create_party(p)
        for a in ASSETS:
            sim.mint_raw(p, a, 10_000 * E18)
    tokens = {"DT": (100 * E18, 3 * E18), "OCEAN": (1000 * E18, 7 * E18), "X": (50 * E18, E18)}
    pid = sim.chain.protocol("amm").create_balancer_pool(
        "ctl", dict(list(tokens.items())[:n_tokens]), 10**15, "ocean_v3")
    return sim, pid


def _evm_sim(n_tokens: int = 2) -> tuple[Simulation, str]:
    try:
        return make(EvmCores(), n_tokens)
    except NpmUnavailable as exc:
        pytest.skip(f"npm artifacts unavailable: {exc}")


def random_tx(rng: random.Random, sim: Simulation, pid: str) -> Transaction:
    core = sim.chain.protocol("amm").pools[pid].core
    assets = core.tokens
    party = rng.choice(PARTIES)
    a, b = rng.sample(assets, 2)
    bal = core.records[a].balance
    frac = rng.choice((1e-6, 1e-3, 0.01, 0.1, 0.3, 0.6))
    amount = max(1, int(bal * frac * rng.random()))
    big = rng.random() < 0.05  # more than the sender holds
    if big:
        amount = 20_000 * E18
    op = rng.choice(("in", "out", "join", "exit", "jx_in", "jp_out", "xp_in", "xx_out"))
    supply = core.total_supply
    shares = max(1, int(supply * frac * rng.random() / 3))
    if op == "in":
        min_out = 2**200 if rng.random() < 0.3 else 0  # ERR_LIMIT_OUT
        return Transaction(party, "amm", "swap", (pid, a, b, amount, min_out, True, 2**40, 0))
    if op == "out":
        out = max(1, int(core.records[b].balance * frac * rng.random() / 2))
        return Transaction(party, "amm", "swap", (pid, a, b, out, 2**256 - 1, False, 2**40, 0))
    if op == "join":
        return Transaction(party, "amm", "bal_join_pool",
                           (pid, shares, tuple([2**256 - 1] * len(assets))))
    if op == "exit":
        return Transaction(party, "amm", "bal_exit_pool", (pid, shares, tuple([0] * len(assets))))
    if op == "jx_in":
        return Transaction(party, "amm", "bal_joinswap_extern_amount_in", (pid, a, amount, 0))
    if op == "jp_out":
        return Transaction(party, "amm", "bal_joinswap_pool_amount_out",
                           (pid, a, shares, 2**256 - 1))
    if op == "xp_in":
        return Transaction(party, "amm", "bal_exitswap_pool_amount_in", (pid, a, shares, 0))
    out = max(1, int(bal * frac * rng.random() / 2))
    return Transaction(party, "amm", "bal_exitswap_extern_amount_out", (pid, a, out, 2**256 - 1))


def state(sim: Simulation, pid: str) -> tuple:
    core = sim.chain.protocol("amm").pools[pid].core
    view = sim.amm.pool_view(pid)
    return (dict(sim.chain.ledger.balances), dict(sim.chain.ledger.supply), view,
            core.tokens, {t: (r.denorm, r.balance) for t, r in core.records.items()},
            core.total_supply, core.total_weight, core.swap_fee, dict(core.token_balances),
            core.share_balances.get(LP_HOLDER),
            [core.get_spot_price(x, y) for x in core.tokens for y in core.tokens if x != y])


def differential(cores, seed: int, n_tokens: int, n: int) -> dict[str, int]:
    """``n`` random transactions on the Python core and on ``cores``; equal after each.
    Returns the count of each outcome (``"ok"`` or the rejection reason)."""
    py_sim, pid = make(None, n_tokens)
    evm_sim, pid2 = make(cores, n_tokens)
    assert pid == pid2
    assert isinstance(evm_sim.chain.protocol("amm").pools[pid].core, EvmBPool)
    assert state(py_sim, pid) == state(evm_sim, pid)
    rng = random.Random(seed)
    statuses: dict[str, int] = {}
    for i in range(n):
        tx = random_tx(rng, py_sim, pid)
        r_py, r_evm = py_sim.send(tx), evm_sim.send(tx)
        assert (r_py.status, r_py.value, r_py.reason) == (r_evm.status, r_evm.value, r_evm.reason), (
            i, tx)
        statuses[r_py.reason or "ok"] = statuses.get(r_py.reason or "ok", 0) + 1
        assert state(py_sim, pid) == state(evm_sim, pid), (i, tx)
        if i % 10 == 9:
            py_sim.forward_time(60)
            evm_sim.forward_time(60)
    assert evm_sim.chain.protocol("amm").invariant_errors() == []
    return statuses


@pytest.mark.parametrize(("seed", "n_tokens", "n"), [(5, 2, 150), (6, 3, 150)])
def test_the_plugin_on_bytecode_matches_the_python_core(seed, n_tokens, n):
    try:
        cores = EvmCores()
    except NpmUnavailable as exc:
        pytest.skip(f"npm artifacts unavailable: {exc}")
    statuses = differential(cores, seed, n_tokens, n)
    assert statuses["ok"] > n // 3, statuses
    assert statuses.get("ERR_INSUFFICIENT_BAL", 0) > 0, statuses  # rolled back on the EVM
    assert statuses.get("ERR_LIMIT_OUT", 0) > 0, statuses


def test_the_same_on_an_external_anvil_node():
    from defisim.evm.external import EvmNodeError, anvil_binary

    try:
        anvil_binary()
        cores = EvmCores("external")
    except (EvmNodeError, NpmUnavailable) as exc:
        pytest.skip(f"anvil or npm artifacts unavailable: {exc}")
    try:
        statuses = differential(cores, 9, 2, 60)
    finally:
        cores.machine.backend.close()  # the node stops now, not at exit
    assert statuses["ok"] > 20 and statuses.get("ERR_INSUFFICIENT_BAL", 0) > 0, statuses


def test_a_step_the_ledger_refuses_is_rolled_back_on_the_evm():
    """The core accepts a join the sender cannot pay: the plug-in rolls the EVM back."""
    sim, pid = _evm_sim()
    core = sim.chain.protocol("amm").pools[pid].core
    before = (core.total_supply, core.balances(), core.get_spot_price("OCEAN", "DT"))
    r = sim.send(Transaction("bob", "amm", "bal_joinswap_extern_amount_in",
                             (pid, "OCEAN", 400 * E18, 0)))
    assert r.value[0] == 400 * E18
    big = sim.send(Transaction("carol", "amm", "bal_join_pool",
                               (pid, 10_000 * E18, (2**256 - 1, 2**256 - 1))))
    assert big.reason == "ERR_INSUFFICIENT_BAL"
    after_ok = (core.total_supply, core.balances(), core.get_spot_price("OCEAN", "DT"))
    assert after_ok != before  # bob's join went in
    assert core.total_supply == core._call("totalSupply")[0]
    assert sim.chain.protocol("amm").invariant_errors() == []


def test_balancer_core_without_bytecode_is_one_clear_error():
    cores = EvmCores()
    with pytest.raises(NotImplementedError, match="no npm package ships balancer-core"):
        cores.balancer_pool("c", "c", "p", "balancer")


def _run_netlist(name: str, backend: str, out) -> tuple[str, list]:
    """Run netlist ``name`` on ``backend``: its ``data.csv`` and, per pool, the core's
    class, recorded balances, weights and share supply at the end."""
    from defisim.runner import run_scenario
    from defisim.scenarios import get_scenario

    base = get_scenario(name)
    pools: list = []

    class Kept(base):
        def finish(self, sim):
            for pid, e in sim.chain.protocol("amm").pools.items():
                c = e.core
                pools.append((pid, type(c).__name__, c.balances(), c.weights(), c.total_supply,
                              c.get_spot_price(c.tokens[1], c.tokens[0])))
            return super().finish(sim)

    r = run_scenario(Kept(base.Params(backend=backend)), seed=0, out_dir=out, progress=False,
                     record_accounts_every=0)
    assert r.ok, r.error
    return (out / "data.csv").read_text(), pools


@pytest.mark.parametrize("name", ["simplepool", "oceanv3"])
def test_tokenspice_ocean_netlists_give_the_same_rows_on_the_bytecode(name, tmp_path):
    """``--set backend=evm``: the pools are Ocean's BPool clones, and every CSV row, every
    pool's balances, weights, share supply and spot price are those of the Python run."""
    try:
        evm_csv, evm_pools = _run_netlist(name, "evm", tmp_path / "evm")
    except NpmUnavailable as exc:
        pytest.skip(f"npm artifacts unavailable: {exc}")
    py_csv, py_pools = _run_netlist(name, "python", tmp_path / "py")
    assert evm_csv == py_csv and len(py_csv.splitlines()) > 20
    assert {k for _, k, *_ in evm_pools} == {"EvmBPool"}
    assert {k for _, k, *_ in py_pools} == {"BPool"}
    assert len(evm_pools) >= 2
    assert [p[:1] + p[2:] for p in evm_pools] == [p[:1] + p[2:] for p in py_pools]


def test_chain_state_snapshots_and_forks_carry_the_evm_pool():
    """A bundle's revert (``Chain.state_snapshot``/``restore_state``) puts the bytecode
    pool back; a fork (``Simulation.snapshot``) trades on its own EVM."""
    sim, pid = _evm_sim()
    swap = Transaction("bob", "amm", "swap", (pid, "OCEAN", "DT", 10 * E18, 0, True, 2**40, 0))
    saved, before = sim.chain.state_snapshot(), state(sim, pid)
    first = sim.send(swap)
    after = state(sim, pid)
    assert first.value == (10 * E18, 2292741528351587900) and after != before  # spec 4.6
    sim.chain.restore_state(saved)
    assert state(sim, pid) == before
    assert sim.send(swap).value == first.value and state(sim, pid) == after
    fork = sim.snapshot()
    assert fork.send(swap).status == first.status
    assert state(sim, pid) == after and state(fork, pid) != after


def test_a_rolled_back_operation_runs_again_alike_on_the_core():
    """``_rollback`` puts back the EVM and the core's record of the callers it funded:
    the same join after a rollback gives the same shares."""
    c = EvmCores()
    p = c.balancer_pool("ctl", "ctl", "pool", "ocean_v3")
    p.bind("ctl", "DT", 100 * 10**18, 3 * 10**18)
    p.bind("ctl", "OCEAN", 1000 * 10**18, 7 * 10**18)
    p.set_swap_fee("ctl", 10**15)
    p.finalize("ctl")
    state = p._checkpoint()
    first = p.joinswap_extern_amount_in("alice", "OCEAN", 10 * 10**18, 0).pool_amount
    p._rollback(state)
    assert p.joinswap_extern_amount_in("alice", "OCEAN", 10 * 10**18, 0).pool_amount == first > 0
