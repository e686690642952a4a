"""Solidity compiled offline with npm solc (solc-js) and OpenZeppelin
(:mod:`defisim.evm.solidity`), deployed on the embedded EVM, and the
``docs/evm/fee_token_scenario.py`` example run through the CLI.

Skips without node/npm (or without the packages, e.g. offline on first use); the
deployment tests also need the ``evm`` extra.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from defisim import extras
from defisim.evm import solidity as sol
from defisim.evm.artifacts import NpmUnavailable
from defisim.evm.solidity import SolidityError, compile_solidity

DOCS = Path(__file__).resolve().parent.parent / "docs" / "evm"
WEI = 10**18

needs_evm = pytest.mark.skipif(not extras.available("evm"),
                               reason="needs the evm extra (simular-evm, eth-abi, eth-hash)")


@pytest.fixture(scope="module")
def solc():
    try:
        sol.install_package("solc", sol.SOLC_VERSION)
        sol.install_package("@openzeppelin/contracts", sol.OPENZEPPELIN_VERSION)
    except NpmUnavailable as exc:
        pytest.skip(f"solc-js / OpenZeppelin unavailable: {exc}")
    if sol.shutil.which("node") is None:
        pytest.skip("node is not on PATH")


def _fresh(src: str) -> str:
    """``src`` with a unique comment, so it misses the compile cache."""
    return f"{src}\n// {uuid.uuid4().hex}\n"


MY_TOKEN = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
contract MyToken is ERC20 {
    constructor(uint256 supply) ERC20("My Token", "MTK") { _mint(msg.sender, supply); }
}
"""


def _sim():
    from defisim import Simulation

    return Simulation(seed=1, protocols=["evm"])


# ------------------------------------------------------------------ without the compiler
def test_no_node_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(sol.shutil, "which", lambda name: None)
    with pytest.raises(NpmUnavailable, match="node is not on PATH"):
        compile_solidity(_fresh(MY_TOKEN))


def test_error_positions_are_line_and_column():
    assert sol._line_col("ab\ncd\nef", 4) == (2, 2)
    err = {"type": "ParserError", "message": "Expected ';'",
           "sourceLocation": {"file": "A.sol", "start": 3, "end": 4}}
    assert sol._format_error(err, {"A.sol": ("x/A.sol", "ab\ncd")}) == \
        "x/A.sol:2:1: ParserError: Expected ';'"


# ------------------------------------------------------------------ compiling
def test_openzeppelin_erc20_compiles(solc):
    a = compile_solidity(MY_TOKEN)
    assert (a.name, a.package, a.version) == ("MyToken", "solc", sol.SOLC_VERSION)
    fns = {e["name"] for e in a.abi if e["type"] == "function"}
    assert {"transfer", "approve", "transferFrom", "balanceOf", "decimals"} <= fns
    assert a.bytecode[:2] == b"\x60\x80"


def test_the_example_compiles_and_names_its_file(solc):
    a = compile_solidity(DOCS / "FeeToken.sol")
    assert a.name == "FeeToken" and a.path == str(DOCS / "FeeToken.sol")
    assert {"treasury", "feeBps", "totalFees", "setFee"} <= {e.get("name") for e in a.abi}


def test_a_syntax_error_names_file_line_and_column(solc, tmp_path):
    f = tmp_path / "Broken.sol"
    f.write_text("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n"
                 "contract Broken {\n    uint x = 1\n}\n")
    with pytest.raises(SolidityError) as err:
        compile_solidity(f)
    msg = str(err.value)
    assert f"{f}:5:1: ParserError: Expected ';' but got '}}'" in msg, msg
    assert "Traceback" not in msg and len(err.value.errors) == 1


def test_type_errors_and_missing_imports_are_reported(solc, tmp_path):
    f = tmp_path / "Bad.sol"
    f.write_text('// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n'
                 'import "./Missing.sol";\ncontract Bad { function f() public { y = 2; } }\n')
    with pytest.raises(SolidityError, match=r"Bad\.sol:3:1: ParserError: Source \"Missing\.sol\" "
                                            r"not found: File not found: Missing\.sol"):
        compile_solidity(f)


def test_which_contract(solc):
    src = _fresh("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n"
                 "contract A { function a() public {} }\ncontract B { function b() public {} }\n")
    with pytest.raises(SolidityError, match="which contract. it has A, B; pass contract="):
        compile_solidity(src)
    assert compile_solidity(src, "B").name == "B"
    with pytest.raises(SolidityError, match="has no contract 'C'; it has: A, B"):
        compile_solidity(src, "C")


def test_the_compile_cache_is_instant_and_follows_imports(solc, tmp_path):
    (tmp_path / "Lib.sol").write_text("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n"
                                      "library Lib { function k() internal pure returns (uint) "
                                      "{ return 1; } }\n")
    main = tmp_path / "Main.sol"
    main.write_text(_fresh('// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n'
                           'import "./Lib.sol";\nimport {ERC20} from '
                           '"@openzeppelin/contracts/token/ERC20/ERC20.sol";\n'
                           'contract Main is ERC20 { constructor() ERC20("M", "M") '
                           '{ _mint(msg.sender, Lib.k()); } }\n'))
    first = compile_solidity(main)
    t = time.perf_counter()
    again = compile_solidity(main)
    assert time.perf_counter() - t < 0.05
    assert again == first
    # an edited import is a cache miss
    (tmp_path / "Lib.sol").write_text((tmp_path / "Lib.sol").read_text().replace("return 1", "return 2"))
    assert compile_solidity(main).bytecode != first.bytecode


