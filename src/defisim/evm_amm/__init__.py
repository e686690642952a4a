"""``defisim.evm_amm``: the AMM plug-in's pools on the official contract bytecode.

``AmmProtocol(cores=EvmCores())`` keeps the plug-in (checks, ledger, events,
recording) and runs every pool's state and math in the published contracts on an EVM
(:class:`~.machine.EvmMachine`): Uniswap V2 pairs from ``@uniswap/v2-core``
(:mod:`.v2`), Uniswap V3 pools from ``@uniswap/v3-core`` (:mod:`.v3`; the storage
layout for imposed states in :mod:`.v3_storage`), and Balancer V1 pools of Ocean's
variant from ``@oceanprotocol/contracts`` (:mod:`.balancer`). Parties keep their
balances on the ledger; the pools hold bridge ERC-20s of the same amounts.

A layer of its own above ``defisim.protocols`` and ``defisim.evm`` (it joins the two)
and below the service.
"""

from .cores import EvmCores
from .machine import CONTRACTS, OPERATOR, EvmMachine, our_contract

__all__ = ["CONTRACTS", "OPERATOR", "EvmCores", "EvmMachine", "our_contract"]
