// SPDX-License-Identifier: MIT
// defisim's bridge for Uniswap V2 pairs: one transaction per pair operation, so a
// revert of the pair undoes the bridge's token moves too. It mints the bridge tokens a
// party pays into a pair (the ledger debits the party), calls the pair, and burns what
// the pair pays out to a party (the ledger credits the party). It holds every LP token
// that parties hold on the ledger, and receives the protocol fee (feeTo).
pragma solidity ^0.8.20;

interface IV2Pair {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function mint(address to) external returns (uint256 liquidity);
    function burn(address to) external returns (uint256 amount0, uint256 amount1);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
    function skim(address to) external;
    function sync() external;
    function transfer(address to, uint256 value) external returns (bool);
}

interface IBridgeToken {
    function mint(address to, uint256 amount) external;
    function burn(address from, uint256 amount) external;
    function balanceOf(address who) external view returns (uint256);
}

contract V2Bridge {
    address public immutable operator;

    constructor() {
        operator = msg.sender;
    }

    modifier onlyOperator() {
        require(msg.sender == operator, "V2Bridge: FORBIDDEN");
        _;
    }

    function _pay(address pair, uint256 amount0, uint256 amount1) private {
        if (amount0 > 0) IBridgeToken(IV2Pair(pair).token0()).mint(pair, amount0);
        if (amount1 > 0) IBridgeToken(IV2Pair(pair).token1()).mint(pair, amount1);
    }

    function _withdraw(address pair, address to, uint256 amount0, uint256 amount1) private {
        if (amount0 > 0) IBridgeToken(IV2Pair(pair).token0()).burn(to, amount0);
        if (amount1 > 0) IBridgeToken(IV2Pair(pair).token1()).burn(to, amount1);
    }

    /// Pay amount0/amount1 into the pair, then pair.mint(to).
    function mint(address pair, uint256 amount0, uint256 amount1, address to)
        external onlyOperator returns (uint256 liquidity)
    {
        _pay(pair, amount0, amount1);
        liquidity = IV2Pair(pair).mint(to);
    }

    /// Send `liquidity` LP held here to the pair, then pair.burn(to); burn what `to`
    /// received when `withdraw` (a party, paid on the ledger).
    function burn(address pair, uint256 liquidity, address to, bool withdraw)
        external onlyOperator returns (uint256 amount0, uint256 amount1)
    {
        if (liquidity > 0) IV2Pair(pair).transfer(pair, liquidity);
        (amount0, amount1) = IV2Pair(pair).burn(to);
        if (withdraw) _withdraw(pair, to, amount0, amount1);
    }

    /// Pay amount0In/amount1In into the pair, then pair.swap(out0, out1, to, "");
    /// burn the outputs `to` received when `withdraw`.
    function swap(address pair, uint256 amount0In, uint256 amount1In, uint256 amount0Out,
                  uint256 amount1Out, address to, bool withdraw) external onlyOperator {
        _pay(pair, amount0In, amount1In);
        IV2Pair(pair).swap(amount0Out, amount1Out, to, "");
        if (withdraw) _withdraw(pair, to, amount0Out, amount1Out);
    }

    /// Tokens sent to the pair without a pair call (a donation).
    function donate(address pair, uint256 amount0, uint256 amount1) external onlyOperator {
        _pay(pair, amount0, amount1);
    }

    /// pair.skim(to); what `to` received is burned when `withdraw`.
    function skim(address pair, address to, bool withdraw)
        external onlyOperator returns (uint256 amount0, uint256 amount1)
    {
        IBridgeToken t0 = IBridgeToken(IV2Pair(pair).token0());
        IBridgeToken t1 = IBridgeToken(IV2Pair(pair).token1());
        uint256 b0 = t0.balanceOf(to);
        uint256 b1 = t1.balanceOf(to);
        IV2Pair(pair).skim(to);
        amount0 = t0.balanceOf(to) - b0;
        amount1 = t1.balanceOf(to) - b1;
        if (withdraw) _withdraw(pair, to, amount0, amount1);
    }

    /// Move LP held here to `to` (LP the ledger moved between accounts it does not
    /// hold on the bridge).
    function transferLp(address pair, address to, uint256 value) external onlyOperator {
        IV2Pair(pair).transfer(to, value);
    }
}
