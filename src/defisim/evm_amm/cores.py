"""``EvmCores``: the AMM plug-in's pool cores on the official bytecode."""

from __future__ import annotations

from typing import Any

from defisim.evm import EvmBackend
from defisim.protocols.amm.cores import PoolCores

from .balancer import EvmBPool, OceanBalancer
from .machine import EvmMachine
from .v2 import EvmV2Factory
from .v3 import EvmV3Pool, V3Factory

__all__ = ["EvmCores"]


class EvmCores(PoolCores):
    """Pool cores whose state lives in the published contracts on one EVM:
    ``AmmProtocol(cores=EvmCores())``.

    Args:
        backend: ``"embedded"`` (default), ``"external"`` (a local anvil node) or an
            :class:`~defisim.evm.EvmBackend`, or an :class:`~.machine.EvmMachine` (its
            own: one machine serves one ``AmmProtocol``, whose clock and snapshots it
            follows; two protocols on one machine would move each other's pools).

    Pool kinds: Uniswap V2 (``@uniswap/v2-core`` bytecode), Uniswap V3
    (``@uniswap/v3-core``; :mod:`.v3`), Balancer V1 of the Ocean V3
    variant (``@oceanprotocol/contracts`` bytecode; :mod:`.balancer`). A kind without bytecode
    here raises ``NotImplementedError`` naming it.
    """

    backend = "evm"

    def __init__(self, backend: EvmBackend | EvmMachine | str | None = None) -> None:
        self.machine = backend if isinstance(backend, EvmMachine) else EvmMachine(backend)
        self._ocean: OceanBalancer | None = None
        self._v3_factory: V3Factory | None = None

    def shared(self) -> tuple:
        """The machine: the plug-in's snapshots keep it by reference."""
        return (self.machine,)

    def snapshot(self) -> Any:
        """The machine's state (:meth:`EvmMachine.snapshot`)."""
        return self.machine.snapshot()

    def restore(self, state: Any) -> None:
        """Back to a :meth:`snapshot` (any number of times)."""
        self.machine.restore(state)

    def v2_factory(self, fee_to_setter: str = "") -> EvmV2Factory:
        return EvmV2Factory(self.machine, fee_to_setter)

    def v3_pool(self, fee: int, tick_spacing: int | None = None) -> EvmV3Pool:
        """A new ``UniswapV3Pool`` from the machine's V3 factory (deployed on first use)."""
        if self._v3_factory is None:
            self._v3_factory = V3Factory(self.machine)
        return EvmV3Pool(self._v3_factory, fee, tick_spacing)

    def balancer_pool(self, controller: str, factory: str, address: str,
                      variant: str = "balancer") -> EvmBPool:
        """A new ``BFactory.newBPool`` clone of Ocean's ``BPool`` (``variant`` must be
        ``"ocean_v3"``: ``NotImplementedError`` for ``"balancer"``, whose bytecode no npm
        package ships)."""
        if variant != "ocean_v3":
            raise NotImplementedError(
                f"Balancer variant {variant!r} has no bytecode here: no npm package ships "
                "balancer-core's BPool; use variant='ocean_v3' or the Python cores")
        if self._ocean is None:
            self._ocean = OceanBalancer(self.machine)
        return self._ocean.new_pool(controller, factory, address, variant)
