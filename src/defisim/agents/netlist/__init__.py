"""Agents of TokenSPICE and DARC-SPICE netlists, and the wallet rules they share
(:mod:`.wallets`, ``../shared/specs/token-netlists.md`` 1.6)."""

from .wallets import (
    WalletError,
    evm_transfer,
    evm_withdraw,
    from_base18,
    hex_name,
    to_base18,
)

__all__ = ["WalletError", "evm_transfer", "evm_withdraw", "from_base18", "hex_name", "to_base18"]
