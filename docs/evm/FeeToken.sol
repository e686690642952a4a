// SPDX-License-Identifier: MIT
// A defisim example: an OpenZeppelin ERC20 that sends a fee on every transfer to a
// treasury. Compiled offline by defisim.evm.solidity.compile_solidity (npm solc-js,
// npm @openzeppelin/contracts) and run by docs/evm/fee_token_scenario.py.
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract FeeToken is ERC20, Ownable {
    /// Where the fees go.
    address public treasury;
    /// The fee, in basis points of the amount transferred (at most 10%).
    uint16 public feeBps;
    /// All fees ever charged.
    uint256 public totalFees;
    /// Transfers that paid a fee.
    uint256 public feeTransfers;

    event FeeCharged(address indexed from, address indexed to, uint256 amount, uint256 fee);

    error FeeTooHigh(uint16 feeBps);

    constructor(string memory name_, string memory symbol_, address treasury_, uint16 feeBps_,
                uint256 supply) ERC20(name_, symbol_) Ownable(msg.sender) {
        if (feeBps_ > 1000) revert FeeTooHigh(feeBps_);
        treasury = treasury_;
        feeBps = feeBps_;
        _mint(msg.sender, supply);
    }

    function setFee(uint16 feeBps_) external onlyOwner {
        if (feeBps_ > 1000) revert FeeTooHigh(feeBps_);
        feeBps = feeBps_;
    }

    /// A transfer between two holders pays `amount * feeBps / 10000` (rounded down) to the
    /// treasury; the recipient gets the rest. Mints, burns and transfers from or to the
    /// treasury pay nothing.
    function _update(address from, address to, uint256 amount) internal override {
        if (from == address(0) || to == address(0) || from == treasury || to == treasury) {
            super._update(from, to, amount);
            return;
        }
        uint256 fee = amount * feeBps / 10_000;
        if (fee > 0) {
            super._update(from, treasury, fee);
            totalFees += fee;
            feeTransfers += 1;
            emit FeeCharged(from, to, amount, fee);
        }
        super._update(from, to, amount - fee);
    }
}
