"""The external EVM backend (:mod:`defisim.evm.external`): an anvil node started and
stopped by defisim, raw batched JSON-RPC, and the Uniswap V2 differential on it.

Skipped without the ``evm`` extra, or when npm cannot install anvil (or the V2
artifacts).
"""

from __future__ import annotations

import gc
import os
import pickle
import shutil
import subprocess
import time

import pytest

from defisim import extras

if not extras.available("evm"):
    pytest.skip("needs the evm extra (simular-evm, eth-abi, eth-hash)", allow_module_level=True)

from defisim import Simulation  # noqa: E402
from defisim.chain.events import TransactionRejected  # noqa: E402
from defisim.evm import (  # noqa: E402
    ContractAbi,
    EvmLog,
    EvmRevert,
    NpmUnavailable,
    Reason,
    UnknownFunction,
    load_artifact,
)
from defisim.evm.external import (  # noqa: E402
    AnvilNode,
    EvmNodeError,
    ExternalBackend,
    anvil_binary,
)
from defisim.evm.protocol import DEFAULT_GENESIS_TIMESTAMP, EvmProtocol  # noqa: E402


@pytest.fixture(scope="module")
def anvil():
    try:
        return anvil_binary()
    except EvmNodeError as exc:
        pytest.skip(f"anvil unavailable: {exc}")


@pytest.fixture(scope="module")
def artifacts(anvil):
    try:
        return {n: load_artifact("@uniswap/v2-core", n)
                for n in ("ERC20", "UniswapV2Factory", "UniswapV2Pair")}
    except NpmUnavailable as exc:
        pytest.skip(f"npm artifacts unavailable: {exc}")


