// SPDX-License-Identifier: MIT
// defisim's own Uniswap V3 callback payer (written for defisim, not taken from Uniswap).
//
// A V3 pool takes tokens only inside a callback to its caller: this contract calls
// pool.mint / pool.swap and pays in uniswapV3MintCallback / uniswapV3SwapCallback.
// Payment is a transfer of tokens this contract holds, or (after setMintPayments(true))
// a mint(pool, amount) on the token, for tokens that let this contract mint (the bridge
// tokens of defisim.evm_amm). `short` makes it pay that many base units less than owed
// (to see the pool's M0 / M1 / IIA checks). It returns the pool's outputs unchanged.
// Minting payments, a swap whose recipient is this contract burns its output.
pragma solidity ^0.8.28;

interface IV3PoolActions {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function mint(address recipient, int24 tickLower, int24 tickUpper, uint128 amount,
                  bytes calldata data) external returns (uint256 amount0, uint256 amount1);
    function swap(address recipient, bool zeroForOne, int256 amountSpecified,
                  uint160 sqrtPriceLimitX96, bytes calldata data)
        external returns (int256 amount0, int256 amount1);
    function slot0() external view returns (uint160 sqrtPriceX96, int24 tick, uint16, uint16,
                                            uint16, uint8, bool);
    function liquidity() external view returns (uint128);
    function observe(uint32[] calldata secondsAgos) external view
        returns (int56[] memory tickCumulatives, uint160[] memory secondsPerLiquidityX128s);
}

interface ITokenPay {
    function transfer(address to, uint256 amount) external returns (bool);
    function mint(address to, uint256 amount) external;
    function burn(address from, uint256 amount) external;
}

contract V3Payer {
    address public immutable owner;
    bool public mintPayments;
    // the pool this contract is calling right now: only it may call back
    address private activePool;

    constructor() {
        owner = msg.sender;
    }

    function setMintPayments(bool on) external {
        require(msg.sender == owner, "V3Payer: not owner");
        mintPayments = on;
    }

    function mint(address pool, address recipient, int24 tickLower, int24 tickUpper,
                  uint128 amount, uint256 short0, uint256 short1)
        external returns (uint256 amount0, uint256 amount1)
    {
        activePool = pool;
        (amount0, amount1) = IV3PoolActions(pool).mint(
            recipient, tickLower, tickUpper, amount, abi.encode(short0, short1));
        activePool = address(0);
    }

    function swap(address pool, address recipient, bool zeroForOne, int256 amountSpecified,
                  uint160 sqrtPriceLimitX96, uint256 short)
        external returns (int256 amount0, int256 amount1)
    {
        activePool = pool;
        (amount0, amount1) = IV3PoolActions(pool).swap(
            recipient, zeroForOne, amountSpecified, sqrtPriceLimitX96, abi.encode(short, short));
        activePool = address(0);
        // paying by minting, an output sent here leaves the EVM: the bridge pays it on
        // the ledger instead (the pool's balances stay equal to its ledger reserves)
        if (mintPayments && recipient == address(this)) {
            if (amount0 < 0) ITokenPay(IV3PoolActions(pool).token0()).burn(address(this), uint256(-amount0));
            if (amount1 < 0) ITokenPay(IV3PoolActions(pool).token1()).burn(address(this), uint256(-amount1));
        }
    }

    // swap, then the pool's price, tick and active liquidity after it: a replay tries a
    // swap as a read-only call and compares all five with the observed Swap event
    function swapAndRead(address pool, address recipient, bool zeroForOne,
                         int256 amountSpecified, uint160 sqrtPriceLimitX96)
        external returns (int256 amount0, int256 amount1, uint160 sqrtPriceX96, int24 tick,
                          uint128 liquidity)
    {
        activePool = pool;
        (amount0, amount1) = IV3PoolActions(pool).swap(
            recipient, zeroForOne, amountSpecified, sqrtPriceLimitX96, abi.encode(0, 0));
        activePool = address(0);
        (sqrtPriceX96, tick, , , , , ) = IV3PoolActions(pool).slot0();
        liquidity = IV3PoolActions(pool).liquidity();
    }

    // pool.observe for one secondsAgo, as two scalars: the embedded EVM cannot decode
    // dynamic-array outputs (reverts, e.g. 'OLD', come through unchanged)
    function observeAt(address pool, uint32 secondsAgo)
        external view returns (int56 tickCumulative, uint160 secondsPerLiquidityX128)
    {
        uint32[] memory agos = new uint32[](1);
        agos[0] = secondsAgo;
        (int56[] memory t, uint160[] memory s) = IV3PoolActions(pool).observe(agos);
        return (t[0], s[0]);
    }

    function uniswapV3MintCallback(uint256 owed0, uint256 owed1, bytes calldata data) external {
        (uint256 short0, uint256 short1) = abi.decode(data, (uint256, uint256));
        _pay(IV3PoolActions(msg.sender).token0(), owed0, short0);
        _pay(IV3PoolActions(msg.sender).token1(), owed1, short1);
    }

    function uniswapV3SwapCallback(int256 delta0, int256 delta1, bytes calldata data) external {
        (uint256 short, ) = abi.decode(data, (uint256, uint256));
        // the positive delta is what the pool is owed (exactly one is positive)
        if (delta0 > 0) _pay(IV3PoolActions(msg.sender).token0(), uint256(delta0), short);
        if (delta1 > 0) _pay(IV3PoolActions(msg.sender).token1(), uint256(delta1), short);
    }

    function _pay(address token, uint256 owed, uint256 short) private {
        require(msg.sender == activePool, "V3Payer: unexpected callback");
        if (owed == 0) return;
        uint256 amount = short >= owed ? 0 : owed - short;
        if (amount == 0) return;
        if (mintPayments) {
            ITokenPay(token).mint(msg.sender, amount);
        } else {
            require(ITokenPay(token).transfer(msg.sender, amount), "V3Payer: transfer failed");
        }
    }
}
