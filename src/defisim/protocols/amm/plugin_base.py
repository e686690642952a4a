"""What every pool kind of the AMM plug-in shares: ledger keys, reasons, the pool
registry entry, the pool-created event and the argument checks (see :mod:`.protocol`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from defisim.chain.events import Event
from defisim.chain.ledger import AccountKey, general
from defisim.chain.transactions import REJECTED, Receipt

NAME = "amm"
"""The protocol's name on the chain, in transactions and as ``sim.amm``."""

RESERVE_TYPE = "amm_reserve"
"""Ledger account type of a pool's token balances."""
LOCKED_TYPE = "amm_locked"
"""Ledger account type of a pool's permanently locked LP (V2: the 1,000 minimum;
Balancer: none)."""
LP_HOLDER = "amm:ledger"
"""The core address that holds every LP token held by parties (the ledger says who)."""
LP_DECIMALS = 18
MAX_UINT256 = (1 << 256) - 1


def reserve(pool_id: str, asset: str) -> AccountKey:
    """Ledger key of pool ``pool_id``'s balance of ``asset``."""
    return (RESERVE_TYPE, "", asset, pool_id)


def locked(pool_id: str, lp_asset: str) -> AccountKey:
    """Ledger key of pool ``pool_id``'s locked LP tokens."""
    return (LOCKED_TYPE, "", lp_asset, pool_id)


def lp_asset_id(pool_id: str) -> str:
    """The ledger asset of a pool's LP tokens."""
    return f"{pool_id}-LP"


class Reason:
    """The plug-in's own rejection reasons. Every other reason is the core's revert
    string (spec section 0), e.g. ``"UniswapV2Router: EXPIRED"`` or V3's ``"SPL"``."""

    PARTY_NOT_FOUND = "PARTY_NOT_FOUND"
    UNKNOWN_ASSET = "UNKNOWN_ASSET"
    UNKNOWN_POOL = "UNKNOWN_POOL"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NO_PAIR = "[V2_NO_PAIR]"
    TRANSFER_FROM_FAILED = "TransferHelper: TRANSFER_FROM_FAILED"
    LP_UNDERFLOW = "ds-math-sub-underflow"
    EXPIRED = "Transaction too old"
    """V3 periphery's deadline check (``PeripheryValidation.checkDeadline``)."""
    TOO_LITTLE_RECEIVED = "Too little received"
    TOO_MUCH_REQUESTED = "Too much requested"
    PRICE_SLIPPAGE = "Price slippage check"
    """V3 ``NonfungiblePositionManager``'s minimum-amounts check on a mint or burn."""


@dataclass(frozen=True, slots=True)
class AmmPoolCreated(Event):
    """Pool ``market`` of kind ``kind`` (``"V2"``, ``"V3"``, ``"BAL"``) over ``assets``
    (the core's token order); LP in ``lp_asset`` (``""`` for V3, whose positions are
    not fungible); ``fee`` the swap fee as a fraction (0.003 = 0.3 %)."""

    market: str
    kind: str
    assets: tuple
    lp_asset: str
    fee: float


QUOTE_PREFERENCE = ("USD", "USDC", "USDT", "DAI", "BUSD", "FRAX", "LUSD", "TUSD", "USDP",
                    "GUSD", "EUR", "EURC", "EURT", "WETH", "ETH", "WBTC", "BTC")
"""Asset ids a pool's recorded prices, volumes and TVL are quoted in, first match first
(dollar stablecoins, then euro, then ETH, then BTC), as trading interfaces quote
USDC/WETH in USDC; a pool holding none of them is quoted in its token1."""


def default_quote(assets: tuple[str, ...]) -> str:
    """The quote asset of a pool over ``assets`` (:data:`QUOTE_PREFERENCE`, else
    ``assets[1]``)."""
    for a in QUOTE_PREFERENCE:
        if a in assets:
            return a
    return assets[1]