def _procs() -> dict[int, str]:
    """Live (not zombie) processes: pid -> command line (from /proc)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{d}/cmdline", "rb") as f:
                out[int(d)] = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
    return out


def _anvil_pids() -> set[int]:
    return {p for p, cmd in _procs().items() if os.path.basename(cmd.split(" ")[0]) == "anvil"}


@pytest.fixture(scope="module", autouse=True)
def no_node_left_behind():
    """After every test of this module, no anvil started here is still running."""
    before = _anvil_pids()
    yield
    gc.collect()
    deadline = time.monotonic() + 10
    while _anvil_pids() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _anvil_pids() - before


def test_an_unknown_backend_name_is_an_error():
    with pytest.raises(ValueError, match="unknown EVM backend 'remote'; known: 'embedded', 'external'"):
        EvmProtocol("remote")


def _sim(backend):
    return Simulation(seed=1, protocols=[EvmProtocol(backend)])


def test_a_node_starts_on_localhost_and_stops_leaving_no_process(anvil):
    before = _anvil_pids()
    with AnvilNode(timestamp=123) as node:
        assert node.running and node.pid in _anvil_pids()
        assert node.host == "127.0.0.1" and node.args[node.args.index("--host") + 1] == "127.0.0.1"
        assert int(node.rpc.call("eth_chainId"), 16) == 31337
        block = node.rpc.call("eth_getBlockByNumber", "latest", False)
        assert int(block["timestamp"], 16) == 123 and int(block["baseFeePerGas"], 16) == 0
        # listening sockets of the process: 127.0.0.1 only
        if shutil.which("ss"):
            listen = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True).stdout
            mine = [ln for ln in listen.splitlines() if f"pid={node.pid}," in ln]
            assert mine and all(f"127.0.0.1:{node.port}" in ln for ln in mine), mine
        # a batch is one HTTP request
        n = node.rpc.requests
        res = node.rpc.batch([("eth_chainId", []), ("eth_blockNumber", []), ("net_version", [])])
        assert res == ["0x7a69", "0x0", "31337"] and node.rpc.requests == n + 1
    assert not node.running
    assert _anvil_pids() == before
    # garbage collection stops a forgotten node too
    node = AnvilNode()
    pid = node.pid
    del node
    gc.collect()
    assert pid not in _anvil_pids()


def test_a_node_that_fails_to_start_is_one_clear_error(tmp_path):
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'error: bad flag --frobnicate' >&2\nexit 2\n")
    fake.chmod(0o755)
    with pytest.raises(EvmNodeError, match=r"anvil exited with code 2 at start .*stderr: "
                                           r"error: bad flag --frobnicate"):
        AnvilNode(binary=fake)
    mute = tmp_path / "mute"
    mute.write_text("#!/bin/sh\necho starting >&2\nexec sleep 30\n")
    mute.chmod(0o755)
    with pytest.raises(EvmNodeError, match=r"did not answer on 127\.0\.0\.1:\d+ within 0\.5 s; "
                                           r"stderr: starting"):
        AnvilNode(binary=mute, timeout=0.5)
    assert not [p for p in _pids_of(str(mute))]


def _pids_of(exe: str) -> list[int]:
    return [p for p, cmd in _procs().items() if exe in cmd]


def test_no_npm_is_one_clear_node_error(tmp_path, monkeypatch):
    from defisim.evm import artifacts as art

    monkeypatch.setenv("DEFISIM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("DEFISIM_ANVIL", raising=False)
    monkeypatch.setattr(art.shutil, "which", lambda name: None)
    with pytest.raises(EvmNodeError, match=r"cannot install anvil \(@foundry-rs/anvil-.*@1\.7\.1\)"
                                           r": npm is not on PATH"):
        anvil_binary()


def test_transfers_events_reverts_and_bad_names(artifacts):
    sim = _sim("external")
    evm = sim.evm
    try:
        tok = evm.deploy("USD", artifacts["ERC20"], 10**30, sender="alice")
        alice, bob = evm.address_of("alice"), evm.address_of("bob")
        assert tok.call("balanceOf", alice) == 10**30
        rc = tok.transact("transfer", bob, 123, sender="alice")
        assert rc.accepted and rc.value is True
        assert sim.recent_events(1)[0] == EvmLog(sim.block, sim.now_ns, "USD", "alice", "Transfer",
                                                 (alice, bob, 123))
        # a revert is a rejection with its reason, and changes nothing
        carol = evm.address_of("carol")
        rc = tok.transact("transfer", carol, 1, sender="carol")
        assert not rc.accepted and rc.reason == Reason.EVM_REVERT
        assert rc.detail == "ds-math-sub-underflow"
        ev = sim.recent_events(1)[0]
        assert isinstance(ev, TransactionRejected) and ev.detail == "ds-math-sub-underflow"
        with pytest.raises(EvmRevert, match="ds-math-sub-underflow"):
            evm.backend.transact(carol, tok.address, tok.abi, "transfer", (bob, 1))
        # bad names and arguments
        with pytest.raises(UnknownFunction, match=r"contract ERC20 has no function 'swap'; known: "):
            tok.call("swap")
        rc = tok.transact("swap", 1, sender="alice")
        assert rc.reason == Reason.UNKNOWN_FUNCTION and "known: " in rc.detail
        rc = tok.transact("transfer", bob, -1, sender="alice")
        assert rc.reason == Reason.INVALID_ARGUMENTS
        # the clock: block.timestamp is the chain's
        sim.forward_time(3600.5)
        assert tok.transact("transfer", bob, 1, sender="alice").accepted
        latest = evm.backend.rpc.call("eth_getBlockByNumber", "latest", False)
        assert int(latest["timestamp"], 16) == DEFAULT_GENESIS_TIMESTAMP + 3600
        assert evm.backend.block == (sim.block, DEFAULT_GENESIS_TIMESTAMP + 3600)
        # ether
        evm.fund("dave", 5 * 10**18)
        assert evm.backend.balance(evm.address_of("dave")) == 5 * 10**18
    finally:
        evm.backend.close()


def test_snapshots_restore_any_number_of_times(artifacts):
    with ExternalBackend(1, DEFAULT_GENESIS_TIMESTAMP) as be:
        sim = Simulation(seed=1, protocols=[EvmProtocol(be)])
        tok = sim.evm.deploy("USD", artifacts["ERC20"], 10**30, sender="alice")
        bob = sim.evm.address_of("bob")
        state = sim.chain.state_snapshot()
        tok.transact("transfer", bob, 5, sender="alice")
        assert tok.call("balanceOf", bob) == 5
        for _ in range(3):
            sim.chain.restore_state(state)
            assert tok.call("balanceOf", bob) == 0
            tok.transact("transfer", bob, 7, sender="alice")
            assert tok.call("balanceOf", bob) == 7
        # a fork is a second node holding this node's state; each goes its own way
        fork = sim.snapshot()
        fork_be = fork.evm.backend
        try:
            assert fork_be.node.pid != be.node.pid
            ftok = fork.evm.contract("USD")
            assert ftok.call("balanceOf", bob) == 7
            ftok.transact("transfer", bob, 100, sender="alice")
            assert ftok.call("balanceOf", bob) == 107
            assert tok.call("balanceOf", bob) == 7
            with pytest.raises(Exception, match="cannot be pickled"):
                pickle.dumps(be)
        finally:
            fork_be.close()
        assert not fork_be.node.running
    assert not be.node.running


def test_a_batch_of_transactions_in_one_block(artifacts):
    with ExternalBackend(1, DEFAULT_GENESIS_TIMESTAMP) as be:
        abi = ContractAbi("ERC20", artifacts["ERC20"].abi)
        alice, bob = "0x" + "a1" * 20, "0x" + "b0" * 20
        tok = be.deploy(alice, abi, artifacts["ERC20"].bytecode, (10**30,))
        be.set_block(2, DEFAULT_GENESIS_TIMESTAMP + 12)
        n = be.rpc.requests
        calls = [(alice, tok, abi, "transfer", (bob, i), 0) for i in range(1, 51)]
        calls.insert(10, (bob, tok, abi, "transfer", (alice, 10**9), 0))  # bob holds 45: reverts
        res = be.transact_batch(calls)
        assert be.rpc.requests - n <= 7
        assert isinstance(res[10], EvmRevert) and res[10].reason == "ds-math-sub-underflow"
        ok = [r for i, r in enumerate(res) if i != 10]
        assert [r.events for r in ok] == [(("Transfer", (alice, bob, i)),) for i in range(1, 51)]
        assert be.call(tok, abi, "balanceOf", (bob,)) == (sum(range(1, 51)),)
        blk = be.rpc.call("eth_getBlockByNumber", "latest", False)
        assert len(blk["transactions"]) == 51 and int(blk["timestamp"], 16) == DEFAULT_GENESIS_TIMESTAMP + 12


def test_v2_differential_on_the_external_backend(artifacts, monkeypatch):
    """A short run of the V2 differential of ``test_evm_uniswap_v2``, on anvil."""
    import functools

    from defisim.service import simulation as simmod

    test_v2 = pytest.importorskip("test_evm_uniswap_v2")
    factory, facade = simmod.PROTOCOLS["evm"]
    monkeypatch.setitem(simmod.PROTOCOLS, "evm",
                        (functools.partial(EvmProtocol, "external"), facade))
    twin = test_v2.Twin(artifacts, seed=7)
    try:
        assert isinstance(twin.evm.backend, ExternalBackend)
        twin.run(100)
        assert twin.counts["swap"] > 30 and twin.counts["mint"] > 5 and twin.counts["revert"] > 0
        # every log, in emission order: a swap's token Transfer, then Sync, then Swap
        names = [e.event for e in twin.sim.chain.events if isinstance(e, EvmLog)]
        i = names.index("Swap")
        assert names[i - 2:i + 1] == ["Transfer", "Sync", "Swap"]
    finally:
        twin.evm.backend.close()


def test_the_same_seed_gives_the_same_events_on_anvil(artifacts, monkeypatch):
    """No wall clock leaks in from the node: two runs of one seed, two anvils, equal logs."""
    import functools

    from defisim.service import simulation as simmod

    test_v2 = pytest.importorskip("test_evm_uniswap_v2")
    monkeypatch.setitem(simmod.PROTOCOLS, "evm",
                        (functools.partial(EvmProtocol, "external"), simmod.PROTOCOLS["evm"][1]))
    logs = []
    for _ in range(2):
        twin = test_v2.Twin(artifacts, seed=11)
        try:
            twin.run(40)
            logs.append(list(twin.sim.chain.events))
        finally:
            twin.evm.backend.close()
    assert logs[0] == logs[1] and len(logs[0]) > 100