# ------------------------------------------------------------------ on the embedded EVM
@needs_evm
def test_openzeppelin_erc20_runs(solc):
    sim = _sim()
    tok = sim.evm.deploy("MTK", compile_solidity(MY_TOKEN), 1000 * WEI, sender="alice")
    alice, bob = sim.evm.address_of("alice"), sim.evm.address_of("bob")
    assert tok.call("symbol") == "MTK" and tok.call("decimals") == 18
    assert tok.transact("transfer", bob, 250 * WEI, sender="alice").status == "EXECUTED"
    assert (tok.call("balanceOf", alice), tok.call("balanceOf", bob)) == (750 * WEI, 250 * WEI)
    rc = tok.transact("transfer", alice, 251 * WEI, sender="bob")  # more than bob has
    assert (rc.status, rc.reason) == ("REJECTED", "EVM_REVERT")
    assert tok.call("balanceOf", bob) == 250 * WEI


@needs_evm
def test_fee_token_charges_the_fee_by_hand(solc):
    from defisim.evm import EvmLog, EvmRevert

    sim = _sim()
    evm = sim.evm
    art = compile_solidity(DOCS / "FeeToken.sol")
    treasury, alice, bob = (evm.address_of(p) for p in ("treasury", "alice", "bob"))
    with pytest.raises(EvmRevert):  # FeeTooHigh(2000)
        evm.deploy("BAD", art, "F", "F", treasury, 2000, 10**6, sender="owner")
    tok = evm.deploy("FEE", art, "Fee Token", "FEE", treasury, 30, 10**6, sender="owner")
    assert tok.call("balanceOf", evm.address_of("owner")) == 10**6
    tok.transact("transfer", alice, 100_000, sender="owner")  # 30 bps: fee 300
    assert tok.call("balanceOf", alice) == 99_700 and tok.call("balanceOf", treasury) == 300
    tok.transact("transfer", bob, 12_345, sender="alice")  # 12345 * 30 // 10000 = 37
    assert tok.call("balanceOf", bob) == 12_308 and tok.call("balanceOf", treasury) == 337
    assert (tok.call("totalFees"), tok.call("feeTransfers")) == (337, 2)
    fee_events = [e for e in sim.recent_events(50) if isinstance(e, EvmLog) and e.event == "FeeCharged"]
    assert [e.args for e in fee_events][-1] == (alice, bob, 12_345, 37)
    tok.transact("transfer", bob, 33, sender="alice")  # 33 * 30 // 10000 = 0: no fee
    assert tok.call("balanceOf", bob) == 12_341 and tok.call("feeTransfers") == 2
    tok.transact("transfer", treasury, 1_000, sender="alice")  # to the treasury: no fee
    assert tok.call("balanceOf", treasury) == 1_337
    rc = tok.transact("setFee", 50, sender="alice")  # Ownable: not the owner
    assert (rc.status, rc.reason) == ("REJECTED", "EVM_REVERT")
    assert tok.transact("setFee", 100, sender="owner").status == "EXECUTED"
    tok.transact("transfer", alice, 10_000, sender="bob")  # 1 %: fee 100
    assert tok.call("totalFees") == 437 and tok.call("totalSupply") == 10**6


@needs_evm
def test_cancun_opcodes_run_on_the_embedded_evm(solc):
    src = _fresh("""// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;
contract C { uint public x; uint public y;
  function t(uint v) external { uint r; assembly { tstore(0, v) r := tload(0) } x = r; }
  function m(uint v) external {
    bytes memory b = abi.encode(v, v + 1); bytes memory c = new bytes(b.length);
    assembly { mcopy(add(c, 32), add(b, 32), mload(b)) }
    (uint p, uint q) = abi.decode(c, (uint, uint)); y = p + q; } }
""")
    assert sol.EVM_VERSION == "cancun"
    sim = _sim()
    c = sim.evm.deploy("C", compile_solidity(src))
    assert c.transact("t", 7, sender="a").status == "EXECUTED" and c.call("x") == 7
    assert c.transact("m", 20, sender="a").status == "EXECUTED" and c.call("y") == 41


@needs_evm
def test_the_example_scenario_runs_from_the_cli(solc, tmp_path):
    from typer.testing import CliRunner

    from defisim.cli import app

    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", str(DOCS / "fee_token_scenario.py"), "--steps", "20",
                                 "--out", str(out), "--quiet", "--no-plots"])
    assert r.exit_code == 0, r.output
    k = json.loads((out / "summary.json").read_text())["kpis"]
    # 3 holders send 100, 200, 300 tokens a step at 30 bps: fees 0.3 + 0.6 + 0.9 = 1.8 a step
    assert k["total_fees"] == pytest.approx(36.0)
    assert k["treasury_balance"] == pytest.approx(1_000_000 - 3 * 10_000 + 36)
    assert (k["transfers"], k["fee_transfers"], k["volume"]) == (60, 60, 12_000)
    assert k["reverts"] == 4  # the pauper at steps 1, 6, 11, 16
    assert k["supply"] == 1_000_000
