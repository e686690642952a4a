"""The ``evm`` protocol's bridge (:mod:`defisim.evm.bridge`): a ledger asset onto the EVM
and back, conserved to the base unit, used by a contract in between; rejections that
change nothing; the bridge's state in snapshots and forks."""

from __future__ import annotations

import pytest

from defisim import extras

if not extras.available("evm"):
    pytest.skip("needs the evm extra (simular-evm, eth-abi, eth-hash)", allow_module_level=True)

from defisim import Simulation  # noqa: E402
from defisim.chain import Transaction  # noqa: E402
from defisim.chain.ledger import general  # noqa: E402
from defisim.evm import NpmUnavailable, compile_solidity  # noqa: E402
from defisim.evm.bridge import bridge_token_artifact, escrow  # noqa: E402

VAULT = """
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
/// Holds deposits of one token and pays them back with a 10 % bonus from its own float.
contract BonusVault {
    IERC20 public immutable token;
    mapping(address => uint256) public deposited;
    constructor(IERC20 token_) { token = token_; }
    function deposit(uint256 amount) external {
        token.transferFrom(msg.sender, address(this), amount);
        deposited[msg.sender] += amount;
    }
    function redeem() external {
        uint256 a = deposited[msg.sender];
        require(a > 0, "nothing deposited");
        deposited[msg.sender] = 0;
        token.transfer(msg.sender, a + a / 10);
    }
}
"""


@pytest.fixture(scope="module")
def vault_artifact():
    try:
        bridge_token_artifact()
        return compile_solidity(VAULT, "BonusVault")
    except NpmUnavailable as exc:
        pytest.skip(f"solc-js / OpenZeppelin unavailable: {exc}")


def make() -> Simulation:
    sim = Simulation(seed=1, protocols=["evm"])
    sim.create_asset("USDC", 6)
    for p in ("alice", "bob", "sponsor"):
        sim.create_party(p)
        sim.mint(p, "USDC", 1_000)
    return sim


def send(sim: Simulation, party: str, call: str, *args):
    return sim.send(Transaction(party, "evm", call, args))


def test_deposit_use_and_withdraw_conserve_the_asset(vault_artifact):
    sim = make()
    token = sim.evm.bridge("USDC")
    assert sim.evm.bridge("USDC").address == token.address  # one token per asset
    assert token.call("decimals") == 6 and token.call("symbol") == "USDC"
    vault = sim.evm.deploy("vault", vault_artifact, token.address, sender="sponsor")
    alice, sponsor = sim.evm.address_of("alice"), sim.evm.address_of("sponsor")

    assert send(sim, "sponsor", "deposit", "USDC", 50_000_000).value == 50_000_000
    token.transact("transfer", vault.address, 50_000_000, sender="sponsor")  # the float
    assert send(sim, "alice", "deposit", "USDC", 200_000_000).value == 200_000_000
    assert sim.balance("alice", "USDC") == 800.0
    assert sim.chain.ledger.balance(escrow("USDC")) == 250_000_000
    token.transact("approve", vault.address, 200_000_000, sender="alice")
    assert vault.transact("deposit", 200_000_000, sender="alice").accepted
    sim.forward_time(12)  # a block end: escrow == supply is checked
    assert vault.transact("redeem", sender="alice").accepted
    assert token.call("balanceOf", alice) == 220_000_000  # 200 + the 10 % bonus
    rc = send(sim, "alice", "withdraw", "USDC", 220_000_000)
    assert rc.accepted and rc.value == 0
    assert sim.balance("alice", "USDC") == 1_020.0
    assert token.call("balanceOf", vault.address) == 30_000_000
    assert token.call("totalSupply") == sim.chain.ledger.balance(escrow("USDC")) == 30_000_000
    # nothing made or lost: the ledger's USDC = minted 3,000
    total = sum(sim.balance(p, "USDC") for p in ("alice", "bob", "sponsor"))
    assert total * 10**6 + sim.chain.ledger.balance(escrow("USDC")) == 3_000 * 10**6
    assert token.call("balanceOf", sponsor) == 0
    sim.forward_time(12)


def test_rejections_change_nothing():
    sim = make()
    sim.evm.bridge("USDC")
    before = dict(sim.chain.ledger.balances)
    cases = [
        (("alice", "deposit", "USDC", 2_000 * 10**6), "INSUFFICIENT_FUNDS"),
        (("alice", "withdraw", "USDC", 1), "INSUFFICIENT_FUNDS"),
        (("alice", "deposit", "ETH", 1), "UNKNOWN_ASSET"),
        (("alice", "deposit", "USDC", 0), "INVALID_ARGUMENTS"),
        (("alice", "deposit", "USDC", 1.5), "INVALID_ARGUMENTS"),
    ]
    for (party, call, *args), reason in cases:
        rc = send(sim, party, call, *args)
        assert rc.status == "REJECTED" and rc.reason == reason, (call, args, rc)
    assert dict(sim.chain.ledger.balances) == before
    with pytest.raises(ValueError, match="unknown asset 'ETH'"):
        sim.evm.bridge("ETH")
    sim.forward_time(1)


def test_snapshots_and_forks_carry_the_bridge():
    sim = make()
    token = sim.evm.bridge("USDC")
    bob = sim.evm.address_of("bob")
    send(sim, "bob", "deposit", "USDC", 5_000_000)
    state = sim.chain.state_snapshot()
    send(sim, "bob", "deposit", "USDC", 7_000_000)
    sim.chain.restore_state(state)
    assert token.call("balanceOf", bob) == 5_000_000
    assert sim.chain.ledger.balance(general("bob", "USDC")) == 995_000_000
    fork = sim.snapshot()
    send(fork, "bob", "withdraw", "USDC", 5_000_000)
    assert fork.balance("bob", "USDC") == 1_000.0 and sim.balance("bob", "USDC") == 995.0
    assert token.call("balanceOf", bob) == 5_000_000
    sim.forward_time(1)
    fork.forward_time(1)


def test_an_escrow_that_disagrees_with_the_supply_is_an_invariant_error():
    sim = make()
    token = sim.evm.bridge("USDC")
    send(sim, "alice", "deposit", "USDC", 3)
    # the bridge operator mints outside a deposit: the token's supply has no escrow
    evm = sim.evm
    evm.backend.transact(evm.address_of("defisim:bridge"), token.address, token.abi, "mint",
                         (evm.address_of("bob"), 1))
    assert evm.invariant_errors() == ["evm bridge USDC: escrow holds 3, token supply 4"]
