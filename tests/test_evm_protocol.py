"""The ``evm`` chain protocol (:mod:`defisim.evm`): artifacts and their errors, the
clock, snapshots, rejections, party addresses, contract wrappers, mempool mode.

The artifact tests run on every install (a fake npm cache); the rest need the ``evm``
extra and the npm packages, and skip without them.
"""

from __future__ import annotations

import json

import pytest

from defisim import extras
from defisim.evm import artifacts as art
from defisim.evm.artifacts import ArtifactError, NpmUnavailable, load_artifact


# ------------------------------------------------------------------ artifacts (no extra)
def _fake_package(root, package="@uniswap/v2-core", version="1.0.1", contracts=("ERC20",)):
    pkg = root / "npm" / f"{package.replace('/', '+')}@{version}" / "node_modules" / package
    (pkg / "build").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": package, "version": version}))
    for c in contracts:
        (pkg / "build" / f"{c}.json").write_text(json.dumps(
            {"abi": [], "evm": {"bytecode": {"object": "6080"}}}))
    return pkg


def test_an_installed_package_loads_without_npm(tmp_path, monkeypatch):
    monkeypatch.setenv("DEFISIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(art.shutil, "which", lambda name: None)
    _fake_package(tmp_path)
    a = load_artifact("@uniswap/v2-core", "ERC20")
    assert (a.name, a.abi, a.bytecode, a.version) == ("ERC20", [], b"\x60\x80", "1.0.1")


def test_a_missing_artifact_names_the_package_the_file_and_what_there_is(tmp_path, monkeypatch):
    monkeypatch.setenv("DEFISIM_CACHE_DIR", str(tmp_path))
    _fake_package(tmp_path, contracts=("ERC20", "UniswapV2Pair"))
    with pytest.raises(ArtifactError) as err:
        load_artifact("@uniswap/v2-core", "UniswapV3Pool")
    msg = str(err.value)
    assert "@uniswap/v2-core@1.0.1 has no artifact UniswapV3Pool.json" in msg
    assert msg.endswith("it has: ERC20, UniswapV2Pair")
    assert not isinstance(err.value, NpmUnavailable)


def test_hardhat_artifacts_load_as_the_v3_core_package_ships_them(tmp_path, monkeypatch):
    """``@uniswap/v3-core`` keeps ``artifacts/contracts/<C>.sol/<C>.json`` with a top-level
    ``bytecode``; its ``.dbg.json`` files are not contracts."""
    monkeypatch.setenv("DEFISIM_CACHE_DIR", str(tmp_path))
    pkg = _fake_package(tmp_path, package="@uniswap/v3-core", contracts=())
    for sub, c, code in (("contracts/UniswapV3Pool.sol", "UniswapV3Pool", "0x6001"),
                         ("contracts/interfaces/I.sol", "IUniswapV3Pool", "0x")):
        (pkg / "artifacts" / sub).mkdir(parents=True)
        (pkg / "artifacts" / sub / f"{c}.json").write_text(json.dumps(
            {"abi": [{"type": "fallback"}], "bytecode": code}))
        (pkg / "artifacts" / sub / f"{c}.dbg.json").write_text("{}")
    a = load_artifact("@uniswap/v3-core", "UniswapV3Pool")
    assert (a.abi, a.bytecode, a.version) == ([{"type": "fallback"}], b"\x60\x01", "1.0.1")
    assert a.path.endswith("artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json")
    with pytest.raises(ArtifactError) as err:
        load_artifact("@uniswap/v3-core", "UniswapV3Factory")
    msg = str(err.value)
    assert "artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json" in msg
    assert msg.endswith("it has: UniswapV3Pool")  # interfaces' folders are not searched


def test_a_truffle_artifacts_folder_loads_too(tmp_path, monkeypatch):
    """Ocean's package keeps Truffle JSON (``bytecode`` at the top) in ``artifacts/``."""
    monkeypatch.setenv("DEFISIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(art.shutil, "which", lambda name: None)
    pkg = _fake_package(tmp_path, "@oceanprotocol/contracts", "0.5.16", contracts=())
    (pkg / "artifacts").mkdir()
    (pkg / "artifacts" / "BPool.json").write_text(json.dumps(
        {"contractName": "BPool", "abi": [{"type": "constructor", "inputs": []}],
         "bytecode": "0x60806040"}))
    a = load_artifact("@oceanprotocol/contracts", "BPool")
    assert (a.name, a.bytecode, a.version) == ("BPool", bytes.fromhex("60806040"), "0.5.16")
    assert a.path.endswith("artifacts/BPool.json")
    with pytest.raises(ArtifactError) as err:
        load_artifact("@oceanprotocol/contracts", "BFactory")
    msg = str(err.value)
    assert "has no artifact BFactory.json (build/BFactory.json or artifacts/BFactory.json" in msg
    assert msg.endswith("it has: BPool")


def test_no_npm_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DEFISIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(art.shutil, "which", lambda name: None)
    with pytest.raises(NpmUnavailable, match=r"npm is not on PATH: cannot install "
                                             r"@uniswap/v2-periphery@1\.1\.0-beta\.0"):
        load_artifact("@uniswap/v2-periphery", "UniswapV2Router02")
    with pytest.raises(ArtifactError, match="no pinned version of npm package 'left-pad'"):
        load_artifact("left-pad", "X")


def test_a_failed_install_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("DEFISIM_CACHE_DIR", str(tmp_path))
    fake_npm = tmp_path / "npm-fails"
    fake_npm.write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    fake_npm.chmod(0o755)
    monkeypatch.setattr(art.shutil, "which", lambda name: str(fake_npm))
    with pytest.raises(NpmUnavailable, match=r"npm install @uniswap/v2-core@1\.0\.1 failed "
                                             r"\(exit 1\): npm error 404 Not Found"):
        load_artifact("@uniswap/v2-core", "ERC20")
    assert list((tmp_path / "npm").iterdir()) == []


# ------------------------------------------------------------------ the protocol
needs_evm = pytest.mark.skipif(not extras.available("evm"),
                               reason="needs the evm extra (simular-evm, eth-abi, eth-hash)")


@pytest.fixture(scope="module")
def erc20():
    if not extras.available("evm"):
        pytest.skip("needs the evm extra")
    try:
        return load_artifact("@uniswap/v2-core", "ERC20")
    except NpmUnavailable as exc:
        pytest.skip(f"npm artifacts unavailable: {exc}")


@pytest.fixture(scope="module")
def v2(erc20):
    return {n: load_artifact("@uniswap/v2-core", n) for n in ("UniswapV2Factory", "UniswapV2Pair")}


def _sim(**kw):
    from defisim import Simulation

    return Simulation(seed=1, protocols=["evm"], **kw)


def _token(sim, erc20, label="USD", supply=10**30):
    tok = sim.evm.deploy(label, erc20, supply, sender="alice")
    return tok


@needs_evm
def test_party_addresses_are_deterministic_and_distinct():
    from defisim.evm import party_address

    a = party_address("alice")
    assert a == party_address("alice") and a != party_address("bob")
    assert a.startswith("0x") and len(a) == 42 and a == a.lower()


@needs_evm
def test_deploy_transact_call_and_events_in_the_log(erc20):
    from defisim.evm import ContractDeployed, EvmLog

    sim = _sim()
    tok = _token(sim, erc20)
    alice, bob = sim.evm.address_of("alice"), sim.evm.address_of("bob")
    assert isinstance(sim.recent_events(1)[0], ContractDeployed)
    assert tok.call("balanceOf", alice) == 10**30
    rc = tok.transact("transfer", bob, 123, sender="alice")
    assert rc.accepted and rc.value is True
    ev = sim.recent_events(1)[0]
    assert ev == EvmLog(sim.block, sim.now_ns, "USD", "alice", "Transfer", (alice, bob, 123))
    assert tok.functions.balanceOf(bob).call() == 123
    rc = tok.functions.transfer(alice, 23).transact(sender="bob")
    assert rc.accepted and tok.call("balanceOf", bob) == 100
    assert sim.evm.party_of(bob) == "bob"


@needs_evm
def test_a_revert_is_a_rejection_with_the_revert_reason(erc20):
    from defisim.chain.events import TransactionRejected
    from defisim.evm import Reason

    sim = _sim()
    tok = _token(sim, erc20)
    carol = sim.evm.address_of("carol")
    rc = tok.transact("transfer", carol, 1, sender="bob")  # bob holds nothing
    assert not rc.accepted and rc.reason == Reason.EVM_REVERT
    assert rc.detail == "ds-math-sub-underflow"
    ev = sim.recent_events(1)[0]
    assert isinstance(ev, TransactionRejected)
    assert (ev.tx, ev.party, ev.market, ev.reason, ev.detail) == (
        "transact", "bob", "USD", "EVM_REVERT", "ds-math-sub-underflow")
    assert tok.call("balanceOf", carol) == 0


@needs_evm
def test_unknown_functions_contracts_and_bad_arguments(erc20):
    from defisim.evm import Reason, UnknownFunction

    sim = _sim()
    tok = _token(sim, erc20)
    with pytest.raises(UnknownFunction, match=r"contract ERC20 has no function 'swap'; known: "
                                              r"DOMAIN_SEPARATOR, PERMIT_TYPEHASH, allowance"):
        tok.call("swap")
    with pytest.raises(UnknownFunction, match="no function 'mintTo'"):
        tok.functions.mintTo(1)
    rc = tok.transact("swap", 1, sender="alice")
    assert rc.reason == Reason.UNKNOWN_FUNCTION and "known: " in rc.detail
    rc = tok.transact("transfer", "bob", 1, sender="alice")  # not an address
    assert rc.reason == Reason.INVALID_ARGUMENTS and "argument 0 (address)" in rc.detail
    rc = tok.transact("transfer", sim.evm.address_of("bob"), -1, sender="alice")
    assert rc.reason == Reason.INVALID_ARGUMENTS and "argument 1 (uint256) cannot be -1" in rc.detail
    rc = tok.transact("transfer", sim.evm.address_of("bob"), sender="alice")
    assert rc.reason == Reason.INVALID_ARGUMENTS and "takes 2 arguments" in rc.detail
    from defisim.chain import Transaction

    rc = sim.send(Transaction("alice", "evm", "transact", ("NOPE", "transfer", ())))
    assert rc.reason == Reason.CONTRACT_NOT_FOUND
    with pytest.raises(KeyError, match=r"no contract 'NOPE'; deployed: \['USD'\]"):
        sim.evm.contract("NOPE")
    with pytest.raises(ValueError, match="already deployed"):
        _token(sim, erc20)
    with pytest.raises(TypeError, match="constructor takes 1 arguments"):
        sim.evm.deploy("X", erc20, sender="alice")


@needs_evm
def test_evm_time_and_blocks_follow_the_chain_clock(erc20, v2):
    from defisim.evm.protocol import DEFAULT_GENESIS_TIMESTAMP

    sim = _sim()
    evm = sim.evm
    a, b = _token(sim, erc20, "A"), _token(sim, erc20, "B")
    fac = evm.deploy("factory", v2["UniswapV2Factory"], evm.address_of("alice"), sender="alice")
    pair = evm.at("pair", fac.transact("createPair", a.address, b.address, sender="alice").value,
                  v2["UniswapV2Pair"])
    for t in (a, b):
        t.transact("transfer", pair.address, 10**20, sender="alice")
    pair.transact("mint", evm.address_of("alice"), sender="alice")
    assert pair.call("getReserves")[2] == DEFAULT_GENESIS_TIMESTAMP
    for dt in (12.5, 0.25, 3600.0, 1.0):
        sim.forward_time(dt)
        pair.transact("sync", sender="alice")
        assert pair.call("getReserves")[2] == DEFAULT_GENESIS_TIMESTAMP + int(sim.now)
        assert evm.backend.block == (sim.block, DEFAULT_GENESIS_TIMESTAMP + int(sim.now))


@needs_evm
def test_evm_state_is_part_of_the_chain_snapshot(erc20):
    sim = _sim()
    tok = _token(sim, erc20)
    bob = sim.evm.address_of("bob")
    state = sim.chain.state_snapshot()
    tok.transact("transfer", bob, 5, sender="alice")
    assert tok.call("balanceOf", bob) == 5
    for _ in range(2):
        sim.chain.restore_state(state)
        assert tok.call("balanceOf", bob) == 0
        tok.transact("transfer", bob, 7, sender="alice")
        assert tok.call("balanceOf", bob) == 7
    fork = sim.snapshot()
    fork.evm.contract("USD").transact("transfer", bob, 1, sender="alice")
    assert fork.evm.contract("USD").call("balanceOf", bob) == 8
    assert tok.call("balanceOf", bob) == 7


@needs_evm
def test_mempool_mode_and_a_bundle_revert(erc20):
    sim = _sim(execution="mempool", ordering="fifo")
    tok = _token(sim, erc20)
    bob, carol = sim.evm.address_of("bob"), sim.evm.address_of("carol")
    rc = tok.transact("transfer", bob, 10, sender="alice")
    assert rc.status == "PENDING" and tok.call("balanceOf", bob) == 0
    sim.forward_time(1)
    assert tok.call("balanceOf", bob) == 10
    assert sim.receipt(rc.tx_id).accepted
    # a bundle whose second transfer reverts leaves the first undone
    sim.send_bundle([tok.tx("transfer", carol, 4, sender="bob"),
                     tok.tx("transfer", carol, 100, sender="bob")])
    sim.forward_time(1)
    assert tok.call("balanceOf", bob) == 10 and tok.call("balanceOf", carol) == 0


@needs_evm
def test_the_evm_protocol_is_registered_but_not_a_default():
    from defisim.service import DEFAULT_PROTOCOLS, PROTOCOLS

    assert "evm" in PROTOCOLS and "evm" not in DEFAULT_PROTOCOLS
