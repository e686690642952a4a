// SPDX-License-Identifier: MIT
// defisim's bridge token: the ERC-20 that stands for one ledger asset on the EVM.
// Amounts are the ledger's base units; `decimals` is the asset's. Minted when a party
// (or a pool, through defisim.evm_amm) moves ledger funds into the EVM and burned when
// they move back, so its supply always equals what the bridge holds on the ledger.
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract BridgeToken is ERC20 {
    address public immutable owner;
    uint8 private immutable _decimals;
    mapping(address => bool) public isMinter;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        owner = msg.sender;
        _decimals = decimals_;
        isMinter[msg.sender] = true;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function setMinter(address who, bool allowed) external {
        require(msg.sender == owner, "BridgeToken: FORBIDDEN");
        isMinter[who] = allowed;
    }

    function mint(address to, uint256 amount) external {
        require(isMinter[msg.sender], "BridgeToken: NOT_MINTER");
        _mint(to, amount);
    }

    function burn(address from, uint256 amount) external {
        require(isMinter[msg.sender], "BridgeToken: NOT_MINTER");
        _burn(from, amount);
    }
}