@dataclass(slots=True)
class PoolEntry:
    """One pool: its id, kind (``"V2"``, ``"V3"``, ``"BAL"``), assets (the core's token
    order), LP asset (``""`` for V3), the kind's core object
    (:class:`~.v2_pair.V2Pair`, :class:`~.v3.V3Pool`, :class:`~.balancer.BPool`) and
    the asset its recorded prices, volumes and TVL are quoted in (``""``:
    :func:`default_quote`)."""

    pool_id: str
    kind: str
    assets: tuple[str, ...]
    lp_asset: str
    core: Any
    quote: str = ""

    @property
    def quote_asset(self) -> str:
        """The quote asset: the one set, else :func:`default_quote`."""
        return self.quote or default_quote(self.assets)

    @property
    def base_asset(self) -> str:
        """The asset whose price is recorded: the first asset that is not the quote."""
        q = self.quote_asset
        return next(a for a in self.assets if a != q)


def is_uint(x: Any) -> bool:
    """``x`` is a Python int in ``[0, 2**256)`` (bools are not)."""
    return type(x) is int and 0 <= x <= MAX_UINT256


class AmmPluginBase:
    """The helpers every pool kind's transactions use. Mixed into
    :class:`~.protocol.AmmProtocol` with the per-kind transaction classes; ``chain`` and
    ``pools`` are the protocol's."""

    chain: Any
    pools: dict[str, PoolEntry]
    cores: Any  # a .cores.PoolCores

    def now_s(self) -> int:
        """The chain's time in whole seconds (the core's ``block.timestamp``)."""
        return self.chain.now // 1_000_000_000

    def _reject(self, tx: str, party: Any, market: str, reason: str, detail: str) -> Receipt:
        self.chain.reject(tx, party if isinstance(party, str) else repr(party), market, reason, detail)
        return Receipt(REJECTED, reason, detail, block=self.chain.block)

    def _check_common(self, tx: str, sender: Any, assets: Any, ints: dict[str, Any]) -> Receipt | None:
        """Reject a bad sender, asset or integer argument (before any state is read)."""
        led = self.chain.ledger
        if not isinstance(sender, str) or sender not in led.parties:
            return self._reject(tx, sender, "", Reason.PARTY_NOT_FOUND, f"unknown party {sender!r}")
        for a in assets:
            if not isinstance(a, str) or a not in led.assets:
                return self._reject(tx, sender, "", Reason.UNKNOWN_ASSET, f"unknown asset {a!r}")
        for name, v in ints.items():
            if not is_uint(v):
                return self._reject(tx, sender, "", Reason.INVALID_ARGUMENT,
                                    f"{name} must be an integer in [0, 2**256), got {v!r}")
        return None

    def _pool(self, tx: str, sender: Any, pool_id: Any, kinds: tuple[str, ...]) -> PoolEntry | Receipt:
        """The entry of ``pool_id`` if its kind is one of ``kinds``, else the rejection."""
        entry = self.pools.get(pool_id) if isinstance(pool_id, str) else None
        if entry is None:
            return self._reject(tx, sender, "", Reason.UNKNOWN_POOL,
                                f"unknown pool {pool_id!r}; known: {sorted(self.pools)}")
        if entry.kind not in kinds:
            return self._reject(tx, sender, entry.pool_id, Reason.INVALID_ARGUMENT,
                                f"{tx} needs a {'/'.join(kinds)} pool; {pool_id} is {entry.kind}")
        return entry

    def _funds(self, tx: str, sender: str, pool_id: str, needs: tuple) -> Receipt | None:
        """Reject with ``TRANSFER_FROM_FAILED`` when the sender holds less than it must pay
        (``needs``: ``(asset, raw amount)`` pairs)."""
        led = self.chain.ledger
        for asset, amount in needs:
            have = led.balance(general(sender, asset))
            if have < amount:
                return self._reject(tx, sender, pool_id, Reason.TRANSFER_FROM_FAILED,
                                    f"{sender} holds {have} {asset}, needs {amount}")
        return None


__all__ = [
    "LOCKED_TYPE",
    "LP_DECIMALS",
    "LP_HOLDER",
    "MAX_UINT256",
    "NAME",
    "RESERVE_TYPE",
    "AmmPluginBase",
    "AmmPoolCreated",
    "PoolEntry",
    "QUOTE_PREFERENCE",
    "Reason",
    "default_quote",
    "is_uint",
    "locked",
    "lp_asset_id",
    "reserve",
]
