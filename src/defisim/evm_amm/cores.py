"""``EvmCores``: the AMM plug-in's pool cores on the official bytecode."""

from __future__ import annotations

from typing import Any

from defisim.evm import EvmBackend
from defisim.protocols.amm.cores import PoolCores

from .machine import EvmMachine
from .v2 import EvmV2Factory

__all__ = ["EvmCores"]


class EvmCores(PoolCores):
    """Pool cores whose state lives in the published contracts on one EVM:
    ``AmmProtocol(cores=EvmCores())``.

    Args:
        backend: ``"embedded"`` (default), ``"external"`` (a local anvil node) or an
            :class:`~defisim.evm.EvmBackend`, or an :class:`~.machine.EvmMachine` to share.

    Pool kinds: Uniswap V2 (``@uniswap/v2-core`` bytecode). A kind without bytecode
    here raises ``NotImplementedError`` naming it.
    """

    backend = "evm"

    def __init__(self, backend: EvmBackend | EvmMachine | str | None = None) -> None:
        self.machine = backend if isinstance(backend, EvmMachine) else EvmMachine(backend)

    def v2_factory(self, fee_to_setter: str = "") -> EvmV2Factory:
        return EvmV2Factory(self.machine, fee_to_setter)

    def v3_pool(self, fee: int, tick_spacing: int | None = None) -> Any:
        raise NotImplementedError("Uniswap V3 pools on the EVM are not wired in yet")

    def balancer_pool(self, controller: str, factory: str, address: str,
                      variant: str = "balancer") -> Any:
        raise NotImplementedError("Balancer pools on the EVM are not wired in yet")
