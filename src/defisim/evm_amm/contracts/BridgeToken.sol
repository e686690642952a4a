// SPDX-License-Identifier: MIT
// defisim's bridge token: the ERC-20 that stands for one ledger asset on the EVM.
// The run's ledger stays the source of truth for parties; this token carries the
// same amounts into contracts (a pool's reserves), minted and burned by the bridge.
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

contract BridgeToken is ERC20 {
    address public immutable owner;
    mapping(address => bool) public isMinter;

    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {
        owner = msg.sender;
        isMinter[msg.sender] = true;
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
